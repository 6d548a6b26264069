/**
 * Reading whole jobs on Redis: a job's record (the `jobs` HASH) and its caller data (its own
 * HASH, see job-codec.ts), both in one MULTI (one round trip; the two agree, as a script changes
 * both at once). Listings filter on the records first (status, step, times: no caller data
 * decoded) and read again, whole, only those kept.
 *
 * Whole reads go through one gate per client: one MULTI at a time, of at most READ_JOBS_IN_FLIGHT
 * jobs (every read asked meanwhile waits here, and goes with others in the next). A whole job may be 100 KB or
 * more: 1000 waiters reading theirs at once once queued 100 MB of replies on the connection, and
 * every command behind them (leases, settlements) passed the command timeout though Redis was
 * answering all along. Waiting here is not waiting for Redis, so the timeout stays a true sign.
 */
import type { ChainableCommander } from "ioredis";
import type { JobRecord } from "../../core/job.ts";
import { repliesOf, type RedisClient } from "./connection.ts";
import { decodeHead, decodeJob } from "./job-codec.ts";
import { jobDataKey, type PipelineKeys } from "./keys.ts";

type Head = ReturnType<typeof decodeHead>;

/** Most whole jobs read from Redis at once, per client. */
export const READ_JOBS_IN_FLIGHT = 32;

/** Queues the reads of job `id` on `batch` (a MULTI): two replies, its record (or null) and its data. */
function queueJobRead(batch: ChainableCommander, keys: PipelineKeys, id: string): void {
  batch.hget(keys.jobs, id).hgetall(jobDataKey(keys, id));
}

/** The job the two replies of `queueJobRead` describe. */
function jobOf(record: unknown, data: unknown): JobRecord | undefined {
  return typeof record === "string" ? decodeJob(record, (data ?? {}) as Record<string, string>) : undefined;
}

interface Pending {
  keys: PipelineKeys;
  id: string;
  resolve(read: WholeRead): void;
  reject(error: unknown): void;
}

interface WholeRead {
  record: unknown;
  job: JobRecord | undefined;
}

/**
 * The whole reads of one client: every read asked is queued; one MULTI at a time takes up to
 * READ_JOBS_IN_FLIGHT of them (on a cluster, of one pipeline: one slot), oldest first.
 */
class ReadGate {
  readonly #client: RedisClient;
  readonly #queue: Pending[] = [];
  #busy = false;

  constructor(client: RedisClient) {
    this.#client = client;
  }

  read(keys: PipelineKeys, id: string): Promise<WholeRead> {
    return new Promise<WholeRead>((resolve, reject) => {
      this.#queue.push({ keys, id, resolve, reject });
      void this.#pump();
    });
  }

  /** Sends the next MULTI unless one is in flight, and the one after once it is answered (never rejects). */
  async #pump(): Promise<void> {
    if (this.#busy || this.#queue.length === 0) return;
    const batch = this.#take();
    this.#busy = true;
    try {
      const multi = this.#client.multi();
      for (const { keys, id } of batch) queueJobRead(multi, keys, id);
      const replies = repliesOf(await multi.exec());
      batch.forEach((pending, i) => pending.resolve({ record: replies[2 * i], job: jobOf(replies[2 * i], replies[2 * i + 1]) }));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
    this.#busy = false;
    void this.#pump();
  }

  /** The next MULTI's reads: the oldest, and those after it it may go with. */
  #take(): Pending[] {
    if (!this.#client.isCluster) return this.#queue.splice(0, READ_JOBS_IN_FLIGHT);
    const jobs = this.#queue[0]!.keys.jobs;
    const taken: Pending[] = [];
    for (let i = 0; i < this.#queue.length && taken.length < READ_JOBS_IN_FLIGHT; ) {
      if (this.#queue[i]!.keys.jobs === jobs) taken.push(...this.#queue.splice(i, 1));
      else i++;
    }
    return taken;
  }
}

const gates = new WeakMap<RedisClient, ReadGate>();

/** Whole reads of `[keys, id]` pairs: answers each job or undefined, in order. */
function readWhole(client: RedisClient, reads: readonly [PipelineKeys, string][]): Promise<WholeRead[]> {
  let gate = gates.get(client);
  if (gate === undefined) gates.set(client, (gate = new ReadGate(client)));
  const own = gate;
  return Promise.all(reads.map(([keys, id]) => own.read(keys, id)));
}

/**
 * The inputs of jobs just leased (JSON text; `null` for one gone), in one round trip of plain
 * HMGETs: a big string read through a script costs far more (see lua/_job-data.lua).
 */
export async function readInputs(client: RedisClient, keys: PipelineKeys, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const batch = client.pipeline();
  for (const id of ids) batch.hmget(jobDataKey(keys, id), "in", "i");
  const replies = repliesOf(await batch.exec()) as (string | null)[][];
  return replies.map(([input, instructions]) => input ?? instructions ?? "null");
}

/** Of the jobs `ids` of one pipeline, those whose record `keep` accepts, whole, in order. */
export async function readJobsWhere(client: RedisClient, keys: PipelineKeys, ids: readonly string[], keep: (head: Head) => boolean): Promise<JobRecord[]> {
  if (ids.length === 0) return [];
  const raws = await client.hmget(keys.jobs, ...ids);
  const kept = ids.filter((_, i) => {
    const raw = raws[i];
    return raw !== null && raw !== undefined && keep(decodeHead(raw));
  });
  const whole = await readWhole(client, kept.map((id): [PipelineKeys, string] => [keys, id]));
  // Read again whole: a job that changed since and no longer matches is left out.
  return whole.flatMap(({ record, job }) => (job !== undefined && typeof record === "string" && keep(decodeHead(record)) ? [job] : []));
}

/**
 * Looks for jobs by id, each in the pipelines named for it (`probes`: [id, pipeline]), through
 * the gate. Answers the found.
 */
export async function probeJobs(client: RedisClient, probes: readonly [string, string][], keysOf: (pipeline: string) => PipelineKeys): Promise<Map<string, JobRecord>> {
  const found = new Map<string, JobRecord>();
  if (probes.length === 0) return found;
  const whole = await readWhole(client, probes.map(([id, pipeline]): [PipelineKeys, string] => [keysOf(pipeline), id]));
  probes.forEach(([id], i) => {
    const job = whole[i]!.job;
    if (job !== undefined) found.set(id, job);
  });
  return found;
}
