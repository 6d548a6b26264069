/**
 * Cancel on Redis (see `lua/cancel-6.lua` and `lua/cancel-requested-3.lua`): kept beside the
 * backend so that its file stays one idea. The backend passes what these need.
 */
import { CancelledError } from "../../core/errors/cancelled-error.ts";
import type { CancelResult } from "../storage-backend.ts";
import { decodeJob } from "./job-codec.ts";
import type { PipelineKeys } from "./keys.ts";
import type { Scripts } from "./scripts.ts";

/** The error a job cancelled before it ran keeps (one cancelled while it ran: see settle-8.lua). */
const CANCELLED_TEXT = JSON.stringify(new CancelledError("the job was cancelled").toJobError());

export interface CancelContext {
  scripts: Scripts;
  maxFinished: number;
  maxAgeMs: number;
}

/** Cancels job `jobId` of the pipeline whose keys are `keys` (the caller found it). */
export async function cancelJob(context: CancelContext, keys: PipelineKeys, jobId: string): Promise<CancelResult> {
  const { outcome, raw, data } = await context.scripts.cancel(keys, jobId, CANCELLED_TEXT, context.maxFinished, context.maxAgeMs);
  if (outcome === "missing" || raw === undefined) return { status: "missing" };
  return { status: outcome, job: decodeJob(raw, data) };
}

/** At most this many ids per script call. */
const CHUNK = 1000;

export async function cancelRequested(scripts: Scripts, keys: PipelineKeys, jobIds: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (let from = 0; from < jobIds.length; from += CHUNK) found.push(...(await scripts.cancelRequested(keys, jobIds.slice(from, from + CHUNK))));
  return found;
}
