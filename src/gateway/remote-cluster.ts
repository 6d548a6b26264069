/**
 * The Cluster view of pipeline servers running elsewhere (what `mario gateway` serves): enqueues
 * go to each pipeline's server through its job intake (a `PipelineClient`, or a `FailoverIntake`
 * over several servers), and so do cancels; everything else is read from the storage the servers share (Redis).
 * Routes are fixed (a list) or found as servers come and go (a `RouteSource`, e.g.
 * `DiscoveredRoutes` reading the Redis registry of servers).
 *
 * ```ts
 * const client = new PipelineClient("tcp://127.0.0.1:5050");
 * await client.connect();
 * const storage = new RedisStorageBackend("example-one", { redisUri });
 * const cluster = new RemoteCluster([{ pipeline: { name: "example-one", steps: ["a", "b"] }, intake: client, storage }]);
 * await cluster.connect();
 * const app = createGatewayApp(cluster);
 * ```
 *
 * Live events: only `job:accepted` for jobs enqueued through this gateway; progress elsewhere is
 * seen by reading storage (stats, job records; the dashboard's throughput from the counters' growth).
 */
import { BusyError } from "../core/errors/busy-error.ts";
import { errorFromCode } from "../core/errors/error-from-code.ts";
import { WaitTimeoutError } from "../core/errors/wait-timeout-error.ts";
import { checkInstructions, type EnqueueOptions } from "../core/enqueue-rules.ts";
import { deadJobsQuery, type RedriveDeadAnswer, type RedriveDeadFilter, type RedriveOptions } from "../core/redrive-rules.ts";
import { isFinal, type JobRecord } from "../core/job.ts";
import { encodeCursor, pageLimit, pageOf } from "../storage/job-query.ts";
import { findPipeline, type PipelineDefinition } from "../core/pipeline-definition.ts";
import { TypedEmitter } from "../core/typed-emitter.ts";
import type { Cluster, ClusterEnqueueOutcome, ClusterEvents, ClusterRunOptions, ClusterRunOutcome, Readiness } from "../engine/cluster.ts";
import { scheduleViews, type ScheduleView } from "../engine/schedule-views.ts";

import type { CancelResult, DeleteResult, JobPage, JobQuery, ListJobsQuery, PipelineStats, StorageBackend, WorkerInfo } from "../storage/storage-backend.ts";
import type { CancelAnswer, EnqueueJobRequest, EnqueueJobResult, RunJobAnswer, RunJobRequest } from "../transport/pipeline-client.ts";
import { NoAnswerError } from "../core/errors/no-answer-error.ts";
import { newId } from "../core/ids.ts";
import { CLIENT_KEY_PREFIX } from "../transport/_client-requests.ts";

/** What the cluster needs of a pipeline server's client: `PipelineClient` fits. */
export interface JobIntake {
  readonly address?: string;
  enqueueJob(request: EnqueueJobRequest): Promise<EnqueueJobResult>;
  /** The job's final record, answered by the server once it is (WaitTimeoutError when not within `timeoutMs`). */
  waitFor(jobId: string, options: { timeoutMs?: number }): Promise<JobRecord>;
  /** Resolves when the server answers, rejects when it does not (for `ready()`). */
  probe?(): Promise<void>;
  /** Cancels a job on its server (which tells the worker holding its lease). */
  cancel?(jobId: string): Promise<CancelAnswer>;
  /** Enqueues and waits as one request (`PipelineClient.runJob`); without it, `?wait` enqueues, then waits. */
  runJob?(request: RunJobRequest): Promise<RunJobAnswer>;
}

export interface RemotePipeline {
  pipeline: PipelineDefinition;
  intake: JobIntake;
  /** Storage the pipeline's server writes to; several pipelines may share one. */
  storage: StorageBackend;
}

/** Routes that may change while the cluster runs (servers found in a registry). */
export interface RouteSource {
  routes(): readonly RemotePipeline[];
  /** Starts finding routes; the routes known once it resolves are served at once. */
  connect(): Promise<void>;
  close(): Promise<void>;
  /** Whether the routes can be served (e.g. every pipeline has a live server). */
  ready?(): Promise<Readiness>;
}

/** A fixed list of routes: their storages are connected and told their pipelines once. */
function fixedRoutes(routes: readonly RemotePipeline[]): RouteSource {
  const storages = [...new Set(routes.map((r) => r.storage))];
  return {
    routes: () => routes,
    async connect() {
      for (const storage of storages) {
        await storage.connect();
        await storage.initialize(routes.filter((r) => r.storage === storage).map((r) => r.pipeline));
      }
    },
    async close() {
      await Promise.all(storages.map((s) => s.close()));
    },
  };
}

export interface RemoteClusterOptions {
  /** @deprecated Not read: a wait is answered by the pipeline server (a `wait` request), not polled. */
  pollMs?: number | undefined;
}

export class RemoteCluster implements Cluster {
  readonly events = new TypedEmitter<ClusterEvents>();
  readonly reportsSteps = false;
  readonly #source: RouteSource;
  #seen: readonly RemotePipeline[] | undefined;
  #byName = new Map<string, RemotePipeline>();
  #storageList: StorageBackend[] = [];

  constructor(routes: readonly RemotePipeline[] | RouteSource, _options: RemoteClusterOptions = {}) {
    this.#source = isRouteSource(routes) ? routes : fixedRoutes(routes);
  }

  /** Connects every storage and declares the pipelines it holds (needed for stats). */
  async connect(): Promise<void> {
    await this.#source.connect();
  }

  async close(): Promise<void> {
    await this.#source.close();
  }

  /** The routes by name, rebuilt only when the source's list changes. */
  get #routes(): Map<string, RemotePipeline> {
    this.#sync();
    return this.#byName;
  }

  get #storages(): StorageBackend[] {
    this.#sync();
    return this.#storageList;
  }

  #sync(): void {
    const routes = this.#source.routes();
    if (routes === this.#seen) return;
    this.#seen = routes;
    this.#byName = new Map(routes.map((r) => [r.pipeline.name, r]));
    this.#storageList = [...new Set(routes.map((r) => r.storage))];
  }

  pipelines(): readonly PipelineDefinition[] {
    return [...this.#routes.values()].map((r) => r.pipeline);
  }

  async enqueue(pipeline: string, instructions: unknown, options: EnqueueOptions = {}): Promise<ClusterEnqueueOutcome> {
    // The rules of a job (instructions, depth, idempotency key, delay, priority) are the server's engine's: its answer says.
    const route = this.#route(pipeline);
    const { idempotencyKey, delayMs, runAt, priority } = options;
    const [ok, payload] = await route.intake.enqueueJob({ name: pipeline, instructions, idempotencyKey, delayMs, runAt, priority });
    if (ok) {
      const { duplicate, ...job } = payload;
      if (duplicate !== true) this.events.emit("job:accepted", { jobId: job.id, pipeline: job.pipeline });
      return { status: duplicate === true ? "duplicate" : "created", job };
    }
    const error = errorFromCode(payload.code, payload.message);
    if (error instanceof BusyError) return { status: "busy" };
    // The server's own code (UNKNOWN_PIPELINE, INVALID_INSTRUCTIONS, STORAGE_UNAVAILABLE, …) maps to HTTP as usual.
    throw error;
  }

  /**
   * Enqueue and wait as one request to the pipeline's server (`runs`), when its intake can;
   * else enqueue, then wait. When `signal` aborts first, the job's record as storage has it.
   */
  async run(pipeline: string, instructions: unknown, options: ClusterRunOptions): Promise<ClusterRunOutcome> {
    const route = this.#route(pipeline);
    if (route.intake.runJob === undefined || options.signal?.aborted === true) return this.#enqueueThenWait(pipeline, instructions, options);
    const { waitMs, signal, delayMs, runAt, priority } = options;
    // A key of ours when the caller gave none: it names the job if the wait is cut short.
    const idempotencyKey = options.idempotencyKey ?? `${CLIENT_KEY_PREFIX}${newId()}`;
    const running = route.intake.runJob({ name: pipeline, instructions, idempotencyKey, delayMs, runAt, priority, timeoutMs: waitMs });
    const answer = await untilAborted(running, signal);
    if (answer === undefined) {
      // Shutting down: the run goes on at the server; answer the job as storage has it now.
      running.catch(() => {});
      const now = await this.#enqueueThenWait(pipeline, instructions, { ...options, idempotencyKey, waitMs: 0, signal: undefined });
      return now.status === "duplicate" && options.idempotencyKey === undefined ? { ...now, status: "created" } : now;
    }
    if (answer.status === "refused") {
      const error = errorFromCode(answer.error.code, answer.error.message);
      if (error instanceof BusyError) return { status: "busy" };
      throw error;
    }
    if (!answer.duplicate) this.events.emit("job:accepted", { jobId: answer.job.id, pipeline: answer.job.pipeline });
    return { status: answer.duplicate ? "duplicate" : "created", job: answer.job };
  }

  async #enqueueThenWait(pipeline: string, instructions: unknown, options: ClusterRunOptions): Promise<ClusterRunOutcome> {
    const { waitMs, signal, ...enqueue } = options;
    const outcome = await this.enqueue(pipeline, instructions, enqueue);
    if (outcome.status === "busy") return outcome;
    const job = (await this.waitFor(outcome.job.id, waitMs, signal)) ?? (await this.getJob(outcome.job.id));
    return { status: outcome.status, job: job ?? (outcome.job as JobRecord) };
  }

  async getJob(jobId: string): Promise<JobRecord | undefined> {
    for (const storage of this.#storages) {
      const job = await storage.getJob(jobId);
      if (job !== undefined) return job;
    }
    return undefined;
  }

  /** Waits on the job's pipeline server (its `wait` reply, woken by the engine's events), not by polling. */
  async waitFor(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    const job = await this.getJob(jobId);
    const route = job === undefined ? undefined : this.#routes.get(job.pipeline);
    if (job === undefined || route === undefined || isFinal(job.status) || signal?.aborted === true) return job;
    const waiting = route.intake.waitFor(jobId, { timeoutMs });
    try {
      return (await untilAborted(waiting, signal)) ?? (await this.getJob(jobId));
    } catch (error) {
      if (error instanceof WaitTimeoutError) return this.getJob(jobId);
      throw error;
    }
  }

  async redrive(jobId: string, options: RedriveOptions = {}): Promise<boolean> {
    // The same rule as the engine's (core/enqueue-rules.ts) for what a retry may carry.
    const input = options.input === undefined ? undefined : checkInstructions(options.input, `new instructions for job ${jobId}`);
    for (const storage of this.#storages) {
      if (await storage.redrive(jobId, input === undefined ? {} : { input })) return true;
    }
    return false;
  }

  async redriveDead(pipeline: string, filter: RedriveDeadFilter = {}): Promise<RedriveDeadAnswer> {
    const route = this.#route(pipeline);
    const name = route.pipeline.name;
    const page = await route.storage.findJobs(deadJobsQuery(name, filter));
    const ids: string[] = [];
    for (const job of page.jobs) if (await route.storage.redrive(job.id)) ids.push(job.id);
    return { pipeline: name, ids, more: page.next !== undefined };
  }

  /**
   * Through the job's pipeline server (it tells the worker holding the lease at once, or the
   * server that holds it learns within a second); straight in storage when no server answers
   * (the lease holder reads it there all the same).
   */
  async cancel(jobId: string): Promise<CancelResult> {
    const job = await this.getJob(jobId);
    const route = job === undefined ? undefined : this.#routes.get(job.pipeline);
    if (job === undefined || route === undefined) return { status: "missing" };
    if (route.intake.cancel !== undefined && !isFinal(job.status)) {
      try {
        return await route.intake.cancel(jobId);
      } catch (error) {
        if (!(error instanceof NoAnswerError)) throw error;
      }
    }
    return route.storage.cancel(jobId);
  }

  async deleteJob(jobId: string): Promise<DeleteResult> {
    for (const storage of this.#storages) {
      const result = await storage.deleteJob(jobId);
      if (result !== "missing") return result;
    }
    return "missing";
  }

  /** Each storage's page after the cursor, merged: the first `limit` of them, newest first. */
  async findJobs(query: JobQuery): Promise<JobPage> {
    const limit = pageLimit(query);
    const storages = query.pipeline === undefined ? this.#storages : [this.#route(query.pipeline).storage];
    const pages = await Promise.all(storages.map((s) => s.findJobs({ ...query, limit })));
    const known = new Set(this.#routes.keys());
    const merged = pageOf(pages.flatMap((p) => p.jobs).filter((j) => known.has(j.pipeline)), limit);
    const last = merged.jobs.at(-1);
    const more = merged.next !== undefined || pages.some((p) => p.next !== undefined);
    return more && last !== undefined ? { jobs: merged.jobs, next: encodeCursor(last) } : { jobs: merged.jobs };
  }

  async listJobs(query: ListJobsQuery = {}): Promise<JobRecord[]> {
    const limit = Math.min(1000, Math.max(1, query.limit ?? 50));
    const storages = query.pipeline === undefined ? this.#storages : [this.#route(query.pipeline).storage];
    const lists = await Promise.all(storages.map((s) => s.listJobs({ ...query, limit })));
    const known = new Set(this.#routes.keys());
    return lists.flat().filter((j) => known.has(j.pipeline)).sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  stats(): Promise<PipelineStats[]> {
    return Promise.all([...this.#routes.values()].map((r) => r.storage.getStats(r.pipeline.name)));
  }

  async workers(): Promise<WorkerInfo[]> {
    const byId = new Map<string, WorkerInfo>();
    for (const list of await Promise.all(this.#storages.map((s) => s.listWorkers()))) {
      for (const worker of list) byId.set(worker.workerId, worker);
    }
    return [...byId.values()];
  }

  /** The schedules the servers stored for the pipelines served here (the gateway has no project: storage has their definitions). */
  async schedules(): Promise<ScheduleView[]> {
    const routes = [...this.#routes.values()];
    const now = Date.now();
    const lists = await Promise.all(this.#storages.map(async (storage) => {
      const states = await storage.schedules.list(routes.filter((r) => r.storage === storage).map((r) => r.pipeline.name));
      return scheduleViews(states, now, (ids, pipeline) => storage.getJobs(ids, pipeline));
    }));
    return lists.flat();
  }

  /** Storage answers, and every pipeline server answers its probe. */
  async ready(): Promise<Readiness> {
    try {
      await Promise.all(this.#storages.map((s) => s.ping()));
    } catch (error) {
      return { ok: false, reason: `storage: ${(error as Error).message}`, code: (error as { code?: string }).code };
    }
    if (this.#source.ready !== undefined) {
      const found = await this.#source.ready();
      if (!found.ok) return found;
    }
    const intakes = [...new Set([...this.#routes.values()].map((r) => r.intake))];
    const probes = await Promise.allSettled(intakes.map((i) => (i.probe === undefined ? Promise.resolve() : i.probe())));
    const failed = probes.findIndex((p) => p.status === "rejected");
    if (failed < 0) return { ok: true };
    const reason = (probes[failed] as PromiseRejectedResult).reason;
    return { ok: false, reason: `pipeline link ${intakes[failed]?.address ?? ""}: ${reason instanceof Error ? reason.message : String(reason)}` };
  }

  #route(pipeline: string): RemotePipeline {
    const route = this.#routes.get(pipeline);
    if (route === undefined) findPipeline(this.pipelines(), pipeline);
    return route!;
  }
}

function isRouteSource(value: readonly RemotePipeline[] | RouteSource): value is RouteSource {
  return !Array.isArray(value);
}

/** The promise's value, or undefined as soon as `signal` aborts. */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (signal === undefined) return promise;
  let onAbort = (): void => {};
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
