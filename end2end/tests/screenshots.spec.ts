import { test, expect } from "@playwright/test";
import { createUser, generateKey, hydrated, signIn } from "./support";
import { screenshot } from "./screens";

// Regenerates end2end/screenshots/*.png (1280x800 and 390x844) of every dashboard page; the
// setup page's are taken by first-run.setup.ts. Run with scripts/e2e.
test("screenshots of the dashboard", async ({ page, browser, request }) => {
  const signedOut = await browser.newPage();
  await signedOut.goto("/sign-in");
  await hydrated(signedOut);
  await screenshot(signedOut, "sign-in");
  await signedOut.close();

  await signIn(page);
  await screenshot(page, "overview");

  const key = await generateKey(page, "screenshot demo");
  await page.getByLabel("Name", { exact: true }).fill("staging backend");
  await page.getByLabel("Expires").selectOption("90");
  await page.getByRole("button", { name: "Generate key" }).click();
  await expect(page.getByRole("dialog", { name: "Your new API key" })).toBeVisible();
  await screenshot(page, "keys-reveal");
  await page.getByRole("button", { name: "I have copied it" }).click();
  await screenshot(page, "keys");

  await page.goto(`/keys?revoke=${key.slice(4, 12)}`);
  await expect(page.getByRole("dialog", { name: "Revoke this API key?" })).toBeVisible();
  await screenshot(page, "keys-revoke");

  // Users: a few made by "the backend", one with metadata.
  const made = await request.post("/v1/users", {
    headers: { Authorization: `Bearer ${key}` },
    data: {
      account: "ada@example.com",
      platform: "web",
      display_name: "Ada Lovelace",
      metadata: { plan: "pro", country: "GB", signup: { source: "newsletter", at: "2026-01-12" } },
    },
  });
  expect(made.status()).toBe(201);
  const ada = await made.json();
  await createUser(request, key, "ada@example.com", { platform: "web" });
  await createUser(request, key, "1029384756", { platform: "discord", name: "grace.h" });
  await createUser(request, key, "u_77812", { platform: "ios" });
  await page.goto("/users");
  await hydrated(page);
  await screenshot(page, "users");
  await page.goto("/users?q=nobody-at-all");
  await screenshot(page, "users-no-match");

  await page.goto(`/users/${ada.id}`);
  await hydrated(page);
  await page.getByLabel("Lifetime", { exact: true }).selectOption({ label: "30 days" });
  await page.getByRole("button", { name: "Issue token" }).click();
  await expect(page.getByRole("dialog", { name: "Your new user token" })).toBeVisible();
  await screenshot(page, "user-issued");
  await page.getByRole("button", { name: "I have copied it" }).click();
  await expect(page.locator("tbody tr")).toHaveCount(3);
  await screenshot(page, "user");
  const tokenId = await page.locator("tbody tr").first().getAttribute("data-token-id");
  await page.goto(`/users/${ada.id}?revoke=${tokenId}`);
  await expect(page.getByRole("dialog", { name: "Revoke this token?" })).toBeVisible();
  await screenshot(page, "user-revoke");
  await page.goto("/users/00000000-0000-7000-8000-000000000000");
  await screenshot(page, "user-not-found");

  await page.goto("/members");
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill("designer@acme.test");
  await page.getByLabel("Initial password", { exact: true }).fill("designer password 1");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.locator('tr[data-member-email="designer@acme.test"]')).toBeVisible();
  await screenshot(page, "members");
  await page.getByRole("link", { name: "Remove owner@acme.test" }).click();
  const dialog = page.getByRole("dialog", { name: "Remove this member?" });
  await dialog.getByRole("button", { name: "Remove member" }).click();
  await expect(dialog.getByRole("alert")).toBeVisible();
  await screenshot(page, "members-last-owner");

  // The audit log of all the above, one row opened to its changes.
  await page.goto("/audit");
  await hydrated(page);
  const created = page.locator('tr[data-action="api_key.created"]').first();
  await created.getByText("Changes", { exact: true }).click();
  await expect(created.getByTestId("changes")).toBeVisible();
  await screenshot(page, "audit");
});
