/**
 * `mario step <file> <job-type> --sub-connect=tcp://127.0.0.1:6000`
 *
 * Runs one job type of a class-DSL module, a mario.config or a function file (whose job type is
 * the default) as a step worker: binds its job socket
 * (`--pull-bind`, any free port by default), announces itself to every `--sub-connect` address
 * (pipeline servers or a forwarder) and runs what it is sent. SIGTERM/SIGINT: stops announcing,
 * finishes or hands back its jobs, exits 0.
 *
 * Handlers run on this process's event loop. A CPU-bound one does not make the worker look dead
 * (its liveness is its link's ZMTP heartbeats, answered by libzmq's I/O thread), but while it
 * computes it blocks the worker's other jobs, progress, announcements, results and its own
 * timeout; the lease (timeout + 10 s) enforces the timeout on the server's side.
 */
import { defineCommand } from "citty";
import { loadProject } from "../../config/load-project.ts";
import { UsageError } from "../../core/errors/usage-error.ts";
import { listOrNone } from "../../core/errors/unknown-pipeline-error.ts";
import { resolveStepPolicy } from "../../core/step-config.ts";
import { InProcessExecutor } from "../../engine/step-executor.ts";
import { createLogger } from "../../log/logger.ts";
import { StepWorker } from "../../transport/step-worker.ts";
import { curveFlags, curveFrom } from "../_curve-flags.ts";
import { addressFlag, cacheDirFlag, wholeNumberFlag } from "../_flags.ts";
import { untilShutdownSignal } from "../_shutdown.ts";

export default defineCommand({
  meta: { name: "step", description: "Run one job type as a worker that announces itself to pipeline servers" },
  args: {
    ...cacheDirFlag,
    file: { type: "positional", required: true, description: "class-DSL module (e.g. examples/simple.ts), mario.config.ts or a function file" },
    "job-type": { type: "positional", required: false, description: "the job type to run (default: a function file's own)" },
    "sub-connect": { type: "string", alias: ["pub-connect"], description: "announce to this address (a pipeline's --sub-bind or a forwarder's --subscriber); repeatable or comma-separated" },
    "pull-bind": { type: "string", description: "bind the job socket here (default tcp://127.0.0.1:0, any free port on loopback; tcp://0.0.0.0:0 when an advertise host is given)" },
    "push-connect": { type: "string", description: "also announce to this address (same as another --sub-connect); repeatable" },
    "pull-connect": { type: "string", description: "the job socket also connects out to this address (for a dispatcher that binds); repeatable" },
    concurrency: { type: "string", description: "jobs run at once (default: the step's config, else 1)" },
    "advertise-host": { type: "string", description: "host announced when bound to 0.0.0.0 (default MARIO_ADVERTISE_HOST, else 127.0.0.1)" },
    "heartbeat-ms": { type: "string", description: "announcement interval, ms (default 1000)" },
    "grace-ms": { type: "string", description: "on shutdown, how long running jobs may finish before being handed back, ms (default 10000)" },
    ...curveFlags,
  },
  async run({ args, rawArgs }) {
    const logger = createLogger();
    const curve = curveFrom(args);
    const project = await loadProject(args.file);
    const jobType = args["job-type"] ?? (project.steps.length === 1 ? project.steps[0]!.jobType : undefined);
    if (jobType === undefined) throw new UsageError(`name the job type to run; ${args.file} has: ${listOrNone(project.steps.map((s) => s.jobType))}`);
    const step = project.steps.find((s) => s.jobType === jobType);
    if (step === undefined) {
      throw new UsageError(`unknown job type "${jobType}" in ${args.file}; job types: ${listOrNone(project.steps.map((s) => s.jobType))}`);
    }
    const announceTo = [...addressFlag(rawArgs, ["sub-connect", "pub-connect"]), ...addressFlag(rawArgs, ["push-connect"])];
    if (announceTo.length === 0) throw new UsageError("--sub-connect=tcp://host:port is required (where the pipeline server or forwarder listens)");
    const concurrency = wholeNumberFlag(args.concurrency, "--concurrency", 1);
    const policy = resolveStepPolicy({ ...step.config, ...(concurrency === undefined ? {} : { concurrency }) });
    const executor = new InProcessExecutor(step, policy);
    const worker = new StepWorker({
      executor,
      subConnect: announceTo,
      pullBind: args["pull-bind"],
      pullConnect: addressFlag(rawArgs, ["pull-connect"]),
      advertiseHost: args["advertise-host"],
      heartbeatMs: wholeNumberFlag(args["heartbeat-ms"], "--heartbeat-ms", 10),
      logger,
      curve,
    });
    await worker.start();
    const signal = await untilShutdownSignal();
    logger.info(`${signal}: shutting down`, { inFlight: worker.inFlight });
    await worker.stop({ graceMs: wholeNumberFlag(args["grace-ms"], "--grace-ms") ?? 10_000 });
    await executor.close();
    return 0;
  },
});
