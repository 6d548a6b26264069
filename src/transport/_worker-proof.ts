/**
 * Proof that an announcement or a `bye` heard on the SUB socket comes from the worker it names.
 * SUB does not say who sent a message, so a pipeline server gives each worker a secret of its own
 * at registration (`welcome`, over the DEALER it connected to the worker's announced address: only
 * whoever listens there receives it). The worker then seals its announcements and `bye`s with an
 * HMAC-SHA256 of their fields under that secret, one proof per server that welcomed it, and a
 * sequence number that only grows (a replayed message is refused).
 *
 * ```ts
 * const secret = newWorkerSecret();                              // server: sent in `welcome`
 * const proof = sealAnnouncement(secret, { workerId, seq, … });  // worker: `proofs[serverId]`
 * verify(proof, sealAnnouncement(secret, received));             // server: true when it is that worker
 * const credential = new WorkerCredential();                     // server: one per registered worker
 * credential.accept(a.seq, a.proofs?.[serverId], (secret) => sealAnnouncement(secret, a));
 * ```
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Body } from "./protocol.ts";

/** A new worker secret: 256 random bits, base64url. */
export function newWorkerSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** A new server id for `welcome`: 96 random bits, base64url (16 characters). */
export function newServerId(): string {
  return randomBytes(12).toString("base64url");
}

/** What a proof covers: the message's identity, its sequence and every field the server acts on. */
export type SealedAnnouncement = Pick<Body<"announce">, "workerId" | "jobType" | "address" | "capacity" | "draining" | "heartbeatMs"> & { seq: number };
export type SealedBye = Pick<Body<"bye">, "workerId" | "final" | "handBack"> & { seq: number };

function mac(secret: string, fields: readonly unknown[]): string {
  return createHmac("sha256", secret).update(JSON.stringify(fields)).digest("base64url");
}

/** The proof of an announcement: its identity, sequence and every field the server acts on. */
export function sealAnnouncement(secret: string, a: SealedAnnouncement): string {
  return mac(secret, ["announce", a.workerId, a.seq, a.jobType, a.address, a.capacity, a.draining, a.heartbeatMs]);
}

/** The proof of a `bye` sent on the announcement socket. */
export function sealBye(secret: string, b: SealedBye): string {
  return mac(secret, ["bye", b.workerId, b.seq, b.final, [...b.handBack]]);
}

/** Constant-time comparison of a received proof with the expected one. */
export function verify(received: string | undefined, expected: string): boolean {
  if (received === undefined || received.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(received), Buffer.from(expected));
}

/**
 * What a server knows of one worker it registered: the secret it gave, whether the worker proved
 * it received it, and the last sequence number proven (a replay is refused). Changed only here.
 */
export class WorkerCredential {
  readonly secret = newWorkerSecret();
  #lastSeq = -1;
  #proven = false;

  /** True once a message sealed with `secret` came back. */
  get proven(): boolean {
    return this.#proven;
  }

  /**
   * True when `proof` is `seal(secret)` and `seq` is above the last one proven: the message comes
   * from the worker. Records `seq` then.
   */
  accept(seq: number | undefined, proof: string | undefined, seal: (secret: string, seq: number) => string): boolean {
    if (seq === undefined || seq <= this.#lastSeq || !verify(proof, seal(this.secret, seq))) return false;
    this.#lastSeq = seq;
    this.#proven = true;
    return true;
  }
}
