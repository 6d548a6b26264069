/**
 * The dashboard's schedules panel in headless Chromium (playwright-core): `mario up` on a project
 * with a function that exports an every-second schedule. The panel shows the schedule's name,
 * cron and next run, and its last job, whose link opens the job's detail. A project without
 * schedules shows no panel. Screenshot in test/artifacts/.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { launchChromium, makeProject, startMarioUp, type Served } from "../support/browser.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);

describe("dashboard: schedules panel", { timeout: 60_000 }, () => {
  let browser: Browser | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await browser?.close();
  });

  it("lists a function's schedule with its next run and last job; the job link opens its detail", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mario-dash-schedules-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, "functions"));
    writeFileSync(join(dir, "functions", "pulse.mjs"), 'export const schedule = { cron: "* * * * * *", instructions: { from: "cron" } };\nexport default async function (i) { return { ...i, ok: true }; }\n');
    const served: Served = await startMarioUp(join(dir, "functions"), { timeoutMs: 60_000 });
    cleanups.push(() => served.stop());
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    cleanups.push(() => page.close());
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(served.url);
    const row = page.locator('#schedules tr[data-schedule="pulse"]');
    await row.waitFor({ timeout: 15_000 });
    assert.equal(await page.locator("#schedules-card").isVisible(), true);
    assert.equal((await row.locator("td").nth(1).textContent())?.trim(), "* * * * * *");
    await page.waitForFunction(() => /^(in .+|due)$/.test(document.querySelector('#schedules tr[data-schedule="pulse"] [data-next]')?.textContent ?? ""), undefined, { timeout: 5000 });
    const link = row.locator("a[data-job]");
    await link.waitFor({ timeout: 15_000 });
    const jobId = await link.getAttribute("data-job");
    assert.match(jobId ?? "", /^[0-9a-z]{22}$/);
    await page.screenshot({ path: new URL("dashboard-schedules.png", ARTIFACTS).pathname });
    await link.click();
    await page.waitForFunction(() => document.querySelector<HTMLDialogElement>("#job-dialog")?.open === true, undefined, { timeout: 5000 });
    await page.waitForFunction(() => /pulse/.test(document.querySelector("#job-detail")?.textContent ?? ""), undefined, { timeout: 5000 });
    assert.deepEqual(errors, []);
  });

  it("shows no panel when the project has no schedules", async () => {
    const project = makeProject();
    cleanups.push(() => project.remove());
    const served = await startMarioUp(project.dir, { timeoutMs: 60_000 });
    cleanups.push(() => served.stop());
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    cleanups.push(() => page.close());
    await page.goto(served.url);
    await page.waitForSelector('#conn[data-state="live"]', { timeout: 15_000 });
    // The panel is shown only once GET /schedules answered some: wait for that answer, then look.
    const listed = await page.evaluate(async () => {
      const body = (await (await fetch("/schedules")).json()) as { schedules: unknown[] };
      return body.schedules.length;
    });
    assert.equal(listed, 0);
    assert.equal(await page.locator("#schedules-card").isVisible(), false);
  });
});
