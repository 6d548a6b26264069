/**
 * The native client of a pipeline server (or of a streamer in front of several). Requests go out
 * on a PUSH to the server's job-pull address; replies come back on a PULL this client binds, whose
 * address travels with each request as `replyTo`.
 *
 * ```ts
 * const client = new PipelineClient("tcp://127.0.0.1:5050");
 * await client.connect();
 * const [ok, payload] = await client.enqueueJob({ name: "example-one", instructions: { size: 10 } });
 * if (ok) console.log((await client.waitFor(payload.id, { timeoutMs: 30_000 })).result);
 * else console.error(payload.code, payload.message);   // BUSY: "busy, try again later"
 * client.close();
 * ```
 */
import * as zmq from "zeromq";
import { parseAddress } from "../core/address.ts";
import { JobNotFoundError } from "../core/errors/job-not-found-error.ts";
import { newId } from "../core/ids.ts";
import type { JobRecord } from "../core/job.ts";
import { advertiseHostOf, bindAndRead, closeSocket, connectableAddress, hardFrameLimit, readLoop } from "./_sockets.ts";
import { NoAnswerError } from "./no-answer-error.ts";
import { decode, DEFAULT_MAX_MESSAGE_BYTES, encode, type Body } from "./protocol.ts";
import { RemoteError } from "./remote-error.ts";
import { SendQueue } from "./send-queue.ts";
import { silentLogger } from "../log/logger.ts";

export interface PipelineClientOptions {
  /** A request without an answer fails after this many ms. Default 10 000. */
  timeoutMs?: number | undefined;
  /** Host the server sends replies to. Default MARIO_ADVERTISE_HOST, else 127.0.0.1. */
  replyHost?: string | undefined;
  /** Largest reply accepted, bytes. Default 16 MiB. */
  maxMessageBytes?: number | undefined;
}

export interface EnqueueJobRequest {
  /** The pipeline's name. */
  name: string;
  instructions: unknown;
  idempotencyKey?: string | undefined;
}

export interface RequestError {
  code: string;
  message: string;
}

export type EnqueueJobResult = [ok: true, job: JobRecord & { duplicate?: boolean }] | [ok: false, error: RequestError];

interface Pending {
  resolve: (reply: Body<"reply">) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

export class PipelineClient {
  readonly address: string;
  readonly #timeoutMs: number;
  readonly #replyHost: string;
  readonly #maxBytes: number;
  readonly #push: zmq.Push;
  readonly #pull: zmq.Pull;
  readonly #queue: SendQueue;
  readonly #pending = new Map<string, Pending>();
  #replyTo: string | undefined;
  #reading: Promise<void> | undefined;

  constructor(address: string, options: PipelineClientOptions = {}) {
    parseAddress(address);
    this.address = address;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#replyHost = advertiseHostOf(options.replyHost);
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#push = new zmq.Push({ sendTimeout: this.#timeoutMs, linger: 0 });
    this.#pull = new zmq.Pull({ maxMessageSize: hardFrameLimit(this.#maxBytes), linger: 0 });
    this.#queue = new SendQueue(this.#push);
  }

  async connect(): Promise<void> {
    if (this.#replyTo !== undefined) return;
    const local = this.#replyHost === "127.0.0.1" || this.#replyHost === "localhost";
    const bound = await bindAndRead(this.#pull, `tcp://${local ? "127.0.0.1" : "0.0.0.0"}:0`);
    this.#replyTo = connectableAddress(bound, this.#replyHost);
    this.#push.connect(this.address);
    this.#reading = readLoop(this.#pull, "client", silentLogger, (frames) => {
      const message = decode(frames, { maxBytes: this.#maxBytes, accept: ["reply"] });
      if (message instanceof Error || message.type !== "reply") return;
      const pending = this.#pending.get(message.body.requestId);
      if (pending === undefined) return;
      this.#pending.delete(message.body.requestId);
      clearTimeout(pending.timer);
      pending.resolve(message.body);
    });
  }

  /** Enqueues a job. `ok=false` (no throw) when the server says busy, unknown pipeline or invalid. */
  async enqueueJob(request: EnqueueJobRequest): Promise<EnqueueJobResult> {
    const reply = await this.#request(this.#timeoutMs, (requestId, replyTo) =>
      encode("enqueue", { requestId, replyTo, pipeline: request.name, instructions: request.instructions, idempotencyKey: request.idempotencyKey }),
    );
    if (reply.ok && reply.job !== undefined) return [true, { ...(reply.job as unknown as JobRecord), duplicate: reply.duplicate ?? false }];
    return [false, reply.error ?? { code: "UNKNOWN", message: "the server answered without a job" }];
  }

  /**
   * Resolves with the job's final record (succeeded or dead). Rejects with a RemoteError
   * (WAIT_TIMEOUT) if it is not final within `timeoutMs` (default 60 000), JobNotFoundError if
   * the server does not know it, NoAnswerError if the server does not answer.
   */
  async waitFor(jobId: string, options: { timeoutMs?: number } = {}): Promise<JobRecord> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const reply = await this.#request(timeoutMs + this.#timeoutMs, (requestId, replyTo) => encode("wait", { requestId, replyTo, jobId, timeoutMs }));
    if (reply.ok && reply.job !== undefined) return reply.job as unknown as JobRecord;
    const error = reply.error ?? { code: "UNKNOWN", message: "the server answered without a job" };
    if (error.code === "JOB_NOT_FOUND") throw new JobNotFoundError(error.message);
    throw new RemoteError(error.code, error.message);
  }

  /** Closes both sockets; requests still waiting reject. */
  close(): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
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

  async #request(timeoutMs: number, build: (requestId: string, replyTo: string) => Buffer[]): Promise<Body<"reply">> {
    const replyTo = this.#replyTo;
    if (replyTo === undefined) throw new Error("PipelineClient: call connect() first");
    const requestId = newId();
    const answer = new Promise<Body<"reply">>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new NoAnswerError(`no answer from ${this.address} within ${timeoutMs} ms: is a pipeline server listening there?`));
      }, timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
    });
    try {
      await this.#queue.send(build(requestId, replyTo));
    } catch (error) {
      const pending = this.#pending.get(requestId);
      if (pending !== undefined) {
        clearTimeout(pending.timer);
        this.#pending.delete(requestId);
      }
      answer.catch(() => {});
      throw new NoAnswerError(`could not send to ${this.address} within ${this.#timeoutMs} ms: is a pipeline server listening there?`, { cause: error });
    }
    return answer;
  }
}
