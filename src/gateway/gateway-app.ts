/**
 * The HTTP gateway (hono), built on the `Cluster` interface only, so the same app serves the
 * engine in this process (`mario up`) or pipeline servers elsewhere (`mario gateway`).
 *
 * ```ts
 * const runner = new LocalRunner({ pipelines, steps });
 * await runner.start();
 * const app = createGatewayApp(new DispatcherCluster(runner.dispatcher), { token: "s3cret" });
 * const res = await app.request("/pipelines/math/jobs?wait=5000", {
 *   method: "POST", headers: { "content-type": "application/json", authorization: "Bearer s3cret" },
 *   body: JSON.stringify({ n: 21 }) });               // 200, the final job record
 * ```
 *
 * Routes (DESIGN.md §4): POST /pipelines/:name/jobs, GET /jobs/:id, POST /jobs/:id/retry,
 * GET /jobs, GET /pipelines, GET /workers, GET /health, GET /ready, GET /metrics, and the
 * dashboard at GET / and GET /events. Errors answer `{error: {code, message}}`.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { BusyError } from "../core/errors/busy-error.ts";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { JobNotFoundError } from "../core/errors/job-not-found-error.ts";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { isFinal, type JobStatus } from "../core/job.ts";
import { findPipeline } from "../core/pipeline-definition.ts";
import type { Cluster } from "../engine/cluster.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import { bearerAuth } from "./_auth.ts";
import { createDashboardApp } from "./dashboard/dashboard-app.ts";
import { errorResponse } from "./_error-response.ts";
import { readInstructions, requireJson } from "./_read-json.ts";
import { enqueueQuerySchema, idempotencyKeySchema, jobIdSchema, listJobsQuerySchema, parseOr400 } from "./_schemas.ts";
import { pipelineViews } from "./_views.ts";
import { HttpError } from "./http-error.ts";
import { METRICS_CONTENT_TYPE, renderMetrics, renderReadiness } from "./metrics.ts";

export interface GatewayOptions {
  /** Bearer token required on every route but `/health` (and the dashboard's own). Default: none. */
  token?: string | undefined;
  /** Largest request body, bytes. Default 1 MiB. */
  maxBodyBytes?: number | undefined;
  /** Deepest nesting of arrays/objects accepted in a body. Default 64. */
  maxDepth?: number | undefined;
  /** Largest `?wait=` accepted, ms. Default 60 000. */
  maxWaitMs?: number | undefined;
  /** `Retry-After` sent with a 503, seconds. Default 1. */
  retryAfterSeconds?: number | undefined;
  /**
   * Aborted when the process shuts down: every open `?wait` answers at once with the job's
   * current record (202, or 200 if it is final), and new enqueues answer 503 SHUTDOWN.
   */
  shutdown?: AbortSignal | undefined;
  logger?: Logger | undefined;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function createGatewayApp(cluster: Cluster, options: GatewayOptions = {}): Hono {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxDepth = options.maxDepth ?? 64;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const errorOptions = { retryAfterSeconds: options.retryAfterSeconds ?? 1, logger: options.logger ?? silentLogger };
  const auth = bearerAuth(options.token);
  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () => {
      throw new HttpError(ERROR_CODES.PAYLOAD_TOO_LARGE, `body larger than ${maxBodyBytes} bytes`);
    },
  });
  const waitQuery = enqueueQuerySchema(maxWaitMs);

  const app = new Hono();
  app.onError((error, c) => errorResponse(error, c, errorOptions));
  app.notFound((c) => c.json({ error: { code: ERROR_CODES.NOT_FOUND, message: `no route ${c.req.method} ${c.req.path}` } }, 404));

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.get("/ready", auth, async (c) => {
    const readiness = await cluster.ready();
    if (readiness.ok) return c.json({ status: "ready" });
    return c.json({ error: { code: ERROR_CODES.NOT_READY, message: readiness.reason } }, 503);
  });

  app.post("/pipelines/:name/jobs", auth, requireJson, limit, async (c) => {
    const pipeline = findPipeline(cluster.pipelines(), c.req.param("name")).name;
    if (options.shutdown?.aborted === true) throw new ShutdownError("shutting down: send the job to another server, or again once this one is back");
    const { wait } = parseOr400(waitQuery, c.req.query(), "query");
    const idempotencyKey = parseOr400(idempotencyKeySchema, c.req.header("idempotency-key"), "Idempotency-Key");
    const instructions = await readInstructions(c, maxDepth);
    const outcome = await cluster.enqueue(pipeline, instructions, { idempotencyKey });
    if (outcome.status === "busy") throw new BusyError(`pipeline "${pipeline}" is saturated, try again later`);
    const job = outcome.job;
    c.header("Location", `/jobs/${job.id}`);
    if (outcome.status === "duplicate") c.header("Idempotent-Replayed", "true");
    if (wait === undefined) {
      // 202 while the job runs; a replayed key whose job is already final answers 200.
      return c.json({ id: job.id, pipeline: job.pipeline, status: job.status }, isFinal(job.status) ? 200 : 202);
    }
    const record = (await cluster.waitFor(job.id, wait, options.shutdown)) ?? job;
    return c.json(record, isFinal(record.status) ? 200 : 202);
  });

  app.get("/jobs", auth, async (c) => {
    const query = parseOr400(listJobsQuerySchema, c.req.query(), "query");
    if (query.pipeline !== undefined) findPipeline(cluster.pipelines(), query.pipeline);
    const jobs = await cluster.listJobs({ pipeline: query.pipeline, status: query.status as JobStatus | undefined, limit: query.limit });
    return c.json({ jobs });
  });

  app.get("/jobs/:id", auth, async (c) => {
    const id = parseOr400(jobIdSchema, c.req.param("id"), "job id");
    const { wait } = parseOr400(waitQuery, c.req.query(), "query");
    const job = await cluster.getJob(id);
    if (job === undefined) throw new JobNotFoundError(`no job ${id} (never enqueued, or aged out of retention)`);
    if (wait === undefined || isFinal(job.status)) return c.json(job);
    return c.json((await cluster.waitFor(id, wait)) ?? job);
  });

  app.post("/jobs/:id/retry", auth, async (c) => {
    const id = parseOr400(jobIdSchema, c.req.param("id"), "job id");
    const job = await cluster.getJob(id);
    if (job === undefined) throw new JobNotFoundError(`no job ${id} (never enqueued, or aged out of retention)`);
    if (!(await cluster.redrive(id))) {
      const now = (await cluster.getJob(id))?.status ?? job.status;
      throw new HttpError(ERROR_CODES.NOT_DEAD, `job ${id} is ${now}: only dead jobs can be retried`);
    }
    c.header("Location", `/jobs/${id}`);
    return c.json({ id, pipeline: job.pipeline, status: "queued" }, 202);
  });

  app.get("/pipelines", auth, async (c) => {
    const [stats, workers] = await Promise.all([cluster.stats(), cluster.workers()]);
    return c.json({ pipelines: pipelineViews(cluster.pipelines(), stats, workers) });
  });

  app.get("/workers", auth, async (c) => c.json({ workers: await cluster.workers() }));

  app.get("/metrics", auth, async (c) => {
    const [stats, workers, readiness] = await Promise.all([cluster.stats(), cluster.workers(), cluster.ready()]);
    return c.body(renderMetrics(stats, workers) + renderReadiness(readiness), 200, { "content-type": METRICS_CONTENT_TYPE });
  });

  app.route("/", createDashboardApp(cluster, { token: options.token }));
  return app;
}
