/**
 * Two `mario pipeline mario.config.json --redis` servers (every pipeline of the project, no name
 * given) on one redis-server, one `mario host` announcing to both, and `mario gateway --redis`
 * with no `--job-push`: the gateway finds both servers in Redis. Under steady HTTP load:
 * SIGKILL of one server gives no client error and loses no job; a rolling SIGTERM restart of each
 * in turn gives no client error. Real processes, real sockets, loopback only.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, type MarioProcess } from "../support/processes.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const JSON_HEADERS = { "content-type": "application/json" };

interface Load {
  /** Resolves once every lane has had its last answer (after `total` requests, or `stop()`). */
  done: Promise<void>;
  /** Sends no new request; those in flight are still answered. */
  stop: () => void;
  statuses: number[];
  ids: string[];
}

/**
 * Up to `total` POSTs, `parallel` at a time, each answered before the next of its lane goes.
 * `stop()` ends it early: a test that restarts servers does not know how many requests the
 * restarts take, so it stops the load once it has seen enough answers after the last one.
 */
function steadyLoad(url: string, pipeline: string, total: number, parallel: number): Load {
  const statuses: number[] = [];
  const ids: string[] = [];
  let sent = 0;
  let limit = total;
  const lane = async (): Promise<void> => {
    while (sent < limit) {
      const n = sent++;
      const res = await fetch(`${url}pipelines/${pipeline}/jobs`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ n }) });
      statuses.push(res.status);
      const body = (await res.json()) as { id?: string };
      if (body.id !== undefined) ids.push(body.id);
    }
  };
  const stop = (): void => {
    limit = Math.min(limit, sent);
  };
  return { done: Promise.all(Array.from({ length: parallel }, lane)).then(() => undefined), stop, statuses, ids };
}

/**
 * Every enqueue accepted: 202, or 200 for a request sent again to a second server after the
 * first took it in and the job finished before the second answered (the same job, by its key).
 */
function assertAccepted(statuses: readonly number[]): void {
  const errors = statuses.filter((s) => s !== 202 && s !== 200);
  assert.deepEqual(errors, [], "every enqueue answered 202 (or 200: already finished)");
}

describe("mario gateway --redis finds the pipeline servers; failover between two of them", () => {
  const procs = new MarioProcesses();
  let redis: RedisServer | undefined;
  let admin: Redis | undefined;
  let root = "";
  let url = "";
  const servers: { sub: string; pull: string; proc?: MarioProcess }[] = [];

  const startServer = async (i: number): Promise<MarioProcess> => {
    const s = servers[i]!;
    s.proc = procs.start(["pipeline", join(root, "mario.config.json"), `--sub-bind=${s.sub}`, `--job-pull-bind=${s.pull}`, `--redis=${redis!.url}`, "--drain-ms=1200"]);
    await s.proc.waitForLine(/pipeline server registered/, 30_000);
    return s.proc;
  };
  const stats = async (): Promise<{ accepted: number; succeeded: number; dead: number }> => {
    const c = await admin!.hgetall("mario:mario:{twice}:counters");
    return { accepted: Number(c.accepted ?? 0), succeeded: Number(c.succeeded ?? 0), dead: Number(c.dead ?? 0) };
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "mario-discovery-"));
    mkdirSync(join(root, "functions"));
    writeFileSync(join(root, "functions", "double.mjs"), "export default async function ({ n }) { return { n: Number(n) * 2 }; }\n");
    writeFileSync(join(root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { twice: ["double", "double"] } }));
    redis = await startRedis();
    admin = new Redis(redis.url);
    const ports = await freePorts(4);
    for (let i = 0; i < 2; i++) servers.push({ sub: `tcp://127.0.0.1:${ports[2 * i]}`, pull: `tcp://127.0.0.1:${ports[2 * i + 1]}` });
    await Promise.all([startServer(0), startServer(1)]);
    const host = procs.start(["host", join(root, "functions"), ...servers.map((s) => `--sub-connect=${s.sub}`), "--heartbeat-ms=200", "--concurrency=16"]);
    await host.waitForLine(/mario host: serving 1 function\(s\)/, 30_000);
    const gateway = procs.start(["gateway", `--redis=${redis.url}`, "--port=0", "--host=127.0.0.1"]);
    const line = await gateway.waitForLine(/mario gateway on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
    assert.match(gateway.stdout, /pipeline servers found in Redis: 2; pipelines: twice, double\n/);
  });
  after(async () => {
    await procs.stopAll();
    admin?.disconnect();
    await redis?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it("serves every pipeline of the project from one mario pipeline per server (no name given)", async () => {
    for (const [pipeline, expected] of [["twice", 12], ["double", 6]] as const) {
      const res = await fetch(`${url}pipelines/${pipeline}/jobs?wait=20000`, { method: "POST", headers: JSON_HEADERS, body: '{"n": 3}' });
      assert.equal(res.status, 200);
      const job = (await res.json()) as { status: string; result: { n: number } };
      assert.equal(job.status, "succeeded");
      assert.equal(job.result.n, expected);
    }
    assert.equal((await fetch(`${url}ready`)).status, 200);
  });

  it("PipelineClient given the Redis URL finds the servers: enqueue, wait, run, unknown pipeline refused", async () => {
    const client = new PipelineClient(redis!.url);
    await client.connect();
    try {
      const results = await Promise.all(Array.from({ length: 20 }, async (_, n) => {
        const [ok, job] = await client.enqueueJob({ name: "twice", instructions: { n } });
        assert.equal(ok, true);
        return client.waitFor((job as { id: string }).id, { timeoutMs: 20_000 });
      }));
      assert.deepEqual(results.map((j) => (j.result as { n: number }).n), Array.from({ length: 20 }, (_, n) => 4 * n));
      // Enqueue and wait as one request, on a server the client found.
      const runs = await Promise.all(Array.from({ length: 10 }, (_, n) => client.run({ name: "twice", instructions: { n }, timeoutMs: 20_000 })));
      assert.deepEqual(runs.map((j) => [j.status, (j.result as { n: number }).n]), Array.from({ length: 10 }, (_, n) => ["succeeded", 4 * n]));
      const [ok, error] = await client.enqueueJob({ name: "nope", instructions: {} });
      assert.equal(ok, false);
      assert.equal((error as { code: string }).code, "UNKNOWN_PIPELINE");
      assert.match((error as { message: string }).message, /twice/);
    } finally {
      client.close();
    }
  });

  it("SIGKILL of one server under steady load: no client error, no job lost", async () => {
    const before = await stats();
    const load = steadyLoad(url, "twice", 600, 8);
    await eventually(() => load.statuses.length >= 150, { timeoutMs: 30_000, message: "load did not get going" });
    assert.equal((await servers[0]!.proc!.kill()).signal, "SIGKILL");
    await load.done;
    assertAccepted(load.statuses);
    assert.equal(new Set(load.ids).size, 600, "600 distinct jobs");
    // Jobs leased by the killed server run again once their lease expires (timeout + 10 s).
    await eventually(async () => (await stats()).succeeded - before.succeeded === 600, { timeoutMs: 60_000, intervalMs: 200, message: "not every job succeeded" });
    const after = await stats();
    assert.equal(after.accepted - before.accepted, 600, "each job accepted once");
    assert.equal(after.dead, before.dead);
  });

  it("rolling SIGTERM restart of each server in turn under steady load: no client error", async () => {
    await startServer(0);
    const before = await stats();
    // Bounded, but far more than the restarts take: stopped once 100 answers came after the last.
    const load = steadyLoad(url, "twice", 20_000, 8);
    const hundredMore = async (): Promise<void> => {
      const at = load.statuses.length;
      await eventually(() => load.statuses.length >= at + 100, { timeoutMs: 30_000, message: `load stalled at ${at} answers` });
    };
    for (const i of [0, 1]) {
      await hundredMore();
      assert.deepEqual(await servers[i]!.proc!.stop(), { code: 0, signal: null });
      await startServer(i);
    }
    await hundredMore();
    load.stop();
    await load.done;
    const total = load.statuses.length;
    assert.ok(total < 20_000, "the load was stopped, not run out");
    assertAccepted(load.statuses);
    assert.equal(new Set(load.ids).size, total, `${total} distinct jobs`);
    await eventually(async () => (await stats()).succeeded - before.succeeded === total, { timeoutMs: 60_000, intervalMs: 200, message: "not every job succeeded" });
    assert.equal((await stats()).accepted - before.accepted, total);
  });
});
