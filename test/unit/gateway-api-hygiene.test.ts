/**
 * The HTTP API as clients expect it: 405 + Allow for a wrong method, 400 for an unknown query
 * parameter, `GET /jobs/:id?wait=ms` long-polling, CORS headers for the configured origin, and
 * an OpenAPI 3.1 document at /openapi.json naming every route the app serves.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { gatewayFixture, post, type ErrorBody, type GatewayFixture } from "./gateway-fixture.ts";

describe("gateway: methods, query parameters, long polls", () => {
  let f: GatewayFixture;
  before(async () => {
    f = await gatewayFixture();
  });
  after(async () => {
    await f.close();
  });

  it("a wrong method is 405 with Allow; an unknown path stays 404", async () => {
    const cases: [string, string, string][] = [
      ["DELETE", "/pipelines", "GET, HEAD, OPTIONS"],
      ["PUT", "/jobs/0000000000000000000000", "DELETE, GET, HEAD, OPTIONS"],
      ["GET", "/pipelines/math/jobs", "OPTIONS, POST"],
      ["GET", "/jobs/0000000000000000000000/retry", "OPTIONS, POST"],
      ["POST", "/health", "GET, HEAD, OPTIONS"],
    ];
    for (const [method, path, allow] of cases) {
      const res = await f.app.request(path, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
      assert.equal(((await res.json()) as ErrorBody).error.code, "METHOD_NOT_ALLOWED");
    }
    const options = await f.app.request("/pipelines", { method: "OPTIONS" });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get("allow"), "GET, HEAD, OPTIONS");
    assert.equal((await f.app.request("/nowhere", { method: "DELETE" })).status, 404);
  });

  it("an unknown query parameter is a 400 naming it, on every route", async () => {
    for (const [method, path] of [["GET", "/jobs/0000000000000000000000?wiat=10"], ["GET", "/jobs?pipline=math"], ["POST", "/pipelines/math/jobs?delay_ms=5"], ["GET", "/pipelines?x=1"], ["GET", "/health?verbose"]] as const) {
      const res = await f.app.request(path, { method, headers: { "content-type": "application/json" } });
      assert.equal(res.status, 400, path);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.code, "INVALID_REQUEST");
      assert.match(body.error.message, /^query: unknown parameter "(wiat|pipline|delay_ms|x|verbose)"$/);
    }
  });

  it("GET /jobs/:id?wait=ms long-polls until the job ends, and answers the job as it is when the wait runs out", async () => {
    const held = (await (await post(f.app, "/pipelines/hold/jobs", { n: 1 })).json()) as { id: string };
    const waiting = f.app.request(`/jobs/${held.id}?wait=20000`);
    const early = (await (await f.app.request(`/jobs/${held.id}?wait=1`)).json()) as JobRecord;
    assert.notEqual(early.status, "succeeded");
    f.releaseHeld();
    const res = await waiting;
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as JobRecord).status, "succeeded");
    assert.equal((await f.app.request(`/jobs/${held.id}?wait=999999999`)).status, 400);
    assert.equal((await f.app.request("/jobs/0000000000000000000000?wait=100")).status, 404);
  });
});

describe("gateway: CORS", () => {
  let f: GatewayFixture;
  before(async () => {
    f = await gatewayFixture({ gateway: { cors: ["https://app.example.com"] } });
  });
  after(async () => {
    await f.close();
  });

  it("answers a preflight and sends Access-Control-Allow-Origin to the configured origin only", async () => {
    const preflight = await f.app.request("/pipelines/math/jobs", {
      method: "OPTIONS",
      headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "content-type, idempotency-key" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /POST/);
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /idempotency-key/);
    const res = await f.app.request("/pipelines", { headers: { origin: "https://app.example.com" } });
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
    const other = await f.app.request("/pipelines", { headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  });

  it("sends no CORS headers when none is configured", async () => {
    const plain = await gatewayFixture();
    try {
      const res = await plain.app.request("/pipelines", { headers: { origin: "https://app.example.com" } });
      assert.equal(res.headers.get("access-control-allow-origin"), null);
    } finally {
      await plain.close();
    }
  });
});

describe("gateway: /openapi.json", () => {
  let f: GatewayFixture;
  before(async () => {
    f = await gatewayFixture({ gateway: { token: "s3cret" } });
  });
  after(async () => {
    await f.close();
  });

  it("is OpenAPI 3.1 and names every route the app serves, with its method", async () => {
    const res = await f.app.request("/openapi.json");
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; info: { version: string }; paths: Record<string, Record<string, { responses: object }>> };
    assert.equal(doc.openapi, "3.1.0");
    const served = f.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    assert.ok(served.length >= 13, `routes served: ${served.join(", ")}`);
    assert.deepEqual([...new Set(served)].sort(), [...new Set(documented)].sort());
    for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) assert.ok(Object.keys(op.responses).length > 0, `${method} ${path} documents its answers`);
  });

  it("documents the schemas the routes validate with (parameters, strict queries)", async () => {
    const doc = (await (await f.app.request("/openapi.json")).json()) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: { pattern?: string } }[] }>> };
    const getJob = doc.paths["/jobs/{id}"]?.get;
    const id = getJob?.parameters?.find((p) => p.name === "id" && p.in === "path");
    assert.equal(id?.schema.pattern, "^[0-9a-z]{22}$");
    assert.ok(getJob?.parameters?.some((p) => p.name === "wait" && p.in === "query"));
    const list = doc.paths["/jobs"]?.get?.parameters?.map((p) => p.name).sort();
    assert.deepEqual(list?.filter((n) => n !== "authorization"), ["cursor", "id", "limit", "pipeline", "since", "status", "step", "until"]);
  });
});
