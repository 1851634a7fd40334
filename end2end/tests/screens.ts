// Screenshots for humans: each call writes end2end/screenshots/<name>-desktop.png (1280x800) and
// <name>-phone.png (390x844). Regenerate them all with `scripts/e2e` (see README).
import path from "node:path";
import type { Page } from "@playwright/test";

export const SIZES = [
  { label: "desktop", width: 1280, height: 800 },
  { label: "phone", width: 390, height: 844 },
] as const;

const DIR = path.join(__dirname, "..", "screenshots");

/** Screenshots `page` at both sizes (full page), then restores its viewport. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const before = page.viewportSize();
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.screenshot({ path: path.join(DIR, `${name}-${size.label}.png`), fullPage: true });
  }
  if (before) await page.setViewportSize(before);
}
