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
 * Routes (README, "HTTP API"): POST /pipelines/:name/jobs, GET /jobs/:id, GET /jobs/:id/logs,
 * POST /jobs/:id/retry, DELETE /jobs/:id, POST /pipelines/:name/retry-dead, GET /jobs,
 * GET /pipelines, GET /workers, GET /schedules, GET /health, GET /ready, GET /metrics, GET
 * /openapi.json, and the dashboard at GET / and GET /events. Errors answer `{error: {code,
 * message}}`. The routes are OpenAPI route definitions (`_routes.ts`): the zod schemas they
 * validate with generate `/openapi.json`. A wrong method is a 405 with `Allow`, an unknown query
 * parameter a 400; `cors` sends CORS headers for one origin (or a list).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, Hono } from "hono";
import { cors } from "hono/cors";
import { ownPackage } from "../_own-package.ts";
import { BusyError } from "../core/errors/busy-error.ts";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { ShutdownError } from "../core/errors/shutdown-error.ts";
import { isFinal } from "../core/job.ts";
import { findPipeline } from "../core/pipeline-definition.ts";
import type { Cluster, ClusterRunOutcome } from "../engine/cluster.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import { bearerAuth } from "./_auth.ts";
import { createDashboardApp } from "./dashboard/dashboard-app.ts";
import { errorResponse } from "./_error-response.ts";
import { acceptedAnswer, enqueueRequestReader } from "./_enqueue-request.ts";
import { registerJobRoutes } from "./_job-routes.ts";
import { notFoundOrNotAllowed } from "./_method-guard.ts";
import { readInstructions } from "./_read-json.ts";
import { dashboardRoutes, gatewayRoutes } from "./_routes.ts";
import { validationHook } from "./_schemas.ts";
import { pipelineViews } from "./_views.ts";
import { METRICS_CONTENT_TYPE, renderAllMetrics, renderReadiness } from "./metrics.ts";

export interface GatewayOptions {
  /** Bearer token required on every route but `/health` (and the dashboard's own). Default: none. */
  token?: string | undefined;
  /** Largest request body, bytes. Default 1 MiB. */
  maxBodyBytes?: number | undefined;
  /** Largest `?wait=` accepted, ms. Default 60 000. */
  maxWaitMs?: number | undefined;
  /** `Retry-After` sent with a 503, seconds. Default 1. */
  retryAfterSeconds?: number | undefined;
  /**
   * Aborted when the process shuts down: every open `?wait` answers at once with the job's
   * current record (202, or 200 if it is final), and new enqueues answer 503 SHUTDOWN.
   */
  shutdown?: AbortSignal | undefined;
  /** Origin(s) allowed to call the API from a browser (CORS), e.g. `https://app.example.com`, or `*`. Default: none (no CORS headers). */
  cors?: string | readonly string[] | undefined;
  logger?: Logger | undefined;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const VERSION = ownPackage().json.version;

export function createGatewayApp(cluster: Cluster, options: GatewayOptions = {}): Hono {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const errorOptions = { retryAfterSeconds: options.retryAfterSeconds ?? 1, logger: options.logger ?? silentLogger };
  const auth = bearerAuth(options.token);
  const routes = gatewayRoutes(maxWaitMs);

  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError((error, c) => errorResponse(error, c, errorOptions));
  if (options.cors !== undefined) {
    app.use("*", cors({
      origin: typeof options.cors === "string" ? options.cors : options.cors.includes("*") ? "*" : [...options.cors],
      allowHeaders: ["authorization", "content-type", "idempotency-key"],
      exposeHeaders: ["location", "retry-after", "idempotent-replayed", "allow"],
      allowMethods: ["GET", "HEAD", "POST", "DELETE", "OPTIONS"],
      maxAge: 600,
    }));
  }

  app.openapi(routes.health, (c) => c.json({ status: "ok" as const }, 200));

  app.openapi({ ...routes.ready, middleware: [auth] }, async (c) => {
    const readiness = await cluster.ready();
    if (readiness.ok) return c.json({ status: "ready" as const }, 200);
    return c.json({ error: { code: ERROR_CODES.NOT_READY, message: readiness.reason } }, 503);
  });

  // The busiest route: its checks by hand, with the route's zod schemas (_enqueue-request.ts); documented as the OpenAPI route it is.
  app.openAPIRegistry.registerPath(routes.enqueue);
  const readEnqueue = enqueueRequestReader(routes.enqueue, options.token);
  app.post("/pipelines/:name/jobs", async (c) => {
    const { name, wait, delay, runAt, priority, idempotencyKey } = readEnqueue(c);
    const pipeline = findPipeline(cluster.pipelines(), name).name;
    if (options.shutdown?.aborted === true) throw new ShutdownError("shutting down: send the job to another server, or again once this one is back");
    const instructions = await readInstructions(c, pipeline, maxBodyBytes);
    const enqueue = { idempotencyKey, delayMs: delay, runAt, priority };
    // ?wait: one request where the cluster can (a remote server's `runs`), else enqueue then wait.
    if (wait !== undefined && cluster.run !== undefined) return answerRun(c, pipeline, await cluster.run(pipeline, instructions, { ...enqueue, waitMs: wait, signal: options.shutdown }));
    const outcome = await cluster.enqueue(pipeline, instructions, enqueue);
    if (outcome.status === "busy") throw new BusyError(`pipeline "${pipeline}" is saturated, try again later`);
    const job = outcome.job;
    // 202 while the job runs; a replayed key whose job is already final answers 200.
    if (wait === undefined) return acceptedAnswer(job, isFinal(job.status) ? 200 : 202, outcome.status === "duplicate");
    const record = (await cluster.waitFor(job.id, wait, options.shutdown)) ?? (await cluster.getJob(job.id));
    if (record === undefined) return acceptedAnswer(job, 202, outcome.status === "duplicate");
    return answerRun(c, pipeline, { status: outcome.status, job: record });
  });

  registerJobRoutes(app, cluster, routes, { auth, maxBodyBytes, shutdown: options.shutdown });

  app.openapi({ ...routes.pipelines, middleware: [auth] }, async (c) => {
    const [stats, workers] = await Promise.all([cluster.stats(), cluster.workers()]);
    return c.json({ pipelines: pipelineViews(cluster.pipelines(), stats, workers) } as never, 200);
  });

  app.openapi({ ...routes.workers, middleware: [auth] }, async (c) => c.json({ workers: await cluster.workers() } as never, 200));

  app.openapi({ ...routes.schedules, middleware: [auth] }, async (c) => c.json({ schedules: (await cluster.schedules?.()) ?? [] } as never, 200));

  app.openapi({ ...routes.metrics, middleware: [auth] }, async (c) => {
    const [stats, workers, readiness] = await Promise.all([cluster.stats(), cluster.workers(), cluster.ready()]);
    return c.body(renderReadiness(readiness) + (await renderAllMetrics(stats, workers, { version: VERSION })), 200, { "content-type": METRICS_CONTENT_TYPE }) as never;
  });

  for (const route of dashboardRoutes) app.openAPIRegistry.registerPath(route);
  app.openAPIRegistry.registerPath({
    method: "get", path: "/openapi.json", summary: "This document (OpenAPI 3.1)",
    responses: { 200: { description: "the OpenAPI document", content: { "application/json": { schema: { type: "object" } } } } },
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Mario HTTP API", version: VERSION, description: "Pipelines of steps: enqueue jobs, follow them, redrive the dead. Errors are {error: {code, message}}." },
  });

  app.route("/", createDashboardApp(cluster, { token: options.token }));
  app.notFound(notFoundOrNotAllowed(app));
  return app;
}

/** `POST …/jobs?wait` answered from a run: 200 with the record when final, else 202 with it as it is. */
function answerRun(c: Context, pipeline: string, outcome: ClusterRunOutcome): Response {
  if (outcome.status === "busy") throw new BusyError(`pipeline "${pipeline}" is saturated, try again later`);
  c.header("Location", `/jobs/${outcome.job.id}`);
  if (outcome.status === "duplicate") c.header("Idempotent-Replayed", "true");
  return c.json(outcome.job, isFinal(outcome.job.status) ? 200 : 202);
}
