/**
 * The forwarder (XSUB/XPUB between workers and pipelines) and the streamer (PULL/PUSH between
 * clients and pipelines): a two-step pipeline still completes through both, and announcements
 * reach two pipeline servers through one forwarder.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startForwarder, startStreamer } from "../../src/transport/devices.ts";
import { eventually } from "../support/eventually.ts";
import { Cluster } from "./zmq-fixture.ts";

const generate = { jobType: "generate", handler: ({ size }: Record<string, unknown>) => ({ path: `/tmp/d-${String(size)}`, size }) };
const remove = { jobType: "remove", handler: ({ path, ...rest }: Record<string, unknown>) => ({ ...rest, deleted_path: path }) };

describe("forwarder and streamer", () => {
  it("runs the example through a forwarder and a streamer", async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    const forwarder = await startForwarder({ subscriber: "tcp://127.0.0.1:0", publisher: "tcp://127.0.0.1:0" });
    cluster.defer(() => forwarder.stop());
    const streamer = await startStreamer({ pull: "tcp://127.0.0.1:0", push: "tcp://127.0.0.1:0" });
    cluster.defer(() => streamer.stop());
    const [forwarderIn, forwarderOut] = forwarder.addresses;
    const [streamerIn, streamerOut] = streamer.addresses;
    const server = await cluster.startServer([{ name: "example", steps: ["generate", "remove"] }], {
      subBind: undefined,
      subConnect: forwarderOut,
      jobPullBind: undefined,
      jobPullConnect: streamerOut,
    });
    await cluster.startWorker(generate, { subConnect: forwarderIn });
    await cluster.startWorker(remove, { subConnect: forwarderIn });
    await eventually(() => server.workerIds().length === 2, { message: "workers announced through the forwarder" });
    const client = await cluster.client(streamerIn);
    const [ok, job] = await client.enqueueJob({ name: "example", instructions: { size: 10 } });
    assert.ok(ok, JSON.stringify(job));
    const final = await client.waitFor(job.id, { timeoutMs: 5000 });
    assert.equal(final.status, "succeeded");
    assert.equal((final.result as { deleted_path: string }).deleted_path, "/tmp/d-10");
  });

  it("fans announcements out to every pipeline server behind one forwarder", async (t) => {
    const one = Cluster.memory();
    const two = Cluster.memory();
    t.after(async () => {
      await one.close();
      await two.close();
    });
    const forwarder = await startForwarder({ subscriber: "tcp://127.0.0.1:0", publisher: "tcp://127.0.0.1:0", subscriberHwm: 100, publisherHwm: 100 });
    two.defer(() => forwarder.stop());
    const [forwarderIn, forwarderOut] = forwarder.addresses;
    const s1 = await one.startServer([{ name: "first", steps: ["generate"] }], { subBind: undefined, subConnect: forwarderOut });
    const s2 = await two.startServer([{ name: "second", steps: ["generate"] }], { subBind: undefined, subConnect: forwarderOut });
    await one.startWorker(generate, { subConnect: forwarderIn });
    await eventually(() => s1.workerIds().length === 1 && s2.workerIds().length === 1, { message: "both servers see the worker" });
    for (const [cluster, name] of [[one, "first"], [two, "second"]] as const) {
      const client = await cluster.client();
      const [ok, job] = await client.enqueueJob({ name, instructions: { size: 1 } });
      assert.ok(ok);
      assert.equal((await client.waitFor(job.id, { timeoutMs: 5000 })).status, "succeeded");
    }
  });
});
