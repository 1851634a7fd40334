import { expect, test, type ConsoleMessage } from "@playwright/test";

test.describe("landing page", () => {
  test("is rendered by the server", async ({ request }) => {
    // Plain HTTP, no JavaScript: what crawlers and curl see.
    const response = await request.get("/");
    expect(response.status()).toBe(200);
    const html = await response.text();
    expect(html).toContain("<title>Tessera — user tokens for your product</title>");
    expect(html).toContain("user tokens");
    expect(html).toContain('aria-expanded="false"');
    expect(html).toContain("/pkg/tessera.wasm");
  });

  test("shows the product, its links and the quick start", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveTitle("Tessera — user tokens for your product");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(
      "Tessera — user tokens for your product",
    );
    await expect(page.getByRole("link", { name: /REST API docs/ })).toHaveAttribute("href", "/docs");
    await expect(page.getByRole("link", { name: "/healthz" })).toHaveAttribute("href", "/healthz");
    await expect(page.getByRole("heading", { name: "Your first user token in two calls" })).toBeVisible();
  });

  test("reveals and hides the curl commands once hydrated", async ({ page }) => {
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message: ConsoleMessage) => {
      if (message.type() === "error") errors.push(message.text());
    });

    await page.goto("/");
    const toggle = page.getByRole("button", { name: "Show curl commands" });
    const panel = page.locator("#quick-start-panel");
    await expect(toggle).toHaveAttribute("aria-expanded", "false");
    await expect(panel).toBeHidden();

    // The server renders the button disabled; only the hydrated WASM client enables it, so a
    // page served without a working /pkg/tessera.{js,wasm} fails here.
    await expect(toggle).toBeEnabled();
    await toggle.click();
    const hide = page.getByRole("button", { name: "Hide curl commands" });
    await expect(hide).toHaveAttribute("aria-expanded", "true");
    await expect(panel).toBeVisible();
    await expect(panel).toContainText("$TESSERA_URL/v1/users");
    await expect(panel).toContainText(".well-known/jwks.json");

    await hide.click();
    await expect(page.getByRole("button", { name: "Show curl commands" })).toHaveAttribute(
      "aria-expanded",
      "false",
    );
    await expect(panel).toBeHidden();

    expect(errors).toEqual([]);
  });

  test("answers unknown paths with the 404 page", async ({ page }) => {
    const response = await page.goto("/no-such-page");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  });
});
