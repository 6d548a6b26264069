/**
 * A worker's results not yet acknowledged by the pipeline, with when each was last sent, so
 * they can be sent again until acked (or given up after `maxSends`).
 */
import type { StepOutcome } from "../engine/delivery.ts";

interface Entry {
  peer: Buffer;
  outcome: StepOutcome;
  sentAt: number;
  sends: number;
}

export class ResultBook {
  readonly #resendMs: number;
  readonly #maxSends: number;
  readonly #entries = new Map<string, Entry>();
  #unsent: string[] = [];

  constructor(resendMs: number, maxSends = 30) {
    this.#resendMs = resendMs;
    this.#maxSends = maxSends;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  add(key: string, peer: Buffer, outcome: StepOutcome): void {
    this.#entries.set(key, { peer, outcome, sentAt: 0, sends: 0 });
    this.#unsent.push(key);
  }

  ack(acks: readonly { jobId: string; token: string }[]): void {
    for (const { jobId, token } of acks) this.#entries.delete(`${jobId}\u0000${token}`);
  }

  /** Results never sent, grouped by peer; marked as sent now. */
  takeUnsent(now = Date.now()): Map<Buffer, StepOutcome[]> {
    const keys = this.#unsent;
    this.#unsent = [];
    return this.#collect(keys, now);
  }

  /** Results sent more than `resendMs` ago and still unacked; those sent `maxSends` times are dropped. */
  takeDue(now: number): { due: Map<Buffer, StepOutcome[]>; expired: number } {
    const keys: string[] = [];
    let expired = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.sends === 0 || now - entry.sentAt < this.#resendMs) continue;
      if (entry.sends >= this.#maxSends) {
        this.#entries.delete(key);
        expired++;
      } else {
        keys.push(key);
      }
    }
    return { due: this.#collect(keys, now), expired };
  }

  #collect(keys: readonly string[], now: number): Map<Buffer, StepOutcome[]> {
    const byPeer = new Map<Buffer, StepOutcome[]>();
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry === undefined) continue;
      entry.sentAt = now;
      entry.sends++;
      const list = byPeer.get(entry.peer) ?? [];
      list.push(entry.outcome);
      byPeer.set(entry.peer, list);
    }
    return byPeer;
  }
}
