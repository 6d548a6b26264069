/** What `GET /pipelines` answers: each pipeline with its steps, queues, in-flight and workers. */
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import type { PipelineStats, WorkerInfo } from "../storage/storage-backend.ts";

/**
 * Per step: `delayed` waits for a retry, `delayedStart` for its start time; `stalled` was handed
 * back because its worker was lost or stopped (stalls, not attempts); of `queued`, `rateLimited`
 * and `keyBusy` are held back by the step's limits. Per pipeline, `delayed` waits for its start time.
 */
export function pipelineViews(pipelines: readonly PipelineDefinition[], stats: readonly PipelineStats[], workers: readonly WorkerInfo[]) {
  const statsByName = new Map(stats.map((s) => [s.pipeline, s]));
  return pipelines.map((pipeline) => {
    const stat = statsByName.get(pipeline.name);
    const steps = pipeline.steps.map((jobType) => {
      const step = stat?.steps.find((s) => s.jobType === jobType);
      const own = workers.filter((w) => w.jobType === jobType);
      return {
        jobType,
        queued: step?.queued ?? 0,
        delayed: step?.delayed ?? 0,
        delayedStart: step?.delayedStart ?? 0,
        inFlight: step?.running ?? 0,
        oldestQueuedAt: step?.oldestQueuedAt ?? null,
        stalled: step?.stalled ?? 0,
        rateLimited: step?.rateLimited ?? 0,
        keyBusy: step?.keyBusy ?? 0,
        workers: own.length,
        capacity: own.reduce((sum, w) => sum + w.capacity, 0),
      };
    });
    return {
      name: pipeline.name,
      steps,
      queued: stat?.queued ?? 0,
      inFlight: stat?.running ?? 0,
      failed: stat?.failed ?? 0,
      delayed: stat?.delayed ?? 0,
      accepted: stat?.accepted ?? 0,
      succeeded: stat?.succeeded ?? 0,
      dead: stat?.dead ?? 0,
    };
  });
}
