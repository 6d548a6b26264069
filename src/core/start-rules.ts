/**
 * When a job may start and how it is ordered, checked in one place for every door (in process,
 * the ZeroMQ intake, HTTP, `mario enqueue`), as part of the enqueue rules: a delay (`delayMs`, a
 * whole number of ms up to MAX_DELAY_MS) or a start time (`runAt`, epoch ms or an ISO 8601 time
 * with a time zone, in the future and at most MAX_DELAY_MS ahead), never both; a priority, a
 * whole number from 0 (the default) to MAX_PRIORITY (first). Numbers may come as decimal text
 * (a query string, a command-line flag): the same rule and message however they came.
 *
 * ```ts
 * checkStart({ delayMs: 2000, priority: "5" }, Date.now());   // { delayMs: 2000, priority: 5 }
 * checkStart({ runAt: "2026-12-01T10:00:00Z" }, now);          // { runAt: 1796119200000 } or InvalidDelayError
 * ```
 */
import { InvalidDelayError } from "./errors/invalid-delay-error.ts";
import { InvalidPriorityError } from "./errors/invalid-priority-error.ts";

/** Longest delay (and farthest start time from now) accepted: 30 days, in ms. */
export const MAX_DELAY_MS = 30 * 24 * 3600 * 1000;
/** Highest priority; 0 is the lowest and the default. */
export const MAX_PRIORITY = 9;

/** What a caller may say about when and in which order a job runs (unchecked). */
export interface StartRequest {
  delayMs?: unknown;
  runAt?: unknown;
  priority?: unknown;
}

/** Checked: `delayMs` > 0 (from storage's now), or `runAt` (epoch ms, absolute), and `priority` 1–9; absent when none. */
export interface StartPlan {
  delayMs?: number | undefined;
  runAt?: number | undefined;
  priority?: number | undefined;
}

const DELAY_RULE = `a delay is a whole number of milliseconds from 0 to ${MAX_DELAY_MS} (30 days)`;
const RUN_AT_RULE = "runAt is an ISO 8601 time with a time zone (2026-12-01T10:00:00Z) or epoch milliseconds";
const PRIORITY_RULE = `a priority is a whole number from 0 (the default) to ${MAX_PRIORITY} (runs first)`;
/** ISO 8601 date and time with seconds optional, fractions optional, and a zone (Z or ±hh:mm) required. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** The checked plan, or InvalidDelayError / InvalidPriorityError. `now`: the checking process's clock, epoch ms. */
export function checkStart(request: StartRequest, now: number): StartPlan {
  const plan: StartPlan = {};
  if (request.delayMs !== undefined && request.runAt !== undefined) {
    throw new InvalidDelayError("give a delay or a runAt, not both");
  }
  if (request.delayMs !== undefined) {
    const delayMs = wholeNumber(request.delayMs);
    if (delayMs === undefined || delayMs < 0) throw new InvalidDelayError(`${DELAY_RULE}; got ${shown(request.delayMs)}`);
    if (delayMs > MAX_DELAY_MS) throw new InvalidDelayError(`${DELAY_RULE}; got ${delayMs}, over the maximum`);
    if (delayMs > 0) plan.delayMs = delayMs;
  }
  if (request.runAt !== undefined) {
    const runAt = timeOf(request.runAt);
    if (runAt === undefined) throw new InvalidDelayError(`${RUN_AT_RULE}; got ${shown(request.runAt)}`);
    if (runAt < now) throw new InvalidDelayError(`runAt ${iso(runAt)} is in the past (now ${iso(now)}): give a later time, or none to start at once`);
    if (runAt - now > MAX_DELAY_MS) throw new InvalidDelayError(`runAt ${iso(runAt)} is more than 30 days ahead (at most ${iso(now + MAX_DELAY_MS)})`);
    plan.runAt = runAt;
  }
  if (request.priority !== undefined) {
    const priority = wholeNumber(request.priority);
    if (priority === undefined || priority < 0 || priority > MAX_PRIORITY) throw new InvalidPriorityError(`${PRIORITY_RULE}; got ${shown(request.priority)}`);
    if (priority > 0) plan.priority = priority;
  }
  return plan;
}

/** A safe integer, given as a number or as decimal text (`-` allowed, so a negative one is named as such). */
function wholeNumber(value: unknown): number | undefined {
  if (typeof value === "string") return /^-?\d{1,16}$/.test(value) ? wholeNumber(Number(value)) : undefined;
  return typeof value === "number" && Number.isSafeInteger(value) ? value : undefined;
}

/** Epoch ms from a number, decimal text, or an ISO 8601 time with a zone. */
function timeOf(value: unknown): number | undefined {
  if (typeof value === "string" && ISO_TIME.test(value)) {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  const ms = wholeNumber(value);
  return ms === undefined || ms < 0 ? undefined : ms;
}

function iso(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;
}

function shown(value: unknown): string {
  const text = typeof value === "string" ? JSON.stringify(value) : value === null ? "null" : typeof value === "number" || typeof value === "boolean" ? String(value) : typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
