/**
 * Function attempts share a small pool of worker threads, many at once on each (issue #16): the
 * real ThreadExecutor (real threads) under a LocalRunner (dispatcher + memory storage), the
 * attempts waiting on an HTTP gate on 127.0.0.1 that tells how many are in flight at once. A hard
 * timeout, a crash and an ignored cancel each end one attempt; the others that were on its thread
 * come back as stalls (not attempts) and then succeed. Nothing here waits on time.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import type { Delivery, StepOutcome } from "../../src/engine/delivery.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { bundleFunction } from "../../src/functions/bundle-function.ts";
import { ThreadExecutor } from "../../src/host/thread-executor.ts";
import { createLogger } from "../../src/log/logger.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { eventually } from "../support/eventually.ts";
import { HttpGate } from "../support/http-gate.ts";

/** Logs, then waits at the gate (or spins, or crashes from a timer), then logs again. */
const GATED = `
export const config = { concurrency: 64, timeoutMs: 30000, retries: 0 };
export default async function gated(input, ctx) {
  console.log("start " + input.n);
  if (input.spin === true) for (;;) {}
  if (input.crash === true) {
    setTimeout(() => { throw new Error("crash from a timer in " + input.n); }, 0);
    return new Promise(() => {});
  }
  const response = await fetch(input.gate + "?n=" + input.n, input.ignoreSignal === true ? {} : { signal: ctx.signal });
  await response.text();
  console.log("end " + input.n);
  return { n: input.n };
}
`;

interface Fixture {
  project: TempProject;
  gate: HttpGate;
  executor: ThreadExecutor;
  runner: LocalRunner;
  logLines: string[];
}

async function fixture(threads: number): Promise<Fixture> {
  const project = await tempProject({ files: { "gated.ts": GATED } });
  const gate = await HttpGate.start();
  const logLines: string[] = [];
  const logger = createLogger({ level: "info", format: "json", write: (line) => logLines.push(line) });
  const executor = await ThreadExecutor.load(await bundleFunction(`${project.functionsDir}/gated.ts`), { threads, killGraceMs: 300, cancelGraceMs: 300, logger });
  const runner = new LocalRunner({
    pipelines: [{ name: "gated", steps: ["gated"] }],
    steps: [{ jobType: "gated", handler: () => assert.fail("runs in a thread, not here") }],
    executorFor: () => executor,
    logger,
  });
  await runner.start();
  return { project, gate, executor, runner, logLines };
}

async function teardown(f: Fixture | undefined): Promise<void> {
  await f?.runner.stop();
  await f?.executor.close();
  await f?.gate.close();
  await f?.project.cleanup();
}

async function enqueue(f: Fixture, instructions: object): Promise<string> {
  return (await f.runner.enqueue("gated", instructions)).job.id;
}

const wait = (f: Fixture, id: string): Promise<JobRecord> => f.runner.waitFor(id, 30_000);
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
const messages = (job: JobRecord): string[] => (job.history ?? []).flatMap((a) => (a.logs ?? []).map((l) => l.msg));

describe("thread pool: many attempts per thread", () => {
  let f: Fixture;
  before(async () => {
    f = await fixture(2);
  });
  after(() => teardown(f));

  it("runs 64 attempts at once on at most 2 threads", async () => {
    assert.equal(f.executor.size, 2);
    const ids = await Promise.all(Array.from({ length: 64 }, (_, n) => enqueue(f, { gate: f.gate.url, n })));
    await f.gate.until(64);
    assert.ok(f.executor.threads <= 2, `threads: ${f.executor.threads}`);
    assert.equal(sum(f.executor.inFlight), 64, "64 attempts in flight at once");
    f.gate.open();
    const jobs = await Promise.all(ids.map((id) => wait(f, id)));
    assert.deepEqual(jobs.map((j) => j.result), ids.map((_, n) => ({ n })));
    assert.equal(f.executor.replaced, 0);
  });

  it("keeps each console line with the attempt that wrote it, attempts interleaved", async () => {
    f.gate.shut();
    const ids = await Promise.all(Array.from({ length: 10 }, (_, n) => enqueue(f, { gate: f.gate.url, n: 100 + n })));
    await f.gate.until(10); // every attempt has written its first line, none its second
    f.gate.open();
    const jobs = await Promise.all(ids.map((id) => wait(f, id)));
    for (const [i, job] of jobs.entries()) assert.deepEqual(messages(job), [`start ${100 + i}`, `end ${100 + i}`]);
  });
});

describe("thread pool: one attempt's end does not fail its neighbours", () => {
  let f: Fixture;
  before(async () => {
    f = await fixture(1);
  });
  after(() => teardown(f));

  it("a crash from one attempt's timer fails that attempt; the others on its thread come back as stalls and succeed", async () => {
    f.gate.shut();
    const neighbours = await Promise.all([1, 2, 3].map((n) => enqueue(f, { gate: f.gate.url, n })));
    await f.gate.until(3);
    const crash = await enqueue(f, { crash: true, n: 4 });
    const crashed = await wait(f, crash);
    assert.equal(crashed.status, "dead");
    assert.equal(crashed.error?.code, "HANDLER_CRASHED");
    assert.match(crashed.error?.message ?? "", /crash from a timer in 4/);
    assert.equal(crashed.stalls, undefined);
    f.gate.open();
    const jobs = await Promise.all(neighbours.map((id) => wait(f, id)));
    assert.deepEqual(jobs.map((j) => [j.status, j.attempts, j.stalls]), [1, 2, 3].map(() => ["succeeded", 1, 1]));
    assert.equal(f.executor.crashes, 1);
    assert.ok(f.logLines.some((l) => l.includes(`a function thread crashed in an attempt of job ${crash}: 3 other attempt(s) on it handed back as stalls`)), f.logLines.join("\n"));
  });

  it("a cancelled attempt's ctx.signal fires and it ends cancelled; its neighbours run on, on the same thread", async () => {
    f.gate.shut();
    const replaced = f.executor.replaced;
    const ids = await Promise.all([11, 12, 13].map((n) => enqueue(f, { gate: f.gate.url, n })));
    await f.gate.until(3);
    await f.runner.dispatcher.cancel(ids[0]!);
    assert.equal((await wait(f, ids[0]!)).status, "cancelled");
    await eventually(() => f.gate.waiting === 2, { message: "the cancelled attempt's fetch was aborted by ctx.signal" });
    f.gate.open();
    const jobs = await Promise.all(ids.slice(1).map((id) => wait(f, id)));
    assert.deepEqual(jobs.map((j) => [j.status, j.stalls]), [["succeeded", undefined], ["succeeded", undefined]]);
    assert.equal(f.executor.replaced, replaced, "no thread was terminated");
  });

  it("a cancelled attempt that ignores ctx.signal has its thread terminated after the grace; its neighbours come back as stalls and succeed", async () => {
    f.gate.shut();
    const replaced = f.executor.replaced;
    const neighbours = await Promise.all([21, 22].map((n) => enqueue(f, { gate: f.gate.url, n })));
    await f.gate.until(2);
    const spin = await enqueue(f, { spin: true, n: 23 });
    await eventually(() => sum(f.executor.inFlight) === 3, { message: "the spinning attempt was handed to the thread" });
    await f.runner.dispatcher.cancel(spin);
    const cancelled = await wait(f, spin);
    assert.equal(cancelled.status, "cancelled");
    f.gate.open();
    const jobs = await Promise.all(neighbours.map((id) => wait(f, id)));
    assert.deepEqual(jobs.map((j) => [j.status, j.attempts, j.stalls]), [["succeeded", 1, 1], ["succeeded", 1, 1]]);
    assert.equal(f.executor.replaced, replaced + 1);
    assert.ok(f.logLines.some((l) => l.includes(`a cancelled attempt of job ${spin} ignored ctx.signal for 300 ms: its thread was terminated (2 other attempt(s) on it handed back as stalls)`)), f.logLines.join("\n"));
  });
});

describe("thread pool: hard timeouts (the executor itself)", () => {
  let f: Fixture;
  before(async () => {
    f = await fixture(1);
  });
  after(() => teardown(f));

  const hooks = { workerId: "w", logger: createLogger({ level: "silent" }), signal: new AbortController().signal, onProgress: () => {} };
  let seq = 0;
  const delivery = (input: object, timeoutMs: number): Delivery => ({ jobId: `j${++seq}`, token: "t", pipeline: "gated", jobType: "gated", stepIndex: 0, attempt: 1, input: input as Delivery["input"], timeoutMs });
  const code = (outcome: StepOutcome): string | undefined => (outcome.ok ? undefined : outcome.error.code);

  it("an async attempt past its timeout fails with TIMEOUT and its thread is kept: the attempts beside it finish", async () => {
    f.gate.shut();
    const neighbours = [1, 2].map((n) => f.executor.execute(delivery({ gate: f.gate.url, n }, 30_000), hooks));
    await f.gate.until(2);
    const late = await f.executor.execute(delivery({ gate: f.gate.url, n: 3, ignoreSignal: true }, 300), hooks);
    assert.equal(code(late), "TIMEOUT");
    f.gate.open();
    const outcomes = await Promise.all(neighbours);
    assert.deepEqual(outcomes.map((o) => o.ok && o.output), [{ n: 1 }, { n: 2 }]);
    assert.equal(f.executor.replaced, 0, "its thread answered: not terminated");
  });

  it("`while (true) {}` past its timeout fails with TIMEOUT; its thread is terminated and the attempts beside it are lost (ATTEMPT_LOST), then run again", async () => {
    f.gate.shut();
    const inputs = [11, 12, 13].map((n) => delivery({ gate: f.gate.url, n }, 30_000));
    const neighbours = inputs.map((d) => f.executor.execute(d, hooks));
    await f.gate.until(3);
    const spin = await f.executor.execute(delivery({ spin: true, n: 14 }, 300), hooks);
    assert.equal(code(spin), "TIMEOUT");
    assert.match(spin.ok ? "" : spin.error.message, /timed out after 300 ms/);
    const lost = await Promise.all(neighbours);
    assert.deepEqual(lost.map(code), ["ATTEMPT_LOST", "ATTEMPT_LOST", "ATTEMPT_LOST"]);
    assert.match(lost[0]!.ok ? "" : lost[0]!.error.message, /did not end at its timeout \(300 ms\).*handed back as a stall/);
    assert.equal(f.executor.replaced, 1);
    f.gate.open();
    const again = await Promise.all(inputs.map((d) => f.executor.execute(d, hooks)));
    assert.deepEqual(again.map((o) => o.ok && o.output), [{ n: 11 }, { n: 12 }, { n: 13 }]);
  });
});

describe("thread pool: growing", () => {
  let f: Fixture;
  before(async () => {
    f = await fixture(2);
  });
  after(() => teardown(f));

  const hooks = { workerId: "w", logger: createLogger({ level: "silent" }), signal: new AbortController().signal, onProgress: () => {} };
  let seq = 0;
  const delivery = (input: object, timeoutMs: number): Delivery => ({ jobId: `g${++seq}`, token: "t", pipeline: "gated", jobType: "gated", stepIndex: 0, attempt: 1, input: input as Delivery["input"], timeoutMs });

  it("attempts that wait on I/O share one thread; a second starts once the first is busy (here: blocked)", async () => {
    f.gate.open();
    const waiting = await Promise.all(Array.from({ length: 16 }, (_, n) => f.executor.execute(delivery({ gate: f.gate.url, n }, 30_000), hooks)));
    assert.ok(waiting.every((o) => o.ok));
    assert.equal(f.executor.threads, 1, "16 attempts waiting on I/O: one thread");
    const spin = f.executor.execute(delivery({ spin: true, n: 99 }, 5000), hooks);
    const queued: Promise<StepOutcome>[] = [];
    // Each attempt handed out looks at how busy the threads were; the blocked one is, fully.
    await eventually(() => {
      queued.push(f.executor.execute(delivery({ gate: f.gate.url, n: 100 + queued.length }, 30_000), hooks));
      return f.executor.threads === 2;
    }, { intervalMs: 50, timeoutMs: 10_000, message: "a second thread started" });
    await eventually(() => f.executor.readyThreads === 2, { timeoutMs: 10_000, message: "the second thread is ready" });
    const fresh = f.executor.execute(delivery({ gate: f.gate.url, n: 200 }, 30_000), hooks);
    assert.equal(await Promise.race([fresh.then(() => "fresh"), spin.then(() => "spin")]), "fresh", "the next attempt ran beside the blocked thread");
    const ran = await fresh;
    assert.deepEqual(ran.ok && ran.output, { n: 200 });
    assert.equal(code(await spin), "TIMEOUT");
    const outcomes = await Promise.all(queued);
    assert.ok(outcomes.every((o) => o.ok || code(o) === "ATTEMPT_LOST"), "those handed to the blocked thread were lost with it, or ran on the new one");
  });
});

function code(outcome: StepOutcome): string | undefined {
  return outcome.ok ? undefined : outcome.error.code;
}
