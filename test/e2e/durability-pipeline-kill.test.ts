/**
 * Durability with Redis: SIGKILL the pipeline server (`mario pipeline … --redis`) while 1,000 jobs
 * are queued or in flight, start it again on the same ports: every accepted job ends succeeded (or
 * dead, for the jobs that always throw), no job succeeds twice in storage, no lease is left behind.
 * Real processes: redis-server, the pipeline server, a `mario step` worker per step.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { DurableCluster, summary } from "./fixtures/durability-cluster.ts";

const JOBS = 1000;

describe("durability: pipeline server killed", () => {
  it(`SIGKILL while ${JOBS} jobs are queued or in flight, restart: all final once, no lease left`, async (t) => {
    const cluster = await DurableCluster.start();
    t.after(() => cluster.close());

    const { ids, doomed } = await cluster.enqueue(JOBS, (i) => i % 50 === 7);
    // Let the run get going, then kill the server in the middle of it.
    await eventually(async () => (await cluster.stats()).succeeded >= 50, { timeoutMs: 15_000, message: "no job succeeded" });
    const exit = await cluster.server!.kill();
    assert.equal(exit.signal, "SIGKILL");
    const atKill = await cluster.stats();
    const unfinished = atKill.accepted - atKill.succeeded - atKill.dead;
    t.diagnostic(`at the kill: ${JSON.stringify(summary(atKill))}`);
    assert.equal(atKill.accepted, JOBS);
    assert.ok(unfinished >= JOBS / 2, `most jobs still queued or in flight when killed (${unfinished})`);
    assert.ok(atKill.running > 0, "some jobs were leased (in flight) when killed");

    await cluster.startServer();
    // Leases held by the dead server expire (timeout 1 s + 10 s grace) and their jobs run again.
    await cluster.untilFinal(JOBS, 40_000);
    await cluster.assertFinalState(ids, doomed);
    t.diagnostic(`final: ${JSON.stringify(summary(await cluster.stats()))}`);
  });
});
