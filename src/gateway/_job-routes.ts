/**
 * The job routes of the gateway: find (`GET /jobs`, cursor paging), read (`GET /jobs/:id`, with
 * `?wait` long-polling), logs (`GET /jobs/:id/logs`, `?follow` as server-sent events), redrive
 * (`POST /jobs/:id/retry`, optionally with new instructions; `POST /pipelines/:name/retry-dead`),
 * forget (`DELETE /jobs/:id`), cancel (`POST /jobs/:id/cancel`).
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { streamSSE } from "hono/streaming";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import { AlreadyFinishedError } from "../core/errors/already-finished-error.ts";
import { JobNotFoundError } from "../core/errors/job-not-found-error.ts";
import { isFinal, type AttemptRecord, type JobRecord, type JobStatus } from "../core/job.ts";
import type { LogLine } from "../core/job-logs.ts";
import { findPipeline } from "../core/pipeline-definition.ts";
import type { Cluster } from "../engine/cluster.ts";
import { LiveLogs } from "./_live-logs.ts";
import { readInstructions, requireJson } from "./_read-json.ts";
import type { gatewayRoutes } from "./_routes.ts";
import { HttpError } from "./http-error.ts";

interface Middlewares {
  auth: MiddlewareHandler;
  /** Largest request body, bytes. */
  maxBodyBytes: number;
  /** Aborted on shutdown: open long polls answer at once. */
  shutdown?: AbortSignal | undefined;
}

/** Longest a `?follow` stream stays open, ms: one hour (a client may open another). */
const MAX_FOLLOW_MS = 3_600_000;

export interface AttemptLogs {
  step: string;
  stepIndex?: number | undefined;
  attempt: number;
  /** Absent while the attempt runs. */
  outcome?: AttemptRecord["outcome"] | undefined;
  logs: LogLine[];
  dropped: number;
}

export function registerJobRoutes(app: OpenAPIHono, cluster: Cluster, routes: ReturnType<typeof gatewayRoutes>, m: Middlewares): void {
  const live = new LiveLogs(cluster);
  const notFound = (id: string): JobNotFoundError => new JobNotFoundError(`no job ${id} (never enqueued, or aged out of retention)`);
  const mustGet = async (id: string): Promise<JobRecord> => {
    const job = await cluster.getJob(id);
    if (job === undefined) throw notFound(id);
    return job;
  };

  app.openapi({ ...routes.listJobs, middleware: [m.auth] }, async (c) => {
    const query = c.req.valid("query");
    if (query.pipeline !== undefined) findPipeline(cluster.pipelines(), query.pipeline);
    const page = await cluster.findJobs({ ...query, status: query.status as JobStatus | undefined, idPrefix: query.id });
    if (page.next === undefined) return c.json({ jobs: page.jobs } as never, 200);
    const params = new URLSearchParams(Object.entries(c.req.queries()).flatMap(([k, vs]) => vs.map((v) => [k, v])).filter(([k]) => k !== "cursor"));
    params.set("cursor", page.next);
    const next = `/jobs?${params.toString()}`;
    c.header("Link", `<${next}>; rel="next"`);
    return c.json({ jobs: page.jobs, next } as never, 200);
  });

  app.openapi({ ...routes.getJob, middleware: [m.auth] }, async (c) => {
    const { id } = c.req.valid("param");
    const { wait } = c.req.valid("query");
    const job = await mustGet(id);
    const answer: JobRecord = wait === undefined || isFinal(job.status) ? job : ((await cluster.waitFor(id, wait, m.shutdown)) ?? job);
    return c.json(answer as never, 200);
  });

  app.openapi({ ...routes.jobLogs, middleware: [m.auth] }, async (c) => {
    const { id } = c.req.valid("param");
    const { follow } = c.req.valid("query");
    const job = await mustGet(id);
    if (follow === undefined) return c.json({ id, status: job.status, attempts: attemptLogs(job, live.of(id)) } as never, 200);
    return followLogs(c, cluster, live, job);
  });

  app.openapi({ ...routes.retryJob, middleware: [m.auth, requireJson] }, async (c) => {
    const { id } = c.req.valid("param");
    const job = await mustGet(id);
    const body = await readInstructions(c, job.pipeline, m.maxBodyBytes, { emptyIsNone: true });
    if (!(await cluster.redrive(id, body === undefined ? {} : { input: body }))) {
      const now = (await cluster.getJob(id))?.status ?? job.status;
      throw new HttpError(ERROR_CODES.NOT_DEAD, `job ${id} is ${now}: only dead or cancelled jobs can be retried`);
    }
    c.header("Location", `/jobs/${id}`);
    return c.json({ id, pipeline: job.pipeline, status: "queued" }, 202);
  });

  app.openapi({ ...routes.deleteJob, middleware: [m.auth] }, async (c) => {
    const { id } = c.req.valid("param");
    const result = await cluster.deleteJob(id);
    if (result === "missing") throw notFound(id);
    if (result === "not-finished") {
      const status = (await cluster.getJob(id))?.status ?? "unfinished";
      throw new HttpError(ERROR_CODES.NOT_FINISHED, `job ${id} is ${status}: only a finished job (succeeded, dead or cancelled) can be forgotten`);
    }
    return c.body(null, 204);
  });

  app.openapi({ ...routes.cancelJob, middleware: [m.auth] }, async (c) => {
    const { id } = c.req.valid("param");
    const { wait } = c.req.valid("query");
    const answer = await cluster.cancel(id);
    if (answer.status === "missing") throw notFound(id);
    if (answer.status === "final") throw new AlreadyFinishedError(`job ${id} is already ${answer.job.status}: only a queued, delayed, failed (waiting for a retry) or running job can be cancelled`);
    if (answer.status === "cancelled") return c.json(answer.job as never, 200);
    const ended = wait === undefined ? undefined : await cluster.waitFor(id, wait, m.shutdown);
    if (ended !== undefined && isFinal(ended.status)) return c.json(ended as never, 200);
    return c.json({ ...(ended ?? answer.job), cancelRequested: true } as never, 202);
  });

  app.openapi({ ...routes.retryDead, middleware: [m.auth] }, async (c) => {
    const { name } = c.req.valid("param");
    const { ids, pipeline, more } = await cluster.redriveDead(name, c.req.valid("query"));
    return c.json({ pipeline, redriven: ids.length, ids, more }, 202);
  });
}

/** The job's lines per attempt: every finished one (history), then the running one, if it wrote any yet. */
export function attemptLogs(job: JobRecord, running: { step: string; attempt: number; lines: LogLine[] } | undefined): AttemptLogs[] {
  const attempts: AttemptLogs[] = (job.history ?? []).map((a) => ({ step: a.step, stepIndex: a.stepIndex, attempt: a.attempt, outcome: a.outcome, logs: a.logs ?? [], dropped: a.dropped ?? 0 }));
  if (running !== undefined && !isFinal(job.status)) attempts.push({ step: running.step, attempt: running.attempt, logs: running.lines, dropped: 0 });
  return attempts;
}

/**
 * `?follow`: `line` events (step, attempt, t, level, msg) for what is stored, then for what the
 * job writes as it runs, `cut` where the limit dropped lines, and `end` with the final status.
 */
function followLogs(c: Context, cluster: Cluster, live: LiveLogs, first: JobRecord): Response {
  c.header("X-Accel-Buffering", "no");
  return streamSSE(c, async (stream) => {
    let closed = false;
    stream.onAbort(() => {
      closed = true;
    });
    /** Lines sent per finished attempt (by history index), and of the running one. */
    let finishedSent = 0;
    let runningSent = 0;
    let job: JobRecord | undefined = first;
    const deadline = Date.now() + MAX_FOLLOW_MS;
    const send = async (event: string, data: object): Promise<void> => stream.writeSSE({ event, data: JSON.stringify(data) });
    while (!closed && job !== undefined) {
      const history = job.history ?? [];
      for (; finishedSent < history.length; finishedSent++) {
        const a = history[finishedSent]!;
        // The running attempt's lines already sent are the first of its stored ones.
        for (const line of (a.logs ?? []).slice(runningSent)) await send("line", { step: a.step, attempt: a.attempt, ...line });
        if ((a.dropped ?? 0) > 0) await send("cut", { step: a.step, attempt: a.attempt, dropped: a.dropped });
        runningSent = 0;
      }
      if (isFinal(job.status)) {
        await send("end", { id: job.id, status: job.status });
        return;
      }
      const running = live.of(job.id);
      if (running !== undefined) {
        for (const line of running.lines.slice(runningSent)) await send("line", { step: running.step, attempt: running.attempt, ...line });
        runningSent = running.lines.length;
      }
      if (Date.now() > deadline) {
        await send("end", { id: job.id, status: job.status, reason: "follow limit reached" });
        return;
      }
      await live.changed(job.id, cluster.reportsSteps ? 1000 : 500);
      job = await cluster.getJob(first.id);
    }
    if (!closed) await send("end", { id: first.id, status: "forgotten" });
  });
}
