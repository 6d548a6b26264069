/**
 * Reading whole jobs on Redis: a job's record (the `jobs` HASH) and its caller data (its own
 * HASH, see job-codec.ts), both in one MULTI (one round trip; the two agree, as a script changes
 * both at once). Listings filter on the records first (status, step, times: no caller data
 * decoded) and read again, whole, only those kept.
 */
import type { ChainableCommander } from "ioredis";
import type { JobRecord } from "../../core/job.ts";
import type { RedisClient } from "./connection.ts";
import { decodeHead, decodeMaybe } from "./job-codec.ts";
import { jobDataKey, type PipelineKeys } from "./keys.ts";

type Head = ReturnType<typeof decodeHead>;

/** Queues the reads of job `id` on `batch` (a MULTI): two replies, its record (or null) and its data. */
export function queueJobRead(batch: ChainableCommander, keys: PipelineKeys, id: string): void {
  batch.hget(keys.jobs, id).hgetall(jobDataKey(keys, id));
}

/** The job the two replies of `queueJobRead` describe. */
export function jobOf(record: unknown, data: unknown): JobRecord | undefined {
  return decodeMaybe(typeof record === "string" ? record : undefined, (data ?? {}) as Record<string, string>);
}

function unwrap(raw: [Error | null, unknown][] | null): unknown[] {
  return (raw ?? []).map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** Of the jobs `ids` of one pipeline, those whose record `keep` accepts, whole, in order. */
export async function readJobsWhere(client: RedisClient, keys: PipelineKeys, ids: readonly string[], keep: (head: Head) => boolean): Promise<JobRecord[]> {
  if (ids.length === 0) return [];
  const raws = await client.hmget(keys.jobs, ...ids);
  const kept: [string, string][] = [];
  raws.forEach((raw, i) => {
    if (raw !== null && keep(decodeHead(raw))) kept.push([ids[i]!, raw]);
  });
  if (kept.length === 0) return [];
  const batch = client.multi();
  for (const [id] of kept) queueJobRead(batch, keys, id);
  const replies = unwrap(await batch.exec());
  // Read again whole: a job that changed since and no longer matches is left out.
  return kept.flatMap(([,], i) => {
    const record = replies[2 * i];
    return typeof record === "string" && keep(decodeHead(record)) ? (jobOf(record, replies[2 * i + 1]) ?? []) : [];
  });
}

/**
 * Looks for jobs by id, each in the pipelines named for it (`probes`: [id, pipeline]): one MULTI
 * on a single Redis; on a cluster, one per pipeline (its slot), all at once. Answers the found.
 */
export async function probeJobs(client: RedisClient, probes: readonly [string, string][], keysOf: (pipeline: string) => PipelineKeys): Promise<Map<string, JobRecord>> {
  const found = new Map<string, JobRecord>();
  if (probes.length === 0) return found;
  const groups = client.isCluster ? byPipeline(probes) : [probes];
  await Promise.all(groups.map(async (group) => {
    const batch = client.multi();
    for (const [id, pipeline] of group) queueJobRead(batch, keysOf(pipeline), id);
    const replies = unwrap(await batch.exec());
    group.forEach(([id], i) => {
      const job = jobOf(replies[2 * i], replies[2 * i + 1]);
      if (job !== undefined) found.set(id, job);
    });
  }));
  return found;
}

/** Probes grouped by pipeline (one hash slot each). */
function byPipeline(probes: readonly [string, string][]): [string, string][][] {
  const groups = new Map<string, [string, string][]>();
  for (const probe of probes) {
    const group = groups.get(probe[1]);
    if (group === undefined) groups.set(probe[1], [probe]);
    else group.push(probe);
  }
  return [...groups.values()];
}
