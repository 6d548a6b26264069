/** What a Dispatcher tells its listeners (hooks, the gateway's metrics, the dashboard). */
import type { LogLine } from "../core/job-logs.ts";
import type { JobError, JobRecord, JobStatus } from "../core/job.ts";
import type { StepPolicy } from "../core/step-config.ts";
import type { TypedEmitter } from "../core/typed-emitter.ts";
import type { Logger } from "../log/logger.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";

/** A line a running attempt wrote, as it was written (workers in this process and their threads). */
export interface JobLogEvent {
  jobId: string;
  pipeline: string;
  jobType: string;
  attempt: number;
  line: LogLine;
}

export interface JobFinishedEvent {
  jobId: string;
  pipeline: string;
  status: Extract<JobStatus, "succeeded" | "dead" | "cancelled">;
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
  "job:log": [event: JobLogEvent];
  "worker:added": [workerId: string, jobType: string];
  "worker:removed": [workerId: string, jobType: string, reason: string];
  error: [error: unknown];
}

/** What the dispatcher hands its parts (dispatch loop, settler, cancels): its storage, its event bus to emit on, its logger, the step policies. */
export interface EngineParts {
  storage: StorageBackend;
  events: TypedEmitter<DispatcherEvents>;
  logger: Logger;
  policyFor(jobType: string): StepPolicy;
}
