/**
 * What the dashboard sends to the browser: the cluster's state shaped for display. Plain data,
 * computed on the server so the page stays small (latency quantiles, job summaries).
 */
import type { JobRecord } from "../../core/job.ts";
import type { PipelineDefinition } from "../../core/pipeline-definition.ts";
import { quantile } from "../../storage/latency-histogram.ts";
import type { LatencyHistogram, PipelineStats, StepStats, WorkerInfo } from "../../storage/storage-backend.ts";
import type { ThroughputView } from "./_throughput-recorder.ts";

/** A bucketed quantile: at most `le` ms, or above the largest bucket (`gt` ms). */
export type LatencyQuantile = { le: number } | { gt: number } | null;

/** A step's counts as storage has them, its latency histogram as quantiles. */
export interface StepView extends Omit<StepStats, "latency"> {
  /** Execution time of finished attempts. */
  p50: LatencyQuantile;
  p99: LatencyQuantile;
  meanMs: number | null;
  samples: number;
}

export interface PipelineView extends Omit<PipelineStats, "steps"> {
  steps: StepView[];
}

export interface StatsMessage {
  serverTime: number;
  pipelines: PipelineView[];
  throughput: ThroughputView;
}

export interface WorkersMessage {
  serverTime: number;
  workers: WorkerInfo[];
}

/** A job as listed: no instructions or results (`GET /jobs/:id` has them); `stalls` only when some, `runAt` of a delayed or failed job, `progress` of a running one. */
export interface JobSummary extends Pick<JobRecord, "id" | "pipeline" | "step" | "stepIndex" | "status" | "attempts" | "stalls" | "createdAt" | "updatedAt" | "finishedAt" | "runAt" | "priority" | "progress" | "error"> {
  stepCount: number;
}

export interface JobsMessage {
  serverTime: number;
  /** Most recent first. */
  recent: JobSummary[];
  /** Dead jobs (waiting for a redrive) and failed ones (waiting for a retry), most recent first. */
  dead: JobSummary[];
  failed: JobSummary[];
}

export interface SnapshotMessage {
  serverTime: number;
  /** Workers silent longer than this are shown as stale, ms. */
  staleAfterMs: number;
  definitions: PipelineDefinition[];
  stats: StatsMessage;
  workers: WorkersMessage;
  jobs: JobsMessage;
}

/** Stack traces are cut to this many characters in listings. */
const MAX_STACK = 4_000;

export function toLatencyQuantile(histogram: LatencyHistogram, q: number): LatencyQuantile {
  const value = quantile(histogram, q);
  if (value === null) return null;
  if (Number.isFinite(value)) return { le: value };
  return { gt: histogram.bucketsMs[histogram.bucketsMs.length - 1] ?? 0 };
}

export function toPipelineView(stats: PipelineStats): PipelineView {
  const { steps, ...totals } = stats;
  return {
    ...totals,
    steps: steps.map(({ latency, ...counts }) => ({
      ...counts,
      p50: toLatencyQuantile(latency, 0.5),
      p99: toLatencyQuantile(latency, 0.99),
      meanMs: latency.count === 0 ? null : Math.round((latency.sumMs / latency.count) * 10) / 10,
      samples: latency.count,
    })),
  };
}

export function toJobSummary(job: JobRecord): JobSummary {
  const summary: JobSummary = {
    id: job.id,
    pipeline: job.pipeline,
    step: job.step,
    stepIndex: job.stepIndex,
    stepCount: job.route.length,
    status: job.status,
    attempts: job.attempts,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
  if (job.stalls !== undefined && job.stalls > 0) summary.stalls = job.stalls;
  if (job.finishedAt !== undefined) summary.finishedAt = job.finishedAt;
  if (job.runAt !== undefined && (job.status === "failed" || job.status === "delayed")) summary.runAt = job.runAt;
  if (job.priority !== undefined) summary.priority = job.priority;
  if (job.progress !== undefined && job.status === "running") summary.progress = job.progress;
  if (job.error !== undefined && job.status !== "succeeded") {
    const { stack, ...rest } = job.error;
    summary.error = stack === undefined ? rest : { ...rest, stack: stack.length > MAX_STACK ? `${stack.slice(0, MAX_STACK)}\n…` : stack };
  }
  return summary;
}
