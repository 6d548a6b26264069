/**
 * The pipeline servers registered in Redis, as a client sees them: the registry read every
 * `refreshMs`, one connected client per intake address (closed when its server leaves), and per
 * pipeline the servers that serve it. Shared by `mario gateway --redis` (DiscoveredRoutes) and
 * `PipelineClient` given a Redis URL.
 *
 * ```ts
 * const directory = new ServerDirectory({ registry, clientFor: (address) => new PipelineClient(address, { timeoutMs: 1000 }) });
 * await directory.connect();
 * directory.candidates("example-one");   // [{ id: serverId, intake: client }, …]
 * await directory.close();
 * ```
 */
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import type { ServerEntry } from "../storage/redis/server-registry.ts";
import type { Enqueuer, IntakeCandidate } from "./failover-intake.ts";

export interface ServerLister {
  connect(): Promise<void>;
  close(): Promise<void>;
  live(): Promise<ServerEntry[]>;
}

export interface DirectoryClient extends Enqueuer {
  connect(): Promise<void>;
  close(): void;
}

export interface ServerDirectoryOptions<C extends DirectoryClient> {
  registry: ServerLister;
  /** A client of one intake address (one per address, made once, closed when its server leaves). */
  clientFor: (address: string) => C;
  /** How often the registry is read, ms. Default 500. */
  refreshMs?: number | undefined;
  logger?: Logger | undefined;
}

export class ServerDirectory<C extends DirectoryClient> {
  readonly #options: ServerDirectoryOptions<C>;
  readonly #logger: Logger;
  readonly #clients = new Map<string, C>();
  #servers: ServerEntry[] = [];
  #byPipeline = new Map<string, IntakeCandidate<C>[]>();
  #definitions = new Map<string, { pipeline: PipelineDefinition; server: ServerEntry }>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;
  #lastError: string | undefined;

  constructor(options: ServerDirectoryOptions<C>) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
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
    await this.#options.registry.close();
  }

  /** The live servers as last read. */
  servers(): readonly ServerEntry[] {
    return this.#servers;
  }

  /** Every pipeline a live server serves, with the first server (by id) that serves it. */
  pipelines(): readonly { pipeline: PipelineDefinition; server: ServerEntry }[] {
    return [...this.#definitions.values()];
  }

  /** The live servers of a pipeline, each with its client. */
  candidates(pipeline: string): readonly IntakeCandidate<C>[] {
    return this.#byPipeline.get(pipeline) ?? [];
  }

  /** One candidate per live server. */
  all(): readonly IntakeCandidate<C>[] {
    const seen = new Map<string, IntakeCandidate<C>>();
    for (const list of this.#byPipeline.values()) for (const c of list) seen.set(c.id, c);
    return [...seen.values()];
  }

  /** Why the registry cannot be read right now, if it cannot. */
  get error(): string | undefined {
    return this.#lastError;
  }

  /** Reads the registry once (one read at a time). */
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
      // Keep what was known: servers that were live are likely still there.
      this.#lastError = error instanceof Error ? error.message : String(error);
      return;
    }
    servers.sort((a, b) => a.serverId.localeCompare(b.serverId));
    const byPipeline = new Map<string, IntakeCandidate<C>[]>();
    const definitions = new Map<string, { pipeline: PipelineDefinition; server: ServerEntry }>();
    const live = new Set<string>();
    for (const server of servers) {
      const address = server.intake[0];
      if (address === undefined) continue;
      const client = await this.#client(address);
      if (client === undefined) continue;
      live.add(address);
      for (const pipeline of server.pipelines) {
        if (!definitions.has(pipeline.name)) definitions.set(pipeline.name, { pipeline, server });
        const list = byPipeline.get(pipeline.name) ?? [];
        list.push({ id: server.serverId, intake: client });
        byPipeline.set(pipeline.name, list);
      }
    }
    for (const [address, client] of this.#clients) {
      if (live.has(address)) continue;
      this.#clients.delete(address);
      client.close();
      this.#logger.info("pipeline server left", { address });
    }
    this.#servers = servers;
    this.#byPipeline = byPipeline;
    this.#definitions = definitions;
  }

  async #client(address: string): Promise<C | undefined> {
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
