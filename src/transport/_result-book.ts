/**
 * A worker's results not yet acknowledged by the pipeline, with when each was last sent, so
 * they can be sent again until acked (or given up after `maxSends`).
 *
 * Each result is addressed to the pipeline server (peer) that delivered its job. When that peer
 * goes away, `readdress` hands its results to another live peer serving the same pipeline; with
 * none known the results are *parked*: kept, not sent, not counted as sends, until `unpark` finds
 * a peer for them, or given up after `maxSends × resendMs` parked (by then the lease has long
 * expired and storage would refuse the result anyway).
 */
import type { StepOutcome } from "../engine/delivery.ts";

interface Entry {
  /** Undefined: parked, no live peer known for its pipeline. */
  peer: Buffer | undefined;
  pipeline: string;
  outcome: StepOutcome;
  sentAt: number;
  sends: number;
  /** In the unsent list (sent by the next `takeUnsent`). */
  queued: boolean;
  parkedAt: number;
}

/** Finds a live peer for a pipeline; undefined when none is known. */
export type PeerPicker = (pipeline: string) => Buffer | undefined;

export class ResultBook {
  readonly #resendMs: number;
  readonly #maxSends: number;
  readonly #entries = new Map<string, Entry>();
  #unsent: string[] = [];
  #parked = 0;

  constructor(resendMs: number, maxSends = 30) {
    this.#resendMs = resendMs;
    this.#maxSends = maxSends;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Results waiting for a live peer of their pipeline. */
  get parked(): number {
    return this.#parked;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** Keeps a result for `peer` (undefined: none known, parked at once). */
  add(key: string, peer: Buffer | undefined, pipeline: string, outcome: StepOutcome, now = Date.now()): void {
    const previous = this.#entries.get(key);
    if (previous !== undefined && previous.peer === undefined) this.#parked--;
    this.#entries.set(key, { peer, pipeline, outcome, sentAt: 0, sends: 0, queued: peer !== undefined, parkedAt: now });
    if (peer === undefined) this.#parked++;
    else this.#unsent.push(key);
  }

  ack(acks: readonly { jobId: string; token: string }[]): void {
    for (const { jobId, token } of acks) {
      const key = `${jobId}\u0000${token}`;
      if (this.#parked > 0) {
        const entry = this.#entries.get(key);
        if (entry !== undefined && entry.peer === undefined) this.#parked--;
      }
      this.#entries.delete(key);
    }
  }

  /** Results never sent (or re-addressed), grouped by peer; marked as sent now. */
  takeUnsent(now = Date.now()): Map<Buffer, StepOutcome[]> {
    const keys = this.#unsent;
    this.#unsent = [];
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry !== undefined) entry.queued = false;
    }
    return this.#collect(keys, now);
  }

  /**
   * Results sent more than `resendMs` ago and still unacked; those sent `maxSends` times, or
   * parked for as long as that many sends would take, are dropped (counted in `expired`).
   */
  takeDue(now: number): { due: Map<Buffer, StepOutcome[]>; expired: number } {
    const keys: string[] = [];
    let expired = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.peer === undefined) {
        if (now - entry.parkedAt >= this.#resendMs * this.#maxSends) {
          this.#entries.delete(key);
          this.#parked--;
          expired++;
        }
        continue;
      }
      if (entry.queued || entry.sends === 0 || now - entry.sentAt < this.#resendMs) continue;
      if (entry.sends >= this.#maxSends) {
        this.#entries.delete(key);
        expired++;
      } else {
        keys.push(key);
      }
    }
    return { due: this.#collect(keys, now), expired };
  }

  /**
   * `gone` went away: its results go to `pick(pipeline)` (sent by the next `takeUnsent`), or are
   * parked when it knows no peer. Returns how many were re-addressed to a peer.
   */
  readdress(gone: Buffer, pick: PeerPicker, now = Date.now()): number {
    let moved = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.peer === undefined || !entry.peer.equals(gone)) continue;
      moved += this.#address(key, entry, pick(entry.pipeline), now);
    }
    return moved;
  }

  /** Parked results whose pipeline now has a live peer go to it (sent by the next `takeUnsent`); returns how many. */
  unpark(pick: PeerPicker, now = Date.now()): number {
    if (this.#parked === 0) return 0;
    let moved = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.peer !== undefined) continue;
      const peer = pick(entry.pipeline);
      if (peer === undefined) continue;
      this.#parked--;
      moved += this.#address(key, entry, peer, now);
    }
    return moved;
  }

  /** Pipelines of the parked results (none known to serve them). */
  parkedPipelines(): string[] {
    if (this.#parked === 0) return [];
    const pipelines = new Set<string>();
    for (const entry of this.#entries.values()) if (entry.peer === undefined) pipelines.add(entry.pipeline);
    return [...pipelines];
  }

  #address(key: string, entry: Entry, peer: Buffer | undefined, now: number): number {
    entry.peer = peer;
    if (peer === undefined) {
      this.#parked++;
      entry.parkedAt = now;
      return 0;
    }
    if (!entry.queued) {
      entry.queued = true;
      this.#unsent.push(key);
    }
    return 1;
  }

  #collect(keys: readonly string[], now: number): Map<Buffer, StepOutcome[]> {
    const byPeer = new Map<Buffer, StepOutcome[]>();
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry?.peer === undefined) continue;
      entry.sentAt = now;
      entry.sends++;
      const list = byPeer.get(entry.peer) ?? [];
      list.push(entry.outcome);
      byPeer.set(entry.peer, list);
    }
    return byPeer;
  }
}
