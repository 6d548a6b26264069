/**
 * Cancel with real processes (issue #17): a running `while (true) {}` function job under
 * `mario host` ends `cancelled` within its grace period, and its thread is replaced (a following
 * job runs on that host, whose function has concurrency 1); a queued job is cancelled at once
 * over HTTP; a finished job answers 409; `client.cancel` answers the same over ZeroMQ. On Redis
 * (`mario pipeline` + `mario host` + `mario gateway --redis`) and on memory (`mario up`, whose
 * function threads are the same).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, runMario } from "../support/processes.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const JSON_HEADERS = { "content-type": "application/json" };
/** Spins for good when asked to (ignoring ctx.signal), else answers at once. One thread only. */
const SPIN = `export const config = { concurrency: 1, timeoutMs: 60000, retries: 2 };
export default async function (input) {
  if (input.spin === true) { for (;;) {} }
  return { ran: true };
}
`;

type Cancelled = JobRecord & { cancelRequested?: boolean; error?: { code: string } };

async function post(url: string, path: string, body?: unknown): Promise<{ status: number; body: Cancelled }> {
  const res = await fetch(`${url}${path}`, { method: "POST", headers: JSON_HEADERS, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Cancelled };
}

async function job(url: string, id: string, wait?: number): Promise<JobRecord> {
  return (await (await fetch(`${url}jobs/${id}${wait === undefined ? "" : `?wait=${wait}`}`)).json()) as JobRecord;
}

/** The checks, the same whichever processes serve `url`. */
async function cancelScenario(url: string): Promise<void> {
  const spinning = (await post(url, "pipelines/spin/jobs", { spin: true })).body;
  await eventually(async () => (await job(url, spinning.id)).status === "running", { timeoutMs: 20_000, message: "the spinning job never ran" });
  const queued = (await post(url, "pipelines/spin/jobs", { spin: false })).body;
  assert.equal((await job(url, queued.id)).status, "queued", "one thread, busy: the second job waits");

  const cancelQueued = await post(url, `jobs/${queued.id}/cancel`);
  assert.equal(cancelQueued.status, 200);
  assert.equal(cancelQueued.body.status, "cancelled");

  const cancelRunning = await post(url, `jobs/${spinning.id}/cancel`);
  assert.equal(cancelRunning.status, 202);
  assert.equal(cancelRunning.body.cancelRequested, true);
  // The handler ignores ctx.signal: its thread is terminated after the grace (5 s) and replaced.
  const ended = await job(url, spinning.id, 30_000);
  assert.equal(ended.status, "cancelled");
  assert.equal(ended.error?.code, "CANCELLED");
  assert.equal(ended.attempts, 1, "not retried, though the step allows 2 retries");
  assert.deepEqual(ended.history?.map((a) => a.outcome), ["cancelled"]);
  assert.equal(ended.history?.[0]?.error?.code, "CANCELLED");

  // The host's only thread was spinning: a job that runs now ran on its replacement.
  const next = await post(url, "pipelines/spin/jobs?wait=20000", { spin: false });
  assert.equal(next.status, 200);
  assert.equal(next.body.status, "succeeded");
  assert.equal(next.body.history?.[0]?.workerId, ended.history?.[0]?.workerId, "the same worker (host) ran it");

  for (const id of [spinning.id, queued.id, next.body.id]) {
    const again = await post(url, `jobs/${id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal((again.body as unknown as { error: { code: string } }).error.code, "ALREADY_FINISHED");
  }
  const unknown = await post(url, "jobs/00000000000000000000zz/cancel");
  assert.equal(unknown.status, 404);
  const metrics = await (await fetch(`${url}metrics`)).text();
  assert.match(metrics, /^mario_jobs_cancelled_total\{pipeline="spin"\} 2$/m);
}

describe("cancel under mario pipeline + mario host + mario gateway (Redis)", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let redis: RedisServer | undefined;
  let url = "";
  let pull = "";

  before(async () => {
    project = await tempProject({ files: { "spin.mjs": SPIN } });
    redis = await startRedis();
    const [subPort, pullPort] = await freePorts(2);
    const sub = `tcp://127.0.0.1:${subPort}`;
    pull = `tcp://127.0.0.1:${pullPort}`;
    const server = procs.start(["pipeline", project.functionsDir, `--sub-bind=${sub}`, `--job-pull-bind=${pull}`, `--redis=${redis.url}`]);
    await server.waitForLine(/pipeline server ready/, 30_000);
    const host = procs.start(["host", project.functionsDir, `--sub-connect=${sub}`, "--heartbeat-ms=200"]);
    await host.waitForLine(/mario host: serving 1 function\(s\)/, 30_000);
    const gateway = procs.start(["gateway", `--redis=${redis.url}`, "--port=0", "--host=127.0.0.1"]);
    const line = await gateway.waitForLine(/mario gateway on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
    await eventually(async () => (await fetch(`${url}ready`)).status === 200, { timeoutMs: 20_000, message: "the gateway never got ready" });
  });
  after(async () => {
    await procs.stopAll();
    await redis?.destroy();
    await project?.cleanup();
  });

  it("a spinning job is cancelled within its grace and its thread replaced; a queued one at once; 409 once finished", async () => {
    await cancelScenario(url);
  });

  it("client.cancel over ZeroMQ: cancelled, cancelling, then final", async () => {
    const client = new PipelineClient(pull, { timeoutMs: 5000 });
    await client.connect();
    try {
      const [ok, spinning] = await client.enqueueJob({ name: "spin", instructions: { spin: true } });
      assert.ok(ok);
      await eventually(async () => (await job(url, spinning.id)).status === "running", { timeoutMs: 20_000 });
      const [okQueued, queued] = await client.enqueueJob({ name: "spin", instructions: {} });
      assert.ok(okQueued);
      const first = await client.cancel(queued.id);
      assert.equal(first.status, "cancelled");
      assert.equal(first.job.status, "cancelled");
      const running = await client.cancel(spinning.id);
      assert.equal(running.status, "cancelling");
      assert.equal(running.job.status, "running");
      assert.ok(running.job.cancelRequestedAt !== undefined);
      const ended = await client.waitFor(spinning.id, { timeoutMs: 30_000 });
      assert.equal(ended.status, "cancelled");
      const again = await client.cancel(spinning.id);
      assert.equal(again.status, "final");
      assert.equal(again.job.status, "cancelled");
      await assert.rejects(client.cancel("00000000000000000000zz"), { code: "JOB_NOT_FOUND" });
    } finally {
      client.close();
    }
  });
});

describe("cancel under mario up (memory, function threads)", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let url = "";

  before(async () => {
    project = await tempProject({ files: { "spin.mjs": SPIN } });
    const up = procs.start(["up", "--port=0", project.functionsDir]);
    const line = await up.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
  });
  after(async () => {
    await procs.stopAll();
    await project?.cleanup();
  });

  it("a spinning job is cancelled within its grace and its thread replaced; a queued one at once; 409 once finished", async () => {
    await cancelScenario(url);
  });

  it("mario cancel <id> --url: a running job, waited for; a finished one is one line and exit 1", async () => {
    const spinning = (await post(url, "pipelines/spin/jobs", { spin: true })).body;
    await eventually(async () => (await job(url, spinning.id)).status === "running", { timeoutMs: 20_000 });
    const cancelled = await runMario(["cancel", spinning.id, `--url=${url}`, "--wait=30000"]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal(cancelled.stdout, `cancelled ${spinning.id}\n`);
    const again = await runMario(["cancel", spinning.id, `--url=${url}`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^mario cancel: job \S+ is already cancelled/);
    assert.equal(again.stderr.trim().split("\n").length, 1);
  });
});
