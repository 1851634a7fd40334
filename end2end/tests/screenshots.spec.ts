import { test, expect } from "@playwright/test";
import { generateKey, hydrated, signIn } from "./support";
import { screenshot } from "./screens";

// Regenerates end2end/screenshots/*.png (1280x800 and 390x844) of every dashboard page; the
// setup page's are taken by first-run.setup.ts. Run with scripts/e2e.
test("screenshots of the dashboard", async ({ page, browser }) => {
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
});
