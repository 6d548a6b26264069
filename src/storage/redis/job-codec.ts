/**
 * How a job is stored in Redis, and the only place its stored form is decoded.
 *
 * A job is its **record** in the pipeline's `jobs` HASH (id → a small JSON object: status, step,
 * attempts, times: what scripts read and change, cjson-decoded) and its **caller data** in its own
 * HASH `<jobs key>:<id>` (same `{pipeline}` hash tag), whose fields scripts only write or copy as
 * opaque JSON text, never decode (cjson would mangle caller data, and decoding 100 KB costs
 * milliseconds of Redis time): `i` instructions, `in` the current input when not the
 * instructions, `r` result, `e` error, `p` progress, `s<n>` step n (its output in `o<n>` when
 * passed apart), `h<n>` attempt n. Field names and the record's counts (`ns`, `nh`, `lg`) are
 * described in lua/_job-data.lua.
 *
 * **Old layout.** Records written before (caller data as JSON text inside the record, no data
 * HASH) are decoded as they are; the first script that changes one moves its data to the new
 * layout (`upgradeJob` in lua/_job-data.lua), whose `s` / `h` fields then hold its steps and
 * history so far, as JSON array text.
 */
import type { AttemptRecord, Instructions, JobError, JobProgress, JobRecord, StepRecord } from "../../core/job.ts";
import type { LeasedJob } from "../storage-backend.ts";
import { pairsOf } from "./connection.ts";

/** A job's caller data: JSON text in its own HASH, or (old layout only) inside its record. */
type CallerData = "instructions" | "input" | "steps" | "history" | "result" | "error" | "progress";

/** The stored record, as the scripts see it; `ns`, `nh` count the numbered step and attempt records in the data HASH. */
type StoredJob = Omit<JobRecord, CallerData> & { ns?: number; nh?: number } & Partial<Record<CallerData, string>>;

/** A job's caller data HASH: flat field, value list (a script's reply) or object (ioredis `hgetall`). */
export type StoredData = readonly string[] | Readonly<Record<string, string>>;

/** JSON text of a value; `undefined` when the value has none (so the field is left out). */
export function toJsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function parseText<T>(text: string | undefined): T | undefined {
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function dataMap(data: StoredData | undefined): ReadonlyMap<string, string> {
  if (data === undefined) return new Map();
  return new Map(Array.isArray(data) ? pairsOf(data as readonly string[]) : Object.entries(data as Readonly<Record<string, string>>));
}

/** The record's own fields (no caller data), as callers see them. */
function baseOf(stored: StoredJob): Omit<JobRecord, "instructions" | "input" | "steps"> {
  const record: Omit<JobRecord, "instructions" | "input" | "steps"> = {
    id: stored.id,
    pipeline: stored.pipeline,
    route: stored.route,
    stepIndex: stored.stepIndex,
    step: stored.step,
    status: stored.status,
    attempts: stored.attempts,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
  if (stored.idempotencyKey !== undefined) record.idempotencyKey = stored.idempotencyKey;
  if (stored.stalls !== undefined && stored.stalls > 0) record.stalls = stored.stalls;
  if (stored.startedAt !== undefined) record.startedAt = stored.startedAt;
  if (stored.finishedAt !== undefined) record.finishedAt = stored.finishedAt;
  if (stored.runAt !== undefined) record.runAt = stored.runAt;
  if (stored.priority !== undefined && stored.priority > 0) record.priority = stored.priority;
  if (stored.workerId !== undefined) record.workerId = stored.workerId;
  if (stored.leaseExpiresAt !== undefined) record.leaseExpiresAt = stored.leaseExpiresAt;
  if (stored.dueAt !== undefined) record.dueAt = stored.dueAt;
  if (stored.concurrencyKey !== undefined) record.concurrencyKey = stored.concurrencyKey;
  if (stored.cancelRequestedAt !== undefined) record.cancelRequestedAt = stored.cancelRequestedAt;
  return record;
}

/** A record of the old layout: everything inside it. */
function decodeOld(stored: StoredJob & { instructions: string }): JobRecord {
  const record: JobRecord = {
    ...baseOf(stored),
    instructions: JSON.parse(stored.instructions) as Instructions,
    input: JSON.parse(stored.input ?? stored.instructions) as Instructions,
    steps: JSON.parse(stored.steps ?? "[]") as StepRecord[],
  };
  if (stored.result !== undefined) record.result = parseText<unknown>(stored.result);
  if (stored.error !== undefined) record.error = parseText<JobError>(stored.error);
  if (stored.progress !== undefined) record.progress = parseText<JobProgress>(stored.progress);
  if (stored.history !== undefined) record.history = parseText<AttemptRecord[]>(stored.history);
  return record;
}

/** Records numbered `<letter>0`, `<letter>1`, … after those of an upgraded old record (`<letter>`). */
function numbered<T>(data: ReadonlyMap<string, string>, letter: "s" | "h", count: number | undefined, each: (text: string, n: number) => T): T[] | undefined {
  const old = data.get(letter);
  const list: T[] | undefined = old === undefined ? undefined : (JSON.parse(old) as T[]);
  const out = list ?? [];
  for (let n = 0; count === undefined ? data.has(`${letter}${n}`) : n < count; n++) {
    const text = data.get(`${letter}${n}`);
    if (text !== undefined) out.push(each(text, n));
  }
  return list === undefined && out.length === 0 ? undefined : out;
}

/** Decodes a stored job (its record JSON and its caller data HASH) into the record callers see. */
export function decodeJob(raw: string, data?: StoredData): JobRecord {
  const stored = JSON.parse(raw) as StoredJob;
  if (stored.instructions !== undefined) return decodeOld(stored as StoredJob & { instructions: string });
  const fields = dataMap(data);
  const instructions = JSON.parse(fields.get("i") ?? "null") as Instructions;
  // Never mutated in place, so the instructions and the first input may share one copy (as on memory).
  const input = fields.has("in") ? (JSON.parse(fields.get("in")!) as Instructions) : instructions;
  const steps = numbered(fields, "s", stored.ns, (text, n) => {
    const step = JSON.parse(text) as StepRecord;
    const output = fields.get(`o${n}`);
    if (output !== undefined) step.output = JSON.parse(output) as unknown;
    return step;
  }) ?? [];
  const record: JobRecord = { ...baseOf(stored), instructions, input, steps };
  const history = numbered(fields, "h", stored.nh, (text) => JSON.parse(text) as AttemptRecord);
  if (fields.has("r")) record.result = parseText<unknown>(fields.get("r"));
  if (fields.has("e")) record.error = parseText<JobError>(fields.get("e"));
  if (fields.has("p")) record.progress = parseText<JobProgress>(fields.get("p"));
  if (history !== undefined) record.history = history;
  return record;
}

/** The record's own fields only (status, step, times…): enough to filter a listing or read `updatedAt`. */
export function decodeHead(raw: string): Omit<JobRecord, "instructions" | "input" | "steps"> {
  return baseOf(JSON.parse(raw) as StoredJob);
}

/**
 * One lease as the lease scripts answer it (leaseReply in lua/_job-data.lua): the input is its
 * JSON text when small, "" when the caller reads it apart (`readInputs`).
 */
export type LeaseReply = [token: string, record: string, error: string, history: string | string[], input: string];

/** Groups a lease script's flat reply, five entries per lease. */
export function leaseReplies(flat: readonly unknown[]): LeaseReply[] {
  const out: LeaseReply[] = [];
  for (let i = 0; i + 4 < flat.length; i += 5) out.push(flat.slice(i, i + 5) as LeaseReply);
  return out;
}

/** What a lease carries of its job: the record, its input (JSON text), error and attempt records (when any logged). */
export function decodeLeased([, raw, error, history]: LeaseReply, input: string): LeasedJob {
  const stored = JSON.parse(raw) as StoredJob;
  const job: LeasedJob = { ...baseOf(stored), input: JSON.parse(input) as Instructions };
  if (error !== "") job.error = JSON.parse(error) as JobError;
  if (Array.isArray(history)) {
    const [old, ...each] = history;
    const attempts = old === undefined || old === "" ? [] : (JSON.parse(old) as AttemptRecord[]);
    for (const text of each) if (text !== "") attempts.push(JSON.parse(text) as AttemptRecord);
    if (attempts.length > 0) job.history = attempts;
  }
  return job;
}

/** The id of a lease reply's job. */
export function leasedId(reply: LeaseReply): string {
  return (JSON.parse(reply[1]) as { id: string }).id;
}
