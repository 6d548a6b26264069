/**
 * `mario-pipelines/server`: a pipeline server and step workers over ZeroMQ, in your own process
 * (what `mario pipeline` and `mario step` run). Loads zeromq, never hono; storage is memory
 * unless you pass one (`RedisStorageBackend` from `mario-pipelines/storage/redis`).
 *
 * ```ts
 * import { defineStep, MemoryStorageBackend } from "mario-pipelines";
 * import { InProcessExecutor, PipelineServer, StepWorker } from "mario-pipelines/server";
 * const server = new PipelineServer({ pipelines: [{ name: "math", steps: ["double"] }], storage: new MemoryStorageBackend(),
 *   subBind: "tcp://127.0.0.1:6000", jobPullBind: "tcp://127.0.0.1:5050" });
 * await server.start();
 * const double = defineStep("double", ({ n }) => ({ n: Number(n) * 2 }));
 * const worker = new StepWorker({ executor: new InProcessExecutor(double), subConnect: "tcp://127.0.0.1:6000" });
 * await worker.start();
 * ```
 */
export { PipelineServer } from "../transport/pipeline-server.ts";
export type { PipelineServerOptions, PipelineHooks } from "../transport/pipeline-server.ts";
export { StepWorker } from "../transport/step-worker.ts";
export type { StepWorkerOptions } from "../transport/step-worker.ts";
export { InProcessExecutor } from "../engine/step-executor.ts";
export type { StepExecutor, ExecuteHooks } from "../engine/step-executor.ts";
