/**
 * Attacks on Mario's wire, each against real sockets on 127.0.0.1, with an honest run beside it:
 * the attacker gets nothing done (no job enqueued, settled or stolen, no worker removed, no
 * function run, no policy changed), every refusal is counted on the server (server.refusals, with
 * a log line), and the honest jobs all succeed with 0 lost and 0 duplicate executions.
 *
 * The attacker speaks Mario's protocol with raw zeromq.js sockets, as someone on the same network
 * would: enqueue without keys, results with guessed lease tokens, `jobs` sent to a worker's job
 * socket, `bye` and announcements for a worker it is not, a worker that swallows its jobs, and a
 * flood of announcements. HTTP: a slowloris, and listeners beyond loopback without a token.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { describe, it, type TestContext } from "node:test";
import { Hono } from "hono";
import * as zmq from "zeromq";
import type { StepConfig } from "../../src/core/step-config.ts";
import { InProcessExecutor } from "../../src/engine/step-executor.ts";
import { serveGateway } from "../../src/gateway/serve-gateway.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import type { PipelineStats } from "../../src/storage/storage-backend.ts";
import { Curve } from "../../src/transport/curve/curve.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer, type PipelineServerOptions } from "../../src/transport/pipeline-server.ts";
import { encode } from "../../src/transport/protocol.ts";
import { StepWorker } from "../../src/transport/step-worker.ts";
import { RawWorker } from "../support/raw-worker.ts";
import { eventually } from "../support/eventually.ts";

const STEP = "work";
const PIPELINE = "honest";

/** Counts executions per job id: a duplicate execution shows as a count above 1. */
class Executions {
  readonly byJob = new Map<string, number>();
  record(jobId: string): void {
    this.byJob.set(jobId, (this.byJob.get(jobId) ?? 0) + 1);
  }
  get duplicates(): number {
    let n = 0;
    for (const count of this.byJob.values()) n += count - 1;
    return n;
  }
}

interface Honest {
  server: PipelineServer;
  worker: StepWorker;
  client: PipelineClient;
  executions: Executions;
  keys: { server: Curve; worker: Curve; client: Curve } | undefined;
  /** Enqueues `count` jobs and waits for each; answers how many succeeded. */
  run(count: number): Promise<{ succeeded: number; lost: number }>;
}

interface HonestOptions {
  keys?: boolean;
  stepConfig?: StepConfig;
  server?: Partial<PipelineServerOptions>;
  handler?: (input: Record<string, unknown>, attempt: number) => unknown;
  workerCapacity?: number;
}

function cleanup(t: TestContext, f: () => unknown): void {
  t.after(async () => {
    await f();
  });
}

/** A pipeline server, one honest worker and one honest client. */
async function honest(t: TestContext, options: HonestOptions = {}): Promise<Honest> {
  const keys = options.keys === true ? makeKeys() : undefined;
  const stepConfig = options.stepConfig ?? { timeoutMs: 5000, retries: 2, concurrency: options.workerCapacity ?? 4 };
  const server = new PipelineServer({
    pipelines: [{ name: PIPELINE, steps: [STEP] }],
    storage: new MemoryStorageBackend(),
    subBind: "tcp://127.0.0.1:0",
    jobPullBind: "tcp://127.0.0.1:0",
    curve: keys?.server,
    stepConfigs: new Map([[STEP, stepConfig]]),
    ...options.server,
  });
  cleanup(t, () => server.stop());
  await server.start();
  const executions = new Executions();
  const worker = new StepWorker({
    executor: new InProcessExecutor({
      jobType: STEP,
      config: stepConfig,
      handler: async (input, ctx) => {
        executions.record(ctx.jobId);
        return options.handler === undefined ? { done: input.n } : options.handler(input, ctx.attempt);
      },
    }),
    subConnect: server.subAddress,
    heartbeatMs: 100,
    curve: keys?.worker,
  });
  cleanup(t, () => worker.stop({ graceMs: 0 }));
  await worker.start();
  await eventually(() => server.workerIds().includes(worker.workerId), { message: "the honest worker joined" });
  const client = new PipelineClient(server.jobPullAddress, { timeoutMs: 10_000, curve: keys?.client });
  cleanup(t, () => client.close());
  await client.connect();
  return {
    server,
    worker,
    client,
    executions,
    keys,
    async run(count) {
      const finals = await Promise.all(
        Array.from({ length: count }, async (_, n) => {
          const [ok, job] = await client.enqueueJob({ name: PIPELINE, instructions: { n } });
          assert.ok(ok, JSON.stringify(job));
          return client.waitFor(job.id, { timeoutMs: 30_000 });
        }),
      );
      const succeeded = finals.filter((f) => f.status === "succeeded").length;
      return { succeeded, lost: count - succeeded };
    },
  };
}

async function stats(server: PipelineServer): Promise<PipelineStats> {
  const found = (await server.dispatcher.stats()).find((s) => s.pipeline === PIPELINE);
  assert.ok(found !== undefined, "the pipeline has stats");
  return found;
}

function makeKeys(): { server: Curve; worker: Curve; client: Curve } {
  const s = zmq.curveKeyPair();
  const w = zmq.curveKeyPair();
  const c = zmq.curveKeyPair();
  return {
    server: new Curve({ keys: s, allow: [w.publicKey, c.publicKey] }),
    worker: new Curve({ keys: w, serverKey: s.publicKey }),
    client: new Curve({ keys: c, serverKey: s.publicKey }),
  };
}

describe("attacks on the wire", () => {
  it("unauthenticated enqueue: a raw PUSH without keys, or with a key not allowed, enqueues nothing", async (t) => {
    const h = await honest(t, { keys: true });
    const raw = new zmq.Push({ linger: 0 });
    cleanup(t, () => raw.close());
    raw.connect(h.server.jobPullAddress);
    const intruder = new zmq.Push({ linger: 0, ...new Curve({ keys: zmq.curveKeyPair(), serverKey: h.keys!.server.publicKey }).clientOptions() });
    cleanup(t, () => intruder.close());
    intruder.connect(h.server.jobPullAddress);
    const request = encode("enqueues", { replyTo: "tcp://127.0.0.1:9", requests: [{ requestId: "r1", pipeline: PIPELINE, instructions: { n: -1 } }] });
    // Both sockets queue the message until a handshake that never completes: nothing is read.
    void raw.send(request).catch(() => {});
    void intruder.send(request).catch(() => {});
    await eventually(() => h.server.refusals.recent().some((r) => r.fields.reason === "key not allowed" && r.fields.socket === "pull"), {
      message: "the intruder's key was refused",
    });
    const result = await h.run(20);
    assert.deepEqual(result, { succeeded: 20, lost: 0 });
    assert.equal((await stats(h.server)).accepted, 20, "only the honest jobs were enqueued");
    assert.equal(h.executions.duplicates, 0);
  });

  it("guessed lease tokens: results for leases held by another connection settle nothing", async (t) => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const h = await honest(t, { handler: async (input) => { await gate; return { done: input.n }; } });
    const rogue = new RawWorker({ jobType: STEP });
    cleanup(t, () => rogue.close());
    await rogue.start(h.server.subAddress);
    await rogue.register(h.server);
    const running = h.run(4);
    await eventually(async () => (await stats(h.server)).running >= 1, { message: "honest jobs running" });
    const jobs = await h.server.dispatcher.list({ pipeline: PIPELINE, status: "running" });
    assert.ok(jobs.length > 0);
    const now = Date.now();
    const guesses = ["1", "2", "3", "100", "AAAAAAAAAAAAAAAAAAAAAA"];
    const outcomes = jobs.flatMap((job) => guesses.map((token) => ({ jobId: job.id, token, ok: true as const, output: { forged: true }, startedAt: now, finishedAt: now, workerId: h.worker.workerId })));
    await rogue.toServer("results", { workerId: h.worker.workerId, outcomes });
    await eventually(() => h.server.refusals.count("LEASE_NOT_HELD") >= outcomes.length, { message: "every forged result refused" });
    release();
    assert.deepEqual(await running, { succeeded: 4, lost: 0 });
    for (const job of await h.server.dispatcher.list({ pipeline: PIPELINE })) {
      assert.notDeepEqual(job.result, { forged: true }, "no job settled with made-up output");
    }
    assert.equal(h.executions.duplicates, 0);
  });

  it("running a function through a worker's job socket: refused without a registration, refused without an allowed key", async (t) => {
    for (const keyed of [false, true]) {
      const h = await honest(t, { keys: keyed });
      const before = h.executions.byJob.size;
      const dealer = new zmq.Dealer({ linger: 0, ...(keyed ? new Curve({ keys: zmq.curveKeyPair(), serverKey: h.keys!.worker.publicKey }).clientOptions() : {}) });
      cleanup(t, () => dealer.close());
      dealer.connect(h.worker.address);
      const delivery = { jobId: "0000000000000000000000", token: "t", pipeline: PIPELINE, jobType: STEP, stepIndex: 0, attempt: 1, input: { n: "chosen" }, timeoutMs: 1000 };
      // Without a server id, and with a made-up one: this worker was welcomed by neither.
      void dealer.send(encode("jobs", { deliveries: [delivery] })).catch(() => {});
      void dealer.send(encode("jobs", { deliveries: [delivery], serverId: "AAAAAAAAAAAAAAAA" })).catch(() => {});
      const [reason, count] = keyed ? (["CURVE_KEY_REFUSED", 1] as const) : (["PEER_NOT_REGISTERED", 2] as const);
      await eventually(() => h.worker.refusals.count(reason) >= count, { message: `the worker counted ${reason}` });
      assert.equal(h.executions.byJob.size, before, "the function never ran");
      assert.deepEqual(await h.run(10), { succeeded: 10, lost: 0 });
      assert.equal(h.executions.duplicates, 0);
    }
  });

  it("spoofed bye: a bye on the announcement socket that does not prove the worker removes nothing", async (t) => {
    const h = await honest(t, { handler: async (input) => { await new Promise((r) => setTimeout(r, 20)); return { done: input.n }; } });
    const pub = new zmq.Publisher({ linger: 0 });
    cleanup(t, () => pub.close());
    pub.connect(h.server.subAddress);
    const running = h.run(60);
    // PUB drops what it sends before the subscription arrives: spoof until ten were heard.
    let seq = 1_000_000;
    await eventually(
      async () => {
        await pub.send(encode("bye", { workerId: h.worker.workerId, handBack: [], final: true, seq: ++seq, proofs: { guess: "x" } }));
        return h.server.refusals.count("WORKER_UNPROVEN") >= 10;
      },
      { intervalMs: 30, message: "ten spoofed byes refused" },
    );
    assert.ok(h.server.workerIds().includes(h.worker.workerId), "the worker was not removed");
    assert.deepEqual(await running, { succeeded: 60, lost: 0 });
    assert.equal(h.executions.duplicates, 0, "no duplicate execution");
  });

  it("hijacked worker id: an announcement reusing a real worker's id with capacity 5000 changes nothing and draws no job", async (t) => {
    const h = await honest(t);
    const rogue = new RawWorker({ jobType: STEP });
    cleanup(t, () => rogue.close());
    await rogue.start(h.server.subAddress);
    const running = h.run(100);
    await eventually(
      async () => {
        await rogue.announce({ workerId: h.worker.workerId, capacity: 5000 });
        return h.server.refusals.count("WORKER_UNPROVEN") >= 5;
      },
      { intervalMs: 30, message: "the hijack was refused, five times" },
    );
    assert.deepEqual(await running, { succeeded: 100, lost: 0 });
    assert.equal(rogue.received.size, 0, "no job reached the hijacker");
    assert.equal((await h.server.dispatcher.workers()).find((w) => w.workerId === h.worker.workerId)?.capacity, 4, "capacity as the worker announced it");
    assert.equal(h.executions.duplicates, 0);
  });

  it("policy rewrite: a worker's announced timeout and retries do not replace the project's", async (t) => {
    const h = await honest(t, {
      stepConfig: { timeoutMs: 2000, retries: 2, concurrency: 4 },
      // Every job fails its first attempt: it succeeds only if retries are kept.
      handler: (input, attempt) => {
        if (attempt === 1) throw new Error("first attempt fails");
        return { done: input.n };
      },
    });
    const rogue = new RawWorker({ jobType: STEP });
    cleanup(t, () => rogue.close());
    await rogue.start(h.server.subAddress);
    await rogue.register(h.server);
    for (let i = 0; i < 3; i++) await rogue.announce({ capacity: 0, policy: { timeoutMs: 596 * 3_600_000, retries: 0, backoff: {} } });
    await rogue.announce({ workerId: h.worker.workerId, capacity: 4, policy: { timeoutMs: 596 * 3_600_000, retries: 0, backoff: {} } });
    const policy = h.server.dispatcher.policyFor(STEP);
    assert.equal(policy.timeoutMs, 2000, "the project's timeout");
    assert.equal(policy.retry.maxAttempts, 3, "the project's retries");
    assert.deepEqual(await h.run(10), { succeeded: 10, lost: 0 });
  });

  it("a job-swallowing peer is quarantined; its leases do not count against the jobs, which all succeed", async (t) => {
    const h = await honest(t, {
      stepConfig: { timeoutMs: 300, retries: 0, concurrency: 4 },
      server: { answerGraceMs: 200, quarantineMs: 60_000 },
    });
    const rogue = new RawWorker({ jobType: STEP });
    cleanup(t, () => rogue.close());
    await rogue.start(h.server.subAddress);
    await rogue.register(h.server, { capacity: 50 });
    // It stays connected and heartbeats, as the swallower did.
    rogue.heartbeat(50, { capacity: 50 });
    const result = await h.run(100);
    assert.deepEqual(result, { succeeded: 100, lost: 0 }, "none dead, though retries are 0");
    assert.ok(rogue.received.size > 0, "the rogue did draw jobs");
    const swallowed = await h.server.dispatcher.list({ pipeline: PIPELINE, limit: 1000 });
    assert.equal(swallowed.length, 100);
    assert.deepEqual(swallowed.filter((job) => job.steps[0]?.attempts !== 1).map((job) => job.id), [], "the swallower's leases counted as no attempt of any job");
    // Taken back from the swallower (overdue, or when it was quarantined): a stall each, not an attempt.
    const drawn = swallowed.filter((job) => rogue.received.has(job.id));
    assert.ok(drawn.length > 0);
    assert.deepEqual(drawn.filter((job) => (job.stalls ?? 0) < 1).map((job) => job.id), [], "every job the swallower held counts a stall");
    const listed = (await h.server.dispatcher.workers()).find((w) => w.workerId === rogue.workerId);
    assert.ok(listed?.quarantinedUntil !== undefined && listed.quarantinedUntil > Date.now(), "listed as quarantined");
    assert.ok(h.server.refusals.count("QUARANTINED") >= 1);
    assert.equal(h.executions.duplicates, 0);
  });

  it("announcement flood: 30,000 fake workers open no socket; new clients and workers are served during it", async (t) => {
    const h = await honest(t);
    const fds = (): number => readdirSync("/proc/self/fd").length;
    const before = fds();
    // An XPUB hears the server's subscription: the flood starts once it is there (a PUB drops
    // what it sends before, as many as a loaded machine's slow handshake lets through).
    const pub = new zmq.XPublisher({ linger: 0, sendHighWaterMark: 100_000 });
    cleanup(t, () => pub.close());
    pub.connect(h.server.subAddress);
    const [subscription] = await Promise.race([
      pub.receive(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the server never subscribed")), 30_000).unref()),
    ]);
    assert.equal(subscription?.[0], 1, "a subscribe message");
    let sent = 0;
    const flood = (async () => {
      for (; sent < 30_000; sent++) {
        await pub.send(encode("announce", {
          workerId: `fake-${sent}`, jobType: STEP, address: `tcp://127.0.0.1:${1024 + (sent % 60_000)}`, capacity: 100, inFlight: 0,
          host: "x", pid: 1, heartbeatMs: 100, draining: false, policy: { timeoutMs: 1000, retries: 0, backoff: {} }, seq: 1,
        }));
      }
    })();
    await eventually(() => sent > 2000, { message: "the flood is under way" });
    const startedAt = Date.now();
    const late = new StepWorker({ executor: new InProcessExecutor({ jobType: STEP, handler: () => ({ late: true }) }), subConnect: h.server.subAddress, heartbeatMs: 100 });
    cleanup(t, () => late.stop({ graceMs: 0 }));
    await late.start();
    const client = new PipelineClient(h.server.jobPullAddress, { timeoutMs: 5000 });
    cleanup(t, () => client.close());
    await client.connect();
    const [ok] = await client.enqueueJob({ name: PIPELINE, instructions: { n: 1 } });
    assert.ok(ok, "a new client is answered during the flood");
    const clientMs = Date.now() - startedAt;
    await eventually(() => h.server.dispatcher.hasWorker(late.workerId), { message: "a new worker joins during the flood" });
    const workerMs = Date.now() - startedAt;
    t.diagnostic(`during the flood: new client answered in ${clientMs} ms, new worker joined in ${workerMs} ms`);
    await flood;
    assert.ok(fds() - before < 50, `file descriptors bounded (${before} → ${fds()})`);
    assert.ok(h.server.workerIds().length <= 3, "no fake worker was taken on");
    // Counted when forgotten (at most 4096 candidates are remembered), on the server's next checks.
    await eventually(() => h.server.refusals.count("WORKER_UNCONFIRMED") > 20_000, { message: "fakes counted" });
    assert.deepEqual(await h.run(20), { succeeded: 20, lost: 0 });
    assert.equal(h.executions.duplicates, 0);
  });

  it("HTTP: a slowloris is cut at the headers timeout while an honest request is answered", async (t) => {
    const served = await serveGateway(new Hono().get("/health", (c) => c.json({ ok: true })), { port: 0, host: "127.0.0.1", headersTimeoutMs: 300 });
    cleanup(t, () => served.close(0));
    const slow: Socket = await new Promise((resolve, reject) => {
      const s = connect(served.port, "127.0.0.1", () => resolve(s));
      s.once("error", reject);
    });
    cleanup(t, () => slow.destroy());
    slow.on("error", () => {});
    const request = `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${"a".repeat(400)}\r\n\r\n`;
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < request.length && !slow.destroyed) slow.write(request[sent++]!);
    }, 20);
    cleanup(t, () => clearInterval(drip));
    assert.equal((await fetch(`${served.url}health`)).status, 200, "answered meanwhile");
    await new Promise<void>((resolve) => slow.once("close", () => resolve()));
    clearInterval(drip);
    assert.ok(sent < request.length, `cut before its headers were complete (${sent} of ${request.length} bytes)`);
  });

  it("listeners beyond loopback without a token or keys print one warning line naming the flag", async (t) => {
    const lines: string[] = [];
    const open = await serveGateway(new Hono(), { port: 0, host: "0.0.0.0", tokenRequired: false, warn: (l) => lines.push(l) });
    await open.close(0);
    const warned: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (m: string) => warned.push(m), error: () => {}, child: () => logger };
    const worker = new StepWorker({ executor: new InProcessExecutor({ jobType: STEP, handler: () => ({}) }), subConnect: "tcp://127.0.0.1:9", pullBind: "tcp://0.0.0.0:0", logger });
    cleanup(t, () => worker.stop({ graceMs: 0 }));
    await worker.start();
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /--token/);
    assert.equal(warned.length, 1);
    assert.match(warned[0]!, /--curve-secret-key-file/);
  });
});
