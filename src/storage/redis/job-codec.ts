/**
 * How a job is stored in Redis: one JSON object per job in the pipeline's `jobs` HASH.
 *
 * Lua scripts decode and re-encode that object with cjson, which would mangle caller data (an
 * empty array becomes `{}`, numbers keep 14 digits). So every field holding caller data
 * (`instructions`, `input`, `result`, `error`, `progress`, `steps`, `history`) is kept as JSON *text* inside
 * the object: scripts move those strings around without looking into them, and only this module
 * parses them. The other fields are small strings and integers cjson keeps exactly.
 */
import type { AttemptRecord, JobError, JobProgress, JobRecord, JobStatus, StepRecord } from "../../core/job.ts";

/** The stored shape, as the scripts see it. */
interface StoredJob {
  id: string;
  pipeline: string;
  route: string[];
  stepIndex: number;
  step: string;
  status: JobStatus;
  attempts: number;
  stalls?: number;
  instructions: string;
  input: string;
  steps: string;
  /** JSON text of the attempt records (absent before the first). */
  history?: string;
  dueAt?: number;
  result?: string;
  error?: string;
  progress?: string;
  idempotencyKey?: string;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  runAt?: number;
  priority?: number;
  workerId?: string;
  leaseExpiresAt?: number;
  concurrencyKey?: string;
  /** Set while its lease counts against its concurrency key (lua/_key-left.lua); never decoded. */
  keyCounted?: number;
  cancelRequestedAt?: number;
}

/** JSON text of a value; `undefined` when the value has none (so the field is left out). */
export function toJsonText(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

function parseText<T>(text: string | undefined): T | undefined {
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

/** Decodes a stored job into the record callers see. */
export function decodeJob(raw: string): JobRecord {
  const stored = JSON.parse(raw) as StoredJob;
  const record: JobRecord = {
    id: stored.id,
    pipeline: stored.pipeline,
    route: stored.route,
    stepIndex: stored.stepIndex,
    step: stored.step,
    status: stored.status,
    attempts: stored.attempts,
    instructions: JSON.parse(stored.instructions) as JobRecord["instructions"],
    input: JSON.parse(stored.input) as JobRecord["input"],
    steps: JSON.parse(stored.steps) as StepRecord[],
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
  if (stored.result !== undefined) record.result = parseText<unknown>(stored.result);
  if (stored.error !== undefined) record.error = parseText<JobError>(stored.error);
  if (stored.progress !== undefined) record.progress = parseText<JobProgress>(stored.progress);
  if (stored.idempotencyKey !== undefined) record.idempotencyKey = stored.idempotencyKey;
  if (stored.stalls !== undefined && stored.stalls > 0) record.stalls = stored.stalls;
  if (stored.startedAt !== undefined) record.startedAt = stored.startedAt;
  if (stored.finishedAt !== undefined) record.finishedAt = stored.finishedAt;
  if (stored.runAt !== undefined) record.runAt = stored.runAt;
  if (stored.priority !== undefined && stored.priority > 0) record.priority = stored.priority;
  if (stored.workerId !== undefined) record.workerId = stored.workerId;
  if (stored.leaseExpiresAt !== undefined) record.leaseExpiresAt = stored.leaseExpiresAt;
  if (stored.history !== undefined) record.history = parseText<AttemptRecord[]>(stored.history);
  if (stored.dueAt !== undefined) record.dueAt = stored.dueAt;
  if (stored.concurrencyKey !== undefined) record.concurrencyKey = stored.concurrencyKey;
  if (stored.cancelRequestedAt !== undefined) record.cancelRequestedAt = stored.cancelRequestedAt;
  return record;
}

/** Decodes a reply that may be absent (HGET/HMGET of a missing field). */
export function decodeMaybe(raw: string | null | undefined): JobRecord | undefined {
  return raw === null || raw === undefined ? undefined : decodeJob(raw);
}
