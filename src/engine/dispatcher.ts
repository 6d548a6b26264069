/**
 * The engine of a pipeline server, and its one front door: every way in (in process, the ZeroMQ
 * intake, the HTTP gateway, the class DSL) calls these methods. Jobs come in through `enqueue` /
 * `enqueueMany` (checked once, by core/enqueue-rules.ts), are leased to workers with free
 * capacity (the dispatch loop), and their outcomes are settled in storage (ack + next step in one
 * atomic operation), retried, dead-lettered, reclaimed. Reads (`get`, `list`, `stats`, `workers`,
 * `ready`), waiting (`waitForFinal`) and `redrive` are here too; events are for subscribing.
 * Storage is private: nothing outside the engine reads it. No I/O of its own: storage and
 * workers are ports, so the same engine runs in process (LocalRunner) and behind ZeroMQ.
 *
 * ```ts
 * const dispatcher = new Dispatcher({ storage, pipelines: [{ name: "p", steps: ["a"] }] });
 * await dispatcher.start();
 * dispatcher.addWorker(target, resolveStepPolicy({ timeoutMs: 5000 }));
 * const { job } = await dispatcher.enqueue("p", { size: 10 });   // created (or duplicate, or busy)
 * const done = await dispatcher.waitForFinal(job.id, { timeoutMs: 5000 });
 * ```
 */
import { checkEnqueue, checkInstructions, type EnqueueOptions, type UncheckedEnqueueOptions } from "../core/enqueue-rules.ts";
import { deadJobsQuery, type RedriveDeadAnswer, type RedriveDeadFilter, type RedriveOptions } from "../core/redrive-rules.ts";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { errorFromCode } from "../core/errors/error-from-code.ts";
import { LeaseLostError } from "../core/errors/lease-lost-error.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { StorageLostError } from "../core/errors/storage-lost-error.ts";
import { StorageUnavailableError } from "../core/errors/storage-unavailable-error.ts";
import type { JobError, JobRecord } from "../core/job.ts";
import { findPipeline, type PipelineDefinition } from "../core/pipeline-definition.ts";
import { resolveStepPolicy, type StepPolicy } from "../core/step-config.ts";
import { TypedEmitter, type EventSource } from "../core/typed-emitter.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import type { CancelResult, DeleteResult, EnqueueOutcome, EnqueueRequest, JobPage, JobQuery, ListJobsQuery, PipelineStats, StorageBackend, WorkerInfo } from "../storage/storage-backend.ts";
import type { Readiness } from "./cluster.ts";
import type { DispatchTarget, LogReport, ProgressReport, StepOutcome } from "./delivery.ts";
import type { DispatcherEvents } from "./dispatcher-events.ts";
import { DispatchLoop } from "./_dispatch-loop.ts";
import { Settler } from "./_settler.ts";
import { Cancels } from "./_cancels.ts";
import { WorkerRoster, type InFlight, type QuarantineRules, type WorkerUpdate } from "./_worker-roster.ts";
import { waitForFinal, type WaitForFinalOptions } from "./wait-for-final.ts";
import type { ScheduleDefinition } from "../core/schedule.ts";
import { Scheduler } from "./scheduler.ts";
import type { ScheduleView } from "./schedule-views.ts";

export type { DispatcherEvents, JobFinishedEvent, JobLogEvent, StepFinishedEvent } from "./dispatcher-events.ts";
export type { EnqueueOptions } from "../core/enqueue-rules.ts";
export type { RedriveDeadAnswer, RedriveDeadFilter, RedriveOptions } from "../core/redrive-rules.ts";
export type { QuarantineRules, WorkerUpdate } from "./_worker-roster.ts";

/** One job of `enqueueMany` (its delay, start time and priority as a door received them: checked here). */
export interface EnqueueItem extends UncheckedEnqueueOptions {
  pipeline: string;
  instructions: unknown;
}

/** What `enqueueMany` answers per job: stored (created, duplicate), busy, or refused with its error. */
export type EnqueueAnswer = EnqueueOutcome | { status: "refused"; error: MarioError };

export interface DispatcherOptions {
  storage: StorageBackend;
  pipelines: readonly PipelineDefinition[];
  logger?: Logger | undefined;
  /** How often expired leases are reclaimed, ms. Default 1000. */
  reclaimIntervalMs?: number | undefined;
  /** How often storage is polled for work enqueued elsewhere or retries come due, ms. Default 100. */
  pollIntervalMs?: number | undefined;
  /** Policy for job types no worker has described. */
  defaultPolicy?: StepPolicy | undefined;
  /** Source of randomness for backoff jitter. Default Math.random. */
  random?: (() => number) | undefined;
  /** Cron schedules to run while dispatching (./scheduler.ts), each into a pipeline served here. Default none. */
  schedules?: readonly ScheduleDefinition[] | undefined;
}

export class Dispatcher {
  readonly #events: TypedEmitter<DispatcherEvents>;
  readonly #storage: StorageBackend;
  readonly #logger: Logger;
  readonly #workers = new WorkerRoster();
  readonly #policies = new Map<string, StepPolicy>();
  readonly #defaultPolicy: StepPolicy;
  readonly #reclaimIntervalMs: number;
  readonly #pollIntervalMs: number;
  readonly #settler: Settler;
  readonly #loop: DispatchLoop;
  #scheduler: Scheduler;
  readonly #cancels: Cancels;
  #pipelines: readonly PipelineDefinition[];
  #pipelinesByType = new Map<string, string[]>();
  #timers: NodeJS.Timeout[] = [];
  /** Set when storage reported its store lost (emptied or replaced): dispatching has stopped for good. */
  #lost: StorageLostError | undefined;

  constructor(options: DispatcherOptions) {
    this.#storage = options.storage;
    this.#logger = options.logger ?? silentLogger;
    this.#pipelines = options.pipelines;
    this.#defaultPolicy = options.defaultPolicy ?? resolveStepPolicy();
    this.#reclaimIntervalMs = options.reclaimIntervalMs ?? 1000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 100;
    this.#events = new TypedEmitter((error) => this.#logger.error("event listener failed", { error: String(error) }));
    const host = { storage: this.#storage, events: this.#events, logger: this.#logger, policyFor: (jobType: string) => this.policyFor(jobType) };
    this.#loop = new DispatchLoop({ ...host, roster: this.#workers, pipelinesByType: () => this.#pipelinesByType });
    this.#settler = new Settler({
      ...host,
      random: options.random ?? Math.random,
      served: (pipeline) => this.#pipelines.some((p) => p.name === pipeline),
      kick: () => this.#loop.kick(),
      retryDueIn: (delayMs) => this.#loop.retryDueIn(delayMs, this.#pollIntervalMs),
    });
    this.#cancels = new Cancels({ ...host, roster: this.#workers });
    this.#indexPipelines();
    this.#scheduler = this.#schedulerOf(options.schedules ?? []);
  }

  #schedulerOf(schedules: readonly ScheduleDefinition[]): Scheduler {
    return new Scheduler({
      schedules,
      store: this.#storage.schedules,
      enqueue: (pipeline, instructions, enqueueOptions) => this.enqueue(pipeline, instructions, enqueueOptions),
      jobsOf: (ids, pipeline) => this.#storage.getJobs(ids, pipeline),
      pipelines: () => this.#pipelines.map((p) => p.name),
      logger: this.#logger,
    });
  }

  /** Replaces the schedules run here (e.g. once `mario up --watch` serves their pipelines); started at once while dispatching. */
  async setSchedules(schedules: readonly ScheduleDefinition[]): Promise<void> {
    const dispatching = this.#timers.length > 0;
    await this.#scheduler.stop();
    this.#scheduler = this.#schedulerOf(schedules);
    if (dispatching) await this.#scheduler.start();
  }

  /** What happens in the engine, to subscribe to (`on`); only the engine emits. */
  get events(): EventSource<DispatcherEvents> {
    return this.#events;
  }

  get pipelines(): readonly PipelineDefinition[] {
    return this.#pipelines;
  }

  async start(): Promise<void> {
    await this.#storage.connect();
    await this.#storage.initialize(this.#pipelines);
    this.#timers.push(setInterval(() => this.#reclaim(), this.#reclaimIntervalMs));
    this.#timers.push(setInterval(() => this.#loop.kick(), this.#pollIntervalMs));
    this.#loop.start();
    await this.#scheduler.start();
  }

  /** Stops handing out jobs (after the pass under way) and running schedules; outcomes reported later are still settled. */
  async pause(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.#scheduler.stop();
    await this.#loop.pause();
  }

  /** The schedules stored for the pipelines served here, with next run and last job (`GET /schedules`). */
  schedules(): Promise<ScheduleView[]> {
    return this.#scheduler.views();
  }

  /** Stops dispatching and waits for outcomes already reported to be settled. */
  async stop(): Promise<void> {
    await this.pause();
    await this.#settler.drain();
  }

  /** Stops, then closes storage. */
  async close(): Promise<void> {
    await this.stop();
    await this.#storage.close();
  }

  /** Adds or replaces pipelines (a reload). */
  async setPipelines(pipelines: readonly PipelineDefinition[]): Promise<void> {
    await this.#storage.initialize(pipelines);
    this.#pipelines = pipelines;
    this.#indexPipelines();
    this.#loop.kick();
  }

  /** The policy (timeout, retries) for a job type, as its workers described it. */
  policyFor(jobType: string): StepPolicy {
    return this.#policies.get(jobType) ?? this.#defaultPolicy;
  }

  setPolicy(jobType: string, policy: StepPolicy): void {
    this.#policies.set(jobType, policy);
  }

  // ---- The front door: jobs -------------------------------------------------------------------

  /**
   * Enqueues a job at the first step of `pipeline` (with `delayMs` or `runAt`: `delayed` until
   * then, by storage's clock; with `priority`, ahead of lower ones at every step). Throws
   * UnknownPipelineError, InvalidInstructionsError, TooDeepError, InvalidRequestError
   * (idempotency key), InvalidDelayError, InvalidPriorityError or a storage error; answers `busy`
   * when the pipeline's buffer is full.
   */
  async enqueue(pipeline: string, instructions: unknown, options: EnqueueOptions = {}): Promise<EnqueueOutcome> {
    // enqueueMany of one, without its arrays (the busiest door: every HTTP POST comes here).
    let request: EnqueueRequest;
    try {
      request = this.#requestOf(pipeline, instructions, options, Date.now());
    } catch (error) {
      throw refusal(error);
    }
    let outcomes: EnqueueOutcome[];
    try {
      outcomes = await this.#storage.enqueueJobs([request]);
    } catch (error) {
      throw storageRefusal(error);
    }
    const outcome = outcomes[0] ?? { status: "busy" };
    if (outcome.status === "created") this.#events.emit("job:accepted", outcome.job);
    this.#loop.kick();
    return outcome;
  }

  /** Enqueues many jobs in one storage call; each is answered on its own (a refused one does not fail the others). */
  async enqueueMany(items: readonly EnqueueItem[]): Promise<EnqueueAnswer[]> {
    const answers: EnqueueAnswer[] = new Array(items.length);
    const requests: EnqueueRequest[] = [];
    const positions: number[] = [];
    const now = Date.now();
    items.forEach((item, i) => {
      try {
        requests.push(this.#requestOf(item.pipeline, item.instructions, item, now));
        positions.push(i);
      } catch (error) {
        answers[i] = { status: "refused", error: refusal(error) };
      }
    });
    if (requests.length === 0) return answers;
    let outcomes: EnqueueOutcome[];
    try {
      outcomes = await this.#storage.enqueueJobs(requests);
    } catch (error) {
      for (const i of positions) answers[i] = { status: "refused", error: storageRefusal(error) };
      return answers;
    }
    positions.forEach((i, n) => {
      const outcome = outcomes[n] ?? { status: "busy" };
      if (outcome.status === "created") this.#events.emit("job:accepted", outcome.job);
      answers[i] = outcome;
    });
    this.#loop.kick();
    return answers;
  }

  /** What storage is asked to store for one job, once the enqueue rules passed (they throw otherwise). */
  #requestOf(pipeline: string, instructions: unknown, options: UncheckedEnqueueOptions, now: number): EnqueueRequest {
    const job = checkEnqueue(this.#pipelines, pipeline, instructions, options, now);
    const concurrencyKey = this.policyFor(job.pipeline.steps[0]!).limits?.keyOf?.(job.instructions);
    return {
      pipeline: job.pipeline.name, route: job.pipeline.steps, instructions: job.instructions, idempotencyKey: job.idempotencyKey, id: job.id,
      ...(concurrencyKey === undefined ? {} : { concurrencyKey }), delayMs: job.delayMs, runAt: job.runAt, priority: job.priority,
    };
  }

  /** A job by id (from any pipeline of this storage), or undefined. */
  get(jobId: string): Promise<JobRecord | undefined> {
    return this.#storage.getJob(jobId);
  }

  /** Per id: final (succeeded or dead) or no longer stored, without reading records (what a waiter polls). */
  finalOrGone(pipeline: string, jobIds: readonly string[]): Promise<boolean[]> {
    return this.#storage.finalOrGone(pipeline, jobIds);
  }

  waitForFinal(jobId: string, options: WaitForFinalOptions = {}): Promise<JobRecord | undefined> {
    return waitForFinal(this, jobId, options);
  }

  /**
   * Requeues a dead or cancelled job at the step it ended (its attempt history kept, added to). With `input`
   * (checked by the enqueue rules: a JSON object, not too deep), that step runs on it instead of
   * what it was given. False when it is neither dead nor cancelled.
   */
  async redrive(jobId: string, options: RedriveOptions = {}): Promise<boolean> {
    const input = options.input === undefined ? undefined : checkInstructions(options.input, `new instructions for job ${jobId}`);
    const ok = await this.#storage.redrive(jobId, input === undefined ? {} : { input });
    if (ok) this.#loop.kick();
    return ok;
  }

  /**
   * Redrives the dead jobs of `pipeline` that match `filter` (step, time range of acceptance),
   * at most `limit` of them (default and most 1000), newest first. `more`: others are left.
   */
  async redriveDead(pipeline: string, filter: RedriveDeadFilter = {}): Promise<RedriveDeadAnswer> {
    const name = findPipeline(this.#pipelines, pipeline).name;
    const page = await this.#storage.findJobs(deadJobsQuery(name, filter));
    const ids: string[] = [];
    for (const job of page.jobs) if (await this.#storage.redrive(job.id)) ids.push(job.id);
    if (ids.length > 0) this.#loop.kick();
    return { pipeline: name, ids, more: page.next !== undefined };
  }

  /**
   * Cancels a job: one queued, delayed or waiting for a retry is `cancelled` at once; a running one
   * is marked, its worker told (here, or by the server holding its lease within a second), and
   * it ends `cancelled` when its lease ends. `final`: already finished; `missing`: no such job.
   */
  cancel(jobId: string): Promise<CancelResult> {
    return this.#cancels.cancel(jobId);
  }

  /** Forgets a finished job (its record, history and logs): `not-finished` while it may still run. */
  forget(jobId: string): Promise<DeleteResult> {
    return this.#storage.deleteJob(jobId);
  }

  list(query?: ListJobsQuery): Promise<JobRecord[]> {
    return this.#storage.listJobs(query);
  }

  /** A page of jobs, newest first, filtered (pipeline, status, step, time range, id prefix); `next` is the following page's cursor. */
  find(query: JobQuery): Promise<JobPage> {
    return this.#storage.findJobs(query);
  }

  stats(): Promise<PipelineStats[]> {
    return Promise.all(this.#pipelines.map((p) => this.#storage.getStats(p.name)));
  }

  /** Workers fed here (with their jobs in flight), then those other processes registered in storage. */
  async workers(): Promise<WorkerInfo[]> {
    const own = this.#workers.infos();
    const ids = new Set(own.map((w) => w.workerId));
    const stored = (await this.#storage.listWorkers()).filter((w) => !ids.has(w.workerId));
    return [...own, ...stored];
  }

  /** Storage answers (and still holds the store this engine started on). */
  async ready(): Promise<Readiness> {
    try {
      await this.#storage.ping();
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: `storage: ${(error as Error).message}`, code: error instanceof MarioError ? error.code : undefined };
    }
  }

  // ---- The workers' door ----------------------------------------------------------------------

  addWorker(target: DispatchTarget, policy?: StepPolicy): void {
    if (policy !== undefined) this.#policies.set(target.jobType, policy);
    if (this.#workers.add(target)) this.#events.emit("worker:added", target.workerId, target.jobType);
    this.#register(target.workerId);
    this.#loop.kick();
  }

  /** A worker was heard from (a heartbeat, a message), maybe with a new capacity or draining state. */
  heard(workerId: string, update?: WorkerUpdate): void {
    const slot = this.#workers.get(workerId);
    if (slot === undefined) return;
    if (slot.heard(Date.now(), update)) this.#loop.kick();
    if (update !== undefined) this.#register(workerId);
  }

  /** The worker takes nothing new from now on (it is shutting down); its jobs in flight go on. */
  drain(workerId: string): void {
    this.heard(workerId, { draining: true });
  }

  /** When a worker was last heard from (epoch ms), or undefined when it is not fed here. */
  lastSeen(workerId: string): number | undefined {
    return this.#workers.get(workerId)?.lastSeen;
  }

  /**
   * This process was stalled for `ms` (SIGSTOP, a long GC pause, VM steal; its timers came late):
   * that time was nobody's silence, so every worker's last heard time moves forward by it.
   */
  stalledFor(ms: number): void {
    this.#workers.credit(ms);
  }

  /**
   * Drops a worker. Its in-flight jobs go back to the front of their queue at once, as stalls,
   * not attempts: the worker was lost, or stopped with them in flight. A job past its step's
   * `maxStalls` goes dead (STALLED) when next leased.
   */
  async removeWorker(workerId: string, reason: "lost" | "shutdown", detail: string): Promise<void> {
    const slot = this.#workers.delete(workerId);
    if (slot === undefined) return;
    const flights = slot.flights();
    this.#events.emit("worker:removed", workerId, slot.target.jobType, detail);
    try {
      await this.#handBackFlights(flights, new LeaseLostError(`worker ${workerId} ${detail}`).toJobError(), "stall");
      if (flights.length > 0) this.#logger.warn("worker removed, jobs handed back as stalls", { workerId, jobs: flights.length, reason, detail });
    } finally {
      // Only this instance's entry: the worker may have re-joined (a new instance) meanwhile.
      if (slot.target.address !== undefined) await this.#storage.unregisterWorker(workerId, slot.target.instance).catch(() => {});
    }
  }

  /** Hands specific jobs back, counting neither an attempt nor a stall (a worker shutting down gracefully gives them back). */
  async handBack(workerId: string, jobIds: readonly string[]): Promise<void> {
    const slot = this.#workers.get(workerId);
    if (slot === undefined) return;
    const flights = jobIds.flatMap((jobId) => slot.take(jobId) ?? []);
    await this.#handBackFlights(flights, new ShutdownError(`worker ${workerId} handed the job back`).toJobError(), "untried");
  }

  /** Hands jobs in flight back to their queue (as stalls, or untried), then looks for work. */
  async #handBackFlights(flights: readonly InFlight[], reason: JobError, kind: "stall" | "untried"): Promise<void> {
    try {
      if (flights.length > 0) await this.#storage.releaseLeases(flights.map(({ delivery: d }) => ({ pipeline: d.pipeline, jobId: d.jobId, token: d.token })), reason, kind);
    } finally {
      this.#loop.kick();
    }
  }

  /** True when `workerId` holds the lease `token` of `jobId` (handed to it here). */
  holds(workerId: string, jobId: string, token: string): boolean {
    return this.#workers.get(workerId)?.holds(jobId, token) === true;
  }

  /** True when some worker fed here holds a lease of `jobId`. */
  isLeasedHere(jobId: string): boolean {
    return this.#workers.anyHolds(jobId);
  }

  /** True when `workerId` is fed here. */
  hasWorker(workerId: string): boolean {
    return this.#workers.get(workerId) !== undefined;
  }

  /**
   * Takes back the jobs `workerId` holds whose result is overdue (their timeout plus
   * `rules.graceMs`): the worker keeps the connection but does not answer. They go back to their
   * queue as stalls, not attempts (the worker failed, not the job). After `rules.after` such
   * deliveries in a row, the worker is quarantined for `rules.forMs` (no new jobs; listed with
   * `quarantinedUntil`) and every job it holds goes back too, as a stall as well (issue #14:
   * lost, quarantined or shut down with it, a job counts a stall, never an attempt). Answers how
   * many and whether it was quarantined now.
   */
  async takeOverdue(workerId: string, rules: QuarantineRules, now = Date.now()): Promise<{ jobs: number; quarantined: boolean }> {
    const slot = this.#workers.get(workerId);
    if (slot === undefined) return { jobs: 0, quarantined: false };
    const { flights, quarantined } = slot.takeOverdue(now, rules);
    if (quarantined) this.#register(workerId);
    if (flights.length === 0) return { jobs: 0, quarantined };
    const why = quarantined ? `worker ${workerId} is quarantined: its deliveries kept going unanswered` : `worker ${workerId} sent no result in time`;
    // Overdue or quarantined: the worker stopped answering with the job in flight, a stall
    // (the job goes dead only past its step's maxStalls), never an attempt.
    await this.#handBackFlights(flights, new LeaseLostError(why).toJobError(), "stall");
    return { jobs: flights.length, quarantined };
  }

  /**
   * Outcomes reported by workers. Resolves once they are durably settled (then ack the worker).
   * The worker's capacity is freed at once (it has finished those attempts), so the next jobs
   * are leased while the outcomes are being settled, not after.
   */
  report(outcomes: readonly StepOutcome[]): Promise<void> {
    if (outcomes.length === 0) return Promise.resolve();
    const lost = outcomes.filter((o) => !o.ok && o.error.code === ERROR_CODES.ATTEMPT_LOST);
    if (lost.length > 0) return Promise.all([this.#handBackLost(lost), this.report(outcomes.filter((o) => !lost.includes(o)))]).then(() => {});
    const done = this.#settler.settle(outcomes.map((outcome) => ({ outcome, flight: this.#answered(outcome) })));
    this.#loop.kick();
    return done;
  }

  /** The delivery `outcome` answers, taken off its worker (which answered: its unanswered count starts again). */
  #answered(outcome: StepOutcome): InFlight | undefined {
    const slot = this.#workers.get(outcome.workerId);
    slot?.answered();
    return slot?.take(outcome.jobId, outcome.token);
  }

  /**
   * Attempts a worker lost through no fault of their own (ATTEMPT_LOST: the thread they shared was
   * terminated for another attempt, or crashed): their jobs go back to the front of their queue
   * as stalls, not attempts (bounded by the step's `maxStalls`). A lease not handed out here is
   * left to expire.
   */
  async #handBackLost(outcomes: readonly StepOutcome[]): Promise<void> {
    const byReason = new Map<string, { reason: JobError; flights: InFlight[] }>();
    for (const outcome of outcomes) {
      const flight = this.#answered(outcome);
      if (flight === undefined || outcome.ok) continue;
      const group = byReason.get(outcome.error.message) ?? { reason: outcome.error, flights: [] };
      group.flights.push(flight);
      byReason.set(outcome.error.message, group);
    }
    for (const { reason, flights } of byReason.values()) {
      await this.#handBackFlights(flights, reason, "stall");
      this.#logger.warn("attempts lost with their thread, jobs handed back as stalls", { jobs: flights.length, reason: reason.message });
    }
  }

  /** Lines running attempts wrote, told to listeners as they come (`job:log`); they are kept with the outcome. */
  logLines(reports: readonly LogReport[]): void {
    if (!this.#events.hasListeners("job:log")) return;
    for (const report of reports) {
      const flight = this.#workers.flightOf(report.jobId, report.token);
      if (flight === undefined) continue;
      const d = flight.delivery;
      this.#events.emit("job:log", { jobId: d.jobId, pipeline: d.pipeline, jobType: d.jobType, attempt: d.attempt, line: report.line });
    }
  }

  progress(reports: readonly ProgressReport[]): void {
    for (const report of reports) {
      if (!this.#pipelines.some((p) => p.name === report.pipeline)) continue;
      this.#storage.setProgress(report, report.fraction, report.message).catch((error: unknown) => {
        this.#logger.debug("progress not stored", { jobId: report.jobId, error: String(error) });
      });
    }
  }

  /** Registers a worker with an address (one other processes can see) in storage; best effort. */
  #register(workerId: string): void {
    const slot = this.#workers.get(workerId);
    if (slot?.target.address === undefined) return;
    this.#storage.registerWorker(slot.info()).catch((error: unknown) => this.#logger.debug("worker not registered in storage", { error: String(error) }));
  }

  /**
   * Asks storage whether it still holds the store this dispatcher started on. Once it says lost
   * (Redis emptied or replaced), dispatching stops for good: leasing from an empty store would
   * go on as if no job had existed. Other failures are left to the calls that follow.
   */
  async #storageIntact(): Promise<boolean> {
    if (this.#lost !== undefined) return false;
    try {
      await this.#storage.ping();
    } catch (error) {
      if (!(error instanceof StorageLostError)) return true;
      this.#lost = error;
      this.#logger.error("storage lost: dispatching stopped", { reason: error.message });
      await this.pause();
      return false;
    }
    return true;
  }

  #reclaim(): void {
    void (async () => {
      if (!(await this.#storageIntact())) return;
      let reclaimed = 0;
      for (const pipeline of this.#pipelines) reclaimed += await this.#storage.reclaimExpired(pipeline.name);
      await this.#cancels.sweep((name) => this.#pipelines.some((p) => p.name === name));
      if (reclaimed > 0) {
        this.#logger.warn("expired leases reclaimed", { jobs: reclaimed });
        this.#loop.kick();
      }
    })().catch((error: unknown) => this.#logger.error("reclaim failed", { error: String(error) }));
  }

  #indexPipelines(): void {
    const byType = new Map<string, string[]>();
    for (const pipeline of this.#pipelines) {
      for (const step of new Set(pipeline.steps)) {
        const list = byType.get(step) ?? [];
        list.push(pipeline.name);
        byType.set(step, list);
      }
    }
    this.#pipelinesByType = byType;
  }
}

/** A refused enqueue's error: Mario's own, or storage trouble (a driver's error never travels on). */
function refusal(error: unknown): MarioError {
  return error instanceof MarioError ? error : new StorageUnavailableError(String(error), { cause: error });
}

/** The error of an enqueue whose storage call failed. */
function storageRefusal(error: unknown): MarioError {
  const failure = refusal(error);
  return errorFromCode(failure.code, `storage failed: ${failure.message}`, { cause: error });
}
