/**
 * Flag parsing shared by the runtime commands (pipeline, step, host, enqueue, forwarder, streamer):
 * whole-number flags with a clear one-line error, repeatable flags, and address lists.
 */
import { parseAddress } from "../core/address.ts";
import { UsageError } from "../core/errors/usage-error.ts";

/** `raw` as a whole number ≥ `min`, undefined when the flag is absent; a USAGE error otherwise. */
export function wholeNumberFlag(raw: string | undefined, flag: string, min = 0): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(value) || value < min) {
    throw new UsageError(`${flag} must be a whole number${min > 0 ? ` of at least ${min}` : ""}, got "${raw}"`);
  }
  return value;
}

/** Every value of a repeatable flag (`--name=v` or `--name v`), under any of `names`, in order. */
export function flagValues(rawArgs: readonly string[], names: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    for (const name of names) {
      if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
      else if (arg === `--${name}` && rawArgs[i + 1] !== undefined) values.push(rawArgs[++i]!);
    }
  }
  return values;
}

/**
 * The addresses given to a repeatable address flag (`--name=a --name=b`, or `--name=a,b`), each
 * checked: a malformed one is a USAGE error naming the flag.
 */
export function addressFlag(rawArgs: readonly string[], names: readonly string[]): string[] {
  const addresses = flagValues(rawArgs, names).flatMap((value) => value.split(",")).map((s) => s.trim()).filter((s) => s !== "");
  for (const address of addresses) {
    try {
      parseAddress(address);
    } catch (error) {
      throw new UsageError(`--${names[0]!}: ${(error as Error).message}`);
    }
  }
  return addresses;
}

/**
 * `--cache-dir`, on every command that bundles function files or mario.config: where Mario
 * writes at run time. The entry point (main.ts) applies it as MARIO_CACHE_DIR for the process.
 */
export const cacheDirFlag = {
  "cache-dir": { type: "string", description: "folder Mario writes function bundles to (default MARIO_CACHE_DIR, else $XDG_CACHE_HOME/mario, else the OS temp folder)" },
} as const;

/** An environment variable's value, undefined when unset or blank. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/**
 * `--cors=<origin>[,<origin>…]`: each an origin (`https://host[:port]`) or `*`; undefined when
 * absent; a USAGE error naming the bad one otherwise.
 */
export function corsOrigins(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const origins = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const origin of origins) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) throw new UsageError(`--cors: "${origin}" is not an origin (e.g. https://app.example.com, or *)`);
  }
  if (origins.length === 0) throw new UsageError("--cors needs an origin (e.g. https://app.example.com, or *)");
  return origins;
}
