/**
 * The Redis backend's read-only queries that take several commands: pipeline statistics and job
 * listings. They read with pipelined plain commands (no script), so they never block writers
 * for long; each answer is consistent per command, not as a whole.
 */
import { repliesOf, type RedisClient } from "./connection.ts";
import type { JobRecord, JobStatus } from "../../core/job.ts";
import { emptyHistogram } from "../latency-histogram.ts";
import type { LatencyHistogram, PipelineStats, StepStats } from "../storage-backend.ts";
import { decodeHead } from "./job-codec.ts";
import { readJobsWhere } from "./redis-job-reads.ts";
import { PRIORITY_LEVELS, queueLevel, type PipelineKeys } from "./keys.ts";

const STEP_FIELD = /^step:(.+):(running|delayed|delayedStart|succeeded|failed|dead|stalled|held|over|cancelled)$/;
const LATENCY_FIELD = /^(.+):(\d+|sum|count)$/;

/** Statistics of one pipeline; `jobTypes` are its declared steps (others seen are added). */
export async function readStats(client: RedisClient, pipeline: string, keys: PipelineKeys, jobTypes: readonly string[]): Promise<PipelineStats> {
  const [counters, latency, running, delayed, time] = repliesOf(
    await client.pipeline().hgetall(keys.counters).hgetall(keys.latency).zcard(keys.running).zcard(keys.delayed).time().exec(),
  ) as [Record<string, string>, Record<string, string>, number, number, [string, string]];
  const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
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

  // Every priority level of every step's queue: its length and its head (the oldest of the level).
  const ordered = [...types];
  const queueReads = client.pipeline();
  for (const jobType of ordered) {
    for (let level = 0; level < PRIORITY_LEVELS; level++) {
      const queue = queueLevel(keys.queuePrefix + jobType, level);
      queueReads.llen(queue).lindex(queue, 0);
    }
  }
  const queueReplies = repliesOf(await queueReads.exec());
  const at = (i: number, level: number, what: 0 | 1): unknown => queueReplies[(i * PRIORITY_LEVELS + level) * 2 + what];
  const levelHeads = ordered.map((_, i) => Array.from({ length: PRIORITY_LEVELS }, (_, level) => at(i, level, 1) as string | null).filter((id): id is string => id !== null));
  const headIds = [...new Set(levelHeads.flat())];
  const headJobs = new Map<string, { updatedAt: number }>();
  if (headIds.length > 0) {
    const raws = await client.hmget(keys.jobs, ...headIds);
    headIds.forEach((id, i) => {
      const raw = raws[i];
      if (raw !== null && raw !== undefined) headJobs.set(id, decodeHead(raw));
    });
  }

  const counter = (field: string): number => Number(counters[field] ?? 0);
  let queued = 0;
  const steps = ordered.map((jobType, i): StepStats => {
    let length = 0;
    for (let level = 0; level < PRIORITY_LEVELS; level++) length += at(i, level, 0) as number;
    const held = heldBack(counter, jobType, length, now);
    queued += length + held.aside;
    const since = levelHeads[i]!.flatMap((id) => headJobs.get(id)?.updatedAt ?? []);
    return {
      jobType,
      queued: length + held.aside,
      ...(held.keyBusy > 0 ? { keyBusy: held.keyBusy } : {}),
      ...(held.rateLimited > 0 ? { rateLimited: held.rateLimited } : {}),
      running: counter(`step:${jobType}:running`),
      delayed: counter(`step:${jobType}:delayed`),
      delayedStart: counter(`step:${jobType}:delayedStart`),
      oldestQueuedAt: since.length === 0 ? null : Math.min(...since),
      succeeded: counter(`step:${jobType}:succeeded`),
      failed: counter(`step:${jobType}:failed`),
      dead: counter(`step:${jobType}:dead`),
      stalled: counter(`step:${jobType}:stalled`),
      cancelled: counter(`step:${jobType}:cancelled`),
      latency: histograms.get(jobType) ?? emptyHistogram(),
      queueWait: waits.get(jobType) ?? emptyHistogram(),
    };
  });
  return {
    pipeline,
    accepted: counter("accepted"),
    succeeded: counter("succeeded"),
    dead: counter("dead"),
    cancelled: counter("cancelled"),
    queued,
    running,
    // The delayed ZSET holds retries (failed) and delayed starts (counted apart).
    failed: delayed - counter("delayed"),
    delayed: counter("delayed"),
    steps,
  };
}

/**
 * What a step's limits hold back (see lua/lease-held-5.lua): `held` jobs wait for their key, `over`
 * ones (turned away by a full window after their lease) and, while the window is full, every job
 * of the queue wait for the rate limit. `aside`: held jobs not in the queue LIST.
 */
function heldBack(counter: (field: string) => number, jobType: string, queueLength: number, now: number): { aside: number; keyBusy: number; rateLimited: number } {
  const keyBusy = Math.max(0, counter(`step:${jobType}:held`));
  const over = Math.max(0, counter(`step:${jobType}:over`));
  const limited = now < counter(`step:${jobType}:rate-until`);
  return { aside: keyBusy + over, keyBusy, rateLimited: over + (limited ? queueLength : 0) };
}

/** Up to `limit` jobs of one pipeline, most recently accepted first, optionally of one status. */
export async function readRecentJobs(client: RedisClient, keys: PipelineKeys, limit: number, status?: JobStatus): Promise<JobRecord[]> {
  const found: JobRecord[] = [];
  const page = status === undefined ? limit : Math.max(200, limit * 2);
  for (let start = 0; found.length < limit; start += page) {
    const ids = await client.zrevrange(keys.index, start, start + page - 1);
    if (ids.length === 0) break;
    const jobs = await readJobsWhere(client, keys, ids.slice(0, status === undefined ? limit - found.length : ids.length), (head) => status === undefined || head.status === status);
    found.push(...jobs.slice(0, limit - found.length));
    if (ids.length < page) break;
  }
  return found;
}

/**
 * Merges per-pipeline lists (each newest first) into one, newest first (a stable sort: each list
 * keeps its order, ties between lists go to the earlier list).
 */
export function mergeNewestFirst(lists: JobRecord[][], limit: number): JobRecord[] {
  return lists.flat().sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
}
