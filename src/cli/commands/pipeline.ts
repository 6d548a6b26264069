/**
 * `mario pipeline <file> [<pipeline-name>...] --sub-bind=tcp://127.0.0.1:6000 --job-pull-bind=tcp://127.0.0.1:5050`
 *
 * Serves the named pipelines of a project, or every one of them when no name is given: a
 * mario.config.*, a class-DSL module, a project folder, a functions folder (every function is
 * also a one-step pipeline, as under `mario up`) or a single function file. Binds the announcement SUB and the
 * client-request PULL (or connects them to a forwarder / streamer), dispatches to the workers
 * that announce themselves. Storage: `--redis=URL` (or, for one class-DSL pipeline, its
 * `initialize()` backend, or REDIS_URL), else memory.
 *
 * ```
 * mario pipeline mario.config.ts --redis=redis://127.0.0.1:6379 --sub-bind=tcp://0.0.0.0:6000 --job-pull-bind=tcp://0.0.0.0:5050
 * mario pipeline examples/simple.ts example-one --sub-bind=tcp://127.0.0.1:6000 --job-pull-bind=tcp://127.0.0.1:5050
 * ```
 *
 * With Redis, any number of servers may serve the same pipelines at once (each leases jobs), and
 * each registers its intake address and pipelines in Redis with an expiring heartbeat, so
 * `mario gateway --redis=URL` finds them. Redis keys: namespace = the pipeline's name when one
 * pipeline is named (the original form), else `--namespace` (default `mario`, as `mario up`).
 * Exits 0 after a graceful shutdown on SIGTERM/SIGINT: it leaves the registry first and keeps
 * serving for `--drain-ms` (clients move to the other servers), then stops.
 */
import { hostname } from "node:os";
import { defineCommand } from "citty";
import { loadProject } from "../../config/load-project.ts";
import { UsageError } from "../../core/errors/usage-error.ts";
import { listOrNone } from "../../core/errors/unknown-pipeline-error.ts";
import { newId } from "../../core/ids.ts";
import type { PipelineDefinition } from "../../core/pipeline-definition.ts";
import { Pipeline, pipelineNameOf } from "../../dsl/pipeline.ts";
import { createLogger, type Logger } from "../../log/logger.ts";
import { PipelineServer, type PipelineHooks } from "../../transport/pipeline-server.ts";
import { DEFAULT_MAX_NEW_PER_SECOND, DEFAULT_MAX_WORKERS } from "../../transport/_worker-admission.ts";
import { connectableAddress } from "../../transport/_sockets.ts";
import { curveFlags, curveFrom } from "../_curve-flags.ts";
import { cacheDirFlag, nonEmpty, wholeNumberFlag } from "../_flags.ts";
import { untilShutdownSignal } from "../_shutdown.ts";
import { redisFlags, storageFlags, storageFrom } from "../_storage-flags.ts";

const DEFAULT_NAMESPACE = "mario";
const DEFAULT_DRAIN_MS = 1500;

export default defineCommand({
  meta: { name: "pipeline", description: "Serve pipelines (every one of <file> when none is named): take jobs from clients, dispatch them to announced step workers" },
  args: {
    ...cacheDirFlag,
    file: { type: "positional", required: true, description: "mario.config.*, class-DSL module (e.g. examples/simple.ts), project folder, functions folder or a function file" },
    name: { type: "positional", required: false, description: "the pipeline(s) to serve (default: every pipeline of <file>)" },
    "sub-bind": { type: "string", description: "bind the announcement socket here, e.g. tcp://127.0.0.1:6000" },
    "sub-connect": { type: "string", description: "instead of --sub-bind: connect it to a forwarder's --publisher address" },
    "job-pull-bind": { type: "string", alias: ["job-pull"], description: "bind the client-request socket here, e.g. tcp://127.0.0.1:5050" },
    "job-pull-connect": { type: "string", description: "instead of --job-pull-bind: connect it to a streamer's --push address" },
    redis: { type: "string", description: "Redis storage URL, or a cluster: redis+cluster://h1:7000,h2:7001 (default: REDIS_URL, else memory)" },
    namespace: { type: "string", description: `Redis namespace of the keys (default: the pipeline's name when one is named, else ${DEFAULT_NAMESPACE})` },
    "drain-ms": { type: "string", description: `on SIGTERM, keep serving this long after leaving the Redis registry, ms (default ${DEFAULT_DRAIN_MS})` },
    "heartbeat-timeout-ms": { type: "string", description: "drop a worker silent this long, ms (default 3 × its heartbeat)" },
    "max-message-bytes": { type: "string", description: "largest inbound message, bytes (default 16 MiB)" },
    "timeout-ms": { type: "string", description: "attempt timeout of every step, ms, over the project's config (a worker's announcement never sets it)" },
    retries: { type: "string", description: "retries of every step after the first attempt, over the project's config" },
    "max-workers": { type: "string", description: `workers fed at most; more announcements are refused (default ${DEFAULT_MAX_WORKERS})` },
    "max-new-connections": { type: "string", description: `new worker connections per second at most (default ${DEFAULT_MAX_NEW_PER_SECOND})` },
    ...storageFlags,
    ...redisFlags,
    ...curveFlags,
  },
  async run({ args }) {
    const logger = createLogger();
    const curve = curveFrom(args);
    const project = await loadProject(args.file);
    for (const problem of project.problems) logger.warn(problem.message);
    const names = args._.slice(1).map(String);
    const definitions = selectPipelines(project.pipelines, names, args.file);
    const classes = project.pipelineClasses.filter((c) => definitions.some((d) => d.name === pipelineNameOf(c)));
    const instances = classes.map((cls) => new (cls as unknown as new () => Pipeline)());
    for (const instance of instances) await instance.initialize();
    const namespace = args.namespace ?? (names.length === 1 ? names[0]! : DEFAULT_NAMESPACE);
    const classBackend = definitions.length === 1 ? instances[0]?.backend : undefined;
    const redisUri = nonEmpty(args.redis) ?? (classBackend === undefined ? nonEmpty(process.env.REDIS_URL) : undefined);
    const storage = await storageFrom(args, logger, redisUri, namespace, classBackend);
    const drainMs = wholeNumberFlag(args["drain-ms"], "--drain-ms") ?? DEFAULT_DRAIN_MS;
    const hooks: PipelineHooks[] = instances;
    // Each step's policy comes from this project (or the flags), never from a worker's announcement.
    const timeoutMs = wholeNumberFlag(args["timeout-ms"], "--timeout-ms", 1);
    const retries = wholeNumberFlag(args.retries, "--retries");
    const stepConfigs = new Map(
      project.steps.map((step) => [step.jobType, { ...step.config, ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(retries === undefined ? {} : { retries }) }]),
    );
    const server = new PipelineServer({
      pipelines: definitions,
      storage,
      subBind: args["sub-bind"],
      subConnect: args["sub-connect"],
      jobPullBind: args["job-pull-bind"],
      jobPullConnect: args["job-pull-connect"],
      heartbeatTimeoutMs: wholeNumberFlag(args["heartbeat-timeout-ms"], "--heartbeat-timeout-ms", 1),
      maxMessageBytes: wholeNumberFlag(args["max-message-bytes"], "--max-message-bytes", 1),
      logger,
      hooks,
      curve,
      stepConfigs,
      maxWorkers: wholeNumberFlag(args["max-workers"], "--max-workers", 1),
      maxNewConnectionsPerSecond: wholeNumberFlag(args["max-new-connections"], "--max-new-connections", 1),
      // The schedules of the pipelines served here (every server of a pipeline runs them; one job per tick).
      schedules: project.schedules.filter((s) => definitions.some((d) => d.name === s.pipeline)),
    });
    await server.start();
    const leave = redisUri === undefined ? undefined : await register(server, definitions, { redisUri, namespace, logger });
    await untilShutdownSignal(logger);
    if (leave !== undefined) {
      await leave();
      await new Promise((resolve) => setTimeout(resolve, drainMs));
    }
    await server.stop();
    return 0;
  },
});

/** The named pipelines (each must exist), or all of them. */
function selectPipelines(all: readonly PipelineDefinition[], names: readonly string[], file: string): PipelineDefinition[] {
  if (all.length === 0) throw new UsageError(`${file} has no pipelines: add functions or declare pipelines`);
  if (names.length === 0) return [...all];
  return names.map((name) => {
    const found = all.find((p) => p.name === name);
    if (found === undefined) throw new UsageError(`unknown pipeline "${name}" in ${file}; pipelines: ${listOrNone(all.map((p) => p.name))}`);
    return found;
  });
}

/**
 * Records this server (intake addresses, pipelines, namespace) in the Redis registry with an
 * expiring heartbeat; answers the way to leave it. A server fed through a streamer
 * (`--job-pull-connect`) has no address of its own to give: it is not registered.
 */
async function register(
  server: PipelineServer,
  pipelines: readonly PipelineDefinition[],
  options: { redisUri: string; namespace: string; logger: Logger },
): Promise<(() => Promise<void>) | undefined> {
  const intake = server.jobPullAddresses.map((address) => connectableAddress(address));
  if (intake.length === 0) return undefined;
  const { ServerRegistry } = await import("../../storage/redis/server-registry.ts");
  const registry = new ServerRegistry({ redisUri: options.redisUri, logger: options.logger });
  try {
    await registry.connect();
  } catch (error) {
    options.logger.warn("not registered in Redis: gateways using --redis will not find this server", { error: String(error) });
  }
  const serverId = `pipeline-${newId().slice(-12)}`;
  const beat = registry.heartbeat({
    serverId,
    intake,
    pipelines: pipelines.map((p) => ({ name: p.name, steps: [...p.steps] })),
    namespace: options.namespace,
    keyPrefix: "mario",
    host: hostname(),
    pid: process.pid,
    startedAt: Date.now(),
  });
  options.logger.info("pipeline server registered", { serverId, intake });
  return async () => {
    await beat.stop();
    await registry.close();
  };
}
