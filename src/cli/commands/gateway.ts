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
import { createGatewayApp, DEFAULT_MAX_BODY_BYTES } from "../../gateway/gateway-app.ts";
import { FailoverIntake } from "../../transport/failover-intake.ts";
import { RemoteCluster, type JobIntake, type RemotePipeline } from "../../gateway/remote-cluster.ts";
import { serveGateway, type ServeOptions as ServeGatewayOptions } from "../../gateway/serve-gateway.ts";
import type { Curve } from "../../transport/curve/curve.ts";
import { createLogger, type Logger } from "../../log/logger.ts";
import type { StorageBackend } from "../../storage/storage-backend.ts";
import { curveClientFlags, curveFrom } from "../_curve-flags.ts";
import { cacheDirFlag, corsOrigins, flagValues, wholeNumberFlag } from "../_flags.ts";
import { httpFlags, httpOptionsFrom } from "../_http-flags.ts";
import { untilShutdownSignal } from "../_shutdown.ts";
import { redisFlags, redisOptionsFrom } from "../_storage-flags.ts";
import { DEFAULT_HOST, DEFAULT_PORT } from "./up.ts";

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
    port: { type: "string", description: `HTTP port (default PORT, else ${DEFAULT_PORT}; 0 = a free port)` },
    host: { type: "string", default: DEFAULT_HOST, description: "interface to listen on (0.0.0.0 = every interface, as in Docker)" },
    token: { type: "string", description: "bearer token the HTTP API requires (default MARIO_TOKEN, else none)" },
    cors: { type: "string", description: "origin allowed to call the API from a browser (CORS), e.g. https://app.example.com; comma-separated for several, * for any (default none)" },
    "max-body": { type: "string", description: `largest request body, bytes (default ${DEFAULT_MAX_BODY_BYTES})` },
    "timeout-ms": { type: "string", default: "5000", description: "how long to wait for a pipeline server's answer, ms" },
    "failover-ms": { type: "string", description: "send a request no server answered within this long again (to another server when there is one), same idempotency key, ms (default 1000)" },
    ...redisFlags,
    ...curveClientFlags,
    ...httpFlags,
  },
  async run({ args, rawArgs }) {
    const logger = createLogger();
    const port = wholeNumberFlag(args.port ?? nonEmpty(process.env.PORT), args.port === undefined ? "PORT" : "--port") ?? DEFAULT_PORT;
    const maxBodyBytes = wholeNumberFlag(args["max-body"], "--max-body", 1);
    const timeoutMs = wholeNumberFlag(args["timeout-ms"], "--timeout-ms", 1);
    const http = httpOptionsFrom(args);
    const token = args.token ?? nonEmpty(process.env.MARIO_TOKEN);
    const curve = curveFrom(args);
    const redisUri = args.redis ?? nonEmpty(process.env.REDIS_URL);
    if (redisUri === undefined) throw new UsageError("needs the Redis the pipeline servers share: --redis=redis://host:6379 or REDIS_URL");
    const redisOptions = redisOptionsFrom(args, logger);
    const pushValues = flagValues(rawArgs, ["job-push"]);
    const failoverMs = Math.min(wholeNumberFlag(args["failover-ms"], "--failover-ms", 1) ?? 1000, timeoutMs ?? 5000);
    if (pushValues.length === 0) {
      if (args.namespace !== undefined) throw new UsageError("--namespace goes with --job-push: servers found in Redis say their own namespace");
      return serveDiscovered({ redisUri, project: args.project, port, host: args.host, token, maxBodyBytes, timeoutMs: timeoutMs ?? 5000, failoverMs, logger, redisOptions, curve, http });
    }
    const pushes = parsePushes(pushValues);
    const project = await loadProject(args.project);
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
        client = new PipelineClient(address, { timeoutMs: failoverMs, curve });
        clients.set(address, client);
      }
      const c = client;
      // A request without an answer is sent again (same idempotency key): behind a streamer, it
      // reaches another server; a server restarting on the same address takes it once it is back.
      const failover = new FailoverIntake(address, () => [{ id: address, intake: c }], { deadlineMs: timeoutMs ?? 5000, suspectMs: 0 });
      return {
        address,
        enqueueJob: (request) => failover.enqueueJob(request),
        runJob: (request) => failover.runJob(request),
        waitFor: (jobId, options) => c.waitFor(jobId, options),
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
    const shared = args.namespace === undefined ? undefined : new RedisStorageBackend(args.namespace, { redisUri, ...redisOptions });
    const routes: RemotePipeline[] = [];
    for (const pipeline of project.pipelines) {
      const address = pushes.byName.get(pipeline.name) ?? pushes.all;
      if (address === undefined) continue;
      const storage: StorageBackend = shared ?? new RedisStorageBackend(pipeline.name, { redisUri, ...redisOptions });
      routes.push({ pipeline, intake: intakeFor(address), storage });
    }
    if (routes.length === 0) throw new UsageError(`no pipeline to serve: give --job-push=tcp://host:5050 (every pipeline) or --job-push=<pipeline>=tcp://host:5050; pipelines: ${listOrNone(known)}`);

    const cluster = new RemoteCluster(routes);
    const closeAll = async (): Promise<void> => {
      for (const client of clients.values()) client.close();
      await cluster.close();
    };
    let served;
    try {
      for (const client of clients.values()) await client.connect();
      await cluster.connect();
      served = await serveGateway(createGatewayApp(cluster, { token, maxBodyBytes, logger, cors: corsOrigins(args.cors) }), {
        port,
        host: args.host,
        ...http,
        tokenRequired: token !== undefined,
        warn: (line) => logger.warn(line),
      });
    } catch (error) {
      await closeAll();
      throw error;
    }
    const lines = routes.map((r) => `${r.pipeline.name} → ${r.intake.address ?? "?"}`);
    process.stdout.write(`mario gateway on ${served.url}  (dashboard; HTTP API: /pipelines, /jobs, /metrics${token === undefined ? "" : "; token required"})\npipelines: ${lines.join(", ")}\n`);
    const signal = await untilShutdownSignal();
    logger.info(`${signal}: shutting down`);
    await served.close();
    await closeAll();
    return 0;
  },
});

interface ServeOptions {
  redisUri: string;
  project: string | undefined;
  port: number;
  host: string;
  token: string | undefined;
  maxBodyBytes: number | undefined;
  timeoutMs: number;
  failoverMs: number;
  logger: Logger;
  redisOptions: ReturnType<typeof redisOptionsFrom>;
  curve: Curve | undefined;
  http: Pick<ServeGatewayOptions, "headersTimeoutMs" | "requestTimeoutMs" | "maxConnections">;
}

/** The gateway over the pipeline servers registered in Redis. */
async function serveDiscovered(options: ServeOptions): Promise<number> {
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
  let served;
  try {
    await cluster.connect();
    served = await serveGateway(createGatewayApp(cluster, { token: options.token, maxBodyBytes: options.maxBodyBytes, logger }), {
      port: options.port,
      host: options.host,
      ...options.http,
      tokenRequired: options.token !== undefined,
      warn: (line) => logger.warn(line),
    });
  } catch (error) {
    await cluster.close();
    throw error;
  }
  const found = routes.routes().map((r) => r.pipeline.name);
  process.stdout.write(
    `mario gateway on ${served.url}  (dashboard; HTTP API: /pipelines, /jobs, /metrics${options.token === undefined ? "" : "; token required"})\n` +
      `pipeline servers found in Redis: ${routes.servers().length}; pipelines: ${found.length === 0 ? "(none yet)" : found.join(", ")}\n`,
  );
  const signal = await untilShutdownSignal();
  logger.info(`${signal}: shutting down`);
  await served.close();
  await cluster.close();
  return 0;
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

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
