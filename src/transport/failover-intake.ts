/**
 * One pipeline's intake over several pipeline servers: enqueues are spread over the live servers
 * (round robin), and a request a server does not answer is sent again, with the same idempotency
 * key, to another one. So a server killed or restarting costs a client one attempt's timeout
 * (`PipelineClient`'s `timeoutMs`, about a second behind `mario gateway`), never an error, and
 * never a second job: every request carries a key (made here when the caller gave none), and the
 * storage the servers share takes a key once.
 *
 * ```ts
 * const intake = new FailoverIntake("example-one", () => [{ id: "a", intake: clientA }, { id: "b", intake: clientB }]);
 * const [ok, job] = await intake.enqueueJob({ name: "example-one", instructions: {} });
 * ```
 *
 * A server that did not answer is *suspect* for `suspectMs` and chosen only when no other is left.
 */
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { newId } from "../core/ids.ts";
import type { JobRecord } from "../core/job.ts";
import { NoAnswerError } from "../core/errors/no-answer-error.ts";
import type { CancelAnswer, EnqueueJobRequest, EnqueueJobResult, RunJobAnswer, RunJobRequest } from "./pipeline-client.ts";
import { cancelThrough } from "./_ask-in-turn.ts";

/** Whatever takes enqueue requests for a server: `PipelineClient` fits. */
export interface Enqueuer {
  readonly address?: string;
  enqueueJob(request: EnqueueJobRequest): Promise<EnqueueJobResult>;
  /** The job's final record, answered by the server (see PipelineClient.waitFor). */
  waitFor(jobId: string, options: { timeoutMs?: number }): Promise<JobRecord>;
  /** Cancels a job (see PipelineClient.cancel). */
  cancel?(jobId: string): Promise<CancelAnswer>;
  /** Enqueues and waits as one request (see PipelineClient.runJob). */
  runJob?(request: RunJobRequest): Promise<RunJobAnswer>;
}

export interface IntakeCandidate<C extends Enqueuer = Enqueuer> {
  /** The server's id (a registry entry, or its address). */
  id: string;
  intake: C;
}

export interface FailoverIntakeOptions {
  /** Give up (NO_ANSWER) once this long has passed without an answer, ms. Default 10 000. */
  deadlineMs?: number | undefined;
  /** A server that did not answer is avoided this long, ms. Default 5000. */
  suspectMs?: number | undefined;
  /** How long to wait before looking again when no server is known, ms. Default 200. */
  emptyWaitMs?: number | undefined;
  /** Called for every request sent again to another server. */
  onFailover?: ((from: string, error: unknown) => void) | undefined;
}

/** Most attempts for one request, whatever the deadline. */
const MAX_ATTEMPTS = 16;

export class FailoverIntake implements Enqueuer {
  readonly pipeline: string;
  readonly #candidates: () => readonly IntakeCandidate[];
  readonly #options: FailoverIntakeOptions;
  readonly #deadlineMs: number;
  /** Server id → until when it is avoided (epoch ms). */
  readonly #suspects = new Map<string, number>();
  #next = 0;

  constructor(pipeline: string, candidates: () => readonly IntakeCandidate[], options: FailoverIntakeOptions = {}) {
    this.pipeline = pipeline;
    this.#candidates = candidates;
    this.#options = options;
    this.#deadlineMs = options.deadlineMs ?? 10_000;
  }

  get address(): string {
    return this.#candidates().map((c) => c.intake.address ?? c.id).join(",");
  }

  async enqueueJob(request: EnqueueJobRequest): Promise<EnqueueJobResult> {
    return this.#keyed(request, 0, (intake, keyed) => intake.enqueueJob(keyed), (result) => (result[0] ? [true, { ...result[1], duplicate: false }] : result));
  }

  /**
   * Enqueues and waits as one request, sent again to another server, with the same key, when one
   * does not answer (that one then answers the job the first took, and waits for it). Every
   * server must have `runJob` (a PipelineClient has).
   */
  async runJob(request: RunJobRequest): Promise<RunJobAnswer> {
    const extraMs = request.timeoutMs ?? 60_000;
    return this.#keyed(request, extraMs, (intake, keyed) => {
      if (intake.runJob === undefined) throw new MarioError(ERROR_CODES.INTERNAL, `FailoverIntake: an intake of "${this.pipeline}" cannot run jobs`);
      return intake.runJob(keyed);
    }, (answer) => (answer.status === "refused" ? answer : { ...answer, duplicate: false }));
  }

  /**
   * Sends a request with an idempotency key (made here when the caller gave none) to one server
   * after another until one answers; `extraMs` more than the deadline (a run's wait).
   * `firstTime`: the answer as a first attempt gives it, for a key made here taken by an earlier attempt.
   */
  async #keyed<R>(request: EnqueueJobRequest, extraMs: number, send: (intake: Enqueuer, keyed: EnqueueJobRequest & { idempotencyKey: string }) => Promise<R>, firstTime: (answer: R) => R): Promise<R> {
    const generated = request.idempotencyKey === undefined;
    const keyed = { ...request, idempotencyKey: request.idempotencyKey ?? newId() };
    const deadline = Date.now() + this.#deadlineMs + extraMs;
    const tried = new Set<string>();
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && Date.now() < deadline; attempt++) {
      const candidate = this.#pick(tried);
      if (candidate === undefined) {
        // None known right now (all gone, or a restart in progress): look again shortly.
        tried.clear();
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(this.#options.emptyWaitMs ?? 200, deadline - Date.now()))));
        continue;
      }
      try {
        const answer = await send(candidate.intake, keyed);
        this.#suspects.delete(candidate.id);
        // A key made here that turns out taken was taken by this request's own earlier attempt.
        return attempt > 0 && generated ? firstTime(answer) : answer;
      } catch (error) {
        // A server's own refusal (a MarioError other than NO_ANSWER) is the answer; anything
        // else (no answer, a client closed because its server left) is worth another server.
        if (error instanceof MarioError && !(error instanceof NoAnswerError)) throw error;
        lastError = error;
        tried.add(candidate.id);
        this.#suspects.set(candidate.id, Date.now() + (this.#options.suspectMs ?? 5000));
        this.#options.onFailover?.(candidate.id, error);
      }
    }
    if (lastError instanceof NoAnswerError) throw lastError;
    throw new NoAnswerError(`no pipeline server of "${this.pipeline}" answered within ${this.#deadlineMs + extraMs} ms`, { cause: lastError });
  }

  /** Any server of the pipeline answers a wait (they share storage): one not suspect. */
  waitFor(jobId: string, options: { timeoutMs?: number }): Promise<JobRecord> {
    const candidate = this.#pick(new Set());
    if (candidate === undefined) return Promise.reject(new NoAnswerError(`no pipeline server of "${this.pipeline}" is known`));
    return candidate.intake.waitFor(jobId, options);
  }

  /** Any server of the pipeline takes a cancel (they share storage; the lease holder learns it): those not suspect first. */
  cancel(jobId: string): Promise<CancelAnswer> {
    const now = Date.now();
    const all = this.#candidates().flatMap((c) => (c.intake.cancel === undefined ? [] : [{ id: c.id, intake: { cancel: c.intake.cancel.bind(c.intake) } }]));
    const ordered = [...all.filter((c) => (this.#suspects.get(c.id) ?? 0) <= now), ...all.filter((c) => (this.#suspects.get(c.id) ?? 0) > now)];
    return cancelThrough(ordered, jobId, `"${this.pipeline}"`);
  }

  /** The next candidate not tried yet, preferring those not suspect. */
  #pick(tried: ReadonlySet<string>): IntakeCandidate | undefined {
    const all = this.#candidates().filter((c) => !tried.has(c.id));
    if (all.length === 0) return undefined;
    const now = Date.now();
    const healthy = all.filter((c) => (this.#suspects.get(c.id) ?? 0) <= now);
    const pool = healthy.length > 0 ? healthy : all;
    this.#next = (this.#next + 1) % 1_000_000;
    return pool[this.#next % pool.length];
  }
}
