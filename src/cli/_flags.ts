/**
 * Flag parsing shared by the runtime commands (pipeline, step, enqueue, forwarder, streamer):
 * whole-number flags with a clear one-line error, and repeatable flags.
 */
import { MarioError } from "../core/errors/mario-error.ts";

/** `raw` as a whole number ≥ `min`, undefined when the flag is absent; a USAGE error otherwise. */
export function wholeNumberFlag(raw: string | undefined, flag: string, min = 0): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(value) || value < min) {
    throw new MarioError("USAGE", `${flag} must be a whole number${min > 0 ? ` of at least ${min}` : ""}, got "${raw}"`);
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
