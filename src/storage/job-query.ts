/**
 * Finding jobs, the same way in every backend: filters (pipeline, status, current step, time
 * range of acceptance, id prefix), newest first (by `createdAt`, then id), and an opaque cursor
 * naming the last job of a page, so the next page starts right after it whatever was added since.
 *
 * ```ts
 * const page = await storage.findJobs({ status: "dead", limit: 25 });
 * const more = page.next === undefined ? undefined : await storage.findJobs({ status: "dead", limit: 25, cursor: page.next });
 * ```
 */
import { InvalidRequestError } from "../core/errors/invalid-request-error.ts";
import type { JobRecord, JobStatus } from "../core/job.ts";

export interface JobQuery {
  pipeline?: string | undefined;
  status?: JobStatus | undefined;
  /** The job type the job is at (or, once finished, the last one it reached). */
  step?: string | undefined;
  /** Accepted at or after, epoch ms. */
  since?: number | undefined;
  /** Accepted at or before, epoch ms. */
  until?: number | undefined;
  /** The first characters of the id (lower case). */
  idPrefix?: string | undefined;
  /** Jobs per page, 1 to 1000. Default 50. */
  limit?: number | undefined;
  /** `next` of the previous page. */
  cursor?: string | undefined;
}

export interface JobPage {
  jobs: JobRecord[];
  /** Cursor of the next page; absent on the last one. */
  next?: string | undefined;
}

interface Position {
  createdAt: number;
  id: string;
}

export const MAX_PAGE = 1000;

export function pageLimit(query: JobQuery): number {
  return Math.min(MAX_PAGE, Math.max(1, Math.trunc(query.limit ?? 50)));
}

export function encodeCursor(job: Position): string {
  return Buffer.from(`${job.createdAt}.${job.id}`, "utf8").toString("base64url");
}

/** The position a cursor names; an InvalidRequestError when it is not one of ours. */
export function decodeCursor(cursor: string | undefined): Position | undefined {
  if (cursor === undefined) return undefined;
  const match = /^(\d{1,15})\.([0-9a-z]{1,64})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (match === null) throw new InvalidRequestError(`cursor "${cursor.slice(0, 40)}" is not one this server made (use the next link of a page)`);
  return { createdAt: Number(match[1]), id: match[2]! };
}

/** Newest first: later `createdAt` first, then the greater id. */
export function newestFirst(a: Position, b: Position): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** True when `job` comes after `position` in newest-first order (belongs to a later page). */
export function isAfter(job: Position, position: Position | undefined): boolean {
  return position === undefined || newestFirst(position, job) < 0;
}

export function matches(job: Pick<JobRecord, "pipeline" | "status" | "step" | "createdAt" | "id">, query: JobQuery): boolean {
  return (
    (query.pipeline === undefined || job.pipeline === query.pipeline) &&
    (query.status === undefined || job.status === query.status) &&
    (query.step === undefined || job.step === query.step) &&
    (query.since === undefined || job.createdAt >= query.since) &&
    (query.until === undefined || job.createdAt <= query.until) &&
    (query.idPrefix === undefined || job.id.startsWith(query.idPrefix))
  );
}

/** The page of `candidates` (every match after the cursor, any order) holding at most `limit`. */
export function pageOf(candidates: JobRecord[], limit: number): JobPage {
  candidates.sort(newestFirst);
  const jobs = candidates.slice(0, limit);
  const last = jobs.at(-1);
  return candidates.length > limit && last !== undefined ? { jobs, next: encodeCursor(last) } : { jobs };
}
