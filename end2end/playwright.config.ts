// Playwright drives Debian's Chromium (apt package `chromium`); no browser is downloaded.
// `scripts/e2e` (cargo leptos end-to-end --release on a fresh temporary database) builds and
// starts the server, then runs these specs. The server's address comes from
// TESSERA_E2E_BASE_URL (scripts/e2e sets it from LEPTOS_SITE_ADDR).
import { defineConfig, devices } from "@playwright/test";

export const baseURL = process.env.TESSERA_E2E_BASE_URL ?? "http://127.0.0.1:3000";

const chromium = {
  ...devices["Desktop Chrome"],
  launchOptions: {
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  },
};

export default defineConfig({
  testDir: "./tests",
  // cargo-leptos starts the specs right after spawning the server: wait for /healthz first.
  globalSetup: "./global-setup.ts",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  retries: 0,
  workers: 1,
  // scripts/e2e reads the JSON report to decide pass or fail: cargo-leptos' own exit status
  // does not say whether the build or the specs failed.
  reporter: [["list"], ["json", { outputFile: process.env.TESSERA_E2E_RESULTS ?? "test-results/results.json" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
  },
  projects: [
    // Runs first, on the empty database: creates the organization and its owner.
    { name: "first-run", testMatch: /first-run\.setup\.ts/, use: chromium },
    { name: "chromium", dependencies: ["first-run"], use: chromium },
  ],
});
