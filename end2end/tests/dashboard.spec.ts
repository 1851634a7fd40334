import { test, expect, type Page } from "@playwright/test";
import { OWNER, claimrStatus, generateKey, hydrated, signIn } from "./support";

// One member's day, in order, in one browser page: sign in, generate a key and use it, revoke
// it, sign out.
test.describe.configure({ mode: "serial" });

let page: Page;
let key = "";

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
});

test.afterAll(async () => {
  await page.close();
});

test("signed-out visitors are sent to the sign-in page", async ({ request }) => {
  const response = await request.get("/keys", { maxRedirects: 0, headers: { Accept: "text/html" } });
  expect(response.status()).toBe(303);
  expect(response.headers()["location"]).toBe("/sign-in");
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
});

test("a wrong password and an unknown email get the same message; the right password signs in", async () => {
  const attempt = async (email: string, password: string) => {
    await page.goto("/sign-in");
    await hydrated(page);
    await expect(page.getByRole("alert")).toHaveCount(0);
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
  };

  await attempt(OWNER.email, "not the password at all");
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await attempt("nobody@acme.test", OWNER.password);
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await expect(page).toHaveURL(/\/sign-in$/);

  await attempt(OWNER.email, OWNER.password);
  await expect(page.getByRole("heading", { level: 1, name: "Overview" })).toBeVisible();
  await expect(page.getByTestId("member-email")).toHaveText(OWNER.email);

  // The session cookie is out of reach of scripts and cross-site requests.
  const cookie = (await page.context().cookies()).find((c) => c.name === "tessera_session");
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");
  expect(cookie?.path).toBe("/");
});

test("a generated key is shown once, then only its prefix, and it works over HTTP", async ({ request }) => {
  key = await generateKey(page, "production backend");
  const prefix = key.slice(4, 12);
  const row = page.locator(`tr[data-prefix="${prefix}"]`);
  await expect(row).toContainText("production backend");
  await expect(row).toContainText(`tsk_${prefix}…`);
  await expect(row).toContainText(OWNER.email);
  await expect(row).toContainText("Active");

  // Closed, reloaded, fetched again: the full key is nowhere in the page.
  await page.reload();
  await expect(row).toContainText("Active");
  expect(await page.content()).not.toContain(key);
  const html = await (await page.request.get("/keys")).text();
  expect(html).toContain(prefix);
  expect(html).not.toContain(key);

  // The key is real: claimr's call creates a user and a token.
  expect(await claimrStatus(request, key, "42")).toBe(200);
  await page.goto("/");
  await expect(page.getByTestId("count-users")).toHaveText("1");
  await expect(page.getByTestId("count-active-tokens")).toHaveText("1");
  await expect(page.getByTestId("count-api-keys")).toHaveText("1");
  await expect(page.getByRole("img", { name: /Tokens issued per day/ })).toHaveAttribute(
    "aria-label",
    /1 in all/,
  );
});

test("a cross-site request cannot revoke the key", async ({ request }) => {
  const prefix = key.slice(4, 12);
  // The member's own cookies, but a foreign Origin, as a forged form post would have.
  const forged = await page.request.post("/_fn/revoke_key", {
    form: { prefix },
    headers: { Origin: "https://evil.example" },
  });
  expect(forged.status()).toBe(403);
  expect(await claimrStatus(request, key, "43")).toBe(200);
});

test("revoking asks for confirmation and stops the key at once", async ({ request }) => {
  const prefix = key.slice(4, 12);
  await page.goto("/keys");
  await hydrated(page);
  const row = page.locator(`tr[data-prefix="${prefix}"]`);
  await row.getByRole("link", { name: "Revoke key production backend" }).click();
  const dialog = page.getByRole("dialog", { name: "Revoke this API key?" });
  await expect(dialog).toContainText(`tsk_${prefix}…`);

  // Cancel changes nothing.
  await dialog.getByRole("link", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText("Active");
  expect(await claimrStatus(request, key, "44")).toBe(200);

  await row.getByRole("link", { name: "Revoke key production backend" }).click();
  await dialog.getByRole("button", { name: "Revoke key" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText("Revoked");
  await expect(row.getByRole("link", { name: /Revoke/ })).toHaveCount(0);
  expect(await claimrStatus(request, key, "45")).toBe(401);
});

test("signing out ends the session on the server", async ({ request }) => {
  const cookie = (await page.context().cookies()).find((c) => c.name === "tessera_session");
  expect(cookie).toBeDefined();
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await page.goto("/keys");
  await expect(page).toHaveURL(/\/sign-in$/);

  // The old cookie, replayed, no longer opens anything: the session row is gone.
  const replay = await request.get("/keys", {
    headers: { Cookie: `tessera_session=${cookie!.value}`, Accept: "text/html" },
    maxRedirects: 0,
  });
  expect(replay.status()).toBe(303);
  expect(replay.headers()["location"]).toBe("/sign-in");
});

test("signing in again still works after signing out", async () => {
  await signIn(page);
});
