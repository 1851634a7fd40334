import { test, expect, type Page } from "@playwright/test";
import { OWNER, claimsOf, createUser, generateKey, hydrated, introspect, signIn } from "./support";

// An admin's look at end users, in order, in one browser page: users created over HTTP with an
// API key are found by search and by platform, paged through, opened; a token issued there works
// until it is revoked (introspection says so), and "Revoke all" ends the rest.
test.describe.configure({ mode: "serial" });

let page: Page;
let key = "";
let ada = { token: "", userId: "" };
let jwt = "";

test.beforeAll(async ({ browser, request }) => {
  page = await browser.newPage();
  await signIn(page);
  key = await generateKey(page, "users spec");
  ada = await createUser(request, key, "us-ada", { name: "Augusta Byron" });
  await createUser(request, key, "us-grace", { platform: "discord", name: "Grace Hopper" });
  for (const n of [1, 2, 3, 4, 5]) await createUser(request, key, `us-batch-${n}`, { platform: "us-batch" });
});

test.afterAll(async () => {
  await page.close();
});

const rowOf = (account: string) => page.locator("tbody tr", { has: page.getByRole("link", { name: account, exact: true }) });

test("search by account or display name and filter by platform, from the URL", async () => {
  await page.goto("/users");
  await hydrated(page);
  await expect(page.getByRole("link", { name: "Users", exact: true })).toHaveAttribute("aria-current", "page");

  await page.getByLabel("Search", { exact: true }).fill("BYRON");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/\/users\?q=BYRON/);
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await expect(rowOf("us-ada")).toContainText("Augusta Byron");
  await expect(rowOf("us-ada")).toContainText("web");

  // The search is a URL: loading it afresh gives the same table and keeps the input filled.
  await page.goto("/users?q=us-&platform=discord");
  await expect(page.getByLabel("Search", { exact: true })).toHaveValue("us-");
  await expect(page.getByLabel("Platform", { exact: true })).toHaveValue("discord");
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await expect(rowOf("us-grace")).toContainText("Grace Hopper");

  await page.goto("/users?q=no-such-user-anywhere");
  await expect(page.getByText("No users match this search")).toBeVisible();
  await page.getByRole("link", { name: "Show all users" }).click();
  await expect(page).toHaveURL(/\/users$/);
  await expect(rowOf("us-ada")).toBeVisible();
});

test("pages follow the cursor and show every user once", async () => {
  await page.goto("/users?platform=us-batch&limit=2");
  await hydrated(page);
  const seen: string[] = [];
  for (const expected of [2, 2, 1]) {
    const links = page.locator("tbody tr td:first-child a");
    await expect(links).toHaveCount(expected);
    seen.push(...(await links.allTextContents()).map((t) => t.trim()));
    const next = page.getByRole("link", { name: "Next page" });
    if (expected === 2) {
      await expect(next).toHaveAttribute("href", /cursor=/);
      await next.click();
      await expect(page).toHaveURL(/cursor=/);
      await expect(page.getByRole("link", { name: "First page" })).toBeVisible();
    } else {
      await expect(next).toHaveCount(0);
    }
  }
  // Newest first.
  expect(seen).toEqual(["us-batch-5", "us-batch-4", "us-batch-3", "us-batch-2", "us-batch-1"]);

  await page.goto("/users?cursor=not-a-cursor");
  await expect(page.getByRole("alert")).toContainText("Page: is not a cursor returned by this list");
});

test("a user's page shows the profile and the token GET /token gave", async () => {
  await page.goto("/users?q=us-ada");
  await hydrated(page);
  await page.getByRole("link", { name: "us-ada", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/users/${ada.userId}$`));
  await expect(page.getByTestId("user-heading")).toHaveText("Augusta Byron");
  await expect(page.getByText(ada.userId)).toBeVisible();
  await expect(page.getByTestId("user-metadata")).toHaveText("{}");

  const jti = claimsOf(ada.token).jti;
  const row = page.locator(`tr[data-token-id="${jti}"]`);
  await expect(row).toContainText("Active");
  await expect(row).toContainText("GET /token");
  await expect(row).toContainText("Never");
  await expect(row).toContainText(`API key users spec (tsk_${key.slice(4, 12)}…)`);
});

test("an issued token is shown once and introspects as active", async ({ request }) => {
  await page.goto(`/users/${ada.userId}`);
  await hydrated(page);
  await page.getByLabel("Lifetime", { exact: true }).selectOption({ label: "1 day" });
  await page.getByRole("button", { name: "Issue token" }).click();
  const dialog = page.getByRole("dialog", { name: "Your new user token" });
  await expect(dialog).toBeVisible();
  jwt = (await dialog.getByTestId("new-user-token").textContent())?.trim() ?? "";
  const claims = claimsOf(jwt);
  expect(claims.sub).toBe(ada.userId);
  expect(claims.exp! - claims.iat).toBe(86_400);
  await dialog.getByRole("button", { name: "I have copied it" }).click();
  await expect(dialog).toBeHidden();

  const answer = await introspect(request, key, jwt);
  expect(answer.active).toBe(true);
  expect(answer.jti).toBe(claims.jti);

  // Listed, attributed to the member, and the JWT itself is nowhere in the page any more.
  const row = page.locator(`tr[data-token-id="${claims.jti}"]`);
  await expect(row).toContainText("Active");
  await expect(row).toContainText(OWNER.email);
  await expect(row).not.toContainText("Never");
  expect(await page.content()).not.toContain(jwt);
});

test("revoking a token asks first, then introspection says inactive", async ({ request }) => {
  const jti = claimsOf(jwt).jti;
  const row = page.locator(`tr[data-token-id="${jti}"]`);
  const revokeLink = row.getByRole("link", { name: `Revoke token ${jti.slice(-8)}` });
  const dialog = page.getByRole("dialog", { name: "Revoke this token?" });

  await revokeLink.click();
  await expect(page).toHaveURL(new RegExp(`\\?revoke=${jti}$`));
  await expect(dialog).toContainText(jti.slice(-8));
  await dialog.getByRole("link", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText("Active");
  expect((await introspect(request, key, jwt)).active).toBe(true);

  await revokeLink.click();
  await dialog.getByRole("button", { name: "Revoke token" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText("Revoked");
  await expect(row.getByRole("link", { name: /Revoke/ })).toHaveCount(0);
  expect(await introspect(request, key, jwt)).toEqual({ active: false });
  // The other token is untouched.
  expect((await introspect(request, key, ada.token)).active).toBe(true);
});

test("a cross-site request cannot issue or revoke", async ({ request }) => {
  const evil = { Origin: "https://evil.example" };
  const revoke = await page.request.post("/_fn/revoke_all_tokens", { form: { user_id: ada.userId }, headers: evil });
  expect(revoke.status()).toBe(403);
  const issue = await page.request.post("/_fn/issue_token", {
    form: { user_id: ada.userId, lifetime: "3600" },
    headers: evil,
  });
  expect(issue.status()).toBe(403);
  expect((await introspect(request, key, ada.token)).active).toBe(true);
});

test("revoke all ends every token of the user", async ({ request }) => {
  await page.goto(`/users/${ada.userId}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Revoke all" }).click();
  const dialog = page.getByRole("dialog", { name: "Revoke all tokens of this user?" });
  await expect(dialog).toContainText("us-ada");
  await dialog.getByRole("button", { name: "Revoke all tokens" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator("tbody tr")).toHaveCount(2);
  await expect(page.locator("tbody tr", { hasText: "Active" })).toHaveCount(0);
  await expect(page.locator(`tr[data-token-id="${claimsOf(ada.token).jti}"]`)).toContainText("Revoked");
  await expect(page.getByRole("link", { name: "Revoke all" })).toHaveCount(0);
  expect(await introspect(request, key, ada.token)).toEqual({ active: false });
});

test("an unknown user id is a 404 page, not an error", async ({ request }) => {
  for (const id of ["00000000-0000-7000-8000-000000000000", "not-a-uuid"]) {
    await page.goto(`/users/${id}`);
    await expect(page.getByRole("heading", { name: "User not found" })).toBeVisible();
    const response = await page.request.get(`/users/${id}`, { headers: { Accept: "text/html" } });
    expect(response.status()).toBe(404);
  }
  // Signed out, the same address leads to the sign-in page instead.
  const signedOut = await request.get(`/users/${ada.userId}`, { maxRedirects: 0, headers: { Accept: "text/html" } });
  expect(signedOut.status()).toBe(303);
  expect(signedOut.headers()["location"]).toBe("/sign-in");
});
