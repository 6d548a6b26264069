/**
 * The routes of `mario gateway --redis=URL` without `--job-push`: the pipeline servers found in
 * the Redis registry (`ServerRegistry`), read again every `refreshMs`. Each pipeline's intake is a
 * `FailoverIntake` over the live servers that serve it; its storage is the Redis namespace those
 * servers write to.
 *
 * ```ts
 * const routes = new DiscoveredRoutes({ registry, storageFor: (ns) => new RedisStorageBackend(ns, { redisUri }),
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
import { FailoverIntake, type FailoverIntakeOptions, type IntakeCandidate } from "./failover-intake.ts";
import type { JobIntake, RemotePipeline, RouteSource } from "./remote-cluster.ts";

export interface ServerLister {
  connect(): Promise<void>;
  close(): Promise<void>;
  live(): Promise<ServerEntry[]>;
}

export interface ConnectedIntake extends JobIntake {
  connect(): Promise<void>;
  close(): void;
}

export interface DiscoveredRoutesOptions {
  registry: ServerLister;
  /** The storage of a namespace (one per namespace, made once). */
  storageFor: (namespace: string, keyPrefix: string) => StorageBackend;
  /** A client of one intake address (one per address, made once, closed when its server leaves). */
  clientFor: (address: string) => ConnectedIntake;
  /** Serve only these pipelines (a project given); default: every pipeline a live server serves. */
  pipelines?: readonly PipelineDefinition[] | undefined;
  /** How often the registry is read, ms. Default 500. */
  refreshMs?: number | undefined;
  failover?: FailoverIntakeOptions | undefined;
  logger?: Logger | undefined;
}

interface Known {
  pipeline: PipelineDefinition;
  storage: StorageBackend;
  intake: FailoverIntake;
  candidates: IntakeCandidate[];
}

export class DiscoveredRoutes implements RouteSource {
  readonly #options: DiscoveredRoutesOptions;
  readonly #logger: Logger;
  readonly #known = new Map<string, Known>();
  readonly #storages = new Map<string, { storage: StorageBackend; declared: Set<string> }>();
  readonly #clients = new Map<string, ConnectedIntake>();
  #routes: RemotePipeline[] = [];
  #servers: ServerEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #lastError: string | undefined;

  constructor(options: DiscoveredRoutesOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  routes(): readonly RemotePipeline[] {
    return this.#routes;
  }

  /** The live servers as last read. */
  servers(): readonly ServerEntry[] {
    return this.#servers;
  }

  async connect(): Promise<void> {
    await this.#options.registry.connect();
    await this.refresh();
    this.#timer = setInterval(() => {
      this.refresh().catch(() => {});
    }, this.#options.refreshMs ?? 500);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#refreshing?.catch(() => {});
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    await Promise.all([...this.#storages.values()].map((s) => s.storage.close()));
    await this.#options.registry.close();
  }

  async ready(): Promise<Readiness> {
    if (this.#lastError !== undefined) return { ok: false, reason: `server registry: ${this.#lastError}` };
    if (this.#servers.length === 0) return { ok: false, reason: "no pipeline server is registered in Redis (started with --redis and --job-pull-bind?)" };
    const orphans = this.#routes.filter((r) => (this.#known.get(r.pipeline.name)?.candidates.length ?? 0) === 0).map((r) => r.pipeline.name);
    if (orphans.length > 0) return { ok: false, reason: `no live pipeline server for ${orphans.join(", ")}` };
    return { ok: true };
  }

  /** Reads the registry once and updates the routes (one read at a time). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    let servers: ServerEntry[];
    try {
      servers = await this.#options.registry.live();
      this.#lastError = undefined;
    } catch (error) {
      // Keep the last routes: servers that were live are likely still there.
      this.#lastError = error instanceof Error ? error.message : String(error);
      return;
    }
    servers.sort((a, b) => a.serverId.localeCompare(b.serverId));
    const wanted = this.#options.pipelines;
    const candidates = new Map<string, IntakeCandidate[]>();
    const live = new Set<string>();
    for (const server of servers) {
      const address = server.intake[0];
      if (address === undefined) continue;
      for (const pipeline of server.pipelines) {
        if (wanted !== undefined && !wanted.some((p) => p.name === pipeline.name)) continue;
        const known = this.#known.get(pipeline.name) ?? (await this.#learn(wanted?.find((p) => p.name === pipeline.name) ?? pipeline, server));
        if (known === undefined) continue;
        const client = await this.#client(address);
        if (client === undefined) continue;
        live.add(address);
        const list = candidates.get(pipeline.name) ?? [];
        list.push({ id: server.serverId, intake: client });
        candidates.set(pipeline.name, list);
      }
    }
    for (const [name, known] of this.#known) known.candidates = candidates.get(name) ?? [];
    for (const [address, client] of this.#clients) {
      if (live.has(address)) continue;
      this.#clients.delete(address);
      client.close();
      this.#logger.info("pipeline server left", { address });
    }
    this.#servers = servers;
    this.#routes = [...this.#known.values()].map((k) => ({ pipeline: k.pipeline, intake: k.intake, storage: k.storage }));
  }

  /** A pipeline seen for the first time: its storage (namespace) is connected and told about it. */
  async #learn(pipeline: PipelineDefinition, server: ServerEntry): Promise<Known | undefined> {
    const storageKey = `${server.keyPrefix}\u0000${server.namespace}`;
    let entry = this.#storages.get(storageKey);
    try {
      if (entry === undefined) {
        const storage = this.#options.storageFor(server.namespace, server.keyPrefix);
        entry = { storage, declared: new Set() };
        await storage.connect();
        this.#storages.set(storageKey, entry);
      }
      if (!entry.declared.has(pipeline.name)) {
        await entry.storage.initialize([pipeline]);
        entry.declared.add(pipeline.name);
      }
    } catch (error) {
      this.#logger.warn("storage of a discovered pipeline not reachable yet", { pipeline: pipeline.name, error: String(error) });
      return undefined;
    }
    const known: Known = {
      pipeline,
      storage: entry.storage,
      candidates: [],
      intake: new FailoverIntake(pipeline.name, () => known.candidates, {
        ...this.#options.failover,
        onFailover: (from, error) => {
          this.#logger.warn("pipeline server did not answer: request sent to another", { pipeline: pipeline.name, from, error: String(error) });
          this.#options.failover?.onFailover?.(from, error);
        },
      }),
    };
    this.#known.set(pipeline.name, known);
    this.#logger.info("pipeline found", { pipeline: pipeline.name, namespace: server.namespace });
    return known;
  }

  async #client(address: string): Promise<ConnectedIntake | undefined> {
    let client = this.#clients.get(address);
    if (client !== undefined) return client;
    try {
      client = this.#options.clientFor(address);
      await client.connect();
    } catch (error) {
      this.#logger.warn("cannot connect to a registered pipeline server", { address, error: String(error) });
      return undefined;
    }
    this.#clients.set(address, client);
    this.#logger.info("pipeline server found", { address });
    return client;
  }
}
