/**
 * Durability with Redis going away: restarted under load (append-only file on), the pipeline
 * server and workers reconnect by themselves and every accepted job ends final exactly once;
 * while Redis is down, an enqueue fails fast with a clear error (client and `mario enqueue`) and
 * leaves nothing half-written. Real processes: redis-server, `mario pipeline --redis`, `mario step`.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { runMario } from "../support/processes.ts";
import { DurableCluster, PIPELINE, summary } from "./fixtures/durability-cluster.ts";

const JOBS = 1000;

describe("durability: Redis restarted", () => {
  it(`Redis stopped and started again under load: the servers reconnect, all ${JOBS} jobs final once`, async (t) => {
    const cluster = await DurableCluster.start();
    t.after(() => cluster.close());
    const server = cluster.server!;

    const { ids, doomed } = await cluster.enqueue(JOBS, (i) => i % 50 === 3);
    await eventually(async () => (await cluster.stats()).succeeded >= 100, { timeoutMs: 15_000, message: "no job succeeded" });
    const before = await cluster.stats();
    t.diagnostic(`at the stop: ${JSON.stringify(summary(before))}`);
    assert.ok(before.succeeded + before.dead < JOBS / 2, "most of the run is still to do");

    await cluster.redis.stop();
    // The server notices (its leases, settles or reclaims fail), and stays up.
    await eventually(() => /unavailable|not connected/i.test(server.stderr + server.stdout), {
      timeoutMs: 5000,
      message: "the pipeline server did not notice Redis going away",
    });
    await cluster.redis.restart();

    await cluster.untilFinal(JOBS, 40_000);
    assert.ok(server.running, "the pipeline server stayed up and reconnected by itself");
    await cluster.assertFinalState(ids, doomed);
  });

  it("while Redis is down, enqueue is refused with a clear error and writes nothing", async (t) => {
    const cluster = await DurableCluster.start();
    t.after(() => cluster.close());
    const client = await cluster.client(5000);

    const { ids } = await cluster.enqueue(20, () => false, 1);
    await cluster.untilFinal(ids.length, 15_000);
    const footprint = async (): Promise<unknown> => ({
      stats: summary(await cluster.stats()),
      jobs: await cluster.raw.hlen(cluster.keys.jobs),
      index: await cluster.raw.zcard(cluster.keys.index),
      queue: await cluster.raw.llen(cluster.keys.queuePrefix + "work"),
      idem: await cluster.raw.hlen(cluster.keys.idem),
    });
    const before = await footprint();

    await cluster.redis.stop();
    const started = performance.now();
    const [ok, error] = await client.enqueueJob({ name: PIPELINE.name, instructions: { i: -1 }, idempotencyKey: "while-down" });
    const tookMs = performance.now() - started;
    assert.equal(ok, false);
    assert.ok(!ok && error.code === "STORAGE_UNAVAILABLE", `code: ${JSON.stringify(error)}`);
    assert.match(!ok ? error.message : "", new RegExp(`Redis at redis://127\\.0\\.0\\.1:${cluster.redis.port} .*(unavailable|not connected)|not connected to Redis`));
    t.diagnostic(`refused in ${Math.round(tookMs)} ms`);

    const cli = await runMario(["enqueue", cluster.pull, PIPELINE.name, '{"i": -2}', "--timeout=5000"]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^mario enqueue: storage failed: .*Redis.*\n$/, "one line naming Redis");
    t.diagnostic(`the CLI refused in ${cli.durationMs} ms`);

    await cluster.redis.restart();
    await eventually(async () => (await cluster.storage.ping().then(() => true, () => false)), { timeoutMs: 5000 });
    assert.deepEqual(await footprint(), before, "nothing half-written while Redis was down");

    // And the same server takes jobs again once Redis is back.
    await eventually(
      async () => {
        const [accepted] = await client.enqueueJob({ name: PIPELINE.name, instructions: { i: -3, ms: 1 } });
        return accepted;
      },
      { timeoutMs: 10_000, intervalMs: 200, message: "enqueue did not work again after Redis came back" },
    );
  });
});
