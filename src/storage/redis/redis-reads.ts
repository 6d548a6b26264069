/**
 * The Redis backend's read-only queries that take several commands: pipeline statistics and job
 * listings. They read with pipelined plain commands (no script), so they never block writers
 * for long; each answer is consistent per command, not as a whole.
 */
import type { RedisClient } from "./connection.ts";
import type { JobRecord, JobStatus } from "../../core/job.ts";
import { emptyHistogram } from "../latency-histogram.ts";
import type { LatencyHistogram, PipelineStats, StepStats } from "../storage-backend.ts";
import { decodeMaybe } from "./job-codec.ts";
import type { PipelineKeys } from "./keys.ts";

type Replies = [Error | null, unknown][] | null;

function replies(raw: Replies): unknown[] {
  return (raw ?? []).map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

const STEP_FIELD = /^step:(.+):(running|delayed|succeeded|failed|dead|stalled)$/;
const LATENCY_FIELD = /^(.+):(\d+|sum|count)$/;

/** Statistics of one pipeline; `jobTypes` are its declared steps (others seen are added). */
export async function readStats(client: RedisClient, pipeline: string, keys: PipelineKeys, jobTypes: readonly string[]): Promise<PipelineStats> {
  const [counters, latency, running, delayed] = replies(
    await client.pipeline().hgetall(keys.counters).hgetall(keys.latency).zcard(keys.running).zcard(keys.delayed).exec(),
  ) as [Record<string, string>, Record<string, string>, number, number];
  const types = new Set(jobTypes);
  for (const field of Object.keys(counters)) {
    const match = STEP_FIELD.exec(field);
    if (match) types.add(match[1]!);
  }
  const histograms = new Map<string, LatencyHistogram>();
  const waits = new Map<string, LatencyHistogram>();
  for (const [field, value] of Object.entries(latency)) {
    // Queue-wait fields are `wait:<type>:…`; a job type has no ":" (see core/names.ts).
    const isWait = field.startsWith("wait:");
    const match = LATENCY_FIELD.exec(isWait ? field.slice(5) : field);
    if (!match) continue;
    const jobType = match[1]!;
    types.add(jobType);
    const into = isWait ? waits : histograms;
    let histogram = into.get(jobType);
    if (histogram === undefined) into.set(jobType, (histogram = emptyHistogram()));
    if (match[2] === "sum") histogram.sumMs = Number(value);
    else if (match[2] === "count") histogram.count = Number(value);
    else histogram.counts[Number(match[2])] = Number(value);
  }

  const ordered = [...types];
  const queueReads = client.pipeline();
  for (const jobType of ordered) queueReads.llen(keys.queuePrefix + jobType).lindex(keys.queuePrefix + jobType, 0);
  const queueReplies = replies(await queueReads.exec());
  const heads = ordered.map((_, i) => queueReplies[i * 2 + 1] as string | null);
  const headIds = heads.filter((id): id is string => id !== null);
  const headJobs = new Map<string, JobRecord>();
  if (headIds.length > 0) {
    const raws = await client.hmget(keys.jobs, ...headIds);
    headIds.forEach((id, i) => {
      const job = decodeMaybe(raws[i]);
      if (job !== undefined) headJobs.set(id, job);
    });
  }

  const counter = (field: string): number => Number(counters[field] ?? 0);
  let queued = 0;
  const steps = ordered.map((jobType, i): StepStats => {
    const length = queueReplies[i * 2] as number;
    queued += length;
    const head = heads[i];
    return {
      jobType,
      queued: length,
      running: counter(`step:${jobType}:running`),
      delayed: counter(`step:${jobType}:delayed`),
      oldestQueuedAt: head === null || head === undefined ? null : (headJobs.get(head)?.updatedAt ?? null),
      succeeded: counter(`step:${jobType}:succeeded`),
      failed: counter(`step:${jobType}:failed`),
      dead: counter(`step:${jobType}:dead`),
      stalled: counter(`step:${jobType}:stalled`),
      latency: histograms.get(jobType) ?? emptyHistogram(),
      queueWait: waits.get(jobType) ?? emptyHistogram(),
    };
  });
  return {
    pipeline,
    accepted: counter("accepted"),
    succeeded: counter("succeeded"),
    dead: counter("dead"),
    queued,
    running,
    failed: delayed,
    steps,
  };
}

/** Up to `limit` jobs of one pipeline, most recently accepted first, optionally of one status. */
export async function readRecentJobs(client: RedisClient, keys: PipelineKeys, limit: number, status?: JobStatus): Promise<JobRecord[]> {
  const found: JobRecord[] = [];
  const page = status === undefined ? limit : Math.max(200, limit * 2);
  for (let start = 0; found.length < limit; start += page) {
    const ids = await client.zrevrange(keys.index, start, start + page - 1);
    if (ids.length === 0) break;
    const raws = await client.hmget(keys.jobs, ...ids);
    for (const raw of raws) {
      const job = decodeMaybe(raw);
      if (job === undefined || (status !== undefined && job.status !== status)) continue;
      found.push(job);
      if (found.length === limit) break;
    }
    if (ids.length < page) break;
  }
  return found;
}

/** Merges per-pipeline lists (each newest first) into one, newest first, keeping each list's order. */
export function mergeNewestFirst(lists: JobRecord[][], limit: number): JobRecord[] {
  const cursors = lists.map(() => 0);
  const merged: JobRecord[] = [];
  while (merged.length < limit) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const candidate = lists[i]![cursors[i]!];
      if (candidate === undefined) continue;
      if (best < 0 || candidate.createdAt > lists[best]![cursors[best]!]!.createdAt) best = i;
    }
    if (best < 0) break;
    merged.push(lists[best]![cursors[best]!]!);
    cursors[best]! += 1;
  }
  return merged;
}
