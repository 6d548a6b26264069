/**
 * The part of the storage port that keeps cron schedules (`StorageBackend.schedules`): each
 * schedule's definition (so a gateway without the project can list it), when it was first
 * declared, and its last tick with the job that tick enqueued (for the missed-tick policy and
 * `GET /schedules`). Kept per pipeline: on Redis under the pipeline's `{pipeline}` hash tag.
 *
 * ```ts
 * const states = await storage.schedules.declare("cleanup", [{ name: "nightly", cron: "0 3 * * *" }], Date.now());
 * await storage.schedules.recordTick("cleanup", "nightly", tick, job.id);   // true: later than the last one
 * await storage.schedules.list(["cleanup"]);
 * ```
 */

/** What storage keeps of a schedule's definition. */
export interface ScheduleSpec {
  name: string;
  cron: string;
  timezone?: string | undefined;
}

export interface ScheduleState extends ScheduleSpec {
  pipeline: string;
  /** Epoch ms the schedule was first declared in this store: no tick before it is ever due. */
  since: number;
  /** Epoch ms of the last tick that enqueued (or found) its job, and that job's id. */
  lastTick?: number | undefined;
  lastJobId?: string | undefined;
}

export interface ScheduleStore {
  /**
   * Declares the schedules of `pipeline`, replacing the definitions it had (a schedule no longer
   * declared leaves the listing; its last tick is kept). A schedule new to the store gets
   * `since = now`. Atomic per pipeline. Answers the states of the schedules declared.
   */
  declare(pipeline: string, schedules: readonly ScheduleSpec[], now: number): Promise<ScheduleState[]>;
  /** Records `tick` and its job, only when later than the tick recorded: true when it was recorded. */
  recordTick(pipeline: string, name: string, tick: number, jobId: string): Promise<boolean>;
  /** The declared schedules of these pipelines, pipeline by pipeline, by name. */
  list(pipelines: readonly string[]): Promise<ScheduleState[]>;
}
