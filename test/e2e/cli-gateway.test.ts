/**
 * `mario gateway` in front of a running `mario pipeline` (Redis storage) fed by `mario host`, all
 * as child processes on free ports with a real redis-server: enqueue over HTTP (202 and ?wait),
 * read the job, /pipelines, /metrics, /ready (503 once the pipeline server is gone), SIGTERM → 0.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, runMario, type MarioProcess } from "../support/processes.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const JSON_HEADERS = { "content-type": "application/json" };

interface Job {
  id: string;
  status: string;
  result?: unknown;
}

describe("mario gateway (e2e) in front of mario pipeline + mario host on Redis", () => {
  const procs = new MarioProcesses();
  let redis: RedisServer | undefined;
  let root = "";
  let pipeline: MarioProcess;
  let gateway: MarioProcess;
  let url = "";

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "mario-gateway-"));
    mkdirSync(join(root, "functions"));
    writeFileSync(join(root, "functions", "double.mjs"), "export default async function ({ n }) { return { n: Number(n) * 2 }; }\n");
    writeFileSync(join(root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { twice: ["double", "double"] } }));
    redis = await startRedis();
    const [subPort, pullPort] = await freePorts(2);
    const sub = `tcp://127.0.0.1:${subPort}`;
    const pull = `tcp://127.0.0.1:${pullPort}`;
    pipeline = procs.start(["pipeline", join(root, "mario.config.json"), "twice", `--sub-bind=${sub}`, `--job-pull-bind=${pull}`, `--redis=${redis.url}`]);
    await pipeline.waitForLine(/ready/, 30_000);
    const host = procs.start(["host", join(root, "functions"), `--sub-connect=${sub}`, "--heartbeat-ms=200"]);
    await host.waitForLine(/mario host: serving 1 function\(s\)/, 30_000);
    gateway = procs.start(["gateway", root, `--job-push=twice=${pull}`, `--redis=${redis.url}`, "--port=0", "--host=127.0.0.1"]);
    const line = await gateway.waitForLine(/mario gateway on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
  });
  after(async () => {
    await procs.stopAll();
    await redis?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  it("prints its URL and the pipelines it routes", () => {
    assert.match(gateway.stdout, /pipelines: twice → tcp:\/\/127\.0\.0\.1:\d+/);
  });

  it("?wait answers 200 with the result computed by the remote workers", async () => {
    const res = await fetch(`${url}pipelines/twice/jobs?wait=20000`, { method: "POST", headers: JSON_HEADERS, body: '{"n": 3}' });
    assert.equal(res.status, 200);
    const job = (await res.json()) as Job;
    assert.equal(job.status, "succeeded");
    assert.deepEqual(job.result, { n: 12 });
  });

  it("POST answers 202 and GET /jobs/:id (read from Redis) reaches succeeded", async () => {
    const res = await fetch(`${url}pipelines/twice/jobs`, { method: "POST", headers: JSON_HEADERS, body: '{"n": 5}' });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as Job;
    let job: Job | undefined;
    await eventually(async () => {
      job = (await (await fetch(`${url}jobs/${id}`)).json()) as Job;
      return job.status === "succeeded";
    }, { timeoutMs: 20_000 });
    assert.deepEqual(job?.result, { n: 20 });
  });

  it("the same Idempotency-Key through the pipeline server gives the same job", async () => {
    const post = async (): Promise<string> => {
      const res = await fetch(`${url}pipelines/twice/jobs`, { method: "POST", headers: { ...JSON_HEADERS, "idempotency-key": "gw-1" }, body: '{"n": 1}' });
      assert.ok(res.status === 202 || res.status === 200, String(res.status));
      return ((await res.json()) as Job).id;
    };
    assert.equal(await post(), await post());
  });

  it("/pipelines shows the workers, /metrics counts the jobs, /jobs lists them, unrouted pipelines are 404", async () => {
    await eventually(async () => {
      const { pipelines } = (await (await fetch(`${url}pipelines`)).json()) as { pipelines: { name: string; steps: { workers: number }[] }[] };
      assert.deepEqual(pipelines.map((p) => p.name), ["twice"]);
      return pipelines[0]!.steps[0]!.workers >= 1;
    }, { timeoutMs: 10_000 });
    await eventually(async () => /^mario_jobs_total\{pipeline="twice",status="succeeded"\} 3$/m.test(await (await fetch(`${url}metrics`)).text()), { timeoutMs: 20_000 });
    const { jobs } = (await (await fetch(`${url}jobs?pipeline=twice`)).json()) as { jobs: Job[] };
    assert.equal(jobs.length, 3);
    assert.equal((await fetch(`${url}pipelines/double/jobs`, { method: "POST", headers: JSON_HEADERS, body: "{}" })).status, 404);
  });

  it("/ready answers 200, then 503 naming the pipeline link once the pipeline server is gone", async () => {
    assert.equal((await fetch(`${url}ready`)).status, 200);
    assert.deepEqual(await pipeline.stop(), { code: 0, signal: null });
    const res = await fetch(`${url}ready`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "NOT_READY");
    assert.match(body.error.message, /pipeline link tcp:\/\/127\.0\.0\.1:\d+: no answer/);
  });

  it("SIGTERM stops it with exit code 0", async () => {
    assert.deepEqual(await gateway.stop(), { code: 0, signal: null });
  });
});

describe("mario gateway (e2e): usage errors", () => {
  it("without Redis: one line and exit 2; servers to be found in a Redis that does not answer: one line naming it", async () => {
    const noRedis = await runMario(["gateway", "--job-push=tcp://127.0.0.1:5050"], { env: { REDIS_URL: "" } });
    assert.equal(noRedis.code, 2);
    assert.match(noRedis.stderr, /^mario gateway: needs the Redis the pipeline servers share: --redis=redis:\/\/host:6379 or REDIS_URL\n$/);
    const noPush = await runMario(["gateway", "--redis=redis://127.0.0.1:1"]);
    assert.equal(noPush.code, 1);
    assert.match(noPush.stderr, /^mario gateway: .*cannot connect to Redis at redis:\/\/127\.0\.0\.1:1\b[^\n]*\n$/);
    const noCluster = await runMario(["gateway", "--redis=redis+cluster://127.0.0.1:1,127.0.0.1:2"]);
    assert.equal(noCluster.code, 1);
    assert.match(noCluster.stderr, /^mario gateway: .*cannot connect to Redis at redis\+cluster:\/\/127\.0\.0\.1:1,127\.0\.0\.1:2\b[^\n]*\n$/);
  });
});
