/**
 * The gateway's routes as OpenAPI route definitions (@hono/zod-openapi `createRoute`): the zod
 * schemas here are the ones the routes validate path parameters, query strings and headers with,
 * and the ones `/openapi.json` is generated from. Query schemas are strict: an unknown parameter
 * is a 400, not silently ignored.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { JOB_STATUSES } from "../core/job.ts";
import { idempotencyKeySchema, instructionsSchema, integerString, jobIdSchema, waitSchema } from "./_schemas.ts";

const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi("Error", { description: "Every error answer: a code from the table in the README and a one-line message." });

const jsonError = (description: string) => ({ description, content: { "application/json": { schema: errorSchema } } });
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });

const jobErrorSchema = z.object({ name: z.string(), message: z.string(), stack: z.string().optional(), code: z.string().optional(), retryable: z.boolean().optional() }).openapi("JobError");

const attemptSchema = z
  .object({
    step: z.string(),
    stepIndex: z.number().int(),
    attempt: z.number().int(),
    outcome: z.enum(["succeeded", "failed", "dead", "cancelled"]),
    workerId: z.string().optional(),
    host: z.string().optional(),
    startedAt: z.number(),
    finishedAt: z.number(),
    error: jobErrorSchema.optional(),
    logs: z.array(z.object({ t: z.number(), level: z.enum(["debug", "info", "warn", "error"]), msg: z.string() })).optional(),
    dropped: z.number().int().optional(),
  })
  .openapi("Attempt", { description: "One finished attempt of a step: worker, host, times, outcome, error, the lines it wrote." });

export const jobRecordSchema = z
  .object({
    id: z.string(),
    pipeline: z.string(),
    route: z.array(z.string()),
    stepIndex: z.number().int(),
    step: z.string(),
    status: z.enum(JOB_STATUSES as [string, ...string[]]),
    attempts: z.number().int(),
    stalls: z.number().int().optional().openapi({ description: "times the job was handed back because its worker was lost or stopped with it in flight (not attempts); absent when none" }),
    instructions: z.record(z.string(), z.unknown()),
    input: z.record(z.string(), z.unknown()),
    result: z.unknown().optional(),
    error: jobErrorSchema.optional(),
    progress: z.object({ fraction: z.number(), message: z.string().optional() }).optional(),
    steps: z.array(z.object({ jobType: z.string(), output: z.unknown(), attempts: z.number().int(), startedAt: z.number(), finishedAt: z.number(), workerId: z.string().optional() })),
    createdAt: z.number(),
    updatedAt: z.number(),
    runAt: z.number().optional().openapi({ description: "a delayed job's start time, or a failed job's retry time (epoch ms, storage's clock)" }),
    priority: z.number().int().optional().openapi({ description: "1 to 9 (absent: 0); higher runs first at every step" }),
    startedAt: z.number().optional(),
    finishedAt: z.number().optional(),
    history: z.array(attemptSchema).optional(),
    cancelRequestedAt: z.number().optional().openapi({ description: "while it runs: when a cancel was asked for (it ends cancelled)" }),
  })
  .openapi("Job", { description: "A job record; times are epoch milliseconds." });

const scheduleSchema = z
  .object({
    name: z.string(),
    pipeline: z.string(),
    cron: z.string().openapi({ description: "5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first", example: "0 3 * * *" }),
    timezone: z.string().openapi({ description: "IANA time zone the cron fields are read in", example: "Europe/Paris" }),
    nextRun: z.string().nullable().openapi({ description: "ISO time of the next tick" }),
    lastRun: z.string().nullable().openapi({ description: "ISO time of the last tick that enqueued its job" }),
    lastJobId: z.string().nullable(),
    lastJobStatus: z.enum(JOB_STATUSES as [string, ...string[]]).nullable().openapi({ description: "the last job's status now (null once it aged out of retention)" }),
    failures: z.number().int().optional().openapi({ description: "ticks that failed in this process since it started (storage error, pipeline saturated); only where the schedule runs (mario up)" }),
  })
  .openapi("Schedule", { description: "A cron schedule: each tick enqueues one job (idempotency key schedule:<name>:<tick epoch ms>)." });

const acceptedSchema = z.object({ id: z.string(), pipeline: z.string(), status: z.string() }).openapi("Accepted");
const jobIdParams = z.object({ id: jobIdSchema.openapi({ param: { name: "id", in: "path" }, example: "0mz1x4k2p9a8b7c6d5e4f3" }) });
const pipelineParams = z.object({ name: z.string().min(1).openapi({ param: { name: "name", in: "path" }, example: "hash-and-clean" }) });
const noQuery = z.strictObject({});
const waitQuery = (maxWaitMs: number) => z.strictObject({ wait: waitSchema(maxWaitMs).optional() });
/** `POST /pipelines/{name}/jobs`: `?wait`, and when the job starts and its priority (text, checked by the engine: core/start-rules.ts). */
const enqueueQuery = (maxWaitMs: number) =>
  z.strictObject({
    wait: waitSchema(maxWaitMs).optional(),
    delay: z.string().optional().openapi({ description: "start no sooner than this many ms from now (0 to 2592000000, 30 days); not with runAt", example: "2000" }),
    runAt: z.string().optional().openapi({ description: "start no sooner than this time (ISO 8601 with a zone, or epoch ms): future, at most 30 days ahead; not with delay", example: "2026-12-01T10:00:00Z" }),
    priority: z.string().optional().openapi({ description: "0 (default) to 9: higher runs first at every step, FIFO within one priority", example: "5" }),
  });
const authHeader = z.object({ authorization: z.string().optional().openapi({ description: "Bearer <token>, when the gateway has one" }) });

const unauthorized = jsonError("token missing or wrong (when one is configured)");
const badRequest = jsonError("a malformed parameter, or an unknown query parameter");

/** A time in a query: epoch milliseconds, or an ISO 8601 date. */
const timeSchema = z
  .string()
  .transform((text, ctx) => {
    const value = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
    if (Number.isNaN(value)) {
      ctx.addIssue({ code: "custom", message: "must be epoch milliseconds or an ISO 8601 date" });
      return z.NEVER;
    }
    return value;
  })
  .openapi({ type: "string", example: "2026-12-01T10:00:00Z" });

const limitSchema = integerString.pipe(z.number().min(1).max(1000, "must be at most 1000"));

/** Filters shared by `GET /jobs` and `POST /pipelines/{name}/retry-dead`. */
const jobFilters = {
  step: z.string().min(1).optional().openapi({ description: "the job type the job is at (or, once finished, the last it reached)" }),
  since: timeSchema.optional().openapi({ description: "accepted at or after (epoch ms or ISO date)" }),
  until: timeSchema.optional().openapi({ description: "accepted at or before (epoch ms or ISO date)" }),
};

export const listJobsQuerySchema = z.strictObject({
  pipeline: z.string().min(1).optional(),
  status: z.enum(JOB_STATUSES as [string, ...string[]]).optional(),
  ...jobFilters,
  id: z.string().regex(/^[0-9a-z]{1,22}$/, "an id prefix is 1 to 22 characters of 0-9 and a-z").optional().openapi({ description: "the first characters of the job id" }),
  limit: limitSchema.optional().openapi({ description: "jobs per page, 1 to 1000 (default 50)" }),
  cursor: z.string().min(1).max(200).optional().openapi({ description: "from the `next` link of the previous page" }),
});

export function gatewayRoutes(maxWaitMs: number) {
  return {
    health: createRoute({
      method: "get", path: "/health", summary: "Liveness: 200 while the process serves", request: { query: noQuery },
      responses: { 200: json(z.object({ status: z.literal("ok") }), "serving") },
    }),
    ready: createRoute({
      method: "get", path: "/ready", summary: "Readiness: storage answers and the pipeline link is up", request: { query: noQuery, headers: authHeader },
      responses: { 200: json(z.object({ status: z.literal("ready") }), "ready"), 401: unauthorized, 503: jsonError("not ready, with the reason") },
    }),
    enqueue: createRoute({
      method: "post", path: "/pipelines/{name}/jobs", summary: "Enqueue a job; ?wait=ms waits for its end; ?delay=ms or ?runAt=ISO starts it later; ?priority=0-9",
      request: {
        params: pipelineParams,
        query: enqueueQuery(maxWaitMs),
        headers: authHeader.extend({ "idempotency-key": idempotencyKeySchema }),
        // Documented from the schema readInstructions validates with (after its depth and UTF-8 checks).
        body: { required: false, description: "the instructions: a JSON object (empty body = {})", content: { "application/json": { schema: z.toJSONSchema(instructionsSchema) as { type: "object" } } } },
      },
      responses: {
        200: json(jobRecordSchema, "with ?wait: the job ended in time (or a replayed key's job is final)"),
        202: json(z.union([acceptedSchema, jobRecordSchema]), "accepted (with ?wait: the job record, not final yet)"),
        400: jsonError("bad JSON, not an object, too deep, bad parameter, bad delay or runAt (INVALID_DELAY), bad priority (INVALID_PRIORITY)"),
        401: unauthorized,
        404: jsonError("unknown pipeline (the message lists the known ones)"),
        413: jsonError("body over the limit"),
        415: jsonError("not a JSON content type"),
        503: jsonError("saturated or storage unavailable (Retry-After)"),
      },
    }),
    listJobs: createRoute({
      method: "get", path: "/jobs", summary: "Jobs, newest first, filtered, a page at a time (the `next` link reads the next page)", request: { query: listJobsQuerySchema, headers: authHeader },
      responses: {
        200: json(z.object({ jobs: z.array(jobRecordSchema), next: z.string().optional().openapi({ description: "path of the next page; absent on the last" }) }), "a page of jobs (also a Link: <…>; rel=\"next\" header)"),
        400: badRequest, 401: unauthorized, 404: jsonError("unknown pipeline"),
      },
    }),
    jobLogs: createRoute({
      method: "get", path: "/jobs/{id}/logs", summary: "A job's log lines, attempt by attempt; ?follow streams them (server-sent events) until the job ends",
      request: { params: jobIdParams, query: z.strictObject({ follow: z.string().optional().openapi({ description: "present: stream `line`, `cut` and a last `end` event" }) }), headers: authHeader },
      responses: {
        200: {
          description: "the lines per attempt (JSON), or with ?follow an event stream",
          content: {
            "application/json": { schema: z.object({ id: z.string(), status: z.string(), attempts: z.array(attemptSchema.pick({ step: true, stepIndex: true, attempt: true, outcome: true, logs: true, dropped: true }).extend({ outcome: z.string().optional() })) }) },
            "text/event-stream": { schema: z.string() },
          },
        },
        400: badRequest, 401: unauthorized, 404: jsonError("no such job"),
      },
    }),
    deleteJob: createRoute({
      method: "delete", path: "/jobs/{id}", summary: "Forget a finished job (record, history, logs)", request: { params: jobIdParams, query: noQuery, headers: authHeader },
      responses: { 204: { description: "forgotten" }, 400: badRequest, 401: unauthorized, 404: jsonError("no such job"), 409: jsonError("the job is not finished") },
    }),
    retryDead: createRoute({
      method: "post", path: "/pipelines/{name}/retry-dead", summary: "Redrive the dead jobs of a pipeline (filtered by step and acceptance time; at most `limit`, default and maximum 1000, newest first)",
      request: { params: pipelineParams, query: z.strictObject({ ...jobFilters, limit: limitSchema.optional() }), headers: authHeader },
      responses: {
        202: json(z.object({ pipeline: z.string(), redriven: z.number().int(), ids: z.array(z.string()), more: z.boolean().openapi({ description: "more dead jobs matched than `limit`: call again" }) }), "requeued"),
        400: badRequest, 401: unauthorized, 404: jsonError("unknown pipeline"),
      },
    }),
    getJob: createRoute({
      method: "get", path: "/jobs/{id}", summary: "A job record; ?wait=ms long-polls until it ends", request: { params: jobIdParams, query: waitQuery(maxWaitMs), headers: authHeader },
      responses: { 200: json(jobRecordSchema, "the job (final, or as it is when ?wait runs out)"), 400: badRequest, 401: unauthorized, 404: jsonError("no such job") },
    }),
    retryJob: createRoute({
      method: "post", path: "/jobs/{id}/retry", summary: "Requeue a dead job at the step it died; a body (a JSON object) replaces that step's input",
      request: {
        params: jobIdParams, query: noQuery, headers: authHeader,
        body: { required: false, description: "new instructions for the step the job died at (empty: run it on what it had)", content: { "application/json": { schema: z.toJSONSchema(instructionsSchema) as { type: "object" } } } },
      },
      responses: { 202: json(acceptedSchema, "requeued"), 400: badRequest, 401: unauthorized, 404: jsonError("no such job"), 409: jsonError("the job is not dead") },
    }),
    cancelJob: createRoute({
      method: "post", path: "/jobs/{id}/cancel", summary: "Cancel a job: a queued, delayed or retry-waiting one at once (200); a running one is stopped (202, then it ends cancelled; ?wait=ms waits for that)",
      request: { params: jobIdParams, query: waitQuery(maxWaitMs), headers: authHeader },
      responses: {
        200: json(jobRecordSchema, "cancelled (the job record)"),
        202: json(jobRecordSchema.extend({ cancelRequested: z.literal(true) }), "running: its worker is told, it ends cancelled when its attempt ends (the job record as it is)"),
        400: badRequest, 401: unauthorized, 404: jsonError("no such job"), 409: jsonError("the job is already finished (ALREADY_FINISHED)"),
      },
    }),
    pipelines: createRoute({
      method: "get", path: "/pipelines", summary: "Pipelines, their steps, queue depth, in-flight and workers", request: { query: noQuery, headers: authHeader },
      responses: { 200: json(z.object({ pipelines: z.array(z.object({ name: z.string(), steps: z.array(z.object({ jobType: z.string() }).passthrough()) }).passthrough()) }), "the pipelines"), 401: unauthorized },
    }),
    workers: createRoute({
      method: "get", path: "/workers", summary: "Workers announced, with their jobs in flight", request: { query: noQuery, headers: authHeader },
      responses: { 200: json(z.object({ workers: z.array(z.object({ workerId: z.string(), jobType: z.string() }).passthrough()) }), "the workers"), 401: unauthorized },
    }),
    schedules: createRoute({
      method: "get", path: "/schedules", summary: "Cron schedules of the pipelines served: next run, last tick and the job it enqueued", request: { query: noQuery, headers: authHeader },
      responses: { 200: json(z.object({ schedules: z.array(scheduleSchema) }), "the schedules, by pipeline and name"), 400: badRequest, 401: unauthorized, 503: jsonError("storage unavailable") },
    }),
    metrics: createRoute({
      method: "get", path: "/metrics", summary: "Prometheus text format (see the README for every metric)", request: { query: noQuery, headers: authHeader },
      responses: { 200: { description: "metrics", content: { "text/plain": { schema: z.string() } } }, 401: unauthorized },
    }),
  };
}

/** Routes the dashboard serves (not validated here; listed so /openapi.json names every route). */
export const dashboardRoutes = [
  createRoute({ method: "get", path: "/", summary: "The live dashboard page", responses: { 200: { description: "HTML", content: { "text/html": { schema: z.string() } } } } }),
  createRoute({
    method: "get", path: "/dashboard/{file}", summary: "The dashboard's scripts and styles",
    request: { params: z.object({ file: z.string().openapi({ param: { name: "file", in: "path" } }) }) },
    responses: { 200: { description: "the file" }, 404: jsonError("no such file") },
  }),
  createRoute({
    method: "get", path: "/events", summary: "Server-sent events of the dashboard (snapshot, then changes)",
    request: { query: z.strictObject({ token: z.string().optional() }) },
    responses: { 200: { description: "an event stream", content: { "text/event-stream": { schema: z.string() } } }, 401: unauthorized },
  }),
];
