/**
 * The registry of pipeline servers sharing one Redis: each server records its intake addresses
 * and pipelines with an expiring heartbeat; `mario gateway --redis` (and `PipelineClient` given a
 * Redis URL) read the live ones instead of being told every address.
 *
 * ```ts
 * const registry = new ServerRegistry({ redisUri: "redis://127.0.0.1:6379" });
 * await registry.connect();
 * const beat = registry.heartbeat({ serverId, intake: ["tcp://10.0.0.5:5050"], pipelines, namespace: "mario", ... });
 * await registry.live();   // ServerEntry[] whose heartbeat has not expired (Redis clock)
 * await beat.stop();       // forgets this server at once (a graceful shutdown)
 * await registry.close();
 * ```
 *
 * One key, `<prefix>:{servers}` (see `keys.ts`): an entry expires `ttlMs` after its last beat,
 * by the Redis clock, so a server killed without a goodbye drops out by itself.
 */
import { z } from "zod";
import { silentLogger, type Logger } from "../../log/logger.ts";
import { connectClient, createClient, DEFAULT_REDIS_URI, storageError, type RedisClient } from "./connection.ts";
import { serversKey } from "./keys.ts";
import { Scripts } from "./scripts.ts";

const entrySchema = z.object({
  serverId: z.string().min(1),
  /** Addresses a client pushes requests to (the server's bound `--job-pull-bind`, connectable). */
  intake: z.array(z.string().min(1)),
  pipelines: z.array(z.object({ name: z.string().min(1), steps: z.array(z.string().min(1)).min(1) })),
  /** Redis namespace of the server's keys, and their prefix. */
  namespace: z.string().min(1),
  keyPrefix: z.string().min(1),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.number(),
});

/** What a pipeline server records of itself (read back through the schema: anyone may write under the key). */
export type ServerEntry = z.infer<typeof entrySchema>;

export interface ServerRegistryOptions {
  /** Default `redis://127.0.0.1:6379`; a cluster form is accepted (see `connection.ts`). */
  redisUri?: string | undefined;
  /** First segment of the registry's key. Default `"mario"`. */
  keyPrefix?: string | undefined;
  logger?: Logger | undefined;
}

/** Heartbeat interval of a registered server, ms. */
export const DEFAULT_SERVER_HEARTBEAT_MS = 1000;
/** An entry not refreshed for this long is dead, ms. */
export const DEFAULT_SERVER_TTL_MS = 3000;

export interface Heartbeat {
  /** Stops beating and removes the entry. */
  stop(): Promise<void>;
}

export class ServerRegistry {
  readonly #uri: string;
  readonly #key: string;
  readonly #client: RedisClient;
  readonly #scripts: Scripts;
  readonly #logger: Logger;

  constructor(options: ServerRegistryOptions = {}) {
    this.#uri = options.redisUri ?? DEFAULT_REDIS_URI;
    this.#key = serversKey(options.keyPrefix ?? "mario");
    this.#logger = options.logger ?? silentLogger;
    this.#client = createClient(this.#uri);
    this.#client.on("error", () => {});
    this.#scripts = new Scripts(this.#client);
  }

  async connect(): Promise<void> {
    if (this.#client.status === "wait") await connectClient(this.#client, this.#uri, true, 0);
  }

  async close(): Promise<void> {
    this.#client.disconnect();
  }

  /** Records `entry` now and every `intervalMs` (default 1000), each time for `ttlMs` (default 3000). */
  heartbeat(entry: ServerEntry, options: { intervalMs?: number; ttlMs?: number } = {}): Heartbeat {
    const intervalMs = options.intervalMs ?? DEFAULT_SERVER_HEARTBEAT_MS;
    const ttlMs = options.ttlMs ?? Math.max(DEFAULT_SERVER_TTL_MS, 3 * intervalMs);
    const json = JSON.stringify(entry);
    let stopped = false;
    let inFlight: Promise<void> = Promise.resolve();
    const beat = (): void => {
      inFlight = this.#io(() => this.#scripts.registerServer(this.#key, entry.serverId, json, ttlMs))
        .then(() => undefined)
        .catch((error: unknown) => this.#logger.warn("server heartbeat not recorded in Redis", { error: String(error) }));
    };
    beat();
    const timer = setInterval(() => {
      if (!stopped) beat();
    }, intervalMs);
    return {
      stop: async () => {
        stopped = true;
        clearInterval(timer);
        await inFlight;
        await this.#io(() => this.#client.hdel(this.#key, entry.serverId)).catch(() => {});
      },
    };
  }

  /** The live servers (an entry that does not parse is skipped). */
  async live(): Promise<ServerEntry[]> {
    const raws = await this.#io(() => this.#scripts.listServers(this.#key));
    const entries: ServerEntry[] = [];
    for (const raw of raws) {
      try {
        const parsed = entrySchema.safeParse(JSON.parse(raw));
        if (parsed.success) entries.push(parsed.data);
      } catch {
        // not JSON: someone else's value under our key; skipped
      }
    }
    return entries;
  }

  async #io<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw storageError(this.#uri, error);
    }
  }
}
