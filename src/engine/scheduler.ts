/**
 * Runs cron schedules in a process that dispatches: one timer per schedule, set to its next tick
 * (no polling). Each tick enqueues one job through the dispatcher's front door with the
 * idempotency key `schedule:<name>:<tick epoch ms>`, so when several servers of the pipeline run
 * the same schedule on one storage, each tries and only the first creates the job (the others
 * find it: a duplicate). The tick and its job are recorded in storage (`storage.schedules`).
 *
 * Missed ticks: at start, a schedule whose last recorded tick (or, never ticked, the time it was
 * first declared) is older than the most recent tick due runs that one tick at once (same key:
 * two servers starting together still make one job), then goes on with the next ticks. A timer
 * that fires late (the process was stopped or asleep) runs the most recent tick due, once. A
 * schedule never declared before starts with its next tick. A failed tick (storage down, the
 * pipeline busy) is logged and counted; the next tick runs as usual.
 *
 * ```ts
 * const scheduler = new Scheduler({ schedules, store: storage.schedules, enqueue: (p, i, o) => dispatcher.enqueue(p, i, o),
 *   jobsOf: (ids, p) => storage.getJobs(ids, p), pipelines: () => ["cleanup"] });
 * await scheduler.start();
 * await scheduler.views();   // GET /schedules
 * await scheduler.stop();    // clears the timers, waits for ticks under way
 * ```
 */
import type { EnqueueOptions } from "../core/enqueue-rules.ts";
import { lastDueTick, nextTick, scheduleKey, type ScheduleDefinition } from "../core/schedule.ts";
import type { Logger } from "../log/logger.ts";
import type { EnqueueOutcome } from "../storage/storage-backend.ts";
import type { ScheduleState, ScheduleStore } from "../storage/schedule-store.ts";
import { scheduleViews, type JobsOf, type ScheduleView } from "./schedule-views.ts";

export interface SchedulerOptions {
  schedules: readonly ScheduleDefinition[];
  store: ScheduleStore;
  /** The dispatcher's front door. */
  enqueue: (pipeline: string, instructions: unknown, options: EnqueueOptions) => Promise<EnqueueOutcome>;
  jobsOf: JobsOf;
  /** The pipelines served here: their stored schedules are listed (those of other servers too). */
  pipelines: () => readonly string[];
  logger: Logger;
}

/** A timer is never set further ahead than this (setTimeout's limit is ~24.8 days; clocks move), ms. */
const MAX_TIMER_MS = 3_600_000;

export type TickKind = "tick" | "missed" | "late";

export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #underWay = new Set<Promise<void>>();
  readonly #failures = new Map<string, number>();
  #running = false;

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  /** Ticks of `name` that failed here (storage error, pipeline busy, not declared) since start. */
  failures(name: string): number {
    return this.#failures.get(name) ?? 0;
  }

  /** Declares the schedules in storage, runs a missed tick where one is due, and sets the timers. */
  async start(): Promise<void> {
    if (this.#running || this.#o.schedules.length === 0) return;
    this.#running = true;
    const now = Date.now();
    const states = await this.#declare(now);
    for (const schedule of this.#o.schedules) {
      const state = states.get(schedule.name);
      const due = lastDueTick(schedule, now);
      // Never declared before (or storage did not answer): no catch-up, the next tick is the first.
      const since = state === undefined ? undefined : (state.lastTick ?? state.since);
      if (since !== undefined && due !== undefined && due > since) this.#track(this.#run(schedule, due, "missed"));
      this.#arm(schedule);
    }
  }

  /** Clears every timer and waits for the ticks under way. */
  async stop(): Promise<void> {
    this.#running = false;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled([...this.#underWay]);
  }

  /** The stored schedules of the pipelines served here, with next run and last job. */
  async views(): Promise<ScheduleView[]> {
    const states = await this.#o.store.list(this.#o.pipelines());
    const views = await scheduleViews(states, Date.now(), this.#o.jobsOf);
    const here = new Set(this.#o.schedules.map((s) => s.name));
    return views.map((view) => (here.has(view.name) ? { ...view, failures: this.failures(view.name) } : view));
  }

  async #declare(now: number): Promise<Map<string, ScheduleState>> {
    const byPipeline = new Map<string, ScheduleDefinition[]>();
    for (const s of this.#o.schedules) byPipeline.set(s.pipeline, [...(byPipeline.get(s.pipeline) ?? []), s]);
    const states = new Map<string, ScheduleState>();
    for (const [pipeline, schedules] of byPipeline) {
      try {
        const declared = await this.#o.store.declare(pipeline, schedules.map((s) => ({ name: s.name, cron: s.cron, timezone: s.timezone })), now);
        for (const state of declared) states.set(state.name, state);
      } catch (error) {
        for (const s of schedules) this.#fail(s.name);
        this.#o.logger.warn("schedules not declared in storage: no missed tick is run, the next ticks are", { pipeline, error: String(error) });
      }
    }
    return states;
  }

  #arm(schedule: ScheduleDefinition): void {
    if (!this.#running) return;
    const now = Date.now();
    const next = nextTick(schedule, now);
    if (next === undefined) {
      this.#timers.delete(schedule.name);
      return;
    }
    const timer = setTimeout(() => this.#fire(schedule, next), Math.min(MAX_TIMER_MS, Math.max(0, next - now)));
    timer.unref();
    this.#timers.set(schedule.name, timer);
  }

  #fire(schedule: ScheduleDefinition, planned: number): void {
    if (!this.#running) return;
    const now = Date.now();
    // A capped timer, or one a clock step made early: set it again for the tick still ahead.
    if (now < planned) return this.#arm(schedule);
    // Late (this process was stopped or asleep past later ticks): the most recent tick due, once.
    const tick = lastDueTick(schedule, now) ?? planned;
    this.#track(this.#run(schedule, tick, tick > planned ? "late" : "tick"));
    this.#arm(schedule);
  }

  #fail(name: string): void {
    this.#failures.set(name, this.failures(name) + 1);
  }

  #track(work: Promise<void>): void {
    this.#underWay.add(work);
    void work.finally(() => this.#underWay.delete(work));
  }

  /** Enqueues the tick's job (or finds the one another server made) and records it. Never throws. */
  async #run(schedule: ScheduleDefinition, tick: number, kind: TickKind): Promise<void> {
    const fields = { schedule: schedule.name, pipeline: schedule.pipeline, tick: new Date(tick).toISOString(), kind };
    try {
      const outcome = await this.#o.enqueue(schedule.pipeline, schedule.instructions, { idempotencyKey: scheduleKey(schedule.name, tick) });
      if (outcome.status === "busy") {
        this.#fail(schedule.name);
        this.#o.logger.warn("schedule tick skipped: the pipeline is saturated", fields);
        return;
      }
      await this.#o.store.recordTick(schedule.pipeline, schedule.name, tick, outcome.job.id);
      if (outcome.status === "created") this.#o.logger.info(`schedule ${schedule.name} enqueued a job`, { ...fields, job: outcome.job.id });
      else this.#o.logger.debug(`schedule ${schedule.name}: another server enqueued this tick`, { ...fields, job: outcome.job.id });
    } catch (error) {
      this.#fail(schedule.name);
      this.#o.logger.warn("schedule tick failed; the next tick runs as usual", { ...fields, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
