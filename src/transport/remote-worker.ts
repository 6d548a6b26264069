/**
 * A step worker as the pipeline server sees it: a DispatchTarget holding a DEALER connected to
 * the worker's announced address. `welcome()` registers it (a secret of its own, in `credential`,
 * with which it seals what it sends on SUB); `send()` is one `jobs` message; `greet()` a `hello`
 * (the worker learns this server serves those pipelines); `ack()` acknowledges results (those of
 * one turn in one message); what the worker sends back (results, progress, bye) is handed to the
 * server's callbacks.
 */
import * as zmq from "zeromq";
import { DeliveryError } from "../core/errors/delivery-error.ts";
import { newId } from "../core/ids.ts";
import type { Delivery, DispatchTarget } from "../engine/delivery.ts";
import type { Logger } from "../log/logger.ts";
import type { CurveClientOptions } from "./curve/curve.ts";
import { LinkWatch } from "./_link-watch.ts";
import { BATCH_TARGET_BYTES, jsonBatches } from "./_json-batches.ts";
import { closeSocket, hardFrameLimit, LINK_OPTIONS, readLoop } from "./_sockets.ts";
import { decode, encode, encodeJson, type Body, type Message } from "./protocol.ts";
import type { ProtocolDrops } from "./protocol-drops.ts";
import { SendQueue } from "./send-queue.ts";
import { WorkerCredential } from "./_worker-proof.ts";

const DELIVERIES_PER_MESSAGE = 256;
/** Most leases acknowledged in one `ack` message. */
const ACKS_PER_MESSAGE = 4096;

/** Deliveries as `jobs` bodies of `serverId`, split by count and by size (a 100 KB input each must not make a 25 MB message). */
function deliveryChunks(deliveries: readonly Delivery[], serverId: string): { body: string; deliveries: readonly Delivery[] }[] {
  const batches = jsonBatches(`{"serverId":${JSON.stringify(serverId)},"deliveries":[`, "]}", deliveries.map((d) => JSON.stringify(d)), { maxItems: DELIVERIES_PER_MESSAGE, targetBytes: BATCH_TARGET_BYTES });
  let from = 0;
  return batches.map(({ body, count }) => {
    const chunk = { body, deliveries: deliveries.slice(from, from + count) };
    from += count;
    return chunk;
  });
}

export interface RemoteWorkerOptions {
  announce: Body<"announce">;
  /** CURVE client options for the worker's job socket (its announced key as server key). Default: none. */
  curve?: CurveClientOptions | undefined;
  maxMessageBytes: number;
  /** The id of the server this connection belongs to, in `welcome` and every `jobs` message. */
  serverId: string;
  logger: Logger;
  drops: ProtocolDrops;
  onMessage: (worker: RemoteWorker, message: Extract<Message, { type: "results" | "progress" | "bye" }>) => void;
}

export class RemoteWorker implements DispatchTarget {
  readonly workerId: string;
  readonly jobType: string;
  readonly address: string;
  readonly host: string;
  readonly pid: number;
  /** The capacity of its first announcement (the dispatcher's roster keeps the current one, its draining state and when it was last heard). */
  readonly capacity: number;
  /** This incarnation (a worker dropped and re-joined keeps its id): its registry entry is unregistered by it alone. */
  readonly instance = newId();
  /** The secret given in `welcome`: announcements and `bye`s heard on SUB must be sealed with it. */
  readonly credential = new WorkerCredential();
  /** When this connection was made (epoch ms): a worker not proven soon after is dropped. */
  readonly startedAt = Date.now();
  #heartbeatMs: number;
  /** Results being settled; a `bye` waits for them so no lease is handed back under a result. */
  readonly #pendingReports = new Set<Promise<void>>();
  /** Serialises `bye` handling. */
  #turn: Promise<void> = Promise.resolve();
  readonly #dealer: zmq.Dealer;
  /** The DEALER's link to the worker: liveness from the connection, not from announcements. */
  readonly link: LinkWatch;
  readonly #queue: SendQueue;
  readonly #reading: Promise<void>;
  readonly #logger: Logger;
  readonly #serverId: string;
  /** Acks given this turn, sent together on the next (see `ack`). */
  #acks: { acks: Body<"ack">["acks"]; resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(options: RemoteWorkerOptions) {
    const a = options.announce;
    this.workerId = a.workerId;
    this.jobType = a.jobType;
    this.address = a.address;
    this.host = a.host;
    this.pid = a.pid;
    this.capacity = a.capacity;
    this.#heartbeatMs = a.heartbeatMs;
    this.#logger = options.logger;
    this.#serverId = options.serverId;
    this.#dealer = new zmq.Dealer({
      ...LINK_OPTIONS,
      maxMessageSize: hardFrameLimit(options.maxMessageBytes),
      // A send that cannot be queued within 5 s fails (its jobs go back).
      sendTimeout: 5000,
      // Queue only to a connected worker: without it, jobs for an address that never answers wait
      // in the socket until their lease expires, and the next ones follow them.
      immediate: true,
      linger: 0,
      ...options.curve,
    });
    this.link = new LinkWatch(this.#dealer);
    this.#dealer.connect(a.address);
    this.#queue = new SendQueue(this.#dealer);
    this.#reading = readLoop(this.#dealer, "dealer", options.logger, (frames) => {
      const message = decode(frames, { maxBytes: options.maxMessageBytes, accept: ["results", "progress", "bye"] });
      if (message instanceof Error) options.drops.record("dealer", message);
      else options.onMessage(this, message as Extract<Message, { type: "results" | "progress" | "bye" }>);
    });
  }

  /** The announced heartbeat interval, ms. */
  get heartbeatMs(): number {
    return this.#heartbeatMs;
  }


  /** A later announcement (a heartbeat), its interval bounded by the server. */
  announced(heartbeatMs: number): void {
    this.#heartbeatMs = heartbeatMs;
  }

  /** Registers the worker with this server: its secret, to seal what it sends on SUB. Sent again until it proves itself. */
  welcome(): void {
    this.#tell(encode("welcome", { workerId: this.workerId, serverId: this.#serverId, secret: this.credential.secret }), "welcome");
  }

  /** Keeps a result being settled until it is (see `settled`). */
  track(report: Promise<void>): void {
    const tracked = report.finally(() => this.#pendingReports.delete(tracked));
    this.#pendingReports.add(tracked);
  }

  /** Resolves once every result tracked so far is settled (or failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#pendingReports]);
  }

  /** Runs `work` after the work given before it (bye handling, in order). */
  inTurn(work: () => Promise<void>): Promise<void> {
    const next = this.#turn.then(work);
    this.#turn = next.catch(() => {});
    return next;
  }

  /** Sends the deliveries in `jobs` messages; rejects with a DeliveryError listing those not sent. */
  async send(deliveries: Delivery[]): Promise<void> {
    const chunks = deliveryChunks(deliveries, this.#serverId);
    const sent = await Promise.allSettled(
      chunks.map(({ body }) =>
        this.#queue.send(encodeJson("jobs", body)).catch((error: unknown) => {
          // The worker is not taking messages: what waits behind this one would time out in turn.
          this.#queue.rejectWaiting(error);
          throw error;
        }),
      ),
    );
    const failed = sent.flatMap((result, i) => (result.status === "rejected" ? [{ chunk: chunks[i]!, reason: result.reason as unknown }] : []));
    if (failed.length === 0) return;
    const undelivered = failed.flatMap(({ chunk }) => chunk.deliveries.map(({ jobId, token }) => ({ jobId, token })));
    const reason = failed[0]!.reason;
    throw new DeliveryError(`${undelivered.length} of ${deliveries.length} jobs not delivered to worker ${this.workerId} at ${this.address}: ${String(reason)}`, undelivered, { cause: reason });
  }

  /** Tells the worker this server serves `pipelines` (it asked: it holds results of them for a server gone). */
  greet(pipelines: readonly string[]): void {
    this.#tell(encode("hello", { pipelines: [...pipelines] }), "hello");
  }

  /** Tells the worker the job it runs under `token` was cancelled (best effort: its result is discarded anyway). */
  cancel(jobId: string, token: string): void {
    this.#tell(encode("cancel", { serverId: this.#serverId, leases: [{ jobId, token }] }), "cancel", { jobId });
  }

  /** Sends one message, best effort: a failure is only logged. */
  #tell(frames: Buffer[], what: string, fields: Record<string, unknown> = {}): void {
    this.#queue.send(frames).catch((error: unknown) => this.#logger.debug(`${what} not sent to worker`, { workerId: this.workerId, ...fields, error: String(error) }));
  }

  /**
   * Acknowledges results: the acks given in one turn of the event loop leave together, in one
   * `ack` message on the next turn, after what that turn sent to clients (a result's reply goes
   * before its ack, which only frees the worker's copy). Resolves once the message is queued.
   */
  ack(acks: Body<"ack">["acks"]): Promise<void> {
    if (acks.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#acks.push({ acks, resolve, reject });
      if (this.#acks.length === 1) setImmediate(() => this.#sendAcks());
    });
  }

  #sendAcks(): void {
    const waiting = this.#acks;
    this.#acks = [];
    for (let from = 0; from < waiting.length; ) {
      // At most ACKS_PER_MESSAGE leases per message (a whole turn's acks, rarely more).
      let to = from;
      let count = 0;
      while (to < waiting.length && (count === 0 || count + waiting[to]!.acks.length <= ACKS_PER_MESSAGE)) count += waiting[to++]!.acks.length;
      const part = waiting.slice(from, to);
      this.#queue.send(encode("ack", { acks: part.flatMap((a) => a.acks) })).then(
        () => part.forEach((a) => a.resolve()),
        (error: unknown) => part.forEach((a) => a.reject(error)),
      );
      from = to;
    }
  }

  /** Closes the DEALER; unsent messages are dropped after `lingerMs`. */
  async close(lingerMs = 0): Promise<void> {
    this.#queue.close(new Error(`worker ${this.workerId} is gone`));
    closeSocket(this.#dealer, lingerMs);
    await this.#reading;
  }
}
