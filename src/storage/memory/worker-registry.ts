/** The workers registered in memory storage; those not seen for `ttlMs` are forgotten when listed. */
import type { WorkerInfo } from "../storage-backend.ts";

export class WorkerRegistry {
  readonly #workers = new Map<string, WorkerInfo>();
  readonly #ttlMs: number;

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  register(worker: WorkerInfo): void {
    this.#workers.set(worker.workerId, { ...worker });
  }

  unregister(workerId: string, instance?: string): void {
    if (instance !== undefined && this.#workers.get(workerId)?.instance !== instance) return;
    this.#workers.delete(workerId);
  }

  list(now: number): WorkerInfo[] {
    const cutoff = now - this.#ttlMs;
    for (const [id, worker] of this.#workers) if (worker.lastSeen < cutoff) this.#workers.delete(id);
    return [...this.#workers.values()].map((w) => ({ ...w }));
  }
}
