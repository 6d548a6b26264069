/**
 * Counts what a server refuses to trust, by reason: a peer whose CURVE key is not allowed, an
 * announcement or `bye` that does not prove its worker, a worker over the limit, a connection over
 * the rate. Servers expose one (`server.refusals`) for tests and operators; each reason is logged
 * the first 10 times and then every 1000th, one line naming it.
 *
 * ```ts
 * refusals.record("CURVE_KEY_REFUSED", { socket: "sub", address: "10.0.0.9" });
 * refusals.count("CURVE_KEY_REFUSED");   // 1
 * ```
 */
import type { Logger } from "../log/logger.ts";

export const REFUSAL_REASONS = {
  /** A CURVE handshake from a key not in the allow list, or a peer that did not use CURVE. */
  CURVE_KEY_REFUSED: "peer refused: its CURVE key is not allowed",
  /** An announcement or `bye` for a known worker without its proof (a spoof, or a replay). */
  WORKER_UNPROVEN: "announcement refused: it does not prove it comes from that worker",
  /** An announcement that cannot be a worker of ours (no CURVE key while keys are on, a key not allowed). */
  WORKER_KEY_REFUSED: "announcement refused: the worker's CURVE key is missing or not allowed",
  /** A new worker while the server already feeds its maximum. */
  WORKER_LIMIT: "announcement refused: the server feeds its maximum of workers (--max-workers)",
  /** A new worker over the rate of new connections. */
  CONNECTION_RATE: "announcement refused: over the rate of new worker connections (--max-new-connections)",
  /** An unknown worker id announced once and never again (a flood of fake ids opens no socket). */
  WORKER_UNCONFIRMED: "announcement ignored: a new worker id announced only once",
  /** A worker whose deliveries keep going unanswered: it gets no new jobs for a while. */
  QUARANTINED: "worker quarantined: its deliveries keep going unanswered",
  /** A new worker that never completed its registration. */
  REGISTRATION_TIMEOUT: "worker dropped: it never proved it received its registration",
  /** `jobs` sent to a worker by a peer that never registered it (`welcome`). */
  PEER_NOT_REGISTERED: "jobs refused: the peer never registered this worker",
  /** A result or progress report for a lease this connection was not given. */
  LEASE_NOT_HELD: "result refused: the lease was not handed to this connection",
} as const;

export type RefusalReason = keyof typeof REFUSAL_REASONS;

/** How many refusals `recent()` keeps. */
const RECENT = 100;

export interface Refusal {
  reason: RefusalReason;
  at: number;
  fields: Record<string, unknown>;
}

export class Refusals {
  readonly #logger: Logger;
  readonly #counts = new Map<RefusalReason, number>();
  #recent: Refusal[] = [];

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  record(reason: RefusalReason, fields: Record<string, unknown> = {}): void {
    const n = (this.#counts.get(reason) ?? 0) + 1;
    this.#counts.set(reason, n);
    this.#recent.push({ reason, at: Date.now(), fields });
    if (this.#recent.length > 2 * RECENT) this.#recent = this.#recent.slice(-RECENT);
    if (n <= 10 || n % 1000 === 0) this.#logger.warn(REFUSAL_REASONS[reason], { code: reason, refusedSoFar: n, ...fields });
  }

  count(reason: RefusalReason): number {
    return this.#counts.get(reason) ?? 0;
  }

  /** The last refusals (up to 100), oldest first, with what was known of the peer. */
  recent(): Refusal[] {
    return this.#recent.slice(-RECENT);
  }

  /** Every count by reason. */
  counts(): Partial<Record<RefusalReason, number>> {
    return Object.fromEntries(this.#counts);
  }
}
