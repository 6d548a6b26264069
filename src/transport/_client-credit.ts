/**
 * Credit at the queue limit, the client's half (the server's is _credit-desk.ts). While a
 * pipeline has room, enqueues go out as they come. Once one is answered BUSY, the pipeline is
 * *limited* for this client: that request and every new one are held here, in order, and sent
 * only as the server grants room (`credit` messages, one place per job that finished there), not
 * sent again and again to be refused. The pipeline is free again once a grant finds nothing held.
 *
 * - A request held longer than `busyWaitMs` (from its call) is answered BUSY, as before: the
 *   caller's "busy, try again later" (`busyWaitMs: 0` turns all of this off).
 * - With nothing in flight and no grant for `probeMs`, the oldest held request is sent alone (a
 *   probe): room freed where this server did not see it (another server of a shared Redis, a
 *   cancel, a grant to a client that vanished) is found; a probe taken sends the next one at once
 *   (two, to a server that never granted any: one older than credit).
 * - While it holds requests of a pipeline whose server has granted credit, the client says so
 *   every second (`wants`), or the server forgets it.
 *
 * ```ts
 * const gate = new CreditGate<Entry>({ busyWaitMs: 1000, release, expire, wants });
 * if (gate.admit(entry)) send(entry);              // else held, sent by `release` later
 * if (gate.answered(entry, busy)) return;          // BUSY and still within its wait: held again
 * gate.grant({ p: 12 });                           // a credit message
 * ```
 */
import { Fifo } from "../core/fifo.ts";

/** What the gate needs of a request: its pipeline and when it was made (epoch ms). */
export interface FlowEntry {
  readonly pipeline: string;
  readonly calledAt: number;
  /** Sent and not answered yet. */
  inFlight?: boolean;
  /** Sent as a probe. */
  probe?: boolean;
}

export interface CreditGateOptions<T extends FlowEntry> {
  /** Longest a request is held before it is answered BUSY, ms; 0: never held. */
  busyWaitMs: number;
  /** Sends these requests now. */
  release: (entries: T[]) => void;
  /** Answers this held request BUSY. */
  expire: (entry: T) => void;
  /** Tells the server what this client holds per pipeline. */
  wants: (held: Record<string, number>) => void;
}

interface Flow<T> {
  limited: boolean;
  credit: number;
  /** Answered BUSY and held again: sent before `held`. */
  retry: Fifo<T>;
  held: Fifo<T>;
  inFlight: number;
  /** Last grant, answer or probe (epoch ms). */
  movedAt: number;
  /** The server has granted credit (so it listens to `wants`). */
  granting: boolean;
}

const WANTS_EVERY_MS = 1000;
/** Send one held request when nothing moved for this long, ms. */
const PROBE_MS = 200;

export class CreditGate<T extends FlowEntry> {
  readonly #options: CreditGateOptions<T>;
  readonly #flows = new Map<string, Flow<T>>();
  #timer: NodeJS.Timeout | undefined;
  #wantsAt = 0;
  /** Requests held, and probes sent, since start (read by tests and the bench). */
  readonly counts = { held: 0, probes: 0, expired: 0 };

  constructor(options: CreditGateOptions<T>) {
    this.#options = options;
  }

  get enabled(): boolean {
    return this.#options.busyWaitMs > 0;
  }

  /** True: send it now. False: held (sent by `release`, or answered by `expire`). */
  admit(entry: T): boolean {
    if (!this.enabled) return true;
    const flow = this.#flowOf(entry.pipeline);
    if (!flow.limited || (flow.credit > 0 && flow.held.length === 0 && flow.retry.length === 0)) {
      if (flow.limited) flow.credit--;
      this.#sent(flow, entry);
      return true;
    }
    flow.held.push(entry);
    this.counts.held++;
    this.#arm();
    return false;
  }

  /**
   * Its answer came (`busy`: BUSY). True when it is held again (BUSY within its wait): the
   * caller keeps it pending. False: the caller answers it.
   */
  answered(entry: T, busy: boolean): boolean {
    if (entry.inFlight !== true) return false;
    entry.inFlight = false;
    const flow = this.#flows.get(entry.pipeline);
    if (flow === undefined) return false;
    flow.inFlight--;
    flow.movedAt = Date.now();
    if (busy && Date.now() - entry.calledAt < this.#options.busyWaitMs) {
      flow.limited = true;
      flow.credit = 0;
      flow.retry.push(entry);
      this.counts.held++;
      this.#arm();
      return true;
    }
    // A probe taken: there is room. Without grants (a server older than credit) find out how much, doubling.
    if (!busy && entry.probe === true && flow.credit === 0) this.#release(flow, flow.granting ? 1 : 2, true);
    this.#freeIfEmpty(flow);
    return false;
  }

  /** A request that will get no answer (no answer in time, not sent): no longer in flight. */
  dropped(entry: T): void {
    if (entry.inFlight !== true) return;
    entry.inFlight = false;
    const flow = this.#flows.get(entry.pipeline);
    if (flow !== undefined) flow.inFlight--;
  }

  /** Room granted by the server, per pipeline: held requests go, in order. */
  grant(grants: Readonly<Record<string, number>>): void {
    for (const [pipeline, count] of Object.entries(grants)) {
      const flow = this.#flows.get(pipeline);
      if (flow === undefined) continue;
      flow.granting = true;
      flow.movedAt = Date.now();
      flow.credit += count;
      this.#release(flow, flow.credit, false);
      this.#freeIfEmpty(flow);
    }
  }

  /** What is held per limited pipeline (sent with each batch: `held`); undefined when the gate is off. */
  heldCounts(): Record<string, number> | undefined {
    if (!this.enabled) return undefined;
    const held: Record<string, number> = {};
    let count = 0;
    // At most 1000 pipelines, as the wire allows.
    for (const [pipeline, flow] of this.#flows) if (flow.limited && count++ < 1000) held[pipeline] = flow.held.length + flow.retry.length;
    return held;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#flows.clear();
  }

  #flowOf(pipeline: string): Flow<T> {
    let flow = this.#flows.get(pipeline);
    if (flow === undefined) {
      flow = { limited: false, credit: 0, retry: new Fifo(), held: new Fifo(), inFlight: 0, movedAt: Date.now(), granting: false };
      this.#flows.set(pipeline, flow);
    }
    return flow;
  }

  #sent(flow: Flow<T>, entry: T): void {
    entry.inFlight = true;
    flow.inFlight++;
  }

  /** Sends up to `count` held requests (retries first), taking them from the flow's credit unless probes. */
  #release(flow: Flow<T>, count: number, probe: boolean): void {
    const out: T[] = [];
    while (out.length < count) {
      const entry = flow.retry.length > 0 ? flow.retry.shift() : flow.held.shift();
      if (entry === undefined) break;
      entry.probe = probe;
      this.#sent(flow, entry);
      out.push(entry);
    }
    if (!probe) flow.credit -= out.length;
    else this.counts.probes += out.length;
    if (out.length > 0) this.#options.release(out);
  }

  /** Nothing held: the pipeline is free again (what credit is left goes). */
  #freeIfEmpty(flow: Flow<T>): void {
    if (flow.held.length > 0 || flow.retry.length > 0) return;
    flow.limited = false;
    flow.credit = 0;
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#tick(), Math.max(10, Math.min(PROBE_MS, this.#options.busyWaitMs) >> 1));
  }

  /** Answers BUSY what waited too long, probes where nothing moves, tells the server what is held. */
  #tick(): void {
    const now = Date.now();
    let holding = false;
    for (const flow of this.#flows.values()) {
      for (const list of [flow.retry, flow.held]) {
        while (list.length > 0 && now - list.peek()!.calledAt >= this.#options.busyWaitMs) {
          this.counts.expired++;
          this.#options.expire(list.shift()!);
        }
      }
      if (flow.held.length + flow.retry.length === 0) continue;
      holding = true;
      if (flow.inFlight === 0 && flow.credit === 0 && now - flow.movedAt >= PROBE_MS) {
        flow.movedAt = now;
        this.#release(flow, 1, true);
      }
    }
    if (holding && now - this.#wantsAt >= WANTS_EVERY_MS) {
      this.#wantsAt = now;
      const held: Record<string, number> = {};
      for (const [pipeline, flow] of this.#flows) if (flow.granting && flow.held.length + flow.retry.length > 0) held[pipeline] = flow.held.length + flow.retry.length;
      if (Object.keys(held).length > 0) this.#options.wants(held);
    }
    if (!holding) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
