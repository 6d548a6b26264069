/**
 * The native client of a pipeline server (or of a streamer in front of several). Requests go out
 * on a PUSH to the server's job-pull address; replies come back on a PULL this client binds, whose
 * address travels with each request as `replyTo`. Requests made in the same turn of the event loop
 * leave together, one `enqueues` and one `waits` message (at most REQUESTS_PER_MESSAGE each), and
 * the server answers them with `replies` messages; one timer watches every request's deadline.
 *
 * ```ts
 * const client = new PipelineClient("tcp://127.0.0.1:5050");
 * await client.connect();
 * const [ok, payload] = await client.enqueueJob({ name: "example-one", instructions: { size: 10 } });
 * if (ok) console.log((await client.waitFor(payload.id, { timeoutMs: 30_000 })).result);
 * await client.cancel(jobId);   // { status: "cancelled" | "cancelling" | "final", job }
 * else console.error(payload.code, payload.message);   // BUSY: "busy, try again later"
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
import { ERROR_CODES, type ErrorCode } from "../core/errors/error-codes.ts";
import { errorFromCode } from "../core/errors/error-from-code.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { newId } from "../core/ids.ts";
import type { JobRecord } from "../core/job.ts";
import type { JobSummary } from "../core/job-summary.ts";
import type { CancelResult } from "../storage/storage-backend.ts";
import { advertiseHostOf, bindAndRead, closeSocket, connectableAddress, connectAll, hardFrameLimit, LINK_OPTIONS, readLoop } from "./_sockets.ts";
import { DeadlineSweep, type DeadlineEntry } from "../engine/_deadline-sweep.ts";
import { NoAnswerError } from "../core/errors/no-answer-error.ts";
import { decode, DEFAULT_MAX_MESSAGE_BYTES, encode, type Body } from "./protocol.ts";
import { SendQueue } from "./send-queue.ts";
import { silentLogger } from "../log/logger.ts";
import type { Curve } from "./curve/curve.ts";
import { secureClient } from "./curve/secure-socket.ts";

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
   * CurveZMQ: requests and replies are encrypted, and only the holder of `curve.serverKey`'s
   * secret key (the pipeline server, or a streamer) can take requests or send replies. This
   * client's own key must be allowed by the server. Default: off.
   */
  curve?: Curve | undefined;
}

export interface EnqueueJobRequest {
  /** The pipeline's name. */
  name: string;
  instructions: unknown;
  /**
   * Same key, same job. Default: a key of the client's own, one per call, so that a resend after
   * NO_ANSWER (with `NoAnswerError.idempotencyKey`) never doubles the job.
   */
  idempotencyKey?: string | undefined;
  /** Start no sooner than this many ms after the server's storage takes the job (0 to 30 days). Not with `runAt`. */
  delayMs?: number | string | undefined;
  /** Start no sooner than this time by storage's clock: epoch ms or ISO 8601 text with a zone (future, at most 30 days ahead). */
  runAt?: number | string | undefined;
  /** 0 (default) to 9: higher runs first at every step, FIFO within one priority. */
  priority?: number | string | undefined;
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

interface Pending {
  requestId: string;
  timeoutMs: number;
  /** An enqueue's idempotency key, told with NO_ANSWER. */
  idempotencyKey?: string | undefined;
  resolve: (reply: Body<"reply">) => void;
  reject: (error: unknown) => void;
  deadline: DeadlineEntry<Pending> | undefined;
}

type EnqueueItem = Body<"enqueues">["requests"][number];
type WaitItem = Body<"waits">["requests"][number];

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
  readonly #deadlines = new DeadlineSweep<Pending>((pending) => {
    this.#pending.delete(pending.requestId);
    pending.reject(noAnswer(this.address, pending.timeoutMs, pending.idempotencyKey));
  });
  #enqueues: EnqueueItem[] = [];
  #enqueuesPending: Pending[] = [];
  #waits: WaitItem[] = [];
  #waitsPending: Pending[] = [];
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

  /** The address replies come back to (sent with every request), once connected. */
  get replyAddress(): string | undefined {
    return this.#replyTo;
  }

  async connect(): Promise<void> {
    if (this.#discovery !== undefined) return this.#discovery.connect();
    if (this.#replyTo !== undefined) return;
    connectAll(this.#push, [this.address]);
    const local = this.#replyHost === "127.0.0.1" || this.#replyHost === "localhost";
    const bound = await bindAndRead(this.#pull, this.#replyBind ?? `tcp://${local ? "127.0.0.1" : "0.0.0.0"}:0`);
    this.#replyTo = connectableAddress(bound, this.#replyHost);
    this.#reading = readLoop(this.#pull, "client", silentLogger, (frames) => {
      const message = decode(frames, { maxBytes: this.#maxBytes, accept: ["replies", "reply"] });
      if (message instanceof Error) return;
      if (message.type === "replies") for (const reply of message.body.replies) this.#answer(reply);
      else if (message.type === "reply") this.#answer(message.body);
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
      const item: EnqueueItem = { requestId, pipeline: request.name, instructions: request.instructions, idempotencyKey, ...startOf(request) };
      this.#enqueues.push(item);
      this.#enqueuesPending.push(pending);
      return this.#enqueues.length;
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
    const timeoutMs = options.timeoutMs ?? 60_000;
    const reply = await this.#request(timeoutMs + this.#timeoutMs, (requestId, pending) => {
      this.#waits.push({ requestId, jobId, timeoutMs });
      this.#waitsPending.push(pending);
      return this.#waits.length;
    });
    if (reply.ok && reply.job !== undefined) return reply.job as unknown as JobRecord;
    throw replyError(reply);
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
    this.#enqueues = [];
    this.#enqueuesPending = [];
    this.#waits = [];
    this.#waitsPending = [];
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
      else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => {
          this.#flushScheduled = false;
          this.#flush();
        });
      }
    });
  }

  /** Sends the requests gathered so far: one `enqueues` and one `waits` message at most. */
  #flush(): void {
    const replyTo = this.#replyTo;
    if (replyTo === undefined) return;
    if (this.#enqueues.length > 0) {
      const requests = this.#enqueues;
      const pending = this.#enqueuesPending;
      this.#enqueues = [];
      this.#enqueuesPending = [];
      this.#sendSplit(requests, pending, (part) => encode("enqueues", { replyTo, requests: part }));
    }
    if (this.#waits.length > 0) {
      const requests = this.#waits;
      const pending = this.#waitsPending;
      this.#waits = [];
      this.#waitsPending = [];
      this.#sendSplit(requests, pending, (part) => encode("waits", { replyTo, requests: part }));
    }
  }

  /**
   * Sends a batch as one message, or halves of it while it is over BATCH_BYTES: a request too big
   * for the server is then dropped there alone, as it would be sent on its own.
   */
  #sendSplit<T>(items: T[], pending: Pending[], build: (items: T[]) => Buffer[]): void {
    let frames: Buffer[] | undefined;
    let error: unknown;
    try {
      frames = build(items);
    } catch (thrown) {
      // Instructions JSON cannot carry (a cycle, a BigInt, too deep): only their request fails.
      error = thrown;
    }
    if (frames === undefined && items.length === 1) {
      this.#settleFailed(pending[0]!, error);
      return;
    }
    if (frames === undefined || (items.length > 1 && frames[2]!.length > BATCH_BYTES)) {
      const half = items.length >> 1;
      this.#sendSplit(items.slice(0, half), pending.slice(0, half), build);
      this.#sendSplit(items.slice(half), pending.slice(half), build);
      return;
    }
    this.#send(frames, pending);
  }

  #settleFailed(pending: Pending, error: unknown): void {
    if (this.#pending.get(pending.requestId) !== pending) return;
    this.#pending.delete(pending.requestId);
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

/** The error a reply carries, as its class. */
function replyError(reply: Body<"reply">): MarioError {
  if (reply.error === undefined) return new MarioError(ERROR_CODES.INTERNAL, "the server answered without a job");
  return errorFromCode(reply.error.code, reply.error.message);
}

/** The request's delay, start time and priority, only those given (the wire stays as it was without them). */
function startOf(request: EnqueueJobRequest): Pick<EnqueueItem, "delayMs" | "runAt" | "priority"> {
  const start: Pick<EnqueueItem, "delayMs" | "runAt" | "priority"> = {};
  if (request.delayMs !== undefined) start.delayMs = request.delayMs;
  if (request.runAt !== undefined) start.runAt = request.runAt;
  if (request.priority !== undefined) start.priority = request.priority;
  return start;
}

/** Keys the client makes for enqueues the caller gave none: this prefix, then a new id. */
export const CLIENT_KEY_PREFIX = "client-";

function noAnswer(address: string, timeoutMs: number, idempotencyKey: string | undefined, cause?: unknown): NoAnswerError {
  const base = `no answer from ${address} within ${timeoutMs} ms: is a pipeline server listening there?`;
  const message = idempotencyKey === undefined ? base : `${base} The job may still have been taken: send it again with idempotency key ${idempotencyKey} (never doubles it)`;
  return new NoAnswerError(message, { cause, idempotencyKey });
}

/** A Redis URL (single node or cluster) rather than a ZeroMQ address. */
function isRedisUri(address: string): boolean {
  return /^rediss?(\+cluster)?:\/\//.test(address.trim());
}
