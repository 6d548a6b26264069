/**
 * `findJobs` on Redis: each pipeline's `index` ZSET (every stored id, newest first) is read in
 * chunks, the records fetched with HMGET and filtered by the query; the pipelines' candidates
 * are merged newest first. A page past the first reads from the newest job again and skips to
 * the cursor, so the cost of a page grows with its depth (about one HMGET per 200 jobs before it);
 * the index has no score by time to seek on.
 */
import type { RedisClient } from "./connection.ts";
import type { JobRecord } from "../../core/job.ts";
import { decodeCursor, isAfter, matches, pageLimit, pageOf, type JobPage, type JobQuery } from "../job-query.ts";
import { readJobsWhere } from "./redis-job-reads.ts";
import type { PipelineKeys } from "./keys.ts";

const CHUNK = 200;

/** Matching jobs of one pipeline after the cursor: at least `wanted` of them when there are that many. */
async function candidatesOf(client: RedisClient, keys: PipelineKeys, query: JobQuery, wanted: number): Promise<JobRecord[]> {
  const position = decodeCursor(query.cursor);
  const found: JobRecord[] = [];
  for (let start = 0; ; start += CHUNK) {
    const ids = await client.zrevrange(keys.index, start, start + CHUNK - 1);
    if (ids.length === 0) break;
    let chunkOldest = Number.POSITIVE_INFINITY;
    // Filtered on the records (no caller data decoded); only matches are read whole.
    const jobs = await readJobsWhere(client, keys, ids, (head) => {
      chunkOldest = Math.min(chunkOldest, head.createdAt);
      return isAfter(head, position) && matches(head, query);
    });
    found.push(...jobs);
    if (ids.length < CHUNK) break;
    // Acceptance order is createdAt order (Redis' clock), ties within a millisecond aside: later
    // chunks hold only older jobs. Stop once they cannot enter the page, or are before `since`.
    if (query.since !== undefined && chunkOldest < query.since) break;
    if (found.length >= wanted) {
      const kth = found.map((j) => j.createdAt).sort((a, b) => b - a)[wanted - 1]!;
      if (chunkOldest < kth) break;
    }
  }
  return found;
}

export async function findJobs(client: RedisClient, pipelines: readonly { name: string; keys: PipelineKeys }[], query: JobQuery): Promise<JobPage> {
  const limit = pageLimit(query);
  decodeCursor(query.cursor);
  const lists = await Promise.all(pipelines.filter((p) => query.pipeline === undefined || p.name === query.pipeline).map((p) => candidatesOf(client, p.keys, query, limit + 1)));
  return pageOf(lists.flat(), limit);
}
