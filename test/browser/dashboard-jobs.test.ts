/**
 * The dashboard's jobs, in real headless Chromium against `mario up` (functions in worker
 * threads): at 1280×800 the first screen shows the pipelines and the jobs table (one-step
 * functions folded into one table); a job with 3 attempts shows its history and its log lines
 * (console.* and ctx.logger); 120 dead jobs are paged through to the last, one is found by id
 * prefix, and a selection of 5 is redriven (each gets a new attempt in its history).
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
  const dir = mkdtempSync(join(tmpdir(), "mario-dashboard-jobs-"));
  mkdirSync(join(dir, "functions"));
  const write = (name: string, text: string): void => writeFileSync(join(dir, "functions", name), text);
  write(
    "flaky.mjs",
    `export const config = { retries: 2, backoff: { delayMs: 1, jitter: 0 } };
export default async function flaky(instructions, ctx) {
  console.log("flaky attempt " + ctx.attempt + " of " + ctx.jobId);
  ctx.logger.warn("attempt " + ctx.attempt + " checks the weather");
  if (ctx.attempt < 3) throw new Error("storm at attempt " + ctx.attempt);
  return { sunny: true };
}
`,
  );
  write("reject.mjs", `export const config = { retries: 3 };\nexport default async function reject() { throw Object.assign(new Error("rejected: bad input"), { retryable: false }); }\n`);
  for (const name of ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]) write(`${name}.mjs`, `export default async function (i) { return { ...i, ${name}: true }; }\n`);
  writeFileSync(join(dir, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { "alpha-bravo": ["alpha", "bravo"] } }));
  return dir;
}

describe("dashboard: finding and fixing jobs (Chromium)", () => {
  let browser: Browser | undefined;
  let served: Served | undefined;
  let dir = "";
  let page: Page;
  const errors: string[] = [];

  const api = async <T>(path: string, init?: RequestInit): Promise<T> => (await (await fetch(new URL(path, served!.url), init)).json()) as T;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = makeProject();
    served = await startMarioUp(dir, { timeoutMs: 60_000 });
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

  it("at 1280×800 the first screen shows the pipelines and the jobs table; single functions fold into one table", async () => {
    await page.waitForSelector('[data-step="alpha-bravo/alpha"]');
    const rows = await page.locator("table.singles-list tr.single").count();
    assert.equal(rows, 8, "every function alone is a row of one table");
    const box = async (selector: string) => (await page.locator(selector).first().boundingBox())!;
    assert.ok((await box('[data-pipeline="alpha-bravo"]')).y < 800, "the pipeline is on the first screen");
    assert.ok((await box("table.singles-list")).y < 800, "the functions are on the first screen");
    const jobs = await box("#jobs");
    assert.ok(jobs.y + 80 < 800, `the jobs table starts on the first screen (y=${jobs.y})`);
    await page.screenshot({ path: new URL("dashboard-jobs-first-screen.png", ARTIFACTS).pathname });
  });

  it("opens a job with 3 attempts and shows its history and its log lines", async () => {
    const job = await api<JobRecord>("pipelines/flaky/jobs?wait=20000", { method: "POST", headers: JSON_HEADERS, body: "{}" });
    assert.equal(job.status, "succeeded");
    const link = page.locator(`#jobs tbody[data-job="${job.id}"] .job-row button.link.mono`);
    await link.waitFor({ timeout: 10_000 });
    await link.click();
    await page.waitForSelector('#job-history tr[data-attempt="3"]');
    const outcomes = await page.locator("#job-history tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-outcome")));
    assert.deepEqual(outcomes, ["failed", "failed", "succeeded"]);
    assert.match((await page.locator('#job-history tr[data-attempt="1"]').textContent()) ?? "", /storm at attempt 1/);
    await page.waitForFunction(() => (document.querySelector("#job-logs")?.textContent ?? "").includes("attempt 3 checks the weather"));
    const logs = (await page.locator("#job-logs").textContent()) ?? "";
    for (const n of [1, 2, 3]) {
      assert.ok(logs.includes(`flaky attempt ${n} of ${job.id}`), `console.log of attempt ${n}`);
      assert.ok(logs.includes(`attempt ${n} checks the weather`), `ctx.logger of attempt ${n}`);
    }
    assert.equal(await page.locator('#job-logs .log-line[data-level="warn"]').count(), 3);
    await page.screenshot({ path: new URL("dashboard-jobs-attempts.png", ARTIFACTS).pathname });
    await page.keyboard.press("Escape");
  });

  it("pages through 120 dead jobs to the last, finds one by id prefix, redrives a selection of 5", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) ids.push((await api<{ id: string }>("pipelines/reject/jobs", { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ i }) })).id);
    await eventually(async () => (await api<{ jobs: unknown[]; next?: string }>("jobs?status=dead&pipeline=reject&limit=1000")).jobs.length === 120, { timeoutMs: 30_000, message: "120 jobs dead" });
    await page.click('[data-tab="dead"]');
    await page.waitForFunction(() => document.querySelector('[data-count="dead"]')?.textContent === "120").catch(async (error: unknown) => {
      throw new Error(`the Dead tab says ${JSON.stringify(await page.locator('[data-count="dead"]').textContent())}; page errors: ${errors.join(" / ")}; ${String(error)}`);
    });
    const seen = new Set<string>();
    for (let pageNo = 1; pageNo <= 10; pageNo++) {
      await page
        .waitForFunction((n) => document.querySelector("#jobs-range")?.getAttribute("data-page") === String(n) && document.querySelectorAll("#jobs tbody[data-job]").length > 0, pageNo, { timeout: 10_000 })
        .catch(async (error: unknown) => {
          const state = await page.evaluate(() => ({ page: document.querySelector("#jobs-range")?.getAttribute("data-page"), range: document.querySelector("#jobs-range")?.textContent, rows: document.querySelectorAll("#jobs tbody[data-job]").length, hint: document.querySelector("#jobs-hint")?.textContent }));
          throw new Error(`page ${pageNo} of the dead jobs did not show: ${JSON.stringify(state)} (${String(error)})`);
        });
      for (const id of await page.locator("#jobs tbody[data-job]").evaluateAll((els) => els.map((el) => el.getAttribute("data-job")!))) seen.add(id);
      if (await page.locator("#jobs-older").isDisabled()) break;
      await page.click("#jobs-older");
    }
    assert.equal(await page.locator("#jobs-range").textContent(), "101–120 of 120");
    assert.equal(seen.size, 120);
    assert.deepEqual([...seen].sort(), [...ids].sort(), "every dead job was reached");
    // Back to the first page, then a search by id prefix.
    const target = ids[57]!;
    await page.fill("#jobs-search", target.slice(0, 18));
    await page.waitForFunction((id) => {
      const rows = document.querySelectorAll("#jobs tbody[data-job]");
      return rows.length === 1 && rows[0]!.getAttribute("data-job") === id;
    }, target);
    await page.fill("#jobs-search", "");
    await page.waitForFunction(() => document.querySelectorAll("#jobs tbody[data-job]").length === 25);
    // Select 5 and redrive them.
    const chosen = await page.locator("#jobs tbody[data-job]").evaluateAll((els) => els.slice(0, 5).map((el) => el.getAttribute("data-job")!));
    for (const id of chosen) await page.check(`#jobs input[data-pick="${id}"]`);
    await page.waitForFunction(() => document.querySelector("#jobs-selected")?.textContent === "5 selected");
    await page.click("#bulk-redrive");
    await page.waitForFunction(() => document.querySelector("#toast")?.textContent === "5 jobs redriven");
    for (const id of chosen) {
      await eventually(async () => (await api<JobRecord>(`jobs/${id}`)).history?.length === 2, { timeoutMs: 10_000, message: `job ${id} ran again` });
    }
    const untouched = ids.find((id) => !chosen.includes(id))!;
    assert.equal((await api<JobRecord>(`jobs/${untouched}`)).history?.length, 1);
    await page.screenshot({ path: new URL("dashboard-jobs-dead.png", ARTIFACTS).pathname });
    assert.deepEqual(errors, [], "no script errors on the page");
  });

  it("shows delayed jobs in their tab, counted, each with its due time and priority (#17)", async () => {
    const runAt = new Date(Date.now() + 3 * 3_600_000);
    const ids: string[] = [];
    for (const query of ["delay=3600000&priority=5", "delay=7200000", `runAt=${encodeURIComponent(runAt.toISOString())}`]) {
      ids.push((await api<{ id: string; status: string }>(`pipelines/alpha/jobs?${query}`, { method: "POST", headers: JSON_HEADERS, body: "{}" })).id);
    }
    await page.click('[data-tab="delayed"]');
    await page.waitForFunction(() => document.querySelector('[data-count="delayed"]')?.textContent === "3");
    await page.waitForFunction(() => document.querySelectorAll('#jobs tbody[data-status="delayed"]').length === 3);
    const rows = await page.locator("#jobs tbody[data-job]").evaluateAll((els) => els.map((el) => ({ id: el.getAttribute("data-job")!, text: el.textContent ?? "", due: el.querySelector("[data-due]")?.getAttribute("data-due") })));
    assert.deepEqual(rows.map((r) => r.id).sort(), [...ids].sort(), "only the delayed jobs in the Delayed tab");
    for (const row of rows) {
      const job = await api<JobRecord>(`jobs/${row.id}`);
      assert.equal(row.due, String(job.runAt), "the row carries the job's due time");
      assert.match(row.text, /starts in/);
      assert.ok(row.text.includes(new Date(job.runAt!).toISOString().replace(".000Z", "Z")), `the due time is shown: ${row.text}`);
    }
    assert.match(rows.find((r) => r.id === ids[0])!.text, /p5/, "its priority is shown");
    await page.locator(`#jobs tbody[data-job="${ids[0]}"] .job-row button.link.mono`).click();
    await page.waitForFunction(() => [...document.querySelectorAll(".detail dt")].some((dt) => dt.textContent === "starts"));
    const facts = await page.locator(".detail dl.facts").textContent();
    assert.match(facts ?? "", /starts.*delayed: not before then/);
    assert.match(facts ?? "", /priority5 \(0 to 9/);
    await page.keyboard.press("Escape");
    assert.deepEqual(errors, [], "no script errors on the page");
  });
});
