/**
 * The ZeroMQ intake, a protocol adapter only: client requests arriving on the pipeline server's
 * PULL socket are decoded, handed to the engine's front door, and answered. `enqueue` requests
 * that arrive together go to `Dispatcher.enqueueMany` as one batch (one storage call); `wait`
 * requests to `Dispatcher.waitForFinal`. Each request alone or many in one message (`enqueues`,
 * `waits`); `cancelJob` to `Dispatcher.cancel`; replies go back over ReplySockets to each request's `replyTo`: one `reply` message
 * per single request, `replies` messages for batched ones. Every rule (pipeline, instructions,
 * depth, idempotency key) is the engine's: the same code and limit as over HTTP.
 */
import { setMaxListeners } from "node:events";
import { BusyError } from "../core/errors/busy-error.ts";
import { asMarioError } from "../core/errors/error-from-code.ts";
import { JobNotFoundError } from "../core/errors/job-not-found-error.ts";
import type { MarioError } from "../core/errors/mario-error.ts";
import { WaitTimeoutError } from "../core/errors/wait-timeout-error.ts";
import { summarize } from "../core/job-summary.ts";
import type { Dispatcher } from "../engine/dispatcher.ts";
import type { Logger } from "../log/logger.ts";
import type { ReplySockets } from "./_reply-sockets.ts";
import type { Body, BodyInput } from "./protocol.ts";

/** A request as the intake holds it: `batched` when it came in an `enqueues`/`waits` message. */
type Enqueue = Body<"enqueue"> & { batched?: boolean };
type Wait = Body<"wait"> & { batched?: boolean };
type Requester = { requestId: string; replyTo: string; batched?: boolean };

/** Longest `wait` a client may ask for, ms (1 hour). */
const MAX_WAIT_MS = 3_600_000;

export class ClientIntake {
  readonly #dispatcher: Dispatcher;
  readonly #replies: ReplySockets;
  readonly #logger: Logger;
  #batch: Enqueue[] = [];
  #flushing: Promise<void> | undefined;
  #scheduled = false;
  readonly #waits = new Set<Promise<void>>();
  /** Aborted by `close`: pending waits end without an answer. */
  readonly #closing = new AbortController();

  constructor(options: { dispatcher: Dispatcher; replies: ReplySockets; logger: Logger }) {
    this.#dispatcher = options.dispatcher;
    this.#replies = options.replies;
    this.#logger = options.logger;
    // Every pending wait listens on it (and stops listening when it ends): many at once is normal.
    setMaxListeners(0, this.#closing.signal);
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

  /** A cancel: answered with what became of the job (`reply.cancel`), or JOB_NOT_FOUND. */
  cancel(request: Body<"cancelJob">): void {
    this.#track(this.#cancel(request));
  }

  async #cancel(request: Body<"cancelJob">): Promise<void> {
    try {
      const answer = await this.#dispatcher.cancel(request.jobId);
      if (answer.status === "missing") return this.#fail(request, new JobNotFoundError(`no job with id "${request.jobId}"`));
      await this.#answer(request, { requestId: request.requestId, ok: true, job: answer.job as unknown as Record<string, unknown>, cancel: answer.status });
    } catch (error) {
      this.#fail(request, asMarioError(error));
    }
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
    const answers = await this.#dispatcher.enqueueMany(batch);
    batch.forEach((request, i) => {
      const answer = answers[i]!;
      if (answer.status === "refused") this.#fail(request, answer.error);
      else if (answer.status === "busy") this.#fail(request, new BusyError("busy, try again later"));
      else void this.#answer(request, { requestId: request.requestId, ok: true, job: summarize(answer.job), duplicate: answer.status === "duplicate" });
    });
  }

  async #wait(request: Wait): Promise<void> {
    try {
      const signal = this.#closing.signal;
      const record = await this.#dispatcher.waitForFinal(request.jobId, { timeoutMs: Math.min(request.timeoutMs, MAX_WAIT_MS), signal });
      if (signal.aborted) return;
      if (record !== undefined) {
        await this.#answer(request, { requestId: request.requestId, ok: true, job: record as unknown as Record<string, unknown> });
        return;
      }
      const current = await this.#dispatcher.get(request.jobId);
      if (current === undefined) {
        this.#fail(request, new JobNotFoundError(`no job with id "${request.jobId}"`));
        return;
      }
      const error = new WaitTimeoutError(`job ${request.jobId} is still ${current.status} after ${request.timeoutMs} ms`);
      await this.#answer(request, { requestId: request.requestId, ok: false, job: current as unknown as Record<string, unknown>, error: wireError(error) });
    } catch (error) {
      this.#fail(request, asMarioError(error));
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
