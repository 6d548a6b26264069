/**
 * Every Redis key name the Redis backend uses, made here and nowhere else.
 *
 * Layout (`P` = key prefix, `N` = namespace, `p` = pipeline):
 * - `P:N:{p}:jobs`      HASH  job id → job record JSON: status, step, times (see `job-codec.ts`)
 * - `P:N:{p}:jobs:<id>` HASH  the job's caller data: instructions, input, steps, result, error,
 *                             progress, history, as JSON text no script decodes (lua/_job-data.lua)
 * - `P:N:{p}:leases`    HASH  job id → current lease token
 * - `P:N:{p}:queue:<t>` LIST  ids waiting at job type `t` at priority 0, oldest at the head
 * - `P:N:{p}:queue:<t>:<n>` LIST  the same at priority n (1–9; see lua/_priority-queues.lua)
 * - `P:N:{p}:running`   ZSET  leased ids scored by lease expiry (ms, Redis clock)
 * - `P:N:{p}:delayed`   ZSET  ids waiting for a retry (status failed) or for their start time
 *                             (status delayed), scored by `runAt` (Redis clock)
 * - `P:N:{p}:finished`  ZSET  succeeded/dead/cancelled ids scored by `finishedAt` (retention)
 * - `P:N:{p}:cancels`   SET   ids of running jobs a cancel was asked for (cleaned lazily, see cancel-requested-3.lua)
 * - `P:N:{p}:index`     ZSET  every stored id scored by an acceptance sequence (listing order)
 * - `P:N:{p}:idem`      HASH  idempotency key → job id
 * - `P:N:{p}:counters`  HASH  pipeline and per-step counters, the lease sequence
 * - `P:N:{p}:latency`   HASH  per-step latency histogram buckets, sum and count
 * - `P:N:{p}:schedules` HASH  cron schedules: def:<name>, since:<name>, last:<name> (see lua/declare-schedules-1.lua)
 * - `P:N:{p}:epoch`     STRING the store epoch: written at first start, checked on reconnect
 * - `P:N:{p}:queue:<t>:starts`     ZSET the rate window of step t: lease tokens by lease time
 * - `P:N:{p}:queue:<t>:keys`       HASH concurrency key -> jobs of it running at step t
 * - `P:N:{p}:queue:<t>:held:<key>` LIST ids held back because their key is busy, oldest first
 * - `P:N:{p}:queue:<t>:unheld`     SET  keys with held jobs and a free place again
 * - `P:N:{p}:queue:<t>:over`       LIST ids the rate window turned away after their lease, first in line
 *   (step limits: lua/lease-held-5.lua, hold-busy-5.lua, _key-left.lua; named from the queue
 *   prefix like the queues, so no job type's queue can clash with them: job types hold no ":")
 * - `P:N:pipelines`     SET   pipelines ever initialized under this namespace
 * - `P:N:{workers}`     HASH  worker id → WorkerInfo JSON
 * - `P:N:{workers}:seen` ZSET worker id scored by `lastSeen` (same hash tag: one script takes both)
 * - `P:{servers}`       HASH  pipeline server id → "<expiresAt>|<ServerEntry JSON>" (every namespace)
 *
 * Every key of a pipeline carries the `{p}` hash tag, so all of them live in one Redis Cluster slot
 * and one script may touch them together. Queues are one LIST per job type; scripts that move a
 * job to the queue of a step they learn from the job itself (advance, promotion, release, reclaim,
 * redrive) receive the queue key *prefix* `P:N:{p}:queue:` in KEYS: the step is data, so the
 * queue key cannot be known before the script runs, and the prefix carries the hash tag, so every
 * queue it names is in the declared slot.
 */
import { InvalidConfigError } from "../../core/errors/invalid-config-error.ts";

export interface PipelineKeys {
  jobs: string;
  leases: string;
  /** Prefix of the per-job-type queue LISTs; append the job type. */
  queuePrefix: string;
  running: string;
  delayed: string;
  finished: string;
  /** Ids of running jobs a cancel was asked for (see `lua/cancel-6.lua`). */
  cancels: string;
  index: string;
  idem: string;
  counters: string;
  latency: string;
  /** The pipeline's cron schedules: definitions, first declared, last tick and job. */
  schedules: string;
  /** The store epoch (see `lua/claim-epoch-1.lua`). */
  epoch: string;
}

export class RedisKeys {
  readonly base: string;
  readonly pipelines: string;
  readonly workers: string;
  readonly workersSeen: string;
  readonly #cache = new Map<string, PipelineKeys>();

  constructor(prefix: string, namespace: string) {
    this.base = `${segment("key prefix", prefix)}:${segment("namespace", namespace)}`;
    this.pipelines = `${this.base}:pipelines`;
    this.workers = `${this.base}:{workers}`;
    this.workersSeen = `${this.base}:{workers}:seen`;
  }

  /** The keys of one pipeline, all under its `{pipeline}` hash tag. */
  pipeline(name: string): PipelineKeys {
    let keys = this.#cache.get(name);
    if (keys === undefined) {
      const tagged = `${this.base}:{${name}}`;
      keys = {
        jobs: `${tagged}:jobs`,
        leases: `${tagged}:leases`,
        queuePrefix: `${tagged}:queue:`,
        running: `${tagged}:running`,
        delayed: `${tagged}:delayed`,
        finished: `${tagged}:finished`,
        cancels: `${tagged}:cancels`,
        index: `${tagged}:index`,
        idem: `${tagged}:idem`,
        counters: `${tagged}:counters`,
        latency: `${tagged}:latency`,
        schedules: `${tagged}:schedules`,
        epoch: `${tagged}:epoch`,
      };
      this.#cache.set(name, keys);
    }
    return keys;
  }
}

/** The caller data HASH of job `id` (as lua/_job-data.lua names it). */
export function jobDataKey(keys: PipelineKeys, id: string): string {
  return `${keys.jobs}:${id}`;
}

/** Priority levels, 0 (default) to 9. */
export const PRIORITY_LEVELS = 10;

/** The LIST of `queue` (a job type's level-0 queue key) at `priority`, as lua/_priority-queues.lua names it. */
export function queueLevel(queue: string, priority: number): string {
  return priority > 0 ? `${queue}:${priority}` : queue;
}

/** The registry of pipeline servers under key prefix `prefix`, shared by every namespace. */
export function serversKey(prefix: string): string {
  return `${segment("key prefix", prefix)}:{servers}`;
}

/** `value`, checked: a key segment is non-empty and holds no hash tag braces. */
function segment(what: string, value: string): string {
  if (value === "" || /[{}]/.test(value)) throw new InvalidConfigError(`invalid Redis ${what} "${value}": it must be non-empty and hold no "{" or "}"`);
  return value;
}
