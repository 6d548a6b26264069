/**
 * `mario pipeline <file> <pipeline-name> --sub-bind=tcp://127.0.0.1:6000 --job-pull-bind=tcp://127.0.0.1:5050`
 *
 * Serves one pipeline of a class-DSL module or mario.config: binds the announcement SUB and the
 * client-request PULL (or connects them to a forwarder / streamer), dispatches to the workers
 * that announce themselves. Storage: `--redis=URL` (or the class's `initialize()` backend, or
 * REDIS_URL), else memory. Exits 0 after a graceful shutdown on SIGTERM/SIGINT.
 */
import { defineCommand } from "citty";
import { loadProject } from "../../config/load-project.ts";
import { UsageError } from "../../core/errors/usage-error.ts";
import { listOrNone } from "../../core/errors/unknown-pipeline-error.ts";
import { Pipeline, pipelineNameOf } from "../../dsl/pipeline.ts";
import { createLogger } from "../../log/logger.ts";
import { MemoryStorageBackend } from "../../storage/memory/memory-storage-backend.ts";
import type { StorageBackend, StorageOptions } from "../../storage/storage-backend.ts";
import { PipelineServer, type PipelineHooks } from "../../transport/pipeline-server.ts";
import { wholeNumberFlag } from "../_flags.ts";
import { untilShutdownSignal } from "../_shutdown.ts";
import { storageFlags, storageOptionsFrom } from "../_storage-flags.ts";

export default defineCommand({
  meta: { name: "pipeline", description: "Serve one pipeline: take jobs from clients, dispatch them to announced step workers" },
  args: {
    file: { type: "positional", required: true, description: "class-DSL module (e.g. examples/simple.ts) or mario.config.ts" },
    name: { type: "positional", required: true, description: "the pipeline to serve" },
    "sub-bind": { type: "string", description: "bind the announcement socket here, e.g. tcp://127.0.0.1:6000" },
    "sub-connect": { type: "string", description: "instead of --sub-bind: connect it to a forwarder's --publisher address" },
    "job-pull-bind": { type: "string", alias: ["job-pull"], description: "bind the client-request socket here, e.g. tcp://127.0.0.1:5050" },
    "job-pull-connect": { type: "string", description: "instead of --job-pull-bind: connect it to a streamer's --push address" },
    redis: { type: "string", description: "Redis storage URL (default: REDIS_URL, else memory)" },
    "heartbeat-timeout-ms": { type: "string", description: "drop a worker silent this long, ms (default 3 × its heartbeat)" },
    "max-message-bytes": { type: "string", description: "largest inbound message, bytes (default 16 MiB)" },
    ...storageFlags,
  },
  async run({ args }) {
    const logger = createLogger();
    const project = await loadProject(args.file);
    const definition = project.pipelines.find((p) => p.name === args.name);
    if (definition === undefined) {
      throw new UsageError(`unknown pipeline "${args.name}" in ${args.file}; pipelines: ${listOrNone(project.pipelines.map((p) => p.name))}`);
    }
    const cls = project.pipelineClasses.find((c) => pipelineNameOf(c) === args.name);
    const instance = cls === undefined ? undefined : (new (cls as unknown as new () => Pipeline)());
    await instance?.initialize();
    const storage = await chooseStorage(args.name, args.redis, instance?.backend, storageOptionsFrom(args));
    const hooks: PipelineHooks[] = instance === undefined ? [] : [instance];
    const server = new PipelineServer({
      pipelines: [definition],
      storage,
      subBind: args["sub-bind"],
      subConnect: args["sub-connect"],
      jobPullBind: args["job-pull-bind"],
      jobPullConnect: args["job-pull-connect"],
      heartbeatTimeoutMs: wholeNumberFlag(args["heartbeat-timeout-ms"], "--heartbeat-timeout-ms", 1),
      maxMessageBytes: wholeNumberFlag(args["max-message-bytes"], "--max-message-bytes", 1),
      logger,
      hooks,
    });
    await server.start();
    const signal = await untilShutdownSignal();
    logger.info(`${signal}: shutting down`);
    await server.stop();
    return 0;
  },
});

/** The class's own backend keeps its own options; the flags shape the backends made here. */
async function chooseStorage(pipeline: string, redisFlag: string | undefined, classBackend: StorageBackend | undefined, options: StorageOptions): Promise<StorageBackend> {
  const redisUri = redisFlag ?? (classBackend === undefined ? process.env.REDIS_URL : undefined);
  if (redisUri !== undefined && redisUri !== "") {
    const { RedisStorageBackend } = await import("../../storage/redis/redis-storage-backend.ts");
    return new RedisStorageBackend(pipeline, { redisUri, ...options });
  }
  return classBackend ?? new MemoryStorageBackend(options);
}
