/**
 * `mario up [dir]`: everything in one process: the pipelines of mario.config, every function of
 * functions/ (each also a one-step pipeline), the HTTP gateway and the dashboard. Memory storage
 * unless `--redis=URL` or REDIS_URL. Prints the URL to open and a ready-to-paste curl line.
 *
 * ```
 * mario up                          # ./mario.config.* (or ./functions) on http://127.0.0.1:8080/
 * mario up my-functions --port=0    # a functions folder, on a free port
 * mario up --host=0.0.0.0 --token=s3cret --redis=redis://127.0.0.1:6379
 * mario up --watch                  # reload function files and mario.config on save
 * ```
 */
import { defineCommand } from "citty";
import { setMaxListeners } from "node:events";
import { relative } from "node:path";
import type { FunctionStep } from "../../functions/step-from-module.ts";
import { loadProject, type Project } from "../../config/load-project.ts";
import { UsageError } from "../../core/errors/usage-error.ts";
import type { Instructions } from "../../core/job.ts";
import type { PipelineDefinition } from "../../core/pipeline-definition.ts";
import { DispatcherCluster } from "../../engine/dispatcher-cluster.ts";
import { LocalRunner } from "../../engine/local-runner.ts";
import { InProcessExecutor, type StepExecutor } from "../../engine/step-executor.ts";
import type { StepDefinition } from "../../engine/step-definition.ts";
import { createGatewayApp } from "../../gateway/gateway-app.ts";
import { serveGateway } from "../../gateway/serve-gateway.ts";
import { bundleFunction } from "../../functions/bundle-function.ts";
import { ThreadExecutor } from "../../host/thread-executor.ts";
import { WatchedProject } from "../../host/watched-project.ts";
import { createLogger, type Logger } from "../../log/logger.ts";
import { writeBatchedStderr } from "../../log/stderr-batch.ts";
import { cacheDirFlag, nonEmpty, wholeNumberFlag } from "../_flags.ts";
import { httpFlags, httpOptionsFrom } from "../_http-flags.ts";
import { untilShutdownSignal } from "../_shutdown.ts";
import { redisFlags, storageFlags, storageFrom } from "../_storage-flags.ts";

export default defineCommand({
  meta: { name: "up", description: "Run pipelines, functions, gateway and dashboard in one process" },
  args: {
    ...cacheDirFlag,
    dir: { type: "positional", required: false, description: "project root (with mario.config.*) or a functions folder; default: current folder" },
    ...httpFlags,
    redis: { type: "string", description: "Redis storage URL (default REDIS_URL, else memory)" },
    namespace: { type: "string", default: "mario", description: "Redis namespace of the keys (with --redis)" },
    watch: { type: "boolean", default: false, description: "reload changed, added and deleted function files and mario.config without dropping in-flight jobs" },
    threads: { type: "string", description: "most worker threads per function file, each running many of its jobs at once (default min(concurrency, CPUs))" },
    ...storageFlags,
    ...redisFlags,
  },
  async run({ args }) {
    // Two lines per job: written a turn at a time (stderr-batch.ts), not a write(2) each.
    const logger = createLogger({ write: writeBatchedStderr });
    const http = httpOptionsFrom(args, logger);
    const token = http.app.token;
    const project = await loadProject(args.dir);
    for (const problem of project.problems) logger.warn(problem.message);
    if (project.steps.length === 0) {
      throw new UsageError(`no functions found in ${project.functionsDir ?? project.root}: add a file per step (see README "Writing a step")`);
    }
    const redisUri = args.redis ?? nonEmpty(process.env.REDIS_URL);
    const functionsDir = project.functionsDir;
    if (args.watch && functionsDir === undefined) throw new UsageError("--watch needs a functions folder or a mario.config (a class-DSL module is not watched)");
    const threads = wholeNumberFlag(args.threads, "--threads", 1);
    const storage = await storageFrom(args, logger, redisUri, args.namespace);
    const executors = args.watch ? new Map<string, StepExecutor>() : await isolatedExecutors(project, logger, threads);
    const executorFor = (step: StepDefinition): StepExecutor => executors.get(step.jobType) ?? new InProcessExecutor(step);
    // Watching: the functions are hosted (and reloaded) by WatchedProject, the runner only dispatches.
    const runner = args.watch ? new LocalRunner({ pipelines: [], steps: [], storage, logger }) : new LocalRunner({ pipelines: project.pipelines, steps: project.steps, storage, logger, executorFor, schedules: project.schedules });
    logJobs(runner, logger);
    let watched: WatchedProject | undefined;
    try {
      await runner.start();
      if (functionsDir !== undefined && args.watch) {
        watched = await watchProject(runner, functionsDir, project.configFile, logger, threads);
        // Once their pipelines are served (schedules are read at start; a change takes a restart).
        await runner.dispatcher.setSchedules(project.schedules);
      }
    } catch (error) {
      await Promise.all([...executors.values()].map((e) => e.close()));
      await runner.stop(0).catch(() => {});
      throw error;
    }
    let served;
    const shutdown = new AbortController();
    // Every open ?wait listens on it (and stops when it is answered): many at once is normal.
    setMaxListeners(0, shutdown.signal);
    try {
      served = await serveGateway(createGatewayApp(new DispatcherCluster(runner.dispatcher), { ...http.app, shutdown: shutdown.signal }), http.serve);
    } catch (error) {
      await watched?.stop(0);
      await runner.stop(0);
      throw error;
    }
    process.stdout.write(banner(project, served.url, { token: token === undefined ? undefined : args.token === undefined ? "$MARIO_TOKEN" : "<token>", storage: redisUri === undefined ? "memory" : "redis", watching: watched !== undefined }));
    await untilShutdownSignal(logger);
    // In this order: no job starts after the signal; every open ?wait gets an answer (the job's
    // current record) and new enqueues a 503; running steps finish (or go back to the queue);
    // only then HTTP closes, then storage.
    await runner.dispatcher.pause();
    shutdown.abort();
    await watched?.stop(SHUTDOWN_GRACE_MS);
    await runner.drain(SHUTDOWN_GRACE_MS);
    await served.close();
    if (redisUri === undefined) await reportDropped(runner, logger);
    await runner.stop();
    return 0;
  },
});

/** How long running steps may finish after SIGTERM before they are handed back, ms. */
const SHUTDOWN_GRACE_MS = 5000;

/** Memory storage dies with the process: says how many unfinished jobs go with it. */
async function reportDropped(runner: LocalRunner, logger: Logger): Promise<void> {
  let queued = 0;
  let retrying = 0;
  let delayed = 0;
  for (const stats of await runner.dispatcher.stats()) {
    queued += stats.queued + stats.running;
    retrying += stats.failed;
    delayed += stats.delayed ?? 0;
  }
  const dropped = queued + retrying + delayed;
  const line = `memory storage: ${dropped} unfinished job${dropped === 1 ? "" : "s"} dropped at exit (${queued} queued, ${retrying} waiting for a retry, ${delayed} delayed); run with --redis to keep them`;
  if (dropped > 0) logger.warn(line, { dropped, queued, retrying, delayed });
  else logger.info(line, { dropped });
}

/** `--watch`: functions hosted in threads and reloaded; what changes is printed as `mario host` prints it. */
async function watchProject(runner: LocalRunner, functionsDir: string, configFile: string | undefined, logger: Logger, threads: number | undefined): Promise<WatchedProject> {
  const watched = new WatchedProject({ dispatcher: runner.dispatcher, functionsDir, configFile, logger, threads });
  const print = (line: string): boolean => process.stdout.write(line + "\n");
  let started = false;
  watched.events.on("ready", (fn, reloaded) => {
    if (started || reloaded) print(`${reloaded ? "reloaded" : "added"} ${fn.jobType} (${relative(process.cwd(), fn.file)})`);
  });
  watched.events.on("removed", (fn) => print(`removed ${fn.jobType} (${relative(process.cwd(), fn.file)} deleted)`));
  watched.events.on("problem", (problem) => {
    if (started) process.stderr.write(`mario up: ${problem.message}\n`);
  });
  watched.events.on("pipelines", (pipelines) => {
    if (started) print(`pipelines: ${pipelines.map((p) => p.name).join(", ")}`);
  });
  await watched.start();
  started = true;
  return watched;
}

/**
 * How each step runs: a function file in worker threads with hard timeouts and crash isolation,
 * as `mario host` runs it (a runaway handler cannot stall the gateway); a class-DSL step, which
 * has no file of its own, in this process.
 */
async function isolatedExecutors(project: Project, logger: Logger, threads: number | undefined): Promise<Map<string, StepExecutor>> {
  const executors = new Map<string, StepExecutor>();
  try {
    for (const step of project.steps) {
      const file = (step as Partial<FunctionStep>).file;
      if (file === undefined) continue;
      const bundle = await bundleFunction(file);
      executors.set(step.jobType, await ThreadExecutor.load(bundle, { overrides: { jobType: step.jobType }, threads, logger }));
    }
  } catch (error) {
    await Promise.all([...executors.values()].map((e) => e.close()));
    throw error;
  }
  return executors;
}

/**
 * The pipeline the printed curl line calls, with instructions it accepts: the longest pipeline
 * whose first step exports an `example`, else the longest with `{}`.
 */
function curlExample(project: Project): { pipeline: PipelineDefinition; instructions: Instructions } {
  const longestFirst = [...project.pipelines].sort((a, b) => b.steps.length - a.steps.length);
  const exampleOf = (p: PipelineDefinition): Instructions | undefined => project.steps.find((s) => s.jobType === p.steps[0])?.example;
  const withExample = longestFirst.find((p) => exampleOf(p) !== undefined);
  if (withExample !== undefined) return { pipeline: withExample, instructions: exampleOf(withExample)! };
  return { pipeline: longestFirst[0]!, instructions: {} };
}

function banner(project: Project, url: string, info: { token: string | undefined; storage: string; watching: boolean }): string {
  const pipelines = project.pipelines.map((p) => (p.steps.length === 1 && p.steps[0] === p.name ? p.name : `${p.name} [${p.steps.join(" → ")}]`));
  const { pipeline: example, instructions } = curlExample(project);
  const auth = info.token === undefined ? "" : ` -H "authorization: Bearer ${info.token}"`;
  return [
    `mario is up on ${url}  (dashboard; HTTP API: /pipelines, /jobs, /metrics; ${info.storage} storage${info.token === undefined ? "" : ", token required"}${info.watching ? "; watching for changes" : ""})`,
    `pipelines: ${pipelines.join(", ")}`,
    ...(project.schedules.length === 0 ? [] : [`schedules: ${project.schedules.map((s) => `${s.name} (${s.cron}${s.timezone === undefined ? "" : ` ${s.timezone}`}) → ${s.pipeline}`).join(", ")}`]),
    `try: curl -X POST '${url}pipelines/${example.name}/jobs?wait=5000' -H 'content-type: application/json'${auth} -d '${JSON.stringify(instructions).replaceAll("'", "'\\''")}'`,
    "",
  ].join("\n");
}

/** What happens to jobs, on stderr. Never job data (instructions, outputs): only ids, names, errors. A death is a warning. */
function logJobs(runner: LocalRunner, logger: Logger): void {
  runner.dispatcher.events.on("step:finished", (e) => {
    logger.info(`${e.pipeline} ${e.jobType} ${e.ok ? "ok" : "failed"}`, { job: e.jobId, attempt: e.attempt, ms: e.durationMs, ...(e.error ? { error: e.error.message } : {}) });
  });
  runner.dispatcher.events.on("job:finished", (e) => {
    if (e.status === "dead") logger.warn(`${e.pipeline} job dead`, { job: e.jobId, error: e.error?.message, code: e.error?.code });
    else logger.info(`${e.pipeline} job ${e.status}`, { job: e.jobId });
  });
}
