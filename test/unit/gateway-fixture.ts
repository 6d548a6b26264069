/**
 * A gateway over a real in-process engine (LocalRunner + DispatcherCluster) on memory storage,
 * for unit tests through `app.request()` (no sockets). Steps: `double` ({n} → {n: 2n}), `explode`
 * (always throws, no retries), `hold` (waits until released or aborted); pipeline `math` =
 * double → double; every step is also a one-step pipeline.
 */
import type { Hono } from "hono";
import { StorageUnavailableError } from "../../src/core/errors/storage-unavailable-error.ts";
import { withSingleStepPipelines } from "../../src/core/pipeline-definition.ts";
import { defineStep } from "../../src/dsl/define.ts";
import { DispatcherCluster } from "../../src/engine/dispatcher-cluster.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { createGatewayApp, type GatewayOptions } from "../../src/gateway/gateway-app.ts";
import { MemoryStorageBackend, type MemoryStorageOptions } from "../../src/storage/memory/memory-storage-backend.ts";
import type { EnqueueOutcome, EnqueueRequest } from "../../src/storage/storage-backend.ts";

/** Memory storage whose failures a test can switch on. */
export class FaultyStorage extends MemoryStorageBackend {
  pingFails = false;
  enqueueFails = false;

  override async ping(): Promise<void> {
    if (this.pingFails) throw new StorageUnavailableError("connection refused (test)");
  }

  override async enqueueJobs(requests: readonly EnqueueRequest[]): Promise<EnqueueOutcome[]> {
    if (this.enqueueFails) throw new StorageUnavailableError("connection refused (test)");
    return super.enqueueJobs(requests);
  }
}

export interface GatewayFixture {
  app: Hono;
  cluster: DispatcherCluster;
  storage: FaultyStorage;
  /** Jobs accepted by every pipeline so far (what storage counted). */
  accepted(): Promise<number>;
  /** Lets every `hold` job finish. */
  releaseHeld(): void;
  close(): Promise<void>;
}

export async function gatewayFixture(options: { storage?: MemoryStorageOptions; gateway?: GatewayOptions } = {}): Promise<GatewayFixture> {
  const held: (() => void)[] = [];
  const steps = [
    defineStep("double", ({ n }) => ({ n: Number(n) * 2 }), { retries: 0 }),
    defineStep("explode", () => {
      throw new Error("boom");
    }, { retries: 0 }),
    defineStep("hold", (instructions, ctx) => new Promise((resolve) => {
      const done = (): void => resolve(instructions);
      held.push(done);
      ctx.signal.addEventListener("abort", done);
    }), { retries: 0, concurrency: 100 }),
  ];
  const pipelines = withSingleStepPipelines([{ name: "math", steps: ["double", "double"] }], steps.map((s) => s.jobType));
  const storage = new FaultyStorage(options.storage);
  const runner = new LocalRunner({ pipelines, steps, storage });
  await runner.start();
  const cluster = new DispatcherCluster(runner.dispatcher);
  const app = createGatewayApp(cluster, options.gateway);
  return {
    app,
    cluster,
    storage,
    accepted: async () => (await cluster.stats()).reduce((sum, p) => sum + p.accepted, 0),
    releaseHeld: () => {
      for (const done of held.splice(0)) done();
    },
    close: async () => {
      for (const done of held.splice(0)) done();
      await runner.stop(1000);
    },
  };
}

export const JSON_HEADERS = { "content-type": "application/json" };

/** POSTs `body` (an object is JSON-encoded) to `path`. */
export async function post(app: Hono, path: string, body?: unknown, headers: Record<string, string> = JSON_HEADERS): Promise<Response> {
  const encoded: BodyInit | undefined = body === undefined ? undefined : typeof body === "string" ? body : body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body);
  return app.request(path, { method: "POST", headers, ...(encoded === undefined ? {} : { body: encoded }) });
}

export interface ErrorBody {
  error: { code: string; message: string };
}
