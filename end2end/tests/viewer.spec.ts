import { execFileSync } from "node:child_process";
import path from "node:path";
import { test, expect } from "@playwright/test";
import { OWNER, claimrStatus, claimsOf, createUser, generateKey, hydrated, introspect, signIn, signInAs } from "./support";

const VIEWER = { email: "viewer@acme.test", password: "viewer password 123" };

// The second test uses the viewer the first one adds.
test.describe.configure({ mode: "serial" });

// A viewer reads everything but cannot generate or revoke keys: the controls are absent and the
// server refuses the calls when made directly.
test("a viewer sees no key controls and the server refuses them", async ({ browser, request }) => {
  // The member is added with the CLI, on the database the server under test uses (scripts/e2e
  // exports TESSERA_DATABASE_URL and TESSERA_DATA_DIR to the whole run).
  const tessera = path.join(__dirname, "..", "..", "target", "release", "tessera");
  execFileSync(tessera, ["member", "add", "--org", OWNER.slug, "--email", VIEWER.email, "--role", "viewer"], {
    env: { ...process.env, TESSERA_MEMBER_PASSWORD: VIEWER.password },
    stdio: "pipe",
  });

  const ownerPage = await browser.newPage();
  await signIn(ownerPage);
  const key = await generateKey(ownerPage, "viewer can see this");
  await ownerPage.close();
  const prefix = key.slice(4, 12);

  const page = await browser.newPage();
  await page.goto("/sign-in");
  await hydrated(page);
  await page.getByLabel("Email", { exact: true }).fill(VIEWER.email);
  await page.getByLabel("Password", { exact: true }).fill(VIEWER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("member-role")).toHaveText("viewer");

  await page.goto("/keys");
  await expect(page.locator(`tr[data-prefix="${prefix}"]`)).toContainText("Active");
  await expect(page.getByRole("button", { name: "Generate key" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: /Revoke key/ })).toHaveCount(0);
  // Even the confirmation URL shows no dialog.
  await page.goto(`/keys?revoke=${prefix}`);
  await expect(page.getByRole("dialog")).toHaveCount(0);

  // Direct calls, same-origin and with the viewer's session: refused, nothing changes.
  const origin = new URL(page.url()).origin;
  const revoke = await page.request.post("/_fn/revoke_key", { form: { prefix }, headers: { Origin: origin } });
  expect(revoke.status()).toBe(403);
  expect(await revoke.text()).toContain("admin");
  const generate = await page.request.post("/_fn/generate_key", {
    form: { name: "sneaky", expires_in_days: "" },
    headers: { Origin: origin },
  });
  expect(generate.status()).toBe(403);
  expect(await claimrStatus(request, key, "viewer-1")).toBe(200);
  await page.reload();
  await expect(page.getByRole("cell", { name: "sneaky" })).toHaveCount(0);
  await page.close();
});

test("a viewer reads users and members but cannot issue, revoke or manage", async ({ browser, request }) => {
  const ownerPage = await browser.newPage();
  await signIn(ownerPage);
  const key = await generateKey(ownerPage, "viewer users spec");
  await ownerPage.close();
  const { token, userId } = await createUser(request, key, "viewer-target", { name: "Vera Viewer" });
  const jti = claimsOf(token).jti;

  const page = await browser.newPage();
  await signInAs(page, VIEWER.email, VIEWER.password);
  await page.goto("/users?q=viewer-target");
  await page.getByRole("link", { name: "viewer-target", exact: true }).click();
  await expect(page.getByTestId("user-heading")).toHaveText("Vera Viewer");
  await expect(page.locator(`tr[data-token-id="${jti}"]`)).toContainText("Active");
  await expect(page.getByRole("button", { name: "Issue token" })).toHaveCount(0);
  await expect(page.getByLabel("Lifetime")).toHaveCount(0);
  await expect(page.getByRole("link", { name: /^Revoke/ })).toHaveCount(0);
  // The confirmation URLs show no dialog either.
  for (const query of [`revoke=${jti}`, "revoke_all=1"]) {
    await page.goto(`/users/${userId}?${query}`);
    await expect(page.getByTestId("user-heading")).toHaveText("Vera Viewer");
    await expect(page.getByRole("dialog")).toHaveCount(0);
  }

  // Direct calls, same-origin and with the viewer's session: refused, nothing changes.
  const origin = new URL(page.url()).origin;
  const calls: [string, Record<string, string>][] = [
    ["/_fn/revoke_token", { user_id: userId, token_id: jti }],
    ["/_fn/revoke_all_tokens", { user_id: userId }],
    ["/_fn/issue_token", { user_id: userId, lifetime: "3600" }],
    ["/_fn/add_member", { email: "sneaky@acme.test", role: "owner", password: "long enough password" }],
    ["/_fn/remove_member", { member_id: "00000000-0000-7000-8000-000000000000" }],
  ];
  for (const [path, form] of calls) {
    const response = await page.request.post(path, { form, headers: { Origin: origin } });
    expect(response.status(), path).toBe(403);
  }
  expect((await introspect(request, key, token)).active).toBe(true);
  await page.reload();
  await expect(page.locator("tbody tr")).toHaveCount(1);

  // Members: the list, without controls.
  await page.goto("/members");
  await expect(page.locator(`tr[data-member-email="${OWNER.email}"]`)).toContainText("owner");
  await expect(page.locator(`tr[data-member-email="${VIEWER.email}"]`)).toContainText("you");
  await expect(page.getByRole("button", { name: "Add member" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: /^Save role/ })).toHaveCount(0);
  await expect(page.getByRole("link", { name: /^Remove/ })).toHaveCount(0);
  await page.close();
});
