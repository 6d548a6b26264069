/**
 * Worker processes dying or stopping under load, with real `mario` children:
 * - SIGKILL mid-job: the job is re-dispatched to another worker and succeeds; over 600 jobs with
 *   the kill in the middle, every accepted job succeeds.
 * - SIGTERM with jobs in flight: they finish (within the grace period) or are handed back at once
 *   (no lease expiry), and the worker exits 0.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { JobSummary } from "../../src/core/job-summary.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, type MarioProcess } from "../support/processes.ts";

const STEPS = "test/e2e/fixtures/zmq-steps.ts";
const procs = new MarioProcesses();
const clients: PipelineClient[] = [];
after(async () => {
  for (const client of clients) client.close();
  await procs.stopAll();
});

async function startPipeline(extra: string[] = []): Promise<{ sub: string; pull: string; client: PipelineClient }> {
  const [p1, p2] = await freePorts(2);
  const sub = `tcp://127.0.0.1:${p1}`;
  const pull = `tcp://127.0.0.1:${p2}`;
  const pipeline = procs.start(["pipeline", STEPS, "sleepy", `--sub-bind=${sub}`, `--job-pull-bind=${pull}`, ...extra]);
  await pipeline.waitForLine(/pipeline server ready/);
  const client = new PipelineClient(pull, { timeoutMs: 10_000 });
  clients.push(client);
  await client.connect();
  return { sub, pull, client };
}

async function startWorker(sub: string, extra: string[] = []): Promise<{ proc: MarioProcess; workerId: string }> {
  const proc = procs.start(["step", STEPS, "sleep", `--sub-connect=${sub}`, "--heartbeat-ms=200", ...extra]);
  const workerId = String(await proc.waitForLogField(/step worker ready/, "workerId"));
  return { proc, workerId };
}

async function enqueue(client: PipelineClient, ms: number): Promise<JobSummary> {
  const [ok, job] = await client.enqueueJob({ name: "sleepy", instructions: { ms } });
  assert.ok(ok, JSON.stringify(job));
  return job;
}

describe("worker processes under load", () => {
  // Both workers are seen running quick jobs before the kill, and the slow job is mid-attempt.
  it("SIGKILL mid-job: the job runs again elsewhere; every one of 601 accepted jobs succeeds", async () => {
    const { sub, client } = await startPipeline(["--heartbeat-timeout-ms=1000"]);
    const a = await startWorker(sub);
    // Slow on the worker that first runs it (15 s, so the kill surely lands mid-job), quick when re-run elsewhere.
    const [okSlow, slow] = await client.enqueueJob({ name: "sleepy", instructions: { slowPid: a.proc.pid, slowMs: 15_000, ms: 10 } });
    assert.ok(okSlow);
    await a.proc.waitForLine(new RegExp(`sleep started.*${slow.id}`));
    const b = await startWorker(sub);
    const quick = await Promise.all(Array.from({ length: 600 }, () => enqueue(client, 30)));
    // Kill once both workers are busy with the run.
    const quickIds = new RegExp(`sleep started.*(${quick.map((j) => j.id).join("|")})`);
    await Promise.all([a.proc.waitForLine(quickIds), b.proc.waitForLine(quickIds)]);
    const killedAt = Date.now();
    assert.deepEqual(await a.proc.kill(), { code: null, signal: "SIGKILL" });

    const finals = await Promise.all([slow, ...quick].map((job) => client.waitFor(job.id, { timeoutMs: 20_000 })));
    const notSucceeded = finals.filter((j) => j.status !== "succeeded");
    assert.equal(notSucceeded.length, 0, `accepted ${finals.length}, not succeeded: ${JSON.stringify(notSucceeded.slice(0, 3))}`);
    const slowFinal = finals[0]!;
    assert.equal(slowFinal.steps[0]!.workerId, b.workerId, "the slow job finished on the surviving worker");
    assert.equal(slowFinal.steps[0]!.attempts, 1, "the killed worker's attempt is a stall, not an attempt");
    assert.equal(slowFinal.stalls, 1);
    assert.ok(Date.now() - killedAt < 15_000, "recovered by the lost link, not by the 30 s lease");
    assert.ok(finals.some((j) => j.steps[0]!.workerId === b.workerId && j !== slowFinal), "the surviving worker ran quick jobs");
  });

  it("SIGTERM with jobs in flight: they finish within the grace period, exit 0", async () => {
    const { sub, client } = await startPipeline();
    const a = await startWorker(sub, ["--concurrency=4"]);
    const jobs = await Promise.all(Array.from({ length: 4 }, () => enqueue(client, 800)));
    for (const job of jobs) await a.proc.waitForLine(new RegExp(`sleep started.*${job.id}`));
    assert.deepEqual(await a.proc.stop("SIGTERM"), { code: 0, signal: null });
    for (const job of jobs) {
      const final = await client.waitFor(job.id, { timeoutMs: 2000 });
      assert.equal(final.status, "succeeded");
      assert.equal(final.steps[0]!.workerId, a.workerId);
    }
  });

  it("SIGTERM with jobs longer than the grace period: handed back at once, run by the next worker, exit 0", async () => {
    const { sub, client } = await startPipeline();
    const a = await startWorker(sub, ["--concurrency=4", "--grace-ms=300"]);
    const jobs = await Promise.all(Array.from({ length: 6 }, () => enqueue(client, 10_000)));
    for (const job of jobs.slice(0, 4)) await a.proc.waitForLine(new RegExp(`sleep started.*${job.id}`));
    const stopped = Date.now();
    assert.deepEqual(await a.proc.stop("SIGTERM"), { code: 0, signal: null });
    assert.ok(Date.now() - stopped < 5000, "the worker stops soon after its grace period");
    const b = await startWorker(sub, ["--concurrency=8", "--grace-ms=100"]);
    for (const job of jobs) await b.proc.waitForLine(new RegExp(`sleep started.*${job.id}`), 5000);
    assert.ok(Date.now() - stopped < 10_000, "no job waited for its lease (30 s) to expire");
    await b.proc.stop("SIGTERM");
  });
});
