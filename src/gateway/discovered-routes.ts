/**
 * The routes of `mario gateway --redis=URL` without `--job-push`: the pipeline servers found in
 * the Redis registry (a `ServerDirectory`, read every 500 ms). Each pipeline's intake is a
 * `FailoverIntake` over the live servers that serve it; its storage is the Redis namespace those
 * servers write to.
 *
 * ```ts
 * const routes = new DiscoveredRoutes({ registry, storageFor: (ns, prefix) => new RedisStorageBackend(ns, { redisUri, keyPrefix: prefix }),
 *   clientFor: (address) => new PipelineClient(address, { timeoutMs: 1000 }) });
 * const cluster = new RemoteCluster(routes);
 * await cluster.connect();
 * ```
 */
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import type { Readiness } from "../engine/cluster.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";
import type { ServerEntry } from "../storage/redis/server-registry.ts";
import { FailoverIntake, type FailoverIntakeOptions } from "../transport/failover-intake.ts";
import { type DirectoryClient, ServerDirectory, type ServerLister } from "../transport/server-directory.ts";
import type { RemotePipeline, RouteSource } from "./remote-cluster.ts";

export interface DiscoveredRoutesOptions {
  registry: ServerLister;
  /** The storage of a namespace (one per namespace, made once). */
  storageFor: (namespace: string, keyPrefix: string) => StorageBackend;
  /** A client of one intake address (one per address, made once, closed when its server leaves). */
  clientFor: (address: string) => DirectoryClient;
  /** Serve only these pipelines (a project given); default: every pipeline a live server serves. */
  pipelines?: readonly PipelineDefinition[] | undefined;
  /** How often the registry is read, ms. Default 500. */
  refreshMs?: number | undefined;
  failover?: FailoverIntakeOptions | undefined;
  logger?: Logger | undefined;
}

export class DiscoveredRoutes implements RouteSource {
  readonly #options: DiscoveredRoutesOptions;
  readonly #logger: Logger;
  readonly #directory: ServerDirectory<DirectoryClient>;
  readonly #known = new Map<string, RemotePipeline>();
  readonly #storages = new Map<string, { storage: StorageBackend; declared: Set<string> }>();
  #routes: RemotePipeline[] = [];
  #timer: NodeJS.Timeout | undefined;
  #learning: Promise<void> | undefined;

  constructor(options: DiscoveredRoutesOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#directory = new ServerDirectory({ registry: options.registry, clientFor: options.clientFor, refreshMs: options.refreshMs, logger: this.#logger });
  }

  routes(): readonly RemotePipeline[] {
    return this.#routes;
  }

  /** The live servers as last read. */
  servers(): readonly ServerEntry[] {
    return this.#directory.servers();
  }

  async connect(): Promise<void> {
    await this.#directory.connect();
    await this.#learn();
    // New pipelines are learned as the directory finds them.
    this.#timer = setInterval(() => {
      this.#learning ??= this.#learn().finally(() => {
        this.#learning = undefined;
      });
    }, this.#options.refreshMs ?? 500);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#learning;
    await this.#directory.close();
    await Promise.all([...this.#storages.values()].map((s) => s.storage.close()));
  }

  async ready(): Promise<Readiness> {
    const error = this.#directory.error;
    if (error !== undefined) return { ok: false, reason: `server registry: ${error}` };
    if (this.#directory.servers().length === 0) return { ok: false, reason: "no pipeline server is registered in Redis (started with --redis and --job-pull-bind?)" };
    const orphans = this.#routes.filter((r) => this.#directory.candidates(r.pipeline.name).length === 0).map((r) => r.pipeline.name);
    if (orphans.length > 0) return { ok: false, reason: `no live pipeline server for ${orphans.join(", ")}` };
    return { ok: true };
  }

  /** Pipelines seen for the first time: their storage (namespace) is connected and told about them. */
  async #learn(): Promise<void> {
    const wanted = this.#options.pipelines;
    let added = false;
    for (const { pipeline: found, server } of this.#directory.pipelines()) {
      if (this.#known.has(found.name)) continue;
      const pipeline = wanted === undefined ? found : wanted.find((p) => p.name === found.name);
      if (pipeline === undefined) continue;
      const storage = await this.#storage(pipeline, server);
      if (storage === undefined) continue;
      const intake = new FailoverIntake(pipeline.name, () => this.#directory.candidates(pipeline.name), {
        ...this.#options.failover,
        onFailover: (from, error) => {
          this.#logger.warn("pipeline server did not answer: request sent to another", { pipeline: pipeline.name, from, error: String(error) });
          this.#options.failover?.onFailover?.(from, error);
        },
      });
      this.#known.set(pipeline.name, { pipeline, intake, storage });
      this.#logger.info("pipeline found", { pipeline: pipeline.name, namespace: server.namespace });
      added = true;
    }
    if (added) this.#routes = [...this.#known.values()];
  }

  async #storage(pipeline: PipelineDefinition, server: ServerEntry): Promise<StorageBackend | undefined> {
    const key = `${server.keyPrefix}\u0000${server.namespace}`;
    let entry = this.#storages.get(key);
    try {
      if (entry === undefined) {
        const storage = this.#options.storageFor(server.namespace, server.keyPrefix);
        await storage.connect();
        entry = { storage, declared: new Set() };
        this.#storages.set(key, entry);
      }
      if (!entry.declared.has(pipeline.name)) {
        await entry.storage.initialize([pipeline]);
        entry.declared.add(pipeline.name);
      }
      return entry.storage;
    } catch (error) {
      this.#logger.warn("storage of a discovered pipeline not reachable yet", { pipeline: pipeline.name, error: String(error) });
      return undefined;
    }
  }
}
