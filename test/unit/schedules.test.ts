/**
 * Cron schedules in process (memory storage, real timers): each tick enqueues one job through the
 * dispatcher with the key schedule:<name>:<tick>, the missed-tick policy at start, the checks of
 * a project's schedules at load (one line naming the schedule), and GET /schedules through the
 * gateway app (shape, 405, unknown query 400, token).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { loadProject } from "../../src/config/load-project.ts";
import { lastDueTick, nextTick, scheduleKey, checkSchedule, type ScheduleDefinition } from "../../src/core/schedule.ts";
import { defineStep } from "../../src/dsl/define.ts";
import { DispatcherCluster } from "../../src/engine/dispatcher-cluster.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { createGatewayApp } from "../../src/gateway/gateway-app.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import type { JobRecord } from "../../src/core/job.ts";
import { eventually } from "../support/eventually.ts";
import { StorageUnavailableError } from "../../src/core/errors/storage-unavailable-error.ts";

const EVERY_SECOND: ScheduleDefinition = { name: "tick", cron: "* * * * * *", pipeline: "noop", instructions: { from: "schedule" } };

/** The next `n` jobs the runner accepts. */
function accepted(runner: LocalRunner, n: number, timeoutMs = 10_000): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${jobs.length} of ${n} jobs accepted within ${timeoutMs} ms`)), timeoutMs);
    const off = runner.dispatcher.events.on("job:accepted", (job) => {
      jobs.push(job);
      if (jobs.length < n) return;
      clearTimeout(timer);
      off();
      resolve(jobs);
    });
  });
}

function runnerWith(storage: MemoryStorageBackend, schedules: ScheduleDefinition[]): LocalRunner {
  return new LocalRunner({ pipelines: [], steps: [defineStep("noop", (i) => i)], storage, schedules });
}

describe("schedules in process", () => {
  it("computes ticks with croner: 6 fields with seconds, 5 fields, a time zone", () => {
    const s = checkSchedule({ ...EVERY_SECOND });
    assert.equal(nextTick(s, 10_500), 11_000);
    assert.equal(lastDueTick(s, 10_500), 10_000);
    assert.equal(lastDueTick(s, 10_000), 10_000, "a tick exactly now is due");
    const paris = checkSchedule({ name: "p", cron: "0 3 * * *", timezone: "Europe/Paris", pipeline: "x", instructions: {} });
    assert.equal(new Date(nextTick(paris, Date.UTC(2026, 0, 10, 12))!).toISOString(), "2026-01-11T02:00:00.000Z", "03:00 in Paris is 02:00 UTC in winter");
    assert.equal(scheduleKey("nightly", 1_000), "schedule:nightly:1000");
  });

  it("each tick enqueues one job keyed schedule:<name>:<tick> and records it in storage", async () => {
    const storage = new MemoryStorageBackend();
    const runner = runnerWith(storage, [EVERY_SECOND]);
    after(() => runner.stop(1000));
    const first = accepted(runner, 2);
    await runner.start();
    const jobs = await first;
    const ticks = jobs.map((j) => Number(/^schedule:tick:(\d+)$/.exec(j.idempotencyKey ?? "")?.[1]));
    assert.ok(ticks.every((t) => t % 1000 === 0), `ticks on whole seconds: ${ticks.join(", ")}`);
    assert.equal(ticks[1]! - ticks[0]!, 1000, "consecutive ticks");
    assert.deepEqual(jobs.map((j) => [j.pipeline, j.instructions]), [["noop", { from: "schedule" }], ["noop", { from: "schedule" }]]);
    // Recorded once the enqueue answered (after the job:accepted event).
    await eventually(async () => ((await storage.schedules.list(["noop"]))[0]?.lastTick ?? 0) >= ticks[1]!, { message: "the tick recorded in storage" });
    const views = await new DispatcherCluster(runner.dispatcher).schedules();
    assert.equal(views.length, 1);
    assert.equal(views[0]!.name, "tick");
    assert.match(views[0]!.nextRun ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
  });

  it("missed ticks: a schedule last ticked long ago runs the last tick due once at start, then the next ticks", async () => {
    const storage = new MemoryStorageBackend();
    const started = Date.now();
    // Declared and ticked 10 s ago; then every server was down.
    await storage.schedules.declare("noop", [{ name: "tick", cron: EVERY_SECOND.cron }], started - 10_000);
    await storage.schedules.recordTick("noop", "tick", Math.floor(started / 1000) * 1000 - 10_000, "old-job");
    const runner = runnerWith(storage, [EVERY_SECOND]);
    after(() => runner.stop(1000));
    const firstTwo = accepted(runner, 2);
    await runner.start();
    const [catchUp, regular] = await firstTwo;
    const tickOf = (job: JobRecord | undefined): number => Number(job?.idempotencyKey?.split(":")[2]);
    assert.ok(tickOf(catchUp) >= started - 1000 && tickOf(catchUp) <= Date.now(), "the catch-up is the last tick due at start, not one of the 9 before it");
    assert.equal(tickOf(regular) - tickOf(catchUp), 1000, "then the regular ticks");
    const noop = await storage.getStats("noop");
    assert.ok(noop.accepted <= 3, `no burst of missed ticks: ${noop.accepted} jobs`);
  });

  it("a storage error never crashes the process: the tick is logged and counted, the next tick runs", async () => {
    class FlakyStorage extends MemoryStorageBackend {
      down = true;
      override async enqueueJobs(requests: Parameters<MemoryStorageBackend["enqueueJobs"]>[0]) {
        if (this.down) throw new StorageUnavailableError("connection refused (test)");
        return super.enqueueJobs(requests);
      }
    }
    const storage = new FlakyStorage();
    const runner = runnerWith(storage, [EVERY_SECOND]);
    after(() => runner.stop(1000));
    await runner.start();
    const cluster = new DispatcherCluster(runner.dispatcher);
    await eventually(async () => ((await cluster.schedules())[0]?.failures ?? 0) >= 1, { timeoutMs: 5000, message: "a failed tick counted" });
    const failedAt = Date.now();
    assert.equal((await storage.getStats("noop")).accepted, 0);
    storage.down = false;
    const [job] = await accepted(runner, 1);
    assert.ok(Number(job?.idempotencyKey?.split(":")[2]) >= failedAt - 1000, "a later tick made its job");
  });

  it("a schedule never seen before starts with its next tick (no catch-up)", async () => {
    const storage = new MemoryStorageBackend();
    const hourly: ScheduleDefinition = { name: "hourly", cron: "0 * * * *", pipeline: "noop", instructions: {} };
    const runner = runnerWith(storage, [hourly]);
    after(() => runner.stop(1000));
    await runner.start();
    const [state] = await storage.schedules.list(["noop"]);
    assert.equal(state?.lastTick, undefined);
    assert.equal((await storage.getStats("noop")).accepted, 0, "the tick of the last full hour is not run");
  });
});

describe("GET /schedules on the gateway app", () => {
  it("lists the schedules; 405 on POST, 400 on an unknown query, 401 without the token", async () => {
    const storage = new MemoryStorageBackend();
    const hourly: ScheduleDefinition = { name: "hourly", cron: "0 * * * *", timezone: "Europe/Paris", pipeline: "noop", instructions: {} };
    const runner = runnerWith(storage, [hourly]);
    after(() => runner.stop(1000));
    await runner.start();
    const app = createGatewayApp(new DispatcherCluster(runner.dispatcher), { token: "s3cret" });
    const auth = { authorization: "Bearer s3cret" };
    const res = await app.request("/schedules", { headers: auth });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { schedules: Record<string, unknown>[] };
    assert.deepEqual(body.schedules.map(({ nextRun, ...rest }) => ({ ...rest, nextRun: typeof nextRun })), [
      { name: "hourly", pipeline: "noop", cron: "0 * * * *", timezone: "Europe/Paris", nextRun: "string", lastRun: null, lastJobId: null, lastJobStatus: null, failures: 0 },
    ]);
    assert.equal((await app.request("/schedules", { method: "POST", headers: auth })).status, 405);
    assert.equal((await app.request("/schedules?x=1", { headers: auth })).status, 400);
    assert.equal((await app.request("/schedules")).status, 401);
    const doc = (await (await app.request("/openapi.json")).json()) as { paths: Record<string, unknown> };
    assert.ok("/schedules" in doc.paths, "in /openapi.json");
  });
});

describe("a project's schedules, checked at load", () => {
  const projects: TempProject[] = [];
  after(async () => {
    for (const p of projects) await p.cleanup();
  });
  const projectWith = async (schedules: unknown, fnText = "export default (i) => i;\n"): Promise<TempProject> => {
    const project = await tempProject({ files: { "noop.mjs": fnText } });
    projects.push(project);
    await project.write("../mario.config.json", JSON.stringify({ functions: "functions", pipelines: { both: ["noop", "noop"] }, schedules }));
    return project;
  };
  const failure = async (project: TempProject): Promise<string> => {
    try {
      await loadProject(project.root);
    } catch (error) {
      return (error as Error).message;
    }
    return "loaded";
  };

  it("reads mario.config schedules and a function file's export const schedule", async () => {
    const project = await projectWith({ nightly: { cron: "0 3 * * *", pipeline: "both", instructions: { n: 1 }, timezone: "Europe/Paris" } }, 'export const schedule = { cron: "*/10 * * * * *", instructions: { n: 2 } };\nexport default (i) => i;\n');
    const loaded = await loadProject(project.root);
    assert.deepEqual(loaded.schedules, [
      { name: "nightly", cron: "0 3 * * *", timezone: "Europe/Paris", pipeline: "both", instructions: { n: 1 } },
      { name: "noop", cron: "*/10 * * * * *", timezone: undefined, pipeline: "noop", instructions: { n: 2 } },
    ]);
  });

  it("refuses, in one line naming the schedule: a bad cron, an unknown pipeline, a bad time zone, bad instructions", async () => {
    const cases: [unknown, RegExp][] = [
      [{ s1: { cron: "61 * * * *", pipeline: "both" } }, /mario\.config\.json: schedule "s1": bad cron expression "61 \* \* \* \*": .*minute/],
      [{ s2: { cron: "* * *", pipeline: "both" } }, /mario\.config\.json: schedule "s2": bad cron expression "\* \* \*": 5 fields .* or 6 with seconds first, got 3 field\(s\)$/],
      [{ s3: { cron: "* * * * *", pipeline: "nope" } }, /mario\.config\.json: schedule "s3": unknown pipeline "nope"; pipelines: both, noop$/],
      [{ s4: { cron: "* * * * *", pipeline: "both", timezone: "Mars/Olympus" } }, /schedule "s4": unknown time zone "Mars\/Olympus"/],
      [{ s5: { cron: "* * * * *", pipeline: "both", instructions: [1, 2] } }, /schedule "s5": instructions must be a JSON object$/],
    ];
    for (const [schedules, expected] of cases) {
      const message = await failure(await projectWith(schedules));
      assert.match(message, expected);
      assert.equal(message.includes("\n"), false, "one line");
    }
    const badExport = await projectWith({}, 'export const schedule = "every day";\nexport default (i) => i;\n');
    assert.match(await failure(badExport), /noop\.mjs: schedule "noop": bad cron expression "every day"/);
  });
});
