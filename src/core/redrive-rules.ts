/**
 * What a redrive may ask, for every door (the engine, a gateway in front of pipeline servers):
 * new instructions for the step a job died at (checked as an enqueue's, core/enqueue-rules.ts),
 * and which dead jobs of a pipeline a bulk redrive takes, at most MAX_REDRIVE_DEAD a call.
 *
 * ```ts
 * await dispatcher.redrive(id, { input: { size: 10 } });
 * const { ids, more } = await dispatcher.redriveDead("example-one", { step: "calculate-hash" });
 * ```
 */
/** The most dead jobs one bulk redrive requeues. */
export const MAX_REDRIVE_DEAD = 1000;

export interface RedriveOptions {
  /** New instructions for the step the job died at (a JSON object). */
  input?: unknown;
}

export interface RedriveDeadFilter {
  /** Only jobs that died at this step (job type). */
  step?: string | undefined;
  /** Accepted at or after, epoch ms. */
  since?: number | undefined;
  /** Accepted at or before, epoch ms. */
  until?: number | undefined;
  /** At most this many, 1 to MAX_REDRIVE_DEAD; default MAX_REDRIVE_DEAD. */
  limit?: number | undefined;
}

export interface RedriveDeadAnswer {
  pipeline: string;
  /** The jobs requeued, newest first. */
  ids: string[];
  /** More dead jobs matched than were requeued: call again. */
  more: boolean;
}

/** The query that finds the dead jobs a bulk redrive takes. */
export function deadJobsQuery(pipeline: string, filter: RedriveDeadFilter): RedriveDeadFilter & { pipeline: string; status: "dead"; limit: number } {
  const limit = Math.min(MAX_REDRIVE_DEAD, Math.max(1, Math.trunc(filter.limit ?? MAX_REDRIVE_DEAD)));
  return { pipeline, status: "dead", step: filter.step, since: filter.since, until: filter.until, limit };
}
