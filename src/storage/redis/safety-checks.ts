/**
 * Checks made when the Redis backend connects, so a Redis that would lose jobs says so at start
 * instead of after the fact:
 *
 * - `maxmemory-policy` other than `noeviction` evicts keys under memory pressure: accepted jobs
 *   vanish without a trace. Refused (InvalidConfigError, one line naming the setting) unless the
 *   caller allows it (`--allow-redis-eviction`).
 * - No persistence (`appendonly no` and no `save` points): a restart of Redis empties it. Warned.
 *
 * Read with `CONFIG GET`; where that command is denied (managed Redis, ACLs) from `INFO`, which
 * carries the policy and the append-only state (not the save points).
 *
 * ```ts
 * const { policy, persistent } = await checkRedisSafety(client, { uri, allowEviction: false, logger });
 * ```
 */
import { Cluster, type Redis } from "ioredis";
import { InvalidConfigError } from "../../core/errors/invalid-config-error.ts";
import type { Logger } from "../../log/logger.ts";
import { pairsOf, redactUri, type RedisClient } from "./connection.ts";

export interface SafetyCheckOptions {
  uri: string;
  /** Run on an evicting `maxmemory-policy` anyway (with a warning). Default false. */
  allowEviction: boolean;
  logger: Logger;
}

export interface RedisSettings {
  /** `maxmemory-policy`, or undefined when it could not be read. */
  policy: string | undefined;
  /** True with AOF or RDB save points; undefined when it could not be read. */
  persistent: boolean | undefined;
}

/** The flag that lets Mario run on an evicting Redis, as the refusal names it. */
export const ALLOW_EVICTION_FLAG = "--allow-redis-eviction";

export async function checkRedisSafety(client: RedisClient, options: SafetyCheckOptions): Promise<RedisSettings> {
  // A cluster: every master keeps its own settings; the least safe one speaks for all.
  const nodes = client instanceof Cluster ? client.nodes("master") : [client];
  const settings = leastSafe(await Promise.all(nodes.map(readSettings)));
  const where = `Redis at ${redactUri(options.uri)}`;
  if (settings.policy !== undefined && settings.policy !== "noeviction") {
    const why = `${where} has maxmemory-policy ${settings.policy}: it evicts keys when memory runs short, so accepted jobs can vanish`;
    if (!options.allowEviction) {
      throw new InvalidConfigError(`${why}; set maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction), or pass ${ALLOW_EVICTION_FLAG} to run anyway`);
    }
    options.logger.warn(`${why} (allowed by ${ALLOW_EVICTION_FLAG})`, { maxmemoryPolicy: settings.policy });
  }
  if (settings.policy === undefined) options.logger.warn(`${where}: could not read maxmemory-policy (CONFIG and INFO denied); make sure it is noeviction`);
  if (settings.persistent === false) {
    options.logger.warn(`${where} runs without persistence (appendonly no, no save points): a restart of Redis empties it and its jobs are lost; set appendonly yes`);
  }
  return settings;
}

function leastSafe(all: readonly RedisSettings[]): RedisSettings {
  const evicting = all.find((s) => s.policy !== undefined && s.policy !== "noeviction");
  const unknown = all.find((s) => s.policy === undefined);
  const volatile = all.find((s) => s.persistent === false) ?? all.find((s) => s.persistent === undefined);
  return { policy: (evicting ?? unknown ?? all[0])?.policy, persistent: (volatile ?? all[0])?.persistent };
}

async function readSettings(client: Redis): Promise<RedisSettings> {
  try {
    const config = new Map(pairsOf(await client.config("GET", "maxmemory-policy", "appendonly", "save")));
    const save = config.get("save");
    const aof = config.get("appendonly");
    return {
      policy: config.get("maxmemory-policy"),
      persistent: aof === undefined && save === undefined ? undefined : aof === "yes" || (save !== undefined && save.trim() !== ""),
    };
  } catch {
    // CONFIG denied or renamed: INFO knows the policy and whether AOF is on.
  }
  try {
    const info = await client.info();
    const field = (name: string): string | undefined => new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
    const aof = field("aof_enabled");
    return { policy: field("maxmemory_policy"), persistent: aof === "1" ? true : undefined };
  } catch {
    return { policy: undefined, persistent: undefined };
  }
}
