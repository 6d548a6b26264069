/**
 * The Lua scripts (`./lua/<verb>-<numKeys>.lua`) and the only way to call them: typed wrappers.
 *
 * The scripts (read once, by script-sources.ts) are defined on each client with ioredis
 * `defineCommand` (EVALSHA, falling back to EVAL after a Redis restart). Their integer return
 * codes are turned into outcomes in one place, `outcomeOf`.
 */
import type { ChainableCommander } from "ioredis";
import { pairsOf, repliesOf, type RedisClient } from "./connection.ts";
import { newLeaseTokens } from "../../core/ids.ts";
import { CancelledError } from "../../core/errors/cancelled-error.ts";
import type { CancelResult, ReleaseKind, Settlement } from "../storage-backend.ts";
import { bucketIndex } from "../latency-histogram.ts";
import { decodeJob, leaseReplies, toJsonText, type LeaseReply } from "./job-codec.ts";
import { usageOf } from "../../core/job-logs.ts";
import { jobDataKey, type PipelineKeys } from "./keys.ts";
import { SOURCES, type ScriptFile } from "./script-sources.ts";

type Arg = string | number;
type Invoke = (...args: Arg[]) => Promise<unknown>;
type Queue = (...args: Arg[]) => unknown;

/** What a script's integer reply means. */
export type ScriptOutcome = "ok" | "stale" | "missing" | "not-dead" | "final";

const NEGATIVE_OUTCOMES: readonly ScriptOutcome[] = ["stale", "missing", "not-dead", "final"];

/** The one place return codes are read: ≥ 0 is success (a count or a time), -1 to -4 are named. */
function outcomeOf(file: ScriptFile, code: unknown): ScriptOutcome {
  if (typeof code !== "number") throw new TypeError(`script ${file} answered ${String(code)}, not an integer`);
  const outcome = code >= 0 ? "ok" : NEGATIVE_OUTCOMES[-code - 1];
  if (outcome === undefined) throw new RangeError(`script ${file} answered an unknown code ${code}`);
  return outcome;
}

/** One enqueue item as `enqueue-6.lua` reads it (its instructions go beside: `EnqueueBatch.texts`). */
export interface EnqueueItem {
  id: string;
  pipeline: string;
  route: readonly string[];
  idempotencyKey?: string | undefined;
  concurrencyKey?: string | undefined;
  /** Stored delayed until Redis TIME + delayMs (ms, > 0). */
  delayMs?: number | undefined;
  /** Stored delayed until this time (epoch ms, Redis clock). */
  runAt?: number | undefined;
  /** 1–9: the job's queue level at every step. */
  priority?: number | undefined;
}

/** One pipeline's enqueues (all of `pipeline`): items, and their instructions as JSON text (one per item, in order). */
export interface EnqueueBatch {
  pipeline: string;
  keys: PipelineKeys;
  maxQueued: number;
  items: EnqueueItem[];
  texts: string[];
}

/**
 * Per item: "q" + Redis time in ms (created, queued: the record is the item's, made then),
 * "c" + record JSON (created, delayed), ["d" + record JSON, caller data flat] (duplicate) or "b" (busy).
 */
export type EnqueueReply = string | [string, string[]];

export interface SettleBatch {
  keys: PipelineKeys;
  /** 17 entries per settlement, flat (`settleArgs`; settle-8.lua's header lists them). */
  args: Arg[];
  maxFinished: number;
  maxAgeMs: number;
}

const TRIM_LIMIT = 1000;
/**
 * Caller data up to this many characters of JSON text goes through the scripts (enqueue's
 * instructions; a lease answers inputs up to SMALL_INPUT bytes, lua/_job-data.lua): one command
 * and round trip less per job. Bigger strings cost more in Lua (~1.4 µs per KB) than a plain HSET.
 */
const SMALL_TEXT = 2048;
const PROMOTE_LIMIT = 1000;
/** Entries of the cancels SET checked (and dropped when stale) per `cancelRequested` call besides those asked. */
const CANCELS_SWEPT = 20;
const CANCELS_CHUNK = 1000;
/** The error a job cancelled before it ran keeps (one cancelled while it ran: see settle-8.lua). */
const CANCELLED_TEXT = JSON.stringify(new CancelledError("the job was cancelled").toJobError());

export class Scripts {
  readonly #client: RedisClient;

  constructor(client: RedisClient) {
    this.#client = client;
    for (const source of SOURCES.values()) {
      if (typeof (client as unknown as Record<string, unknown>)[source.command] === "function") continue;
      client.defineCommand(source.command, { lua: source.lua, numberOfKeys: source.numberOfKeys });
    }
  }

  async #call(file: ScriptFile, ...args: Arg[]): Promise<unknown> {
    const fn = (this.#client as unknown as Record<string, Invoke>)[SOURCES.get(file)!.command]!;
    return fn.apply(this.#client, args);
  }

  #queue(pipeline: ChainableCommander, file: ScriptFile, ...args: Arg[]): void {
    const fn = (pipeline as unknown as Record<string, Queue>)[SOURCES.get(file)!.command]!;
    fn.apply(pipeline, args);
  }

  /** Sends the queued commands in one round trip; throws the first command error. */
  async #exec(pipeline: ChainableCommander): Promise<unknown[]> {
    return repliesOf(await pipeline.exec());
  }

  /**
   * Sends groups of commands, each group's keys in one hash slot (one pipeline's): one round trip
   * on a single Redis; on a cluster, one pipeline per group, all at once (a cluster pipeline must
   * stay on one node). Answers each group's replies.
   */
  async #execGroups(groups: readonly ((pipeline: ChainableCommander) => void)[]): Promise<unknown[][]> {
    if (this.#client.isCluster) {
      return Promise.all(groups.map((queue) => {
        const pipeline = this.#client.pipeline();
        queue(pipeline);
        return this.#exec(pipeline);
      }));
    }
    const pipeline = this.#client.pipeline();
    const sizes = groups.map((queue) => {
      const before = pipeline.length;
      queue(pipeline);
      return pipeline.length - before;
    });
    const replies = await this.#exec(pipeline);
    let at = 0;
    return sizes.map((size) => replies.slice(at, (at += size)));
  }

  /**
   * Enqueues batches (one per pipeline) in one round trip. Small instructions (SMALL_TEXT) go to
   * the script as ARGV, which stores them; big ones are written with plain HSETs before the
   * script in the same MULTI (big strings stay out of Lua). A batch of small ones only is one
   * command. Replies per item: "c…", ["d…", data] or "b".
   */
  async enqueue(batches: readonly EnqueueBatch[]): Promise<EnqueueReply[][]> {
    return Promise.all(batches.map(async (b) => {
      const args: Arg[] = [b.keys.jobs, b.keys.idem, b.keys.counters, b.keys.index, b.keys.queuePrefix, b.keys.delayed, b.maxQueued, b.pipeline];
      const big: number[] = [];
      let routeOf: readonly string[] | undefined;
      let routeText = "";
      b.items.forEach((item, i) => {
        const text = b.texts[i]!;
        const small = text.length <= SMALL_TEXT;
        if (!small) big.push(i);
        if (item.route !== routeOf) {
          routeOf = item.route;
          routeText = JSON.stringify(item.route);
        }
        args.push(
          item.id, routeText, item.idempotencyKey === undefined ? "" : `k${item.idempotencyKey}`, item.concurrencyKey === undefined ? "" : `k${item.concurrencyKey}`,
          item.delayMs ?? "", item.runAt ?? "", item.priority ?? "", small ? text : "",
        );
      });
      if (big.length === 0) return (await this.#call("enqueue-6", ...args)) as EnqueueReply[];
      const multi = this.#client.multi();
      for (const i of big) multi.hset(jobDataKey(b.keys, b.items[i]!.id), "i", b.texts[i]!);
      this.#queue(multi, "enqueue-6", ...args);
      return (await this.#exec(multi)).at(-1) as EnqueueReply[];
    }));
  }

  /** Leases from one queue, each with a fresh 128-bit random token; answers what a worker needs of each. */
  async leaseNext(keys: PipelineKeys, queue: string, count: number, leaseMs: number, workerId: string): Promise<LeaseReply[]> {
    const flat = (await this.#call(
      "lease-next-7", keys.jobs, keys.leases, keys.running, keys.delayed, keys.counters, queue, keys.queuePrefix,
      count, leaseMs, workerId, PROMOTE_LIMIT, ...newLeaseTokens(count),
    )) as unknown[];
    return leaseReplies(flat);
  }

  /** Settles batches (one per pipeline) and applies retention, all in one round trip. */
  async settle(batches: readonly SettleBatch[]): Promise<(ScriptOutcome | "cancelled")[][]> {
    const replies = await this.#execGroups(batches.map(({ keys, args, maxFinished, maxAgeMs }) => (pipeline) => {
      this.#queue(pipeline, "settle-8", keys.jobs, keys.leases, keys.running, keys.delayed, keys.finished, keys.counters, keys.latency, keys.queuePrefix, ...args);
      this.#queue(pipeline, "trim-4", keys.finished, keys.jobs, keys.idem, keys.index, maxFinished, maxAgeMs, TRIM_LIMIT);
    }));
    return replies.map((r) => (r[0] as number[]).map((code) => (code === 2 ? "cancelled" : outcomeOf("settle-8", code))));
  }

  /**
   * A lease at a step with limits, first part: the rate window's room and held jobs whose turn
   * came. Answers the room left for the queue and the leases.
   */
  async leaseHeld(keys: PipelineKeys, step: string, limits: LimitArgs, room: number, leaseMs: number, workerId: string): Promise<{ left: number; leases: LeaseReply[] }> {
    const flat = (await this.#call(
      "lease-held-5", keys.jobs, keys.leases, keys.running, keys.counters, keys.queuePrefix,
      step, limits.maxPerKey, limits.rateMax, limits.perMs, room, leaseMs, workerId, ...newLeaseTokens(room),
    )) as [number, ...unknown[]];
    return { left: Number(flat[0]), leases: leaseReplies(flat.slice(1)) };
  }

  /**
   * A lease at a step with limits, last part: hands back the jobs just leased that must wait;
   * answers those kept ([token, record JSON]) and the rate window's room left (-1: no rate limit).
   */
  async holdBusy(keys: PipelineKeys, step: string, limits: LimitArgs, leaseMs: number, leases: readonly [string, string][]): Promise<{ rateRoom: number; pairs: [string, string][] }> {
    const flat = (await this.#call(
      "hold-busy-5", keys.jobs, keys.leases, keys.running, keys.counters, keys.queuePrefix,
      step, limits.maxPerKey, limits.rateMax, limits.perMs, leaseMs, JSON.stringify(leases),
    )) as [number, ...string[]];
    return { rateRoom: Number(flat[0]), pairs: pairsOf(flat.slice(1) as string[]) };
  }

  async release(keys: PipelineKeys, reason: string, kind: ReleaseKind, leases: [string, string][]): Promise<number> {
    return (await this.#call(
      "release-6", keys.jobs, keys.leases, keys.running, keys.counters, keys.queuePrefix, keys.finished, reason, kind, JSON.stringify(leases),
    )) as number;
  }

  async reclaim(keys: PipelineKeys, reason: string, limit: number): Promise<number> {
    return (await this.#call("reclaim-6", keys.jobs, keys.leases, keys.running, keys.counters, keys.queuePrefix, keys.finished, reason, limit)) as number;
  }

  /**
   * Cancels a job (see `lua/cancel-6.lua`) and applies retention, in one round trip: `cancelled`
   * now, `cancelling` (running: its lease ends in cancelled), `final` or `missing`.
   */
  async cancel(keys: PipelineKeys, jobId: string, maxFinished: number, maxAgeMs: number): Promise<CancelResult> {
    const pipeline = this.#client.pipeline();
    this.#queue(pipeline, "cancel-6", keys.jobs, keys.delayed, keys.finished, keys.counters, keys.cancels, keys.queuePrefix, jobId, CANCELLED_TEXT);
    this.#queue(pipeline, "trim-4", keys.finished, keys.jobs, keys.idem, keys.index, maxFinished, maxAgeMs, TRIM_LIMIT);
    const [[code, raw, data]] = (await this.#exec(pipeline)) as [[number, string?, string[]?]];
    const outcome = code === 1 ? "cancelled" : code === 2 ? "cancelling" : outcomeOf("cancel-6", code);
    if (outcome === "missing" || raw === undefined) return { status: "missing" };
    if (outcome !== "cancelled" && outcome !== "cancelling" && outcome !== "final") throw new RangeError(`script cancel-6 answered ${code}`);
    return { status: outcome, job: decodeJob(raw, data) };
  }

  /** Of these leased jobs, those a cancel was asked for (see `lua/cancel-requested-3.lua`), CANCELS_CHUNK ids per call. */
  async cancelRequested(keys: PipelineKeys, jobIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (let from = 0; from < jobIds.length; from += CANCELS_CHUNK) {
      found.push(...((await this.#call("cancel-requested-3", keys.cancels, keys.jobs, keys.running, CANCELS_SWEPT, ...jobIds.slice(from, from + CANCELS_CHUNK))) as string[]));
    }
    return found;
  }

  /** Per id: whether the job is finished or no longer stored (no record is read). */
  async finalOrGone(keys: PipelineKeys, jobIds: readonly string[]): Promise<boolean[]> {
    return ((await this.#call("final-or-gone-2", keys.finished, keys.jobs, ...jobIds)) as number[]).map((n) => n === 1);
  }

  async redrive(keys: PipelineKeys, jobId: string, input: string | undefined): Promise<ScriptOutcome> {
    return outcomeOf("redrive-4", await this.#call("redrive-4", keys.jobs, keys.finished, keys.counters, keys.queuePrefix, jobId, input ?? ""));
  }

  /** Forgets a finished job: ok, missing, or not-dead (here: not finished). */
  async deleteJob(keys: PipelineKeys, jobId: string): Promise<ScriptOutcome> {
    return outcomeOf("delete-5", await this.#call("delete-5", keys.jobs, keys.finished, keys.index, keys.idem, keys.counters, jobId));
  }

  async setProgress(keys: PipelineKeys, jobId: string, token: string, progress: string): Promise<ScriptOutcome> {
    return outcomeOf("set-progress-2", await this.#call("set-progress-2", keys.jobs, keys.leases, jobId, token, progress));
  }

  async registerWorker(workers: string, seen: string, workerId: string, json: string, lastSeen: number): Promise<void> {
    await this.#call("register-worker-2", workers, seen, workerId, json, lastSeen);
  }

  async unregisterWorker(workers: string, seen: string, workerId: string, instance: string): Promise<void> {
    await this.#call("unregister-worker-2", workers, seen, workerId, instance);
  }

  /** The pipeline's store epoch: the existing one, or `candidate` written now. */
  async claimEpoch(keys: PipelineKeys, candidate: string): Promise<string> {
    return (await this.#call("claim-epoch-1", keys.epoch, candidate)) as string;
  }

  /** Declares a pipeline's schedules (`pairs`: name, definition JSON); answers its schedules hash, flat. */
  async declareSchedules(schedules: string, now: number, pairs: readonly [string, string][]): Promise<string[]> {
    return (await this.#call("declare-schedules-1", schedules, now, JSON.stringify(pairs))) as string[];
  }

  /** Records a schedule's tick and job when later than the recorded one: true when recorded. */
  async recordTick(schedules: string, name: string, tick: number, jobId: string): Promise<boolean> {
    return (await this.#call("record-tick-1", schedules, name, tick, jobId)) === 1;
  }

  /** Drops workers last seen before `cutoff`; answers the others' JSON. */
  async listWorkers(workers: string, seen: string, cutoff: number): Promise<string[]> {
    return (await this.#call("list-workers-2", workers, seen, cutoff)) as string[];
  }

  /** Records a pipeline server for `ttlMs` (Redis clock); answers its expiry. */
  async registerServer(servers: string, serverId: string, json: string, ttlMs: number): Promise<number> {
    return (await this.#call("register-server-1", servers, serverId, json, ttlMs)) as number;
  }

  /** The live servers' JSON; expired ones are forgotten. */
  async listServers(servers: string): Promise<string[]> {
    return (await this.#call("list-servers-1", servers)) as string[];
  }
}

/** A step's limits as the limit scripts read them (0: none). */
export interface LimitArgs {
  maxPerKey: number;
  rateMax: number;
  perMs: number;
}


/**
 * Appends a settlement to `args` as settle-8.lua reads it: 17 flat strings or numbers
 * ("" for none), caller data as JSON text (raw: never escaped inside another JSON text), latency
 * pre-bucketed. A successful step's output goes once (field 5) when it is also the next input or
 * the result, as the pipeline flow decides; the step record then leaves it out.
 */
export function settleArgs(settlement: Settlement, args: Arg[]): void {
  const attempt = settlement.attempt;
  const wait = attempt?.dueAt === undefined ? undefined : Math.max(0, attempt.startedAt - attempt.dueAt);
  const timing = settlement.kind === "advance" || settlement.kind === "succeed" ? settlement.step : settlement.timing;
  const ms = timing === undefined ? undefined : Math.max(0, timing.finishedAt - timing.startedAt);
  let step = "";
  let output = "";
  let nextIndex: Arg = "";
  let input = "";
  let result = "";
  let error = "";
  let delayMs: Arg = "";
  let ck = "";
  switch (settlement.kind) {
    case "advance":
    case "succeed": {
      const out: unknown = settlement.step.output;
      const shared = settlement.kind === "advance" ? settlement.input === out : settlement.result === out;
      if (shared && out !== undefined) {
        output = JSON.stringify(out);
        // JSON.stringify leaves out the undefined output; the script puts it back from field 5.
        step = JSON.stringify({ ...settlement.step, output: undefined });
      } else {
        step = JSON.stringify(settlement.step);
        if (settlement.kind === "advance") input = toJsonText(settlement.input) ?? "";
        else result = toJsonText(settlement.result) ?? "";
      }
      if (settlement.kind === "advance") {
        nextIndex = settlement.nextIndex;
        if (settlement.concurrencyKey !== undefined) ck = `k${settlement.concurrencyKey}`;
      }
      break;
    }
    case "retry":
      error = JSON.stringify(settlement.error);
      delayMs = Math.max(0, Math.round(settlement.delayMs));
      break;
    case "dead":
      error = JSON.stringify(settlement.error);
      break;
  }
  args.push(
    settlement.kind, settlement.jobId, settlement.token, step, output, nextIndex, input, result, error, delayMs,
    ms ?? "", ms === undefined ? "" : bucketIndex(ms),
    attempt === undefined ? "" : JSON.stringify(attempt), attempt !== undefined && usageOf([attempt]).lines > 0 ? "1" : "", ck,
    wait ?? "", wait === undefined ? "" : bucketIndex(wait),
  );
}
