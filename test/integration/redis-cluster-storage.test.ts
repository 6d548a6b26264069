/**
 * The Redis backend against a real 3-master Redis Cluster (`redis+cluster://` seeds, ioredis'
 * Cluster client): the shared storage contract, pipelines in different slots on different
 * masters, and the registry of pipeline servers.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { clusterSeedsOf } from "../../src/storage/redis/connection.ts";
import { RedisStorageBackend } from "../../src/storage/redis/redis-storage-backend.ts";
import { ServerRegistry } from "../../src/storage/redis/server-registry.ts";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.ts";
import { storageContract } from "../support/storage-contract.ts";

const prefix = (): string => `t${randomBytes(6).toString("hex")}`;

// One cluster for the whole file, destroyed after its last test.
const shared = startRedisCluster();
shared.catch(() => {});
after(async () => (await shared).destroy());
storageContract("redis cluster (3 masters)", {
  create: async (options) => new RedisStorageBackend("contract", { ...options, redisUri: (await shared).url, keyPrefix: prefix() }),
});

describe("redis storage on a 3-master cluster", () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await shared;
  });

  it("the contract's two pipelines live in different slots, on different masters", async () => {
    const keys = ["contract-pipe", "other"].map((p) => `mario:contract:{${p}}:jobs`);
    const [slotA, slotB] = await Promise.all(keys.map((k) => cluster.slotOf(k)));
    assert.notEqual(slotA, slotB);
    const [masterA, masterB] = await Promise.all(keys.map((k) => cluster.masterOf(k)));
    assert.notEqual(masterA, masterB, `both on ${masterA}`);
  });

  it("jobs of two pipelines are written to two masters; reads across them work", async () => {
    const keyPrefix = prefix();
    const storage = new RedisStorageBackend("spread", { redisUri: cluster.url, keyPrefix });
    after(() => storage.close());
    await storage.connect();
    const pipelines = [{ name: "contract-pipe", steps: ["a"] }, { name: "other", steps: ["a"] }];
    await storage.initialize(pipelines);
    const before = await Promise.all(cluster.ports.map((p) => cluster.keysOn(p)));
    const outcomes = await storage.enqueueJobs(pipelines.map((p) => ({ pipeline: p.name, route: p.steps, instructions: { p: p.name } })));
    const after_ = await Promise.all(cluster.ports.map((p) => cluster.keysOn(p)));
    const grew = cluster.ports.filter((_, i) => after_[i]! > before[i]!);
    assert.ok(grew.length >= 2, `keys written on ${grew.length} master(s)`);
    const ids = outcomes.map((o) => (o.status === "created" ? o.job.id : ""));
    const jobs = await storage.getJobs(ids);
    assert.deepEqual(jobs.map((j) => j?.pipeline), ["contract-pipe", "other"]);
    const leased = await Promise.all(pipelines.map((p) => storage.leaseNext(p.name, "a", 10, 10_000)));
    assert.deepEqual(leased.map((l) => l.length), [1, 1]);
    const settled = await storage.settle(leased.flat().map((l) => ({ kind: "dead" as const, pipeline: l.job.pipeline, jobId: l.job.id, token: l.token, error: { name: "E", message: "x" } })));
    assert.deepEqual(settled, ["ok", "ok"], "one settle batch across two masters");
    assert.equal((await storage.listJobs({ status: "dead" })).length, 2);
  });

  it("the registry of pipeline servers works on a cluster", async () => {
    const registry = new ServerRegistry({ redisUri: cluster.url, keyPrefix: prefix() });
    after(() => registry.close());
    await registry.connect();
    const beat = registry.heartbeat({
      serverId: "s1", intake: ["tcp://127.0.0.1:5050"], pipelines: [{ name: "p", steps: ["a"] }],
      namespace: "mario", keyPrefix: "mario", host: "h", pid: 1, startedAt: 0,
    }, { intervalMs: 100 });
    let live = await registry.live();
    for (let i = 0; i < 50 && live.length === 0; i++) live = await registry.live();
    assert.deepEqual(live.map((s) => s.serverId), ["s1"]);
    await beat.stop();
    assert.deepEqual(await registry.live(), []);
  });

  it("reads both cluster URI forms", () => {
    assert.deepEqual(clusterSeedsOf("redis+cluster://:s3cret@10.0.0.1:7000,10.0.0.2:7001"), {
      nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "10.0.0.2", port: 7001 }], username: undefined, password: "s3cret", tls: false,
    });
    assert.deepEqual(clusterSeedsOf("redis://a:7000,redis://b")?.nodes, [{ host: "a", port: 7000 }, { host: "b", port: 6379 }]);
    assert.equal(clusterSeedsOf("redis://127.0.0.1:6379"), undefined);
  });
});
