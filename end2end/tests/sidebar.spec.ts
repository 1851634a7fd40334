import { test, expect } from "@playwright/test";
import { createUser, generateKey, hydrated, signIn } from "./support";

// On a long page (a user with many tokens) at 1280x800, the dark sidebar is as tall as the whole
// page, not just its first screen, and its navigation stays in view while the page scrolls.
test("the sidebar runs from the top to the bottom of a long page", async ({ page, request }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page);
  const key = await generateKey(page, "sidebar spec");
  const { userId } = await createUser(request, key, "sidebar-long", { name: "Lena Long" });
  for (let n = 0; n < 24; n++) {
    const issued = await request.post("/v1/user-tokens", {
      headers: { Authorization: `Bearer ${key}` },
      data: { user: userId, ttl_seconds: 600 },
    });
    expect(issued.status()).toBe(201);
  }

  await page.goto(`/users/${userId}`);
  await hydrated(page);
  await expect(page.locator("tbody tr")).toHaveCount(25);
  const pageHeight = await page.evaluate(() => document.documentElement.scrollHeight);
  expect(pageHeight, "the page is longer than two screens").toBeGreaterThan(1600);

  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  // Layout positions may be off by a fraction of a pixel.
  const near = (actual: number, expected: number, what: string) =>
    expect(Math.abs(actual - expected), `${what}: ${actual}, not ${expected}`).toBeLessThanOrEqual(1);
  const scrollY = await page.evaluate(() => window.scrollY);
  near(scrollY, pageHeight - 800, "scrolled to the bottom");
  const box = await page.locator("aside").boundingBox();
  expect(box).not.toBeNull();
  // The box in page coordinates: from the top of the page to its bottom (a fixed sidebar would
  // start at the scroll position and end one screen below it).
  near(box!.y + scrollY, 0, "sidebar top");
  near(box!.y + scrollY + box!.height, pageHeight, "sidebar bottom");
  near(box!.width, 256, "sidebar width");
  await expect(page.getByRole("navigation", { name: "Dashboard" })).toBeInViewport();
  await expect(page.getByText("Organization", { exact: true })).toBeInViewport();
});
