/**
 * Per-job logs over ZeroMQ: what a step worker's attempts write (`ctx.logger`, `console.*`) travels
 * with its results to the pipeline server and is kept on the job, attempt by attempt, with its
 * history (worker, host, outcome, error); a redrive with new instructions adds to that history.
 * Real sockets on 127.0.0.1, memory storage.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NonRetryableError } from "../../src/core/errors/non-retryable-error.ts";
import type { StepContext } from "../../src/engine/delivery.ts";
import { Cluster } from "./zmq-fixture.ts";

const flaky = {
  jobType: "flaky",
  config: { retries: 2, backoff: { delayMs: 1, jitter: 0 } },
  handler: (instructions: Record<string, unknown>, ctx: StepContext) => {
    ctx.logger.info(`attempt ${ctx.attempt} of ${String(instructions.name)}`);
    console.error(`console line ${ctx.attempt}`);
    if (instructions.fixed === true) return { ok: true };
    if (ctx.attempt < 3) throw new Error(`failure ${ctx.attempt}`);
    throw new NonRetryableError("bad input");
  },
};

describe("per-job logs over ZeroMQ", () => {
  it("keeps a step worker's lines and attempts on the job; a redrive with new instructions appends", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    const server = await cluster.startServer([{ name: "logged", steps: ["flaky"] }]);
    const worker = await cluster.startWorker(flaky);
    const client = await cluster.client();
    const [ok, job] = await client.enqueueJob({ name: "logged", instructions: { name: "j1" } });
    assert.ok(ok, JSON.stringify(job));
    const dead = await client.waitFor(job.id, { timeoutMs: 10_000 });
    assert.equal(dead.status, "dead");
    const history = dead.history ?? [];
    assert.deepEqual(history.map((a) => [a.attempt, a.outcome, a.error?.message]), [
      [1, "failed", "failure 1"],
      [2, "failed", "failure 2"],
      [3, "dead", "bad input"],
    ]);
    for (const a of history) {
      assert.equal(a.workerId, worker.workerId);
      assert.ok(typeof a.host === "string" && a.host.length > 0, "each attempt names its host");
      assert.ok(a.finishedAt >= a.startedAt);
      assert.deepEqual(a.logs?.map((l) => [l.level, l.msg]), [
        ["info", `attempt ${a.attempt} of j1`],
        ["error", `console line ${a.attempt}`],
      ]);
    }
    // The redrive goes through the server's front door (as the gateway's does in process).
    assert.equal(await server.dispatcher.redrive(job.id, { input: { name: "j1", fixed: true } }), true);
    const done = await client.waitFor(job.id, { timeoutMs: 10_000 });
    assert.equal(done.status, "succeeded");
    assert.equal(done.history?.length, 4, "the history grew by the redriven attempt");
    assert.deepEqual(done.history?.slice(0, 3), history, "and nothing before it was rewritten");
    assert.deepEqual(done.history?.[3]?.logs?.map((l) => l.msg), ["attempt 1 of j1", "console line 1"]);
    assert.deepEqual(done.instructions, { name: "j1" }, "the job's own instructions stay as they were");
  });
});
