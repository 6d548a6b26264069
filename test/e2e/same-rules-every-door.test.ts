/**
 * Validation once: the same bad inputs sent through every door of one pipeline server get the
 * same code and the same message (so the same limit): `POST /pipelines/:name/jobs` as `mario up`
 * serves it (the engine in process), the same route as `mario gateway` serves it (RemoteCluster
 * over ZeroMQ), PipelineClient, and `mario enqueue` (a real CLI process). Inputs: not an object,
 * 100 levels deep, a 300-character idempotency key, an unknown pipeline, a malformed delay, a
 * delay over the maximum, both a delay and a runAt, a priority out of range (#17).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAX_DEPTH, MAX_IDEMPOTENCY_KEY_LENGTH } from "../../src/core/enqueue-rules.ts";
import { MAX_DELAY_MS, MAX_PRIORITY } from "../../src/core/start-rules.ts";
import { DispatcherCluster } from "../../src/engine/dispatcher-cluster.ts";
import { createGatewayApp } from "../../src/gateway/gateway-app.ts";
import { RemoteCluster } from "../../src/gateway/remote-cluster.ts";
import type { Hono } from "hono";
import { Cluster } from "../integration/zmq-fixture.ts";
import { runMario } from "../support/processes.ts";

const PIPELINE = { name: "p", steps: ["echo"] };

/** Not an object, 100 levels deep, a 300-character key, an unknown pipeline. */
/** `start`: the delay, runAt and priority as text (a query string, a flag), given to every door. */
type Start = { delay?: string; runAt?: string; priority?: string };
const CASES: { name: string; pipeline: string; instructions: unknown; key?: string; start?: Start; code: string; limit?: number }[] = [
  { name: "not an object", pipeline: "p", instructions: [1, 2], code: "INVALID_INSTRUCTIONS" },
  { name: "100 levels deep", pipeline: "p", instructions: { a: nest(100) }, code: "TOO_DEEP", limit: MAX_DEPTH },
  { name: "a 300-character idempotency key", pipeline: "p", instructions: { n: 1 }, key: "k".repeat(300), code: "INVALID_REQUEST", limit: MAX_IDEMPOTENCY_KEY_LENGTH },
  { name: "an unknown pipeline", pipeline: "nope", instructions: { n: 1 }, code: "UNKNOWN_PIPELINE" },
  { name: "a malformed delay", pipeline: "p", instructions: { n: 1 }, start: { delay: "soon" }, code: "INVALID_DELAY", limit: MAX_DELAY_MS },
  { name: "a delay over the maximum", pipeline: "p", instructions: { n: 1 }, start: { delay: String(MAX_DELAY_MS + 1) }, code: "INVALID_DELAY", limit: MAX_DELAY_MS },
  { name: "both a delay and a runAt", pipeline: "p", instructions: { n: 1 }, start: { delay: "10", runAt: "2099-01-01T00:00:00Z" }, code: "INVALID_DELAY" },
  { name: "a priority out of range", pipeline: "p", instructions: { n: 1 }, start: { priority: "10" }, code: "INVALID_PRIORITY", limit: MAX_PRIORITY },
];

function query(start: Start | undefined): string {
  const params = new URLSearchParams(Object.entries(start ?? {}));
  return params.size === 0 ? "" : `?${params.toString()}`;
}

function flags(start: Start | undefined): string[] {
  const names: Record<keyof Start, string> = { delay: "--delay", runAt: "--run-at", priority: "--priority" };
  return Object.entries(start ?? {}).map(([k, v]) => `${names[k as keyof Start]}=${v}`);
}

function nest(levels: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}

interface Answer {
  code: string;
  message: string;
}

async function overHttp(app: Hono, c: (typeof CASES)[number]): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (c.key !== undefined) headers["idempotency-key"] = c.key;
  const res = await app.request(`/pipelines/${c.pipeline}/jobs${query(c.start)}`, { method: "POST", headers, body: JSON.stringify(c.instructions) });
  assert.ok(res.status === 400 || res.status === 404, `HTTP ${res.status} for ${c.name}`);
  return ((await res.json()) as { error: Answer }).error;
}

describe("the same rules at every door", () => {
  const cluster = Cluster.memory();
  let address: string;
  let local: Hono;
  let remote: Hono;
  let remoteCluster: RemoteCluster;

  before(async () => {
    const server = await cluster.startServer([PIPELINE]);
    address = server.jobPullAddress;
    const client = await cluster.client();
    local = createGatewayApp(new DispatcherCluster(server.dispatcher));
    // As `mario gateway` runs it: enqueues over ZeroMQ to the server; a gateway knowing one more pipeline than the server.
    remoteCluster = new RemoteCluster([
      { pipeline: PIPELINE, intake: client, storage: cluster.storage },
      { pipeline: { name: "nope", steps: ["echo"] }, intake: client, storage: cluster.storage },
    ]);
    remote = createGatewayApp(remoteCluster);
  });
  after(() => cluster.close());

  for (const c of CASES) {
    it(`${c.name}: ${c.code} and the same message over HTTP (in process, behind a gateway), PipelineClient and mario enqueue`, async () => {
      const http = await overHttp(local, c);
      const gateway = await overHttp(remote, c);
      const client = await cluster.client();
      const [ok, zmq] = await client.enqueueJob({ name: c.pipeline, instructions: c.instructions, idempotencyKey: c.key, delayMs: c.start?.delay, runAt: c.start?.runAt, priority: c.start?.priority });
      assert.equal(ok, false);
      const args = ["enqueue", address, c.pipeline, JSON.stringify(c.instructions), "--timeout=5000", ...(c.key === undefined ? [] : [`--idempotency-key=${c.key}`]), ...flags(c.start)];
      const cli = await runMario(args);
      assert.equal(cli.code, 1, cli.stderr);

      assert.equal(http.code, c.code);
      assert.deepEqual(gateway, http, "behind mario gateway: the server's own answer");
      assert.deepEqual(zmq, http, "PipelineClient: the same code and message");
      assert.equal(cli.stderr, `mario enqueue: ${http.message} (${http.code})\n`);
      if (c.limit !== undefined) assert.match(http.message, new RegExp(`\\b${c.limit}\\b`), "the message names the limit");
    });
  }
});
