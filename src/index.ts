/**
 * mario-pipelines: pipelines of steps across processes and machines. This entry is the light one:
 * the job model, errors, the DSL (defineStep, definePipeline, Step, Pipeline, defineConfig),
 * LocalRunner, memory storage, the logger and the types a step needs. It loads neither ZeroMQ,
 * Redis nor hono; those are subpaths: `mario-pipelines/client` (PipelineClient),
 * `mario-pipelines/server` (PipelineServer, StepWorker), `mario-pipelines/gateway` (the HTTP
 * gateway and dashboard), `mario-pipelines/storage/redis` (RedisStorageBackend),
 * `mario-pipelines/project` (loadProject) and `mario-pipelines/adapters/<shape>`.
 *
 * ```ts
 * import { LocalRunner, defineStep, definePipeline } from "mario-pipelines";
 * const double = defineStep("double", ({ n }) => ({ n: Number(n) * 2 }));
 * const runner = new LocalRunner({ pipelines: [definePipeline("math", [double])], steps: [double] });
 * await runner.start();
 * const { job } = await runner.enqueue("math", { n: 21 });
 * console.log((await runner.waitFor(job.id)).result); // { n: 42 }
 * await runner.stop();
 * ```
 */
export type { Instructions, JobError, JobProgress, JobRecord, JobStatus, StepRecord } from "./core/job.ts";
export { JOB_STATUSES, isFinal, toJobError } from "./core/job.ts";
export type { JobSummary } from "./core/job-summary.ts";
export type { PipelineDefinition } from "./core/pipeline-definition.ts";
export { validatePipelines, findPipeline } from "./core/pipeline-definition.ts";
export type { StepConfig, StepPolicy } from "./core/step-config.ts";
export { resolveStepPolicy } from "./core/step-config.ts";
export type { RetryPolicy, RetryOptions, BackoffOptions } from "./core/retry-policy.ts";
export { normalizeRetryPolicy, backoffDelay } from "./core/retry-policy.ts";
export { decideAfterSuccess, decideAfterFailure } from "./core/pipeline-flow.ts";
export { sanitizeName, isValidName } from "./core/names.ts";
export { parsePort, parseAddress, formatAddress } from "./core/address.ts";
export type { Endpoint } from "./core/address.ts";
export { newId } from "./core/ids.ts";

export { MarioError } from "./core/errors/mario-error.ts";
export { UnknownPipelineError } from "./core/errors/unknown-pipeline-error.ts";
export { UnknownJobTypeError } from "./core/errors/unknown-job-type-error.ts";
export { InvalidInstructionsError } from "./core/errors/invalid-instructions-error.ts";
export { InvalidOutputError } from "./core/errors/invalid-output-error.ts";
export { InvalidConfigError } from "./core/errors/invalid-config-error.ts";
export { StepTimeoutError } from "./core/errors/step-timeout-error.ts";
export { ProtocolError } from "./core/errors/protocol-error.ts";
export { StorageUnavailableError } from "./core/errors/storage-unavailable-error.ts";
export { LeaseLostError } from "./core/errors/lease-lost-error.ts";
export { JobNotFoundError } from "./core/errors/job-not-found-error.ts";
export { AlreadyFinishedError } from "./core/errors/already-finished-error.ts";
export { CancelledError } from "./core/errors/cancelled-error.ts";
export { BusyError } from "./core/errors/busy-error.ts";
export { ShutdownError } from "./core/errors/shutdown-error.ts";
export { TooDeepError } from "./core/errors/too-deep-error.ts";
export { InvalidRequestError } from "./core/errors/invalid-request-error.ts";
export { InvalidDelayError } from "./core/errors/invalid-delay-error.ts";
export { InvalidPriorityError } from "./core/errors/invalid-priority-error.ts";
export { WaitTimeoutError } from "./core/errors/wait-timeout-error.ts";
export { UsageError } from "./core/errors/usage-error.ts";
export { NoWorkerError } from "./core/errors/no-worker-error.ts";
export { DeliveryError } from "./core/errors/delivery-error.ts";
export { ERROR_CODES, isErrorCode, type ErrorCode } from "./core/errors/error-codes.ts";
export { errorFromCode, asMarioError } from "./core/errors/error-from-code.ts";
export { NonRetryableError } from "./core/errors/non-retryable-error.ts";

export type {
  StorageBackend,
  StorageOptions,
  EnqueueRequest,
  EnqueueOutcome,
  Lease,
  Settlement,
  SettleResult,
  WorkerInfo,
  PipelineStats,
  StepStats,
  ListJobsQuery,
} from "./storage/storage-backend.ts";
export { MemoryStorageBackend } from "./storage/memory/memory-storage-backend.ts";

export type { StepContext, StepHandler, Delivery, StepOutcome, DispatchTarget } from "./engine/delivery.ts";
export type { StepDefinition } from "./engine/step-definition.ts";
export { Dispatcher } from "./engine/dispatcher.ts";
export { waitForFinal } from "./engine/wait-for-final.ts";
export type { DispatcherEvents, DispatcherOptions, JobFinishedEvent } from "./engine/dispatcher.ts";
export { LocalRunner } from "./engine/local-runner.ts";
export type { LocalRunnerOptions } from "./engine/local-runner.ts";
export { runAttempt } from "./engine/step-runner.ts";

export { Step } from "./dsl/step.ts";
export { Pipeline } from "./dsl/pipeline.ts";
export { defineStep, definePipeline } from "./dsl/define.ts";
export { defineConfig } from "./config/mario-config.ts";
export type { MarioConfig, MarioConfigInput } from "./config/mario-config.ts";

export { createLogger, silentLogger } from "./log/logger.ts";
export type { Logger, LogFields, LogLevel } from "./log/logger.ts";

export { NoAnswerError } from "./core/errors/no-answer-error.ts";
export { RemoteError } from "./core/errors/remote-error.ts";
export type { Cluster, ClusterEvents, Readiness } from "./engine/cluster.ts";
