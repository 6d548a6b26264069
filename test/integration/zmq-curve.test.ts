/**
 * CurveZMQ on every link: with keys, a TCP relay recording every byte between the parts never
 * sees a marker the instructions carry (nor Mario's protocol tag), while the same run without keys
 * shows it on each link; peers with a key not allowed, or no keys at all, are refused and counted.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import * as zmq from "zeromq";
import { parseAddress } from "../../src/core/address.ts";
import { Curve } from "../../src/transport/curve/curve.ts";
import { zapHandlerListening } from "../../src/transport/curve/zap-handler.ts";
import { InProcessExecutor } from "../../src/engine/step-executor.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { StepWorker } from "../../src/transport/step-worker.ts";
import { encode } from "../../src/transport/protocol.ts";
import { eventually } from "../support/eventually.ts";
import { startRelay, type Relay } from "../support/tcp-relay.ts";

const portOf = (address: string): number => parseAddress(address).port ?? 0;

interface Run {
  relays: Record<"announcements" | "intake" | "jobs" | "replies", Relay>;
  finals: { status: string; result?: unknown }[];
}

/**
 * Server and worker bound on 127.0.0.2, every peer reaching them through a relay on 127.0.0.1. Each
 * relay takes a free port on 127.0.0.1 first; its part then binds the same port on 127.0.0.2 (a
 * port the OS gave out on 127.0.0.2 could be taken on 127.0.0.1 by anyone: EADDRINUSE).
 */
async function runThroughRelays(marker: string, curve: { server: Curve; worker: Curve; client: Curve } | undefined, cleanup: (f: () => unknown) => void): Promise<Run> {
  const relay = async (): Promise<Relay> => {
    const r = await startRelay({ host: "127.0.0.1", port: 0 }, { host: "127.0.0.2", port: 0 });
    cleanup(() => r.close());
    return r;
  };
  const announcements = await relay();
  const intake = await relay();
  const server = new PipelineServer({
    pipelines: [{ name: "echo", steps: ["echo"] }],
    storage: new MemoryStorageBackend(),
    subBind: `tcp://127.0.0.2:${announcements.port}`,
    jobPullBind: `tcp://127.0.0.2:${intake.port}`,
    curve: curve?.server,
  });
  cleanup(() => server.stop());
  await server.start();
  const jobs = await relay();
  const worker = new StepWorker({
    executor: new InProcessExecutor({ jobType: "echo", handler: (input) => ({ echoed: input.note }) }),
    subConnect: `tcp://127.0.0.1:${portOf(server.subAddress)}`,
    pullBind: `tcp://127.0.0.2:${jobs.port}`,
    advertiseHost: "127.0.0.1",
    heartbeatMs: 200,
    curve: curve?.worker,
  });
  cleanup(() => worker.stop({ graceMs: 0 }));
  await worker.start();
  await eventually(() => server.workerIds().length === 1, { message: "the worker joined through the relay" });
  const replies = await relay();
  const client = new PipelineClient(`tcp://127.0.0.1:${portOf(server.jobPullAddress)}`, {
    replyBind: `tcp://127.0.0.2:${replies.port}`,
    replyHost: "127.0.0.1",
    timeoutMs: 5000,
    curve: curve?.client,
  });
  cleanup(() => client.close());
  await client.connect();
  const finals = await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const [ok, job] = await client.enqueueJob({ name: "echo", instructions: { note: `${marker} #${i}` } });
      assert.ok(ok, JSON.stringify(job));
      return client.waitFor(job.id, { timeoutMs: 10_000 });
    }),
  );
  return { relays: { announcements, intake, jobs, replies }, finals };
}

function keys(): { server: Curve; worker: Curve; client: Curve } {
  const serverKeys = zmq.curveKeyPair();
  const workerKeys = zmq.curveKeyPair();
  const clientKeys = zmq.curveKeyPair();
  return {
    server: new Curve({ keys: serverKeys, allow: [workerKeys.publicKey, clientKeys.publicKey] }),
    worker: new Curve({ keys: workerKeys, serverKey: serverKeys.publicKey }),
    client: new Curve({ keys: clientKeys, serverKey: serverKeys.publicKey }),
  };
}

/** A server on loopback (free ports) whose sockets are CURVE servers with `curve`'s keys. */
function guardedServer(curve: Curve): PipelineServer {
  return new PipelineServer({
    pipelines: [{ name: "echo", steps: ["echo"] }],
    storage: new MemoryStorageBackend(),
    subBind: "tcp://127.0.0.1:0",
    jobPullBind: "tcp://127.0.0.1:0",
    curve,
  });
}

describe("CurveZMQ", () => {
  it("without keys the relay reads the marker on every link (the control)", async (t) => {
    const marker = `MARKER-${randomBytes(8).toString("hex")}`;
    const run = await runThroughRelays(marker, undefined, (f) => t.after(f));
    assert.equal(run.finals.filter((f) => f.status === "succeeded").length, 20);
    for (const [name, relay] of Object.entries(run.relays)) {
      assert.ok(relay.recorded().includes("MARIO1"), `${name}: the protocol tag is readable`);
      if (name !== "announcements") assert.ok(relay.recorded().includes(marker), `${name}: the marker is readable`);
    }
  });

  it("with keys every job runs and nothing readable crosses the wire", async (t) => {
    const marker = `MARKER-${randomBytes(8).toString("hex")}`;
    const run = await runThroughRelays(marker, keys(), (f) => t.after(f));
    assert.equal(run.finals.filter((f) => f.status === "succeeded").length, 20, "0 lost");
    for (const [i, final] of run.finals.entries()) assert.deepEqual(final.result, { echoed: `${marker} #${i}` });
    for (const [name, relay] of Object.entries(run.relays)) {
      assert.ok(relay.bytes > 1000, `${name}: traffic went through the relay (${relay.bytes} bytes)`);
      const seen = relay.recorded();
      assert.ok(!seen.includes(marker), `${name}: the marker never appears`);
      assert.ok(!seen.includes("MARIO1"), `${name}: no protocol tag`);
      assert.ok(!seen.includes("echo"), `${name}: no pipeline or job type name`);
    }
  });

  it("refuses and counts a worker and a client whose keys are not allowed, and peers without keys", async (t) => {
    const k = keys();
    const server = guardedServer(k.server);
    t.after(() => server.stop());
    await server.start();
    const refusedFor = (socket: string, reason: string): boolean =>
      server.refusals.recent().some((r) => r.reason === "CURVE_KEY_REFUSED" && r.fields.socket === socket && r.fields.reason === reason);
    let ran = 0;
    const intruder = new Curve({ keys: zmq.curveKeyPair(), serverKey: k.server.publicKey });
    const rogueWorker = new StepWorker({
      executor: new InProcessExecutor({ jobType: "echo", handler: () => ({ stolen: ++ran }) }),
      subConnect: server.subAddress,
      pullBind: "tcp://127.0.0.1:0",
      heartbeatMs: 50,
      curve: intruder,
    });
    t.after(() => rogueWorker.stop({ graceMs: 0 }));
    await rogueWorker.start();
    const rogueClient = new PipelineClient(server.jobPullAddress, { timeoutMs: 300, curve: intruder });
    t.after(() => rogueClient.close());
    await rogueClient.connect();
    await assert.rejects(rogueClient.enqueueJob({ name: "echo", instructions: {} }), { code: "NO_ANSWER" });
    // A peer without keys at all: a raw PUSH of a well-formed enqueue.
    const plain = new zmq.Push({ linger: 0 });
    t.after(() => plain.close());
    plain.connect(server.jobPullAddress);
    void plain.send(encode("enqueue", { requestId: "r1", pipeline: "echo", instructions: {}, replyTo: "tcp://127.0.0.1:1" })).catch(() => {});
    // The plain peer retries its handshake every 100 ms: each try is cut and counted.
    await eventually(() => refusedFor("sub", "key not allowed") && refusedFor("pull", "key not allowed") && refusedFor("pull", "not CURVE"), {
      message: `rogue worker, rogue client and the plain peer refused: ${JSON.stringify(server.refusals.recent())}`,
    });
    assert.deepEqual(server.workerIds(), [], "the rogue worker never joined");
    assert.equal((await server.dispatcher.stats()).find((s) => s.pipeline === "echo")!.accepted, 0, "nothing enqueued");
    assert.equal(ran, 0);
    // The honest parts beside them work.
    const worker = new StepWorker({
      executor: new InProcessExecutor({ jobType: "echo", handler: (input) => ({ echoed: input.n }) }),
      subConnect: server.subAddress,
      heartbeatMs: 200,
      curve: k.worker,
    });
    t.after(() => worker.stop({ graceMs: 0 }));
    await worker.start();
    const client = new PipelineClient(server.jobPullAddress, { timeoutMs: 5000, curve: k.client });
    t.after(() => client.close());
    await client.connect();
    const done = await Promise.all(
      Array.from({ length: 10 }, async (_, n) => {
        const [ok, job] = await client.enqueueJob({ name: "echo", instructions: { n } });
        assert.ok(ok);
        return client.waitFor(job.id, { timeoutMs: 10_000 });
      }),
    );
    assert.deepEqual(done.map((d) => d.result), Array.from({ length: 10 }, (_, n) => ({ echoed: n })));
    assert.equal(ran, 0);
  });

  it("a server stopped and started again in this process guards its sockets again, at once or after the ZAP handler stopped", async () => {
    // The handler stays up ZAP_IDLE_MS after its last socket closed (a restart at once reuses it);
    // after that it stops, and the next one binds the endpoint again. libzmq frees a closed
    // socket's inproc endpoint later, on its reaper thread: without unbinding first, that bind
    // failed with EADDRINUSE.
    const k = keys();
    const startAndStop = async (): Promise<void> => {
      const server = guardedServer(k.server);
      await server.start();
      assert.ok(zapHandlerListening());
      await server.stop();
    };
    for (let round = 0; round < 10; round++) await startAndStop();
    for (let round = 0; round < 3; round++) {
      await eventually(() => !zapHandlerListening(), { message: "the idle ZAP handler stopped" });
      await startAndStop();
    }
    const intruder = new Curve({ keys: zmq.curveKeyPair(), serverKey: k.server.publicKey });
    const server = guardedServer(k.server);
    await server.start();
    try {
      const rogue = new PipelineClient(server.jobPullAddress, { timeoutMs: 300, curve: intruder });
      await rogue.connect();
      await assert.rejects(rogue.enqueueJob({ name: "echo", instructions: {} }), { code: "NO_ANSWER" }, "the last handler still refuses a key not allowed");
      rogue.close();
    } finally {
      await server.stop();
    }
  });
});
