/**
 * What each Lua script is made of: its file (`./lua/<verb>-<numKeys>.lua`), the shared functions
 * (`./lua/_<name>.lua`) put before it, and the command name and key count ioredis defines it
 * with. Read from disk once, when this module loads; scripts.ts defines and calls them.
 */
import { readFileSync } from "node:fs";

const read = (name: string): string => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), "utf8");

/** Shared Lua functions (`./lua/_<name>.lua`) put before the scripts that call them. */
const KEY_LEFT = read("_key-left");
const PRIORITY_QUEUES = read("_priority-queues");
const CANCEL_AT_LEASE_END = read("_cancel-at-lease-end");
const JOB_DATA = read("_job-data");

/** Every script, and the shared functions put before it. */
const PRELUDES = {
  "enqueue-6": JOB_DATA + PRIORITY_QUEUES,
  "lease-next-7": JOB_DATA + PRIORITY_QUEUES,
  "settle-8": JOB_DATA + PRIORITY_QUEUES + KEY_LEFT,
  "trim-4": JOB_DATA,
  "release-6": JOB_DATA + PRIORITY_QUEUES + KEY_LEFT + CANCEL_AT_LEASE_END,
  "reclaim-6": JOB_DATA + PRIORITY_QUEUES + KEY_LEFT + CANCEL_AT_LEASE_END,
  "cancel-6": JOB_DATA + PRIORITY_QUEUES + KEY_LEFT + CANCEL_AT_LEASE_END,
  "cancel-requested-3": "",
  "redrive-4": JOB_DATA + PRIORITY_QUEUES,
  "delete-5": JOB_DATA,
  "set-progress-2": JOB_DATA,
  "register-worker-2": "",
  "unregister-worker-2": "",
  "list-workers-2": "",
  "register-server-1": "",
  "list-servers-1": "",
  "claim-epoch-1": "",
  "declare-schedules-1": "",
  "record-tick-1": "",
  "final-or-gone-2": "",
  "lease-held-5": JOB_DATA,
  "hold-busy-5": JOB_DATA,
} as const;
export type ScriptFile = keyof typeof PRELUDES;

/** `lease-next-7` → command `marioLeaseNext`, 7 keys. */
export const SOURCES = new Map(
  Object.entries(PRELUDES).map(([file, prelude]) => {
    const dash = file.lastIndexOf("-");
    const verb = file.slice(0, dash).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const source = { command: `mario${verb[0]!.toUpperCase()}${verb.slice(1)}`, lua: prelude + read(file), numberOfKeys: Number(file.slice(dash + 1)) };
    return [file as ScriptFile, source] as const;
  }),
);
