/**
 * Cron schedules across real `mario pipeline` processes on one real redis-server:
 * - exactly once: an every-second schedule run by two servers for 5 s gives 5 jobs (±1 at the
 *   edges), never 2 for one tick (the jobs grouped by their idempotency key's tick);
 * - `GET /schedules` through `mario gateway --redis` (no project: definitions come from storage);
 * - the missed-tick policy: every server down over several ticks, then two servers start together:
 *   no job for the ticks missed but the last, exactly one job for that one (a "missed" run), then
 *   the regular ticks go on.
 * No host runs: the jobs stay queued, which is all a tick has to do. Waits poll storage, bounded.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { RedisStorageBackend } from "../../src/storage/redis/redis-storage-backend.ts";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, type MarioProcess } from "../support/processes.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const PIPELINE = "beat";

/** The tick of a schedule's job, from its idempotency key `schedule:<name>:<tick>`. */
function tickOf(job: JobRecord): number {
  const match = /^schedule:every-second:(\d+)$/.exec(job.idempotencyKey ?? "");
  assert.ok(match !== null, `job ${job.id} has a schedule key: ${job.idempotencyKey}`);
  return Number(match[1]);
}

/** Jobs by tick; fails if any tick has two. */
function byTick(jobs: readonly JobRecord[]): Map<number, JobRecord> {
  const ticks = new Map<number, JobRecord[]>();
  for (const job of jobs) ticks.set(tickOf(job), [...(ticks.get(tickOf(job)) ?? []), job]);
  const doubled = [...ticks].filter(([, list]) => list.length > 1).map(([tick]) => new Date(tick).toISOString());
  assert.deepEqual(doubled, [], "never two jobs for one tick");
  return new Map([...ticks].map(([tick, [job]]) => [tick, job!]));
}

describe("cron schedules on two mario pipeline servers sharing one Redis", () => {
  const procs = new MarioProcesses();
  let redis: RedisServer | undefined;
  let root = "";
  const storages: RedisStorageBackend[] = [];

  const storageOf = async (namespace: string): Promise<RedisStorageBackend> => {
    const storage = new RedisStorageBackend(namespace, { redisUri: redis!.url });
    storages.push(storage);
    await storage.connect();
    await storage.initialize([{ name: PIPELINE, steps: ["noop"] }]);
    return storage;
  };
  const jobsOf = async (storage: RedisStorageBackend): Promise<JobRecord[]> => storage.listJobs({ pipeline: PIPELINE, limit: 1000 });
  const startServers = async (namespace: string, count = 2): Promise<MarioProcess[]> => {
    const ports = await freePorts(2 * count);
    const servers = Array.from({ length: count }, (_, i) =>
      procs.start(["pipeline", join(root, "mario.config.json"), `--sub-bind=tcp://127.0.0.1:${ports[2 * i]}`, `--job-pull-bind=tcp://127.0.0.1:${ports[2 * i + 1]}`, `--redis=${redis!.url}`, `--namespace=${namespace}`, "--drain-ms=0"]),
    );
    await Promise.all(servers.map((s) => s.waitForLine(/pipeline server registered/, 30_000)));
    return servers;
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "mario-schedules-"));
    mkdirSync(join(root, "functions"));
    writeFileSync(join(root, "functions", "noop.mjs"), "export default async function (i) { return i; }\n");
    writeFileSync(join(root, "mario.config.json"), JSON.stringify({
      functions: "functions",
      pipelines: { [PIPELINE]: ["noop"] },
      schedules: { "every-second": { cron: "* * * * * *", pipeline: PIPELINE, instructions: { from: "cron" } } },
    }));
    redis = await startRedis();
  });
  after(async () => {
    await procs.stopAll();
    for (const storage of storages) await storage.close();
    await redis?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it("an every-second schedule on two servers for 5 s: 5 jobs ±1, one per tick; GET /schedules through mario gateway --redis", async () => {
    const storage = await storageOf("exactly-once");
    const servers = await startServers("exactly-once");
    // The window: 5 whole seconds starting at the next second after both servers run.
    const from = Math.ceil((Date.now() + 1) / 1000) * 1000;
    const to = from + 5000;
    // Wait (bounded) until the tick after the window has its job: every tick of the window had its turn.
    await eventually(async () => (await jobsOf(storage)).some((j) => tickOf(j) >= to), { timeoutMs: 20_000, intervalMs: 200, message: "the ticks after the window" });
    const all = byTick(await jobsOf(storage));
    const inWindow = [...all.keys()].filter((t) => t >= from && t < to);
    console.log(`two servers, 5 s window: ${inWindow.length} jobs (${all.size} in all, ticks ${[...all.keys()].map((t) => new Date(t).toISOString().slice(17, 19)).join(" ")})`);
    assert.ok(inWindow.length >= 4 && inWindow.length <= 6, `5 ± 1 jobs in the window, got ${inWindow.length}`);
    assert.ok([...all.keys()].every((t) => t % 1000 === 0), "ticks on whole seconds");
    assert.deepEqual([...all.values()].map((j) => j.instructions).filter((i) => JSON.stringify(i) !== '{"from":"cron"}'), [], "each job has the schedule's instructions");

    const gateway = procs.start(["gateway", `--redis=${redis!.url}`, "--port=0", "--host=127.0.0.1"]);
    const line = await gateway.waitForLine(/mario gateway on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
    let listed: { schedules: Record<string, unknown>[] } = { schedules: [] };
    await eventually(async () => {
      const res = await fetch(`${url}schedules`);
      listed = (await res.json()) as typeof listed;
      return res.status === 200 && listed.schedules.length > 0 && listed.schedules[0]!.lastJobId !== null;
    }, { timeoutMs: 10_000, intervalMs: 200, message: "GET /schedules lists the schedule with its last job" });
    const [entry] = listed.schedules;
    assert.deepEqual([entry?.name, entry?.pipeline, entry?.cron, entry?.timezone, entry?.lastJobStatus], ["every-second", PIPELINE, "* * * * * *", "UTC", "queued"]);
    assert.ok(Date.parse(String(entry?.nextRun)) > Date.parse(String(entry?.lastRun)), "next run after the last");
    const job = (await (await fetch(`${url}jobs/${String(entry?.lastJobId)}`)).json()) as JobRecord;
    assert.equal(job.idempotencyKey, `schedule:every-second:${Date.parse(String(entry?.lastRun))}`, "the last job is the last run's");
    assert.equal((await fetch(`${url}schedules?cron=1`)).status, 400);
    assert.equal((await fetch(`${url}schedules`, { method: "DELETE" })).status, 405);
    await gateway.stop();
    for (const server of servers) assert.deepEqual(await server.stop(), { code: 0, signal: null }, "SIGTERM clears the timers and exits 0");
  });

  it("missed ticks: every server down over several ticks, then two start together: one job for the last missed tick, then the regular ticks", async () => {
    const storage = await storageOf("missed");
    const [first] = await startServers("missed", 1);
    await eventually(async () => (await jobsOf(storage)).length >= 2, { timeoutMs: 15_000, intervalMs: 100, message: "two ticks before the stop" });
    await first!.stop();
    const before = byTick(await jobsOf(storage));
    const last = Math.max(...before.keys());
    const [state] = await storage.schedules.list([PIPELINE]);
    assert.equal(state?.lastTick, last, "the last tick is recorded in storage");
    // Every server is down: time passes over several ticks (this is the condition under test, not a wait for an event).
    await delay(Math.max(0, last + 4500 - Date.now()));
    const restartAt = Date.now();
    const servers = await startServers("missed");
    await eventually(async () => (await jobsOf(storage)).filter((j) => tickOf(j) > last).length >= 3, { timeoutMs: 15_000, intervalMs: 100, message: "a catch-up and two regular ticks" });
    const ticks = [...byTick(await jobsOf(storage)).keys()].filter((t) => t > last).sort((a, b) => a - b);
    const missed = ticks.filter((t) => t <= restartAt - 1000);
    assert.deepEqual(missed.map((t) => new Date(t).toISOString()), [], "no job for the ticks missed before the last one");
    const earliest = ticks[0]!;
    assert.ok(earliest - last >= 4000, `several ticks were missed (${(earliest - last) / 1000 - 1}) and got no job`);
    assert.ok(earliest <= Date.now(), "the catch-up tick is one that was due");
    const created = servers.flatMap((s) => s.stderr.split("\n").filter((l) => l.includes("enqueued a job")).map((l) => JSON.parse(l) as { kind: string; tick: string }));
    // Then the regular ticks, one job each (byTick). A timer that fired more than a tick late (a
    // loaded machine) runs only the latest tick due, once, as kind "late": a gap is allowed only
    // before such a run.
    for (const [i, tick] of ticks.slice(1, 3).entries()) {
      const gap = tick - ticks[i]!;
      if (gap !== 1000) assert.ok(created.some((c) => Date.parse(c.tick) === tick && c.kind === "late"), `tick ${new Date(tick).toISOString()} came ${gap} ms after the one before it and was not a late run: ${JSON.stringify(created)}`);
    }
    const catchUps = created.filter((c) => c.kind === "missed");
    assert.equal(catchUps.filter((c) => Date.parse(c.tick) === earliest).length, 1, `the earliest tick after the gap was a missed-tick run: ${JSON.stringify(created.slice(0, 4))}`);
    console.log(`missed ticks: last before the stop ${new Date(last).toISOString()}, restart ${new Date(restartAt).toISOString()}, catch-up ${new Date(earliest).toISOString()}, ${missed.length} jobs for the ticks in between`);
    for (const server of servers) await server.stop();
  });
});
