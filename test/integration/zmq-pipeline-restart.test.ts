/**
 * A pipeline server goes away while a worker runs one of its jobs, and a new one starts on the
 * same addresses with the same storage. The result the worker holds for the gone server must reach
 * the new one and settle the job from its first attempt: no waiting for the lease to expire (the
 * step timeout is 60 s, so the lease outlives every wait here), no second attempt, one step record.
 *
 * Two PipelineServer instances share one MemoryStorageBackend in sequence. The first is stopped
 * while the attempt is still running: it has nothing to settle or acknowledge, and its leases stay
 * in storage, as after a crash; its sockets close, so its routing id leaves the worker's ROUTER.
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import * as zmq from "zeromq";
import type { PipelineDefinition } from "../../src/core/pipeline-definition.ts";
import { InProcessExecutor } from "../../src/engine/step-executor.ts";
import type { LogFields, Logger } from "../../src/log/logger.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { RedisStorageBackend } from "../../src/storage/redis/redis-storage-backend.ts";
import type { StorageBackend } from "../../src/storage/storage-backend.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer, type PipelineServerOptions } from "../../src/transport/pipeline-server.ts";
import { encode, PROTOCOL_VERSION } from "../../src/transport/protocol.ts";
import { StepWorker } from "../../src/transport/step-worker.ts";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses } from "../support/processes.ts";
import { startRedis } from "../support/redis-server.ts";

const PIPELINES: PipelineDefinition[] = [{ name: "restart", steps: ["slow"] }];
/** Far below the lease (60 s step timeout + 10 s): only the re-addressed result can finish the job in time. */
const SETTLE_WITHIN_MS = 8000;

/** A step whose attempts wait until the test releases them. */
class Gate {
  readonly started: string[] = [];
  #release: (() => void) | undefined;
  readonly #released: Promise<void>;
  #onStart: (() => void) | undefined;

  constructor() {
    this.#released = new Promise((resolve) => (this.#release = resolve));
  }

  readonly handler = async (input: Record<string, unknown>, ctx: { jobId: string }): Promise<Record<string, unknown>> => {
    this.started.push(ctx.jobId);
    this.#onStart?.();
    if (input.wait === true) await this.#released;
    return { done: input.n };
  };

  /** Resolves once `count` attempts have started. */
  async untilStarted(count: number, timeoutMs = 5000): Promise<void> {
    await eventually(() => this.started.length >= count, { timeoutMs, intervalMs: 10, message: `${count} attempts never started` });
  }

  release(): void {
    this.#release?.();
  }
}

type Line = { level: string; message: string; fields: LogFields };

function recordingLogger(lines: Line[], base: LogFields = {}): Logger {
  const log = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields: { ...base, ...fields } });
  return { debug: () => {}, info: log("info"), warn: log("warn"), error: log("error"), child: (fields) => recordingLogger(lines, { ...base, ...fields }) };
}

interface Setup {
  storage: MemoryStorageBackend;
  first: PipelineServer;
  worker: StepWorker;
  gate: Gate;
  jobId: string;
  /** The worker's log. */
  lines: Line[];
}

/** Server one, a worker of `slow` (concurrency 2, 60 s timeout), one job running and held by the gate. */
async function setUp(t: TestContext): Promise<Setup> {
  const storage = new MemoryStorageBackend();
  const first = new PipelineServer({ pipelines: PIPELINES, storage, subBind: "tcp://127.0.0.1:0", jobPullBind: "tcp://127.0.0.1:0" });
  t.after(() => first.stop());
  await first.start();
  const gate = new Gate();
  const lines: Line[] = [];
  t.after(() => gate.release());
  const worker = new StepWorker({
    executor: new InProcessExecutor({ jobType: "slow", handler: gate.handler, config: { concurrency: 2, timeoutMs: 60_000, retries: 2 } }),
    subConnect: first.subAddress,
    pullBind: "tcp://127.0.0.1:0",
    heartbeatMs: 200,
    resendMs: 500,
    logger: recordingLogger(lines),
  });
  t.after(() => worker.stop({ graceMs: 0 }));
  await worker.start();
  await eventually(() => first.workerIds().includes(worker.workerId), { message: "worker never joined the first server" });
  const jobId = await enqueue(first, { n: 1, wait: true });
  await gate.untilStarted(1);
  return { storage, first, worker, gate, jobId, lines };
}

async function enqueue(server: PipelineServer, instructions: Record<string, unknown>): Promise<string> {
  const outcome = await server.dispatcher.enqueue("restart", instructions);
  if (outcome.status !== "created") throw new Error(`enqueue answered ${outcome.status}`);
  return outcome.job.id;
}

/**
 * The new server, on the first one's addresses. libzmq releases a closed socket's port in its I/O
 * thread, a little after `close()`: a bind that finds the port still taken is tried again (5 s at most).
 */
async function startSecond(t: TestContext, setup: Setup): Promise<PipelineServer> {
  return startServerOn(t, { pipelines: PIPELINES, storage: setup.storage, subBind: setup.first.subAddress, jobPullBind: setup.first.jobPullAddress });
}

async function startServerOn(t: TestContext, options: PipelineServerOptions): Promise<PipelineServer> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const second = new PipelineServer(options);
    try {
      await second.start();
      t.after(() => second.stop());
      return second;
    } catch (error) {
      // start() has undone itself; only a bind (a config error here) is worth another try.
      if ((error as { code?: unknown }).code !== "INVALID_CONFIG" || Date.now() > deadline) throw error;
      await delay(50);
    }
  }
}

/** The job succeeded soon, from the first attempt of each of its `steps`, each settled once. */
async function assertSettledOnce(storage: StorageBackend, jobId: string, steps = 1): Promise<void> {
  const started = Date.now();
  await eventually(async () => (await storage.getJob(jobId))?.status === "succeeded", {
    timeoutMs: SETTLE_WITHIN_MS,
    message: `the job did not succeed within ${SETTLE_WITHIN_MS} ms of its release`,
  });
  const job = (await storage.getJob(jobId))!;
  assert.ok(Date.now() - started < SETTLE_WITHIN_MS);
  assert.equal(job.attempts, 1, "settled from its first attempt");
  assert.equal(job.steps.length, steps, "one record per step: each settled once");
  assert.deepEqual(job.steps.map((step) => step.attempts), job.steps.map(() => 1));
  if (steps === 1) assert.deepEqual(job.result, { done: 1 });
  assert.equal(job.error, undefined, `no error on the record (got ${JSON.stringify(job.error)})`);
}

describe("zmq: a pipeline server restarted while a worker runs its job", () => {
  it("the result held for the gone server reaches the new one and settles the first attempt", async (t) => {
    const setup = await setUp(t);
    assert.equal((await setup.storage.getJob(setup.jobId))?.status, "running");
    await setup.first.stop();
    const second = await startSecond(t, setup);
    // The worker finds the new server by its announcements; the new server has no job to send it.
    await eventually(() => second.workerIds().includes(setup.worker.workerId), { message: "worker never joined the second server" });
    setup.gate.release();
    await assertSettledOnce(setup.storage, setup.jobId);
    assert.deepEqual(setup.gate.started, [setup.jobId], "the job ran once");
    assert.equal(setup.worker.drops.total, 0, "the worker dropped no message (hello accepted)");
  });

  it("a result finished while no server runs waits for the next one", async (t) => {
    const setup = await setUp(t);
    await setup.first.stop();
    setup.gate.release();
    // The worker's send to the gone server fails; no live server is known: the result is parked.
    await eventually(() => setup.lines.some((l) => /server gone/.test(l.message) && l.fields.parked === 1), {
      message: `the result was never parked; worker log: ${JSON.stringify(setup.lines)}`,
    });
    assert.equal((await setup.storage.getJob(setup.jobId))?.status, "running", "nothing settled it while no server runs");
    await startSecond(t, setup);
    await assertSettledOnce(setup.storage, setup.jobId);
  });

  it("a new server that delivers jobs of the pipeline is where held results go", async (t) => {
    const setup = await setUp(t);
    await setup.first.stop();
    const second = await startSecond(t, setup);
    await eventually(() => second.workerIds().includes(setup.worker.workerId), { message: "worker never joined the second server" });
    // A second job, from the new server: the worker learns its routing id by the delivery.
    const other = await enqueue(second, { n: 2 });
    await eventually(async () => (await setup.storage.getJob(other))?.status === "succeeded", { message: "the new server's job did not succeed" });
    setup.gate.release();
    await assertSettledOnce(setup.storage, setup.jobId);
  });

  it("a malformed hello is counted and dropped; the worker goes on", async (t) => {
    const setup = await setUp(t);
    const dealer = new zmq.Dealer({ linger: 0 });
    t.after(() => dealer.close());
    dealer.connect(setup.worker.address);
    await dealer.send([Buffer.from(PROTOCOL_VERSION), Buffer.from("hello"), Buffer.from(JSON.stringify({ pipelines: "restart" }))]);
    await eventually(() => setup.worker.drops.total === 1, { message: "the malformed hello was not counted" });
    await dealer.send(encode("hello", { pipelines: ["restart"] }));
    // The worker still serves: the held job finishes and settles on the first server.
    setup.gate.release();
    await assertSettledOnce(setup.storage, setup.jobId);
    assert.equal(setup.worker.drops.total, 1, "the well-formed hello is accepted");
  });
});

describe("zmq: a pipeline server SIGKILLed (Redis) while a worker runs its job", () => {
  // The e2e durability fixture's pipeline: `durable` = work → finish. Its steps run here, in process.
  const FIXTURE = "test/e2e/fixtures/durability-steps.ts";
  const DURABLE: PipelineDefinition = { name: "durable", steps: ["work", "finish"] };

  it("a new server on the same addresses gets the result and settles the first attempt", async (t) => {
    const redis = await startRedis();
    t.after(() => redis.destroy());
    const [subPort, pullPort] = await freePorts(2);
    const sub = `tcp://127.0.0.1:${subPort}`;
    const pull = `tcp://127.0.0.1:${pullPort}`;
    const procs = new MarioProcesses();
    t.after(() => procs.stopAll());
    const first = procs.start(["pipeline", FIXTURE, DURABLE.name, `--sub-bind=${sub}`, `--job-pull-bind=${pull}`, `--redis=${redis.url}`]);
    await first.waitForLine(/pipeline server ready/);

    const gate = new Gate();
    t.after(() => gate.release());
    const work = new StepWorker({
      executor: new InProcessExecutor({ jobType: "work", handler: gate.handler, config: { concurrency: 2, timeoutMs: 60_000, retries: 2 } }),
      subConnect: sub,
      pullBind: "tcp://127.0.0.1:0",
      heartbeatMs: 200,
      resendMs: 500,
    });
    t.after(() => work.stop({ graceMs: 0 }));
    const finish = new StepWorker({
      executor: new InProcessExecutor({ jobType: "finish", handler: () => null, config: { timeoutMs: 60_000 } }),
      subConnect: sub,
      pullBind: "tcp://127.0.0.1:0",
      heartbeatMs: 200,
    });
    t.after(() => finish.stop({ graceMs: 0 }));
    await Promise.all([work.start(), finish.start()]);
    await first.waitForLine(/worker joined.*"jobType":"work"/);
    await first.waitForLine(/worker joined.*"jobType":"finish"/);

    const client = new PipelineClient(pull, { timeoutMs: 5000 });
    t.after(() => client.close());
    await client.connect();
    const [ok, job] = await client.enqueueJob({ name: DURABLE.name, instructions: { n: 1, wait: true } });
    assert.ok(ok, JSON.stringify(job));
    await gate.untilStarted(1);

    const exit = await first.kill();
    assert.equal(exit.signal, "SIGKILL");
    const storage = new RedisStorageBackend(DURABLE.name, { redisUri: redis.url });
    await storage.connect();
    t.after(() => storage.close());
    assert.equal((await storage.getJob(job.id))?.status, "running", "the job was leased when the server died");

    const second = await startServerOn(t, { pipelines: [DURABLE], storage: new RedisStorageBackend(DURABLE.name, { redisUri: redis.url }), subBind: sub, jobPullBind: pull });
    await eventually(() => second.workerIds().includes(work.workerId), { message: "the work worker never joined the new server" });
    gate.release();
    await assertSettledOnce(storage, job.id, 2);
    assert.deepEqual(gate.started, [job.id], "the job's first step ran once");
  });
});
