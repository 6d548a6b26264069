/**
 * The ioredis client the Redis backend makes for itself, and the one rule that tells "Redis is
 * not reachable" (→ StorageUnavailableError) from other failures.
 *
 * Commands never wait for a connection: `enableOfflineQueue: false` rejects them at once while
 * the client is not ready, and `maxRetriesPerRequest: 0` rejects commands in flight when the
 * connection drops. Meanwhile `retryStrategy` keeps reconnecting, so the same client works again
 * when Redis is back.
 */
import { Redis } from "ioredis";
import { StorageUnavailableError } from "../../core/errors/storage-unavailable-error.ts";

export const DEFAULT_REDIS_URI = "redis://127.0.0.1:6379";

export interface ClientOptions {
  connectTimeoutMs?: number | undefined;
  /** Rejects a command that has no answer after this long. Default: no limit. */
  commandTimeoutMs?: number | undefined;
}

export function createClient(uri: string, options: ClientOptions = {}): Redis {
  return new Redis(uri, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    retryStrategy: (times: number) => Math.min(50 * times, 1000),
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
  });
}

const CONNECTION_TROUBLE =
  /Stream isn't writeable|Connection is closed|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|connect ETIMEDOUT/;
const SERVER_NOT_READY = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)\b/;

/** True when `error` says Redis cannot be reached or cannot answer right now. */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ReplyError") return SERVER_NOT_READY.test(error.message);
  // A socket's own error (ECONNREFUSED, ECONNRESET, EPIPE…): the connection, whatever its text says.
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true;
  return error.name === "MaxRetriesPerRequestError" || CONNECTION_TROUBLE.test(error.message);
}

export function unavailable(uri: string, error: unknown): StorageUnavailableError {
  const reason = error instanceof Error ? error.message : String(error);
  return new StorageUnavailableError(`Redis at ${redactUri(uri)} is unavailable: ${reason}`, { cause: error });
}

/** The URI without its password, for messages. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** Waits for a client someone else connects; rejects on its first error or after `timeoutMs`. */
export async function waitReady(client: Redis, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`not ready after ${timeoutMs} ms (status ${client.status})`)), timeoutMs);
    const onReady = (): void => done();
    const onError = (error: Error): void => done(error);
    function done(error?: Error): void {
      clearTimeout(timer);
      client.off("ready", onReady);
      client.off("error", onError);
      if (error === undefined) resolve();
      else reject(error);
    }
    client.on("ready", onReady);
    client.on("error", onError);
  });
}
