/**
 * A step worker over ZeroMQ: binds a ROUTER for jobs, announces itself (and repeats it, with its
 * capacity and load) on a PUB connected to pipeline servers or a forwarder, runs
 * deliveries through a StepExecutor at most `concurrency` at once, and sends results back in
 * batches (a lone job's result at once), keeping each until the pipeline acknowledges it (resent
 * otherwise).
 *
 * ```ts
 * const worker = new StepWorker({ executor: new InProcessExecutor(step), subConnect: "tcp://127.0.0.1:6000" });
 * await worker.start();            // worker.address → "tcp://127.0.0.1:41234"
 * await worker.stop({ graceMs: 5000 });
 * ```
 *
 * Results go to the pipeline server that delivered the job. The ROUTER is `mandatory`, so a send
 * to a server that went away fails (EHOSTUNREACH) instead of vanishing: its results are then
 * re-addressed to another live server of the same pipeline (one that sent jobs of it or a `hello`),
 * or parked and listed in the announcement's `stranded` until a server of that pipeline greets
 * the worker. So a restarted pipeline server settles them without waiting for their leases to expire.
 *
 * Liveness is not the announcements: a pipeline server keeps this worker while the link to its
 * ROUTER is up, and libzmq's I/O thread answers that link's ZMTP heartbeats even while a handler
 * holds the event loop. A delivery whose lease ended before it could start is handed back unrun.
 *
 * Shutdown (`stop`): keeps heartbeating with `draining: true` (pipelines send nothing new), hands
 * queued jobs back at once, lets running attempts finish within `graceMs`, aborts and hands back
 * the rest, waits for acks, sends a final `bye`, closes. The executor is not closed: its owner does.
 */
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import * as zmq from "zeromq";
import { CancelledError } from "../core/errors/cancelled-error.ts";
import { newId } from "../core/ids.ts";
import type { StepOutcome } from "../engine/delivery.ts";
import type { StepExecutor } from "../engine/step-executor.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import { advertiseHostOf, bindAndRead, isLoopbackHost, closeSocket, connectableAddress, connectAll, hardFrameLimit, LINK_OPTIONS, readLoop, toList, warnIfExposed } from "./_sockets.ts";
import { PeerDirectory } from "./_peer-directory.ts";
import { ResultBook } from "./_result-book.ts";
import { BATCH_TARGET_BYTES, MESSAGE_OVERHEAD_BYTES } from "./_json-batches.ts";
import { decode, DEFAULT_MAX_MESSAGE_BYTES, encode, encodeJson, type Body } from "./protocol.ts";
import { resultMessageBodies } from "./_result-messages.ts";
import { ProtocolDrops } from "./protocol-drops.ts";
import type { Curve } from "./curve/curve.ts";
import { guardSocket, secureClient } from "./curve/secure-socket.ts";
import { Refusals } from "./refusals.ts";
import { sealAnnouncement, sealBye } from "./_worker-proof.ts";
import { SendQueue } from "./send-queue.ts";

export interface StepWorkerOptions {
  executor: StepExecutor;
  /** Where announcements go: pipeline servers' `--sub-bind` addresses or a forwarder's subscriber side. */
  subConnect: string | readonly string[];
  /**
   * Where the job socket binds. Default: any free port on loopback (`tcp://127.0.0.1:0`), or on
   * every interface (`tcp://0.0.0.0:0`) when an advertise host (option or MARIO_ADVERTISE_HOST)
   * other than loopback says other machines must reach it.
   */
  pullBind?: string | undefined;
  /** The job socket also connects out to these addresses. Default none. */
  pullConnect?: string | readonly string[] | undefined;
  /** Host announced when bound to 0.0.0.0. Default MARIO_ADVERTISE_HOST, else 127.0.0.1. */
  advertiseHost?: string | undefined;
  /** Announcement (heartbeat) interval, ms. Default 1000. */
  heartbeatMs?: number | undefined;
  /** Jobs run at once. Default `executor.policy.concurrency`. */
  concurrency?: number | undefined;
  /** Unacknowledged results are sent again after this many ms. Default 2000. */
  resendMs?: number | undefined;
  /** Largest inbound message, bytes. Default 16 MiB. */
  maxMessageBytes?: number | undefined;
  workerId?: string | undefined;
  logger?: Logger | undefined;
  /**
   * CurveZMQ: announcements are CURVE clients of `curve.serverKey` (the pipeline server or
   * forwarder), the job socket is a CURVE server admitting `curve.allowed` only (the pipeline
   * servers' keys), and announcements carry this worker's public key. Default: off.
   */
  curve?: Curve | undefined;
}

interface Job {
  delivery: Body<"jobs">["deliveries"][number];
  peer: Buffer;
}

const RESULTS_PER_MESSAGE = 512;

export class StepWorker {
  readonly workerId: string;
  readonly jobType: string;
  readonly concurrency: number;
  /** Messages dropped for breaking the protocol. */
  readonly drops: ProtocolDrops;
  /** Peers refused (a CURVE key not allowed on the job socket), by reason. */
  readonly refusals: Refusals;
  readonly #executor: StepExecutor;
  readonly #options: StepWorkerOptions;
  readonly #logger: Logger;
  readonly #heartbeatMs: number;
  readonly #maxBytes: number;
  readonly #router: zmq.Router;
  readonly #pub: zmq.Publisher;
  readonly #routerQueue: SendQueue;
  readonly #pubQueue: SendQueue;
  readonly #results: ResultBook;
  readonly #abort = new AbortController();
  readonly #waiting: Job[] = [];
  readonly #running = new Map<string, { job: Job; done: Promise<void>; cancel: AbortController }>();
  /** Keys of attempts aborted at shutdown and handed back: their outcomes are not reported. */
  readonly #abandoned = new Set<string>();
  /** Pipeline servers heard from, with the pipelines each serves. */
  readonly #peers = new PeerDirectory();
  readonly #pickPeer = (pipeline: string): Buffer | undefined => this.#peers.peerFor(pipeline);
  /** Secrets given by the servers that welcomed this worker, by server id (the 64 latest). */
  readonly #secrets = new Map<string, string>();
  /** Sequence of announcements and `bye`s sent on the PUB. */
  #seq = 0;
  /** Keys of jobs waiting or running (a job sent twice runs once). */
  readonly #accepted = new Set<string>();
  #address = "";
  #timers: NodeJS.Timeout[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #draining = false;
  #idle: (() => void) | undefined;
  #releaseGuard: () => void = () => {};

  constructor(options: StepWorkerOptions) {
    this.#options = options;
    this.#executor = options.executor;
    this.jobType = options.executor.jobType;
    this.concurrency = Math.max(1, Math.trunc(options.concurrency ?? options.executor.policy.concurrency));
    this.workerId = options.workerId ?? `${this.jobType}-${newId().slice(-10)}`;
    this.#logger = (options.logger ?? silentLogger).child({ workerId: this.workerId });
    this.#heartbeatMs = Math.max(10, options.heartbeatMs ?? 1000);
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.drops = new ProtocolDrops(this.#logger);
    this.refusals = new Refusals(this.#logger);
    // mandatory: a send to a peer that went away rejects (EHOSTUNREACH) instead of being dropped.
    // It also makes a send to a peer at its high-water mark wait: sendTimeout 0 fails it at once
    // instead (EAGAIN), so one slow or dying peer never holds up the others; as without
    // mandatory, such a message is not sent (results are sent again, progress is best effort).
    this.#router = new zmq.Router({ ...LINK_OPTIONS, maxMessageSize: hardFrameLimit(this.#maxBytes), sendTimeout: 0, mandatory: true });
    this.#pub = new zmq.Publisher({ ...LINK_OPTIONS, sendTimeout: 0 });
    this.#routerQueue = new SendQueue(this.#router);
    this.#pubQueue = new SendQueue(this.#pub);
    this.#results = new ResultBook(options.resendMs ?? 2000);
    // Every running attempt listens on the shutdown signal.
    setMaxListeners(0, this.#abort.signal);
  }

  /** The address announced to pipelines (connectable, port resolved). */
  get address(): string {
    return this.#address;
  }

  /** Attempts running plus jobs waiting for a free slot. */
  get inFlight(): number {
    return this.#running.size + this.#waiting.length;
  }

  async start(): Promise<void> {
    try {
      this.#releaseGuard = await guardSocket(this.#router, this.#options.curve, "router", this.refusals);
      secureClient(this.#pub, this.#options.curve);
      const host = this.#options.advertiseHost;
      const bound = await bindAndRead(this.#router, this.#options.pullBind ?? (isLoopbackHost(advertiseHostOf(host)) ? "tcp://127.0.0.1:0" : "tcp://0.0.0.0:0"));
      warnIfExposed(bound, this.#options.curve !== undefined, `the job socket of ${this.jobType} (--pull-bind)`, this.#logger);
      this.#address = connectableAddress(bound, host === undefined ? undefined : advertiseHostOf(host));
      connectAll(this.#router, toList(this.#options.pullConnect));
      connectAll(this.#pub, toList(this.#options.subConnect));
    } catch (error) {
      closeSocket(this.#router, 0);
      closeSocket(this.#pub, 0);
      this.#releaseGuard();
      throw error;
    }
    this.#reading = readLoop(this.#router, "router", this.#logger, (frames) => this.#onFrames(frames));
    // PUB/SUB drops what is sent before the subscription arrives (slow joiner): announce a few
    // times quickly, then every heartbeatMs.
    for (const delay of [0, 30, 100, 250, 500]) {
      if (delay < this.#heartbeatMs) this.#timers.push(setTimeout(() => this.#announce(), delay));
    }
    this.#heartbeat = setInterval(() => this.#announce(), this.#heartbeatMs);
    this.#timers.push(setInterval(() => this.#resend(), Math.max(50, Math.floor((this.#options.resendMs ?? 2000) / 2))));
    this.#logger.info("step worker ready", { jobType: this.jobType, address: this.#address, concurrency: this.concurrency });
  }

  /** Stops gracefully (see the module comment). Safe to call twice. */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#shutdown(options.graceMs ?? 10_000);
    return this.#stopping;
  }

  #announce(): void {
    const policy = this.#executor.policy;
    const seq = ++this.#seq;
    const body = {
      seq,
      workerId: this.workerId,
      jobType: this.jobType,
      address: this.#address,
      capacity: this.concurrency,
      inFlight: this.inFlight,
      host: hostname(),
      pid: process.pid,
      heartbeatMs: this.#heartbeatMs,
      draining: this.#draining,
      policy: { timeoutMs: policy.timeoutMs, retries: policy.retry.maxAttempts - 1, backoff: policy.retry.backoff },
      ...(this.#results.parked > 0 ? { stranded: this.#results.parkedPipelines() } : {}),
      ...(this.#options.curve === undefined ? {} : { curveKey: this.#options.curve.publicKey }),
    };
    if (this.#secrets.size > 0) {
      const proofs: Record<string, string> = {};
      for (const [serverId, secret] of this.#secrets) proofs[serverId] = sealAnnouncement(secret, body);
      Object.assign(body, { proofs });
    }
    // sendTimeout 0 on the PUB: a PUB never blocks; a failed announcement is followed by the next.
    this.#pubQueue.send(encode("announce", body)).catch(() => {});
  }

  #onFrames(frames: Buffer[]): void {
    const [peer, ...rest] = frames;
    if (peer === undefined) return;
    const message = decode(rest, { maxBytes: this.#maxBytes, accept: ["jobs", "ack", "hello", "welcome", "cancel"] });
    if (message instanceof Error) return this.drops.record("router", message);
    if (message.type === "ack") {
      this.#results.ack(message.body.acks);
      if (this.#results.size === 0) this.#idle?.();
      return;
    }
    if (message.type === "welcome") return this.#onWelcome(this.#peers.intern(peer), message.body);
    if (message.type === "hello") {
      const known = this.#peers.intern(peer);
      for (const pipeline of message.body.pipelines) this.#peers.learn(known, pipeline);
      this.#unpark();
      return;
    }
    if (message.type === "cancel") return this.#onCancel(this.#peers.intern(peer), message.body);
    if (message.type !== "jobs") return;
    // One Buffer per peer, so that results and hand-backs group by peer.
    const known = this.#peers.intern(peer);
    if (message.body.serverId === undefined || !this.#secrets.has(message.body.serverId)) {
      // Not a server this worker registered with (a peer that only found the port): run nothing.
      // Checked by server id, not by connection: a server's DEALER that reconnects keeps it.
      this.refusals.record("PEER_NOT_REGISTERED", { peer: known.toString("hex"), jobs: message.body.deliveries.length });
      return;
    }
    const late: string[] = [];
    let pipeline = "";
    for (const delivery of message.body.deliveries) {
      if (delivery.pipeline !== pipeline) {
        pipeline = delivery.pipeline;
        this.#peers.learn(known, pipeline);
      }
      const key = keyOf(delivery.jobId, delivery.token);
      if (this.#accepted.has(key) || this.#results.has(key)) continue;
      if (this.#draining) {
        late.push(delivery.jobId);
      } else {
        this.#accepted.add(key);
        this.#waiting.push({ delivery, peer: known });
      }
    }
    if (late.length > 0) void this.#sendBye(known, late, false);
    this.#unpark();
    this.#pump();
  }

  /**
   * Jobs cancelled: each counts only from the server that sent it (the peer, and a server that
   * welcomed this worker) and under the lease token it runs with. A running attempt's signal is
   * aborted with a CancelledError (the executor ends it); a job still waiting is handed back
   * unrun (storage ends it cancelled).
   */
  #onCancel(peer: Buffer, cancel: Body<"cancel">): void {
    if (!this.#secrets.has(cancel.serverId)) return this.refusals.record("PEER_NOT_REGISTERED", { peer: peer.toString("hex"), cancels: cancel.leases.length });
    const unrun: string[] = [];
    for (const { jobId, token } of cancel.leases) {
      const key = keyOf(jobId, token);
      const running = this.#running.get(key);
      if (running !== undefined && running.job.peer === peer) {
        this.#logger.info("job cancelled: aborting its attempt", { jobId });
        running.cancel.abort(new CancelledError());
        continue;
      }
      const waiting = this.#waiting.findIndex((job) => job.peer === peer && job.delivery.jobId === jobId && job.delivery.token === token);
      if (waiting < 0) continue;
      this.#waiting.splice(waiting, 1);
      this.#accepted.delete(key);
      unrun.push(jobId);
    }
    if (unrun.length > 0) void this.#sendBye(peer, unrun, false);
  }

  /** A server registered this worker: keep its secret (for proofs) and answer at once with a sealed announcement. */
  #onWelcome(peer: Buffer, welcome: Body<"welcome">): void {
    if (welcome.workerId !== this.workerId) return this.refusals.record("WORKER_UNPROVEN", { reason: "welcome for another worker", workerId: welcome.workerId });
    this.#secrets.delete(welcome.serverId);
    this.#secrets.set(welcome.serverId, welcome.secret);
    while (this.#secrets.size > 64) this.#secrets.delete(this.#secrets.keys().next().value as string);
    this.#announce();
  }

  /** Parked results whose pipeline has a live peer now are sent to it. */
  #unpark(): void {
    if (this.#results.parked > 0 && this.#results.unpark(this.#pickPeer) > 0) this.#scheduleFlush();
  }

  /** A send to `peer` failed with EHOSTUNREACH: it went away; its results go to another server of their pipeline. */
  #peerGone(peer: Buffer): void {
    if (!this.#peers.forget(peer)) return;
    const moved = this.#results.readdress(peer, this.#pickPeer);
    const parked = this.#results.parked;
    this.#logger.info("pipeline server gone; its results re-addressed", { moved, parked });
    if (moved > 0) this.#scheduleFlush();
    // Ask the servers of the stranded pipelines to say hello.
    if (parked > 0) this.#announce();
  }

  /**
   * Starts waiting jobs while slots are free. A delivery whose lease has already ended (this
   * worker was stalled, SIGSTOP, with it queued) is not run: its job is back in the queue and its
   * result would be refused. It is handed back (its server frees the slot; storage ignores the
   * stale lease).
   */
  #pump(): void {
    const now = Date.now();
    const expired = new Map<Buffer, string[]>();
    while (!this.#draining && this.#running.size < this.concurrency && this.#waiting.length > 0) {
      const job = this.#waiting.shift()!;
      const { expiresAt, jobId, token } = job.delivery;
      if (expiresAt !== undefined && now >= expiresAt) {
        this.#accepted.delete(keyOf(jobId, token));
        expired.set(job.peer, [...(expired.get(job.peer) ?? []), jobId]);
        continue;
      }
      this.#run(job);
    }
    for (const [peer, ids] of expired) {
      this.#logger.warn("leases ended before the jobs started: not run, handed back", { jobs: ids.length });
      void this.#sendBye(peer, ids, false);
    }
  }

  #run(job: Job): void {
    const { delivery, peer } = job;
    const key = keyOf(delivery.jobId, delivery.token);
    const cancel = new AbortController();
    const done = this.#executor
      .execute(delivery, {
        workerId: this.workerId,
        logger: this.#logger,
        signal: this.#abort.signal,
        cancelSignal: cancel.signal,
        // Decoded from this job's own message: nothing else holds the input.
        ownsInput: true,
        onProgress: (fraction, message) => {
          const report = { pipeline: delivery.pipeline, jobId: delivery.jobId, token: delivery.token, fraction: clamp01(fraction), ...(message === undefined ? {} : { message }) };
          void this.#send(peer, encode("progress", { reports: [report] }), "progress");
        },
      })
      .then(
        (outcome) => this.#finished(key, job, outcome),
        (error: unknown) => this.#logger.error("executor rejected (it must not)", { jobId: delivery.jobId, error: String(error) }),
      )
      .finally(() => {
        this.#running.delete(key);
        this.#accepted.delete(key);
        this.#pump();
        if (this.#running.size === 0) this.#idle?.();
      });
    this.#running.set(key, { job, done, cancel });
  }

  #finished(key: string, job: Job, outcome: StepOutcome): void {
    if (this.#abandoned.delete(key)) return;
    const peer = job.peer;
    // The job's server may have gone while it ran (a send to it failed): address another one.
    const pipeline = job.delivery.pipeline;
    const to = this.#peers.has(peer) ? peer : this.#peers.peerFor(pipeline);
    this.#results.add(key, to, pipeline, { ...outcome, pipeline, workerId: this.workerId });
    // The first result parked: ask at once for a server of its pipeline (heartbeats repeat it).
    if (to === undefined && this.#results.parked === 1) this.#announce();
    this.#scheduleFlush();
  }

  #flushScheduled = false;

  /**
   * Results leave together on the next turn of the event loop: those of every attempt that ends
   * meanwhile go in one message. When this worker runs nothing else (no other attempt running or
   * waiting, nothing being sent), there is nothing to wait for: the result leaves at once, so one
   * job in flight waits for no turn.
   */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    if (this.#running.size <= 1 && this.#waiting.length === 0 && this.#routerQueue.idle) {
      this.#sendResults(this.#results.takeUnsent());
      return;
    }
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#sendResults(this.#results.takeUnsent());
    });
  }

  #resend(): void {
    this.#unpark();
    const { due, expired } = this.#results.takeDue(Date.now());
    if (expired > 0) this.#logger.warn("results never acknowledged, given up (their leases expire and the jobs run again)", { results: expired });
    this.#sendResults(due);
  }

  #sendResults(byPeer: Map<Buffer, StepOutcome[]>): void {
    const limits = { maxOutcomes: RESULTS_PER_MESSAGE, targetBytes: BATCH_TARGET_BYTES, maxOutcomeBytes: this.#maxBytes - MESSAGE_OVERHEAD_BYTES };
    for (const [peer, outcomes] of byPeer) {
      for (const body of resultMessageBodies(this.workerId, outcomes, limits)) {
        void this.#send(peer, encodeJson("results", body), "results (sent again later)");
      }
    }
  }

  #sendBye(peer: Buffer, handBack: string[], final: boolean): Promise<void> {
    return this.#send(peer, encode("bye", { workerId: this.workerId, handBack, final }), "bye");
  }

  /** Sends on the job socket; never rejects. A peer gone (EHOSTUNREACH) has its results re-addressed. */
  #send(peer: Buffer, frames: Buffer[], what: string): Promise<void> {
    return this.#routerQueue.send([peer, ...frames]).catch((error: unknown) => {
      if ((error as { code?: unknown } | null)?.code === "EHOSTUNREACH") this.#peerGone(peer);
      this.#logger.debug(`${what} not sent`, { error: String(error) });
    });
  }

  async #shutdown(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    this.#draining = true;
    this.#announce();
    // Jobs not started yet go back at once.
    const queued = this.#waiting.splice(0);
    for (const job of queued) this.#accepted.delete(keyOf(job.delivery.jobId, job.delivery.token));
    for (const [peer, ids] of groupByPeer(queued)) await this.#sendBye(peer, ids, false);
    // Running attempts get until the deadline.
    await this.#until(() => this.#running.size === 0, deadline);
    const leftovers = [...this.#running.entries()];
    for (const [key] of leftovers) this.#abandoned.add(key);
    this.#abort.abort();
    // Results of finished attempts must reach the pipeline before the final bye.
    this.#sendResults(this.#results.takeUnsent());
    await this.#until(() => this.#results.size === 0, Math.max(deadline, Date.now() + 1000));
    clearInterval(this.#heartbeat);
    for (const timer of this.#timers) clearTimeout(timer);
    const handBack = groupByPeer(leftovers.map(([, r]) => r.job));
    await Promise.all(this.#peers.peers().map((peer) => this.#sendBye(peer, handBack.get(peer) ?? [], true)));
    await this.#pubQueue.send(encode("bye", this.#sealedBye())).catch(() => {});
    await Promise.race([Promise.allSettled(leftovers.map(([, r]) => r.done)), new Promise((r) => setTimeout(r, 1000).unref())]);
    this.#routerQueue.close();
    this.#pubQueue.close();
    closeSocket(this.#router, 500);
    closeSocket(this.#pub, 500);
    await this.#reading;
    this.#releaseGuard();
    this.#logger.info("step worker stopped", { handedBack: queued.length + leftovers.length, unacked: this.#results.size });
  }

  /** The final `bye` for the PUB, sealed for every server that welcomed this worker. */
  #sealedBye(): Body<"bye"> {
    const bye = { workerId: this.workerId, handBack: [] as string[], final: true, seq: ++this.#seq };
    const proofs: Record<string, string> = {};
    for (const [serverId, secret] of this.#secrets) proofs[serverId] = sealBye(secret, bye);
    return { ...bye, proofs };
  }

  /** Resolves when `done()` holds or at `deadline` (checked on every finished attempt and ack). */
  async #until(done: () => boolean, deadline: number): Promise<void> {
    while (!done() && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(100, Math.max(0, deadline - Date.now())));
        this.#idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#idle = undefined;
    }
  }
}

function keyOf(jobId: string, token: string): string {
  return `${jobId}\u0000${token}`;
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

function groupByPeer(jobs: readonly Job[]): Map<Buffer, string[]> {
  const grouped = new Map<Buffer, string[]>();
  for (const { delivery, peer } of jobs) {
    const list = grouped.get(peer) ?? [];
    list.push(delivery.jobId);
    grouped.set(peer, list);
  }
  return grouped;
}
