/**
 * `POST /pipelines/:name/jobs` reads its token, content type, query and Idempotency-Key by hand
 * (_enqueue-request.ts) instead of hono middleware and zod-openapi validators, and answers with
 * plain headers (acceptedAnswer). What those gave is kept: the order of the refusals (401, then 415,
 * then 400 for the query, then 404 for the pipeline), the query schema's messages (an unknown,
 * a repeated or a malformed parameter), an empty query string, Location and Idempotent-Replayed,
 * CORS headers on the answer, 405 for another method, and the same over a real socket.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { serveGateway, type ServedGateway } from "../../src/gateway/serve-gateway.ts";
import { gatewayFixture, post, type ErrorBody, type GatewayFixture } from "./gateway-fixture.ts";
// After the fixture: the gateway app loads @hono/zod-openapi, which extends zod before _schemas.ts is read.
import { acceptedAnswer } from "../../src/gateway/_enqueue-request.ts";

const TOKEN = "s3cret-token";
const ORIGIN = "https://app.example.com";
const authed = (extra: Record<string, string> = {}): Record<string, string> => ({ authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...extra });

async function refusal(res: Response, status: number, code: string): Promise<string> {
  assert.equal(res.status, status);
  const body = (await res.json()) as ErrorBody;
  assert.equal(body.error.code, code, body.error.message);
  return body.error.message;
}

describe("gateway: the enqueue route's own checks", () => {
  let f: GatewayFixture;
  before(async () => {
    f = await gatewayFixture({ gateway: { token: TOKEN, cors: ORIGIN } });
  });
  after(async () => {
    await f.close();
  });

  it("refuses in the middleware chain's order: token, then content type, then query, then pipeline; nothing is enqueued", async () => {
    const before = await f.accepted();
    const everythingWrong = { "content-type": "text/plain" };
    await refusal(await post(f.app, "/pipelines/nope/jobs?bogus=1", { n: 1 }, everythingWrong), 401, "UNAUTHORIZED");
    await refusal(await post(f.app, "/pipelines/nope/jobs?bogus=1", { n: 1 }, { ...everythingWrong, authorization: "Bearer wrong" }), 401, "UNAUTHORIZED");
    await refusal(await post(f.app, "/pipelines/nope/jobs?bogus=1", { n: 1 }, authed({ "content-type": "text/plain" })), 415, "UNSUPPORTED_MEDIA_TYPE");
    assert.equal(await refusal(await post(f.app, "/pipelines/nope/jobs?bogus=1", { n: 1 }, authed()), 400, "INVALID_REQUEST"), 'query: unknown parameter "bogus"');
    assert.match(await refusal(await post(f.app, "/pipelines/nope/jobs", { n: 1 }, authed()), 404, "UNKNOWN_PIPELINE"), /nope/);
    assert.equal(await f.accepted(), before);
  });

  it("answers the query schema's messages: a repeated, a malformed, a too long wait; an empty query string is none", async () => {
    assert.match(await refusal(await post(f.app, "/pipelines/double/jobs?wait=1&wait=2", { n: 1 }, authed()), 400, "INVALID_REQUEST"), /^query wait: /);
    assert.equal(await refusal(await post(f.app, "/pipelines/double/jobs?wait=soon", { n: 1 }, authed()), 400, "INVALID_REQUEST"), "query wait: must be a whole number");
    assert.equal(await refusal(await post(f.app, "/pipelines/double/jobs?wait=60001", { n: 1 }, authed()), 400, "INVALID_REQUEST"), "query wait: must be at most 60000 (ms)");
    // A number of more digits than any bound is refused with the bound, not as "not a whole number".
    assert.equal(await refusal(await post(f.app, "/pipelines/double/jobs?wait=99999999999", { n: 1 }, authed()), 400, "INVALID_REQUEST"), "query wait: must be at most 60000 (ms)");
    assert.equal(await refusal(await post(f.app, "/pipelines/double/jobs?a=1&b=2", { n: 1 }, authed()), 400, "INVALID_REQUEST"), 'query: unknown parameters "a", "b"');
    const empty = await post(f.app, "/pipelines/double/jobs?", { n: 1 }, authed());
    assert.equal(empty.status, 202);
    const waited = await post(f.app, "/pipelines/double/jobs?wait=10000&priority=5", { n: 4 }, authed());
    assert.equal(waited.status, 200);
    assert.deepEqual(((await waited.json()) as { result: unknown }).result, { n: 8 });
  });

  it("answers 202 with Location, Idempotent-Replayed on a replay, CORS headers for the origin; a bad key is the engine's 400", async () => {
    const first = await post(f.app, "/pipelines/double/jobs", { n: 1 }, authed({ "idempotency-key": "order-1", origin: ORIGIN }));
    assert.equal(first.status, 202);
    const accepted = (await first.json()) as { id: string; pipeline: string; status: string };
    assert.deepEqual(Object.keys(accepted), ["id", "pipeline", "status"]);
    assert.equal(accepted.pipeline, "double");
    assert.equal(first.headers.get("content-type"), "application/json");
    assert.equal(first.headers.get("location"), `/jobs/${accepted.id}`);
    assert.equal(first.headers.get("idempotent-replayed"), null);
    assert.equal(first.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(first.headers.get("access-control-expose-headers") ?? "", /location/);
    const again = await post(f.app, "/pipelines/double/jobs", { n: 1 }, authed({ "idempotency-key": "order-1" }));
    assert.equal(((await again.json()) as { id: string }).id, accepted.id);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.match(await refusal(await post(f.app, "/pipelines/double/jobs", { n: 1 }, authed({ "idempotency-key": "has space" })), 400, "INVALID_REQUEST"), /dempotency/);
  });

  it("another method on the route is 405 with Allow", async () => {
    const res = await f.app.request("/pipelines/double/jobs", { method: "GET", headers: authed() });
    assert.equal(res.status, 405);
    assert.match(res.headers.get("allow") ?? "", /POST/);
  });
});

describe("gateway: the enqueue route over a real socket", () => {
  let f: GatewayFixture;
  let served: ServedGateway;
  before(async () => {
    f = await gatewayFixture({ gateway: { cors: ORIGIN } });
    served = await serveGateway(f.app, { port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await served.close();
    await f.close();
  });

  it("answers 202 with its headers through @hono/node-server, and refusals as JSON", async () => {
    const res = await fetch(`${served.url}pipelines/double/jobs`, { method: "POST", headers: { "content-type": "application/json", origin: ORIGIN }, body: '{"n":2}' });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { id: string; status: string };
    assert.equal(body.status, "queued");
    assert.equal(res.headers.get("location"), `/jobs/${body.id}`);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("access-control-allow-origin"), ORIGIN);
    assert.equal(Number(res.headers.get("content-length")), JSON.stringify(body).length);
    const bad = await fetch(`${served.url}pipelines/double/jobs?nope=1`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(await refusal(bad, 400, "INVALID_REQUEST"), 'query: unknown parameter "nope"');
  });
});

describe("gateway: the accepted answer's text", () => {
  it("is the bytes JSON.stringify({id, pipeline, status}) gives, for any pipeline name, with Location (and Idempotent-Replayed when replayed)", async () => {
    const job = { id: "0mz1x4k2p9a8b7c6d5e4f3", pipeline: 'we"ird \\ näme ✓\u0001', status: "queued" };
    const fresh = acceptedAnswer(job, 202, false);
    assert.equal(fresh.status, 202);
    assert.equal(await fresh.text(), JSON.stringify({ id: job.id, pipeline: job.pipeline, status: job.status }));
    assert.deepEqual([...fresh.headers], [["content-type", "application/json"], ["location", `/jobs/${job.id}`]]);
    const replayed = acceptedAnswer({ ...job, status: "succeeded" }, 200, true);
    assert.equal(replayed.status, 200);
    assert.deepEqual(JSON.parse(await replayed.text()), { id: job.id, pipeline: job.pipeline, status: "succeeded" });
    assert.equal(replayed.headers.get("idempotent-replayed"), "true");
  });
});
