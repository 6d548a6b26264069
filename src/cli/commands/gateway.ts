/**
 * `mario gateway [project]`: the HTTP gateway and dashboard in front of running pipeline servers.
 * Jobs, stats and workers are read from the Redis the servers share (`--redis` / REDIS_URL).
 *
 * ```
 * mario pipeline mario.config.ts --sub-bind=tcp://0.0.0.0:6000 --job-pull-bind=tcp://0.0.0.0:5050 --redis=redis://127.0.0.1:6379
 * mario gateway --redis=redis://127.0.0.1:6379 --port=8080             # finds the servers in Redis
 * mario gateway --job-push=tcp://127.0.0.1:5050 --redis=redis://127.0.0.1:6379   # or is told
 * mario gateway --job-push=example-one=tcp://10.0.0.5:5050 --job-push=hash-and-clean=tcp://10.0.0.6:5050
 * ```
 *
 * Without `--job-push`, the pipeline servers are found in the Redis registry (every server on
 * Redis records its intake address and pipelines with an expiring heartbeat): enqueues are spread
 * over the live servers of a pipeline, and one that does not answer within `--failover-ms` is
 * replaced by another for the same request, with the same idempotency key. The pipelines are
 * those the servers serve, or only those of `project` when one is given; each server says its
 * Redis namespace.
 *
 * With `--job-push`, the project (mario.config.*, a class-DSL module or a functions folder;
 * default the current folder) names the pipelines and their steps. Redis keys: namespace = the
 * pipeline's name, as `mario pipeline <file> <name>` writes them, unless `--namespace` is given
 * (e.g. `--namespace=mario` for `mario up --redis` or a `mario pipeline` of several pipelines).
 */
import { defineCommand } from "citty";
import { loadProject } from "../../config/load-project.ts";
import { MarioError } from "../../core/errors/mario-error.ts";
import { NoAnswerError } from "../../core/errors/no-answer-error.ts";
import { UsageError } from "../../core/errors/usage-error.ts";
import { listOrNone } from "../../core/errors/unknown-pipeline-error.ts";
import { createGatewayApp } from "../../gateway/gateway-app.ts";
import { FailoverIntake } from "../../transport/failover-intake.ts";
import { RemoteCluster, type JobIntake, type RemotePipeline } from "../../gateway/remote-cluster.ts";
import { serveGateway } from "../../gateway/serve-gateway.ts";
import type { Curve } from "../../transport/curve/curve.ts";
import { createLogger, type Logger } from "../../log/logger.ts";
import type { StorageBackend } from "../../storage/storage-backend.ts";
import { curveClientFlags, curveFrom } from "../_curve-flags.ts";
import { cacheDirFlag, flagValues, nonEmpty, wholeNumberFlag } from "../_flags.ts";
import { httpFlags, httpOptionsFrom } from "../_http-flags.ts";
import { untilShutdownSignal } from "../_shutdown.ts";
import { redisFlags, redisOptionsFrom } from "../_storage-flags.ts";

/** An id no job has: `wait` on it tells whether a pipeline server answers at all. */
const PROBE_ID = "0000000000000000000000";

export default defineCommand({
  meta: { name: "gateway", description: "HTTP gateway + dashboard in front of running pipeline servers" },
  args: {
    ...cacheDirFlag,
    project: { type: "positional", required: false, description: "mario.config.*, class-DSL module or functions folder naming the pipelines (default: current folder)" },
    "job-push": { type: "string", description: "instead of the servers registered in Redis: a pipeline server's --job-pull-bind address, for every pipeline (tcp://host:5050) or one (name=tcp://host:5050); repeatable" },
    redis: { type: "string", description: "Redis the pipeline servers share (default REDIS_URL; a cluster: redis+cluster://h1:7000,h2:7001); required" },
    namespace: { type: "string", description: "Redis namespace of the keys (default: each pipeline's name, as mario pipeline uses)" },
    ...httpFlags,
    "timeout-ms": { type: "string", default: "5000", description: "how long to wait for a pipeline server's answer, ms" },
    "failover-ms": { type: "string", description: "send a request no server answered within this long again (to another server when there is one), same idempotency key, ms (default 1000)" },
    ...redisFlags,
    ...curveClientFlags,
  },
  async run({ args, rawArgs }) {
    const logger = createLogger();
    const http = httpOptionsFrom(args, logger);
    const timeoutMs = wholeNumberFlag(args["timeout-ms"], "--timeout-ms", 1) ?? 5000;
    const redisUri = args.redis ?? nonEmpty(process.env.REDIS_URL);
    if (redisUri === undefined) throw new UsageError("needs the Redis the pipeline servers share: --redis=redis://host:6379 or REDIS_URL");
    const pushValues = flagValues(rawArgs, ["job-push"]);
    const settings: Settings = {
      redisUri,
      project: args.project,
      timeoutMs,
      failoverMs: Math.min(wholeNumberFlag(args["failover-ms"], "--failover-ms", 1) ?? 1000, timeoutMs),
      logger,
      redisOptions: redisOptionsFrom(args, logger),
      curve: curveFrom(args),
    };
    if (pushValues.length === 0 && args.namespace !== undefined) throw new UsageError("--namespace goes with --job-push: servers found in Redis say their own namespace");
    const remote = pushValues.length === 0 ? await discovered(settings) : await pushed(settings, pushValues, args.namespace);
    let served;
    try {
      await remote.connect();
      served = await serveGateway(createGatewayApp(remote.cluster, http.app), http.serve);
    } catch (error) {
      await remote.close();
      throw error;
    }
    process.stdout.write(`mario gateway on ${served.url}  (dashboard; HTTP API: /pipelines, /jobs, /metrics${http.app.token === undefined ? "" : "; token required"})\n${remote.summary()}\n`);
    await untilShutdownSignal(logger);
    await served.close();
    await remote.close();
    return 0;
  },
});

interface Settings {
  redisUri: string;
  project: string | undefined;
  timeoutMs: number;
  failoverMs: number;
  logger: Logger;
  redisOptions: ReturnType<typeof redisOptionsFrom>;
  curve: Curve | undefined;
}

/** The cluster the gateway serves, how to connect and close what it opened, and its line for the banner. */
interface Remote {
  cluster: RemoteCluster;
  connect(): Promise<void>;
  close(): Promise<void>;
  summary(): string;
}

/** `--job-push`: the project names the pipelines, each sent to its given server. */
async function pushed(options: Settings, pushValues: readonly string[], namespace: string | undefined): Promise<Remote> {
  const { redisUri, redisOptions, timeoutMs } = options;
  const pushes = parsePushes(pushValues);
  const project = await loadProject(options.project);
  const known = project.pipelines.map((p) => p.name);
  for (const name of pushes.byName.keys()) {
    if (!known.includes(name)) throw new UsageError(`--job-push names unknown pipeline "${name}"; pipelines: ${listOrNone(known)}`);
  }
  const { PipelineClient } = await import("../../transport/pipeline-client.ts");
  const { RedisStorageBackend } = await import("../../storage/redis/redis-storage-backend.ts");
  const clients = new Map<string, InstanceType<typeof PipelineClient>>();
  const intakeFor = (address: string): JobIntake => {
    let client = clients.get(address);
    if (client === undefined) {
      client = new PipelineClient(address, { timeoutMs: options.failoverMs, curve: options.curve });
      clients.set(address, client);
    }
    const c = client;
    // A request without an answer is sent again (same idempotency key): behind a streamer, it
    // reaches another server; a server restarting on the same address takes it once it is back.
    const failover = new FailoverIntake(address, () => [{ id: address, intake: c }], { deadlineMs: timeoutMs, suspectMs: 0 });
    return {
      address,
      enqueueJob: (request) => failover.enqueueJob(request),
      runJob: (request) => failover.runJob(request),
      waitFor: (jobId, waitOptions) => c.waitFor(jobId, waitOptions),
      probe: async () => {
        try {
          await c.waitFor(PROBE_ID, { timeoutMs: 1 });
        } catch (error) {
          // Any answer (JOB_NOT_FOUND, WAIT_TIMEOUT) means the server is there.
          if (!(error instanceof MarioError) || error instanceof NoAnswerError) throw error;
        }
      },
    };
  };
  const shared = namespace === undefined ? undefined : new RedisStorageBackend(namespace, { redisUri, ...redisOptions });
  const routes: RemotePipeline[] = [];
  for (const pipeline of project.pipelines) {
    const address = pushes.byName.get(pipeline.name) ?? pushes.all;
    if (address === undefined) continue;
    const storage: StorageBackend = shared ?? new RedisStorageBackend(pipeline.name, { redisUri, ...redisOptions });
    routes.push({ pipeline, intake: intakeFor(address), storage });
  }
  if (routes.length === 0) throw new UsageError(`no pipeline to serve: give --job-push=tcp://host:5050 (every pipeline) or --job-push=<pipeline>=tcp://host:5050; pipelines: ${listOrNone(known)}`);
  const cluster = new RemoteCluster(routes);
  return {
    cluster,
    connect: async () => {
      for (const client of clients.values()) await client.connect();
      await cluster.connect();
    },
    close: async () => {
      for (const client of clients.values()) client.close();
      await cluster.close();
    },
    summary: () => `pipelines: ${routes.map((r) => `${r.pipeline.name} → ${r.intake.address ?? "?"}`).join(", ")}`,
  };
}

/** The pipeline servers registered in Redis. */
async function discovered(options: Settings): Promise<Remote> {
  const { logger } = options;
  const pipelines = options.project === undefined ? undefined : (await loadProject(options.project)).pipelines;
  const { PipelineClient } = await import("../../transport/pipeline-client.ts");
  const { RedisStorageBackend } = await import("../../storage/redis/redis-storage-backend.ts");
  const { ServerRegistry } = await import("../../storage/redis/server-registry.ts");
  const { DiscoveredRoutes } = await import("../../gateway/discovered-routes.ts");
  const routes = new DiscoveredRoutes({
    registry: new ServerRegistry({ redisUri: options.redisUri, logger }),
    storageFor: (namespace, keyPrefix) => new RedisStorageBackend(namespace, { redisUri: options.redisUri, keyPrefix, ...options.redisOptions }),
    clientFor: (address) => new PipelineClient(address, { timeoutMs: options.failoverMs, curve: options.curve }),
    pipelines,
    failover: { deadlineMs: options.timeoutMs },
    logger,
  });
  const cluster = new RemoteCluster(routes);
  return {
    cluster,
    connect: () => cluster.connect(),
    close: () => cluster.close(),
    summary: () => {
      const found = routes.routes().map((r) => r.pipeline.name);
      return `pipeline servers found in Redis: ${routes.servers().length}; pipelines: ${found.length === 0 ? "(none yet)" : found.join(", ")}`;
    },
  };
}

function parsePushes(values: readonly string[]): { all: string | undefined; byName: Map<string, string> } {
  let all: string | undefined;
  const byName = new Map<string, string>();
  for (const value of values) {
    const match = /^([^=]+)=(.+)$/.exec(value);
    if (match === null || match[1]!.includes("://")) {
      if (all !== undefined) throw new UsageError(`--job-push for every pipeline given twice (${all}, ${value}); name the pipeline: --job-push=<pipeline>=${value}`);
      all = value;
    } else byName.set(match[1]!, match[2]!);
  }
  return { all, byName };
}
