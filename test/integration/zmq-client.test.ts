/** PipelineClient answers: ok=false (no throw) for unknown pipeline, bad instructions and busy; clear errors otherwise. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JobNotFoundError } from "../../src/core/errors/job-not-found-error.ts";
import { NoAnswerError } from "../../src/core/errors/no-answer-error.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { WaitTimeoutError } from "../../src/core/errors/wait-timeout-error.ts";
import { freeAddress } from "../support/ports.ts";
import { Cluster } from "./zmq-fixture.ts";

describe("PipelineClient", () => {
  it("answers ok=false with UNKNOWN_PIPELINE (listing the served ones) and INVALID_INSTRUCTIONS", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "served", steps: ["a"] }]);
    const client = await cluster.client();
    const [ok1, error1] = await client.enqueueJob({ name: "nope", instructions: {} });
    assert.equal(ok1, false);
    assert.equal(error1.code, "UNKNOWN_PIPELINE");
    assert.match(error1.message, /unknown pipeline "nope".*served/);
    for (const instructions of [[1, 2], "text", null, 42]) {
      const [ok, error] = await client.enqueueJob({ name: "served", instructions });
      assert.equal(ok, false);
      assert.equal(error.code, "INVALID_INSTRUCTIONS");
    }
  });

  it("answers BUSY when storage is full, and the same job for the same idempotency key", async (t) => {
    const cluster = Cluster.memory({ maxQueued: 2 });
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "p", steps: ["a"] }]);
    const client = await cluster.client();
    const [ok1, first] = await client.enqueueJob({ name: "p", instructions: { n: 1 }, idempotencyKey: "k1" });
    assert.ok(ok1);
    const [okAgain, again] = await client.enqueueJob({ name: "p", instructions: { n: 1 }, idempotencyKey: "k1" });
    assert.ok(okAgain);
    assert.equal(again.id, first.id);
    assert.equal(again.duplicate, true);
    assert.ok((await client.enqueueJob({ name: "p", instructions: { n: 2 } }))[0]);
    const [ok3, error] = await client.enqueueJob({ name: "p", instructions: { n: 3 } });
    assert.equal(ok3, false);
    assert.deepEqual(error, { code: "BUSY", message: "busy, try again later" });
  });

  it("batches concurrent enqueues and answers each", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "p", steps: ["a"] }]);
    const client = await cluster.client();
    const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => client.enqueueJob({ name: "p", instructions: { i } })));
    assert.ok(answers.every(([ok]) => ok));
    assert.equal(new Set(answers.map(([, job]) => (job as { id: string }).id)).size, 500);
    assert.equal((await cluster.storage.getStats("p")).accepted, 500);
  });

  it("waitFor rejects with JobNotFoundError for an unknown id and WAIT_TIMEOUT for an unfinished job", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "p", steps: ["a"] }]);
    const client = await cluster.client();
    await assert.rejects(client.waitFor("0000000000nosuchjob000", { timeoutMs: 200 }), JobNotFoundError);
    const [ok, job] = await client.enqueueJob({ name: "p", instructions: {} });
    assert.ok(ok);
    await assert.rejects(client.waitFor(job.id, { timeoutMs: 200 }), (error: unknown) => error instanceof WaitTimeoutError && error.code === "WAIT_TIMEOUT");
  });

  it("fails with a clear NoAnswerError within its timeout when nothing listens", async (t) => {
    const address = await freeAddress();
    const client = new PipelineClient(address, { timeoutMs: 300 });
    t.after(() => client.close());
    await client.connect();
    const started = Date.now();
    await assert.rejects(client.enqueueJob({ name: "p", instructions: {} }), (error: unknown) => {
      assert.ok(error instanceof NoAnswerError);
      assert.match(error.code, /^NO_ANSWER$/);
      assert.ok(error.idempotencyKey?.startsWith("client-"), "the key the client made for the request");
      assert.equal(
        error.message,
        `no answer from ${address} within 300 ms: is a pipeline server listening there? The job may still have been taken: send it again with idempotency key ${error.idempotencyKey} (never doubles it)`,
      );
      return true;
    });
    assert.ok(Date.now() - started < 1500);
  });

  it("a request that got NO_ANSWER while no server listened is not taken in by a server that starts later (a retry makes no duplicate)", async (t) => {
    const address = await freeAddress();
    const client = new PipelineClient(address, { timeoutMs: 300 });
    t.after(() => client.close());
    await client.connect();
    await assert.rejects(client.enqueueJob({ name: "p", instructions: { n: 1 } }), NoAnswerError);
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "p", steps: ["a"] }], { jobPullBind: address });
    // The client reconnects by itself; its next request is answered. Requests on one connection
    // arrive in order, so a first request still queued would have been taken in before this one.
    let answered: Awaited<ReturnType<PipelineClient["enqueueJob"]>> | undefined;
    for (let i = 0; i < 50 && answered === undefined; i++) {
      answered = await client.enqueueJob({ name: "p", instructions: { n: 2 } }).catch((error: unknown) => {
        if (error instanceof NoAnswerError) return undefined;
        throw error;
      });
    }
    assert.ok(answered?.[0], "the server never answered");
    const jobs = await cluster.storage.listJobs({ pipeline: "p" });
    assert.deepEqual(jobs.map((j) => j.instructions), [{ n: 2 }]);
  });
});
