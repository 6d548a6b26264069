/**
 * Redis storage: jobs survive the process and are shared by every dispatcher on the same Redis.
 * Every state change is one Lua script (`./lua`), called through `./scripts.ts`; key names are
 * made in `./keys.ts`, each pipeline's keys under its `{pipeline}` hash tag (Redis Cluster ready).
 *
 * ```ts
 * const storage = new RedisStorageBackend("example", { redisUri: "redis://127.0.0.1:6379" });
 * await storage.connect();
 * await storage.initialize([{ name: "example-one", steps: ["generate-file", "delete-file"] }]);
 * ```
 *
 * The engine names the pipeline of every job it settles, releases or reports progress of (it
 * travels with the lease); only a read by id alone (`GET /jobs/:id`, retry) looks in every
 * pipeline of the namespace's registry, in one round trip.
 */
import { LeaseLostError } from "../../core/errors/lease-lost-error.ts";
import { StorageUnavailableError } from "../../core/errors/storage-unavailable-error.ts";
import { UnknownPipelineError } from "../../core/errors/unknown-pipeline-error.ts";
import type { Instructions, JobError, JobRecord } from "../../core/job.ts";
import type { PipelineDefinition } from "../../core/pipeline-definition.ts";
import {
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_FINISHED,
  DEFAULT_MAX_QUEUED,
  DEFAULT_WORKER_TTL_MS,
  mostFreeWorker,
  type CancelResult,
  type DeleteResult,
  type EnqueueOutcome,
  type EnqueueRequest,
  type JobPage,
  type JobQuery,
  type Lease,
  type LeaseRef,
  type ListJobsQuery,
  type PipelineStats,
  type ReleaseKind,
  type Settlement,
  type SettleResult,
  type StorageBackend,
  type StorageOptions,
  type WorkerInfo,
} from "../storage-backend.ts";
import { silentLogger, type Logger } from "../../log/logger.ts";
import { connectClient, createClient, DEFAULT_REDIS_URI, redactUri, storageError, type RedisClient } from "./connection.ts";
import { checkRedisSafety } from "./safety-checks.ts";
import { StoreEpoch } from "./_store-epoch.ts";
import { decodeLeased, leasedId } from "./job-codec.ts";
import { probeJobs, readInputs } from "./redis-job-reads.ts";
import { enqueueJobs } from "./redis-enqueue.ts";
import { type PipelineKeys, RedisKeys } from "./keys.ts";
import { findJobs } from "./redis-find-jobs.ts";
import { RedisScheduleStore } from "./redis-schedules.ts";
import { mergeNewestFirst, readRecentJobs, readStats } from "./redis-reads.ts";
import { Scripts, type SettleBatch, settleArgs } from "./scripts.ts";
import { leaseLimited } from "./redis-limited-lease.ts";
import type { LeaseLimits } from "../../core/step-limits.ts";

export interface RedisStorageOptions extends StorageOptions {
  /** Default `redis://127.0.0.1:6379`. */
  redisUri?: string | undefined;
  /** First segment of every key. Default `"mario"`. */
  keyPrefix?: string | undefined;
  /** An ioredis client to use instead of making one. Its owner connects and closes it. */
  client?: RedisClient | undefined;
  /** How long `connect()` waits for Redis. Default 2000 ms. */
  connectTimeoutMs?: number | undefined;
  /** Rejects a command without an answer after this long, ms (STORAGE_UNAVAILABLE). Default 1000; 0: no limit. */
  commandTimeoutMs?: number | undefined;
  /** Run on an evicting `maxmemory-policy` (refused by default: evicted jobs vanish). Default false. */
  allowEviction?: boolean | undefined;
  /** Where the start checks' warnings and a lost store are told. Default: nowhere. */
  logger?: Logger | undefined;
}

/** Most settlements per script call, so one call never blocks Redis for long. */
const BATCH_CHUNK = 500;
const RECLAIM_LIMIT = 1000;
const LEASE_LOST: JobError = new LeaseLostError("lease expired before the attempt was acknowledged").toJobError();

export class RedisStorageBackend implements StorageBackend {
  readonly schedules: RedisScheduleStore;
  readonly #uri: string;
  readonly #keys: RedisKeys;
  readonly #client: RedisClient;
  readonly #ownsClient: boolean;
  readonly #scripts: Scripts;
  readonly #connectTimeoutMs: number;
  readonly #maxQueued: number;
  readonly #maxFinished: number;
  readonly #maxAgeMs: number;
  readonly #workerTtlMs: number;
  readonly #definitions = new Map<string, PipelineDefinition>();
  /** Pipelines stored under this namespace (the registry, as last read, plus our own). */
  #stored = new Set<string>();
  readonly #allowEviction: boolean;
  readonly #logger: Logger;
  readonly #epoch: StoreEpoch;
  #checked = false;

  constructor(namespace: string, options: RedisStorageOptions = {}) {
    this.#uri = options.redisUri ?? DEFAULT_REDIS_URI;
    this.#keys = new RedisKeys(options.keyPrefix ?? "mario", namespace);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? createClient(this.#uri, { connectTimeoutMs: this.#connectTimeoutMs, commandTimeoutMs: options.commandTimeoutMs });
    // Connection errors surface as rejected calls; the event only needs a listener.
    if (this.#ownsClient) this.#client.on("error", () => {});
    this.#scripts = new Scripts(this.#client);
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.#maxFinished = options.retention?.maxFinished ?? DEFAULT_MAX_FINISHED;
    this.#maxAgeMs = options.retention?.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    this.#workerTtlMs = options.workerTtlMs ?? DEFAULT_WORKER_TTL_MS;
    this.#allowEviction = options.allowEviction ?? false;
    this.#logger = options.logger ?? silentLogger;
    this.#epoch = new StoreEpoch(this.#client, this.#scripts, `Redis at ${redactUri(this.#uri)}`, this.#logger);
    this.schedules = new RedisScheduleStore({ client: this.#client, keys: this.#keys, scripts: this.#scripts, io: (work) => this.#io(work) });
    // Every reconnect reads the store epochs again: a Redis restarted empty is noticed at once.
    this.#client.on("ready", () => {
      this.#epoch.verify().catch((error: unknown) => this.#logger.debug("store epoch not checked on reconnect", { error: String(error) }));
    });
  }

  async connect(): Promise<void> {
    const client = this.#client;
    if (client.status !== "ready") await connectClient(client, this.#uri, this.#ownsClient, this.#connectTimeoutMs);
    if (this.#checked) return;
    try {
      await checkRedisSafety(client, { uri: this.#uri, allowEviction: this.#allowEviction, logger: this.#logger });
      this.#checked = true;
    } catch (error) {
      if (this.#ownsClient) client.disconnect();
      throw error;
    }
  }

  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    // QUIT when connected (Redis answers what was sent before it); otherwise, or when QUIT fails, drop the connection.
    if (this.#client.status === "ready") await this.#client.quit().catch(() => this.#client.disconnect());
    else this.#client.disconnect();
  }

  /** Also reads the store epochs: throws StorageLostError once Redis was emptied or replaced. */
  async ping(): Promise<void> {
    await this.#io(() => this.#client.ping());
    await this.#io(() => this.#epoch.verify());
    this.#epoch.assert();
  }

  async initialize(pipelines: readonly PipelineDefinition[]): Promise<void> {
    for (const definition of pipelines) this.#definitions.set(definition.name, definition);
    if (pipelines.length === 0) return;
    await this.#io(() => this.#client.sadd(this.#keys.pipelines, ...pipelines.map((p) => p.name)));
    await this.#io(() => this.#epoch.claim(pipelines.map((p) => ({ name: p.name, keys: this.#keys.pipeline(p.name) }))));
    await this.#refreshRegistry();
  }

  async enqueueJob(request: EnqueueRequest): Promise<EnqueueOutcome> {
    return (await this.enqueueJobs([request]))[0]!;
  }

  async enqueueJobs(requests: readonly EnqueueRequest[]): Promise<EnqueueOutcome[]> {
    this.#epoch.assert();
    return enqueueJobs({
      scripts: this.#scripts,
      maxQueued: this.#maxQueued,
      keysFor: (request) => {
        const keys = this.#pipelineKeys(request.pipeline);
        if (request.route.length === 0) throw new UnknownPipelineError(request.pipeline, [...this.#definitions.keys()]);
        return keys;
      },
      io: (work) => this.#io(work),
    }, requests);
  }

  async leaseNext(pipeline: string, jobType: string, count: number, leaseMs: number, workerId?: string, limits?: LeaseLimits): Promise<Lease[]> {
    this.#epoch.assert();
    const keys = this.#pipelineKeys(pipeline);
    const n = Math.max(0, Math.floor(count));
    const ms = Math.max(0, Math.round(leaseMs));
    const replies = await this.#io(() =>
      limits === undefined
        ? this.#scripts.leaseNext(keys, keys.queuePrefix + jobType, n, ms, workerId ?? "")
        : leaseLimited(this.#scripts, keys, jobType, n, ms, workerId ?? "", limits),
    );
    // Big inputs are not in the lease's reply: read apart, in one round trip (none when all are small).
    const apart = replies.filter((reply) => reply[4] === "");
    const inputs = apart.length === 0 ? [] : await this.#io(() => readInputs(this.#client, keys, apart.map(leasedId)));
    let next = 0;
    return replies.map((reply) => {
      const job = decodeLeased(reply, reply[4] === "" ? inputs[next++]! : reply[4]);
      return { job, token: reply[0], attempt: job.attempts, expiresAt: job.leaseExpiresAt ?? 0 };
    });
  }

  async consumeJobOfType(pipeline: string, jobType: string, leaseMs = 30_000): Promise<Lease | undefined> {
    const [lease] = await this.leaseNext(pipeline, jobType, 1, leaseMs);
    return lease;
  }

  async settle(settlements: readonly Settlement[]): Promise<SettleResult[]> {
    const results = new Array<SettleResult>(settlements.length).fill("stale");
    if (settlements.length === 0) return results;
    this.#epoch.assert();
    const list: (SettleBatch & { positions: number[] })[] = [];
    const batches = new Map<string, (typeof list)[number]>();
    settlements.forEach((settlement, position) => {
      const pipeline = settlement.pipeline;
      let batch = batches.get(pipeline);
      if (batch === undefined || batch.positions.length >= BATCH_CHUNK) {
        batch = { keys: this.#pipelineKeys(pipeline), args: [], maxFinished: this.#maxFinished, maxAgeMs: this.#maxAgeMs, positions: [] };
        batches.set(pipeline, batch);
        list.push(batch);
      }
      settleArgs(settlement, batch.args);
      batch.positions.push(position);
    });
    const outcomes = await this.#io(() => this.#scripts.settle(list));
    list.forEach((batch, b) => {
      outcomes[b]!.forEach((outcome, i) => {
        if (outcome === "ok" || outcome === "cancelled") results[batch.positions[i]!] = outcome;
      });
    });
    return results;
  }

  async releaseLeases(leases: readonly LeaseRef[], reason: JobError, kind: ReleaseKind): Promise<number> {
    if (leases.length === 0) return 0;
    this.#epoch.assert();
    const groups = new Map<string, [string, string][]>();
    for (const { pipeline, jobId, token } of leases) {
      const group = groups.get(pipeline) ?? [];
      group.push([jobId, token]);
      groups.set(pipeline, group);
    }
    const reasonText = JSON.stringify(reason);
    const counts = await this.#io(() =>
      Promise.all([...groups].map(([pipeline, pairs]) => this.#scripts.release(this.#pipelineKeys(pipeline), reasonText, kind, pairs))),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async reclaimExpired(pipeline: string): Promise<number> {
    this.#epoch.assert();
    const keys = this.#pipelineKeys(pipeline);
    return this.#io(() => this.#scripts.reclaim(keys, JSON.stringify(LEASE_LOST), RECLAIM_LIMIT));
  }

  async redrive(jobId: string, options: { input?: Instructions | undefined } = {}): Promise<boolean> {
    const job = await this.getJob(jobId);
    if (job === undefined) return false;
    const keys = this.#keys.pipeline(job.pipeline);
    const input = options.input === undefined ? undefined : JSON.stringify(options.input);
    return (await this.#io(() => this.#scripts.redrive(keys, jobId, input))) === "ok";
  }

  async deleteJob(jobId: string): Promise<DeleteResult> {
    const job = await this.getJob(jobId);
    if (job === undefined) return "missing";
    const keys = this.#keys.pipeline(job.pipeline);
    const outcome = await this.#io(() => this.#scripts.deleteJob(keys, jobId));
    return outcome === "ok" ? "deleted" : outcome === "missing" ? "missing" : "not-finished";
  }

  async cancel(jobId: string): Promise<CancelResult> {
    this.#epoch.assert();
    const job = await this.getJob(jobId);
    if (job === undefined) return { status: "missing" };
    return this.#io(() => this.#scripts.cancel(this.#keys.pipeline(job.pipeline), jobId, this.#maxFinished, this.#maxAgeMs));
  }

  async cancelRequested(pipeline: string, jobIds: readonly string[]): Promise<string[]> {
    if (jobIds.length === 0) return [];
    return this.#io(() => this.#scripts.cancelRequested(this.#pipelineKeys(pipeline), jobIds));
  }

  async findJobs(query: JobQuery): Promise<JobPage> {
    if (query.pipeline === undefined) await this.#refreshRegistry();
    const names = query.pipeline === undefined ? [...this.#stored] : [query.pipeline];
    const pipelines = names.map((name) => ({ name, keys: this.#keys.pipeline(name) }));
    return this.#io(() => findJobs(this.#client, pipelines, query));
  }

  async setProgress({ pipeline, jobId, token }: LeaseRef, fraction: number, message?: string): Promise<void> {
    const progress = JSON.stringify({ fraction: Math.min(1, Math.max(0, fraction)), ...(message === undefined ? {} : { message }) });
    const keys = this.#pipelineKeys(pipeline);
    await this.#io(() => this.#scripts.setProgress(keys, jobId, token, progress));
  }

  async getJob(jobId: string): Promise<JobRecord | undefined> {
    return (await this.getJobs([jobId]))[0];
  }

  async getJobs(jobIds: readonly string[], pipeline?: string): Promise<(JobRecord | undefined)[]> {
    const found = await this.#find(jobIds, pipeline);
    return jobIds.map((id) => found.get(id));
  }

  async finalOrGone(pipeline: string, jobIds: readonly string[]): Promise<boolean[]> {
    if (jobIds.length === 0) return [];
    if (!this.#definitions.has(pipeline)) return jobIds.map(() => true);
    return this.#io(() => this.#scripts.finalOrGone(this.#pipelineKeys(pipeline), jobIds));
  }

  async listJobs(query: ListJobsQuery = {}): Promise<JobRecord[]> {
    const limit = Math.min(1000, Math.max(1, query.limit ?? 50));
    if (query.pipeline === undefined) await this.#refreshRegistry();
    const pipelines = query.pipeline === undefined ? [...this.#stored] : [query.pipeline];
    const lists = await this.#io(() =>
      Promise.all(pipelines.map((p) => readRecentJobs(this.#client, this.#keys.pipeline(p), limit, query.status))),
    );
    return mergeNewestFirst(lists, limit);
  }

  async getStats(pipeline: string): Promise<PipelineStats> {
    const keys = this.#pipelineKeys(pipeline);
    const steps = this.#definitions.get(pipeline)!.steps;
    return this.#io(() => readStats(this.#client, pipeline, keys, steps));
  }

  async registerWorker(worker: WorkerInfo): Promise<void> {
    const k = this.#keys;
    await this.#io(() => this.#scripts.registerWorker(k.workers, k.workersSeen, worker.workerId, JSON.stringify(worker), worker.lastSeen));
  }

  async unregisterWorker(workerId: string, instance?: string): Promise<void> {
    await this.#io(() => this.#scripts.unregisterWorker(this.#keys.workers, this.#keys.workersSeen, workerId, instance ?? ""));
  }

  async listWorkers(): Promise<WorkerInfo[]> {
    const cutoff = Date.now() - this.#workerTtlMs;
    const raws = await this.#io(() => this.#scripts.listWorkers(this.#keys.workers, this.#keys.workersSeen, cutoff));
    return raws.map((raw) => JSON.parse(raw) as WorkerInfo);
  }

  async getNextAvailableWorkerForType(jobType: string): Promise<WorkerInfo | undefined> {
    return mostFreeWorker(await this.listWorkers(), jobType);
  }

  /** Runs Redis work; connection trouble becomes StorageUnavailableError. */
  async #io<T>(work: () => Promise<T>): Promise<T> {
    const status = this.#client.status;
    if (status === "wait" || status === "end") throw new StorageUnavailableError(`not connected to Redis at ${redactUri(this.#uri)}`);
    try {
      return await work();
    } catch (error) {
      throw storageError(this.#uri, error);
    }
  }

  #pipelineKeys(pipeline: string): PipelineKeys {
    if (!this.#definitions.has(pipeline)) throw new UnknownPipelineError(pipeline, [...this.#definitions.keys()]);
    return this.#keys.pipeline(pipeline);
  }

  async #refreshRegistry(): Promise<void> {
    const members = await this.#io(() => this.#client.smembers(this.#keys.pipelines));
    this.#stored = new Set([...members, ...this.#definitions.keys()]);
  }

  /**
   * Reads jobs by id: from `pipeline` when the caller knows it; otherwise from every stored
   * pipeline (one round trip), then from pipelines the registry gained since.
   */
  async #find(jobIds: readonly string[], pipeline?: string): Promise<Map<string, JobRecord>> {
    const found = new Map<string, JobRecord>();
    const lookIn = async (ids: readonly string[], candidates: readonly string[]): Promise<void> => {
      const probes = ids.flatMap((id) => candidates.map((p): [string, string] => [id, p]));
      const jobs = await this.#io(() => probeJobs(this.#client, probes, (p) => this.#keys.pipeline(p)));
      for (const [id, job] of jobs) found.set(id, job);
    };
    const unique = [...new Set(jobIds)];
    if (pipeline !== undefined) {
      this.#pipelineKeys(pipeline);
      await lookIn(unique, [pipeline]);
      return found;
    }
    await lookIn(unique, [...this.#stored]);
    const unplaced = unique.filter((id) => !found.has(id));
    if (unplaced.length > 0) {
      const before = new Set(this.#stored);
      await this.#refreshRegistry();
      await lookIn(unplaced, [...this.#stored].filter((p) => !before.has(p)));
    }
    return found;
  }
}
