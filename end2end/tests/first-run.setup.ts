import { test, expect } from "@playwright/test";
import { OWNER, hydrated } from "./support";
import { screenshot } from "./screens";

// Runs first (project "first-run"), on the empty database scripts/e2e gives the server.
test("first-run setup creates the organization and its owner, once", async ({ page, request }) => {
  // Plain HTTP: `/` is a real redirect to the setup page while no organization exists.
  const root = await request.get("/", { maxRedirects: 0, headers: { Accept: "text/html" } });
  expect(root.status()).toBe(303);
  expect(root.headers()["location"]).toBe("/setup");

  await page.goto("/");
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("heading", { level: 1, name: "Set up Tessera" })).toBeVisible();
  await hydrated(page);
  await screenshot(page, "setup");

  // Bad input: each error is shown next to its field, and nothing is created.
  await page.getByLabel("Organization name").fill(OWNER.orgName);
  await page.getByLabel("Short name").fill("Not A Slug");
  await page.getByLabel("Your email").fill(OWNER.email);
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page.getByRole("alert")).toHaveText("Some fields need attention.");
  await expect(page.locator("#slug-error")).toContainText("lowercase letters");
  await expect(page.locator("#password-error")).toHaveText("must be at least 12 characters");
  await expect(page.getByLabel("Short name")).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#email-error")).toHaveCount(0);

  await page.getByLabel("Short name").fill(OWNER.slug);
  await page.getByLabel("Password").fill(OWNER.password);
  await page.getByRole("button", { name: "Create organization" }).click();

  // The owner is signed in and lands on the overview.
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  await expect(page.getByTestId("member-email")).toHaveText(OWNER.email);
  await expect(page.getByTestId("member-role")).toHaveText("owner");

  // The setup page is gone for good: the page redirects, the server function refuses.
  await page.goto("/setup");
  await expect(page).toHaveURL(/\/$/);
  const again = await request.get("/setup", { maxRedirects: 0, headers: { Accept: "text/html" } });
  expect(again.status()).toBe(303);
  expect(again.headers()["location"]).toBe("/");
  const replay = await request.post("/_fn/set_up", {
    form: { org_name: "Evil", slug: "evil", email: "evil@example.com", password: "long enough password" },
    headers: { Origin: new URL(page.url()).origin },
  });
  expect(replay.status()).toBe(409);
  expect(await replay.text()).toContain("already has an organization");
});
