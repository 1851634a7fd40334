import { test, expect } from "@playwright/test";
import { baseURL } from "../playwright.config";

// The integrator's first stop: Swagger UI served by Tessera itself (no CDN), with every call and
// an "Authorize" button that takes an API key.
test.describe("REST API docs", () => {
  test("Swagger UI lists the API and offers Authorize", async ({ page }) => {
    const external: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(`${baseURL}/`)) external.push(r.url());
    });
    await page.goto("/docs/");
    await expect(page.locator(".swagger-ui .info .title")).toContainText("Tessera");
    await expect(page.getByRole("button", { name: /Authorize/ })).toBeVisible();
    for (const path of ["/token", "/v1/users", "/v1/user-tokens", "/v1/tokens/introspect"]) {
      await expect(page.locator(`.opblock-summary-path[data-path="${path}"]`).first()).toBeVisible();
    }
    expect(external, "no request leaves the server").toEqual([]);
  });

  test("Authorize takes a bearer API key", async ({ page }) => {
    await page.goto("/docs/");
    await page.getByRole("button", { name: /Authorize/ }).click();
    const dialog = page.locator(".dialog-ux .modal-ux");
    await expect(dialog).toContainText("api_key");
    await expect(dialog).toContainText("Bearer");
    await dialog.locator("input").first().fill("tsk_example");
    // Swagger UI labels these buttons for screen readers ("Apply credentials", …): match their text.
    await dialog.locator("button.authorize", { hasText: "Authorize" }).click();
    await expect(dialog.locator("button", { hasText: "Logout" })).toBeVisible();
    await expect(dialog).toContainText("Authorized");
  });
});
