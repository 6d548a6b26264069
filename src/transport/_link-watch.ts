/**
 * The state of a socket's link to its one peer, as libzmq sees it: up once a ZMTP handshake has
 * succeeded, down from a disconnect until the next handshake. With the ZMTP heartbeats of
 * LINK_OPTIONS, answered by the peer's libzmq I/O thread and not by its event loop, this tells a
 * peer that is busy (its handler holds the event loop: the link stays up) from one that is gone
 * (stopped, crashed, cut: the link goes down within ~2.5 s and stays down).
 *
 * ```ts
 * const link = new LinkWatch(dealer);          // before dealer.connect(address)
 * link.downFor(Date.now());                     // undefined while up (or never up yet), else ms down
 * ```
 */
import type * as zmq from "zeromq";

export class LinkWatch {
  #up = false;
  #downSince: number | undefined;

  constructor(socket: zmq.Socket) {
    socket.events.on("handshake", () => {
      this.#up = true;
      this.#downSince = undefined;
    });
    socket.events.on("disconnect", () => {
      if (!this.#up) return;
      this.#up = false;
      this.#downSince = Date.now();
    });
  }

  /** True while a handshaken connection to the peer is open. */
  get up(): boolean {
    return this.#up;
  }

  /** How long the link has been down after being up, ms; undefined while up or never up. */
  downFor(now: number): number | undefined {
    return this.#downSince === undefined ? undefined : now - this.#downSince;
  }

  /** This process was stalled for `ms`: that time does not count as the link's down time. */
  credit(ms: number): void {
    if (this.#downSince !== undefined) this.#downSince += ms;
  }
}
