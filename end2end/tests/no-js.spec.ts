import { test, expect } from "@playwright/test";
import { OWNER, claimrStatus, generateKey, signIn } from "./support";

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
