/**
 * The jobs waiting at one step of one pipeline, by priority: one FIFO per level (0 to 9, higher
 * first). With only level 0 in use (the common case) it is a plain Fifo. While two or more
 * levels hold jobs, every AGING_EVERY-th lease takes the job waiting longest instead of the
 * highest level's first: the oldest head, by the time it was queued (ties: the lower level).
 * A job queued later is never older, so every job becomes the oldest in bounded time and is
 * then taken within AGING_EVERY leases: no priority starves.
 *
 * ```ts
 * const queue = new StepQueue();
 * queue.push("a"); queue.push("b", 5);
 * queue.shift((id) => queuedAt(id));   // "b"
 * ```
 */
import { Fifo } from "../../core/fifo.ts";

/** While several priorities wait, one lease in this many goes to the job waiting longest. */
export const AGING_EVERY = 10;
const LEVELS = 10;

export class StepQueue {
  readonly #levels: (Fifo<string> | undefined)[] = [new Fifo<string>()];
  /** Jobs in levels 1 to 9: 0 means the plain FIFO path. */
  #prioritized = 0;
  /** Leases taken while two or more levels held jobs. */
  #mixed = 0;

  get length(): number {
    return this.#levels[0]!.length + this.#prioritized;
  }

  /** At the tail of `priority`'s level (0 to 9; anything else is 0). */
  push(id: string, priority?: number): void {
    this.#level(priority).push(id);
  }

  /** At the head of `priority`'s level: the next of that level to be leased. */
  unshift(id: string, priority?: number): void {
    this.#level(priority).unshift(id);
  }

  /** The next job to lease; `queuedAt` answers since when a job waits (epoch ms). */
  shift(queuedAt: (id: string) => number): string | undefined {
    if (this.#prioritized === 0) return this.#levels[0]!.shift();
    const level = this.#pick(queuedAt);
    if (level === undefined) return undefined;
    if (level > 0) this.#prioritized--;
    return this.#levels[level]!.shift();
  }

  /** The job waiting longest (the oldest head of every level), without taking it. */
  oldest(queuedAt: (id: string) => number): string | undefined {
    let best: string | undefined;
    for (let level = LEVELS - 1; level >= 0; level--) {
      const head = this.#levels[level]?.peek();
      if (head !== undefined && (best === undefined || queuedAt(head) < queuedAt(best))) best = head;
    }
    return best;
  }

  /** Takes `id` out of whichever level holds it (a cancel); false when it is not here. */
  remove(id: string): boolean {
    for (let level = 0; level < LEVELS; level++) {
      if (this.#levels[level]?.remove(id) === true) {
        if (level > 0) this.#prioritized--;
        return true;
      }
    }
    return false;
  }

  #level(priority: number | undefined): Fifo<string> {
    const level = priority !== undefined && Number.isInteger(priority) && priority > 0 && priority < LEVELS ? priority : 0;
    if (level > 0) this.#prioritized++;
    let queue = this.#levels[level];
    if (queue === undefined) this.#levels[level] = queue = new Fifo<string>();
    return queue;
  }

  /** The level to lease from: the highest holding jobs, or every AGING_EVERY-th time while several do, the oldest head's. */
  #pick(queuedAt: (id: string) => number): number | undefined {
    let highest: number | undefined;
    let waiting = 0;
    for (let level = LEVELS - 1; level >= 0; level--) {
      if ((this.#levels[level]?.length ?? 0) === 0) continue;
      highest ??= level;
      waiting++;
    }
    if (waiting < 2 || ++this.#mixed % AGING_EVERY !== 0) return highest;
    let best: number | undefined;
    let bestAt = Infinity;
    for (let level = LEVELS - 1; level >= 0; level--) {
      const head = this.#levels[level]?.peek();
      if (head === undefined) continue;
      const at = queuedAt(head);
      if (at <= bestAt) {
        best = level;
        bestAt = at;
      }
    }
    return best;
  }
}
