/**
 * PipelineClient batching: requests made together leave as one `enqueues`/`waits` message and are
 * answered in `replies`; a bad request in a batch is answered alone; a batch over the size cap is
 * split so that an oversized request is dropped alone; single `enqueue`/`wait` messages (other
 * clients) are still answered with one `reply` each.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as zmq from "zeromq";
import { NoAnswerError } from "../../src/core/errors/no-answer-error.ts";
import { decode, encode } from "../../src/transport/protocol.ts";
import { Cluster } from "./zmq-fixture.ts";

describe("PipelineClient batching", () => {
  it("answers every request of a mixed batch on its own: good, unknown pipeline, bad instructions", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "p", steps: ["a"] }]);
    const client = await cluster.client();
    const requests = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0 ? { name: "p", instructions: { i } } : i % 3 === 1 ? { name: "nope", instructions: { i } } : { name: "p", instructions: [i] },
    );
    const answers = await Promise.all(requests.map((r) => client.enqueueJob(r)));
    answers.forEach(([ok, payload], i) => {
      if (i % 3 === 0) assert.ok(ok && (payload as { id: string; status: string }).status === "queued");
      else assert.equal((payload as { code: string }).code, i % 3 === 1 ? "UNKNOWN_PIPELINE" : "INVALID_INSTRUCTIONS");
    });
    assert.equal((await cluster.storage.getStats("p")).accepted, 100);
  });

  it("refuses instructions nested deeper than 64 levels alone, the rest of the batch is stored", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "p", steps: ["a"] }]);
    const client = await cluster.client();
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 100; i++) deep = { a: deep };
    let ok64: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 63; i++) ok64 = { a: ok64 };
    const answers = await Promise.all([
      client.enqueueJob({ name: "p", instructions: { n: 1 } }),
      client.enqueueJob({ name: "p", instructions: deep }),
      client.enqueueJob({ name: "p", instructions: ok64 }),
    ]);
    assert.equal(answers[0][0], true);
    assert.equal((answers[1][1] as { code: string }).code, "TOO_DEEP");
    assert.equal(answers[2][0], true);
    assert.equal((await cluster.storage.getStats("p")).accepted, 2);
  });

  it("rejects a request whose instructions JSON cannot carry alone, the rest of the batch goes", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "p", steps: ["a"] }]);
    const client = await cluster.client();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const [first, bad, last] = await Promise.allSettled([
      client.enqueueJob({ name: "p", instructions: { n: 1 } }),
      client.enqueueJob({ name: "p", instructions: cyclic }),
      client.enqueueJob({ name: "p", instructions: { n: 2 } }),
    ]);
    assert.ok(first.status === "fulfilled" && first.value[0]);
    assert.ok(bad.status === "rejected" && bad.reason instanceof TypeError);
    assert.ok(last.status === "fulfilled" && last.value[0]);
  });

  it("waits for many jobs at once", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "p", steps: ["a"] }]);
    await cluster.startWorker({ jobType: "a", handler: (input) => ({ ...input, done: true }), config: { concurrency: 8 } });
    const client = await cluster.client();
    const jobs = await Promise.all(Array.from({ length: 200 }, (_, i) => client.enqueueJob({ name: "p", instructions: { i } })));
    const records = await Promise.all(jobs.map(([ok, job]) => (ok ? client.waitFor(job.id, { timeoutMs: 10_000 }) : Promise.reject(new Error("refused")))));
    assert.ok(records.every((r, i) => r.status === "succeeded" && (r.result as { i: number }).i === i));
  });

  it("splits a batch over the size cap, so that only the request too big for the server goes unanswered", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "p", steps: ["a"] }], { maxMessageBytes: 2 * 1024 * 1024 });
    const client = await cluster.client(undefined, 1500);
    const small = Array.from({ length: 20 }, (_, i) => client.enqueueJob({ name: "p", instructions: { i, pad: "x".repeat(100_000) } }));
    const big = client.enqueueJob({ name: "p", instructions: { blob: "y".repeat(3 * 1024 * 1024) } });
    const answers = await Promise.all(small);
    assert.ok(answers.every(([ok]) => ok));
    await assert.rejects(big, NoAnswerError);
  });

  it("still answers a single `enqueue` message with one `reply`", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    const server = await cluster.startServer([{ name: "p", steps: ["a"] }]);
    const pull = new zmq.Pull({ linger: 0 });
    const push = new zmq.Push({ linger: 0 });
    t.after(() => {
      push.close();
      pull.close();
    });
    await pull.bind("tcp://127.0.0.1:0");
    push.connect(server.jobPullAddress);
    await push.send(encode("enqueue", { requestId: "r1", replyTo: pull.lastEndpoint!, pipeline: "p", instructions: { n: 1 } }));
    const message = decode(await pull.receive());
    assert.ok(!(message instanceof Error) && message.type === "reply");
    assert.equal(message.body.requestId, "r1");
    assert.equal(message.body.ok, true);
  });
});
