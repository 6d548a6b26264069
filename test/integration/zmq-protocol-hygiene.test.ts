/**
 * Garbage and oversized messages sent to every bound socket (announcement SUB, job PULL, worker
 * ROUTER) are dropped and counted, and the servers keep serving: a job still succeeds afterwards.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as zmq from "zeromq";
import { encode } from "../../src/transport/protocol.ts";
import { eventually } from "../support/eventually.ts";
import { Cluster } from "./zmq-fixture.ts";

const LIMIT = 64 * 1024;
const echo = { jobType: "echo", handler: (input: Record<string, unknown>) => ({ ...input, echoed: true }) };

function garbage(): Buffer[][] {
  return [
    [Buffer.from("hello")],
    [Buffer.from("MARIO0"), Buffer.from("announce"), Buffer.from("{}")],
    [Buffer.from("MARIO1"), Buffer.from("nonsense"), Buffer.from("{}")],
    [Buffer.from("MARIO1"), Buffer.from("announce"), Buffer.from("{not json")],
    [Buffer.from("MARIO1"), Buffer.from("enqueue"), Buffer.from(JSON.stringify({ requestId: 5 }))],
    [Buffer.from("MARIO1"), Buffer.from("jobs"), Buffer.from(JSON.stringify({ deliveries: [{ jobId: "x" }] }))],
    [Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0), Buffer.alloc(0)],
  ];
}

/** Over the decode limit, under libzmq's hard cap: reaches decode(), counted as oversized. */
const oversized = (): Buffer[] => [Buffer.from("MARIO1"), Buffer.from("enqueue"), Buffer.alloc(LIMIT + 1024, 0x20)];
/** Far over libzmq's cap: libzmq cuts the sender's connection; nothing reaches the server. */
const huge = (): Buffer[] => [Buffer.from("MARIO1"), Buffer.from("enqueue"), Buffer.alloc(4 * 1024 * 1024, 0x20)];

async function jobStillRuns(cluster: Cluster): Promise<void> {
  const client = await cluster.client();
  const [ok, job] = await client.enqueueJob({ name: "echo", instructions: { after: "garbage" } });
  assert.ok(ok, JSON.stringify(job));
  const final = await client.waitFor(job.id, { timeoutMs: 5000 });
  assert.equal(final.status, "succeeded");
  assert.deepEqual(final.result, { after: "garbage", echoed: true });
}

describe("protocol hygiene", () => {
  it("drops and counts garbage and oversized messages on the pipeline's SUB and PULL", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    const server = await cluster.startServer([{ name: "echo", steps: ["echo"] }], { maxMessageBytes: LIMIT });
    await cluster.startWorker(echo, { maxMessageBytes: LIMIT });

    const push = new zmq.Push({ linger: 0 });
    const pub = new zmq.Publisher({ linger: 0 });
    cluster.defer(() => {
      push.close();
      pub.close();
    });
    push.connect(server.jobPullAddress);
    pub.connect(server.subAddress);
    for (const frames of [...garbage(), oversized()]) await push.send(frames);
    await eventually(() => (server.drops.counts().bySocket.pull ?? 0) === garbage().length + 1, { message: "PULL drops counted" });
    assert.equal(server.drops.counts().oversized, 1);

    // PUB/SUB: keep publishing until the subscription is up, then count.
    await eventually(
      async () => {
        await pub.send(garbage()[0]!);
        return (server.drops.counts().bySocket.sub ?? 0) > 0;
      },
      { message: "SUB receives garbage" },
    );
    const before = server.drops.counts().bySocket.sub ?? 0;
    for (const frames of garbage()) await pub.send(frames);
    await pub.send(oversized());
    // (warm-up messages still in flight may add to the count: at least every one sent is counted)
    await eventually(() => (server.drops.counts().bySocket.sub ?? 0) >= before + garbage().length + 1 && server.drops.counts().oversized === 2, {
      message: "SUB drops counted",
    });

    // Beyond libzmq's cap the sender is disconnected by libzmq; the server is unaffected.
    const bully = new zmq.Push({ linger: 0 });
    cluster.defer(() => bully.close());
    bully.connect(server.jobPullAddress);
    await bully.send(huge());
    await jobStillRuns(cluster);
  });

  it("drops and counts garbage and oversized messages on the worker's ROUTER", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    await cluster.startServer([{ name: "echo", steps: ["echo"] }], { maxMessageBytes: LIMIT });
    const worker = await cluster.startWorker(echo, { maxMessageBytes: LIMIT });
    const dealer = new zmq.Dealer({ linger: 0 });
    cluster.defer(() => dealer.close());
    dealer.connect(worker.address);
    for (const frames of [...garbage(), oversized(), encode("ack", { acks: [{ jobId: "nope", token: "nope" }] })]) await dealer.send(frames);
    await eventually(() => worker.drops.total === garbage().length + 1, { message: "ROUTER drops counted" });
    assert.equal(worker.drops.counts().oversized, 1);
    assert.equal(worker.drops.counts().bySocket.router, garbage().length + 1);
    await dealer.send(huge());
    await jobStillRuns(cluster);
    assert.equal(worker.drops.total, garbage().length + 1, "a stray ack is valid and ignored");
  });
});
