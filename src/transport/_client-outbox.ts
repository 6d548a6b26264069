/**
 * What `PipelineClient` keeps of a request until its answer (`Pending`), and its outboxes: the
 * requests of one type gathered in a turn of the event loop, sent as one message (`sendSplit`
 * halves a batch while it is too big, so that a request too big for the server goes alone).
 */
import type { DeadlineEntry } from "../engine/_deadline-sweep.ts";
import type { FlowEntry } from "./_client-credit.ts";
import type { Body } from "./protocol.ts";

/** A request waiting for its answer. */
export interface Pending {
  requestId: string;
  timeoutMs: number;
  /** An enqueue's idempotency key, told with NO_ANSWER. */
  idempotencyKey?: string | undefined;
  /** A run's: once the server says `pending` (it took the job), the deadline becomes this many ms from then. */
  extendMs?: number | undefined;
  resolve: (reply: Body<"reply">) => void;
  reject: (error: unknown) => void;
  /** Undefined while held back at the queue limit (see _client-credit.ts). */
  deadline: DeadlineEntry<Pending> | undefined;
  /** An enqueue or run: what the credit gate knows of it. */
  flow?: Flowing | undefined;
}

/** An enqueue or run as the credit gate holds it: `queue` puts it in its outbox. */
export interface Flowing extends FlowEntry {
  readonly pending: Pending;
  readonly queue: () => number;
}

/** Requests of one type gathered for the next message. */
export class Outbox<T> {
  #items: T[] = [];
  #pending: Pending[] = [];

  /** Adds one; answers how many are gathered. */
  push(item: T, pending: Pending): number {
    this.#items.push(item);
    this.#pending.push(pending);
    return this.#items.length;
  }

  /** What is gathered, emptied; undefined when nothing is. */
  take(): [T[], Pending[]] | undefined {
    if (this.#items.length === 0) return undefined;
    const taken: [T[], Pending[]] = [this.#items, this.#pending];
    this.#items = [];
    this.#pending = [];
    return taken;
  }

  clear(): void {
    this.#items = [];
    this.#pending = [];
  }
}

/**
 * Sends a batch as one message, or halves of it while it is over `maxBytes`: a request too big
 * for the server is then dropped there alone, as it would be sent on its own. A request whose
 * instructions JSON cannot carry (a cycle, a BigInt) fails alone (`fail`).
 */
export function sendSplit<T>(
  items: T[],
  pending: Pending[],
  maxBytes: number,
  build: (items: T[]) => Buffer[],
  send: (frames: Buffer[], pending: Pending[]) => void,
  fail: (pending: Pending, error: unknown) => void,
): void {
  let frames: Buffer[] | undefined;
  let error: unknown;
  try {
    frames = build(items);
  } catch (thrown) {
    error = thrown;
  }
  if (frames === undefined && items.length === 1) return fail(pending[0]!, error);
  if (frames === undefined || (items.length > 1 && frames[2]!.length > maxBytes)) {
    const half = items.length >> 1;
    sendSplit(items.slice(0, half), pending.slice(0, half), maxBytes, build, send, fail);
    sendSplit(items.slice(half), pending.slice(half), maxBytes, build, send, fail);
    return;
  }
  send(frames, pending);
}
