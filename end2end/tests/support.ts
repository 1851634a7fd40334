// Shared by the specs: the organization and owner that first-run.setup.ts creates, and the
// steps several specs repeat.
import { expect, type APIRequestContext, type Page } from "@playwright/test";

export const OWNER = {
  orgName: "Acme Inc.",
  slug: "acme",
  email: "owner@acme.test",
  password: "correct horse battery staple",
};

/** Waits until the WASM client has hydrated the page (lib.rs sets `data-hydrated` on <body>). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator("body[data-hydrated]")).toBeAttached();
}

/** Signs the owner in through the form and waits for the overview. */
export async function signIn(page: Page, { js = true } = {}): Promise<void> {
  await page.goto("/sign-in");
  if (js) await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(OWNER.email);
  await page.getByLabel("Password", { exact: true }).fill(OWNER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
}

/** Generates a key named `name` in the (hydrated) keys page and returns the revealed secret,
 *  leaving the dialog closed. */
export async function generateKey(page: Page, name: string): Promise<string> {
  await page.goto("/keys");
  await hydrated(page);
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("button", { name: "Generate key" }).click();
  const dialog = page.getByRole("dialog", { name: "Your new API key" });
  await expect(dialog).toBeVisible();
  const key = (await dialog.getByTestId("new-api-key").textContent())?.trim() ?? "";
  expect(key).toMatch(/^tsk_[0-9A-Za-z]{38}$/);
  await dialog.getByRole("button", { name: "I have copied it" }).click();
  await expect(dialog).toBeHidden();
  return key;
}

/** `GET /token` (claimr's call) with `key`; returns the HTTP status. */
export async function claimrStatus(request: APIRequestContext, key: string, account: string): Promise<number> {
  const response = await request.get(`/token?account=${account}&platform=web`, {
    headers: { Authorization: `Bearer ${key}` },
  });
  return response.status();
}
