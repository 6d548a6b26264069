/**
 * `POST /pipelines/:name/jobs?wait` behind `mario gateway` is one request to the pipeline server
 * (`runs`), and so is `mario enqueue --wait`: counted by an intake relay (real ZeroMQ sockets, in
 * this process) between them and a `mario pipeline` on Redis fed by `mario host`. The answers stay
 * what they were: 200 + the final record (a dead one too), 202 + the current record when the job
 * is not final within the wait, the same job for the same key (Idempotent-Replayed).
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { IntakeRelay } from "../support/intake-relay.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, runMario } from "../support/processes.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const JSON_HEADERS = { "content-type": "application/json" };

interface Job {
  id: string;
  status: string;
  result?: unknown;
  error?: { message: string };
}

describe("?wait and mario enqueue --wait as one request (runs) behind mario gateway", () => {
  const procs = new MarioProcesses();
  let redis: RedisServer | undefined;
  let relay: IntakeRelay | undefined;
  let root = "";
  let url = "";

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "mario-wait-run-"));
    mkdirSync(join(root, "functions"));
    writeFileSync(join(root, "functions", "double.mjs"), "export default async function ({ n }) { return { n: Number(n) * 2 }; }\n");
    writeFileSync(join(root, "functions", "fail.mjs"), "export const config = { retries: 0 };\nexport default async function () { throw new Error('always fails'); }\n");
    // A job of "slow" cannot be final within 300 ms: it takes 2 s.
    writeFileSync(join(root, "functions", "slow.mjs"), "export default async function () { await new Promise((resolve) => setTimeout(resolve, 2000)); return {}; }\n");
    writeFileSync(join(root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { twice: ["double", "double"], failing: ["fail"], slow: ["slow"] } }));
    redis = await startRedis();
    const [subPort, pullPort] = await freePorts(2);
    const sub = `tcp://127.0.0.1:${subPort}`;
    const pull = `tcp://127.0.0.1:${pullPort}`;
    const pipeline = procs.start(["pipeline", join(root, "mario.config.json"), `--sub-bind=${sub}`, `--job-pull-bind=${pull}`, `--redis=${redis.url}`]);
    await pipeline.waitForLine(/ready/, 30_000);
    const host = procs.start(["host", join(root, "functions"), `--sub-connect=${sub}`, "--heartbeat-ms=200"]);
    await host.waitForLine(/mario host: serving 3 function\(s\)/, 30_000);
    relay = await IntakeRelay.start(pull);
    const gateway = procs.start(["gateway", root, `--job-push=${relay.address}`, `--redis=${redis.url}`, "--port=0", "--host=127.0.0.1"]);
    const line = await gateway.waitForLine(/mario gateway on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
  });
  after(async () => {
    await procs.stopAll();
    await relay?.close();
    await redis?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  const counts = (): number[] => [relay!.count("runs"), relay!.count("enqueues"), relay!.count("waits")];

  it("?wait: 200 with the final record, one `runs` message and no enqueue or wait", async () => {
    const before = counts();
    const res = await fetch(`${url}pipelines/twice/jobs?wait=20000`, { method: "POST", headers: JSON_HEADERS, body: '{"n": 3}' });
    assert.equal(res.status, 200);
    const job = (await res.json()) as Job;
    assert.equal(job.status, "succeeded");
    assert.deepEqual(job.result, { n: 12 });
    assert.equal(res.headers.get("location"), `/jobs/${job.id}`);
    assert.deepEqual(counts(), [before[0]! + 1, before[1], before[2]]);
  });

  it("?wait on a job that fails: 200 with its dead record", async () => {
    const res = await fetch(`${url}pipelines/failing/jobs?wait=20000`, { method: "POST", headers: JSON_HEADERS, body: "{}" });
    assert.equal(res.status, 200);
    const job = (await res.json()) as Job;
    assert.equal(job.status, "dead");
    assert.match(job.error?.message ?? "", /always fails/);
  });

  it("?wait on a job not final in time: 202 with its current record", async () => {
    const res = await fetch(`${url}pipelines/slow/jobs?wait=300`, { method: "POST", headers: JSON_HEADERS, body: "{}" });
    assert.equal(res.status, 202);
    const job = (await res.json()) as Job;
    assert.ok(job.id.length > 0);
    assert.ok(["queued", "running"].includes(job.status), job.status);
  });

  it("?wait with the same Idempotency-Key twice: the same job, replayed", async () => {
    const post = (): Promise<Response> => fetch(`${url}pipelines/twice/jobs?wait=20000`, { method: "POST", headers: { ...JSON_HEADERS, "idempotency-key": "run-1" }, body: '{"n": 1}' });
    const first = await post();
    const again = await post();
    assert.deepEqual([first.status, again.status], [200, 200]);
    assert.equal(((await again.json()) as Job).id, ((await first.json()) as Job).id);
    assert.equal(first.headers.get("idempotent-replayed"), null);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
  });

  it("mario enqueue --wait: one `runs` message, the final record printed", async () => {
    const before = counts();
    const { code, stdout } = await runMario(["enqueue", relay!.address, "twice", '{"n": 5}', "--wait"]);
    assert.equal(code, 0);
    assert.deepEqual((JSON.parse(stdout) as Job).result, { n: 20 });
    assert.deepEqual(counts(), [before[0]! + 1, before[1], before[2]]);
  });
});
