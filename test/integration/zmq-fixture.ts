/**
 * In-process ZeroMQ clusters for the integration tests: a PipelineServer and StepWorkers in the
 * test process, over real sockets on 127.0.0.1 (ports chosen by the OS). Everything started
 * through a Cluster is stopped by `cluster.close()`, which each test registers with `t.after`.
 */
import type { PipelineDefinition } from "../../src/core/pipeline-definition.ts";
import type { StepConfig } from "../../src/core/step-config.ts";
import type { StepHandler } from "../../src/engine/delivery.ts";
import { InProcessExecutor } from "../../src/engine/step-executor.ts";
import { MemoryStorageBackend, type MemoryStorageOptions } from "../../src/storage/memory/memory-storage-backend.ts";
import type { StorageBackend } from "../../src/storage/storage-backend.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer, type PipelineServerOptions } from "../../src/transport/pipeline-server.ts";
import { StepWorker, type StepWorkerOptions } from "../../src/transport/step-worker.ts";

export interface StepSpec {
  jobType: string;
  handler: StepHandler;
  config?: StepConfig;
}

export class Cluster {
  readonly storage: StorageBackend;
  server: PipelineServer | undefined;
  readonly workers: StepWorker[] = [];
  readonly clients: PipelineClient[] = [];
  readonly #cleanups: (() => Promise<void> | void)[] = [];

  constructor(storage: StorageBackend = new MemoryStorageBackend()) {
    this.storage = storage;
  }

  static memory(options: MemoryStorageOptions = {}): Cluster {
    return new Cluster(new MemoryStorageBackend(options));
  }

  async startServer(pipelines: PipelineDefinition[], options: Partial<PipelineServerOptions> = {}): Promise<PipelineServer> {
    const server = new PipelineServer({
      pipelines,
      storage: this.storage,
      subBind: "tcp://127.0.0.1:0",
      jobPullBind: "tcp://127.0.0.1:0",
      ...options,
    });
    this.server = server;
    this.#cleanups.push(() => server.stop());
    await server.start();
    return server;
  }

  async startWorker(step: StepSpec, options: Partial<StepWorkerOptions> = {}): Promise<StepWorker> {
    const worker = new StepWorker({
      executor: new InProcessExecutor({ jobType: step.jobType, handler: step.handler, config: step.config }),
      subConnect: this.server?.subAddress ?? "",
      pullBind: "tcp://127.0.0.1:0",
      heartbeatMs: 200,
      ...options,
    });
    this.workers.push(worker);
    this.#cleanups.push(() => worker.stop({ graceMs: 0 }));
    await worker.start();
    return worker;
  }

  async client(address = this.server?.jobPullAddress ?? "", timeoutMs = 5000): Promise<PipelineClient> {
    const client = new PipelineClient(address, { timeoutMs });
    this.clients.push(client);
    this.#cleanups.push(() => client.close());
    await client.connect();
    return client;
  }

  /** Registers an extra cleanup (run in reverse order with the rest). */
  defer(cleanup: () => Promise<void> | void): void {
    this.#cleanups.push(cleanup);
  }

  /** Stops clients, workers, then the server (reverse start order). Safe on a half-started cluster. */
  async close(): Promise<void> {
    for (const cleanup of this.#cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // keep closing the rest
      }
    }
    this.#cleanups.length = 0;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
