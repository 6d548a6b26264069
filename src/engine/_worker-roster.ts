/**
 * The workers a dispatcher feeds, and everything known of each: its jobs in flight, its current
 * capacity, whether it is draining (takes nothing new), when it was last heard from, and its
 * delivery failures. Nobody else keeps worker state: transports report what they hear
 * (`heard`), the dispatcher asks. A worker whose deliveries fail (it announced an address this
 * server cannot reach, or stopped reading) is suspended for a while, doubling up to a minute, so
 * that its credit does not hold jobs back from the workers that can take them; one delivered
 * message lifts it. A worker that lets deliveries go unanswered past their timeout (it swallows
 * jobs) is quarantined: nothing new for a while, and listed with `quarantinedUntil`.
 */
import { hostname } from "node:os";
import type { LogUsage } from "../core/job-logs.ts";
import type { WorkerInfo } from "../storage/storage-backend.ts";
import type { Delivery, DispatchTarget } from "./delivery.ts";

export interface InFlight {
  delivery: Delivery;
  route: readonly string[];
  /** Epoch ms when it was handed to the worker. */
  heldAt: number;
  /** When the job became due for this attempt (from its lease). */
  dueAt?: number | undefined;
  /** Log lines and bytes the job's earlier attempts hold (its log limit counts them). */
  logUsed?: LogUsage | undefined;
  /** Host of the worker it went to. */
  host?: string | undefined;
  /** Set once its worker was told the job was cancelled (see `WorkerSlot.tellCancel`). */
  cancelTold?: boolean | undefined;
}

/** What a transport heard from a worker: a heartbeat, maybe with a new capacity or draining state. */
export interface WorkerUpdate {
  capacity?: number | undefined;
  /** True while the worker shuts down: it is sent nothing new. */
  draining?: boolean | undefined;
}

/** When a worker that lets deliveries go unanswered is quarantined (see `WorkerSlot.takeOverdue`). */
export interface QuarantineRules {
  /** A result is overdue this long after the attempt's timeout, ms. */
  graceMs: number;
  /** Unanswered deliveries in a row that quarantine the worker. */
  after: number;
  /** How long a quarantined worker gets no new jobs, ms. */
  forMs: number;
}

/** This machine's name, read once (os.hostname() is a system call, and was one per job held). */
let ownHost: string | undefined;
const thisHost = (): string => (ownHost ??= hostname());

const FIRST_SUSPENSION_MS = 1000;
const LONGEST_SUSPENSION_MS = 60_000;

export class WorkerSlot {
  readonly target: DispatchTarget;
  readonly #inFlight: Map<string, InFlight>;
  readonly #startedAt: number;
  #lastSeen: number;
  #capacity: number;
  #draining: boolean;
  /** Deliveries failed in a row. */
  #failures = 0;
  #suspendedUntil = 0;
  /** Deliveries in a row that went unanswered past their timeout. */
  #unanswered = 0;
  #quarantinedUntil = 0;

  constructor(target: DispatchTarget, previous: WorkerSlot | undefined, now: number) {
    this.target = target;
    this.#inFlight = previous === undefined ? new Map() : previous.#inFlight;
    this.#startedAt = previous === undefined ? now : previous.#startedAt;
    this.#lastSeen = now;
    this.#capacity = target.capacity;
    this.#draining = previous === undefined ? false : previous.#draining;
  }

  get failures(): number {
    return this.#failures;
  }

  get lastSeen(): number {
    return this.#lastSeen;
  }

  /** Jobs it can take now: none while draining, suspended or quarantined. */
  free(now: number): number {
    if (this.#draining || this.#suspendedUntil > now || this.#quarantinedUntil > now) return 0;
    return Math.max(0, this.#capacity - this.#inFlight.size);
  }

  /** Records a heartbeat and what it said. True when the worker may take more than before. */
  heard(now: number, update: WorkerUpdate = {}): boolean {
    const before = this.free(now);
    this.#lastSeen = now;
    if (update.capacity !== undefined) this.#capacity = update.capacity;
    if (update.draining !== undefined) this.#draining = update.draining;
    return this.free(now) > before;
  }

  /** This process was stalled for `ms`: that time was nobody's silence. */
  credit(ms: number): void {
    this.#lastSeen += ms;
  }

  /** Holds a job sent to this worker; `seen`: what its lease said of its wait and its logs so far. */
  hold(delivery: Delivery, route: readonly string[], seen: { dueAt?: number | undefined; logUsed?: LogUsage | undefined } = {}, now = Date.now()): void {
    this.#inFlight.set(delivery.jobId, { delivery, route, heldAt: now, ...seen, host: this.target.host ?? thisHost() });
  }

  /** True when it holds `jobId` (under `token`, when given). */
  holds(jobId: string, token?: string): boolean {
    const flight = this.#inFlight.get(jobId);
    return flight !== undefined && (token === undefined || flight.delivery.token === token);
  }

  /** The job it holds under `token`, left in place. */
  peek(jobId: string, token: string): InFlight | undefined {
    const flight = this.#inFlight.get(jobId);
    return flight?.delivery.token === token ? flight : undefined;
  }

  /** Takes the job off the worker when it holds it under `token` (any token when omitted). */
  take(jobId: string, token?: string): InFlight | undefined {
    const flight = this.#inFlight.get(jobId);
    if (flight === undefined || (token !== undefined && flight.delivery.token !== token)) return undefined;
    this.#inFlight.delete(jobId);
    return flight;
  }

  /** Marks the job it holds as cancelled-and-told; answers its flight when it was not told before. */
  tellCancel(jobId: string): InFlight | undefined {
    const flight = this.#inFlight.get(jobId);
    if (flight === undefined || flight.cancelTold === true) return undefined;
    flight.cancelTold = true;
    return flight;
  }

  /** A result came from the worker: it answers, so its unanswered deliveries in a row start again from 0. */
  answered(): void {
    this.#unanswered = 0;
  }

  /**
   * Takes off the worker the jobs whose result is overdue at `now` (their timeout plus `graceMs`)
   * and counts them as unanswered; from `after` in a row, the worker is quarantined until
   * `now + forMs` and every job it holds is taken off too. Answers the jobs taken and whether it
   * was quarantined now.
   */
  takeOverdue(now: number, rules: QuarantineRules): { flights: InFlight[]; quarantined: boolean } {
    const overdue = [...this.#inFlight.values()].filter((f) => f.heldAt + f.delivery.timeoutMs + rules.graceMs <= now);
    if (overdue.length === 0) return { flights: [], quarantined: false };
    this.#unanswered += overdue.length;
    const quarantined = this.#unanswered >= rules.after;
    const flights = quarantined ? [...this.#inFlight.values()] : overdue;
    for (const flight of flights) this.#inFlight.delete(flight.delivery.jobId);
    if (quarantined) {
      this.#quarantinedUntil = now + rules.forMs;
      this.#unanswered = 0;
    }
    return { flights, quarantined };
  }

  flights(): InFlight[] {
    return [...this.#inFlight.values()];
  }

  /** A delivery failed: no jobs for a while, longer after each failure in a row. Returns how long, ms. */
  suspend(now: number): number {
    this.#failures++;
    const ms = Math.min(LONGEST_SUSPENSION_MS, FIRST_SUSPENSION_MS * 2 ** Math.min(this.#failures - 1, 16));
    this.#suspendedUntil = now + ms;
    return ms;
  }

  delivered(): void {
    this.#failures = 0;
    this.#suspendedUntil = 0;
  }

  info(): WorkerInfo {
    const target = this.target;
    return {
      workerId: target.workerId,
      jobType: target.jobType,
      address: target.address ?? "in-process",
      capacity: this.#draining ? 0 : this.#capacity,
      inFlight: this.#inFlight.size,
      host: target.host ?? hostname(),
      pid: target.pid ?? process.pid,
      lastSeen: this.#lastSeen,
      startedAt: this.#startedAt,
      ...(target.instance === undefined ? {} : { instance: target.instance }),
      ...(this.#quarantinedUntil > Date.now() ? { quarantinedUntil: this.#quarantinedUntil } : {}),
    };
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

  delete(workerId: string): WorkerSlot | undefined {
    const slot = this.#slots.get(workerId);
    this.#slots.delete(workerId);
    return slot;
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

  /** True when some worker holds `jobId` in flight. */
  anyHolds(jobId: string): boolean {
    for (const slot of this.#slots.values()) if (slot.holds(jobId)) return true;
    return false;
  }

  hasFreeCredit(now: number): boolean {
    for (const slot of this.#slots.values()) if (slot.free(now) > 0) return true;
    return false;
  }

  /** The worker holding `jobId` and its flight, when the worker was not told of its cancel yet (it is now marked told). */
  tellCancel(jobId: string): { slot: WorkerSlot; flight: InFlight } | undefined {
    for (const slot of this.#slots.values()) {
      const flight = slot.tellCancel(jobId);
      if (flight !== undefined) return { slot, flight };
    }
    return undefined;
  }

  /** Ids of the jobs held here whose workers were not told of a cancel, by pipeline. */
  untoldByPipeline(): Map<string, string[]> {
    const byPipeline = new Map<string, string[]>();
    for (const slot of this.#slots.values()) {
      for (const flight of slot.flights()) {
        if (flight.cancelTold === true) continue;
        const { pipeline, jobId } = flight.delivery;
        const ids = byPipeline.get(pipeline);
        if (ids === undefined) byPipeline.set(pipeline, [jobId]);
        else ids.push(jobId);
      }
    }
    return byPipeline;
  }

  /** This process was stalled for `ms` (a timer came late): every worker's silence is that much shorter. */
  credit(ms: number): void {
    for (const slot of this.#slots.values()) slot.credit(ms);
  }

  /** The in-flight delivery of a job under this lease token, at whichever worker holds it. */
  flightOf(jobId: string, token: string): InFlight | undefined {
    for (const slot of this.#slots.values()) {
      const flight = slot.peek(jobId, token);
      if (flight !== undefined) return flight;
    }
    return undefined;
  }

  infos(): WorkerInfo[] {
    return [...this.#slots.values()].map((slot) => slot.info());
  }
}
