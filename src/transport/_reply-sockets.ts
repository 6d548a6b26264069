/**
 * The pipeline server's PUSH sockets to clients' reply addresses: one per `replyTo`, created on
 * first use, closed when idle. A send timeout keeps a vanished client from blocking the server.
 * Replies to batched requests (`queue`) leave together: those queued in the same turn of the event
 * loop go out as one `replies` message per client, split by count (REPLIES_PER_MESSAGE) and by
 * size (about 1 MiB), so that no message passes the client's frame limit (`maxMessageBytes`),
 * which libzmq would drop whole. A reply too big on its own goes without the job's instructions
 * and input (the caller sent them), and if it is still too big, as a PAYLOAD_TOO_LARGE error.
 */
import * as zmq from "zeromq";
import { parseAddress } from "../core/address.ts";
import type { Logger } from "../log/logger.ts";
import { closeSocket, LINK_OPTIONS } from "./_sockets.ts";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { BATCH_TARGET_BYTES, fitsIn, jsonBatches, MESSAGE_OVERHEAD_BYTES } from "./_json-batches.ts";
import { DEFAULT_MAX_MESSAGE_BYTES, encodeJson, type BodyInput, type MessageType } from "./protocol.ts";
import { SendQueue } from "./send-queue.ts";

interface ReplySocket {
  push: zmq.Push;
  queue: SendQueue;
  lastUsed: number;
  /** Replies waiting for the next `replies` message. */
  batch: BodyInput<"reply">[];
}

const REPLIES_PER_MESSAGE = 1024;
/** A reply not queued within this many ms is dropped. */
const SEND_TIMEOUT_MS = 1000;
/** Sockets unused for this many ms are closed. */
const IDLE_MS = 60_000;
/** At most this many reply sockets; the least recently used goes first. */
const MAX_SOCKETS = 1000;

export interface ReplySocketsOptions {
  logger: Logger;
  /** The clients' largest message, bytes. Default 16 MiB (PipelineClient's default). */
  maxMessageBytes?: number | undefined;
  /** Called on each new socket before it connects (e.g. to make it a CURVE server). */
  prepare?: ((push: zmq.Push) => void) | undefined;
}

export class ReplySockets {
  readonly #sockets = new Map<string, ReplySocket>();
  readonly #logger: Logger;
  readonly #maxReplyBytes: number;
  readonly #prepare: ((push: zmq.Push) => void) | undefined;
  readonly #sweep: NodeJS.Timeout;
  /** Sockets with queued replies, flushed on the next turn of the event loop. */
  readonly #toFlush = new Set<ReplySocket>();
  #flushScheduled = false;
  #closed = false;

  constructor(options: ReplySocketsOptions) {
    this.#logger = options.logger;
    this.#maxReplyBytes = (options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES) - MESSAGE_OVERHEAD_BYTES;
    this.#prepare = options.prepare;
    this.#sweep = setInterval(() => this.#closeIdle(), 10_000);
    this.#sweep.unref();
  }

  /** Sends a reply; never throws (a reply that cannot be delivered, or comes after `close`, is dropped). */
  async reply(replyTo: string, body: BodyInput<"reply">): Promise<void> {
    const socket = this.#use(replyTo);
    if (socket === undefined) return;
    await socket.queue.send(encodeJson("reply", this.#encodeReply(body))).catch((error: unknown) => {
      this.#logger.debug("reply not delivered", { replyTo, error: String(error) });
    });
  }

  /** Sends a message of another type than a reply (e.g. `credit`) on its own; never throws. */
  send(replyTo: string, type: MessageType, body: object): void {
    const socket = this.#use(replyTo);
    if (socket === undefined) return;
    socket.queue.send(encodeJson(type, JSON.stringify(body))).catch((error: unknown) => {
      this.#logger.debug("message not delivered", { replyTo, type, error: String(error) });
    });
  }

  /** Queues a reply to a batched request; it leaves with the others queued in this turn. Never throws. */
  queue(replyTo: string, body: BodyInput<"reply">): void {
    const socket = this.#use(replyTo);
    if (socket === undefined) return;
    socket.batch.push(body);
    this.#toFlush.add(socket);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
  }

  /** The socket to `replyTo`, marked used now; undefined after `close` or for a malformed address. */
  #use(replyTo: string): ReplySocket | undefined {
    if (this.#closed) return undefined;
    try {
      const socket = this.#socketFor(replyTo);
      socket.lastUsed = Date.now();
      return socket;
    } catch (error) {
      this.#logger.debug("bad reply address", { replyTo, error: String(error) });
      return undefined;
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const socket of this.#toFlush) {
      const items = socket.batch.map((body) => this.#encodeReply(body));
      socket.batch = [];
      for (const { body, count } of jsonBatches('{"replies":[', "]}", items, { maxItems: REPLIES_PER_MESSAGE, targetBytes: BATCH_TARGET_BYTES })) {
        socket.queue.send(encodeJson("replies", body)).catch((error: unknown) => {
          this.#logger.debug("replies not delivered", { replies: count, error: String(error) });
        });
      }
    }
    this.#toFlush.clear();
  }

  /** One reply as JSON that fits in a client's message: slimmed, or an error, when it would not. */
  #encodeReply(body: BodyInput<"reply">): string {
    const json = JSON.stringify(body);
    if (fitsIn(json, this.#maxReplyBytes)) return json;
    if (body.job !== undefined) {
      const { instructions: _instructions, input: _input, ...job } = body.job;
      const slim = JSON.stringify({ ...body, job });
      if (fitsIn(slim, this.#maxReplyBytes)) return slim;
    }
    const message = `the reply is ${Buffer.byteLength(json)} bytes, over the client's limit of ${this.#maxReplyBytes}; read the job with GET /jobs/:id`;
    return JSON.stringify({ requestId: body.requestId, ok: false, error: { code: ERROR_CODES.PAYLOAD_TOO_LARGE, message } });
  }

  /** Closes every socket; replies after this are dropped. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#toFlush.clear();
    for (const socket of this.#sockets.values()) this.#drop(socket, 200);
    this.#sockets.clear();
  }

  #socketFor(replyTo: string): ReplySocket {
    const existing = this.#sockets.get(replyTo);
    if (existing !== undefined) {
      // Keep the map in least-recently-used order.
      this.#sockets.delete(replyTo);
      this.#sockets.set(replyTo, existing);
      return existing;
    }
    parseAddress(replyTo);
    const push = new zmq.Push({ ...LINK_OPTIONS, sendTimeout: SEND_TIMEOUT_MS, linger: 0 });
    this.#prepare?.(push);
    push.connect(replyTo);
    const socket: ReplySocket = { push, queue: new SendQueue(push), lastUsed: Date.now(), batch: [] };
    this.#sockets.set(replyTo, socket);
    if (this.#sockets.size > MAX_SOCKETS) {
      const [oldest, old] = this.#sockets.entries().next().value as [string, ReplySocket];
      this.#sockets.delete(oldest);
      this.#drop(old, 0);
    }
    return socket;
  }

  #closeIdle(): void {
    const now = Date.now();
    for (const [address, socket] of this.#sockets) {
      if (now - socket.lastUsed < IDLE_MS || socket.queue.length > 0 || socket.batch.length > 0) continue;
      this.#sockets.delete(address);
      this.#drop(socket, 0);
    }
  }

  #drop(socket: ReplySocket, lingerMs: number): void {
    this.#toFlush.delete(socket);
    socket.queue.close();
    closeSocket(socket.push, lingerMs);
  }
}
