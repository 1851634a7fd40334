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
  const scrollY = await page.evaluate(() => window.scrollY);
  expect(scrollY, "scrolled to the bottom").toBeCloseTo(pageHeight - 800, 0);
  const box = await page.locator("aside").boundingBox();
  expect(box).not.toBeNull();
  // The box in page coordinates: from the top of the page to its bottom.
  expect(box!.y + scrollY).toBeCloseTo(0, 0);
  expect(box!.y + scrollY + box!.height).toBeCloseTo(pageHeight, 0);
  expect(box!.width).toBeCloseTo(256, 0);
  await expect(page.getByRole("navigation", { name: "Dashboard" })).toBeInViewport();
  await expect(page.getByText("Organization", { exact: true })).toBeInViewport();
});
