/**
 * A lease at a step with limits (rate window, per-key concurrency) on Redis, in up to three
 * scripts of the pipeline's slot: `lease-held-5` (the window's room; held jobs whose turn came),
 * `lease-next-7` (the queue, as for any step) and `hold-busy-5` (jobs just leased whose key is busy,
 * or for which the window has no room left, go back to wait aside). Each is atomic; together they
 * keep the limits across every server on the Redis, because every lease a limit counts is counted
 * by a script that checks it. The scope is the step of one pipeline (one hash slot, so a Redis
 * Cluster works); steps without limits never come here.
 */
import type { LeaseLimits } from "../../core/step-limits.ts";
import type { PipelineKeys } from "./keys.ts";
import type { LimitArgs, Scripts } from "./scripts.ts";
import { leasedId, type LeaseReply } from "./job-codec.ts";

/** Answers the leases, held jobs first. */
export async function leaseLimited(
  scripts: Scripts,
  keys: PipelineKeys,
  jobType: string,
  count: number,
  leaseMs: number,
  workerId: string,
  limits: LeaseLimits,
): Promise<LeaseReply[]> {
  const args: LimitArgs = { maxPerKey: limits.maxPerKey ?? 0, rateMax: limits.rate?.max ?? 0, perMs: limits.rate?.perMs ?? 0 };
  const held = await scripts.leaseHeld(keys, jobType, args, count, leaseMs, workerId);
  const out = held.leases;
  let room = held.left;
  // Jobs handed back to wait leave room: the queue is asked again, a few times at most.
  for (let round = 0; round < MAX_ROUNDS && room > 0; round++) {
    const leased = await scripts.leaseNext(keys, keys.queuePrefix + jobType, room, leaseMs, workerId);
    if (leased.length === 0) break;
    const ids = leased.map((reply): [string, string] => [leasedId(reply), reply[0]]);
    const { rateRoom, pairs: kept } = await scripts.holdBusy(keys, jobType, args, leaseMs, ids);
    // Those kept: their record as hold-busy left it, their data as lease-next read it.
    const byToken = new Map(leased.map((reply) => [reply[0], reply]));
    for (const [token, raw] of kept) {
      const reply = byToken.get(token);
      if (reply !== undefined) out.push([token, raw, reply[2], reply[3], reply[4]]);
    }
    room -= kept.length;
    // The queue ran dry, nothing was held back, or the window is full: done.
    if (leased.length < room + kept.length || kept.length === leased.length || rateRoom === 0) break;
  }
  return out;
}

/** Rounds of queue leases per call, when jobs keep being held back. */
const MAX_ROUNDS = 8;
