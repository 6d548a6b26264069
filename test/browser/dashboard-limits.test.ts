/**
 * The dashboard shows, per step, how many jobs its limits hold back and why (headless Chromium):
 * a function with `maxPerKey: 1` given three jobs of one key shows "2 key-busy", one with
 * `rateLimit: { max: 1, perMs: 60000 }` given three jobs shows "2 rate-limited"; a step without
 * limits shows nothing of the kind.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium, serveInProcess, type Served } from "../support/browser.ts";

describe("dashboard: jobs held back by step limits", { timeout: 120_000 }, () => {
  let browser: Browser | undefined;
  let served: Served | undefined;
  let dir = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "mario-dashboard-limits-"));
    mkdirSync(join(dir, "functions"));
    writeFileSync(join(dir, "functions", "per-customer.mjs"), `export const config = { concurrency: 4, concurrencyKey: "customer" };
export default async function perCustomer() { await new Promise((r) => setTimeout(r, 8000)); return null; }
`);
    writeFileSync(join(dir, "functions", "throttled.mjs"), `export const config = { concurrency: 4, rateLimit: { max: 1, perMs: 60000 } };
export default async function throttled() { return null; }
`);
    writeFileSync(join(dir, "functions", "plain.mjs"), "export default async function plain() { return null; }\n");
    served = await serveInProcess(join(dir, "functions"));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await served?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows 'waiting: 2 key-busy' and 'waiting: 2 rate-limited' on the steps, nothing on a step without limits", async () => {
    const url = served!.url;
    for (const [pipeline, body] of [["per-customer", { customer: "c-1" }], ["throttled", {}], ["plain", {}]] as const) {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}pipelines/${pipeline}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        assert.equal(res.status, 202);
      }
    }
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(url);
    await page.waitForSelector('#conn[data-state="live"]');
    const waiting = (step: string): string => `[data-step="${step}/${step}"] [data-field="waiting"]`;
    await page.waitForFunction(([sel]) => document.querySelector(sel)?.textContent === "waiting: 2 key-busy", [waiting("per-customer")] as const, { timeout: 20_000 });
    await page.waitForFunction(([sel]) => document.querySelector(sel)?.textContent === "waiting: 2 rate-limited", [waiting("throttled")] as const, { timeout: 20_000 });
    assert.equal(await page.locator(waiting("per-customer")).isVisible(), true);
    assert.equal(await page.locator(waiting("plain")).textContent(), "");
    assert.equal(await page.locator(waiting("plain")).isVisible(), false, "a step without limits shows no waiting line");
    assert.deepEqual(errors, []);
    await page.close();
  });
});
