/**
 * The one way back from a code to its error class: what a client, the remote cluster and the CLI
 * do with a code that came over a wire, and what the edges (HTTP, ZeroMQ replies, the CLI) do
 * with anything thrown (`asMarioError`): a MarioError stays itself, anything else is INTERNAL,
 * so a driver's code (ECONNREFUSED, ENOENT…) never reaches a caller.
 *
 * ```ts
 * if (!reply.ok) throw errorFromCode(reply.error.code, reply.error.message);   // a BusyError, an UnknownPipelineError…
 * ```
 */
import { AlreadyFinishedError } from "./already-finished-error.ts";
import { AttemptLostError } from "./attempt-lost-error.ts";
import { BusyError } from "./busy-error.ts";
import { CancelledError } from "./cancelled-error.ts";
import { DeliveryError } from "./delivery-error.ts";
import { isErrorCode, type ErrorCode } from "./error-codes.ts";
import { InvalidConfigError } from "./invalid-config-error.ts";
import { InvalidDelayError } from "./invalid-delay-error.ts";
import { InvalidInstructionsError } from "./invalid-instructions-error.ts";
import { InvalidOutputError } from "./invalid-output-error.ts";
import { InvalidPriorityError } from "./invalid-priority-error.ts";
import { InvalidRequestError } from "./invalid-request-error.ts";
import { JobNotFoundError } from "./job-not-found-error.ts";
import { LeaseLostError } from "./lease-lost-error.ts";
import { MarioError } from "./mario-error.ts";
import { NoAnswerError } from "./no-answer-error.ts";
import { NoWorkerError } from "./no-worker-error.ts";
import { NonRetryableError } from "./non-retryable-error.ts";
import { ProtocolError } from "./protocol-error.ts";
import { RemoteError } from "./remote-error.ts";
import { ShutdownError } from "./shutdown-error.ts";
import { StalledError } from "./stalled-error.ts";
import { StepTimeoutError } from "./step-timeout-error.ts";
import { StorageFullError } from "./storage-full-error.ts";
import { StorageLostError } from "./storage-lost-error.ts";
import { StorageUnavailableError } from "./storage-unavailable-error.ts";
import { TooDeepError } from "./too-deep-error.ts";
import { UnknownJobTypeError } from "./unknown-job-type-error.ts";
import { UnknownPipelineError } from "./unknown-pipeline-error.ts";
import { UsageError } from "./usage-error.ts";
import { WaitTimeoutError } from "./wait-timeout-error.ts";

type Make = (message: string, options: { cause?: unknown }) => MarioError;

/** Codes with a class of their own; the others come back as a MarioError with that code. */
const CLASS_OF: { readonly [C in ErrorCode]?: Make } = {
  UNKNOWN_PIPELINE: (message) => new UnknownPipelineError("", [], { message }),
  UNKNOWN_JOB_TYPE: (message) => new UnknownJobTypeError("", [], undefined, { message }),
  INVALID_INSTRUCTIONS: (message, options) => new InvalidInstructionsError(message, options),
  TOO_DEEP: (message, options) => new TooDeepError(message, options),
  INVALID_REQUEST: (message, options) => new InvalidRequestError(message, options),
  INVALID_DELAY: (message, options) => new InvalidDelayError(message, options),
  INVALID_PRIORITY: (message, options) => new InvalidPriorityError(message, options),
  JOB_NOT_FOUND: (message, options) => new JobNotFoundError(message, options),
  ALREADY_FINISHED: (message, options) => new AlreadyFinishedError(message, options),
  CANCELLED: (message, options) => new CancelledError(message, options),
  WAIT_TIMEOUT: (message, options) => new WaitTimeoutError(message, options),
  USAGE: (message, options) => new UsageError(message, options),
  INVALID_CONFIG: (message, options) => new InvalidConfigError(message, options),
  BUSY: (message, options) => new BusyError(message, options),
  STORAGE_UNAVAILABLE: (message, options) => new StorageUnavailableError(message, options),
  STORAGE_FULL: (message, options) => new StorageFullError(message, options),
  STORAGE_LOST: (message, options) => new StorageLostError(message, options),
  SHUTDOWN: (message, options) => new ShutdownError(message, options),
  NO_ANSWER: (message, options) => new NoAnswerError(message, options),
  NO_WORKER: (message, options) => new NoWorkerError(message, options),
  TIMEOUT: (message, options) => new StepTimeoutError(message, options),
  INVALID_OUTPUT: (message, options) => new InvalidOutputError(message, options),
  LEASE_LOST: (message, options) => new LeaseLostError(message, options),
  ATTEMPT_LOST: (message, options) => new AttemptLostError(message, options),
  STALLED: (message, options) => new StalledError(message, options),
  DELIVERY_FAILED: (message, options) => new DeliveryError(message, [], options),
  PROTOCOL: (message, options) => new ProtocolError(message, options),
  NON_RETRYABLE: (message, options) => new NonRetryableError(message, options),
};

/** The error of `code`; a code not in the table (from a newer server) is a RemoteError, code INTERNAL. */
export function errorFromCode(code: string, message: string, options: { cause?: unknown } = {}): MarioError {
  if (!isErrorCode(code)) return new RemoteError(code.slice(0, 40), message, options);
  return CLASS_OF[code]?.(message, options) ?? new MarioError(code, message, options);
}

/** Anything thrown, as a MarioError: itself, or INTERNAL carrying it as the cause (log the cause, answer the code). */
export function asMarioError(thrown: unknown): MarioError {
  if (thrown instanceof MarioError) return thrown;
  return new MarioError("INTERNAL", "internal error (see the server's log)", { cause: thrown });
}
