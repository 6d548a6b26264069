/**
 * The memory backend's side of step limits (see `LeaseLimits`): per step of a pipeline, the start
 * times of its rate window, how many jobs of each concurrency key run, and the jobs held back for
 * a busy key (a FIFO per key, still `queued`). The backend calls `lease` instead of its plain loop
 * when a step has limits, and `left` / `backInLine` wherever a running job stops running.
 */
import type { LeaseLimits } from "../../core/step-limits.ts";
import { Fifo } from "../../core/fifo.ts";
import type { PipelineStats } from "../storage-backend.ts";
import type { StoredJob } from "./pipeline-state.ts";

interface StepGate {
  /** Lease times within the rate window, oldest first (from `head`). */
  starts: number[];
  head: number;
  /** Jobs running per key (only those counted at lease). */
  running: Map<string, number>;
  held: Map<string, Fifo<string>>;
  /** Keys with held jobs whose running count dropped: looked at first by the next lease. */
  unheld: Set<string>;
  heldCount: number;
  /** While now < rateUntil the window was full when a lease wanted more. */
  rateUntil: number;
}

export interface LimitedLeaseHooks {
  jobs: ReadonlyMap<string, StoredJob>;
  /** The next id of the step's queue (removed from it), or undefined when it is empty. */
  next(): string | undefined;
  /** Leases one queued job now. */
  lease(stored: StoredJob): void;
}

/** What the limits hold back at one step, for its statistics. */
export interface HeldBack {
  keyBusy: number;
  rateLimited: number;
}

export class MemoryStepLimits {
  readonly #gates = new Map<string, StepGate>();

  /** Leases up to `count` jobs within `limits` (through `hooks.lease`, in order). */
  lease(pipeline: string, jobType: string, count: number, now: number, limits: LeaseLimits, hooks: LimitedLeaseHooks): void {
    const gate = this.#gate(pipeline, jobType);
    let room = count;
    let limited = false;
    if (limits.rate !== undefined) {
      trim(gate, now - limits.rate.perMs);
      const free = Math.max(0, limits.rate.max - (gate.starts.length - gate.head));
      if (free < room) {
        limited = true;
        room = free;
      }
    }
    let leased = 0;
    const take = (stored: StoredJob): void => {
      hooks.lease(stored);
      const key = stored.record.concurrencyKey;
      if (limits.maxPerKey !== undefined && key !== undefined) {
        gate.running.set(key, (gate.running.get(key) ?? 0) + 1);
        stored.keyCounted = true;
      }
      leased++;
      room--;
    };
    const max = limits.maxPerKey;
    if (max !== undefined) {
      for (const key of gate.unheld) {
        if (room <= 0) break;
        const queue = gate.held.get(key);
        while (room > 0 && queue !== undefined && queue.length > 0 && (gate.running.get(key) ?? 0) < max) {
          const stored = hooks.jobs.get(queue.shift()!);
          gate.heldCount--;
          if (stored !== undefined && stored.record.status === "queued") take(stored);
        }
        if (queue === undefined || queue.length === 0) {
          gate.held.delete(key);
          gate.unheld.delete(key);
        } else if ((gate.running.get(key) ?? 0) >= max) {
          gate.unheld.delete(key);
        }
      }
    }
    while (room > 0) {
      const id = hooks.next();
      if (id === undefined) break;
      const stored = hooks.jobs.get(id);
      if (stored === undefined) continue;
      const key = stored.record.concurrencyKey;
      if (max !== undefined && key !== undefined && ((gate.running.get(key) ?? 0) >= max || gate.held.has(key))) {
        this.#hold(gate, key, id, false);
        continue;
      }
      take(stored);
    }
    if (limits.rate !== undefined) {
      for (let i = 0; i < leased; i++) gate.starts.push(now);
      gate.rateUntil = limited ? gate.starts[gate.head]! + limits.rate.perMs : 0;
    }
  }

  /** A running job stops running (settled, released, reclaimed, cancelled): its key frees a place. */
  left(stored: StoredJob): void {
    if (stored.keyCounted !== true) return;
    stored.keyCounted = false;
    const key = stored.record.concurrencyKey;
    const gate = this.#gates.get(gateId(stored.record.pipeline, stored.record.step));
    if (key === undefined || gate === undefined) return;
    const n = (gate.running.get(key) ?? 1) - 1;
    if (n > 0) gate.running.set(key, n);
    else gate.running.delete(key);
    if (gate.held.has(key)) gate.unheld.add(key);
  }

  /**
   * A running job goes back to wait (released, reclaimed): when jobs of its key are held, it goes
   * first among them (it is older than they are) instead of to its queue. True when placed so.
   */
  backInLine(stored: StoredJob): boolean {
    const counted = stored.keyCounted === true;
    this.left(stored);
    const key = stored.record.concurrencyKey;
    const gate = this.#gates.get(gateId(stored.record.pipeline, stored.record.step));
    if (!counted || key === undefined || gate === undefined || !gate.held.has(key)) return false;
    this.#hold(gate, key, stored.record.id, true);
    gate.unheld.add(key);
    return true;
  }

  /** Held jobs of a step and how many of its queue wait for the rate window. */
  heldBack(pipeline: string, jobType: string, queueLength: number, now: number): HeldBack {
    const gate = this.#gates.get(gateId(pipeline, jobType));
    if (gate === undefined) return { keyBusy: 0, rateLimited: 0 };
    return { keyBusy: gate.heldCount, rateLimited: now < gate.rateUntil ? queueLength : 0 };
  }

  /**
   * Drops a held job for good (cancelled): true when it was held. A running job that ends for good
   * calls `left` instead (not `backInLine`: it must not wait again).
   */
  forget(stored: StoredJob): boolean {
    const key = stored.record.concurrencyKey;
    const gate = this.#gates.get(gateId(stored.record.pipeline, stored.record.step));
    const queue = key === undefined ? undefined : gate?.held.get(key);
    if (gate === undefined || queue === undefined || !queue.remove(stored.record.id)) return false;
    gate.heldCount--;
    if (queue.length === 0) {
      gate.held.delete(key!);
      gate.unheld.delete(key!);
    }
    return true;
  }

  #hold(gate: StepGate, key: string, id: string, first: boolean): void {
    let queue = gate.held.get(key);
    if (queue === undefined) gate.held.set(key, (queue = new Fifo<string>()));
    if (first) queue.unshift(id);
    else queue.push(id);
    gate.heldCount++;
  }

  #gate(pipeline: string, jobType: string): StepGate {
    const id = gateId(pipeline, jobType);
    let gate = this.#gates.get(id);
    if (gate === undefined) {
      gate = { starts: [], head: 0, running: new Map(), held: new Map(), unheld: new Set(), heldCount: 0, rateUntil: 0 };
      this.#gates.set(id, gate);
    }
    return gate;
  }
}

function gateId(pipeline: string, jobType: string): string {
  return `${pipeline}\u0000${jobType}`;
}

/** Forgets starts at or before `cutoff` (a start at `now - perMs` is out of the window). */
function trim(gate: StepGate, cutoff: number): void {
  while (gate.head < gate.starts.length && gate.starts[gate.head]! <= cutoff) gate.head++;
  if (gate.head > 1024 && gate.head * 2 > gate.starts.length) {
    gate.starts = gate.starts.slice(gate.head);
    gate.head = 0;
  }
}

/** Statistics with the held jobs counted as queued, and what waits for which limit. */
export function withHeldBack(stats: PipelineStats, limits: MemoryStepLimits, now: number): PipelineStats {
  for (const step of stats.steps) {
    const held = limits.heldBack(stats.pipeline, step.jobType, step.queued, now);
    if (held.keyBusy === 0 && held.rateLimited === 0) continue;
    step.queued += held.keyBusy;
    stats.queued += held.keyBusy;
    step.keyBusy = held.keyBusy;
    step.rateLimited = held.rateLimited;
  }
  return stats;
}
