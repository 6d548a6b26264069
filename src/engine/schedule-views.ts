/**
 * What `GET /schedules` answers per schedule, made from what storage keeps (so `mario gateway`,
 * which has no project, answers the same as `mario up`): name, pipeline, cron, time zone, the
 * next run (computed from the stored cron expression), the last tick and the job it enqueued,
 * with that job's status.
 */
import type { JobRecord, JobStatus } from "../core/job.ts";
import { checkSchedule, nextTick } from "../core/schedule.ts";
import type { ScheduleState } from "../storage/schedule-store.ts";

export interface ScheduleView {
  name: string;
  pipeline: string;
  cron: string;
  /** IANA time zone the cron fields are read in. */
  timezone: string;
  /** ISO time of the next tick, or null when there is none (or the stored cron cannot be read). */
  nextRun: string | null;
  /** ISO time of the last tick that enqueued (or found) its job, or null before the first. */
  lastRun: string | null;
  lastJobId: string | null;
  /** The last job's status now, or null when there is none (or it aged out of retention). */
  lastJobStatus: JobStatus | null;
  /** Ticks of this schedule that failed in this process since it started (storage error, pipeline busy); only where it runs (`mario up`). */
  failures?: number | undefined;
}

/** Reads jobs of one pipeline by id (storage's `getJobs`). */
export type JobsOf = (jobIds: readonly string[], pipeline: string) => Promise<(JobRecord | undefined)[]>;

export async function scheduleViews(states: readonly ScheduleState[], now: number, jobsOf: JobsOf): Promise<ScheduleView[]> {
  const byPipeline = new Map<string, string[]>();
  for (const s of states) if (s.lastJobId !== undefined) byPipeline.set(s.pipeline, [...(byPipeline.get(s.pipeline) ?? []), s.lastJobId]);
  const status = new Map<string, JobStatus>();
  await Promise.all(
    [...byPipeline].map(async ([pipeline, ids]) => {
      for (const job of await jobsOf(ids, pipeline)) if (job !== undefined) status.set(job.id, job.status);
    }),
  );
  return states.map((s) => ({
    name: s.name,
    pipeline: s.pipeline,
    cron: s.cron,
    timezone: s.timezone ?? "UTC",
    nextRun: iso(nextRunOf(s, now)),
    lastRun: iso(s.lastTick),
    lastJobId: s.lastJobId ?? null,
    lastJobStatus: s.lastJobId === undefined ? null : (status.get(s.lastJobId) ?? null),
  }));
}

function nextRunOf(state: ScheduleState, now: number): number | undefined {
  try {
    return nextTick(checkSchedule({ name: state.name, cron: state.cron, timezone: state.timezone, pipeline: state.pipeline, instructions: {} }), now);
  } catch {
    return undefined;
  }
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}
