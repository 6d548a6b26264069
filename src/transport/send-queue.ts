/**
 * One send in flight per socket. zeromq.js v6 rejects a second concurrent `send()` with EBUSY, so
 * every send on a socket goes through its queue and is awaited (pattern of zeromq.js'
 * `examples/queue/queue.ts`).
 *
 * ```ts
 * const queue = new SendQueue(dealer);
 * await queue.send(encode("jobs", { deliveries }));   // rejects if the socket's send fails or times out
 * queue.rejectWaiting(error);                         // fails what waits behind a send that failed
 * queue.close(new Error("closed"));                   // rejects whatever still waits
 * ```
 */
import { Fifo } from "../core/fifo.ts";

/** What the queue needs of a socket. */
export interface FrameSink {
  send(message: (Buffer | string)[]): Promise<void>;
}

interface Pending {
  frames: (Buffer | string)[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class SendQueue {
  readonly #sink: FrameSink;
  readonly #pending = new Fifo<Pending>();
  #sending = false;
  #closed: Error | undefined;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /** Messages waiting behind the one in flight. */
  get length(): number {
    return this.#pending.length;
  }

  /** Nothing in flight and nothing waiting: a message sent now is handed to the socket at once. */
  get idle(): boolean {
    return !this.#sending && this.#pending.length === 0;
  }

  /** Queues one multipart message; resolves once the socket has taken it. */
  send(frames: (Buffer | string)[]): Promise<void> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ frames, resolve, reject });
      if (!this.#sending) void this.#drain();
    });
  }

  /** Rejects every waiting send with `reason`; later sends reject at once. */
  close(reason: Error = new Error("send queue closed")): void {
    this.#closed ??= reason;
    this.rejectWaiting(reason);
  }

  /** Rejects the sends waiting behind the one in flight (their peer is not taking messages); later sends queue as usual. */
  rejectWaiting(reason: unknown): void {
    for (const item of this.#pending.clear()) item.reject(reason);
  }

  async #drain(): Promise<void> {
    this.#sending = true;
    try {
      for (let item = this.#pending.shift(); item !== undefined; item = this.#pending.shift()) {
        try {
          await this.#sink.send(item.frames);
          item.resolve();
        } catch (error) {
          item.reject(error);
        }
      }
    } finally {
      this.#sending = false;
    }
  }
}
