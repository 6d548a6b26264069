/** What a Dispatcher tells its listeners (hooks, the gateway's metrics, the dashboard). */
import type { JobError, JobRecord, JobStatus } from "../core/job.ts";

export interface JobFinishedEvent {
  jobId: string;
  pipeline: string;
  status: Extract<JobStatus, "succeeded" | "dead">;
  result?: unknown;
  error?: JobError | undefined;
}

export interface StepFinishedEvent {
  jobId: string;
  pipeline: string;
  jobType: string;
  attempt: number;
  ok: boolean;
  durationMs: number;
  workerId: string;
  error?: JobError | undefined;
}

export interface DispatcherEvents extends Record<string, unknown[]> {
  "job:accepted": [job: JobRecord];
  "job:started": [event: { jobId: string; pipeline: string; jobType: string; attempt: number; workerId: string }];
  "step:finished": [event: StepFinishedEvent];
  "job:retrying": [event: { jobId: string; pipeline: string; jobType: string; attempt: number; delayMs: number; error: JobError }];
  "job:finished": [event: JobFinishedEvent];
  "worker:added": [workerId: string, jobType: string];
  "worker:removed": [workerId: string, jobType: string, reason: string];
  error: [error: unknown];
}
