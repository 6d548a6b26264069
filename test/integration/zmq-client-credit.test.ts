/**
 * Credit at the queue limit over real sockets: a producer far faster than the pipeline, against a
 * small maxQueued, gets every job accepted with no BUSY for its callers, and the server answers
 * BUSY about once per request of its first burst, not once per poll; two producers both progress,
 * turn and turn about; a client with busyWaitMs 0 (as clients before credit) is answered BUSY as
 * before and given no credit; against a server that ignores `held` (older than credit) probes
 * find the room; a request held longer than busyWaitMs is answered BUSY.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { IntakeRelay } from "../support/intake-relay.ts";
import { Cluster } from "./zmq-fixture.ts";

const P = [{ name: "p", steps: ["a"] }];

/** `jobs` enqueues, `lanes` at a time (each lane waits for its answer): the callers' BUSY answers, and who got each acceptance, in order. */
async function produce(client: PipelineClient, jobs: number, lanes: number, tag: string, accepted: string[]): Promise<number> {
  let next = 0;
  let busy = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < jobs) {
      const i = next++;
      const [ok, payload] = await client.enqueueJob({ name: "p", instructions: { i } });
      if (ok) accepted.push(tag);
      else if (payload.code === "BUSY") busy++;
      else throw new Error(`${payload.code}: ${payload.message}`);
    }
  }));
  return busy;
}

/** A client whose requests may wait a minute for room (a loaded machine runs jobs slowly): none is answered BUSY. */
async function producer(c: Cluster): Promise<PipelineClient> {
  const client = new PipelineClient(c.server!.jobPullAddress, { timeoutMs: 10_000, busyWaitMs: 60_000 });
  c.defer(() => client.close());
  await client.connect();
  return client;
}

async function cluster(maxQueued: number): Promise<Cluster> {
  const c = Cluster.memory({ maxQueued });
  await c.startServer(P);
  await c.startWorker({ jobType: "a", handler: (input) => input, config: { concurrency: 4 } });
  return c;
}

describe("credit at the queue limit", () => {
  it("a producer of 2000 jobs, 200 at a time, against maxQueued 20: every job taken, no BUSY to its callers, BUSY answers bounded by its first burst", async (t) => {
    const c = await cluster(20);
    t.after(() => c.close());
    const client = await producer(c);
    const accepted: string[] = [];
    const busy = await produce(client, 2000, 200, "a", accepted);
    assert.equal(busy, 0);
    assert.equal(accepted.length, 2000);
    assert.equal((await c.storage.getStats("p")).accepted, 2000);
    const server = c.server!;
    // The first burst (200) meets 20 places: 180 BUSY. After that requests wait for credit here.
    assert.ok(server.intakeCounts.busy >= 180, `BUSY answers: ${server.intakeCounts.busy}`);
    assert.ok(server.intakeCounts.busy <= 400, `BUSY answers: ${server.intakeCounts.busy} (polling would answer many per job)`);
    assert.ok(server.creditCounts.granted >= 1000, `credit granted: ${server.creditCounts.granted}`);
  });

  it("two producers against the same small room both progress, turn and turn about", async (t) => {
    const c = await cluster(20);
    t.after(() => c.close());
    const one = await producer(c);
    const two = await producer(c);
    const accepted: string[] = [];
    const busy = await Promise.all([produce(one, 1000, 100, "one", accepted), produce(two, 1000, 100, "two", accepted)]);
    assert.deepEqual(busy, [0, 0]);
    assert.equal(accepted.length, 2000);
    const firstHalf = accepted.slice(0, 1000);
    for (const tag of ["one", "two"]) {
      const share = firstHalf.filter((x) => x === tag).length / firstHalf.length;
      assert.ok(share >= 0.3, `${tag} had ${Math.round(share * 100)} % of the first 1000 acceptances`);
    }
  });

  it("a client with busyWaitMs 0 is answered BUSY at once, as before, and given no credit", async (t) => {
    const c = Cluster.memory({ maxQueued: 1 });
    t.after(() => c.close());
    const server = await c.startServer(P);
    const client = new PipelineClient(server.jobPullAddress, { timeoutMs: 5000, busyWaitMs: 0 });
    t.after(() => client.close());
    await client.connect();
    const [ok, first] = await client.enqueueJob({ name: "p", instructions: {} });
    assert.ok(ok);
    assert.deepEqual(await client.enqueueJob({ name: "p", instructions: {} }), [false, { code: "BUSY", message: "busy, try again later" }]);
    await c.startWorker({ jobType: "a", handler: (input) => input });
    assert.equal((await client.waitFor(first.id)).status, "succeeded");
    assert.equal((await client.run({ name: "p", instructions: {} })).status, "succeeded");
    assert.equal(server.creditCounts.granted, 0);
  });

  it("a request held longer than busyWaitMs is answered BUSY (nothing frees room)", async (t) => {
    const c = Cluster.memory({ maxQueued: 1 });
    t.after(() => c.close());
    const server = await c.startServer(P);
    const client = new PipelineClient(server.jobPullAddress, { timeoutMs: 5000, busyWaitMs: 300 });
    t.after(() => client.close());
    await client.connect();
    assert.equal((await client.enqueueJob({ name: "p", instructions: {} }))[0], true);
    const answers = await Promise.all(Array.from({ length: 50 }, () => client.enqueueJob({ name: "p", instructions: {} })));
    assert.ok(answers.every(([ok, payload]) => !ok && payload.code === "BUSY"));
    assert.equal((await c.storage.getStats("p")).accepted, 1);
  });

  it("against a server that ignores `held` (older than credit, emulated by a relay): probes find the room, no BUSY to callers", async (t) => {
    const c = await cluster(20);
    t.after(() => c.close());
    const relay = await IntakeRelay.start(c.server!.jobPullAddress, { strip: ["held"] });
    t.after(() => relay.close());
    const client = new PipelineClient(relay.address, { timeoutMs: 10_000, busyWaitMs: 60_000 });
    t.after(() => client.close());
    await client.connect();
    const accepted: string[] = [];
    assert.equal(await produce(client, 500, 100, "a", accepted), 0);
    assert.equal(accepted.length, 500);
    assert.equal(c.server!.creditCounts.granted, 0);
    assert.equal(relay.count("wants"), 0);
  });
});
