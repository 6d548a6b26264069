/**
 * Delays and priorities at the front door (issue #17): the rules of core/start-rules.ts, and the
 * HTTP gateway in front of a real in-process engine (`app.request()`): `?delay`, `?runAt`,
 * `?priority` accepted and stored; every bad value a 400 with its code, nothing written; the
 * same code and message through `Dispatcher.enqueue` (in process) as over HTTP.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkStart, MAX_DELAY_MS } from "../../src/core/start-rules.ts";
import type { JobRecord } from "../../src/core/job.ts";
import { MarioError } from "../../src/core/errors/mario-error.ts";
import { gatewayFixture, post, type ErrorBody, type GatewayFixture } from "./gateway-fixture.ts";

const NOW = Date.parse("2026-12-01T10:00:00Z");

describe("start rules", () => {
  it("accept a delay, a start time (ISO with a zone, or epoch ms) and a priority, as numbers or decimal text", () => {
    assert.deepEqual(checkStart({ delayMs: 2000, priority: 5 }, NOW), { delayMs: 2000, priority: 5 });
    assert.deepEqual(checkStart({ delayMs: "2000", priority: "9" }, NOW), { delayMs: 2000, priority: 9 });
    assert.deepEqual(checkStart({ delayMs: 0, priority: 0 }, NOW), {}, "0 is no delay and the default priority");
    assert.deepEqual(checkStart({ delayMs: MAX_DELAY_MS }, NOW), { delayMs: MAX_DELAY_MS });
    assert.deepEqual(checkStart({ runAt: "2026-12-01T10:00:05Z" }, NOW), { runAt: NOW + 5000 });
    assert.deepEqual(checkStart({ runAt: "2026-12-01T11:00:05.250+01:00" }, NOW), { runAt: NOW + 5250 });
    assert.deepEqual(checkStart({ runAt: NOW + 1 }, NOW), { runAt: NOW + 1 });
    assert.deepEqual(checkStart({ runAt: String(NOW) }, NOW), { runAt: NOW }, "now itself is not the past");
  });

  it("refuse malformed, negative, fractional, past, too far and doubled values with INVALID_DELAY / INVALID_PRIORITY", () => {
    const refused = (request: Parameters<typeof checkStart>[0]): MarioError => {
      try {
        checkStart(request, NOW);
      } catch (error) {
        assert.ok(error instanceof MarioError);
        return error;
      }
      assert.fail(`accepted ${JSON.stringify(request)}`);
    };
    for (const delayMs of ["abc", -1, "-5", 1.5, "1e3", null, true, {}, MAX_DELAY_MS + 1, "99999999999999999"]) {
      assert.equal(refused({ delayMs }).code, "INVALID_DELAY", JSON.stringify(delayMs));
    }
    assert.match(refused({ delayMs: MAX_DELAY_MS + 1 }).message, /over the maximum/);
    assert.match(refused({ delayMs: "abc" }).message, /^a delay is a whole number of milliseconds from 0 to 2592000000 \(30 days\); got "abc"$/);
    for (const runAt of ["tomorrow", "2026-12-01T10:00:05", "2026-12-01", "Dec 1 2026 10:00 GMT", -5, 1.5]) {
      assert.match(refused({ runAt }).message, /^runAt is an ISO 8601 time with a time zone/, String(runAt));
    }
    assert.match(refused({ runAt: "2026-12-01T09:59:59Z" }).message, /is in the past/);
    assert.match(refused({ runAt: NOW + MAX_DELAY_MS + 1 }).message, /more than 30 days ahead/);
    assert.match(refused({ runAt: 8_700_000_000_000_000 }).message, /more than 30 days ahead/);
    assert.equal(refused({ delayMs: 10, runAt: NOW + 10 }).message, "give a delay or a runAt, not both");
    for (const priority of [-1, 10, 1.5, "high", "", null]) {
      const error = refused({ priority });
      assert.equal(error.code, "INVALID_PRIORITY", String(priority));
      assert.match(error.message, /^a priority is a whole number from 0 \(the default\) to 9 \(runs first\); got /);
    }
  });
});

describe("gateway: delayed and prioritised enqueue", () => {
  let f: GatewayFixture;
  before(async () => {
    f = await gatewayFixture();
  });
  after(async () => f.close());

  const accepted = async (res: Response): Promise<JobRecord> => {
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const job = await f.cluster.getJob(id);
    assert.ok(job);
    return job;
  };

  it("?delay=ms stores the job delayed with its due time, listed by GET /jobs?status=delayed and counted", async () => {
    const res = await post(f.app, "/pipelines/double/jobs?delay=3600000", { n: 1 });
    const body = (await res.clone().json()) as { status: string };
    assert.equal(body.status, "delayed");
    const job = await accepted(res);
    assert.equal(job.status, "delayed");
    assert.equal(job.runAt, job.createdAt + 3_600_000);
    const list = (await (await f.app.request("/jobs?status=delayed")).json()) as { jobs: JobRecord[] };
    assert.ok(list.jobs.some((j) => j.id === job.id && j.runAt === job.runAt));
    const pipelines = (await (await f.app.request("/pipelines")).json()) as { pipelines: { name: string; delayed: number; steps: { delayedStart: number }[] }[] };
    const double = pipelines.pipelines.find((p) => p.name === "double")!;
    assert.equal(double.delayed, 1);
    assert.equal(double.steps[0]!.delayedStart, 1);
    const metrics = await (await f.app.request("/metrics")).text();
    assert.match(metrics, /mario_jobs_active\{pipeline="double",status="delayed"\} 1/);
    assert.match(metrics, /mario_queue_delayed_start\{pipeline="double",step="double"\} 1/);
  });

  it("?runAt=ISO and ?priority=n are stored on the job; a short delay runs once due", async () => {
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    const later = await accepted(await post(f.app, `/pipelines/double/jobs?runAt=${encodeURIComponent(runAt)}&priority=7`, { n: 2 }));
    assert.equal(later.runAt, Date.parse(runAt));
    assert.equal(later.priority, 7);
    const res = await post(f.app, "/pipelines/double/jobs?delay=200&priority=3&wait=10000", { n: 3 });
    assert.equal(res.status, 200);
    const done = (await res.json()) as JobRecord;
    assert.equal(done.status, "succeeded");
    assert.ok(done.startedAt! - done.createdAt >= 200, "started no sooner than its delay, by storage's clock");
    assert.equal(done.priority, 3);
  });

  it("answers every bad delay, runAt or priority with a 400 and its code, writing nothing; in process the same code and message", async () => {
    const before0 = await f.accepted();
    const cases: [string, string][] = [
      ["delay=abc", "INVALID_DELAY"],
      ["delay=-5", "INVALID_DELAY"],
      ["delay=2592000001", "INVALID_DELAY"],
      ["runAt=2020-01-01T00:00:00Z", "INVALID_DELAY"],
      ["runAt=soon", "INVALID_DELAY"],
      ["delay=10&runAt=2099-01-01T00:00:00Z", "INVALID_DELAY"],
      ["priority=10", "INVALID_PRIORITY"],
      ["priority=x", "INVALID_PRIORITY"],
    ];
    for (const [query, code] of cases) {
      const res = await post(f.app, `/pipelines/double/jobs?${query}`, { n: 1 });
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as ErrorBody;
      assert.equal(body.error.code, code, `${query}: ${body.error.message}`);
      const params = new URLSearchParams(query);
      const inProcess = await f.cluster
        .enqueue("double", { n: 1 }, { delayMs: params.get("delay") ?? undefined, runAt: params.get("runAt") ?? undefined, priority: params.get("priority") ?? undefined })
        .then(() => assert.fail(`${query} accepted in process`), (error: unknown) => error as MarioError);
      assert.equal(inProcess.code, code);
      if (!query.startsWith("runAt=2020")) assert.equal(inProcess.message, body.error.message, "the same message through both doors");
    }
    assert.equal(await f.accepted(), before0, "a refused request wrote a job");
  });
});
