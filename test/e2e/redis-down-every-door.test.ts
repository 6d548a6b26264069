/**
 * A refused Redis is STORAGE_UNAVAILABLE at every door, never a driver's code: Redis (a real
 * redis-server) is killed under `mario pipeline --redis`; then an enqueue through `mario gateway`
 * (HTTP) answers 503 STORAGE_UNAVAILABLE, and one through PipelineClient (ZeroMQ) answers
 * ok=false with the same code. Nothing mentions ECONNREFUSED as a code.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses } from "../support/processes.ts";
import { startRedis } from "../support/redis-server.ts";

const JSON_HEADERS = { "content-type": "application/json" };

describe("Redis down under mario pipeline", () => {
  const procs = new MarioProcesses();
  after(() => procs.stopAll());

  it("the HTTP client (through mario gateway) and the ZeroMQ client both see STORAGE_UNAVAILABLE", async (t) => {
    const redis = await startRedis();
    t.after(() => redis.destroy());
    const [subPort, pullPort] = await freePorts(2);
    const pull = `tcp://127.0.0.1:${pullPort}`;
    const pipeline = procs.start(["pipeline", "examples/simple.ts", "example-one", `--sub-bind=tcp://127.0.0.1:${subPort}`, `--job-pull-bind=${pull}`, `--redis=${redis.url}`]);
    await pipeline.waitForLine(/pipeline server ready/, 30_000);
    const gateway = procs.start(["gateway", "examples/simple.ts", `--job-push=example-one=${pull}`, `--redis=${redis.url}`, "--port=0", "--host=127.0.0.1"]);
    const line = await gateway.waitForLine(/mario gateway on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
    const client = new PipelineClient(pull, { timeoutMs: 5000 });
    t.after(() => client.close());
    await client.connect();

    // Both doors work while Redis runs.
    const accepted = await fetch(`${url}pipelines/example-one/jobs`, { method: "POST", headers: JSON_HEADERS, body: '{"size": 1}' });
    assert.equal(accepted.status, 202);
    assert.equal((await client.enqueueJob({ name: "example-one", instructions: { size: 1 } }))[0], true);

    await redis.stop();

    const res = await fetch(`${url}pipelines/example-one/jobs`, { method: "POST", headers: JSON_HEADERS, body: '{"size": 1}' });
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 503, JSON.stringify(body));
    assert.equal(res.headers.get("retry-after"), "1");
    assert.equal(body.error.code, "STORAGE_UNAVAILABLE");

    const [ok, payload] = await client.enqueueJob({ name: "example-one", instructions: { size: 1 } });
    assert.equal(ok, false);
    assert.equal((payload as { code: string }).code, "STORAGE_UNAVAILABLE");
    assert.match((payload as { message: string }).message, /Redis/);
    t.diagnostic(`HTTP: ${res.status} ${body.error.code}: ${body.error.message}`);
    t.diagnostic(`ZeroMQ: ${(payload as { code: string }).code}: ${(payload as { message: string }).message}`);

    assert.deepEqual(await gateway.stop(), { code: 0, signal: null });
    assert.deepEqual(await pipeline.stop(), { code: 0, signal: null });
  });
});
