/**
 * A real `redis-server` for tests: its own process, random free port and temporary directory.
 *
 * ```ts
 * const redis = await startRedis();
 * // ... redis.url ...
 * await redis.stop();      // kill it (SIGTERM), keep its data directory
 * await redis.restart();   // same port, same directory (durability: append-only file)
 * await redis.destroy();   // stop it and remove the directory
 * const lru = await startRedis({ args: ["--maxmemory-policy", "allkeys-lru"] });  // settings of its own
 * ```
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "./eventually.ts";

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** Pid of the running redis-server (for SIGSTOP/SIGCONT in tests), -1 when stopped. */
  readonly pid: number;
  /** Kills the server by its pid (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it if running, then starts it again on the same port with the same directory. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

const REDIS_SERVER = process.env.REDIS_SERVER ?? "/usr/bin/redis-server";

export interface StartRedisOptions {
  /** More `redis-server` arguments, after the defaults (a later one wins): e.g. `["--appendonly", "no"]`. */
  args?: readonly string[];
}

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), "mario-redis-"));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const killOnExit = (): void => {
    child?.kill("SIGKILL");
  };
  process.on("exit", killOnExit);

  const start = async (): Promise<void> => {
    const proc = spawn(
      REDIS_SERVER,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", dir, "--logfile", join(dir, "redis.log"), ...(options.args ?? [])],
      { stdio: "ignore" },
    );
    child = proc;
    const exited = once(proc, "exit").then(() => {
      throw new Error(`redis-server exited at start; see ${join(dir, "redis.log")}`);
    });
    exited.catch(() => {});
    await Promise.race([waitForPong(port, 5000), exited]);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, "exit");
    proc.kill("SIGTERM");
    await exited;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      await stop();
      process.off("exit", killOnExit);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Sends PING until the server answers +PONG, at most `timeoutMs`. */
async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  await eventually(() => pingOnce(port), { timeoutMs, intervalMs: 25, message: `redis-server on port ${port} did not answer PING within ${timeoutMs} ms` });
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    let reply = "";
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) finish(reply.startsWith("+PONG"));
    });
  });
}
