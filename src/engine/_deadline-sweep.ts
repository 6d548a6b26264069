/**
 * Many deadlines, one timer. Each entry expires `durationMs` after it was added unless cancelled
 * first; `onExpire` gets it at that moment (to the timer's precision, as a setTimeout per entry
 * would). Entries of the same duration expire in the order they were added, so each duration keeps
 * a plain FIFO and the timer is armed for the earliest head: adding and cancelling cost O(1) and
 * no timer calls in the common case (every attempt of a step shares its timeout).
 *
 * ```ts
 * const sweep = new DeadlineSweep<Attempt>((attempt) => attempt.timeOut());
 * const entry = sweep.add(30_000, attempt);
 * sweep.cancel(entry);    // finished in time
 * ```
 *
 * The timer holds the process open only while some entry is live (as the timers it replaces did).
 */
import { Fifo } from "../core/fifo.ts";

export interface DeadlineEntry<T> {
  readonly at: number;
  readonly value: T;
  /** Cancelled or expired. */
  done: boolean;
}

/** `lane`: the entries of the same duration, in the order they expire. */
interface Entry<T> extends DeadlineEntry<T> {
  lane: Fifo<Entry<T>>;
}

export class DeadlineSweep<T> {
  readonly #onExpire: (value: T) => void;
  readonly #lanes = new Map<number, Fifo<Entry<T>>>();
  #live = 0;
  #timer: NodeJS.Timeout | undefined;
  #armedAt = Number.POSITIVE_INFINITY;

  constructor(onExpire: (value: T) => void) {
    this.#onExpire = onExpire;
  }

  /** Entries neither cancelled nor expired. */
  get size(): number {
    return this.#live;
  }

  add(durationMs: number, value: T, now = Date.now()): DeadlineEntry<T> {
    let lane = this.#lanes.get(durationMs);
    if (lane === undefined) {
      lane = new Fifo();
      this.#lanes.set(durationMs, lane);
    }
    const entry: Entry<T> = { at: now + durationMs, value, done: false, lane };
    lane.push(entry);
    this.#live++;
    if (entry.at < this.#armedAt) this.#arm(entry.at, now);
    return entry;
  }

  cancel(entry: DeadlineEntry<T>): void {
    if (entry.done) return;
    entry.done = true;
    if (--this.#live === 0) return this.clear();
    // Most entries finish in the order they came: drop finished heads now, not at the next sweep,
    // so that what they hold can be collected.
    const lane = (entry as Entry<T>).lane;
    while (lane.peek()?.done === true) lane.shift();
  }

  /** Forgets every entry (none expires) and stops the timer. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    for (const lane of this.#lanes.values()) for (const entry of lane.clear()) entry.done = true;
    this.#lanes.clear();
    this.#live = 0;
  }

  #arm(at: number, now: number): void {
    clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, at - now));
  }

  #sweep(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const expired: Entry<T>[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [duration, lane] of this.#lanes) {
      for (let entry = lane.peek(); entry !== undefined && (entry.done || entry.at <= now); entry = lane.peek()) {
        lane.shift();
        if (!entry.done) {
          entry.done = true;
          this.#live--;
          expired.push(entry);
        }
      }
      const head = lane.peek();
      if (head === undefined) this.#lanes.delete(duration);
      else next = Math.min(next, head.at);
    }
    if (next !== Number.POSITIVE_INFINITY && this.#live > 0) this.#arm(next, now);
    // A sweep that came late holds entries of several durations: they expire in deadline order too.
    if (expired.length > 1) expired.sort((a, b) => a.at - b.at);
    for (const entry of expired) this.#onExpire(entry.value);
  }
}
