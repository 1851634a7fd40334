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

/** Signs a member in through the form (in a fresh, hydrated page) and waits for the overview. */
export async function signInAs(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/sign-in");
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
}

/** Creates (or finds) the user `account` with claimr's `GET /token`; returns its permanent token
 *  and user id. */
export async function createUser(
  request: APIRequestContext,
  key: string,
  account: string,
  { platform = "web", name }: { platform?: string; name?: string } = {},
): Promise<{ token: string; userId: string }> {
  const params = new URLSearchParams({ account, platform });
  if (name) params.set("name", name);
  const response = await request.get(`/token?${params}`, { headers: { Authorization: `Bearer ${key}` } });
  expect(response.status()).toBe(200);
  const body = await response.json();
  expect(body.user_id).toMatch(/^[0-9a-f-]{36}$/);
  return { token: body.token, userId: body.user_id };
}

/** `POST /v1/tokens/introspect` with `key`: the JSON answer (`{"active": false}` or the claims). */
export async function introspect(
  request: APIRequestContext,
  key: string,
  token: string,
): Promise<{ active: boolean; jti?: string; sub?: string; exp?: number }> {
  const response = await request.post("/v1/tokens/introspect", {
    headers: { Authorization: `Bearer ${key}` },
    data: { token },
  });
  expect(response.status()).toBe(200);
  return response.json();
}

/** The claims of a JWT, decoded without verification (the test reads `jti` and `exp`). */
export function claimsOf(jwt: string): { jti: string; sub: string; iat: number; exp?: number } {
  const parts = jwt.split(".");
  expect(parts).toHaveLength(3);
  return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
}
