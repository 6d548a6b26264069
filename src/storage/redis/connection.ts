/**
 * The ioredis client the Redis backend makes for itself, and the one rule that tells "Redis is
 * not reachable" (→ StorageUnavailableError) from other failures.
 *
 * A Redis Cluster is given by its seed nodes, in either form (any one reachable seed is enough;
 * ioredis' `Cluster` finds the rest and follows slot moves):
 * - `redis+cluster://host1:7000,host2:7001` (one scheme, comma-separated `host:port` seeds;
 *   `redis+cluster://:password@host1:7000,…` or `user:password@` for ACLs; `rediss+cluster://` for TLS)
 * - `redis://host1:7000,redis://host2:7001` (several single-node URLs, comma-separated)
 *
 * Commands never wait for a connection: `enableOfflineQueue: false` rejects them at once while
 * the client is not ready, and `maxRetriesPerRequest: 0` rejects commands in flight when the
 * connection drops. Meanwhile `retryStrategy` keeps reconnecting, so the same client works again
 * when Redis is back. A command without an answer after `commandTimeoutMs` (default 1000 ms),
 * while Redis answers nothing else on its connection (see _command-timeout.ts), rejects too, so a stalled Redis (a long fork, a slow script, SIGSTOP) is a fast
 * STORAGE_UNAVAILABLE instead of a request that waits it out. Such a command may still run once
 * Redis wakes: every enqueue carries an idempotency key, so sending it again is safe.
 */
import { once } from "node:events";
import { Cluster, Redis } from "ioredis";
import { StorageFullError } from "../../core/errors/storage-full-error.ts";
import { StorageUnavailableError } from "../../core/errors/storage-unavailable-error.ts";
import { DEFAULT_COMMAND_TIMEOUT_MS } from "./defaults.ts";
import { applyCommandTimeout } from "./_command-timeout.ts";

export const DEFAULT_REDIS_URI = "redis://127.0.0.1:6379";

export interface ClientOptions {
  connectTimeoutMs?: number | undefined;
  /** Rejects a command that has no answer after this long, ms. Default 1000; 0: no limit. */
  commandTimeoutMs?: number | undefined;
}

/** A single Redis or a Redis Cluster: the backend uses only what both offer. */
export type RedisClient = Redis | Cluster;

export interface ClusterSeeds {
  nodes: { host: string; port: number }[];
  username?: string | undefined;
  password?: string | undefined;
  tls: boolean;
}

/** The seeds of a cluster URI (see above), or undefined for a single-node URI. */
export function clusterSeedsOf(uri: string): ClusterSeeds | undefined {
  const trimmed = uri.trim();
  const scheme = /^(rediss?)\+cluster:\/\//.exec(trimmed);
  let urls: URL[];
  if (scheme !== null) {
    const rest = trimmed.slice(scheme[0].length);
    const at = rest.lastIndexOf("@");
    const auth = at < 0 ? "" : rest.slice(0, at + 1);
    const hosts = (at < 0 ? rest : rest.slice(at + 1)).replace(/\/.*$/, "");
    urls = hosts.split(",").filter((h) => h.trim() !== "").map((h) => new URL(`${scheme[1]}://${auth}${h.trim()}`));
  } else if (trimmed.includes(",")) {
    urls = trimmed.split(",").filter((u) => u.trim() !== "").map((u) => new URL(u.trim()));
  } else return undefined;
  if (urls.length === 0) throw new TypeError(`no seed node in Redis Cluster URI ${redactUri(uri)}`);
  const first = urls[0]!;
  return {
    nodes: urls.map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ""), port: u.port === "" ? 6379 : Number(u.port) })),
    username: first.username === "" ? undefined : decodeURIComponent(first.username),
    password: first.password === "" ? undefined : decodeURIComponent(first.password),
    tls: first.protocol === "rediss:",
  };
}

export function createClient(uri: string, options: ClientOptions = {}): RedisClient {
  const common = {
    connectTimeout: options.connectTimeoutMs ?? 2000,
    maxRetriesPerRequest: 0,
    // TCP keepalive on the Redis link (first probe after 10 s idle): a peer gone without a word
    // is noticed by the kernel, and ioredis reconnects.
    keepAlive: 10_000,
  };
  // The command timeout is ours, not ioredis' (see _command-timeout.ts).
  const timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const seeds = clusterSeedsOf(uri);
  if (seeds !== undefined) {
    const cluster = new Cluster(seeds.nodes, {
      lazyConnect: true,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times: number) => Math.min(50 * times, 1000),
      redisOptions: { ...common, username: seeds.username, password: seeds.password, ...(seeds.tls ? { tls: {} } : {}) },
    });
    applyCommandTimeout(cluster, timeoutMs);
    return cluster;
  }
  const redis = new Redis(uri, {
    lazyConnect: true,
    enableOfflineQueue: false,
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    ...common,
  });
  applyCommandTimeout(redis, timeoutMs);
  return redis;
}

const CONNECTION_TROUBLE =
  /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|connect ETIMEDOUT|None of startup nodes is available|Failed to refresh slots cache|Cluster isn't ready/;
const SERVER_NOT_READY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)\b/;

/** True when `error` says Redis cannot be reached or cannot answer right now. */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ReplyError") return SERVER_NOT_READY.test(error.message);
  // A socket's own error (ECONNREFUSED, ECONNRESET, EPIPE…): the connection, whatever its text says.
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true;
  return error.name === "MaxRetriesPerRequestError" || error.name === "ClusterAllFailedError" || CONNECTION_TROUBLE.test(error.message);
}

/**
 * True when Redis refused a write for lack of memory (`maxmemory` under `noeviction`). Redis
 * checks it before a script's first write, so nothing of that script was written; in a MULTI,
 * it refuses the command as it is queued and discards the whole transaction (EXECABORT, the
 * OOM among ioredis' `previousErrors`): nothing of it was written either.
 */
export function isOutOfMemory(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ReplyError" && /^OOM\b/.test(error.message)) return true;
  const previous = (error as { previousErrors?: unknown }).previousErrors;
  return /^EXECABORT\b/.test(error.message) && Array.isArray(previous) && previous.some((e) => isOutOfMemory(e));
}

/** A driver error as the storage port speaks it: STORAGE_FULL, STORAGE_UNAVAILABLE, or itself. */
export function storageError(uri: string, error: unknown): unknown {
  if (isOutOfMemory(error)) {
    return new StorageFullError(`Redis at ${redactUri(uri)} is out of memory (maxmemory reached), nothing was written: free memory or raise maxmemory`, { cause: error });
  }
  if (!isUnavailable(error)) return error;
  return new StorageUnavailableError(`Redis at ${redactUri(uri)} is unavailable: ${(error as Error).message}`, { cause: error });
}

/** The URI without its password, for messages. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:@/]*):[^@/]*@/g, "//$1:***@");
}

/**
 * Connects a client this process made and owns (status `wait` or `end`), or waits up to
 * `timeoutMs` for one someone else connects. A failure is STORAGE_UNAVAILABLE naming `uri`; an
 * owned client is disconnected then (no reconnecting in the background).
 */
export async function connectClient(client: RedisClient, uri: string, owned: boolean, timeoutMs: number): Promise<void> {
  try {
    if (owned && (client.status === "wait" || client.status === "end")) await client.connect();
    else await once(client, "ready", { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    if (owned) client.disconnect();
    const timedOut = error instanceof Error && error.name === "AbortError";
    const reason = timedOut ? `not ready after ${timeoutMs} ms (status ${client.status})` : error instanceof Error ? error.message : String(error);
    throw new StorageUnavailableError(`cannot connect to Redis at ${redactUri(uri)}: ${reason}`, { cause: error });
  }
}

/** The replies of a pipeline's or a MULTI's `exec()`, in order; throws the first command error. */
export function repliesOf(raw: [Error | null, unknown][] | null): unknown[] {
  return (raw ?? []).map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** A flat field, value, field, value… reply as pairs. */
export function pairsOf(flat: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}
