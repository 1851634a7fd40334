// Waits (up to 30 s) until the server under test answers /healthz: cargo-leptos runs Playwright
// right after spawning the server, without waiting for it to listen.
import { request } from "@playwright/test";
import { baseURL } from "./playwright.config";

export default async function globalSetup(): Promise<void> {
  const api = await request.newContext({ baseURL });
  const deadline = Date.now() + 30_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const response = await api.get("/healthz");
      if (response.ok()) {
        await api.dispose();
        return;
      }
      last = `HTTP ${response.status()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await api.dispose();
  throw new Error(`the server at ${baseURL} did not become healthy in 30 s (${last})`);
}
