import { test, expect, type Page } from "@playwright/test";
import { OWNER, hydrated, signInAs, signIn } from "./support";

// The owner manages the team: adds a member (errors next to the fields), changes their role
// (which applies to their next request), cannot demote or remove the last owner (the server's
// message shows next to the form), and removes the member (who is signed out).
test.describe.configure({ mode: "serial" });

const MEMBER = { email: "ops@acme.test", password: "ops password 12345" };

let page: Page;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await signIn(page);
});

test.afterAll(async () => {
  await page.close();
});

const rowOf = (email: string) => page.locator(`tr[data-member-email="${email}"]`);

test("the owner is listed as the owner, and adding a member checks each field", async () => {
  await page.goto("/members");
  await hydrated(page);
  await expect(page.getByRole("link", { name: "Members", exact: true })).toHaveAttribute("aria-current", "page");
  await expect(rowOf(OWNER.email)).toContainText("you");
  await expect(page.getByLabel(`Role of ${OWNER.email}`, { exact: true })).toHaveValue("owner");

  await page.getByLabel("Email", { exact: true }).fill("not an email");
  await page.getByLabel("Initial password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("alert")).toHaveText("Some fields need attention.");
  await expect(page.locator("#email-error")).toContainText("must be an email address");
  await expect(page.getByLabel("Email", { exact: true })).toHaveAttribute("aria-invalid", "true");

  await page.getByLabel("Email", { exact: true }).fill(MEMBER.email);
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByLabel("Initial password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.locator("#password-error")).toHaveText("must be at least 12 characters");
  await expect(rowOf(MEMBER.email)).toHaveCount(0);

  await page.getByLabel("Initial password", { exact: true }).fill(MEMBER.password);
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(rowOf(MEMBER.email)).toBeVisible();
  await expect(page.getByLabel(`Role of ${MEMBER.email}`, { exact: true })).toHaveValue("viewer");
  await expect(page.getByRole("alert")).toHaveCount(0);

  // The same email again is refused with the server's reason.
  await page.getByLabel("Email", { exact: true }).fill(MEMBER.email);
  await page.getByLabel("Initial password", { exact: true }).fill(MEMBER.password);
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.getByRole("alert")).toHaveText("A member with this email exists in the org.");
  await expect(rowOf(MEMBER.email)).toHaveCount(1);
});

test("a role change applies to the member's next request", async ({ browser }) => {
  const theirs = await browser.newPage();
  await signInAs(theirs, MEMBER.email, MEMBER.password);
  await expect(theirs.getByTestId("member-role")).toHaveText("viewer");

  await page.getByLabel(`Role of ${MEMBER.email}`, { exact: true }).selectOption("admin");
  // Wait for the server's answer: reloading right after the click could cancel the call.
  const saved = page.waitForResponse((r) => r.url().includes("/_fn/change_member_role"));
  await page.getByRole("button", { name: `Save role of ${MEMBER.email}` }).click();
  await saved;
  await page.reload();
  await expect(page.getByLabel(`Role of ${MEMBER.email}`, { exact: true })).toHaveValue("admin");

  await theirs.reload();
  await expect(theirs.getByTestId("member-role")).toHaveText("admin");
  // An admin reads the list but gets no controls, and the server refuses the calls.
  await theirs.goto("/members");
  await expect(theirs.locator(`tr[data-member-email="${OWNER.email}"]`)).toContainText("owner");
  await expect(theirs.getByRole("button", { name: "Add member" })).toHaveCount(0);
  await expect(theirs.getByRole("link", { name: /^Remove/ })).toHaveCount(0);
  const origin = new URL(theirs.url()).origin;
  const promote = await theirs.request.post("/_fn/change_member_role", {
    form: { member_id: "00000000-0000-7000-8000-000000000000", role: "owner" },
    headers: { Origin: origin },
  });
  expect(promote.status()).toBe(403);
  expect(await promote.text()).toContain("owner");
  const add = await theirs.request.post("/_fn/add_member", {
    form: { email: "sneaky@acme.test", role: "owner", password: "long enough password" },
    headers: { Origin: origin },
  });
  expect(add.status()).toBe(403);
  await theirs.close();
  await page.reload();
  await expect(rowOf("sneaky@acme.test")).toHaveCount(0);
});

test("the last owner can be neither demoted nor removed", async () => {
  await page.goto("/members");
  await hydrated(page);
  await page.getByLabel(`Role of ${OWNER.email}`, { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: `Save role of ${OWNER.email}` }).click();
  await expect(rowOf(OWNER.email).getByRole("alert")).toHaveText(
    "The organization's last owner cannot be removed or demoted.",
  );
  await page.reload();
  await expect(page.getByLabel(`Role of ${OWNER.email}`, { exact: true })).toHaveValue("owner");
  await expect(page.getByTestId("member-role")).toHaveText("owner");

  await rowOf(OWNER.email).getByRole("link", { name: `Remove ${OWNER.email}` }).click();
  const dialog = page.getByRole("dialog", { name: "Remove this member?" });
  await expect(dialog).toContainText(OWNER.email);
  await dialog.getByRole("button", { name: "Remove member" }).click();
  await expect(dialog.getByRole("alert")).toHaveText("The organization's last owner cannot be removed or demoted.");
  await dialog.getByRole("link", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(rowOf(OWNER.email)).toBeVisible();
});

test("a removed member is signed out and cannot sign in again", async ({ browser }) => {
  const theirs = await browser.newPage();
  await signInAs(theirs, MEMBER.email, MEMBER.password);

  await page.goto("/members");
  await hydrated(page);
  await rowOf(MEMBER.email).getByRole("link", { name: `Remove ${MEMBER.email}` }).click();
  await page.getByRole("dialog", { name: "Remove this member?" }).getByRole("button", { name: "Remove member" }).click();
  await expect(page.getByRole("dialog")).toHaveCount(0);
  await expect(rowOf(MEMBER.email)).toHaveCount(0);
  await expect(page).toHaveURL(/\/members$/);

  await theirs.goto("/");
  await expect(theirs).toHaveURL(/\/sign-in$/);
  await theirs.getByLabel("Email", { exact: true }).fill(MEMBER.email);
  await theirs.getByLabel("Password", { exact: true }).fill(MEMBER.password);
  await theirs.getByRole("button", { name: "Sign in" }).click();
  await expect(theirs.getByRole("alert")).toHaveText("Wrong email or password.");
  await theirs.close();
});
