/**
 * The ZeroMQ intake, a protocol adapter only: client requests arriving on the pipeline server's
 * PULL socket are decoded, handed to the engine's front door, and answered. `enqueue` requests
 * that arrive together go to `Dispatcher.enqueueMany` as one batch (one storage call); `wait`
 * requests to `Dispatcher.waitForFinal`. Each request alone or many in one message (`enqueues`,
 * `waits`); `cancelJob` to `Dispatcher.cancel`; `runs` (enqueue and wait, one request each) join
 * the enqueue batch, and each job taken is then waited for as a `wait` is, and answered once (a
 * `pending` reply first when it is not final within the request's `ackMs`). Replies go back over
 * ReplySockets to each request's `replyTo`: one `reply` message per single request, `replies`
 * messages for batched ones. Every rule (pipeline, instructions,
 * depth, idempotency key) is the engine's: the same code and limit as over HTTP.
 */
import { setMaxListeners } from "node:events";
import { BusyError } from "../core/errors/busy-error.ts";
import { asMarioError } from "../core/errors/error-from-code.ts";
import { JobNotFoundError } from "../core/errors/job-not-found-error.ts";
import type { MarioError } from "../core/errors/mario-error.ts";
import { WaitTimeoutError } from "../core/errors/wait-timeout-error.ts";
import { isFinal, type JobRecord } from "../core/job.ts";
import { summarize } from "../core/job-summary.ts";
import type { Dispatcher } from "../engine/dispatcher.ts";
import type { Logger } from "../log/logger.ts";
import type { ReplySockets } from "./_reply-sockets.ts";
import { CreditDesk } from "./_credit-desk.ts";
import type { Body, BodyInput } from "./protocol.ts";

/** A request as the intake holds it: `batched` when it came in an `enqueues`/`waits`/`runs` message; `run`: wait for it too. */
type Enqueue = Body<"enqueue"> & { batched?: boolean; run?: { timeoutMs: number; ackMs?: number | undefined }; flow?: boolean };
type Requester = { requestId: string; replyTo: string; batched?: boolean };

/** What the intake has answered since it started (read by tests and the bench). */
export interface IntakeCounts {
  /** Request messages taken, by type. */
  messages: Record<string, number>;
  /** Enqueues (and runs) answered BUSY. */
  busy: number;
}

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
  readonly counts: IntakeCounts = { messages: {}, busy: 0 };
  /** Credit for clients that hold requests back at the queue limit (see _credit-desk.ts). */
  readonly credit: CreditDesk;
  readonly #offFinished: () => void;

  constructor(options: { dispatcher: Dispatcher; replies: ReplySockets; logger: Logger }) {
    this.#dispatcher = options.dispatcher;
    this.#replies = options.replies;
    this.#logger = options.logger;
    // Every pending wait listens on it (and stops listening when it ends): many at once is normal.
    setMaxListeners(0, this.#closing.signal);
    this.credit = new CreditDesk({
      send: (replyTo, grants) => this.#replies.send(replyTo, "credit", { grants }),
      // Asked for new waiters only: the pipelines served now (a project reloaded may change them).
      serves: (pipeline) => this.#dispatcher.pipelines.some((p) => p.name === pipeline),
    });
    this.#offFinished = this.#dispatcher.events.on("job:finished", (event) => this.credit.finished(event.pipeline));
  }

  /** Counts a request message of `type` (the server calls it for each one it decodes). */
  took(type: string): void {
    this.counts.messages[type] = (this.counts.messages[type] ?? 0) + 1;
  }

  enqueue(request: Body<"enqueue">): void {
    this.#batch.push(request);
    this.#schedule();
  }

  /** Many enqueue requests from one message; each gets its own reply, sent in `replies` messages. */
  enqueueMany(message: Body<"enqueues">): void {
    const flow = message.held !== undefined;
    if (flow) this.credit.heard(message.replyTo, message.held!);
    for (const item of message.requests) this.#batch.push({ ...item, replyTo: message.replyTo, batched: true, flow });
    this.#schedule();
  }

  /** A client holding requests back says how many, per pipeline. */
  wants(message: Body<"wants">): void {
    this.credit.heard(message.replyTo, message.held);
  }

  /** Many runs: enqueued with the other enqueues of this turn, then each job waited for and answered once it is final. */
  runMany(message: Body<"runs">): void {
    const flow = message.held !== undefined;
    if (flow) this.credit.heard(message.replyTo, message.held!);
    for (const { timeoutMs, ackMs, ...item } of message.requests) this.#batch.push({ ...item, replyTo: message.replyTo, batched: true, run: { timeoutMs, ackMs }, flow });
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
    this.#track(this.#waitAndAnswer(request, request.jobId, request.timeoutMs, {}));
  }

  waitMany(message: Body<"waits">): void {
    for (const item of message.requests) this.#track(this.#waitAndAnswer({ ...item, replyTo: message.replyTo, batched: true }, item.jobId, item.timeoutMs, {}));
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
    this.#offFinished();
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
      else if (answer.status === "busy") {
        this.counts.busy++;
        if (request.flow === true) this.credit.busy(request.replyTo, request.pipeline);
        this.#fail(request, new BusyError("busy, try again later"));
      } else if (request.run !== undefined) this.#track(this.#run(request, request.run, answer.job, answer.status === "duplicate"));
      else void this.#answer(request, { requestId: request.requestId, ok: true, job: summarize(answer.job), duplicate: answer.status === "duplicate" });
    });
  }

  /** A run's job, taken: answered at once when already final (a repeated key), else once it is; `pending` first after `ackMs`. */
  async #run(request: Enqueue, run: { timeoutMs: number; ackMs?: number | undefined }, job: JobRecord, duplicate: boolean): Promise<void> {
    if (isFinal(job.status)) return this.#answer(request, { requestId: request.requestId, ok: true, job: job as unknown as Record<string, unknown>, duplicate });
    const ack = run.ackMs === undefined ? undefined : setTimeout(() => {
      void this.#answer(request, { requestId: request.requestId, ok: true, job: summarize(job), duplicate, pending: true });
    }, run.ackMs);
    try {
      await this.#waitAndAnswer(request, job.id, run.timeoutMs, { duplicate });
    } finally {
      clearTimeout(ack);
    }
  }

  /** Waits for the job to be final and answers its record; WAIT_TIMEOUT with its current record when not within `timeoutMs`. */
  async #waitAndAnswer(request: Requester, jobId: string, timeoutMs: number, extra: { duplicate?: boolean }): Promise<void> {
    try {
      const signal = this.#closing.signal;
      const record = await this.#dispatcher.waitForFinal(jobId, { timeoutMs: Math.min(timeoutMs, MAX_WAIT_MS), signal });
      if (signal.aborted) return;
      if (record !== undefined) {
        await this.#answer(request, { requestId: request.requestId, ok: true, job: record as unknown as Record<string, unknown>, ...extra });
        return;
      }
      const current = await this.#dispatcher.get(jobId);
      if (current === undefined) return this.#fail(request, new JobNotFoundError(`no job with id "${jobId}"`));
      const error = new WaitTimeoutError(`job ${jobId} is still ${current.status} after ${timeoutMs} ms`);
      await this.#answer(request, { requestId: request.requestId, ok: false, job: current as unknown as Record<string, unknown>, error: wireError(error), ...extra });
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
