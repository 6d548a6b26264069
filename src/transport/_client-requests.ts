/**
 * What `PipelineClient` is asked and answers (its request and answer types), and how a reply
 * becomes an answer: the error it carries as its class, a run's final or pending record.
 */
import type { EnqueueOptions } from "../core/enqueue-rules.ts";
import { ERROR_CODES, type ErrorCode } from "../core/errors/error-codes.ts";
import { errorFromCode } from "../core/errors/error-from-code.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { NoAnswerError } from "../core/errors/no-answer-error.ts";
import type { JobRecord } from "../core/job.ts";
import type { JobSummary } from "../core/job-summary.ts";
import type { CancelResult } from "../storage/storage-backend.ts";
import type { Body } from "./protocol.ts";

/** A job to enqueue: its pipeline, instructions and the options of core/enqueue-rules.ts (`delayMs`, `runAt`, `priority`). */
export interface EnqueueJobRequest extends Omit<EnqueueOptions, "id" | "idempotencyKey"> {
  /** The pipeline's name. */
  name: string;
  instructions: unknown;
  /**
   * Same key, same job. Default: a key of the client's own, one per call, so that a resend after
   * NO_ANSWER (with `NoAnswerError.idempotencyKey`) never doubles the job.
   */
  idempotencyKey?: string | undefined;
}

export interface RequestError {
  code: ErrorCode;
  message: string;
}

/** An accepted job answers its summary (id, status, …), not its instructions: see `waitFor` for the record. */
export type EnqueueJobResult = [ok: true, job: JobSummary & { duplicate?: boolean }] | [ok: false, error: RequestError];

/**
 * What `cancel` did: `cancelled` now (it was queued, delayed or waiting for a retry);
 * `cancelling` (running: its worker is told, and it ends cancelled when its attempt ends);
 * `final` (it had already finished: `job.status` says how; after a resend that followed
 * NO_ANSWER, `cancelled` there means the first request did it).
 */
export type CancelAnswer = Exclude<CancelResult, { status: "missing" }>;


/** A run: everything an enqueue takes, and how long to wait for the job, ms (`timeoutMs`, default 60 000). */
export interface RunJobRequest extends EnqueueJobRequest {
  timeoutMs?: number | undefined;
}

/** How long a run waits for its job by default, ms. */
export const DEFAULT_RUN_WAIT_MS = 60_000;

/**
 * What a run answers: `final` (the job's final record), `pending` (not final within the wait: the
 * record as it was then), each with `duplicate` (the idempotency key was taken before), or `refused`.
 */
export type RunJobAnswer =
  | { status: "final" | "pending"; job: JobRecord; duplicate: boolean }
  | { status: "refused"; error: RequestError };

/** A run's (or a wait's) reply as an answer: a WAIT_TIMEOUT carrying the record is `pending`. */
export function runAnswer(reply: Body<"reply">): RunJobAnswer {
  const duplicate = reply.duplicate ?? false;
  if (reply.ok && reply.job !== undefined) return { status: "final", job: reply.job as unknown as JobRecord, duplicate };
  if (reply.error?.code === ERROR_CODES.WAIT_TIMEOUT && reply.job !== undefined) return { status: "pending", job: reply.job as unknown as JobRecord, duplicate };
  const error = replyError(reply);
  return { status: "refused", error: { code: error.code, message: error.message } };
}

/** The error a reply carries, as its class. */
export function replyError(reply: Body<"reply">): MarioError {
  if (reply.error === undefined) return new MarioError(ERROR_CODES.INTERNAL, "the server answered without a job");
  return errorFromCode(reply.error.code, reply.error.message);
}

/** Keys the client makes for enqueues the caller gave none: this prefix, then a new id. */
export const CLIENT_KEY_PREFIX = "client-";

export function noAnswer(address: string, timeoutMs: number, idempotencyKey: string | undefined, cause?: unknown): NoAnswerError {
  const base = `no answer from ${address} within ${timeoutMs} ms: is a pipeline server listening there?`;
  const message = idempotencyKey === undefined ? base : `${base} The job may still have been taken: send it again with idempotency key ${idempotencyKey} (never doubles it)`;
  return new NoAnswerError(message, { cause, idempotencyKey });
}
