/**
 * One browser's `/events` stream. Messages are kept latest-wins per event name until written, so
 * a slow browser gets fewer, fresher messages and never holds up the others. A comment line is
 * written after `heartbeatMs` of silence so proxies keep the connection open.
 */
import type { SSEStreamingApi } from "hono/streaming";
import type { LiveEvent, LiveSubscriber } from "./_live-hub.ts";

/** Reconnect delay the browser's EventSource should use, ms. */
const RETRY_MS = 2_000;

export class SseSession implements LiveSubscriber {
  readonly #pending = new Map<LiveEvent, string>();
  #wake: (() => void) | undefined;
  #closed = false;

  deliver(event: LiveEvent, data: string): void {
    this.#pending.delete(event);
    this.#pending.set(event, data);
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  /** Writes messages until the stream is aborted (the browser left) or `close()` is called. */
  async run(stream: SSEStreamingApi, heartbeatMs: number): Promise<void> {
    stream.onAbort(() => this.close());
    let first = true;
    while (!this.#closed && !stream.aborted) {
      if (this.#pending.size === 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          timer = setTimeout(resolve, heartbeatMs);
        });
        clearTimeout(timer);
        this.#wake = undefined;
        if (this.#closed || stream.aborted) break;
        if (this.#pending.size === 0) {
          await stream.write(": heartbeat\n\n");
          continue;
        }
      }
      for (const [event, data] of [...this.#pending]) {
        this.#pending.delete(event);
        await stream.writeSSE({ event, data, ...(first ? { retry: RETRY_MS } : {}) });
        first = false;
      }
    }
  }
}
