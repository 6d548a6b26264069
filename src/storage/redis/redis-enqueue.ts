/**
 * `enqueueJobs` on Redis: requests are grouped per pipeline into script calls (`lua/enqueue-6.lua`)
 * of at most BATCH_CHUNK items and BATCH_BYTES of instructions, which go together in one round
 * trip while they are small, in turn once they are big. Instructions are written with plain HSETs
 * in the same MULTI as the script (never through Lua) and stored as they are: no script decodes them.
 */
import { newId } from "../../core/ids.ts";
import type { Instructions, JobRecord } from "../../core/job.ts";
import type { EnqueueOutcome, EnqueueRequest } from "../storage-backend.ts";
import { decodeHead, decodeJob } from "./job-codec.ts";
import type { PipelineKeys } from "./keys.ts";
import type { EnqueueBatch, EnqueueItem, EnqueueReply, Scripts } from "./scripts.ts";

/** Most items per script call, so one call never blocks Redis for long. */
const BATCH_CHUNK = 500;
/**
 * Most bytes of instructions per script call and per round trip: 1000 enqueues of 100 KB each
 * go as about 100 calls in turn, each well within the command timeout, not one 100 MB call.
 */
const BATCH_BYTES = 1024 * 1024;

export interface EnqueueContext {
  scripts: Scripts;
  maxQueued: number;
  /** The keys of a declared pipeline (throws UnknownPipelineError otherwise); also checks the route. */
  keysFor(request: EnqueueRequest): PipelineKeys;
  io<T>(work: () => Promise<T>): Promise<T>;
}

interface Batch extends EnqueueBatch {
  positions: number[];
  bytes: number;
}

export async function enqueueJobs(context: EnqueueContext, requests: readonly EnqueueRequest[]): Promise<EnqueueOutcome[]> {
  const batches: Batch[] = [];
  const open = new Map<string, Batch>();
  requests.forEach((request, position) => {
    const keys = context.keysFor(request);
    const instructions = JSON.stringify(request.instructions);
    let batch = open.get(request.pipeline);
    if (batch === undefined || batch.items.length >= BATCH_CHUNK || (batch.bytes > 0 && batch.bytes + instructions.length > BATCH_BYTES)) {
      batch = { keys, pipeline: request.pipeline, maxQueued: context.maxQueued, items: [], texts: [], positions: [], bytes: 0 };
      batches.push(batch);
      open.set(request.pipeline, batch);
    }
    batch.texts.push(instructions);
    batch.items.push({
      id: request.id ?? newId(), pipeline: request.pipeline, route: [...request.route], idempotencyKey: request.idempotencyKey,
      concurrencyKey: request.concurrencyKey, delayMs: request.delayMs, runAt: request.runAt, priority: request.priority,
    });
    batch.positions.push(position);
    batch.bytes += instructions.length;
  });
  if (batches.length === 0) return [];
  const replies: EnqueueReply[][] = [];
  for (let from = 0; from < batches.length; ) {
    let to = from + 1;
    for (let bytes = batches[from]!.bytes; to < batches.length && bytes + batches[to]!.bytes <= BATCH_BYTES; to++) bytes += batches[to]!.bytes;
    const trip = batches.slice(from, to);
    replies.push(...(await context.io(() => context.scripts.enqueue(trip))));
    from = to;
  }
  const outcomes = new Array<EnqueueOutcome>(requests.length);
  batches.forEach((batch, b) => {
    replies[b]!.forEach((reply, i) => {
      const position = batch.positions[i]!;
      if (reply === "b") outcomes[position] = { status: "busy" };
      else if (typeof reply === "string") outcomes[position] = { status: "created", job: created(reply, batch.items[i]!, batch.texts[i]!) };
      else outcomes[position] = { status: "duplicate", job: decodeJob(reply[0].slice(1), reply[1]) };
    });
  });
  return outcomes;
}

/**
 * A job just created: its record as stored (from the script's JSON, or for a queued job made
 * here from the item and the script's time, as enqueue-6.lua makes it), with the instructions sent
 * (read back from their text, as stored).
 */
function created(reply: string, item: EnqueueItem, instructions: string): JobRecord {
  const copy = JSON.parse(instructions) as Instructions;
  // Never mutated in place, so the instructions and the first input share one copy (as on memory).
  return { ...(reply[0] === "q" ? queuedHead(item, Number(reply.slice(1))) : decodeHead(reply.slice(1))), instructions: copy, input: copy, steps: [] };
}

/** The record enqueue-6.lua stores for a job queued at `now` (decodeHead of it, field for field). */
function queuedHead(item: EnqueueItem, now: number): ReturnType<typeof decodeHead> {
  const head: ReturnType<typeof decodeHead> = {
    id: item.id, pipeline: item.pipeline, route: [...item.route], stepIndex: 0, step: item.route[0]!, status: "queued", attempts: 0, createdAt: now, updatedAt: now,
  };
  if (item.idempotencyKey !== undefined) head.idempotencyKey = item.idempotencyKey;
  if (item.priority !== undefined && item.priority > 0) head.priority = item.priority;
  if (item.concurrencyKey !== undefined) head.concurrencyKey = item.concurrencyKey;
  return head;
}
