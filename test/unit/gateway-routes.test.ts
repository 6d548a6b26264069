/** Every gateway route through `app.request()`, over the real engine on memory storage. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { NoAnswerError } from "../../src/core/errors/no-answer-error.ts";
import { eventually } from "../support/eventually.ts";
import { gatewayFixture, post, type ErrorBody, type GatewayFixture } from "./gateway-fixture.ts";

interface Accepted {
  id: string;
  pipeline: string;
  status: string;
}

describe("gateway routes", () => {
  let f: GatewayFixture;
  before(async () => {
    f = await gatewayFixture();
  });
  after(async () => {
    await f.close();
  });

  it("GET /health answers 200", async () => {
    const res = await f.app.request("/health");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
  });

  it("GET /ready answers 200 while storage answers, 503 with the reason when it does not", async () => {
    assert.equal((await f.app.request("/ready")).status, 200);
    f.storage.pingFails = true;
    try {
      const res = await f.app.request("/ready");
      assert.equal(res.status, 503);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.code, "NOT_READY");
      assert.match(body.error.message, /storage: connection refused/);
    } finally {
      f.storage.pingFails = false;
    }
  });

  it("POST /pipelines/:name/jobs answers 202 {id, pipeline, status: queued} and GET /jobs/:id reaches succeeded", async () => {
    const res = await post(f.app, "/pipelines/math/jobs", { n: 5 });
    assert.equal(res.status, 202);
    const accepted = (await res.json()) as Accepted;
    assert.match(accepted.id, /^[0-9a-z]{22}$/);
    assert.deepEqual(accepted, { id: accepted.id, pipeline: "math", status: "queued" });
    assert.equal(res.headers.get("location"), `/jobs/${accepted.id}`);
    let job: JobRecord | undefined;
    await eventually(async () => {
      const got = await f.app.request(`/jobs/${accepted.id}`);
      assert.equal(got.status, 200);
      job = (await got.json()) as JobRecord;
      return job.status === "succeeded";
    });
    assert.deepEqual(job?.result, { n: 20 });
    assert.deepEqual(job?.instructions, { n: 5 });
    assert.deepEqual(job?.steps.map((s) => [s.jobType, s.output]), [["double", { n: 10 }], ["double", { n: 20 }]]);
  });

  it("?wait=ms answers 200 with the final record inline", async () => {
    const res = await post(f.app, "/pipelines/double/jobs?wait=5000", { n: 21 });
    assert.equal(res.status, 200);
    const job = (await res.json()) as JobRecord;
    assert.equal(job.status, "succeeded");
    assert.deepEqual(job.result, { n: 42 });
  });

  it("?wait=ms answers 202 with the current record when the job is not done by then", async () => {
    const res = await post(f.app, "/pipelines/hold/jobs?wait=50", { x: 1 });
    assert.equal(res.status, 202);
    const job = (await res.json()) as JobRecord;
    assert.ok(job.status === "queued" || job.status === "running", job.status);
    assert.deepEqual(job.instructions, { x: 1 });
    f.releaseHeld();
  });

  it("?wait that is not a whole number of ms, or above the maximum, is a 400", async () => {
    const before = await f.accepted();
    for (const wait of ["abc", "-1", "1.5", "60001"]) {
      const res = await post(f.app, `/pipelines/double/jobs?wait=${wait}`, { n: 1 });
      assert.equal(res.status, 400, wait);
      assert.equal(((await res.json()) as ErrorBody).error.code, "INVALID_REQUEST");
    }
    assert.equal(await f.accepted(), before);
  });

  it("an empty body is taken as {} and a missing content type as JSON", async () => {
    const empty = await f.app.request("/pipelines/double/jobs?wait=5000", { method: "POST" });
    assert.equal(empty.status, 200);
    assert.deepEqual(((await empty.json()) as JobRecord).instructions, {});
    const untyped = await f.app.request("/pipelines/double/jobs?wait=5000", { method: "POST", body: new TextEncoder().encode('{"n": 2}') });
    // (a byte body gets no default content type; a string body would get text/plain)
    assert.equal(untyped.status, 200);
    assert.deepEqual(((await untyped.json()) as JobRecord).result, { n: 4 });
  });

  it("the same Idempotency-Key gives the same job", async () => {
    const headers = { "content-type": "application/json", "idempotency-key": "order-1" };
    const first = await post(f.app, "/pipelines/hold/jobs", { k: 1 }, headers);
    assert.equal(first.status, 202);
    const second = await post(f.app, "/pipelines/hold/jobs", { k: 2 }, headers);
    assert.equal(second.status, 202);
    assert.equal(second.headers.get("idempotent-replayed"), "true");
    assert.equal(((await second.json()) as Accepted).id, ((await first.json()) as Accepted).id);
    f.releaseHeld();
  });

  it("100 concurrent POSTs with one Idempotency-Key create exactly one job", async () => {
    const before = await f.accepted();
    const headers = { "content-type": "application/json", "idempotency-key": "burst-42" };
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => post(f.app, "/pipelines/double/jobs", { n: i }, headers)));
    const ids = new Set<string>();
    for (const res of answers) {
      assert.ok(res.status === 202 || res.status === 200, String(res.status));
      ids.add(((await res.json()) as Accepted).id);
    }
    assert.equal(ids.size, 1);
    assert.equal(await f.accepted(), before + 1);
    const [id] = [...ids];
    const jobs = await f.cluster.listJobs({ pipeline: "double", limit: 1000 });
    assert.equal(jobs.filter((j) => j.idempotencyKey === "burst-42").length, 1);
    assert.equal(jobs.find((j) => j.idempotencyKey === "burst-42")?.id, id);
  });

  it("unknown pipeline: 404 listing the known ones", async () => {
    const res = await post(f.app, "/pipelines/nope/jobs", { n: 1 });
    assert.equal(res.status, 404);
    const body = (await res.json()) as ErrorBody;
    assert.equal(body.error.code, "UNKNOWN_PIPELINE");
    assert.match(body.error.message, /known pipelines: double, explode, hold, math/);
  });

  it("GET /jobs/:id: 404 for an unknown id, 400 for a malformed one", async () => {
    const unknown = await f.app.request("/jobs/0000000000000000000000");
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as ErrorBody).error.code, "JOB_NOT_FOUND");
    for (const bad of ["short", "UPPERCASEUPPERCASEUPPE", "0000000000000000000000x", "%00%00"]) {
      const res = await f.app.request(`/jobs/${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(((await res.json()) as ErrorBody).error.code, "INVALID_REQUEST");
    }
  });

  it("POST /jobs/:id/retry: 202 requeues a dead job, 409 when not dead, 404 unknown, 400 malformed", async () => {
    const res = await post(f.app, "/pipelines/explode/jobs?wait=5000", {});
    assert.equal(res.status, 200);
    const dead = (await res.json()) as JobRecord;
    assert.equal(dead.status, "dead");
    assert.equal(dead.error?.message, "boom");

    const retry = await f.app.request(`/jobs/${dead.id}/retry`, { method: "POST" });
    assert.equal(retry.status, 202);
    assert.deepEqual(await retry.json(), { id: dead.id, pipeline: "explode", status: "queued" });
    await eventually(async () => (await f.cluster.getJob(dead.id))?.status === "dead");
    assert.equal((await f.cluster.getJob(dead.id))?.attempts, 1);

    const ok = (await (await post(f.app, "/pipelines/double/jobs?wait=5000", { n: 1 })).json()) as JobRecord;
    const conflict = await f.app.request(`/jobs/${ok.id}/retry`, { method: "POST" });
    assert.equal(conflict.status, 409);
    const body = (await conflict.json()) as ErrorBody;
    assert.equal(body.error.code, "NOT_DEAD");
    assert.match(body.error.message, /is succeeded/);

    assert.equal((await f.app.request("/jobs/0000000000000000000000/retry", { method: "POST" })).status, 404);
    assert.equal((await f.app.request("/jobs/bad-id/retry", { method: "POST" })).status, 400);
  });

  it("GET /jobs lists jobs most recent first, filtered by pipeline and status, limited", async () => {
    const a = (await (await post(f.app, "/pipelines/double/jobs?wait=5000", { n: 100 })).json()) as JobRecord;
    const b = (await (await post(f.app, "/pipelines/double/jobs?wait=5000", { n: 101 })).json()) as JobRecord;
    const res = await f.app.request("/jobs?pipeline=double&status=succeeded&limit=2");
    assert.equal(res.status, 200);
    const { jobs } = (await res.json()) as { jobs: JobRecord[] };
    assert.deepEqual(jobs.map((j) => j.id), [b.id, a.id]);
    assert.equal((await f.app.request("/jobs?status=weird")).status, 400);
    assert.equal((await f.app.request("/jobs?limit=0")).status, 400);
    const huge = await f.app.request("/jobs?limit=100000000000");
    assert.equal(huge.status, 400);
    assert.equal(((await huge.json()) as { error: { message: string } }).error.message, "query limit: must be at most 1000");
    assert.equal((await f.app.request("/jobs?pipeline=nope")).status, 404);
  });

  it("GET /pipelines lists pipelines, steps, queue depth, in-flight and workers per step", async () => {
    const res = await f.app.request("/pipelines");
    assert.equal(res.status, 200);
    const { pipelines } = (await res.json()) as { pipelines: { name: string; queued: number; inFlight: number; steps: { jobType: string; queued: number; inFlight: number; workers: number }[] }[] };
    assert.deepEqual(pipelines.map((p) => p.name), ["math", "double", "explode", "hold"]);
    const math = pipelines[0]!;
    assert.deepEqual(math.steps.map((s) => s.jobType), ["double", "double"]);
    assert.equal(math.steps[0]!.workers, 1);
    assert.equal(typeof math.queued, "number");
    assert.equal(typeof math.inFlight, "number");
  });

  it("GET /workers lists the in-process workers", async () => {
    const res = await f.app.request("/workers");
    assert.equal(res.status, 200);
    const { workers } = (await res.json()) as { workers: { jobType: string; address: string }[] };
    assert.deepEqual(workers.map((w) => w.jobType).sort(), ["double", "explode", "hold"]);
  });

  it("GET / serves the dashboard page and unknown routes answer a JSON 404", async () => {
    const page = await f.app.request("/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    const missing = await f.app.request("/nowhere");
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as ErrorBody).error.code, "NOT_FOUND");
  });
});

describe("gateway back-pressure and storage failures", () => {
  let f: GatewayFixture;
  before(async () => {
    f = await gatewayFixture({ storage: { maxQueued: 2 } });
  });
  after(async () => {
    await f.close();
  });

  it("answers 503 with Retry-After when the pipeline is saturated, writing nothing", async () => {
    assert.equal((await post(f.app, "/pipelines/hold/jobs", { i: 1 })).status, 202);
    assert.equal((await post(f.app, "/pipelines/hold/jobs", { i: 2 })).status, 202);
    const res = await post(f.app, "/pipelines/hold/jobs", { i: 3 });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), "1");
    assert.equal(((await res.json()) as ErrorBody).error.code, "BUSY");
    assert.equal(await f.accepted(), 2);
    f.releaseHeld();
    await eventually(async () => (await f.cluster.stats()).every((p) => p.queued + p.running === 0));
    assert.equal((await post(f.app, "/pipelines/hold/jobs", { i: 4 })).status, 202);
    f.releaseHeld();
  });

  it("answers 503 with Retry-After when storage is unavailable", async () => {
    f.storage.enqueueFails = true;
    try {
      const res = await post(f.app, "/pipelines/double/jobs", { n: 1 });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "1");
      assert.equal(((await res.json()) as ErrorBody).error.code, "STORAGE_UNAVAILABLE");
    } finally {
      f.storage.enqueueFails = false;
    }
  });

  it("answers 503 with Retry-After when a pipeline server does not answer (mario gateway, server down)", async () => {
    const original = f.cluster.enqueue.bind(f.cluster);
    f.cluster.enqueue = () => Promise.reject(new NoAnswerError("no answer from tcp://127.0.0.1:5050 within 5000 ms: is a pipeline server listening there?"));
    try {
      const res = await post(f.app, "/pipelines/double/jobs", { n: 1 });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "1");
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.code, "NO_ANSWER");
      assert.match(body.error.message, /no answer from tcp:\/\/127\.0\.0\.1:5050/);
    } finally {
      f.cluster.enqueue = original;
    }
  });

  it("NO_ANSWER to an enqueue names the idempotency key to send it again with (Idempotency-Key header)", async () => {
    const original = f.cluster.enqueue.bind(f.cluster);
    f.cluster.enqueue = () => Promise.reject(new NoAnswerError("no answer", { idempotencyKey: "client-abc" }));
    try {
      const res = await post(f.app, "/pipelines/double/jobs", { n: 1 });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("idempotency-key"), "client-abc");
    } finally {
      f.cluster.enqueue = original;
    }
  });

  it("answers 500 without details for an unexpected error", async () => {
    const original = f.cluster.stats.bind(f.cluster);
    f.cluster.stats = () => Promise.reject(new Error("secret internals"));
    try {
      const res = await f.app.request("/pipelines");
      assert.equal(res.status, 500);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.code, "INTERNAL");
      assert.doesNotMatch(body.error.message, /secret/);
    } finally {
      f.cluster.stats = original;
    }
  });
});
