/**
 * What `new PipelineClient("redis://…")` does: finds the pipeline servers registered in that
 * Redis (a cluster URI too) instead of being told one address. Enqueues are spread over the live
 * servers of the pipeline and sent again to another one, with the same idempotency key, when a
 * server does not answer within `timeoutMs`; `waitFor` asks a server of the job's pipeline (one
 * that took it in through this client, else any), the next one when a server does not answer.
 *
 * ```ts
 * const client = new PipelineClient("redis://127.0.0.1:6379", { timeoutMs: 1000 });
 * await client.connect();              // reads the registry: at least one live server, or throws
 * const [ok, job] = await client.enqueueJob({ name: "example-one", instructions: { size: 10 } });
 * ```
 */
import { UnknownPipelineError } from "../core/errors/unknown-pipeline-error.ts";
import { isFinal, type JobRecord } from "../core/job.ts";
import { FailoverIntake } from "./failover-intake.ts";
import type { CancelAnswer, EnqueueJobRequest, EnqueueJobResult, PipelineClient, PipelineClientOptions, RunJobAnswer, RunJobRequest } from "./pipeline-client.ts";
import { askInTurn, cancelThrough } from "./_ask-in-turn.ts";
import { ServerDirectory } from "./server-directory.ts";

/** Job id → pipeline, for jobs enqueued here (bounded). */
const OWNERS_MAX = 100_000;

export class DiscoveringClient {
  readonly address: string;
  readonly #options: PipelineClientOptions;
  readonly #makeClient: (address: string) => PipelineClient;
  readonly #intakes = new Map<string, FailoverIntake>();
  readonly #owners = new Map<string, string>();
  #directory: ServerDirectory<PipelineClient> | undefined;

  constructor(redisUri: string, options: PipelineClientOptions, makeClient: (address: string) => PipelineClient) {
    this.address = redisUri;
    this.#options = options;
    this.#makeClient = makeClient;
  }

  async connect(): Promise<void> {
    if (this.#directory !== undefined) return;
    const { ServerRegistry } = await import("../storage/redis/server-registry.ts");
    const directory = new ServerDirectory<PipelineClient>({ registry: new ServerRegistry({ redisUri: this.address }), clientFor: this.#makeClient });
    await directory.connect();
    this.#directory = directory;
  }

  async enqueueJob(request: EnqueueJobRequest): Promise<EnqueueJobResult> {
    const result = await this.#through<EnqueueJobResult>(request, (intake) => intake.enqueueJob(request), (unknown) => [false, unknown]);
    if (result[0]) this.#own(result[1].id, request.name);
    return result;
  }

  /** Enqueues and waits as one request on a server of the pipeline, the next one (same key) when one does not answer. */
  async runJob(request: RunJobRequest): Promise<RunJobAnswer> {
    const answer = await this.#through(request, (intake) => intake.runJob(request), (error): RunJobAnswer => ({ status: "refused", error }));
    if (answer.status === "pending") this.#own(answer.job.id, request.name);
    return answer;
  }

  /** The pipeline's failover intake does it; a pipeline no registered server serves is refused here. */
  async #through<R>(request: EnqueueJobRequest, send: (intake: FailoverIntake) => Promise<R>, refuse: (error: { code: UnknownPipelineError["code"]; message: string }) => R): Promise<R> {
    const directory = this.#connected();
    let intake = this.#intakes.get(request.name);
    if (intake === undefined) {
      intake = new FailoverIntake(request.name, () => directory.candidates(request.name), { deadlineMs: this.#deadlineMs });
      this.#intakes.set(request.name, intake);
    }
    if (directory.candidates(request.name).length === 0 && directory.all().length > 0) {
      const known = directory.pipelines().map((p) => p.pipeline.name);
      const unknown = new UnknownPipelineError(request.name, known);
      return refuse({ code: unknown.code, message: unknown.message });
    }
    return send(intake);
  }

  #own(jobId: string, pipeline: string): void {
    this.#owners.set(jobId, pipeline);
    if (this.#owners.size > OWNERS_MAX) this.#owners.delete(this.#owners.keys().next().value!);
  }

  async waitFor(jobId: string, options: { timeoutMs?: number } = {}): Promise<JobRecord> {
    const directory = this.#connected();
    const pipeline = this.#owners.get(jobId);
    const candidates = pipeline === undefined ? directory.all() : directory.candidates(pipeline);
    const { answer: job } = await askInTurn(candidates, (intake) => intake.waitFor(jobId, options), `no pipeline server registered in ${this.address} answered`);
    if (isFinal(job.status)) this.#owners.delete(jobId);
    return job;
  }

  /** Asks a server of the job's pipeline (else each in turn); see `cancelThrough`. */
  async cancel(jobId: string): Promise<CancelAnswer> {
    const directory = this.#connected();
    const pipeline = this.#owners.get(jobId);
    return cancelThrough(pipeline === undefined ? directory.all() : directory.candidates(pipeline), jobId, this.address);
  }

  close(): void {
    const directory = this.#directory;
    this.#directory = undefined;
    directory?.close().catch(() => {});
  }

  get #deadlineMs(): number {
    return Math.max(5000, 5 * (this.#options.timeoutMs ?? 1000));
  }

  #connected(): ServerDirectory<PipelineClient> {
    if (this.#directory === undefined) throw new Error("PipelineClient: call connect() first");
    return this.#directory;
  }
}
