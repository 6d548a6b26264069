/**
 * Cancel in memory, beside the backend so that its file stays one idea: a queued, delayed or
 * retry-waiting job is cancelled at once; a running one is marked (`cancelRequestedAt`) and
 * ends cancelled when its lease ends (`endCancelled`, from settle, release and reclaim).
 */
import { cloneData } from "../../core/clone-data.ts";
import { CancelledError } from "../../core/errors/cancelled-error.ts";
import { isFinal, type JobError, type JobRecord } from "../../core/job.ts";
import type { CancelResult } from "../storage-backend.ts";
import type { PipelineState, StoredJob } from "./pipeline-state.ts";

/** Moves a finished job into the finished list (retention); the backend's own. */
export type Finish = (state: PipelineState, record: JobRecord, now: number) => void;

const CANCELLED_BEFORE: JobError = new CancelledError("the job was cancelled").toJobError();
const CANCELLED_RUNNING: JobError = new CancelledError("the job was cancelled while it ran").toJobError();

/** `dropHeld`: takes a queued job out of where step limits hold it back (not in its queue); true when it was there. */
export function cancelStored(stored: StoredJob, state: PipelineState, now: number, finish: Finish, dropHeld: (stored: StoredJob) => boolean): CancelResult {
  const record = stored.record;
  if (isFinal(record.status)) return { status: "final", job: cloneData(record) };
  if (record.status === "running") {
    record.cancelRequestedAt ??= now;
    return { status: "cancelling", job: cloneData(record) };
  }
  if (record.status === "queued") {
    if (!state.queue(record.step).remove(record.id)) dropHeld(stored);
  }
  else if (record.status === "delayed") state.delayedStarts.delete(record.id);
  else state.delayed.delete(record.id); // failed: waiting for a retry
  cancelled(record, state, now, CANCELLED_BEFORE, finish);
  return { status: "cancelled", job: cloneData(record) };
}

/** A cancel was asked for while the job ran and its lease has ended (the caller took it off `running`): cancelled now. */
export function endCancelled(stored: StoredJob, state: PipelineState, now: number, finish: Finish): void {
  stored.token = undefined;
  const record = stored.record;
  record.workerId = undefined;
  record.leaseExpiresAt = undefined;
  record.dueAt = undefined;
  record.cancelRequestedAt = undefined;
  cancelled(record, state, now, CANCELLED_RUNNING, finish);
}

function cancelled(record: JobRecord, state: PipelineState, now: number, error: JobError, finish: Finish): void {
  record.status = "cancelled";
  record.error = error;
  record.runAt = undefined;
  record.updatedAt = now;
  state.cancelled++;
  state.counters(record.step).cancelled++;
  finish(state, record, now);
}

/** Of `jobIds` of `pipeline`, those running with a cancel asked for. */
export function cancelRequestedOf(jobs: ReadonlyMap<string, StoredJob>, pipeline: string, jobIds: readonly string[]): string[] {
  return jobIds.filter((id) => {
    const record = jobs.get(id)?.record;
    return record !== undefined && record.pipeline === pipeline && record.status === "running" && record.cancelRequestedAt !== undefined;
  });
}
