/**
 * Hand-written checks for the messages sent once per job (or per batch of jobs): `jobs`
 * (deliveries), `results` (outcomes), `ack`, `enqueues`, `waits`, `runs` and `replies`. Each accepts and
 * refuses exactly what its zod schema in protocol.ts accepts and refuses, and answers the same
 * value zod would: unknown keys stripped, keys in the schema's order, `__proto__` keys dropped
 * from records, strings measured in code points, integers safe, numbers finite. zod costs a
 * quarter of a producer's time on these (issue #16); the rest of the protocol stays on zod.
 *
 * DESIGN §4's "schema library, not hand-written if chains" is about HTTP bodies; issue #16 allows
 * hand-written checks for these hot wire messages. The zod schemas stay the documentation and the
 * judge: a message a check refuses is parsed by zod again, so its refusal says what zod says, and
 * test/unit/zmq-hot-checks.test.ts runs both over a corpus of valid and broken bodies.
 *
 * ```ts
 * const body = HOT_CHECKS.jobs?.(JSON.parse(text));   // the parsed body, or undefined: refused
 * ```
 */
import { DEFAULT_LOG_LIMITS } from "../core/job-logs.ts";

type Obj = Record<string, unknown>;
/** A check answers the parsed body, or undefined when the body is refused. */
export type HotCheck = (json: unknown) => Obj | undefined;

const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** Code points, as zod counts them: a high surrogate followed by a low one is one. */
function codePoints(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}

/** A string of `min` to `max` code points. */
function isString(v: unknown, min: number, max = Infinity): v is string {
  if (typeof v !== "string") return false;
  const units = v.length;
  if (units < min) return false;
  if (units <= max && units >= 2 * min) return true;
  const length = codePoints(v);
  return length >= min && length <= max;
}

const isId = (v: unknown): v is string => isString(v, 1, 200);

/** `z.record(z.string(), z.unknown())`: any object; zod drops an own `__proto__` key. */
function record(v: unknown): Obj | undefined {
  if (!isObject(v)) return undefined;
  if (!Object.hasOwn(v, "__proto__")) return v;
  const copy: Obj = {};
  for (const key of Object.keys(v)) if (key !== "__proto__") copy[key] = v[key];
  return copy;
}

/** Each item of a JSON array through `check`; undefined if one is refused or the length is out of range. */
function array(v: unknown, check: (item: unknown) => unknown, min: number, max = Infinity): unknown[] | undefined {
  if (!Array.isArray(v) || v.length < min || v.length > max) return undefined;
  const out = new Array<unknown>(v.length);
  for (let i = 0; i < v.length; i++) {
    const item = check(v[i]);
    if (item === undefined) return undefined;
    out[i] = item;
  }
  return out;
}

function delivery(v: unknown): Obj | undefined {
  if (!isObject(v)) return undefined;
  const { jobId, token, pipeline, jobType, stepIndex, attempt, timeoutMs } = v;
  if (!isId(jobId) || !isId(token) || !isString(pipeline, 1) || !isString(jobType, 1)) return undefined;
  if (!isInt(stepIndex) || stepIndex < 0 || !isInt(attempt) || attempt <= 0) return undefined;
  const input = record(v.input);
  if (input === undefined || !isInt(timeoutMs) || timeoutMs <= 0) return undefined;
  const out: Obj = { jobId, token, pipeline, jobType, stepIndex, attempt, input, timeoutMs };
  if ("expiresAt" in v) {
    if (!isInt(v.expiresAt) || v.expiresAt <= 0) return undefined;
    out.expiresAt = v.expiresAt;
  }
  return out;
}

const LEVELS = new Set(["debug", "info", "warn", "error"]);

function logLine(v: unknown): Obj | undefined {
  if (!isObject(v) || !isFiniteNumber(v.t) || typeof v.level !== "string" || !LEVELS.has(v.level) || !isString(v.msg, 0, 8192)) return undefined;
  return { t: v.t, level: v.level, msg: v.msg };
}

function jobError(v: unknown): Obj | undefined {
  if (!isObject(v) || typeof v.name !== "string" || typeof v.message !== "string") return undefined;
  const out: Obj = { name: v.name, message: v.message };
  if ("stack" in v) {
    if (typeof v.stack !== "string") return undefined;
    out.stack = v.stack;
  }
  if ("code" in v) {
    if (typeof v.code !== "string") return undefined;
    out.code = v.code;
  }
  if ("retryable" in v) {
    if (typeof v.retryable !== "boolean") return undefined;
    out.retryable = v.retryable;
  }
  return out;
}

function outcome(v: unknown): Obj | undefined {
  if (!isObject(v) || typeof v.ok !== "boolean") return undefined;
  const { jobId, token, startedAt, finishedAt, workerId } = v;
  if (!isId(jobId) || !isId(token) || !isFiniteNumber(startedAt) || !isFiniteNumber(finishedAt) || !isId(workerId)) return undefined;
  const out: Obj = { jobId, token };
  if ("pipeline" in v) {
    if (!isString(v.pipeline, 1)) return undefined;
    out.pipeline = v.pipeline;
  }
  out.startedAt = startedAt;
  out.finishedAt = finishedAt;
  out.workerId = workerId;
  if ("logs" in v) {
    const logs = array(v.logs, logLine, 0, DEFAULT_LOG_LIMITS.maxLines);
    if (logs === undefined) return undefined;
    out.logs = logs;
  }
  if ("dropped" in v) {
    if (!isInt(v.dropped) || v.dropped < 0) return undefined;
    out.dropped = v.dropped;
  }
  out.ok = v.ok;
  if (v.ok) {
    if (!("output" in v)) return undefined;
    out.output = v.output;
  } else {
    const error = jobError(v.error);
    if (error === undefined) return undefined;
    out.error = error;
  }
  return out;
}

function lease(v: unknown): Obj | undefined {
  if (!isObject(v) || !isId(v.jobId) || !isId(v.token)) return undefined;
  return { jobId: v.jobId, token: v.token };
}

/** `delayMs`, `runAt`, `priority`: any JSON, checked by the engine; present or not. */
const ENQUEUE_LOOSE = ["delayMs", "runAt", "priority"] as const;

function enqueueItem(v: unknown): Obj | undefined {
  if (!isObject(v) || !isId(v.requestId) || !isString(v.pipeline, 1) || !("instructions" in v)) return undefined;
  const out: Obj = { requestId: v.requestId, pipeline: v.pipeline, instructions: v.instructions };
  if ("idempotencyKey" in v) {
    if (typeof v.idempotencyKey !== "string") return undefined;
    out.idempotencyKey = v.idempotencyKey;
  }
  for (const key of ENQUEUE_LOOSE) if (key in v) out[key] = v[key];
  return out;
}

/** A run: an enqueue item, then how long to wait (`timeoutMs`) and when to say `pending` (`ackMs`), whole ms ≥ 0. */
function runItem(v: unknown): Obj | undefined {
  const out = enqueueItem(v);
  if (out === undefined) return undefined;
  const { timeoutMs, ackMs } = v as Obj;
  if (!isInt(timeoutMs) || timeoutMs < 0) return undefined;
  out.timeoutMs = timeoutMs;
  if ("ackMs" in (v as Obj)) {
    if (!isInt(ackMs) || ackMs < 0) return undefined;
    out.ackMs = ackMs;
  }
  return out;
}

function waitItem(v: unknown): Obj | undefined {
  if (!isObject(v) || !isId(v.requestId) || !isId(v.jobId) || !isInt(v.timeoutMs) || v.timeoutMs < 0) return undefined;
  return { requestId: v.requestId, jobId: v.jobId, timeoutMs: v.timeoutMs };
}

const CANCEL_ANSWERS = new Set(["cancelled", "cancelling", "final"]);

function reply(v: unknown): Obj | undefined {
  if (!isObject(v) || !isId(v.requestId) || typeof v.ok !== "boolean") return undefined;
  const out: Obj = { requestId: v.requestId, ok: v.ok };
  if ("job" in v) {
    const job = record(v.job);
    if (job === undefined) return undefined;
    out.job = job;
  }
  if ("duplicate" in v) {
    if (typeof v.duplicate !== "boolean") return undefined;
    out.duplicate = v.duplicate;
  }
  if ("cancel" in v) {
    if (typeof v.cancel !== "string" || !CANCEL_ANSWERS.has(v.cancel)) return undefined;
    out.cancel = v.cancel;
  }
  if ("pending" in v) {
    if (typeof v.pending !== "boolean") return undefined;
    out.pending = v.pending;
  }
  if ("error" in v) {
    const e = v.error;
    if (!isObject(e) || typeof e.code !== "string" || typeof e.message !== "string") return undefined;
    out.error = { code: e.code, message: e.message };
  }
  return out;
}

function jobs(v: unknown): Obj | undefined {
  if (!isObject(v)) return undefined;
  const deliveries = array(v.deliveries, delivery, 1);
  if (deliveries === undefined) return undefined;
  const out: Obj = { deliveries };
  if ("serverId" in v) {
    if (!isString(v.serverId, 1, 64)) return undefined;
    out.serverId = v.serverId;
  }
  return out;
}

function results(v: unknown): Obj | undefined {
  if (!isObject(v) || !isId(v.workerId)) return undefined;
  const outcomes = array(v.outcomes, outcome, 1);
  return outcomes === undefined ? undefined : { workerId: v.workerId, outcomes };
}

function ack(v: unknown): Obj | undefined {
  if (!isObject(v)) return undefined;
  const acks = array(v.acks, lease, 0);
  return acks === undefined ? undefined : { acks };
}

function batch(item: (v: unknown) => Obj | undefined, withHeld = false): HotCheck {
  return (v) => {
    if (!isObject(v) || !isString(v.replyTo, 1)) return undefined;
    const requests = array(v.requests, item, 1);
    if (requests === undefined) return undefined;
    if (!withHeld || !("held" in v)) return { replyTo: v.replyTo, requests };
    const counts = heldCounts(v.held);
    return counts === undefined ? undefined : { replyTo: v.replyTo, requests, held: counts };
  };
}

/** `enqueues.held`: pipeline name (non-empty) → whole number ≥ 0, at most 1000 of them. */
function heldCounts(v: unknown): Obj | undefined {
  const counts = record(v);
  if (counts === undefined) return undefined;
  const keys = Object.keys(counts);
  if (keys.length > 1000) return undefined;
  for (const key of keys) {
    const n = counts[key];
    if (key.length === 0 || !isInt(n) || n < 0) return undefined;
  }
  return counts;
}

function replies(v: unknown): Obj | undefined {
  if (!isObject(v)) return undefined;
  const list = array(v.replies, reply, 1);
  return list === undefined ? undefined : { replies: list };
}

/** The hot message types and their checks; every other type is parsed by its zod schema. */
export const HOT_CHECKS: Readonly<Record<string, HotCheck | undefined>> = {
  jobs,
  results,
  ack,
  enqueues: batch(enqueueItem, true),
  waits: batch(waitItem),
  runs: batch(runItem, true),
  replies,
};
