/**
 * What an enqueue answers: the job's identity and state, without the data it carries. A reply
 * to 1000 enqueues of 100 KB instructions is then about 300 KB, not 200 MB (instructions and the
 * first input twice each); the whole record is one `GET /jobs/:id` or `waitFor` away.
 *
 * ```ts
 * const [ok, job] = await client.enqueueJob({ name: "example-one", instructions: { size: 10 } });
 * if (ok) console.log(job.id, job.status);   // no job.instructions here: see waitFor
 * ```
 */
import type { JobRecord } from "./job.ts";

/** The fields of a job record an enqueue answers with. */
export const SUMMARY_FIELDS = ["id", "pipeline", "status", "step", "stepIndex", "attempts", "idempotencyKey", "createdAt", "updatedAt", "runAt", "priority", "finishedAt"] as const;

export type JobSummary = Pick<JobRecord, (typeof SUMMARY_FIELDS)[number]>;

/** The summary of a record (a new object holding only SUMMARY_FIELDS that are set). */
export function summarize(job: JobSummary): JobSummary {
  const summary: Partial<Record<(typeof SUMMARY_FIELDS)[number], unknown>> = {};
  for (const field of SUMMARY_FIELDS) if (job[field] !== undefined) summary[field] = job[field];
  return summary as JobSummary;
}
