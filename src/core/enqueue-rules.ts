/**
 * What a job must be to be accepted, checked in one place for every door (in process, the ZeroMQ
 * intake, HTTP): a served pipeline, instructions that are a JSON object nested at most MAX_DEPTH
 * levels, an idempotency key of 1 to MAX_IDEMPOTENCY_KEY_LENGTH printable ASCII characters, and
 * when it may start and in which order (a delay or a start time, a priority: ./start-rules.ts).
 * Each rule has one error class, so one code and one limit wherever the job comes from.
 *
 * ```ts
 * const job = checkEnqueue(pipelines, "example-one", { size: 10 }, { idempotencyKey: "order-42" });
 * // throws UnknownPipelineError, InvalidInstructionsError, TooDeepError, InvalidRequestError,
 * // InvalidDelayError or InvalidPriorityError
 * ```
 */
import { InvalidInstructionsError } from "./errors/invalid-instructions-error.ts";
import { InvalidRequestError } from "./errors/invalid-request-error.ts";
import { TooDeepError } from "./errors/too-deep-error.ts";
import { isInstructions, type Instructions } from "./job.ts";
import { findPipeline, type PipelineDefinition } from "./pipeline-definition.ts";
import { checkStart, type StartPlan, type StartRequest } from "./start-rules.ts";

/** Deepest nesting of arrays and objects accepted in instructions. */
export const MAX_DEPTH = 64;
/** Longest idempotency key, characters. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** What a job may carry besides its instructions. */
export interface EnqueueOptions {
  /** Same key, same pipeline: the same job is answered and nothing new is created. */
  idempotencyKey?: string | undefined;
  /** Id to use (tests, replays); a new one is made otherwise. */
  id?: string | undefined;
  /** Start no sooner than this many ms after storage takes the job (0 to MAX_DELAY_MS, 30 days). Not with `runAt`. */
  delayMs?: number | string | undefined;
  /** Start no sooner than this time by storage's clock: epoch ms, or ISO 8601 text with a zone; future, at most 30 days ahead. */
  runAt?: number | string | undefined;
  /** 0 (default) to 9; higher runs first at every step, FIFO within one priority. */
  priority?: number | string | undefined;
}

/** The options as a door hands them in, not yet checked (a wire message, a query string). */
export type UncheckedEnqueueOptions = Omit<EnqueueOptions, keyof StartRequest> & StartRequest;

export interface CheckedEnqueue extends StartPlan {
  pipeline: PipelineDefinition;
  instructions: Instructions;
  idempotencyKey: string | undefined;
  id: string | undefined;
}

/**
 * The job as it will be stored, or the typed error of the first rule it breaks. `now` (epoch ms,
 * the checking process's clock) is what a start time must not be before.
 */
export function checkEnqueue(pipelines: readonly PipelineDefinition[], pipeline: string, instructions: unknown, options: UncheckedEnqueueOptions = {}, now = Date.now()): CheckedEnqueue {
  const definition = findPipeline(pipelines, pipeline);
  return {
    pipeline: definition,
    instructions: checkInstructions(instructions, `instructions for "${pipeline}"`),
    idempotencyKey: checkIdempotencyKey(options.idempotencyKey),
    id: options.id,
    ...checkStart(options, now),
  };
}

/**
 * `value` as instructions (a JSON object nested at most MAX_DEPTH levels), or the typed error
 * naming `what` (an enqueue's instructions, a retry's new ones).
 */
export function checkInstructions(value: unknown, what: string): Instructions {
  if (!isInstructions(value)) {
    const got = Array.isArray(value) ? "an array" : value === null ? "null" : typeof value;
    throw new InvalidInstructionsError(`${what} must be a JSON object, got ${got}`);
  }
  if (deeperThan(value, MAX_DEPTH)) throw new TooDeepError(`${what} are nested deeper than ${MAX_DEPTH} levels`);
  return value;
}

/** The key, or InvalidRequestError when it breaks the rule. */
export function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  const rule = `an idempotency key is 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces (! to ~)`;
  if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) throw new InvalidRequestError(`${rule}; got ${key.length} characters`);
  if (!/^[\x21-\x7e]+$/.test(key)) throw new InvalidRequestError(`${rule}; got a character outside ! to ~`);
  return key;
}

/** The error for instructions nested deeper than MAX_DEPTH. */
export function tooDeep(pipeline: string): TooDeepError {
  return new TooDeepError(`instructions for "${pipeline}" are nested deeper than ${MAX_DEPTH} levels`);
}

/**
 * True when a JSON text nests `[`/`{` deeper than `limit` (brackets inside strings do not count).
 * Iterative, stopping as soon as it passes: for a request body, before it is parsed.
 */
export function jsonExceedsDepth(text: string, limit = MAX_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > limit) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}

/** True when `value` nests objects/arrays more than `limit` levels deep (stops as soon as it does). */
function deeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (deeperThan(item, limit - 1)) return true;
    return false;
  }
  for (const key in value) if (deeperThan((value as Record<string, unknown>)[key], limit - 1)) return true;
  return false;
}
