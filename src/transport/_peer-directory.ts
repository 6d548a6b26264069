/**
 * The pipeline servers a step worker knows, by the routing id its ROUTER gives each one, with the
 * pipelines each has shown it serves (by sending `jobs` of them or a `hello`). When a server goes
 * away (a send to it fails with EHOSTUNREACH), `forget` drops it and `peerFor` names another live
 * server of the same pipeline, to which results held for the gone one are re-addressed.
 *
 * ```ts
 * const peers = new PeerDirectory();
 * const peer = peers.intern(routingId);      // one Buffer per peer: results group by it
 * peers.learn(peer, "hash-and-clean");
 * peers.forget(peer);                        // it is gone
 * peers.peerFor("hash-and-clean");           // the live peer heard from last, or undefined
 * ```
 */

interface Known {
  peer: Buffer;
  pipelines: Set<string>;
}

export class PeerDirectory {
  /** By the routing id in hex, in the order last heard from (oldest first). */
  readonly #known = new Map<string, Known>();
  /** The interned Buffers of live peers: `has` without encoding the id (it runs once per result). */
  readonly #live = new Set<Buffer>();

  /** The one Buffer standing for this routing id (created on first sight); marks it heard from now. */
  intern(routingId: Buffer): Buffer {
    const hex = routingId.toString("hex");
    const known = this.#known.get(hex);
    if (known === undefined) {
      this.#known.set(hex, { peer: routingId, pipelines: new Set() });
      this.#live.add(routingId);
      return routingId;
    }
    // Move to the end: `peerFor` prefers the peer heard from last.
    this.#known.delete(hex);
    this.#known.set(hex, known);
    return known.peer;
  }

  /** Records that `peer` (as returned by `intern`) serves `pipeline`. */
  learn(peer: Buffer, pipeline: string): void {
    this.#known.get(peer.toString("hex"))?.pipelines.add(pipeline);
  }

  /** Whether `peer`, a Buffer returned by `intern`, is still live. */
  has(peer: Buffer): boolean {
    return this.#live.has(peer);
  }

  /** Drops a peer that went away; false if it was not known. */
  forget(peer: Buffer): boolean {
    const hex = peer.toString("hex");
    const known = this.#known.get(hex);
    if (known === undefined) return false;
    this.#known.delete(hex);
    this.#live.delete(known.peer);
    return true;
  }

  /** A live peer serving `pipeline`, the one heard from last; undefined if none is known. */
  peerFor(pipeline: string): Buffer | undefined {
    let found: Buffer | undefined;
    for (const { peer, pipelines } of this.#known.values()) if (pipelines.has(pipeline)) found = peer;
    return found;
  }

  /** Every known peer. */
  peers(): Buffer[] {
    return [...this.#known.values()].map((k) => k.peer);
  }
}
