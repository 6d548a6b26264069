/**
 * The dashboard's page, files and token rule through `app.request()`: every file the page and
 * its modules reference is served (no CDN, no missing module), the token guards `/events` (by
 * header or `?token=`), and the small pure parts: throughput buckets, latency quantiles, job
 * summaries, constant-time token checks.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { DispatcherCluster } from "../../src/engine/dispatcher-cluster.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { ThroughputRecorder, THROUGHPUT_BUCKET_MS, THROUGHPUT_BUCKETS } from "../../src/gateway/dashboard/_throughput-recorder.ts";
import { bearerToken, tokensMatch } from "../../src/gateway/_auth.ts";
import { toJobSummary, toLatencyQuantile } from "../../src/gateway/dashboard/_views.ts";
import { createDashboardApp } from "../../src/gateway/dashboard/dashboard-app.ts";
import { emptyHistogram, observe } from "../../src/storage/latency-histogram.ts";
import type { PipelineStats } from "../../src/storage/storage-backend.ts";

let runner: LocalRunner;
let cluster: DispatcherCluster;
before(async () => {
  runner = new LocalRunner({ pipelines: [{ name: "p", steps: ["a"] }], steps: [{ jobType: "a", handler: (x) => x }] });
  await runner.start();
  cluster = new DispatcherCluster(runner.dispatcher);
});
after(async () => {
  await runner.stop(100);
});

describe("dashboard page and files", () => {
  it("serves the page with a strict CSP, and every file it and its modules reference, from this server only", async () => {
    const app = createDashboardApp(cluster, {});
    const page = await app.request("/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /text\/html/);
    assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
    const html = await page.text();
    assert.match(html, /<meta name="mario-auth" content="none">/);
    assert.doesNotMatch(html, /https?:\/\//, "no CDN or external reference");
    const pending = [...html.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(pending.includes("/dashboard/app.js") && pending.includes("/dashboard/dashboard.css"));
    const seen = new Set<string>();
    while (pending.length > 0) {
      const path = pending.pop()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const response = await app.request(path);
      assert.equal(response.status, 200, `${path} is served`);
      const body = await response.text();
      if (path.endsWith(".js")) {
        assert.match(response.headers.get("content-type")!, /text\/javascript/);
        assert.doesNotMatch(body, /from\s+"https?:/, `${path} imports nothing remote`);
        for (const m of body.matchAll(/from\s+"\.\/([^"]+)"/g)) pending.push(`/dashboard/${m[1]}`);
      }
    }
    assert.ok(seen.size >= 8, `page, styles, icon and modules: ${[...seen].join(", ")}`);
  });

  it("answers 304 to a matching ETag and 404 to unknown files", async () => {
    const app = createDashboardApp(cluster, {});
    const first = await app.request("/dashboard/app.js");
    const etag = first.headers.get("etag")!;
    assert.ok(etag.length > 2);
    const again = await app.request("/dashboard/app.js", { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    const missing = await app.request("/dashboard/nope.js");
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "NOT_FOUND");
    assert.equal((await app.request("/dashboard/index.html")).status, 404, "the template is only served as /");
    assert.equal((await app.request("/dashboard/..%2Fdashboard-app.ts")).status, 404);
  });
});

describe("dashboard token", () => {
  const app = (): ReturnType<typeof createDashboardApp> => createDashboardApp(cluster, { token: "s3cret" });

  it("tells the page a token is needed; the page itself stays public", async () => {
    const page = await app().request("/");
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<meta name="mario-auth" content="token">/);
  });

  it("refuses /events without the token or with a wrong one (401, JSON error)", async () => {
    for (const init of [{}, { headers: { authorization: "Bearer nope" } }]) {
      const response = await app().request("/events", init);
      assert.equal(response.status, 401);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, "UNAUTHORIZED");
    }
    assert.equal((await app().request("/events?token=s3cre")).status, 401);
    assert.equal((await app().request("/events?token=s3cret-")).status, 401);
  });

  it("accepts the token as a bearer header or as ?token= (EventSource cannot send headers)", async () => {
    for (const [path, init] of [
      ["/events?token=s3cret", {}],
      ["/events", { headers: { authorization: "Bearer s3cret" } }],
    ] as const) {
      const response = await app().request(path, init);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get("content-type")!, /text\/event-stream/);
      const reader = response.body!.getReader();
      const { value } = await reader.read();
      assert.match(new TextDecoder().decode(value), /^event: snapshot\n/);
      await reader.cancel();
    }
  });

  it("compares tokens in constant time over hashes, whatever their lengths", () => {
    assert.equal(tokensMatch("abc", "abc"), true);
    assert.equal(tokensMatch("abcd", "abc"), false);
    assert.equal(tokensMatch("", "abc"), false);
    assert.equal(tokensMatch(undefined, "abc"), false);
    assert.equal(bearerToken("Bearer  xyz "), "xyz");
    assert.equal(bearerToken("Basic xyz"), undefined);
  });
});

describe("dashboard views", () => {
  it("throughput from counter totals: the first read is the baseline, then the growth lands in the current bucket", () => {
    let now = 1_000 * THROUGHPUT_BUCKET_MS;
    const recorder = new ThroughputRecorder(() => now);
    const stats = (succeeded: number, dead: number, stepOk: number, stepFailed: number): PipelineStats[] => [
      { pipeline: "p", accepted: 0, succeeded, dead, queued: 0, running: 0, failed: 0, steps: [{ jobType: "a", queued: 0, running: 0, delayed: 0, oldestQueuedAt: null, succeeded: stepOk, failed: stepFailed, dead, stalled: 0, latency: emptyHistogram() }] },
    ];
    recorder.observeTotals(stats(100, 5, 100, 9));
    assert.deepEqual(recorder.view().series, [], "the baseline counts nothing");
    recorder.observeTotals(stats(103, 6, 103, 11));
    now += THROUGHPUT_BUCKET_MS;
    recorder.observeTotals(stats(104, 6, 104, 11));
    const view = recorder.view();
    const a = view.series.find((s) => s.jobType === "a")!;
    assert.deepEqual([a.ok.slice(-2), a.failed.slice(-2)], [[3, 1], [2, 0]]);
    const p = view.series.find((s) => s.jobType === undefined)!;
    assert.deepEqual([p.ok.slice(-2), p.failed.slice(-2)], [[3, 1], [1, 0]]);
    recorder.resetTotals();
    recorder.observeTotals(stats(500, 6, 500, 11));
    recorder.observeTotals(stats(1, 0, 1, 0));
    assert.deepEqual(recorder.view().series.find((s) => s.jobType === "a")!.ok.slice(-1), [1], "a reset and a counter going down count nothing");
  });

  it("throughput: counts per 5 s bucket, slides, and forgets what is older than the window", () => {
    let now = 1_000 * THROUGHPUT_BUCKET_MS;
    const recorder = new ThroughputRecorder(() => now);
    recorder.record("p", "a", true);
    recorder.record("p", "a", true);
    recorder.record("p", "a", false);
    now += THROUGHPUT_BUCKET_MS;
    recorder.record("p", "a", true);
    recorder.record("p", undefined, true);
    let view = recorder.view();
    assert.equal(view.endAt, now);
    const a = view.series.find((s) => s.jobType === "a")!;
    assert.equal(a.ok.length, THROUGHPUT_BUCKETS);
    assert.deepEqual(a.ok.slice(-2), [2, 1]);
    assert.deepEqual(a.failed.slice(-2), [1, 0]);
    assert.deepEqual(view.series.find((s) => s.jobType === undefined)!.ok.slice(-1), [1]);
    now += 3 * THROUGHPUT_BUCKET_MS;
    view = recorder.view();
    assert.deepEqual(view.series.find((s) => s.jobType === "a")!.ok.slice(-5), [2, 1, 0, 0, 0]);
    now += THROUGHPUT_BUCKETS * THROUGHPUT_BUCKET_MS;
    view = recorder.view();
    assert.equal(view.series.find((s) => s.jobType === "a")!.ok.reduce((x, y) => x + y, 0), 0);
  });

  it("latency quantiles are bucket bounds, or 'above the largest bucket'", () => {
    const histogram = emptyHistogram();
    assert.equal(toLatencyQuantile(histogram, 0.5), null);
    for (let i = 0; i < 98; i++) observe(histogram, 7);
    observe(histogram, 70_000);
    observe(histogram, 70_000);
    assert.deepEqual(toLatencyQuantile(histogram, 0.5), { le: 10 });
    assert.deepEqual(toLatencyQuantile(histogram, 0.99), { gt: 60_000 });
  });

  it("job summaries leave out instructions and results, and cut very long stacks", () => {
    const job: JobRecord = {
      id: "j1",
      pipeline: "p",
      route: ["a", "b"],
      stepIndex: 1,
      step: "b",
      status: "dead",
      attempts: 3,
      instructions: { secret: "x".repeat(100) },
      input: {},
      steps: [],
      createdAt: 1,
      updatedAt: 2,
      finishedAt: 2,
      error: { name: "Error", message: "no", stack: "s".repeat(10_000) },
    };
    const summary = toJobSummary(job);
    assert.equal("instructions" in summary, false);
    assert.deepEqual([summary.stepIndex, summary.stepCount, summary.status], [1, 2, "dead"]);
    assert.ok(summary.error!.stack!.length < 4_100);
  });
});
