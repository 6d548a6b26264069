/**
 * Settles the outcomes workers report, in batches: those that arrive while a batch is being
 * written wait and go together in the next one (one storage round trip for many results). Each
 * outcome becomes a settlement (advance to the next step, succeed, retry after a backoff, or
 * dead-letter) from the pure decisions of pipeline-flow; then the dispatcher's listeners hear of it.
 */
import { capLines, usageOf } from "../core/job-logs.ts";
import type { AttemptRecord, JobError } from "../core/job.ts";
import { decideAfterFailure, decideAfterSuccess } from "../core/pipeline-flow.ts";
import type { Settlement, SettleResult } from "../storage/storage-backend.ts";
import type { Delivery, StepOutcome } from "./delivery.ts";
import type { EngineParts } from "./dispatcher-events.ts";
import type { InFlight } from "./_worker-roster.ts";

export interface SettlerHost extends EngineParts {
  /** Source of randomness for backoff jitter. */
  random: () => number;
  /** True when `pipeline` is served here (a result naming another one is not settled). */
  served(pipeline: string): boolean;
  /** Something changed (capacity freed, a next step queued): look for work. */
  kick(): void;
  /** A retry comes due in `delayMs`. */
  retryDueIn(delayMs: number): void;
}

/** An outcome and the delivery it answers (undefined: not handed out by this process). */
export interface Reported {
  outcome: StepOutcome;
  flight: InFlight | undefined;
}

/** What settling an outcome needs to know of its job: its delivery's step and the flight's route, wait and logs. */
type Context = Pick<Delivery, "stepIndex" | "attempt" | "pipeline" | "jobType"> & Pick<InFlight, "route" | "dueAt" | "logUsed" | "host">;

/** One `settle` call: its outcomes always go in the same batch. */
interface Pending {
  reported: readonly Reported[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Settler {
  readonly #host: SettlerHost;
  #pending: Pending[] = [];
  #settling: Promise<void> | undefined;

  constructor(host: SettlerHost) {
    this.#host = host;
  }

  /** Resolves once every one of `reported` is durably settled; rejects if its batch could not be written. */
  settle(reported: readonly Reported[]): Promise<void> {
    if (reported.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.#pending.push({ reported, resolve, reject }));
    this.#flush();
    return done;
  }

  /** Waits until every outcome reported so far is settled (or its batch failed). */
  async drain(): Promise<void> {
    while (this.#settling !== undefined || this.#pending.length > 0) {
      if (this.#settling !== undefined) await this.#settling.catch(() => {});
      else this.#flush();
    }
  }

  #flush(): void {
    if (this.#settling !== undefined || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#settling = this.#settleBatch(batch.length === 1 ? batch[0]!.reported : batch.flatMap((p) => p.reported))
      .then(() => {
        for (const item of batch) item.resolve();
      })
      .catch((error: unknown) => {
        for (const item of batch) item.reject(error);
      })
      .finally(() => {
        this.#settling = undefined;
        this.#flush();
      });
  }

  async #settleBatch(batch: readonly Reported[]): Promise<void> {
    const contexts: (Context | undefined)[] = batch.map(({ flight }) => {
      if (flight === undefined) return undefined;
      const d = flight.delivery;
      return { route: flight.route, stepIndex: d.stepIndex, attempt: d.attempt, pipeline: d.pipeline, jobType: d.jobType, dueAt: flight.dueAt, logUsed: flight.logUsed, host: flight.host };
    });
    // Results for leases this process did not hand out (it restarted): judged from storage, read
    // in the pipeline each result names. One that names none, or one not served here, is stale.
    const unknown = new Map<string, number[]>();
    batch.forEach(({ outcome }, i) => {
      const pipeline = outcome.pipeline;
      if (contexts[i] !== undefined || pipeline === undefined || !this.#host.served(pipeline)) return;
      unknown.set(pipeline, [...(unknown.get(pipeline) ?? []), i]);
    });
    for (const [pipeline, positions] of unknown) {
      const records = await this.#host.storage.getJobs(positions.map((i) => batch[i]!.outcome.jobId), pipeline);
      positions.forEach((i, n) => {
        const record = records[n];
        if (record !== undefined && record.status === "running") {
          contexts[i] = { route: record.route, stepIndex: record.stepIndex, attempt: record.attempts, pipeline, jobType: record.step, dueAt: record.dueAt, logUsed: usageOf(record.history) };
        }
      });
    }
    const settlements: Settlement[] = [];
    const meta: { outcome: StepOutcome; context: Context; settlement: Settlement }[] = [];
    batch.forEach(({ outcome }, i) => {
      const context = contexts[i];
      if (context === undefined) return;
      const settlement = this.#decide(outcome, context);
      settlements.push(settlement);
      meta.push({ outcome, context, settlement });
    });
    // The workers' capacity was freed, and the dispatcher kicked, when the outcomes were reported.
    if (settlements.length === 0) return;
    const results = await this.#host.storage.settle(settlements);
    this.#afterSettle(meta, results);
    if (meta.some(({ settlement, context }) => this.#queuesWork(settlement, context.jobType))) this.#host.kick();
  }

  /**
   * Whether a settlement may leave work to lease: a next step queued, a retry, or a place freed at
   * a step with limits (a job held back for its key or rate may go now). A job that succeeded or
   * is dead at a step without limits leaves nothing new in any queue.
   */
  #queuesWork(settlement: Settlement, jobType: string): boolean {
    return (settlement.kind !== "succeed" && settlement.kind !== "dead") || this.#host.policyFor(jobType).limits !== undefined;
  }

  #decide(outcome: StepOutcome, context: Context): Settlement {
    const settlement = this.#settlementOf(outcome, context);
    const kept = capLines(outcome.logs ?? [], context.logUsed ?? { lines: 0, bytes: 0 });
    const dropped = (outcome.dropped ?? 0) + kept.dropped;
    const attempt: AttemptRecord = {
      step: context.jobType,
      stepIndex: context.stepIndex,
      attempt: context.attempt,
      outcome: settlement.kind === "retry" ? "failed" : settlement.kind === "dead" ? "dead" : "succeeded",
      workerId: outcome.workerId,
      ...(context.host === undefined ? {} : { host: context.host }),
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      ...(context.dueAt === undefined ? {} : { dueAt: context.dueAt }),
      ...(settlement.kind === "retry" || settlement.kind === "dead" ? { error: settlement.error } : {}),
      ...(kept.lines.length > 0 ? { logs: kept.lines } : {}),
      ...(dropped > 0 ? { dropped } : {}),
    };
    return { ...settlement, attempt };
  }

  #settlementOf(outcome: StepOutcome, context: Context): Settlement {
    const { jobId, token } = outcome;
    const ref = { pipeline: context.pipeline, jobId, token };
    const timing = { startedAt: outcome.startedAt, finishedAt: outcome.finishedAt };
    let error: JobError;
    if (outcome.ok) {
      const step = { jobType: context.jobType, output: outcome.output, attempts: context.attempt, ...timing, workerId: outcome.workerId };
      const decision = decideAfterSuccess(context.route, context.stepIndex, outcome.output);
      if (decision.kind === "advance") {
        // The job's key at the step it enters, from that step's input (the server's own config).
        const concurrencyKey = this.#host.policyFor(context.route[decision.nextIndex] ?? "").limits?.keyOf?.(decision.input);
        return { kind: "advance", ...ref, step, nextIndex: decision.nextIndex, input: decision.input, ...(concurrencyKey === undefined ? {} : { concurrencyKey }) };
      }
      if (decision.kind === "succeed") return { kind: "succeed", ...ref, step, result: decision.result };
      error = decision.error;
    } else {
      error = outcome.error;
    }
    const policy = this.#host.policyFor(context.jobType).retry;
    const decision = decideAfterFailure(policy, context.attempt, error, this.#host.random);
    if (decision.kind === "retry") return { kind: "retry", ...ref, error, delayMs: decision.delayMs, timing };
    return { kind: "dead", ...ref, error, timing };
  }

  #afterSettle(
    meta: { outcome: StepOutcome; context: Context; settlement: Settlement }[],
    results: SettleResult[],
  ): void {
    meta.forEach(({ outcome, context, settlement }, i) => {
      const { pipeline, jobType, attempt } = context;
      if (results[i] === "cancelled") {
        this.#host.logger.info("job cancelled: its attempt ended, its result discarded", { jobId: outcome.jobId, jobType, attempt });
        this.#host.events.emit("job:finished", { jobId: outcome.jobId, pipeline, status: "cancelled" });
        return;
      }
      if (results[i] !== "ok") return this.#host.logger.debug("stale result ignored", { jobId: outcome.jobId });
      this.#host.events.emit("step:finished", {
        jobId: outcome.jobId,
        pipeline,
        jobType,
        attempt,
        ok: outcome.ok,
        durationMs: outcome.finishedAt - outcome.startedAt,
        workerId: outcome.workerId,
        error: outcome.ok ? undefined : outcome.error,
      });
      if (settlement.kind === "succeed") {
        this.#host.events.emit("job:finished", { jobId: outcome.jobId, pipeline, status: "succeeded", result: settlement.result });
      } else if (settlement.kind === "dead") {
        this.#host.events.emit("job:finished", { jobId: outcome.jobId, pipeline, status: "dead", error: settlement.error });
      } else if (settlement.kind === "retry") {
        this.#host.events.emit("job:retrying", { jobId: outcome.jobId, pipeline, jobType, attempt, delayMs: settlement.delayMs, error: settlement.error });
        this.#host.retryDueIn(settlement.delayMs);
      }
    });
  }
}
