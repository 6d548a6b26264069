/**
 * Counts inbound messages dropped for breaking the protocol (malformed or oversized), per socket.
 * Servers expose one (`server.drops`) so tests and operators can read it; the first drops and then
 * every 1000th are logged.
 */
import type { ProtocolError } from "../core/errors/protocol-error.ts";
import type { Logger } from "../log/logger.ts";
import { OversizedMessageError } from "./oversized-message-error.ts";

export interface DropCounts {
  malformed: number;
  oversized: number;
  /** Drops per socket name ("sub", "pull", "router", "dealer"). */
  bySocket: Record<string, number>;
}

export class ProtocolDrops {
  readonly #logger: Logger;
  readonly #counts: DropCounts = { malformed: 0, oversized: 0, bySocket: {} };

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get total(): number {
    return this.#counts.malformed + this.#counts.oversized;
  }

  counts(): DropCounts {
    return { ...this.#counts, bySocket: { ...this.#counts.bySocket } };
  }

  record(socket: string, error: ProtocolError): void {
    if (error instanceof OversizedMessageError) this.#counts.oversized++;
    else this.#counts.malformed++;
    this.#counts.bySocket[socket] = (this.#counts.bySocket[socket] ?? 0) + 1;
    const total = this.total;
    if (total <= 10 || total % 1000 === 0) {
      this.#logger.warn("protocol error: message dropped", { socket, error: error.message, droppedSoFar: total });
    }
  }
}
