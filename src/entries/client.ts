/**
 * `mario-pipelines/client`: the native client of a pipeline server, over ZeroMQ. Loads zeromq
 * (and zod), never ioredis or hono.
 *
 * ```ts
 * import { PipelineClient } from "mario-pipelines/client";
 * const client = new PipelineClient("tcp://127.0.0.1:5050");
 * await client.connect();
 * const [ok, payload] = await client.enqueueJob({ name: "example-one", instructions: { size: 10 } });
 * if (ok) console.log((await client.waitFor(payload.id)).status); // "succeeded"
 * await client.close();
 * ```
 */
export { PipelineClient } from "../transport/pipeline-client.ts";
export type { PipelineClientOptions, EnqueueJobRequest, EnqueueJobResult } from "../transport/pipeline-client.ts";
export { NoAnswerError } from "../core/errors/no-answer-error.ts";
export { RemoteError } from "../core/errors/remote-error.ts";
export { BusyError } from "../core/errors/busy-error.ts";
export { UnknownPipelineError } from "../core/errors/unknown-pipeline-error.ts";
export type { Instructions, JobRecord, JobStatus } from "../core/job.ts";
export type { JobSummary } from "../core/job-summary.ts";
