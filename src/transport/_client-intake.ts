/**
 * Client requests arriving on the pipeline server's PULL socket: `enqueue` (batched: the requests
 * that arrive together go to storage in one `enqueueJobs` call) and `wait`, each alone or many in
 * one message (`enqueues`, `waits`). Replies go back over ReplySockets to each request's `replyTo`:
 * one `reply` message per single request, `replies` messages for batched ones.
 */
import { isInstructions } from "../core/job.ts";
import { BusyError } from "../core/errors/busy-error.ts";
import { errorFromCode } from "../core/errors/error-from-code.ts";
import { InvalidInstructionsError } from "../core/errors/invalid-instructions-error.ts";
import { JobNotFoundError } from "../core/errors/job-not-found-error.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { StorageUnavailableError } from "../core/errors/storage-unavailable-error.ts";
import { listOrNone, UnknownPipelineError } from "../core/errors/unknown-pipeline-error.ts";
import { WaitTimeoutError } from "../core/errors/wait-timeout-error.ts";
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import type { Dispatcher } from "../engine/dispatcher.ts";
import { waitForFinal } from "../engine/wait-for-final.ts";
import type { Logger } from "../log/logger.ts";
import type { EnqueueRequest } from "../storage/storage-backend.ts";
import type { ReplySockets } from "./_reply-sockets.ts";
import type { Body, BodyInput } from "./protocol.ts";

/** A request as the intake holds it: `batched` when it came in an `enqueues`/`waits` message. */
type Enqueue = Body<"enqueue"> & { batched?: boolean };
type Wait = Body<"wait"> & { batched?: boolean };
type Requester = { requestId: string; replyTo: string; batched?: boolean };

/** Deepest nesting of instructions accepted (the gateway's default limit too). */
const MAX_DEPTH = 64;

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

/** Longest `wait` a client may ask for, ms (1 hour). */
const MAX_WAIT_MS = 3_600_000;

export class ClientIntake {
  readonly #dispatcher: Dispatcher;
  readonly #pipelines: readonly PipelineDefinition[];
  readonly #replies: ReplySockets;
  readonly #logger: Logger;
  #batch: Enqueue[] = [];
  #flushing: Promise<void> | undefined;
  #scheduled = false;
  readonly #waits = new Set<Promise<void>>();
  /** Aborted by `close`: pending waits end without an answer. */
  readonly #closing = new AbortController();

  constructor(options: { dispatcher: Dispatcher; pipelines: readonly PipelineDefinition[]; replies: ReplySockets; logger: Logger }) {
    this.#dispatcher = options.dispatcher;
    this.#pipelines = options.pipelines;
    this.#replies = options.replies;
    this.#logger = options.logger;
  }

  enqueue(request: Body<"enqueue">): void {
    this.#batch.push(request);
    this.#schedule();
  }

  /** Many enqueue requests from one message; each gets its own reply, sent in `replies` messages. */
  enqueueMany(message: Body<"enqueues">): void {
    for (const item of message.requests) this.#batch.push({ ...item, replyTo: message.replyTo, batched: true });
    this.#schedule();
  }

  wait(request: Body<"wait">): void {
    this.#track(this.#wait(request));
  }

  waitMany(message: Body<"waits">): void {
    for (const item of message.requests) this.#track(this.#wait({ ...item, replyTo: message.replyTo, batched: true }));
  }

  #track(wait: Promise<void>): void {
    const run = wait.finally(() => this.#waits.delete(run));
    this.#waits.add(run);
  }

  /** Waits for batches being written. */
  async #drain(): Promise<void> {
    while (this.#flushing !== undefined || this.#batch.length > 0) {
      if (this.#flushing !== undefined) await this.#flushing;
      else this.#flush();
    }
  }

  /**
   * Drains, then ends pending `wait`s without answering them (their clients time out, as with any
   * server that goes away): no timer or storage read outlives the server.
   */
  async close(): Promise<void> {
    await this.#drain();
    this.#closing.abort();
    await Promise.allSettled([...this.#waits]);
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing !== undefined) return;
    this.#scheduled = true;
    // Let every request already readable join this batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.#flushing !== undefined || this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#flushing = this.#write(batch)
      .catch((error: unknown) => this.#logger.error("enqueue batch failed", { error: String(error) }))
      .finally(() => {
        this.#flushing = undefined;
        if (this.#batch.length > 0) this.#schedule();
      });
  }

  async #write(batch: Enqueue[]): Promise<void> {
    const valid: { request: Enqueue; storage: EnqueueRequest }[] = [];
    for (const request of batch) {
      const definition = this.#pipelines.find((p) => p.name === request.pipeline);
      if (definition === undefined) {
        const known = listOrNone(this.#pipelines.map((p) => p.name));
        this.#fail(request, new UnknownPipelineError(request.pipeline, [], { message: `unknown pipeline "${request.pipeline}"; this server serves: ${known}` }));
      } else if (!isInstructions(request.instructions)) {
        const got = Array.isArray(request.instructions) ? "an array" : request.instructions === null ? "null" : typeof request.instructions;
        this.#fail(request, new InvalidInstructionsError(`instructions for "${request.pipeline}" must be a JSON object, got ${got}`));
      } else if (deeperThan(request.instructions, MAX_DEPTH)) {
        // Storage copies would throw on it and fail the whole batch with it.
        this.#fail(request, new InvalidInstructionsError(`instructions for "${request.pipeline}" are nested deeper than ${MAX_DEPTH} levels`));
      } else {
        const storage = { pipeline: definition.name, route: definition.steps, instructions: request.instructions, idempotencyKey: request.idempotencyKey };
        valid.push({ request, storage });
      }
    }
    if (valid.length === 0) return;
    let outcomes;
    try {
      outcomes = await this.#dispatcher.storage.enqueueJobs(valid.map((v) => v.storage));
    } catch (error) {
      const failure = error instanceof MarioError ? error : new StorageUnavailableError(String(error), { cause: error });
      for (const { request } of valid) this.#fail(request, errorFromCode(failure.code, `storage failed: ${failure.message}`));
      return;
    }
    valid.forEach(({ request }, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined || outcome.status === "busy") {
        this.#fail(request, new BusyError("busy, try again later"));
        return;
      }
      if (outcome.status === "created") this.#dispatcher.events.emit("job:accepted", outcome.job);
      void this.#answer(request, {
        requestId: request.requestId,
        ok: true,
        job: outcome.job as unknown as Record<string, unknown>,
        duplicate: outcome.status === "duplicate",
      });
    });
    this.#dispatcher.kick();
  }

  async #wait(request: Wait): Promise<void> {
    try {
      const signal = this.#closing.signal;
      const record = await waitForFinal(this.#dispatcher, request.jobId, { timeoutMs: Math.min(request.timeoutMs, MAX_WAIT_MS), signal });
      if (signal.aborted) return;
      if (record !== undefined) {
        await this.#answer(request, { requestId: request.requestId, ok: true, job: record as unknown as Record<string, unknown> });
        return;
      }
      const current = await this.#dispatcher.storage.getJob(request.jobId);
      if (current === undefined) {
        this.#fail(request, new JobNotFoundError(`no job with id "${request.jobId}"`));
      } else {
        await this.#answer(request, {
          requestId: request.requestId,
          ok: false,
          job: current as unknown as Record<string, unknown>,
          error: wireError(new WaitTimeoutError(`job ${request.jobId} is still ${current.status} after ${request.timeoutMs} ms`)),
        });
      }
    } catch (error) {
      const failure = error instanceof MarioError ? error : new StorageUnavailableError(String(error), { cause: error });
      this.#fail(request, errorFromCode(failure.code, `storage failed: ${failure.message}`));
    }
  }

  #fail(request: Requester, error: MarioError): void {
    void this.#answer(request, { requestId: request.requestId, ok: false, error: wireError(error) });
  }

  /** One `reply` message for a single request; batched requests' replies leave together. Never rejects. */
  #answer(request: Requester, body: BodyInput<"reply">): Promise<void> {
    if (request.batched !== true) return this.#replies.reply(request.replyTo, body);
    this.#replies.queue(request.replyTo, body);
    return Promise.resolve();
  }
}

/** An error as a reply carries it. */
function wireError(error: MarioError): { code: string; message: string } {
  return { code: error.code, message: error.message };
}
