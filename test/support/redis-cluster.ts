/**
 * A real 3-master Redis Cluster for tests: three `redis-server --cluster-enabled yes` processes on
 * free loopback ports, joined by `redis-cli --cluster create … --cluster-yes` (no replicas), ready
 * once every node says `cluster_state:ok`.
 *
 * ```ts
 * const cluster = await startRedisCluster();
 * // cluster.url: "redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
 * await cluster.masterOf("mario:x:{pipeline}:jobs");   // the port of the master holding that key's slot
 * await cluster.destroy();
 * ```
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { eventually } from "./eventually.ts";
import { freePort } from "./redis-server.ts";

const REDIS_SERVER = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";
const REDIS_CLI = process.env.REDIS_CLI ?? "/usr/bin/redis-cli";
const run = promisify(execFile);

export interface RedisCluster {
  /** `redis+cluster://127.0.0.1:<p1>,127.0.0.1:<p2>,127.0.0.1:<p3>` */
  url: string;
  ports: number[];
  /** The port of the master serving `key`'s hash slot. */
  masterOf(key: string): Promise<number>;
  /** The hash slot of `key`. */
  slotOf(key: string): Promise<number>;
  /** Keys a master holds (DBSIZE of that node). */
  keysOn(port: number): Promise<number>;
  /** Kills every node (by pid) and removes their directories. */
  destroy(): Promise<void>;
}

export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), "mario-redis-cluster-"));
  const ports: number[] = [];
  while (ports.length < size) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const children: ChildProcess[] = [];
  const admins: Redis[] = [];
  const killAll = (): void => {
    for (const child of children) child.kill("SIGKILL");
  };
  process.on("exit", killAll);
  const destroy = async (): Promise<void> => {
    for (const admin of admins) admin.disconnect();
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }),
    );
    process.off("exit", killAll);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const child = spawn(
        REDIS_SERVER,
        [
          "--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
          "--cluster-config-file", join(dir, `nodes-${port}.conf`), "--cluster-node-timeout", "5000",
          "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", join(dir, `redis-${port}.log`),
        ],
        { stdio: "ignore" },
      );
      children.push(child);
      const admin = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      admin.on("error", () => {});
      admins.push(admin);
    }
    await Promise.all(admins.map(async (admin) => {
      await eventually(async () => (await admin.connect().then(() => true, () => false)) || admin.status === "ready", { timeoutMs: 10_000, intervalMs: 50, message: "a cluster node did not start" });
    }));
    await run(REDIS_CLI, ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"], { timeout: 30_000 });
    await eventually(
      async () => (await Promise.all(admins.map(async (a) => String(await a.call("CLUSTER", "INFO")).includes("cluster_state:ok")))).every(Boolean),
      { timeoutMs: 20_000, intervalMs: 100, message: "the cluster did not reach cluster_state:ok" },
    );
  } catch (error) {
    await destroy();
    throw error;
  }
  const first = admins[0]!;
  const slotOf = async (key: string): Promise<number> => Number(await first.call("CLUSTER", "KEYSLOT", key));
  return {
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`,
    ports,
    slotOf,
    masterOf: async (key) => {
      const slot = await slotOf(key);
      const ranges = (await first.call("CLUSTER", "SLOTS")) as [number, number, [string, number, ...unknown[]], ...unknown[]][];
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (range === undefined) throw new Error(`no node serves slot ${slot}`);
      return Number(range[2][1]);
    },
    keysOn: async (port) => Number(await admins[ports.indexOf(port)]!.dbsize()),
    destroy,
  };
}
