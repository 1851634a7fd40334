import { test, expect, type Page } from "@playwright/test";
import { hydrated, signIn } from "./support";

// Every page runs under a Content-Security-Policy (issue 14, finding 8): the dashboard hydrates
// and Swagger UI works with no violation reported, and no page may be framed.

/** Collects the page's CSP violations (the `securitypolicyviolation` events) from its start. */
async function recordViolations(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __violations: string[] }).__violations = seen;
    document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return () => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
}

test("the dashboard hydrates under its policy and nothing is blocked", async ({ page }) => {
  const violations = await recordViolations(page);
  const response = await page.goto("/sign-in");
  const policy = response!.headers()["content-security-policy"] ?? "";
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
  expect(response!.headers()["x-content-type-options"]).toBe("nosniff");
  expect(response!.headers()["cache-control"]).toBe("no-store");
  await hydrated(page);
  // The WASM client and server functions at work: sign in, then pages that load data. (No key is
  // generated here: other specs count the org's keys.)
  await signIn(page);
  for (const path of ["/keys", "/users", "/members"]) {
    await page.goto(path);
    await hydrated(page);
  }
  expect(await violations()).toEqual([]);
});

test("a script injected into a dashboard page does not run", async ({ page }) => {
  const violations = await recordViolations(page);
  await page.goto("/sign-in");
  await hydrated(page);
  // As an HTML injection would: an inline script without the page's nonce.
  await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__injected = true;";
    document.body.appendChild(s);
  });
  expect(await page.evaluate(() => (window as unknown as { __injected?: boolean }).__injected)).toBeUndefined();
  expect((await violations()).some((v) => v.startsWith("script-src"))).toBe(true);
});

test("Swagger UI works under its policy", async ({ page }) => {
  const violations = await recordViolations(page);
  const response = await page.goto("/docs/");
  expect(response!.headers()["content-security-policy"] ?? "").toContain("frame-ancestors 'none'");
  await expect(page.locator(".swagger-ui .info .title")).toContainText("Tessera");
  // Try a call from the UI: it reaches this server under `connect-src 'self'`.
  const health = page.locator(`.opblock-summary-path[data-path="/healthz"]`).first();
  await health.click();
  await page.getByRole("button", { name: "Try it out" }).click();
  await page.getByRole("button", { name: "Execute" }).click();
  await expect(page.locator(".responses-wrapper .live-responses-table tbody .response-col_status").first()).toContainText(
    "200",
  );
  expect(await violations()).toEqual([]);
});

test("no page can be framed", async ({ page }) => {
  // A page of another origin that frames the dashboard: the browser refuses to render it.
  await page.goto("/docs/");
  const framed = await page.evaluate(async () => {
    const frame = document.createElement("iframe");
    frame.src = "/sign-in";
    document.body.appendChild(frame);
    await new Promise((r) => setTimeout(r, 1500));
    try {
      return frame.contentDocument?.body?.innerText ?? "";
    } catch {
      return "";
    }
  });
  expect(framed).not.toContain("Sign in");
});
