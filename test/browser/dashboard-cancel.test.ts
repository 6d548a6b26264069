/**
 * Cancel from the dashboard, in real headless Chromium against `mario up` (functions in worker
 * threads): the job detail's Cancel button cancels a queued job; a selection of jobs (two queued,
 * one running) is cancelled with "Cancel selected" (issue #18): the queued ones at once, the
 * running one once its handler, told through ctx.signal, ends; a cancelled job offers Redrive.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { JobRecord } from "../../src/core/job.ts";
import { eventually } from "../support/eventually.ts";
import { launchChromium, startMarioUp, type Served } from "../support/browser.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);
const JSON_HEADERS = { "content-type": "application/json" };

function makeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "mario-dashboard-cancel-"));
  mkdirSync(join(dir, "functions"));
  // One at a time; ends when its signal aborts (a cancel), with the signal's reason.
  writeFileSync(
    join(dir, "functions", "hold.mjs"),
    `export const config = { concurrency: 1, timeoutMs: 60000 };
export default async function hold(instructions, ctx) {
  await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
  throw ctx.signal.reason;
}
`,
  );
  return dir;
}

describe("dashboard: cancel a job and a selection (Chromium)", () => {
  let browser: Browser | undefined;
  let served: Served | undefined;
  let dir = "";
  let page: Page;
  const errors: string[] = [];
  const api = async <T>(path: string, init?: RequestInit): Promise<T> => (await (await fetch(new URL(path, served!.url), init)).json()) as T;
  const enqueue = async (n: number): Promise<string> => (await api<{ id: string }>("pipelines/hold/jobs", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ n }) })).id;
  const status = async (id: string): Promise<string> => (await api<JobRecord>(`jobs/${id}`)).status;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = makeProject();
    served = await startMarioUp(join(dir, "functions"), { timeoutMs: 60_000 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(served.url);
    await page.waitForSelector('#conn[data-state="live"]');
  });
  after(async () => {
    await page?.close().catch(() => {});
    await browser?.close();
    await served?.stop();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  it("cancels a queued job from its detail, then a selection of queued and running jobs", async () => {
    const running = await enqueue(0);
    await eventually(async () => (await status(running)) === "running", { timeoutMs: 20_000, message: "the first job never ran" });
    const queued = [await enqueue(1), await enqueue(2), await enqueue(3), await enqueue(4)];
    for (const id of queued) assert.equal(await status(id), "queued");

    // The detail's button.
    const link = page.locator(`#jobs tbody[data-job="${queued[0]}"] .job-row button.link.mono`);
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    const button = page.locator('#job-detail button[data-action="cancel"]');
    await button.waitFor({ timeout: 10_000 });
    assert.equal(await button.textContent(), "Cancel this job");
    await button.click();
    await page.waitForFunction((id) => (document.querySelector("#toast")?.textContent ?? "").includes(`cancelled`) && id.length > 0, queued[0]!);
    await eventually(async () => (await status(queued[0]!)) === "cancelled");
    // The detail, opened again by the button, now offers Redrive and no Cancel.
    await page.waitForSelector('#job-detail .badge[data-status="cancelled"]');
    assert.equal(await page.locator('#job-detail button[data-action="cancel"]').count(), 0);
    assert.equal(await page.locator('#job-detail button[data-action="redrive"]').count(), 1);
    await page.screenshot({ path: new URL("dashboard-cancel-detail.png", ARTIFACTS).pathname });
    await page.keyboard.press("Escape");

    // A selection: two queued jobs and the running one.
    const chosen = [queued[1]!, queued[2]!, running];
    for (const id of chosen) await page.check(`#jobs input[data-pick="${id}"]`);
    await page.waitForFunction(() => document.querySelector("#jobs-selected")?.textContent === "3 selected");
    await page.click("#bulk-cancel");
    await page.waitForFunction(() => document.querySelector("#toast")?.textContent === "3 jobs cancelled");
    for (const id of chosen) await eventually(async () => (await status(id)) === "cancelled", { timeoutMs: 20_000, message: `job ${id} cancelled` });
    const ended = await api<JobRecord>(`jobs/${running}`);
    assert.deepEqual(ended.history?.map((a) => a.outcome), ["cancelled"]);
    assert.equal(ended.error?.code, "CANCELLED");
    // The one left alone runs now (the thread is free again), and is left running.
    await eventually(async () => (await status(queued[3]!)) === "running", { timeoutMs: 20_000, message: "the last job did not run" });
    await page.waitForSelector(`#jobs tbody[data-job="${running}"] .badge[data-status="cancelled"]`, { timeout: 10_000 });
    await page.screenshot({ path: new URL("dashboard-cancel-selection.png", ARTIFACTS).pathname });
    assert.deepEqual(errors, [], "no script errors on the page");
  });
});
