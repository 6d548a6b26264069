/**
 * A quick throughput check (not the benchmark): 20 000 no-op jobs through client → pipeline server
 * → one worker (concurrency 64) over loopback, in this process, memory storage. Asserts that every
 * job is accepted and succeeds, and prints the rates (`jobs/s`) as test diagnostics (no time is
 * asserted: speed lives in `npm run bench`): end to end through the
 * client, and dispatch alone (jobs already in storage).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { Cluster } from "./zmq-fixture.ts";

const JOBS = 20_000;

describe("throughput", () => {
  it(`runs ${JOBS} no-op jobs through the ZeroMQ runtime`, async (t) => {
    const cluster = Cluster.memory();
    t.after(() => cluster.close());
    const server = await cluster.startServer([{ name: "noop", steps: ["noop"] }]);
    await cluster.startWorker({ jobType: "noop", handler: () => ({ ok: true }), config: { concurrency: 64 } });
    await eventually(() => server.workerIds().length === 1);
    let finished = 0;
    server.dispatcher.events.on("job:finished", () => finished++);
    const client = await cluster.client(undefined, 30_000);
    const started = process.hrtime.bigint();
    const window = 2000;
    for (let sent = 0; sent < JOBS; sent += window) {
      const answers = await Promise.all(Array.from({ length: Math.min(window, JOBS - sent) }, (_, i) => client.enqueueJob({ name: "noop", instructions: { i: sent + i } })));
      assert.ok(answers.every(([ok]) => ok));
    }
    const enqueuedMs = Number(process.hrtime.bigint() - started) / 1e6;
    await eventually(() => finished === JOBS, { timeoutMs: 25_000, intervalMs: 10, message: `finished ${finished}/${JOBS}` });
    const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
    const stats = await cluster.storage.getStats("noop");
    assert.equal(stats.accepted, JOBS);
    assert.equal(stats.succeeded, JOBS);
    const rate = Math.round(JOBS / (totalMs / 1000));
    t.diagnostic(`${JOBS} jobs: enqueued in ${Math.round(enqueuedMs)} ms, all succeeded in ${Math.round(totalMs)} ms → ${rate} jobs/s`);

    // Dispatch alone (jobs already in storage): lease → jobs → results → settle → ack.
    finished = 0;
    await cluster.storage.enqueueJobs(Array.from({ length: JOBS }, (_, i) => ({ pipeline: "noop", route: ["noop"], instructions: { i } })));
    const dispatchStarted = process.hrtime.bigint();
    await eventually(() => finished === JOBS, { timeoutMs: 25_000, intervalMs: 10, message: `finished ${finished}/${JOBS}` });
    const dispatchMs = Number(process.hrtime.bigint() - dispatchStarted) / 1e6;
    t.diagnostic(`dispatch only: ${JOBS} jobs in ${Math.round(dispatchMs)} ms → ${Math.round(JOBS / (dispatchMs / 1000))} jobs/s`);
  });
});
