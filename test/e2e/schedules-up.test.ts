/**
 * Cron schedules under `mario up` (memory storage) and at start of `mario up` / `mario pipeline`:
 * a function file's `export const schedule` enqueues its one-step pipeline every second, seen
 * through `GET /schedules` (last job, its status) and `GET /jobs`; a bad cron expression, an
 * unknown pipeline or time zone fails at start with one line naming the schedule (exit 2, no
 * stack). Real processes on free ports; waits poll HTTP, bounded.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, runMario } from "../support/processes.ts";

function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "mario-schedules-up-"));
  mkdirSync(join(root, "functions"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  return root;
}

interface ScheduleView {
  name: string;
  pipeline: string;
  cron: string;
  timezone: string;
  nextRun: string | null;
  lastRun: string | null;
  lastJobId: string | null;
  lastJobStatus: string | null;
}

describe("cron schedules under mario up, and refused at start", () => {
  const procs = new MarioProcesses();
  const roots: string[] = [];
  after(async () => {
    await procs.stopAll();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  it("export const schedule in a function file enqueues its one-step pipeline each tick; GET /schedules shows the last job", async () => {
    const root = project({ "functions/heartbeat.mjs": 'export const schedule = { cron: "* * * * * *", instructions: { beat: true } };\nexport default async function (i) { return { ...i, done: true }; }\n' });
    roots.push(root);
    const up = procs.start(["up", "--port=0", "--host=127.0.0.1", join(root, "functions")]);
    const line = await up.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
    assert.match(up.stdout, /^schedules: heartbeat \(\* \* \* \* \* \*\) → heartbeat$/m);
    let view: ScheduleView | undefined;
    await eventually(async () => {
      view = ((await (await fetch(`${url}schedules`)).json()) as { schedules: ScheduleView[] }).schedules[0];
      return view?.lastJobStatus === "succeeded";
    }, { timeoutMs: 15_000, intervalMs: 200, message: "a scheduled job ran to the end" });
    assert.deepEqual([view?.name, view?.pipeline, view?.cron, view?.timezone], ["heartbeat", "heartbeat", "* * * * * *", "UTC"]);
    const job = (await (await fetch(`${url}jobs/${view!.lastJobId}`)).json()) as { idempotencyKey: string; result: unknown };
    assert.equal(job.idempotencyKey, `schedule:heartbeat:${Date.parse(view!.lastRun!)}`);
    assert.deepEqual(job.result, { beat: true, done: true });
    const page = (await (await fetch(`${url}jobs?pipeline=heartbeat`)).json()) as { jobs: { idempotencyKey?: string }[] };
    const keys = page.jobs.map((j) => j.idempotencyKey);
    assert.equal(new Set(keys).size, keys.length, "one job per tick");
    assert.deepEqual(await up.stop(), { code: 0, signal: null }, "SIGTERM stops the timers and exits 0");
  });

  it("a bad cron expression, unknown pipeline or time zone fails mario up and mario pipeline at start: one line naming the schedule", async () => {
    const config = (schedules: unknown): string => JSON.stringify({ functions: "functions", pipelines: { p: ["noop"] }, schedules });
    const cases: [unknown, RegExp][] = [
      [{ nightly: { cron: "0 25 * * *", pipeline: "p" } }, /schedule "nightly": bad cron expression "0 25 \* \* \*": .*hour/],
      [{ nightly: { cron: "* * * * * * *", pipeline: "p" } }, /schedule "nightly": bad cron expression .* got 7 field\(s\)/],
      [{ nightly: { cron: "0 3 * * *", pipeline: "missing" } }, /schedule "nightly": unknown pipeline "missing"; pipelines: noop, p/],
      [{ nightly: { cron: "0 3 * * *", pipeline: "p", timezone: "Europe/Atlantis" } }, /schedule "nightly": unknown time zone "Europe\/Atlantis"/],
    ];
    const [sub, pull] = (await freePorts(2)).map((p) => `tcp://127.0.0.1:${p}`);
    for (const [schedules, expected] of cases) {
      const root = project({ "mario.config.json": config(schedules), "functions/noop.mjs": "export default (i) => i;\n" });
      roots.push(root);
      for (const args of [["up", "--port=0", root], ["pipeline", join(root, "mario.config.json"), `--sub-bind=${sub}`, `--job-pull-bind=${pull}`]]) {
        const run = await runMario(args, { timeoutMs: 60_000 });
        assert.equal(run.code, 2, `mario ${args[0]} exits 2: ${run.stderr}`);
        const lines = run.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `one line: ${run.stderr}`);
        assert.match(lines[0]!, new RegExp(`^mario ${args[0]}: \\S*mario\\.config\\.json: ${expected.source}`));
        assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
      }
    }
    const badExport = project({ "functions/tick.mjs": 'export const schedule = "every minute";\nexport default (i) => i;\n' });
    roots.push(badExport);
    const run = await runMario(["up", "--port=0", join(badExport, "functions")], { timeoutMs: 60_000 });
    assert.equal(run.code, 2);
    assert.match(run.stderr.trim(), /^mario up: .*tick\.mjs: schedule "tick": bad cron expression "every minute": 5 fields .* got 2 field\(s\)$/);
  });
});
