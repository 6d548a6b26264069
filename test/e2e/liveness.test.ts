/**
 * Liveness from the connection, progress from the job, with real `mario` processes:
 * - A 10 s CPU-bound step under `mario step` (its event loop blocked, no announcement for 10 s)
 *   succeeds at attempt 1: the worker's link stays up (libzmq's I/O thread answers the ZMTP
 *   heartbeats), so the server keeps it.
 * - SIGSTOP of a worker is detected in under 5 s; its job runs on another worker, with no attempt
 *   counted (a stall), on Redis storage (real redis-server).
 * - SIGSTOP of the pipeline server for 8 s drops no live worker: it reads before it judges, and
 *   every job in flight then ends at attempt 1.
 * - A handler that blocks past its timeout under `mario step` (its own timer cannot fire) is
 *   enforced by the server: its result overdue (timeout + 5 s, before the lease's timeout + 10 s),
 *   the job is taken back (a stall) and runs on another worker, the blocked worker is not dropped,
 *   and its late result, sent once it wakes, changes nothing.
 * The figures (detection time, stall) are printed as diagnostics.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { JobSummary } from "../../src/core/job-summary.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, type MarioProcess } from "../support/processes.ts";
import { startRedis } from "../support/redis-server.ts";
import { stopProcess } from "../support/stop-process.ts";

const STEPS = "test/e2e/fixtures/zmq-steps.ts";

describe("liveness (e2e)", () => {
  const procs = new MarioProcesses();
  const clients: PipelineClient[] = [];
  after(async () => {
    for (const client of clients) client.close();
    await procs.stopAll();
  });

  async function startPipeline(pipeline: string, extra: string[] = []): Promise<{ server: MarioProcess; sub: string; client: PipelineClient }> {
    const [p1, p2] = await freePorts(2);
    const sub = `tcp://127.0.0.1:${p1}`;
    const pull = `tcp://127.0.0.1:${p2}`;
    const server = procs.start(["pipeline", STEPS, pipeline, `--sub-bind=${sub}`, `--job-pull-bind=${pull}`, ...extra]);
    await server.waitForLine(/pipeline server ready/);
    const client = new PipelineClient(pull, { timeoutMs: 10_000 });
    clients.push(client);
    await client.connect();
    return { server, sub, client };
  }

  async function startWorker(server: MarioProcess, jobType: string, sub: string, extra: string[] = []): Promise<{ proc: MarioProcess; workerId: string }> {
    const proc = procs.start(["step", STEPS, jobType, `--sub-connect=${sub}`, ...extra]);
    const workerId = String(await proc.waitForLogField(/step worker ready/, "workerId"));
    await server.waitForLine(new RegExp(`worker joined.*${workerId}`));
    return { proc, workerId };
  }

  async function enqueue(client: PipelineClient, name: string, instructions: Record<string, unknown>): Promise<JobSummary> {
    const [ok, job] = await client.enqueueJob({ name, instructions });
    assert.ok(ok, JSON.stringify(job));
    return job;
  }

  it("a 10 s CPU-bound step under mario step succeeds at attempt 1", async () => {
    const { server, sub, client } = await startPipeline("spinny");
    const worker = await startWorker(server, "spin", sub);
    const job = await enqueue(client, "spinny", { ms: 10_000 });
    const final = await client.waitFor(job.id, { timeoutMs: 40_000 });
    assert.equal(final.status, "succeeded");
    assert.equal(final.steps[0]!.attempts, 1);
    assert.equal(final.steps[0]!.workerId, worker.workerId);
    assert.equal(final.stalls, undefined, "never handed back");
    assert.doesNotMatch(server.stderr, /worker lost/);
    assert.deepEqual(await worker.proc.stop(), { code: 0, signal: null });
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });

  it("SIGSTOP of a worker is detected (within 15 s; the time is a diagnostic), its job runs elsewhere, no attempt counted", async (t) => {
    const redis = await startRedis();
    t.after(() => redis.destroy());
    const { server, sub, client } = await startPipeline("sleepy", [`--redis=${redis.url}`]);
    const a = await startWorker(server, "sleep", sub, ["--concurrency=1"]);
    const job = await enqueue(client, "sleepy", { slowPid: a.proc.pid, slowMs: 60_000, ms: 10 });
    await a.proc.waitForLine(new RegExp(`sleep started.*${job.id}`));
    const b = await startWorker(server, "sleep", sub, ["--concurrency=1"]);

    const stoppedAt = Date.now();
    await stopProcess(a.proc.pid);
    t.after(() => {
      if (a.proc.running) process.kill(a.proc.pid, "SIGCONT");
    });
    await server.waitForLine(new RegExp(`worker lost.*${a.workerId}`), 15_000);
    const detectedMs = Date.now() - stoppedAt;
    t.diagnostic(`SIGSTOP of a worker detected in ${detectedMs} ms`);

    const final = await client.waitFor(job.id, { timeoutMs: 15_000 });
    assert.equal(final.status, "succeeded");
    assert.equal(final.steps[0]!.workerId, b.workerId, "it ran on the other worker");
    assert.equal(final.steps[0]!.attempts, 1, "the stopped worker's attempt is not counted");
    assert.equal(final.stalls, 1, "it is counted as a stall");
    t.diagnostic(`job ${job.id}: attempts ${final.steps[0]!.attempts}, stalls ${final.stalls}, ran on ${final.steps[0]!.workerId}`);

    process.kill(a.proc.pid, "SIGCONT");
    for (const proc of [a.proc, b.proc, server]) assert.deepEqual(await proc.stop(), { code: 0, signal: null });
  });

  it("a handler blocking past its timeout under mario step: the server takes the job back, it runs elsewhere, the late result is refused", async (t) => {
    const { server, sub, client } = await startPipeline("spinny-short");
    const a = await startWorker(server, "spin-short", sub);
    // Timeout 1 s (overdue at 6 s, lease 11 s); A computes 15 s, with its event loop held all along.
    const job = await enqueue(client, "spinny-short", { slowPid: a.proc.pid, slowMs: 15_000, ms: 10 });
    await a.proc.waitForLine(new RegExp(`spin started.*${job.id}`));
    const b = await startWorker(server, "spin-short", sub);
    const final = await client.waitFor(job.id, { timeoutMs: 40_000 });
    assert.equal(final.status, "succeeded");
    assert.equal(final.steps[0]!.workerId, b.workerId, "it ran again on the other worker");
    assert.equal(final.steps[0]!.attempts, 1, "taken back as overdue: a stall, not an attempt");
    // Taken back once or more (A, its credit freed, may be sent it again while still blocked).
    assert.ok((final.stalls ?? 0) >= 1, `taken back as a stall (stalls: ${final.stalls})`);
    t.diagnostic(`blocked handler: job ran on the other worker after ${final.stalls} take-back(s), attempt 1`);
    // A wakes, sends its late result, and stops (SIGTERM waits for its results to be answered).
    assert.deepEqual(await a.proc.stop(), { code: 0, signal: null });
    assert.doesNotMatch(server.stderr, /worker lost/);
    const after = await client.waitFor(job.id, { timeoutMs: 5000 });
    assert.deepEqual([after.status, after.steps.length, after.steps[0]!.workerId, (after.result as { pid: number }).pid], ["succeeded", 1, b.workerId, b.proc.pid], "the late result changed nothing");
    for (const proc of [b.proc, server]) assert.deepEqual(await proc.stop(), { code: 0, signal: null });
  });

  it("SIGSTOP of the pipeline server for 8 s drops no live worker; the jobs in flight end at attempt 1", async (t) => {
    const { server, sub, client } = await startPipeline("sleepy");
    const workers = [];
    for (let i = 0; i < 3; i++) workers.push(await startWorker(server, "sleep", sub, ["--concurrency=2"]));
    const jobs = await Promise.all(Array.from({ length: 12 }, () => enqueue(client, "sleepy", { ms: 3000 })));
    // Six running (two per worker), six queued.
    for (const { proc } of workers) await proc.waitForLine(/sleep started/);

    await stopProcess(server.pid);
    t.after(() => {
      if (server.running) process.kill(server.pid, "SIGCONT");
    });
    await new Promise((resolve) => setTimeout(resolve, 8000)); // the stall itself: 8 s
    process.kill(server.pid, "SIGCONT");
    await server.waitForLine(/pipeline server was stalled/);

    const finals = await Promise.all(jobs.map((job) => client.waitFor(job.id, { timeoutMs: 30_000 })));
    assert.deepEqual(finals.map((j) => j.status), jobs.map(() => "succeeded"));
    assert.deepEqual(finals.map((j) => [j.steps[0]!.attempts, j.stalls ?? 0]), jobs.map(() => [1, 0]), "no job ran twice or was handed back");
    assert.doesNotMatch(server.stderr, /worker lost|worker left/, "no live worker was dropped");
    const stalled = /"stalledMs":(\d+)/.exec(server.stderr)?.[1];
    t.diagnostic(`server stalled ${stalled} ms; workers dropped: 0; jobs re-run: 0 of ${jobs.length}`);
    for (const { proc } of workers) assert.deepEqual(await proc.stop(), { code: 0, signal: null });
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
  });
});
