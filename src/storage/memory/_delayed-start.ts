/**
 * Where the memory backend puts a job it just created: `delayed` until its start time (a delay
 * from storage's clock, or an absolute `runAt`), in the pipeline's `delayedStarts`; otherwise at
 * the tail of its first step's queue, at its priority.
 */
import type { JobRecord } from "../../core/job.ts";
import type { EnqueueRequest } from "../storage-backend.ts";
import type { PipelineState } from "./pipeline-state.ts";

/** `record` is new (status queued, step = route[0]); `now` is storage's clock. */
export function placeNew(state: PipelineState, record: JobRecord, request: EnqueueRequest, now: number): void {
  if (request.priority !== undefined && request.priority > 0) record.priority = request.priority;
  const due = request.runAt ?? (request.delayMs !== undefined && request.delayMs > 0 ? now + request.delayMs : undefined);
  if (due !== undefined && due > now) {
    record.status = "delayed";
    record.runAt = due;
    state.delayedStarts.add(record.id, due);
    return;
  }
  state.queue(record.step).push(record.id, record.priority);
}
