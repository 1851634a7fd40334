import { test, expect } from "@playwright/test";
import { OWNER, claimrStatus, claimsOf, createUser, generateKey, introspect, signIn } from "./support";

// Server-rendered forms are the dashboard's backbone: with JavaScript off, signing in, revoking
// a key and signing out still work (errors come back in the redirect and are shown).
test("sign-in and key revocation work without JavaScript", async ({ browser, request }) => {
  // A key to revoke, generated with JavaScript (the one-time reveal dialog needs it).
  const jsPage = await browser.newPage();
  await signIn(jsPage);
  const key = await generateKey(jsPage, "legacy worker");
  await jsPage.close();
  const prefix = key.slice(4, 12);
  expect(await claimrStatus(request, key, "nojs-1")).toBe(200);

  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);

  await page.getByLabel("Email", { exact: true }).fill(OWNER.email);
  await page.getByLabel("Password", { exact: true }).fill("wrong password, no script");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");

  await page.getByLabel("Email", { exact: true }).fill(OWNER.email);
  await page.getByLabel("Password", { exact: true }).fill(OWNER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();

  // Generating needs the dialog, so a plain post is refused with a clear message.
  await page.goto("/keys");
  await page.getByLabel("Name", { exact: true }).fill("made without script");
  await page.getByRole("button", { name: "Generate key" }).click();
  await expect(page.getByRole("alert")).toContainText("needs JavaScript");
  await expect(page.getByRole("cell", { name: "made without script" })).toHaveCount(0);

  // Revoke: the link opens the server-rendered confirmation, the plain form revokes.
  const row = page.locator(`tr[data-prefix="${prefix}"]`);
  await row.getByRole("link", { name: "Revoke key legacy worker" }).click();
  await expect(page).toHaveURL(new RegExp(`/keys\\?revoke=${prefix}$`));
  const dialog = page.getByRole("dialog", { name: "Revoke this API key?" });
  await dialog.getByRole("button", { name: "Revoke key" }).click();
  await expect(page).toHaveURL(/\/keys$/);
  await expect(row).toContainText("Revoked");
  expect(await claimrStatus(request, key, "nojs-2")).toBe(401);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await context.close();
});

// Users: the search is a plain GET form, and a token is revoked through the server-rendered
// confirmation; a member-role error comes back in the redirect and shows on its row.
test("user search, token revocation and member errors work without JavaScript", async ({ browser, request }) => {
  const jsPage = await browser.newPage();
  await signIn(jsPage);
  const key = await generateKey(jsPage, "no-js users");
  await jsPage.close();
  const { token, userId } = await createUser(request, key, "nojs-user-7", { platform: "ios", name: "Noscript Nora" });
  const jti = claimsOf(token).jti;

  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Email", { exact: true }).fill(OWNER.email);
  await page.getByLabel("Password", { exact: true }).fill(OWNER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();

  await page.goto("/users");
  await page.getByLabel("Search", { exact: true }).fill("noscript");
  await page.getByLabel("Platform", { exact: true }).fill("ios");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/\/users\?q=noscript&platform=ios$/);
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await page.getByRole("link", { name: "nojs-user-7", exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/users/${userId}$`));
  await expect(page.getByTestId("user-heading")).toHaveText("Noscript Nora");

  // Issuing needs the dialog, so a plain post is refused with a clear message.
  await page.getByRole("button", { name: "Issue token" }).click();
  await expect(page.getByRole("alert")).toContainText("needs JavaScript");
  await expect(page.locator("tbody tr")).toHaveCount(1);

  const row = page.locator(`tr[data-token-id="${jti}"]`);
  await row.getByRole("link", { name: `Revoke token ${jti.slice(-8)}` }).click();
  await expect(page).toHaveURL(new RegExp(`/users/${userId}\\?revoke=${jti}$`));
  await page.getByRole("dialog", { name: "Revoke this token?" }).getByRole("button", { name: "Revoke token" }).click();
  await expect(page).toHaveURL(new RegExp(`/users/${userId}$`));
  await expect(row).toContainText("Revoked");
  expect(await introspect(request, key, token)).toEqual({ active: false });

  await page.goto("/members");
  await page.getByLabel(`Role of ${OWNER.email}`, { exact: true }).selectOption("admin");
  await page.getByRole("button", { name: `Save role of ${OWNER.email}` }).click();
  await expect(page).toHaveURL(/\/members\?member=.*&error=/);
  await expect(page.locator(`tr[data-member-email="${OWNER.email}"]`).getByRole("alert")).toHaveText(
    "The organization's last owner cannot be removed or demoted.",
  );
  await expect(page.getByLabel(`Role of ${OWNER.email}`, { exact: true })).toHaveValue("owner");
  await context.close();
});
