/**
 * Which unknown workers a pipeline server takes on, so that announcements cannot make it open
 * sockets without bound. A worker id is admitted (the server connects to its address and sends
 * it a `welcome`) only when
 * - it has been announced at least twice within CANDIDATE_MS (an honest worker repeats its first
 *   announcement within 30 ms; a flood of one-shot fake ids never opens a socket),
 * - the server feeds fewer than `maxWorkers` workers (registered or being registered), and
 * - fewer than `maxNewPerSecond` workers were admitted in the last second.
 * Candidates are remembered in a bounded map (the oldest forgotten first).
 *
 * ```ts
 * const admission = new WorkerAdmission({ maxWorkers: 256, maxNewPerSecond: 50 });
 * admission.consider("w1", server.workerCount, Date.now());   // "wait": seen once
 * admission.consider("w1", server.workerCount, Date.now());   // "admit"
 * ```
 */
import type { RefusalReason } from "./refusals.ts";

/** Workers fed at most, by default (`--max-workers`). */
export const DEFAULT_MAX_WORKERS = 256;
/** New worker connections per second at most, by default (`--max-new-connections`). */
export const DEFAULT_MAX_NEW_PER_SECOND = 50;
/** A candidate must announce again within this long. */
const CANDIDATE_MS = 5000;
/** Candidates remembered at most. */
const MAX_CANDIDATES = 4096;

export interface AdmissionOptions {
  maxWorkers?: number | undefined;
  maxNewPerSecond?: number | undefined;
}

export type Admission = "admit" | "wait" | Extract<RefusalReason, "WORKER_LIMIT" | "CONNECTION_RATE">;

export class WorkerAdmission {
  readonly maxWorkers: number;
  readonly maxNewPerSecond: number;
  /** First sighting of each candidate id, oldest first. */
  readonly #candidates = new Map<string, number>();
  /** When the last admissions happened (within the last second). */
  #admitted: number[] = [];
  /** Candidates forgotten without a second announcement, since `takeForgotten`. */
  #forgotten = 0;

  constructor(options: AdmissionOptions = {}) {
    this.maxWorkers = Math.max(1, options.maxWorkers ?? DEFAULT_MAX_WORKERS);
    this.maxNewPerSecond = Math.max(1, options.maxNewPerSecond ?? DEFAULT_MAX_NEW_PER_SECOND);
  }

  /** What to do with an announcement of an unknown worker id, the server feeding `workers` now. */
  consider(workerId: string, workers: number, now: number): Admission {
    const first = this.#candidates.get(workerId);
    if (first === undefined || now - first > CANDIDATE_MS) {
      if (first !== undefined) this.#forgotten++;
      this.#candidates.delete(workerId);
      this.#candidates.set(workerId, now);
      while (this.#candidates.size > MAX_CANDIDATES) {
        this.#candidates.delete(this.#candidates.keys().next().value as string);
        this.#forgotten++;
      }
      return "wait";
    }
    if (workers >= this.maxWorkers) return "WORKER_LIMIT";
    this.#admitted = this.#admitted.filter((at) => now - at < 1000);
    if (this.#admitted.length >= this.maxNewPerSecond) return "CONNECTION_RATE";
    this.#admitted.push(now);
    this.#candidates.delete(workerId);
    return "admit";
  }

  /** How many candidates were forgotten unconfirmed since the last call. */
  takeForgotten(): number {
    const n = this.#forgotten;
    this.#forgotten = 0;
    return n;
  }
}
