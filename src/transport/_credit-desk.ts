/**
 * Credit at the queue limit, the server's half. A client that holds requests back while a
 * pipeline is full (it sends `held` with its enqueues: a PipelineClient does) is a *waiter* of
 * that pipeline once it is answered BUSY, for as many requests as it holds. Each job of the
 * pipeline that finishes here frees a place: the places freed (gathered for up to 2 ms, or until
 * 32 are, so that one message carries many) are handed round robin to the waiters, one each in turn, none more than it holds, and each waiter
 * told in one `credit` message. A waiter says again what it holds (`wants`, `held` in its next
 * enqueues); one not heard for `ttlMs` is forgotten, so a client that vanished holds no credit for
 * long (and what it was given stays free room in storage: the next enqueue takes it).
 *
 * ```ts
 * const desk = new CreditDesk({ send: (replyTo, grants) => replies.send(replyTo, "credit", { grants }) });
 * desk.heard(replyTo, { p: 40 });   // holds 40 of p (0: none, forget it)
 * desk.busy(replyTo, "p");          // answered BUSY: one more held
 * desk.finished("p");               // a job of p finished: a place to give
 * ```
 *
 * Credit is advice, not a reservation: BUSY stays the rule in storage, and a client told of room
 * another took is answered BUSY and waits again. Places freed while nobody waits are not kept.
 */

/** Places handed out at once when this many are free; fewer wait up to `gapMs` for others. */
const HAND_OUT_BATCH = 32;

interface Waiter {
  held: number;
  heardAt: number;
}

export interface CreditDeskOptions {
  /** Tells a client how many more enqueues it may send, per pipeline. */
  send: (replyTo: string, grants: Record<string, number>) => void;
  /** A waiter not heard for this long is forgotten, ms. Default 3000. */
  ttlMs?: number | undefined;
  /** Whether this server serves the pipeline: what a client says it holds of others is ignored. Default: all. */
  serves?: ((pipeline: string) => boolean) | undefined;
  /** Most waiters per pipeline (more are not kept: they find room by probing). Default 1000. */
  maxWaiters?: number | undefined;
  /** Fewer than 32 places freed wait this long for others before they are handed out, ms. Default 2. */
  gapMs?: number | undefined;
  now?: () => number;
}

export class CreditDesk {
  readonly #send: CreditDeskOptions["send"];
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #serves: (pipeline: string) => boolean;
  readonly #maxWaiters: number;
  readonly #gapMs: number;
  /** Pipeline → replyTo → waiter, in the order they started waiting (the round robin's order). */
  readonly #waiters = new Map<string, Map<string, Waiter>>();
  /** Places freed since the last hand-out, per pipeline. */
  readonly #freed = new Map<string, number>();
  #scheduled = false;
  #lastHandOut = 0;
  /** Credit given since start, and waiters forgotten unheard (read by tests). */
  readonly counts = { granted: 0, expired: 0 };

  constructor(options: CreditDeskOptions) {
    this.#send = options.send;
    this.#ttlMs = options.ttlMs ?? 3000;
    this.#now = options.now ?? Date.now;
    this.#serves = options.serves ?? (() => true);
    this.#maxWaiters = options.maxWaiters ?? 1000;
    this.#gapMs = options.gapMs ?? 2;
  }

  /** What a client holds, per pipeline (from `held` or `wants`): it waits for those, or no longer (0). */
  heard(replyTo: string, held: Readonly<Record<string, number>>): void {
    const now = this.#now();
    for (const [pipeline, count] of Object.entries(held)) {
      const waiters = this.#waiters.get(pipeline);
      if (count === 0) {
        waiters?.delete(replyTo);
        continue;
      }
      const waiter = waiters?.get(replyTo);
      if (waiter !== undefined) {
        waiter.held = count;
        waiter.heardAt = now;
      } else this.#add(pipeline, replyTo, count);
    }
  }

  /** A new waiter, unless the pipeline is not served here or has its most waiters (after forgetting those unheard). */
  #add(pipeline: string, replyTo: string, held: number): void {
    if (!this.#serves(pipeline)) return;
    const waiters = this.#waiters.get(pipeline) ?? new Map<string, Waiter>();
    this.#waiters.set(pipeline, waiters);
    if (waiters.size >= this.#maxWaiters) this.#forgetUnheard(waiters, this.#now());
    if (waiters.size < this.#maxWaiters) waiters.set(replyTo, { held, heardAt: this.#now() });
  }

  #forgetUnheard(waiters: Map<string, Waiter>, now: number): void {
    for (const [replyTo, waiter] of waiters) {
      if (now - waiter.heardAt <= this.#ttlMs) continue;
      waiters.delete(replyTo);
      this.counts.expired++;
    }
  }

  /** A request of a client that holds requests back was answered BUSY: it holds one more. */
  busy(replyTo: string, pipeline: string): void {
    const waiter = this.#waiters.get(pipeline)?.get(replyTo);
    if (waiter === undefined) this.#add(pipeline, replyTo, 1);
    else {
      waiter.held++;
      waiter.heardAt = this.#now();
    }
  }

  /** A job of `pipeline` finished here: a place to hand out (this turn, with the others). */
  finished(pipeline: string): void {
    if (!this.#waiters.has(pipeline)) return;
    const freed = (this.#freed.get(pipeline) ?? 0) + 1;
    this.#freed.set(pipeline, freed);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Many places in one message: at once when a batch's worth is free, else at most every `gapMs`.
    const wait = freed >= HAND_OUT_BATCH ? 0 : this.#lastHandOut + this.#gapMs - this.#now();
    if (wait <= 0) setImmediate(() => this.#handOut());
    else setTimeout(() => this.#handOut(), wait);
  }

  /** Waiters of `pipeline` now (tests). */
  waiting(pipeline: string): number {
    return this.#waiters.get(pipeline)?.size ?? 0;
  }

  #handOut(): void {
    this.#scheduled = false;
    const now = this.#now();
    this.#lastHandOut = now;
    const grants = new Map<string, Record<string, number>>();
    for (const [pipeline, freed] of this.#freed) {
      const waiters = this.#waiters.get(pipeline);
      if (waiters === undefined) continue;
      this.#forgetUnheard(waiters, now);
      let left = freed;
      const given = new Map<string, number>();
      // One place each in turn, oldest waiter first; a waiter that got all it holds leaves the round.
      while (left > 0 && waiters.size > 0) {
        for (const [replyTo, waiter] of waiters) {
          if (left === 0) break;
          given.set(replyTo, (given.get(replyTo) ?? 0) + 1);
          left--;
          if (--waiter.held === 0) waiters.delete(replyTo);
        }
      }
      // The next hand-out starts with those not served first this time: move the served to the back.
      for (const [replyTo, count] of given) {
        const waiter = waiters.get(replyTo);
        if (waiter !== undefined) {
          waiters.delete(replyTo);
          waiters.set(replyTo, waiter);
        }
        grants.set(replyTo, { ...grants.get(replyTo), [pipeline]: count });
        this.counts.granted += count;
      }
      if (waiters.size === 0) this.#waiters.delete(pipeline);
    }
    this.#freed.clear();
    for (const [replyTo, forClient] of grants) this.#send(replyTo, forClient);
  }
}
