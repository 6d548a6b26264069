/**
 * The native client of a pipeline server (or of a streamer in front of several). Requests go out
 * on a PUSH to the server's job-pull address; replies come back on a PULL this client binds, whose
 * address travels with each request as `replyTo`. Requests made in the same turn of the event loop
 * leave together, one `enqueues`, one `waits` and one `runs` message (at most REQUESTS_PER_MESSAGE
 * each), and the server answers them with `replies` messages; one timer watches every request's
 * deadline. At the queue limit, enqueues and runs wait here for credit from the server instead of
 * being sent to be refused (see _client-credit.ts; `busyWaitMs`).
 *
 * ```ts
 * const client = new PipelineClient("tcp://127.0.0.1:5050");
 * await client.connect();
 * const [ok, payload] = await client.enqueueJob({ name: "example-one", instructions: { size: 10 } });
 * if (ok) console.log((await client.waitFor(payload.id, { timeoutMs: 30_000 })).result);
 * else console.error(payload.code, payload.message);   // BUSY: "busy, try again later"
 * const done = await client.run({ name: "example-one", instructions: { size: 10 } });   // enqueue + wait, one request
 * await client.cancel(jobId);   // { status: "cancelled" | "cancelling" | "final", job }
 * client.close();
 *
 * const found = new PipelineClient("redis://127.0.0.1:6379");   // or redis+cluster://…
 * ```
 *
 * Given a Redis URL instead of a server's address, the client finds the pipeline servers
 * registered in that Redis (see `DiscoveringClient`): enqueues are spread over the live servers
 * of the pipeline, and a request a server does not answer within `timeoutMs` (default 1000 in this
 * form) goes to another one with the same idempotency key.
 */
import * as zmq from "zeromq";
import { parseAddress } from "../core/address.ts";
import { DiscoveringClient } from "./discovering-client.ts";
import { errorFromCode } from "../core/errors/error-from-code.ts";
import { WaitTimeoutError } from "../core/errors/wait-timeout-error.ts";
import { newId } from "../core/ids.ts";
import type { JobRecord } from "../core/job.ts";
import type { JobSummary } from "../core/job-summary.ts";
import { advertiseHostOf, bindAndRead, closeSocket, connectableAddress, connectAll, hardFrameLimit, LINK_OPTIONS, readLoop } from "./_sockets.ts";
import { DeadlineSweep } from "../engine/_deadline-sweep.ts";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { CreditGate } from "./_client-credit.ts";
import { Outbox, sendSplit, type Flowing, type Pending } from "./_client-outbox.ts";
import { NoAnswerError } from "../core/errors/no-answer-error.ts";
import { decode, DEFAULT_MAX_MESSAGE_BYTES, encode, type Body } from "./protocol.ts";
import { SendQueue } from "./send-queue.ts";
import { silentLogger } from "../log/logger.ts";
import type { Curve } from "./curve/curve.ts";
import { secureClient } from "./curve/secure-socket.ts";
import { CLIENT_KEY_PREFIX, DEFAULT_RUN_WAIT_MS, noAnswer, replyError, runAnswer, type EnqueueJobRequest, type EnqueueJobResult, type CancelAnswer, type RunJobAnswer, type RunJobRequest } from "./_client-requests.ts";

export { CLIENT_KEY_PREFIX, DEFAULT_RUN_WAIT_MS, type CancelAnswer, type EnqueueJobRequest, type EnqueueJobResult, type RequestError, type RunJobAnswer, type RunJobRequest } from "./_client-requests.ts";

export interface PipelineClientOptions {
  /** A request without an answer fails after this many ms. Default 10 000. */
  timeoutMs?: number | undefined;
  /** Host the server sends replies to. Default MARIO_ADVERTISE_HOST, else 127.0.0.1. */
  replyHost?: string | undefined;
  /**
   * Where the reply socket binds. Default `tcp://127.0.0.1:0` when `replyHost` is loopback, else
   * `tcp://0.0.0.0:0`; its port is the one sent with requests (behind a port forward, bind here
   * and name the forwarded host in `replyHost`).
   */
  replyBind?: string | undefined;
  /** Largest reply accepted, bytes. Default 16 MiB. */
  maxMessageBytes?: number | undefined;
  /**
   * At the queue limit, how long an enqueue (or run) may wait in this client for room before it
   * is answered BUSY, ms: it is held here and sent when the server grants credit, not resent to be
   * refused. Default 1000; 0: no waiting, each BUSY answered at once (as before credit).
   */
  busyWaitMs?: number | undefined;
  /**
   * CurveZMQ: requests and replies are encrypted, and only the holder of `curve.serverKey`'s
   * secret key (the pipeline server, or a streamer) can take requests or send replies. This
   * client's own key must be allowed by the server. Default: off.
   */
  curve?: Curve | undefined;
}

type EnqueueItem = Body<"enqueues">["requests"][number];
type WaitItem = Body<"waits">["requests"][number];
type RunItem = Body<"runs">["requests"][number];

/** Most requests in one message. */
const REQUESTS_PER_MESSAGE = 512;
/** A batch whose body is larger than this is sent in smaller parts. */
const BATCH_BYTES = 1024 * 1024;

export class PipelineClient {
  readonly address: string;
  readonly #timeoutMs: number;
  readonly #replyHost: string;
  readonly #replyBind: string | undefined;
  readonly #maxBytes: number;
  readonly #push: zmq.Push;
  readonly #pull: zmq.Pull;
  readonly #queue: SendQueue;
  readonly #pending = new Map<string, Pending>();
  readonly #deadlines = new DeadlineSweep<Pending>((pending) => this.#settleFailed(pending, noAnswer(this.address, pending.timeoutMs, pending.idempotencyKey)));
  readonly #enqueues = new Outbox<EnqueueItem>();
  readonly #waits = new Outbox<WaitItem>();
  readonly #runs = new Outbox<RunItem>();
  readonly #gate: CreditGate<Flowing>;
  /** Whether the server takes `runs`: unknown until it answers one (an older server drops them). */
  #serverRuns: boolean | undefined;
  #flushScheduled = false;
  #replyTo: string | undefined;
  #reading: Promise<void> | undefined;
  /** Set when given a Redis URL: every request goes through it. */
  readonly #discovery: DiscoveringClient | undefined;

  constructor(address: string, options: PipelineClientOptions = {}) {
    const found = isRedisUri(address);
    if (found) {
      const perServer = { ...options, timeoutMs: options.timeoutMs ?? 1000 };
      this.#discovery = new DiscoveringClient(address, perServer, (server) => new PipelineClient(server, perServer));
    } else parseAddress(address);
    this.address = address;
    this.#timeoutMs = options.timeoutMs ?? (found ? 1000 : 10_000);
    this.#replyHost = advertiseHostOf(options.replyHost);
    this.#replyBind = options.replyBind;
    this.#gate = new CreditGate<Flowing>({
      busyWaitMs: options.busyWaitMs ?? 1000,
      release: (entries) => {
        for (const entry of entries) {
          entry.pending.deadline ??= this.#deadlines.add(entry.pending.timeoutMs, entry.pending);
          entry.queue();
        }
        this.#scheduleFlush();
      },
      expire: (entry) => {
        this.#pending.delete(entry.pending.requestId);
        entry.pending.resolve({ requestId: entry.pending.requestId, ok: false, error: { code: ERROR_CODES.BUSY, message: "busy, try again later" } });
      },
      wants: (held) => {
        if (this.#replyTo !== undefined) this.#send(encode("wants", { replyTo: this.#replyTo, held }), []);
      },
    });
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    // `immediate`: requests only go to a connected server. Without it they would wait in the socket
    // while the server is down, and be taken in when it comes back, after the caller was told
    // NO_ANSWER (a retry would then make a second job).
    this.#push = new zmq.Push({ ...LINK_OPTIONS, sendTimeout: this.#timeoutMs, immediate: true, linger: 0 });
    this.#pull = new zmq.Pull({ ...LINK_OPTIONS, maxMessageSize: hardFrameLimit(this.#maxBytes), linger: 0 });
    this.#queue = new SendQueue(this.#push);
    // Both sockets are CURVE clients: the server's reply socket, which connects here, is the server.
    secureClient(this.#push, options.curve);
    secureClient(this.#pull, options.curve);
  }

  async connect(): Promise<void> {
    if (this.#discovery !== undefined) return this.#discovery.connect();
    if (this.#replyTo !== undefined) return;
    connectAll(this.#push, [this.address]);
    const local = this.#replyHost === "127.0.0.1" || this.#replyHost === "localhost";
    const bound = await bindAndRead(this.#pull, this.#replyBind ?? `tcp://${local ? "127.0.0.1" : "0.0.0.0"}:0`);
    this.#replyTo = connectableAddress(bound, this.#replyHost);
    this.#reading = readLoop(this.#pull, "client", silentLogger, (frames) => {
      const message = decode(frames, { maxBytes: this.#maxBytes, accept: ["replies", "reply", "credit"] });
      if (message instanceof Error) return;
      if (message.type === "replies") for (const reply of message.body.replies) this.#answer(reply);
      else if (message.type === "reply") this.#answer(message.body);
      else if (message.type === "credit") this.#gate.grant(message.body.grants);
    });
  }

  /**
   * Enqueues a job. `ok=false` (no throw) when the server says busy, unknown pipeline or invalid.
   * Rejects with NoAnswerError (NO_ANSWER) when no answer comes in time: the job may still have
   * been taken; send again with the error's `idempotencyKey`, which never doubles it.
   */
  async enqueueJob(request: EnqueueJobRequest): Promise<EnqueueJobResult> {
    if (this.#discovery !== undefined) return this.#discovery.enqueueJob(request);
    const idempotencyKey = request.idempotencyKey ?? `${CLIENT_KEY_PREFIX}${newId()}`;
    const reply = await this.#request(this.#timeoutMs, (requestId, pending) => {
      pending.idempotencyKey = idempotencyKey;
      // Start options not given are undefined, which JSON leaves out: the wire is as without them.
      const item: EnqueueItem = { requestId, pipeline: request.name, instructions: request.instructions, idempotencyKey, delayMs: request.delayMs, runAt: request.runAt, priority: request.priority };
      return this.#gated(pending, request.name, () => this.#enqueues.push(item, pending));
    });
    if (reply.ok && reply.job !== undefined) return [true, { ...(reply.job as unknown as JobSummary), duplicate: reply.duplicate ?? false }];
    const error = replyError(reply);
    return [false, { code: error.code, message: error.message }];
  }

  /**
   * Resolves with the job's final record (succeeded or dead). Rejects with a WaitTimeoutError
   * (WAIT_TIMEOUT) if it is not final within `timeoutMs` (default 60 000), JobNotFoundError if
   * the server does not know it, NoAnswerError if the server does not answer; any other code the
   * server answers with, as its class (`errorFromCode`).
   */
  async waitFor(jobId: string, options: { timeoutMs?: number } = {}): Promise<JobRecord> {
    if (this.#discovery !== undefined) return this.#discovery.waitFor(jobId, options);
    const reply = await this.#waitRequest(jobId, options.timeoutMs ?? 60_000);
    if (reply.ok && reply.job !== undefined) return reply.job as unknown as JobRecord;
    throw replyError(reply);
  }

  #waitRequest(jobId: string, timeoutMs: number): Promise<Body<"reply">> {
    return this.#request(timeoutMs + this.#timeoutMs, (requestId, pending) => {
      return this.#waits.push({ requestId, jobId, timeoutMs }, pending);
    });
  }

  /**
   * Enqueues a job and waits for it, as one request: resolves with the job's final record
   * (succeeded, dead or cancelled), as `waitFor` does. Takes every option of `enqueueJob`, and
   * `timeoutMs`, how long to wait for the job (default 60 000). Rejects with the server's refusal
   * as its class (BusyError for BUSY, UnknownPipelineError…), WaitTimeoutError when the job is not
   * final in time (its id is in the message; `runJob` answers its record), NoAnswerError (resend
   * with its `idempotencyKey`: never doubles the job).
   */
  async run(request: RunJobRequest): Promise<JobRecord> {
    const answer = await this.runJob(request);
    if (answer.status === "refused") throw errorFromCode(answer.error.code, answer.error.message);
    if (answer.status === "pending") throw new WaitTimeoutError(`job ${answer.job.id} is still ${answer.job.status} after ${request.timeoutMs ?? DEFAULT_RUN_WAIT_MS} ms`);
    return answer.job;
  }

  /**
   * `run`, answered without throwing for what the server says: `final` (the record), `pending`
   * (not final within `timeoutMs`: the record as it is), or `refused` (BUSY, UNKNOWN_PIPELINE…).
   * Against a server older than `runs`, which drops them, it enqueues and waits instead (the
   * first time after one `timeoutMs` of the client without an answer; it remembers).
   */
  async runJob(request: RunJobRequest): Promise<RunJobAnswer> {
    if (this.#discovery !== undefined) return this.#discovery.runJob(request);
    const keyed = { ...request, idempotencyKey: request.idempotencyKey ?? `${CLIENT_KEY_PREFIX}${newId()}` };
    const waitMs = request.timeoutMs ?? DEFAULT_RUN_WAIT_MS;
    if (this.#serverRuns === false) return this.#enqueueThenWait(keyed, waitMs);
    let reply: Body<"reply">;
    try {
      reply = await this.#request(this.#timeoutMs, (requestId, pending) => {
        pending.idempotencyKey = keyed.idempotencyKey;
        pending.extendMs = waitMs + this.#timeoutMs;
        // The server says `pending` if the job is not final by half this client's timeout: a server that says nothing is gone.
        const item: RunItem = { requestId, pipeline: request.name, instructions: request.instructions, idempotencyKey: keyed.idempotencyKey, delayMs: request.delayMs, runAt: request.runAt, priority: request.priority, timeoutMs: waitMs, ackMs: this.#timeoutMs >> 1 };
        return this.#gated(pending, request.name, () => this.#runs.push(item, pending));
      });
    } catch (error) {
      if (!(error instanceof NoAnswerError) || this.#serverRuns !== undefined) throw error;
      return this.#enqueueThenWait(keyed, waitMs, true);
    }
    this.#serverRuns = true;
    return runAnswer(reply);
  }

  /** A run as two requests, for a server that does not take `runs`. `probing`: the run was just sent unanswered. */
  async #enqueueThenWait(request: RunJobRequest & { idempotencyKey: string }, waitMs: number, probing = false): Promise<RunJobAnswer> {
    const [ok, summary] = await this.enqueueJob(request);
    if (!ok) return { status: "refused", error: summary };
    // The same key answered a new job: the run was not taken, so this server does not know `runs`.
    if (probing && summary.duplicate !== true) this.#serverRuns = false;
    const reply = await this.#waitRequest(summary.id, waitMs);
    const answer = runAnswer(reply);
    return answer.status === "refused" ? answer : { ...answer, duplicate: summary.duplicate ?? false };
  }

  /**
   * Cancels a job (see `CancelAnswer`). Rejects with JobNotFoundError when the server does not know
   * it, NoAnswerError when no answer comes in time (send it again: a cancel never does harm twice).
   */
  async cancel(jobId: string): Promise<CancelAnswer> {
    if (this.#discovery !== undefined) return this.#discovery.cancel(jobId);
    const reply = await this.#request(this.#timeoutMs, (requestId, pending) => {
      this.#send(encode("cancelJob", { requestId, jobId, replyTo: this.#replyTo! }), [pending]);
      return 0;
    });
    if (reply.ok && reply.job !== undefined && reply.cancel !== undefined) return { status: reply.cancel, job: reply.job as unknown as JobRecord };
    throw replyError(reply);
  }

  /** Closes both sockets; requests still waiting reject. */
  close(): void {
    this.#discovery?.close();
    this.#deadlines.clear();
    this.#gate.close();
    this.#enqueues.clear();
    this.#waits.clear();
    this.#runs.clear();
    for (const [id, pending] of this.#pending) {
      pending.reject(new Error("client closed"));
      this.#pending.delete(id);
    }
    this.#queue.close(new Error("client closed"));
    closeSocket(this.#push, 0);
    closeSocket(this.#pull, 0);
  }

  /** Waits for the read loop to end after `close()`. */
  async closed(): Promise<void> {
    await this.#reading;
  }

  #answer(reply: Body<"reply">): void {
    const pending = this.#pending.get(reply.requestId);
    if (pending === undefined) return;
    // An enqueue's (or run's) first answer: BUSY within its wait holds it back for credit.
    if (pending.flow?.inFlight === true && this.#gate.answered(pending.flow, reply.error?.code === ERROR_CODES.BUSY)) return this.#unwatch(pending);
    if (reply.pending === true) {
      // A run's job was taken and is not final yet: its deadline is now the wait's.
      if (pending.extendMs !== undefined && pending.deadline !== undefined) {
        this.#deadlines.cancel(pending.deadline);
        pending.deadline = this.#deadlines.add(pending.extendMs, pending);
        pending.extendMs = undefined;
      }
      return;
    }
    this.#pending.delete(reply.requestId);
    if (pending.deadline !== undefined) this.#deadlines.cancel(pending.deadline);
    pending.resolve(reply);
  }

  /** Queues one request (`add` puts it in a batch and returns the batch's size); resolves with its reply. */
  #request(timeoutMs: number, add: (requestId: string, pending: Pending) => number): Promise<Body<"reply">> {
    if (this.#replyTo === undefined) return Promise.reject(new Error("PipelineClient: call connect() first"));
    const requestId = newId();
    return new Promise<Body<"reply">>((resolve, reject) => {
      const pending: Pending = { requestId, timeoutMs, resolve, reject, deadline: undefined };
      pending.deadline = this.#deadlines.add(timeoutMs, pending);
      this.#pending.set(requestId, pending);
      if (add(requestId, pending) >= REQUESTS_PER_MESSAGE) this.#flush();
      else this.#scheduleFlush();
    });
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  /** An enqueue or run goes to its outbox (`queue`), or is held back by the credit gate (answers 0 then). */
  #gated(pending: Pending, pipeline: string, queue: () => number): number {
    const flow: Flowing = { pipeline, calledAt: Date.now(), pending, queue };
    pending.flow = flow;
    if (this.#gate.admit(flow)) return queue();
    this.#unwatch(pending);
    return 0;
  }

  /** Held back: its deadline waits until it is sent. */
  #unwatch(pending: Pending): void {
    if (pending.deadline === undefined) return;
    this.#deadlines.cancel(pending.deadline);
    pending.deadline = undefined;
  }

  /** Sends the requests gathered so far: one `enqueues`, one `waits` and one `runs` message at most (each split when too big). */
  #flush(): void {
    const replyTo = this.#replyTo;
    if (replyTo === undefined) return;
    const send = (frames: Buffer[], pending: Pending[]): void => this.#send(frames, pending);
    const fail = (pending: Pending, error: unknown): void => this.#settleFailed(pending, error);
    // `held`: this client holds requests back for credit (what, per pipeline); absent with busyWaitMs 0.
    const held = this.#gate.heldCounts();
    const enqueues = this.#enqueues.take();
    if (enqueues !== undefined) sendSplit(...enqueues, BATCH_BYTES, (requests) => encode("enqueues", held === undefined ? { replyTo, requests } : { replyTo, requests, held }), send, fail);
    const waits = this.#waits.take();
    if (waits !== undefined) sendSplit(...waits, BATCH_BYTES, (requests) => encode("waits", { replyTo, requests }), send, fail);
    const runs = this.#runs.take();
    if (runs !== undefined) sendSplit(...runs, BATCH_BYTES, (requests) => encode("runs", held === undefined ? { replyTo, requests } : { replyTo, requests, held }), send, fail);
  }

  #settleFailed(pending: Pending, error: unknown): void {
    if (this.#pending.get(pending.requestId) !== pending) return;
    this.#pending.delete(pending.requestId);
    if (pending.flow !== undefined) this.#gate.dropped(pending.flow);
    if (pending.deadline !== undefined) this.#deadlines.cancel(pending.deadline);
    pending.reject(error);
  }

  #send(frames: Buffer[], batch: Pending[]): void {
    this.#queue.send(frames).catch((error: unknown) => {
      // Said as the deadline says it: which of the two comes first is a matter of microseconds.
      for (const pending of batch) this.#settleFailed(pending, noAnswer(this.address, this.#timeoutMs, pending.idempotencyKey, error));
    });
  }
}

/** A Redis URL (single node or cluster) rather than a ZeroMQ address. */
function isRedisUri(address: string): boolean {
  return /^rediss?(\+cluster)?:\/\//.test(address.trim());
}
