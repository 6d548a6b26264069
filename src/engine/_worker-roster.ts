/**
 * The workers a dispatcher feeds: each with its jobs in flight and its free credit. A worker whose
 * deliveries fail (it announced an address this server cannot reach, or stopped reading) is
 * suspended for a while, doubling up to a minute, so that its credit does not hold jobs back
 * from the workers that can take them; one delivered message lifts it.
 */
import { hostname } from "node:os";
import type { WorkerInfo } from "../storage/storage-backend.ts";
import type { Delivery, DispatchTarget } from "./delivery.ts";

export interface InFlight {
  delivery: Delivery;
  route: readonly string[];
}

const FIRST_SUSPENSION_MS = 1000;
const LONGEST_SUSPENSION_MS = 60_000;

export class WorkerSlot {
  readonly target: DispatchTarget;
  readonly inFlight: Map<string, InFlight>;
  readonly startedAt: number;
  lastSeen: number;
  /** Deliveries failed in a row. */
  failures = 0;
  suspendedUntil = 0;

  constructor(target: DispatchTarget, previous: WorkerSlot | undefined, now: number) {
    this.target = target;
    this.inFlight = previous?.inFlight ?? new Map();
    this.startedAt = previous?.startedAt ?? now;
    this.lastSeen = now;
  }

  /** Jobs it can take now: none while suspended. */
  free(now: number): number {
    if (this.suspendedUntil > now) return 0;
    return Math.max(0, this.target.capacity - this.inFlight.size);
  }

  /** A delivery failed: no jobs for a while, longer after each failure in a row. Returns how long, ms. */
  suspend(now: number): number {
    this.failures++;
    const ms = Math.min(LONGEST_SUSPENSION_MS, FIRST_SUSPENSION_MS * 2 ** Math.min(this.failures - 1, 16));
    this.suspendedUntil = now + ms;
    return ms;
  }

  delivered(): void {
    this.failures = 0;
    this.suspendedUntil = 0;
  }
}

export class WorkerRoster {
  readonly #slots = new Map<string, WorkerSlot>();

  /** Adds a worker, or replaces its target keeping its jobs in flight. True when it is new. */
  add(target: DispatchTarget, now = Date.now()): boolean {
    const previous = this.#slots.get(target.workerId);
    this.#slots.set(target.workerId, new WorkerSlot(target, previous, now));
    return previous === undefined;
  }

  get(workerId: string): WorkerSlot | undefined {
    return this.#slots.get(workerId);
  }

  /** True when `slot` is still the roster's slot for its worker. */
  holds(slot: WorkerSlot): boolean {
    return this.#slots.get(slot.target.workerId) === slot;
  }

  delete(workerId: string): WorkerSlot | undefined {
    const slot = this.#slots.get(workerId);
    this.#slots.delete(workerId);
    return slot;
  }

  ids(): string[] {
    return [...this.#slots.keys()];
  }

  /** The worker of `jobType` with the most free credit. */
  pick(jobType: string, now: number): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    let bestFree = 0;
    for (const slot of this.#slots.values()) {
      if (slot.target.jobType !== jobType) continue;
      const free = slot.free(now);
      if (free > bestFree) {
        best = slot;
        bestFree = free;
      }
    }
    return best;
  }

  freeCredit(jobType: string, now: number): number {
    let free = 0;
    for (const slot of this.#slots.values()) if (slot.target.jobType === jobType) free += slot.free(now);
    return free;
  }

  hasFreeCredit(now: number): boolean {
    for (const slot of this.#slots.values()) if (slot.free(now) > 0) return true;
    return false;
  }

  infos(): WorkerInfo[] {
    return [...this.#slots.values()].map((slot) => ({
      workerId: slot.target.workerId,
      jobType: slot.target.jobType,
      address: slot.target.address ?? "in-process",
      capacity: slot.target.capacity,
      inFlight: slot.inFlight.size,
      host: slot.target.host ?? hostname(),
      pid: slot.target.pid ?? process.pid,
      lastSeen: slot.lastSeen,
      startedAt: slot.startedAt,
    }));
  }
}
