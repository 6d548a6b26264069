/**
 * FailoverIntake: enqueues spread over the servers of a pipeline; a request a server does not
 * answer goes to another with the same idempotency key; a server's own refusal is the answer.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MarioError } from "../../src/core/errors/mario-error.ts";
import type { JobRecord } from "../../src/core/job.ts";
import { FailoverIntake, type IntakeCandidate } from "../../src/transport/failover-intake.ts";
import type { EnqueueJobRequest, EnqueueJobResult } from "../../src/transport/pipeline-client.ts";
import { NoAnswerError } from "../../src/core/errors/no-answer-error.ts";

/** A server stand-in: records requests; answers created, or duplicate for a key it has seen, or fails. */
function server(id: string, keys: Map<string, string>, behaviour: "ok" | "silent" | "refuse" = "ok"): IntakeCandidate & { seen: EnqueueJobRequest[] } {
  const seen: EnqueueJobRequest[] = [];
  return {
    id,
    seen,
    intake: {
      waitFor: () => Promise.reject(new Error("not used")),
      enqueueJob: async (request): Promise<EnqueueJobResult> => {
        seen.push(request);
        if (behaviour === "silent") {
          // It took the job in (storage shared with the others) but its answer never came.
          keys.set(request.idempotencyKey!, `job-${keys.size}`);
          throw new NoAnswerError(`no answer from ${id}`);
        }
        if (behaviour === "refuse") throw new MarioError("INVALID_INSTRUCTIONS", "bad");
        const existing = keys.get(request.idempotencyKey!);
        const jobId = existing ?? `job-${keys.size}`;
        keys.set(request.idempotencyKey!, jobId);
        return [true, { id: jobId, pipeline: request.name, status: "queued", duplicate: existing !== undefined } as unknown as JobRecord & { duplicate: boolean }];
      },
    },
  };
}

describe("FailoverIntake", () => {
  it("spreads enqueues over every live server", async () => {
    const keys = new Map<string, string>();
    const a = server("a", keys);
    const b = server("b", keys);
    const intake = new FailoverIntake("p", () => [a, b]);
    for (let i = 0; i < 10; i++) await intake.enqueueJob({ name: "p", instructions: {} });
    assert.equal(a.seen.length, 5);
    assert.equal(b.seen.length, 5);
  });

  it("sends a request without an answer to another server with the same key: one job, reported as created", async () => {
    const keys = new Map<string, string>();
    const a = server("a", keys, "silent");
    const b = server("b", keys);
    const failovers: string[] = [];
    const intake = new FailoverIntake("p", () => [a, b], { onFailover: (from) => failovers.push(from) });
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await intake.enqueueJob({ name: "p", instructions: { i } }));
    assert.deepEqual(failovers, ["a"], "the silent server is tried once, then avoided");
    assert.equal(a.seen.length, 1);
    assert.ok(b.seen.some((r) => r.idempotencyKey === a.seen[0]!.idempotencyKey), "same key on the second server");
    assert.equal(keys.size, 4, "four jobs, none doubled");
    for (const [ok, job] of results) {
      assert.equal(ok, true);
      assert.equal((job as { duplicate?: boolean }).duplicate, false);
    }
  });

  it("keeps the caller's key, and reports a replay of it as a duplicate", async () => {
    const keys = new Map<string, string>();
    const b = server("b", keys);
    const intake = new FailoverIntake("p", () => [b]);
    await intake.enqueueJob({ name: "p", instructions: {}, idempotencyKey: "k1" });
    const [, again] = await intake.enqueueJob({ name: "p", instructions: {}, idempotencyKey: "k1" });
    assert.equal(b.seen[1]!.idempotencyKey, "k1");
    assert.equal((again as { duplicate?: boolean }).duplicate, true);
  });

  it("a server's own refusal is the answer (no other server asked)", async () => {
    const keys = new Map<string, string>();
    const a = server("a", keys, "refuse");
    const b = server("b", keys);
    const intake = new FailoverIntake("p", () => [a, a]);
    await assert.rejects(intake.enqueueJob({ name: "p", instructions: {} }), (e: unknown) => e instanceof MarioError && e.code === "INVALID_INSTRUCTIONS");
    assert.equal(b.seen.length, 0);
  });

  it("no server answering: NO_ANSWER once the deadline passes, after a bounded number of attempts", async () => {
    const keys = new Map<string, string>();
    const a = server("a", keys, "silent");
    const intake = new FailoverIntake("p", () => [a], { deadlineMs: 300, emptyWaitMs: 10 });
    await assert.rejects(intake.enqueueJob({ name: "p", instructions: {} }), (e: unknown) => e instanceof NoAnswerError);
    assert.ok(a.seen.length >= 1 && a.seen.length <= 16, `attempts: ${a.seen.length}`);
    const none = new FailoverIntake("p", () => [], { deadlineMs: 100, emptyWaitMs: 10 });
    await assert.rejects(none.enqueueJob({ name: "p", instructions: {} }), /no pipeline server of "p" answered/);
  });
});
