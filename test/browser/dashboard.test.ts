/**
 * The live dashboard in headless Chromium (Debian's, driven by playwright-core): a project whose
 * functions include one that always throws is served, the page opens, jobs are enqueued from the
 * form (bad JSON is refused before anything is sent), counters and the throughput chart change
 * without a reload, the failing job's error and stack show, it is redriven and fails again, its
 * detail opens; with a token, the page asks for it; a stale worker is marked; a closed page leaves
 * no listener. Screenshots go to test/artifacts/.
 *
 * The first two run `mario up --port=0` on the project as a child process; the last two need to
 * decorate the cluster (remote workers, listener counting), so they serve the same project in this
 * process through the same gateway app.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { WorkerInfo } from "../../src/storage/storage-backend.ts";
import { eventually } from "../support/eventually.ts";
import { launchChromium, makeProject, serveInProcess, startMarioUp, type Served } from "../support/browser.ts";

const ARTIFACTS = new URL("../artifacts/", import.meta.url);

let browser: Browser | undefined;
/** Run last-in first-out in `after`, every one even when another fails. */
const cleanups: (() => Promise<void> | void)[] = [];
let project: ReturnType<typeof makeProject>;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  project = makeProject();
  cleanups.push(() => project.remove());
  browser = await launchChromium();
  cleanups.push(() => browser?.close());
});

after(async () => {
  const problems: unknown[] = [];
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      problems.push(error);
    }
  }
  if (problems.length > 0) throw problems[0];
});

async function serve(options: Parameters<typeof serveInProcess>[1] = {}): Promise<Served> {
  const served = await serveInProcess(project.dir, options);
  cleanups.push(() => served.stop());
  return served;
}

async function up(args: string[] = []): Promise<Served> {
  const served = await startMarioUp(project.dir, { args });
  cleanups.push(() => served.stop());
  return served;
}

/** Opens the page; `errors` collects uncaught script errors. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1440, height: 1000 } });
  cleanups.push(() => page.close());
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  return { page, errors };
}

/** Waits until the element's text matches. */
async function waitText(page: Page, selector: string, expected: RegExp | string, timeout = 8000): Promise<void> {
  const pattern = typeof expected === "string" ? `^${expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$` : expected.source;
  await page
    .waitForFunction(([sel, source]) => new RegExp(source).test(document.querySelector(sel)?.textContent?.trim() ?? ""), [selector, pattern] as const, { timeout })
    .catch(async () => {
      const actual = await page.locator(selector).first().textContent({ timeout: 100 }).catch(() => "(missing)");
      throw new Error(`${selector}: expected ${String(expected)}, found ${JSON.stringify(actual)}`);
    });
}

describe("dashboard in a browser", { timeout: 120_000 }, () => {
  it("enqueues from the form, updates live, shows the failure, redrives it (mario up)", async () => {
    const served = await up();
    const { page, errors } = await open(served.url);
    await page.waitForSelector('#conn[data-state="live"]');
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));
    const echo = '[data-step="echo/echo"]';
    await waitText(page, `${echo} [data-field="succeeded"]`, "0");
    const chart = page.locator(`${echo} svg.spark`);
    assert.equal(await chart.getAttribute("data-total"), "0");
    const pathBefore = await page.locator(`${echo} [data-role="spark-ok"]`).getAttribute("d");

    const posts: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST") posts.push(new URL(request.url()).pathname);
    });

    // Bad JSON is refused with a clear message, before anything is sent.
    await page.selectOption("#enqueue-pipeline", "echo");
    await page.fill("#enqueue-json", '{"text": "hi",');
    await waitText(page, "#enqueue-hint", /^Not valid JSON/);
    await page.click("#enqueue-submit");
    await page.fill("#enqueue-json", "[1, 2]");
    await waitText(page, "#enqueue-hint", /must be a JSON object/);
    await page.click("#enqueue-submit");
    assert.deepEqual(posts, [], "nothing is sent while the JSON is bad");

    await page.fill("#enqueue-json", '{"text": "hi"}');
    await page.fill("#enqueue-copies", "4");
    await page.click("#enqueue-submit");
    await waitText(page, "#enqueue-hint", /^Queued 4 jobs on echo/);
    assert.deepEqual(posts, Array(4).fill("/pipelines/echo/jobs"));

    // Counters and the chart change without a reload.
    await waitText(page, `${echo} [data-field="succeeded"]`, "4");
    await waitText(page, '[data-total="succeeded"]', "4");
    await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute("data-total") === "4", `${echo} svg.spark`);
    assert.notEqual(await page.locator(`${echo} [data-role="spark-ok"]`).getAttribute("d"), pathBefore, "the chart was redrawn");
    await waitText(page, `${echo} [data-field="p50"]`, /^≤\d+/);
    await waitText(page, '#jobs tbody[data-status="succeeded"] .badge', "succeeded");

    // A failing job: its error and stack show in the dead list.
    await page.selectOption("#enqueue-pipeline", "boom");
    await page.fill("#enqueue-json", '{"level": 7}');
    await page.fill("#enqueue-copies", "1");
    await page.click("#enqueue-submit");
    await waitText(page, '[data-step="boom/boom"] [data-field="dead"]', "1");
    await page.click('[data-tab="dead"]');
    const dead = page.locator('#jobs tbody[data-status="dead"]');
    await dead.first().waitFor();
    assert.equal(await dead.count(), 1);
    await waitText(page, '#jobs tbody[data-status="dead"] details.error summary', /^RangeError: boom: the reactor overheated at level 7$/);
    await page.click('#jobs tbody[data-status="dead"] details.error summary');
    const stack = await page.locator('#jobs tbody[data-status="dead"] pre.stack').textContent();
    assert.match(stack ?? "", /at boom .*boom[^/]*\.mjs/, "the stack points into the function file");
    await page.screenshot({ path: new URL("dashboard.png", ARTIFACTS).pathname, fullPage: true });

    // Redrive: it runs again (and fails again, it always throws).
    await page.click('#jobs tbody[data-status="dead"] [data-action="redrive"]');
    await waitText(page, "#toast", /requeued/);
    await waitText(page, '[data-step="boom/boom"] [data-field="failed"]', "2");
    assert.equal(posts.filter((p) => /^\/jobs\/[^/]+\/retry$/.test(p)).length, 1);

    // The job's detail: instructions, error, timeline.
    await page.click('#jobs tbody[data-status="dead"] .job-row button.link.mono');
    await page.locator("#job-detail .detail").waitFor();
    const detail = (await page.locator("#job-detail").textContent()) ?? "";
    assert.match(detail, /"level": 7/);
    assert.match(detail, /RangeError: boom: the reactor overheated at level 7/);
    assert.match(detail, /dead · attempt 1/);
    await page.screenshot({ path: new URL("dashboard-job.png", ARTIFACTS).pathname });

    assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, "no reload happened");
    assert.deepEqual(errors, [], "no script errors on the page");
  });

  it("asks for the token when one is set, refuses a wrong one, and goes live with the right one (mario up --token)", async () => {
    const served = await up(["--token=letmein"]);
    const { page, errors } = await open(served.url);
    await page.locator("#token-dialog[open]").waitFor();
    await page.fill("#token-input", "wrong");
    await page.click('#token-form button[type="submit"]');
    await waitText(page, "#token-hint", /refused/);
    await page.fill("#token-input", "letmein");
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector('#conn[data-state="live"]');
    await waitText(page, '[data-step="relay/echo"] h4', "echo");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("mario.token")), "letmein");
    assert.deepEqual(errors, [], "no script errors on the page");
  });

  it("marks a worker whose heartbeats stopped as stale", async () => {
    const remote = (workerId: string, silentMs: number): WorkerInfo => ({
      workerId,
      jobType: "echo",
      address: "tcp://10.0.0.7:41000",
      capacity: 4,
      inFlight: 1,
      host: "worker-box",
      pid: 4242,
      lastSeen: Date.now() - silentMs,
    });
    const served = await serve({
      wrap: (cluster) => {
        const workers = cluster.workers.bind(cluster);
        cluster.workers = async () => [...(await workers()), remote("remote-fresh", 500), remote("remote-silent", 20_000)];
        return cluster;
      },
    });
    const { page, errors } = await open(served.url);
    await page.waitForSelector('#conn[data-state="live"]');
    await waitText(page, '#workers tr[data-worker="remote-silent"] .heartbeat', /^stale · \d+(\.\d)? s$/);
    assert.equal(await page.locator('#workers tr[data-worker="remote-silent"]').getAttribute("data-stale"), "");
    await waitText(page, '#workers tr[data-worker="remote-fresh"] .heartbeat', /^\d+ ms ago$|^\d\.\d s ago$/);
    assert.equal(await page.locator('#workers tr[data-worker="remote-fresh"]').getAttribute("data-stale"), null);
    await waitText(page, "#workers-count", "5 · 1 stale");
    await waitText(page, '[data-step="relay/echo"] [data-field="workers"]', "3 workers · 2/10");
    assert.deepEqual(errors, [], "no script errors on the page");
  });

  it("a closed page leaves no listener behind on the server", async () => {
    let live = 0;
    const served = await serve({
      wrap: (cluster) => {
        const events = cluster.events as unknown as { on: (event: string, listener: () => void) => () => void };
        const on = events.on.bind(events);
        events.on = (event, listener) => {
          live++;
          const off = on(event, listener);
          let removed = false;
          return () => {
            if (!removed) live--;
            removed = true;
            off();
          };
        };
        return cluster;
      },
    });
    const baseline = live;
    const { page } = await open(served.url);
    await page.waitForSelector('#conn[data-state="live"]');
    assert.ok(live > baseline, "the open page is subscribed");
    await page.close();
    await eventually(() => live === baseline, { message: `listeners left after the page closed: ${live - baseline}` });
  });
});
