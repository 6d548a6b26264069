/**
 * Every error code Mario answers with, in one table. `MarioError.code` is typed as its union, so
 * a code is spelled here and in its error class only; the rest of the code refers to
 * `ERROR_CODES.X`. `errorFromCode` (./error-from-code.ts) turns a code that came over a wire
 * back into its class; the gateway's status map (src/gateway/_error-response.ts) gives each one
 * its HTTP status.
 *
 * ```ts
 * if (error instanceof MarioError && error.code === ERROR_CODES.BUSY) retryLater();
 * ```
 */
export const ERROR_CODES = {
  // What a caller sent
  /** No pipeline of that name is served here (the message lists those that are). */
  UNKNOWN_PIPELINE: "UNKNOWN_PIPELINE",
  /** No step serves that job type. */
  UNKNOWN_JOB_TYPE: "UNKNOWN_JOB_TYPE",
  /** Instructions that are not a JSON object. */
  INVALID_INSTRUCTIONS: "INVALID_INSTRUCTIONS",
  /** Instructions nested deeper than the limit (64 levels). */
  TOO_DEEP: "TOO_DEEP",
  /** A request field that breaks its rule: an idempotency key, a job id, a query parameter. */
  INVALID_REQUEST: "INVALID_REQUEST",
  /** A start delay or time that cannot be used: malformed, negative, in the past, past the maximum (30 days), or both given. */
  INVALID_DELAY: "INVALID_DELAY",
  /** A priority that is not a whole number from 0 to 9. */
  INVALID_PRIORITY: "INVALID_PRIORITY",
  /** No job with that id (never enqueued, or aged out of retention). */
  JOB_NOT_FOUND: "JOB_NOT_FOUND",
  /** The job is already finished (succeeded, dead or cancelled): it cannot be cancelled. */
  ALREADY_FINISHED: "ALREADY_FINISHED",
  /** The job is not final yet after the time asked to wait. */
  WAIT_TIMEOUT: "WAIT_TIMEOUT",
  /** A command line that cannot be run as written (unknown flag value, missing option). */
  USAGE: "USAGE",
  /** A pipeline, step or configuration file that cannot be used as written. */
  INVALID_CONFIG: "INVALID_CONFIG",

  // HTTP only (the gateway)
  INVALID_JSON: "INVALID_JSON",
  INVALID_UTF8: "INVALID_UTF8",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  UNAUTHORIZED: "UNAUTHORIZED",
  NOT_FOUND: "NOT_FOUND",
  /** The path exists, but not under that method (the answer's Allow header lists those that do). */
  METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
  /** Only a dead job can be retried. */
  NOT_DEAD: "NOT_DEAD",
  /** Only a finished job (succeeded or dead) can be forgotten. */
  NOT_FINISHED: "NOT_FINISHED",
  /** Storage or a pipeline link does not answer. */
  NOT_READY: "NOT_READY",

  // Try again later
  /** The pipeline holds as many unfinished jobs as it may: nothing was written. */
  BUSY: "BUSY",
  /** Storage cannot be reached right now: nothing was written. */
  STORAGE_UNAVAILABLE: "STORAGE_UNAVAILABLE",
  /** Storage is out of memory: nothing was written. */
  STORAGE_FULL: "STORAGE_FULL",
  /** The store was emptied or replaced under this process (its epoch key is gone): dispatching stopped, writes refused. */
  STORAGE_LOST: "STORAGE_LOST",
  /** The process is shutting down. */
  SHUTDOWN: "SHUTDOWN",
  /** A pipeline server did not answer in time. */
  NO_ANSWER: "NO_ANSWER",
  /** No worker had room for a leased job: it went back to its queue. */
  NO_WORKER: "NO_WORKER",

  // What happened to an attempt (stored with the job)
  /** A step attempt ran past its timeout. */
  TIMEOUT: "TIMEOUT",
  /** A middle step returned something that cannot be the next step's instructions, or not JSON. */
  INVALID_OUTPUT: "INVALID_OUTPUT",
  /** The lease expired or the worker was lost before the attempt was acknowledged. */
  LEASE_LOST: "LEASE_LOST",
  /**
   * An attempt a worker lost through no fault of its own (the thread it shared was terminated for
   * another attempt, or crashed): its job goes back to its queue as a stall, not a failed attempt.
   */
  ATTEMPT_LOST: "ATTEMPT_LOST",
  /** Handed back by lost or stopped workers more often than the step's `maxStalls`: dead. */
  STALLED: "STALLED",
  /** A job could not be delivered to its worker. */
  DELIVERY_FAILED: "DELIVERY_FAILED",
  /** The thread running a handler died mid-attempt. */
  HANDLER_CRASHED: "HANDLER_CRASHED",
  /** A fetch-shaped step answered a non-2xx status. */
  STEP_HTTP_ERROR: "STEP_HTTP_ERROR",
  /** The step threw NonRetryableError: trying again cannot help, the job is dead at once. */
  NON_RETRYABLE: "NON_RETRYABLE",
  /** The job was cancelled (`POST /jobs/:id/cancel`): the reason `ctx.signal` aborts with, and the cancelled job's error. */
  CANCELLED: "CANCELLED",

  // Mario itself
  /** A message that breaks the wire protocol. */
  PROTOCOL: "PROTOCOL",
  /** Anything not foreseen (see the log); never a driver's own code. */
  INTERNAL: "INTERNAL",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `value` is one of the table's codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
