import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test, expect, type Page } from "@playwright/test";
import { OWNER, generateKey, hydrated, signIn, signInAs } from "./support";

// The audit log: the owner's own changes appear, newest first, with who made them; the filters
// narrow the view (also without JavaScript); each row opens to its changes; the export downloads
// the filtered view as JSON Lines and CSV without any secret; a viewer sees neither the page
// nor the export.
test.describe.configure({ mode: "serial" });

const KEY_NAME = "audited backend";

let page: Page;
let secret: string;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await signIn(page);
  secret = await generateKey(page, KEY_NAME);
  const prefix = secret.slice(4, 12);
  const row = page.locator(`tr[data-prefix="${prefix}"]`);
  await row.getByRole("link", { name: `Revoke key ${KEY_NAME}` }).click();
  await page.getByRole("dialog", { name: "Revoke this API key?" }).getByRole("button", { name: "Revoke key" }).click();
  await expect(row).toContainText("Revoked");
});

test.afterAll(async () => {
  await page.close();
});

const rows = () => page.locator("tbody tr[data-seq]");

test("the owner's changes are listed newest first, with the actor, and open to their changes", async () => {
  await page.goto("/audit");
  await hydrated(page);
  await expect(page.getByRole("link", { name: "Audit log", exact: true })).toHaveAttribute("aria-current", "page");
  // Newest first: the revocation, then the key's creation, then (earlier) the sign-in.
  const actions = await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-action")));
  expect(actions.slice(0, 2)).toEqual(["api_key.revoked", "api_key.created"]);
  expect(actions).toContain("member.signed_in");
  const seqs = await rows().evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute("data-seq"))));
  expect(seqs).toEqual([...seqs].sort((a, b) => b - a));

  const createdRow = page.locator('tr[data-action="api_key.created"]').first();
  await expect(createdRow).toContainText(OWNER.email);
  await expect(createdRow).toContainText("member");
  await expect(createdRow.getByTestId("changes")).toBeHidden();
  await createdRow.getByText("Changes", { exact: true }).click();
  await expect(createdRow.getByTestId("changes")).toBeVisible();
  await expect(createdRow.getByTestId("changes")).toContainText(KEY_NAME);
  await expect(createdRow).toContainText("Client address");
  await expect(createdRow).toContainText("Request id");
  // No secret anywhere on the page.
  expect(await page.content()).not.toContain(secret);
});

test("filters narrow the view, an empty result says so, and a bad filter names its field", async () => {
  await page.goto("/audit");
  await hydrated(page);
  await page.getByLabel("Action", { exact: true }).selectOption("api_key.*");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/action=api_key\.\*/);
  await expect(rows().first()).toBeVisible();
  const actions = await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-action")));
  expect(new Set(actions)).toEqual(new Set(["api_key.created", "api_key.revoked"]));

  await page.getByLabel("Actor", { exact: true }).fill("nobody@elsewhere.test");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page.getByText("No events match these filters")).toBeVisible();
  await expect(rows()).toHaveCount(0);

  // Today (UTC) holds every event of this run; tomorrow none.
  const today = new Date().toISOString().slice(0, 10);
  await page.goto(`/audit?since=${today}&until=${today}&action=api_key.revoked`);
  await expect(page.locator('tr[data-action="api_key.revoked"]').first()).toBeVisible();
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  await page.goto(`/audit?since=${tomorrow}`);
  await expect(page.getByText("No events match these filters")).toBeVisible();

  await page.goto("/audit?since=yesterday&action=api_key.stolen");
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("From: must be a time");
  await expect(alert).toContainText("Action: is not an audit action");
});

test("the export downloads the filtered view as JSON Lines and as CSV, without secrets", async () => {
  await page.goto("/audit?action=api_key.*");
  await hydrated(page);
  const shown = await rows().count();

  const [jsonl] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "JSON Lines" }).click(),
  ]);
  const text = await readFile(await jsonl.path(), "utf8");
  expect(text).not.toContain(secret);
  const events = text.trimEnd().split("\n").map((line) => JSON.parse(line));
  expect(events.length).toBe(shown);
  expect(events.every((e) => e.action.startsWith("api_key."))).toBe(true);
  expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => b - a));
  const revoked = events.find((e) => e.action === "api_key.revoked");
  expect(revoked.actor).toMatchObject({ type: "member", label: OWNER.email });
  expect(revoked.hash).toMatch(/^[0-9a-f]{64}$/);

  const [csv] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "CSV" }).click()]);
  const table = (await readFile(await csv.path(), "utf8")).trimEnd().split("\n");
  expect(table[0]).toBe(
    "seq,id,occurred_at,actor_type,actor_id,actor_label,action,target_type,target_id,ip,user_agent,request_id,changes,prev_hash,hash",
  );
  expect(table.length - 1).toBe(events.length);
  expect(table[1].startsWith(`${events[0].seq},${events[0].id},`)).toBe(true);
  expect(table.join("\n")).not.toContain(secret);
});

test("the filters and the rows' details work without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const plain = await context.newPage();
  await signIn(plain, { js: false });
  await plain.goto("/audit");
  await plain.getByLabel("Action", { exact: true }).selectOption("api_key.revoked");
  await plain.getByRole("button", { name: "Filter" }).click();
  await expect(plain).toHaveURL(/action=api_key\.revoked/);
  const row = plain.locator('tr[data-action="api_key.revoked"]').first();
  await expect(row).toBeVisible();
  await expect(plain.locator("tbody tr[data-seq]:not([data-action='api_key.revoked'])")).toHaveCount(0);
  await row.getByText("Changes", { exact: true }).click();
  await expect(row.getByTestId("changes")).toBeVisible();
  await context.close();
});

test("a viewer has no audit log: no link, the page refuses, the export answers 403", async ({ browser }) => {
  const viewer = { email: "audit-viewer@acme.test", password: "audit viewer password" };
  const tessera = path.join(__dirname, "..", "..", "target", "release", "tessera");
  execFileSync(tessera, ["member", "add", "--org", OWNER.slug, "--email", viewer.email, "--role", "viewer"], {
    env: { ...process.env, TESSERA_MEMBER_PASSWORD: viewer.password },
    stdio: "pipe",
  });
  const theirs = await browser.newPage();
  await signInAs(theirs, viewer.email, viewer.password);
  await expect(theirs.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  await theirs.goto("/audit");
  await expect(theirs.getByRole("alert")).toContainText("admin");
  await expect(theirs.locator("tbody tr[data-seq]")).toHaveCount(0);
  const exported = await theirs.request.get("/audit/export?format=jsonl");
  expect(exported.status()).toBe(403);
  expect(exported.headers()["content-type"]).toContain("application/problem+json");
  await theirs.close();

  // The CLI's change is in the log, by the CLI.
  await page.goto("/audit?action=member.added");
  const added = page.locator('tr[data-action="member.added"]').first();
  await expect(added).toContainText(viewer.email);
  await expect(added).toContainText("cli");
});
