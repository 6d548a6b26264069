/**
 * PipelineClient.run: enqueue and wait as one request (`runs`), answered once with the final
 * record; a dead job's record; not final in time (pending, after the server's `pending` reply kept
 * the request alive past the client's timeout); refusals (BUSY, unknown pipeline); the same key
 * twice; an older server that drops `runs` (the client enqueues and waits instead, and remembers);
 * a server whose answer is lost, then another one asked with the same key (one job).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BusyError } from "../../src/core/errors/busy-error.ts";
import { UnknownPipelineError } from "../../src/core/errors/unknown-pipeline-error.ts";
import { WaitTimeoutError } from "../../src/core/errors/wait-timeout-error.ts";
import { FailoverIntake } from "../../src/transport/failover-intake.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { IntakeRelay } from "../support/intake-relay.ts";
import { Cluster } from "./zmq-fixture.ts";

const P = [{ name: "p", steps: ["a"] }];

describe("PipelineClient.run", () => {
  it("is one request: one `runs` message, answered with the final record", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    const server = await cluster.startServer(P);
    await cluster.startWorker({ jobType: "a", handler: (input) => ({ n: Number(input.n) * 2 }) });
    const client = await cluster.client();
    const done = await client.run({ name: "p", instructions: { n: 21 } });
    assert.equal(done.status, "succeeded");
    assert.deepEqual(done.result, { n: 42 });
    assert.deepEqual(server.intakeCounts.messages, { runs: 1 });
    // Many at once leave together: still one message for 50 runs made in the same turn.
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => client.run({ name: "p", instructions: { n: i } })));
    assert.ok(many.every((job, i) => job.status === "succeeded" && (job.result as { n: number }).n === 2 * i));
    assert.deepEqual(server.intakeCounts.messages, { runs: 2 });
  });

  it("resolves with the dead record of a job that fails", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer(P);
    await cluster.startWorker({ jobType: "a", handler: () => { throw new Error("no luck"); }, config: { retries: 0 } });
    const client = await cluster.client();
    const dead = await client.run({ name: "p", instructions: {} });
    assert.equal(dead.status, "dead");
    assert.match(dead.error?.message ?? "", /no luck/);
  });

  it("answers pending (the record as it is) when the job is not final in time, kept alive past the client's timeout by the server's `pending` reply", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer(P);
    // No worker: the job stays queued. The client gives up on a silent server after 300 ms; the wait is 1 500.
    const client = await cluster.client(undefined, 300);
    const answer = await client.runJob({ name: "p", instructions: { n: 1 }, timeoutMs: 1500 });
    assert.equal(answer.status, "pending");
    assert.ok(answer.status === "pending" && answer.job.status === "queued" && answer.job.id.length > 0);
    await assert.rejects(client.run({ name: "p", instructions: { n: 2 }, timeoutMs: 10 }), WaitTimeoutError);
  });

  it("refuses as enqueueJob does: BUSY (BusyError from run), an unknown pipeline", async (t) => {
    const cluster = Cluster.memory({ maxQueued: 1 });
    t.after(() => cluster.close());
    const server = await cluster.startServer(P);
    // busyWaitMs 0: each BUSY answered at once (with credit, a run would wait for room up to 1 s, probing).
    const client = new PipelineClient(server.jobPullAddress, { timeoutMs: 5000, busyWaitMs: 0 });
    t.after(() => client.close());
    await client.connect();
    assert.equal((await client.runJob({ name: "p", instructions: {}, timeoutMs: 10 })).status, "pending");
    const busy = await client.runJob({ name: "p", instructions: {}, timeoutMs: 10 });
    assert.deepEqual(busy, { status: "refused", error: { code: "BUSY", message: "busy, try again later" } });
    await assert.rejects(client.run({ name: "p", instructions: {} }), BusyError);
    await assert.rejects(client.run({ name: "nope", instructions: {} }), UnknownPipelineError);
    assert.equal(server.intakeCounts.busy, 2);
  });

  it("the same idempotency key twice is one job: the second run answers it (duplicate)", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer(P);
    await cluster.startWorker({ jobType: "a", handler: (input) => input });
    const client = await cluster.client();
    const first = await client.runJob({ name: "p", instructions: { n: 1 }, idempotencyKey: "k" });
    const again = await client.runJob({ name: "p", instructions: { n: 1 }, idempotencyKey: "k" });
    assert.ok(first.status === "final" && again.status === "final");
    assert.equal(again.job.id, first.job.id);
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal((await cluster.storage.getStats("p")).accepted, 1);
  });

  it("against a server that drops `runs` (older than them): enqueues and waits instead, then at once", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    const server = await cluster.startServer(P);
    await cluster.startWorker({ jobType: "a", handler: (input) => input });
    const relay = await IntakeRelay.start(server.jobPullAddress, { drop: ["runs"] });
    t.after(() => relay.close());
    const client = await cluster.client(relay.address, 300);
    const first = await client.run({ name: "p", instructions: { n: 1 } });
    const second = await client.run({ name: "p", instructions: { n: 2 } });
    assert.deepEqual([first.status, second.status], ["succeeded", "succeeded"]);
    assert.deepEqual(second.result, { n: 2 });
    assert.deepEqual([relay.count("runs"), relay.count("enqueues"), relay.count("waits")], [1, 2, 2]);
    assert.equal((await cluster.storage.getStats("p")).accepted, 2);
  });

  it("a server that took the run but whose answer was lost: another asked with the same key answers the one job", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    const server = await cluster.startServer(P);
    await cluster.startWorker({ jobType: "a", handler: (input) => input });
    const lossy = await IntakeRelay.start(server.jobPullAddress, { loseReplies: true });
    t.after(() => lossy.close());
    const lost = await cluster.client(lossy.address, 300);
    const direct = await cluster.client(server.jobPullAddress, 300);
    const failovers: string[] = [];
    // The round robin starts at the second candidate: the lossy one is asked first.
    const intake = new FailoverIntake("p", () => [{ id: "direct", intake: direct }, { id: "lossy", intake: lost }], { onFailover: (from) => failovers.push(from) });
    const answer = await intake.runJob({ name: "p", instructions: { n: 7 } });
    assert.equal(answer.status, "final");
    assert.ok(answer.status === "final" && answer.job.status === "succeeded");
    assert.equal(answer.status === "final" && answer.duplicate, false);
    assert.deepEqual(failovers, ["lossy"]);
    assert.equal(lossy.count("runs"), 1);
    assert.equal((await cluster.storage.getStats("p")).accepted, 1);
  });
});
