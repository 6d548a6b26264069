/**
 * The pipeline server over ZeroMQ: a Dispatcher fed by step workers that announce themselves.
 * Binds (or connects) a SUB for announcements and a PULL for client requests; each announced
 * worker becomes a RemoteWorker (a DEALER to its address); results are settled in storage, then
 * acknowledged. A worker whose link (ZMTP heartbeats) goes down is dropped and its jobs handed
 * back as stalls; a busy worker, silent but connected, is kept (see `checkLiveness`).
 * A worker whose announcement lists `stranded` pipelines served here (it holds results for a
 * server that went away, e.g. this one before a restart) is greeted with `hello`, so it sends
 * them here: they are settled from storage (their leases were not handed out by this process).
 * Anyone may publish on SUB, so what it hears there goes through a WorkerGate: a new worker is
 * welcomed over its DEALER with a secret and fed once it seals an announcement with it; a result
 * counts only for a lease held by the connection it came on (see _worker-gate.ts).
 *
 * ```ts
 * const server = new PipelineServer({ pipelines: [{ name: "p", steps: ["a", "b"] }], storage: new MemoryStorageBackend(),
 *   subBind: "tcp://127.0.0.1:6000", jobPullBind: "tcp://127.0.0.1:5050" });
 * await server.start();     // server.subAddress, server.jobPullAddress: the bound endpoints
 * await server.stop();
 * ```
 */
import * as zmq from "zeromq";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import type { ScheduleDefinition } from "../core/schedule.ts";
import { boundCapacity, boundHeartbeat, type PolicyBounds } from "../core/policy-bounds.ts";
import { resolveStepPolicy, type StepConfig } from "../core/step-config.ts";
import { Dispatcher, type QuarantineRules } from "../engine/dispatcher.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";
import { ClientIntake, type IntakeCounts } from "./_client-intake.ts";
import { ReplySockets } from "./_reply-sockets.ts";
import { bindAndRead, closeSocket, connectAll, hardFrameLimit, LINK_OPTIONS, readLoop, toList, warnIfExposed } from "./_sockets.ts";
import type { Curve } from "./curve/curve.ts";
import { guardSocket, secureClient } from "./curve/secure-socket.ts";
import { Refusals } from "./refusals.ts";
import { decode, DEFAULT_MAX_MESSAGE_BYTES, type Body, type Message } from "./protocol.ts";
import { ProtocolDrops } from "./protocol-drops.ts";
import { RemoteWorker } from "./remote-worker.ts";
import { WorkerGate } from "./_worker-gate.ts";

/** What the class DSL's Pipeline offers: hooks wired to the dispatcher's events. */
export interface PipelineHooks {
  attach(dispatcher: Dispatcher): () => void;
}

export interface PipelineServerOptions {
  /** The pipelines served (the CLI passes the ones named on the command line, or all of the project's). */
  pipelines: readonly PipelineDefinition[];
  storage: StorageBackend;
  /** Where the announcement SUB binds (`--sub-bind`). */
  subBind?: string | readonly string[] | undefined;
  /** Or connects, e.g. to a forwarder's publisher side (`--sub-connect`). */
  subConnect?: string | readonly string[] | undefined;
  /** Where the client-request PULL binds (`--job-pull-bind`). */
  jobPullBind?: string | readonly string[] | undefined;
  /** Or connects, e.g. to a streamer's push side (`--job-pull-connect`). */
  jobPullConnect?: string | readonly string[] | undefined;
  /**
   * A worker whose link never came up (inproc, or an address that never answered) and that is
   * silent this long is dropped, ms. Default 3 × the worker's announced heartbeat. A worker whose
   * link is up is never dropped for silence: it is lost when its link goes down (see checkLiveness).
   */
  heartbeatTimeoutMs?: number | undefined;
  /** Largest inbound message, bytes. Default 16 MiB. */
  maxMessageBytes?: number | undefined;
  /** Reclaim interval of expired leases, ms. Default 1000. */
  reclaimIntervalMs?: number | undefined;
  logger?: Logger | undefined;
  hooks?: readonly PipelineHooks[] | undefined;
  /**
   * CurveZMQ (`--curve-secret-key-file`, `--curve-allow`, `--curve-server-key`): every socket is
   * encrypted; bound sockets and reply sockets admit allowed keys only (the server is their CURVE
   * server), sockets connected to a forwarder or streamer are CURVE clients of `serverKey`, and a
   * worker is fed only when it announces an allowed key. Default: off.
   */
  curve?: Curve | undefined;
  /**
   * The server's own configuration of each step (timeout, retries, backoff): from its project's
   * mario.config, function files or class DSL, or flags. A worker's stated policy is used only
   * for a step not configured here, within `policyBounds`.
   */
  stepConfigs?: ReadonlyMap<string, StepConfig> | undefined;
  /** Bounds of what workers may state: timeout, retries, backoff, capacity, heartbeat. Default DEFAULT_POLICY_BOUNDS. */
  policyBounds?: Partial<PolicyBounds> | undefined;
  /** Workers fed (or being registered) at most (`--max-workers`). Default 256. */
  maxWorkers?: number | undefined;
  /** New worker connections per second at most (`--max-new-connections`). Default 50. */
  maxNewConnectionsPerSecond?: number | undefined;
  /** A new worker that does not prove itself within this long is dropped, ms. Default max(2000, 3 heartbeats). */
  registrationTimeoutMs?: number | undefined;
  /** A result is overdue this long after its attempt's timeout, ms. Default 5000 (half the lease's grace). */
  answerGraceMs?: number | undefined;
  /** Overdue deliveries in a row, without a result, that quarantine a worker. Default 3. */
  quarantineAfter?: number | undefined;
  /** How long a quarantined worker gets no new jobs, ms. Default 60 000. */
  quarantineMs?: number | undefined;
  /** Cron schedules of the pipelines served, run while the server runs (see engine/scheduler.ts). Default none. */
  schedules?: readonly ScheduleDefinition[] | undefined;
}

const REQUEST_TYPES = ["enqueues", "enqueue", "waits", "wait", "cancelJob", "runs", "wants"] as const;

/** Liveness is checked this often, ms. */
const CHECK_MS = 100;
/** A check this late (ms after the previous one) means this process was stalled. */
const STALL_MS = 1000;
/** A worker's link down this long (after being up) means the worker is gone, ms. */
const LINK_GRACE_MS = 1000;

type WorkerMessage = Extract<Message, { type: "results" | "progress" | "bye" }>;

export class PipelineServer {
  readonly dispatcher: Dispatcher;
  /** Messages dropped for breaking the protocol, per socket. */
  readonly drops: ProtocolDrops;
  /** Peers and messages refused for not being trusted, by reason. */
  readonly refusals: Refusals;
  readonly #options: PipelineServerOptions;
  readonly #logger: Logger;
  readonly #maxBytes: number;
  readonly #sub: zmq.Subscriber;
  readonly #pull: zmq.Pull;
  readonly #replies: ReplySockets;
  readonly #intake: ClientIntake;
  readonly #remotes = new Map<string, RemoteWorker>();

  /** Client request messages taken, by type, and enqueues answered BUSY, since start. */
  get intakeCounts(): IntakeCounts {
    return this.#intake.counts;
  }

  /** Credit given to clients that hold requests back at the queue limit, and waiters forgotten unheard. */
  get creditCounts(): { granted: number; expired: number } {
    return this.#intake.credit.counts;
  }
  readonly #jobTypes: Set<string>;
  readonly #loops: Promise<void>[] = [];
  readonly #unhook: (() => void)[] = [];
  /** Releases of the ZAP domains of guarded sockets, called once they are closed. */
  readonly #guards: (() => void)[] = [];
  readonly #gate: WorkerGate;
  readonly #quarantine: QuarantineRules;
  #liveness: NodeJS.Timeout | undefined;
  #lastCheck = Date.now();
  /** After a stall of this process: no worker is judged before this time. */
  #judgeFrom = 0;
  #subAddresses: string[] = [];
  #pullAddresses: string[] = [];
  #stopped: Promise<void> | undefined;

  constructor(options: PipelineServerOptions) {
    if (toList(options.subBind).length + toList(options.subConnect).length === 0) {
      throw new InvalidConfigError("the pipeline server needs --sub-bind (or --sub-connect to a forwarder)");
    }
    if (toList(options.jobPullBind).length + toList(options.jobPullConnect).length === 0) {
      throw new InvalidConfigError("the pipeline server needs --job-pull-bind (or --job-pull-connect to a streamer)");
    }
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.drops = new ProtocolDrops(this.#logger);
    this.refusals = new Refusals(this.#logger);
    this.#gate = new WorkerGate({
      refusals: this.refusals,
      logger: this.#logger,
      curve: options.curve,
      stepConfigs: options.stepConfigs,
      bounds: options.policyBounds,
      maxWorkers: options.maxWorkers,
      maxNewPerSecond: options.maxNewConnectionsPerSecond,
    });
    this.#quarantine = { graceMs: options.answerGraceMs ?? 5000, after: options.quarantineAfter ?? 3, forMs: options.quarantineMs ?? 60_000 };
    this.#jobTypes = new Set(options.pipelines.flatMap((p) => p.steps));
    this.dispatcher = new Dispatcher({
      storage: options.storage,
      pipelines: options.pipelines,
      logger: this.#logger,
      reclaimIntervalMs: options.reclaimIntervalMs,
      schedules: options.schedules,
    });
    // Each step's policy is the project's from the start; no announcement replaces it.
    for (const [jobType, config] of options.stepConfigs ?? []) this.dispatcher.setPolicy(jobType, resolveStepPolicy(config, `step "${jobType}"`));
    const limit = hardFrameLimit(this.#maxBytes);
    this.#sub = new zmq.Subscriber({ ...LINK_OPTIONS, maxMessageSize: limit });
    this.#pull = new zmq.Pull({ ...LINK_OPTIONS, maxMessageSize: limit });
    // Reply sockets connect to clients, as their CURVE server: only allowed clients get replies.
    const prepare = (push: zmq.Push): void => {
      if (this.#replyGuard !== undefined) Object.assign(push, this.#replyGuard.options);
    };
    this.#replies = new ReplySockets({ logger: this.#logger, maxMessageBytes: this.#maxBytes, prepare });
    this.#intake = new ClientIntake({ dispatcher: this.dispatcher, replies: this.#replies, logger: this.#logger });
  }

  /** The bound announcement endpoint (first one), port resolved. */
  get subAddress(): string {
    return this.#subAddresses[0] ?? "";
  }

  /** The bound client-request endpoint (first one), port resolved. */
  get jobPullAddress(): string {
    return this.#pullAddresses[0] ?? "";
  }

  /** Every bound client-request endpoint, ports resolved (none when it connects to a streamer). */
  get jobPullAddresses(): readonly string[] {
    return this.#pullAddresses;
  }

  /** Ids of the workers currently fed (proven; not those still registering). */
  workerIds(): string[] {
    return [...this.#remotes.values()].filter((r) => r.credential.proven).map((r) => r.workerId);
  }

  /** Starts storage, dispatching and the sockets; on a failure (e.g. a port in use) undoes it all and throws. */
  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (error) {
      await this.stop().catch(() => {});
      throw error;
    }
  }

  async #start(): Promise<void> {
    await this.dispatcher.start();
    for (const hooks of this.#options.hooks ?? []) this.#unhook.push(hooks.attach(this.dispatcher));
    await this.#secure(this.#sub, "sub", toList(this.#options.subBind).length > 0);
    await this.#secure(this.#pull, "pull", toList(this.#options.jobPullBind).length > 0);
    if (this.#options.curve !== undefined) this.#replyGuard = await this.#options.curve.serverSocket("reply", (peer) => this.refusals.record("CURVE_KEY_REFUSED", { socket: "reply", ...peer }));
    this.#sub.subscribe();
    for (const address of toList(this.#options.subBind)) this.#subAddresses.push(await bindAndRead(this.#sub, address));
    connectAll(this.#sub, toList(this.#options.subConnect));
    for (const address of toList(this.#options.jobPullBind)) this.#pullAddresses.push(await bindAndRead(this.#pull, address));
    connectAll(this.#pull, toList(this.#options.jobPullConnect));
    const secured = this.#options.curve !== undefined;
    for (const address of this.#subAddresses) warnIfExposed(address, secured, "the announcement socket (--sub-bind)", this.#logger);
    for (const address of this.#pullAddresses) warnIfExposed(address, secured, "the job intake (--job-pull-bind)", this.#logger);
    this.#loops.push(readLoop(this.#sub, "sub", this.#logger, (frames) => this.#onAnnouncement(frames)));
    this.#loops.push(readLoop(this.#pull, "pull", this.#logger, (frames) => this.#onRequest(frames)));
    this.#lastCheck = Date.now();
    this.#liveness = setInterval(() => this.#checkLiveness(), CHECK_MS);
    this.#logger.info("pipeline server ready", {
      pipelines: this.#options.pipelines.map((p) => p.name),
      sub: this.#subAddresses.length > 0 ? this.#subAddresses : toList(this.#options.subConnect),
      jobPull: this.#pullAddresses.length > 0 ? this.#pullAddresses : toList(this.#options.jobPullConnect),
    });
  }

  /**
   * Stops taking requests and dispatching, settles results already received, then closes every
   * socket and the storage. Jobs still leased to workers stay leased (their results arriving
   * later are lost with this process; with Redis the leases expire and the jobs run again).
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#liveness);
    closeSocket(this.#pull, 0);
    closeSocket(this.#sub, 0);
    await this.#intake.close();
    await this.dispatcher.pause();
    await Promise.allSettled([...this.#remotes.values()].map((r) => r.settled()));
    await this.dispatcher.stop();
    for (const remote of this.#remotes.values()) await remote.close(100);
    this.#remotes.clear();
    this.#replies.close();
    await Promise.all(this.#loops);
    for (const release of this.#guards) release();
    this.#replyGuard?.release();
    for (const unhook of this.#unhook) unhook();
    await this.dispatcher.close();
  }

  #replyGuard: { options: object; release(): void } | undefined;

  /** A bound socket is the CURVE server of its peers; one connected to a device is a client of it. */
  async #secure(socket: zmq.Socket, name: string, bound: boolean): Promise<void> {
    if (bound) this.#guards.push(await guardSocket(socket, this.#options.curve, name, this.refusals));
    else secureClient(socket, this.#options.curve);
  }

  #onAnnouncement(frames: Buffer[]): void {
    const message = decode(frames, { maxBytes: this.#maxBytes, accept: ["announce", "bye"] });
    if (message instanceof Error) return this.drops.record("sub", message);
    if (message.type === "bye") {
      // Anyone may publish on SUB: a bye counts only when sealed by that worker (else counted, and nothing changes).
      const remote = this.#remotes.get(message.body.workerId);
      if (remote === undefined) return;
      if (!remote.credential.proven) this.refusals.record("WORKER_UNPROVEN", { workerId: remote.workerId, message: "bye" });
      else if (this.#gate.provesBye(remote, message.body)) this.#onBye(remote, message.body);
      return;
    }
    if (message.type === "announce") this.#onAnnounce(message.body);
  }

  #onAnnounce(a: Body<"announce">): void {
    if (!this.#jobTypes.has(a.jobType) || this.#stopped !== undefined) return;
    const remote = this.#remotes.get(a.workerId);
    if (remote === undefined) {
      if (!a.draining && this.#gate.admits(a, this.#remotes.size)) this.#takeOn(a);
      return;
    }
    if (!remote.credential.proven && a.proofs?.[this.#gate.serverId] === undefined) {
      // Its welcome may not have arrived yet: send it again (at most once per announcement).
      remote.welcome();
      return;
    }
    if (!this.#gate.proves(remote, a)) return;
    const bounds = this.#gate.bounds;
    remote.announced(boundHeartbeat(a.heartbeatMs, bounds));
    if (!this.dispatcher.hasWorker(a.workerId)) {
      this.dispatcher.addWorker(remote, this.#gate.policyFor(a));
      this.#logger.info("worker joined", { workerId: a.workerId, jobType: a.jobType, address: a.address, capacity: remote.capacity });
    }
    // The roster keeps what the worker said (and registers it in storage).
    this.dispatcher.heard(a.workerId, { capacity: boundCapacity(a.capacity, bounds), draining: a.draining });
    if (a.stranded !== undefined && a.stranded.length > 0) this.#greet(remote, a);
  }

  /** Connects to a new worker's address and welcomes it; it is fed once it proves it got the welcome. */
  #takeOn(a: Body<"announce">): void {
    const bounds = this.#gate.bounds;
    const remote = new RemoteWorker({
      announce: { ...a, capacity: boundCapacity(a.capacity, bounds), heartbeatMs: boundHeartbeat(a.heartbeatMs, bounds) },
      curve: this.#options.curve?.clientOptions(a.curveKey),
      maxMessageBytes: this.#maxBytes,
      serverId: this.#gate.serverId,
      logger: this.#logger,
      drops: this.drops,
      onMessage: (worker, message) => this.#onWorkerMessage(worker, message),
    });
    this.#remotes.set(a.workerId, remote);
    remote.welcome();
  }

  /** Says hello to a worker holding results of pipelines served here whose server went away. */
  #greet(remote: RemoteWorker, a: Body<"announce">): void {
    const served = this.#options.pipelines.filter((p) => p.steps.includes(a.jobType)).map((p) => p.name);
    if (a.stranded?.some((name) => served.includes(name)) === true) remote.greet(served);
  }

  #onWorkerMessage(remote: RemoteWorker, message: WorkerMessage): void {
    if (this.#remotes.get(remote.workerId) !== remote || !remote.credential.proven) return;
    this.dispatcher.heard(remote.workerId);
    if (message.type === "progress") {
      // Only for leases this worker holds; a report without its pipeline (a worker of an earlier version) is not stored.
      this.dispatcher.progress(
        message.body.reports.flatMap((r) => (r.pipeline === undefined || !this.dispatcher.holds(remote.workerId, r.jobId, r.token) ? [] : [{ ...r, pipeline: r.pipeline }])),
      );
    } else if (message.type === "bye") {
      this.#onBye(remote, message.body);
    } else {
      // Outcomes are attributed to the worker that sent them, whatever they claim, and count only
      // for leases handed to this connection, or held by no worker here (handed out before a
      // restart: judged by storage from their 128-bit token). A lease another worker holds is refused.
      const outcomes = message.body.outcomes
        .map((o) => ({ ...o, workerId: remote.workerId }))
        .filter((o) => {
          const held = this.dispatcher.holds(remote.workerId, o.jobId, o.token) || !this.dispatcher.isLeasedHere(o.jobId);
          if (!held) this.refusals.record("LEASE_NOT_HELD", { workerId: remote.workerId, jobId: o.jobId });
          return held;
        });
      if (outcomes.length === 0) return;
      remote.track(
        this.dispatcher
          .report(outcomes)
          .then(() => remote.ack(outcomes.map((o) => ({ jobId: o.jobId, token: o.token }))))
          .catch((error: unknown) => this.#logger.warn("results not settled or not acked; the worker sends them again", { error: String(error) })),
      );
    }
  }

  #onBye(remote: RemoteWorker, bye: Body<"bye">): void {
    this.dispatcher.drain(remote.workerId);
    remote.inTurn(async () => {
      await remote.settled();
      if (bye.handBack.length > 0) await this.dispatcher.handBack(remote.workerId, bye.handBack);
      if (bye.final) await this.#remove(remote, "shutdown", "shut down");
    }).catch((error: unknown) => this.#logger.error("bye not handled", { workerId: remote.workerId, error: String(error) }));
  }

  /**
   * Liveness from the connection, progress from the job. A worker whose link is up (ZMTP
   * heartbeats, answered by its libzmq I/O thread) is alive however long its event loop is busy:
   * its jobs are judged by their own deadlines (the lease). It is lost when its link, once up, has
   * been down for LINK_GRACE_MS (the heartbeats already waited ~2.5 s: a stopped, crashed or cut
   * worker). Only a worker whose link never came up (an inproc address, an address that never
   * answered) is judged by its announcements, silent past `heartbeatTimeoutMs`.
   *
   * A check that comes late means this process itself was stalled (SIGSTOP, a long GC pause, VM
   * steal): the stall is nobody's silence. It is credited to every worker, and nobody is judged
   * until what queued up meanwhile (announcements, link events) has been read.
   */
  #checkLiveness(): void {
    const now = Date.now();
    const gap = now - this.#lastCheck;
    this.#lastCheck = now;
    if (gap > STALL_MS) {
      const stalled = gap - CHECK_MS;
      this.dispatcher.stalledFor(stalled);
      for (const remote of this.#remotes.values()) remote.link.credit(stalled);
      this.#judgeFrom = now + LINK_GRACE_MS;
      this.#logger.warn("pipeline server was stalled: reading what queued up before judging any worker", { stalledMs: stalled });
      return;
    }
    if (now < this.#judgeFrom) return;
    this.#gate.countUnconfirmed();
    for (const remote of this.#remotes.values()) {
      if (!remote.credential.proven) {
        this.#checkRegistration(remote, now);
        continue;
      }
      this.#checkDeliveries(remote);
      const down = remote.link.downFor(now);
      let detail: string | undefined;
      if (down !== undefined) {
        if (down > LINK_GRACE_MS) detail = `its link has been down for ${down} ms`;
      } else if (!remote.link.up) {
        const timeout = this.#options.heartbeatTimeoutMs ?? 3 * remote.heartbeatMs;
        const silentMs = now - (this.dispatcher.lastSeen(remote.workerId) ?? now);
        if (silentMs > timeout) detail = `never connected, silent for ${silentMs} ms`;
      }
      if (detail === undefined) continue;
      this.#logger.warn("worker lost", { workerId: remote.workerId, reason: detail });
      this.#remove(remote, "lost", detail).catch((error: unknown) =>
        this.#logger.error("lost worker not removed", { workerId: remote.workerId, error: String(error) }),
      );
    }
  }

  /** A new worker that did not prove it received its welcome in time is dropped (an address nobody answers at). */
  #checkRegistration(remote: RemoteWorker, now: number): void {
    const limit = this.#options.registrationTimeoutMs ?? Math.max(2000, 3 * remote.heartbeatMs);
    if (now - remote.startedAt <= limit) return;
    this.refusals.record("REGISTRATION_TIMEOUT", { workerId: remote.workerId, address: remote.address });
    this.#remotes.delete(remote.workerId);
    remote.close(0).catch((error: unknown) => this.#logger.debug("unproven worker's socket not closed", { workerId: remote.workerId, error: String(error) }));
  }

  /** Jobs whose result is overdue go back; a worker that keeps not answering is quarantined (see Dispatcher.takeOverdue). */
  #checkDeliveries(remote: RemoteWorker): void {
    this.dispatcher
      .takeOverdue(remote.workerId, this.#quarantine)
      .then(({ jobs, quarantined }) => {
        if (jobs > 0) this.#logger.warn("deliveries unanswered past their timeout: jobs handed back", { workerId: remote.workerId, jobs });
        if (quarantined) this.refusals.record("QUARANTINED", { workerId: remote.workerId, address: remote.address, forMs: this.#quarantine.forMs });
      })
      .catch((error: unknown) => this.#logger.error("overdue jobs not handed back; their leases expire", { workerId: remote.workerId, error: String(error) }));
  }

  async #remove(remote: RemoteWorker, reason: "lost" | "shutdown", detail: string): Promise<void> {
    if (this.#remotes.get(remote.workerId) !== remote) return;
    this.#remotes.delete(remote.workerId);
    try {
      await this.dispatcher.removeWorker(remote.workerId, reason, detail);
    } finally {
      await remote.close(reason === "lost" ? 0 : 100);
    }
    this.#logger.info("worker left", { workerId: remote.workerId, reason: detail });
  }

  #onRequest(frames: Buffer[]): void {
    const message = decode(frames, { maxBytes: this.#maxBytes, accept: REQUEST_TYPES });
    if (message instanceof Error) return this.drops.record("pull", message);
    this.#intake.took(message.type);
    if (message.type === "enqueues") this.#intake.enqueueMany(message.body);
    else if (message.type === "enqueue") this.#intake.enqueue(message.body);
    else if (message.type === "waits") this.#intake.waitMany(message.body);
    else if (message.type === "wait") this.#intake.wait(message.body);
    else if (message.type === "cancelJob") this.#intake.cancel(message.body);
    else if (message.type === "runs") this.#intake.runMany(message.body);
    else if (message.type === "wants") this.#intake.wants(message.body);
  }
}
