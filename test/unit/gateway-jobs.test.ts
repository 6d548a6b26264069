/**
 * Seeing and fixing jobs through the gateway, over the real engine on memory storage: per-job
 * logs (ctx.logger and console.*) kept per attempt, capped with the cut marked; attempt history
 * appended by a redrive with new instructions; `?follow` streaming a running job's lines; cursor
 * paging with a `next` link, filters and id prefix; retry-dead; DELETE of a finished job.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { NonRetryableError } from "../../src/core/errors/non-retryable-error.ts";
import { capLines, DEFAULT_LOG_LIMITS } from "../../src/core/job-logs.ts";
import type { JobRecord } from "../../src/core/job.ts";
import { defineStep } from "../../src/dsl/define.ts";
import { DispatcherCluster } from "../../src/engine/dispatcher-cluster.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { createGatewayApp } from "../../src/gateway/gateway-app.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";

const JSON_HEADERS = { "content-type": "application/json" };

describe("gateway: logs, history, paging, redrive, delete", () => {
  let runner: LocalRunner;
  let app: ReturnType<typeof createGatewayApp>;
  let release: (() => void) | undefined;

  before(async () => {
    const steps = [
      defineStep("flaky", (instructions: Record<string, unknown>, ctx) => {
        ctx.logger.info(`attempt ${ctx.attempt} starts`, { n: instructions.n });
        console.warn(`console line of attempt ${ctx.attempt}`);
        if (instructions.ok !== true && ctx.attempt < 3) throw new Error(`failure ${ctx.attempt}`);
        if (instructions.ok !== true) throw new NonRetryableError("gave up");
        return { done: true };
      }, { retries: 5, backoff: { delayMs: 1, jitter: 0 } }),
      defineStep("chatty", (instructions: Record<string, unknown>) => {
        for (let i = 0; i < Number(instructions.lines); i++) console.log(`line ${i}`);
        return {};
      }),
      defineStep("hold", (_instructions, ctx) => new Promise((resolve) => {
        ctx.logger.info("waiting to be released");
        release = () => {
          ctx.logger.info("released");
          resolve({});
        };
      })),
      defineStep("die", () => {
        throw new NonRetryableError("no");
      }),
    ];
    runner = new LocalRunner({ pipelines: [], steps, storage: new MemoryStorageBackend() });
    await runner.start();
    app = createGatewayApp(new DispatcherCluster(runner.dispatcher));
  });
  after(async () => {
    release?.();
    await runner?.stop(1000);
  });

  const post = (path: string, body?: object) => app.request(path, { method: "POST", headers: JSON_HEADERS, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const run = async (pipeline: string, instructions: object): Promise<JobRecord> => (await (await post(`/pipelines/${pipeline}/jobs?wait=10000`, instructions)).json()) as JobRecord;

  it("keeps each attempt with worker, host, times, outcome, error and its lines (ctx.logger and console.*); a redrive with new instructions appends", async () => {
    const dead = await run("flaky", { n: 1 });
    assert.equal(dead.status, "dead");
    assert.deepEqual(dead.history?.map((a) => [a.attempt, a.outcome, a.error?.message]), [[1, "failed", "failure 1"], [2, "failed", "failure 2"], [3, "dead", "gave up"]]);
    for (const a of dead.history ?? []) {
      assert.match(a.workerId ?? "", /^local-flaky-/);
      assert.ok((a.host ?? "") !== "" && a.finishedAt >= a.startedAt && a.dueAt !== undefined && a.startedAt >= a.dueAt - 5);
    }
    const logs = (await (await app.request(`/jobs/${dead.id}/logs`)).json()) as { attempts: { attempt: number; outcome: string; logs: { level: string; msg: string; t: number }[] }[] };
    assert.deepEqual(logs.attempts.map((a) => a.logs.map((l) => `${l.level} ${l.msg}`)), [1, 2, 3].map((n) => [`info attempt ${n} starts {"n":1}`, `warn console line of attempt ${n}`]));
    assert.ok(logs.attempts.every((a) => a.logs.every((l) => l.t > 0)));
    // Redrive with new instructions: the step runs on them, the history grows.
    const retry = await post(`/jobs/${dead.id}/retry`, { n: 2, ok: true });
    assert.equal(retry.status, 202);
    const done = (await (await app.request(`/jobs/${dead.id}?wait=10000`)).json()) as JobRecord;
    assert.equal(done.status, "succeeded");
    assert.deepEqual(done.history?.map((a) => [a.attempt, a.outcome]), [[1, "failed"], [2, "failed"], [3, "dead"], [1, "succeeded"]]);
    assert.deepEqual(done.history?.slice(0, 3), dead.history, "nothing of the first three attempts was rewritten");
    assert.deepEqual(done.instructions, { n: 1 });
  });

  it("caps a job's lines at the limit and marks the cut", async () => {
    const job = await run("chatty", { lines: DEFAULT_LOG_LIMITS.maxLines + 25 });
    const attempt = job.history?.[0];
    assert.equal(attempt?.logs?.length, DEFAULT_LOG_LIMITS.maxLines);
    assert.equal(attempt?.dropped, 25);
    assert.equal(attempt?.logs?.at(-1)?.msg, `line ${DEFAULT_LOG_LIMITS.maxLines - 1}`);
    // The byte cap, on its own.
    const lines = Array.from({ length: 10 }, (_, i) => ({ t: i, level: "info" as const, msg: "x".repeat(100) }));
    assert.deepEqual(capLines(lines, { lines: 0, bytes: 0 }, { ...DEFAULT_LOG_LIMITS, maxBytes: 450 }).dropped, 6);
  });

  it("?follow streams a running job's lines as they are written, then ends with its status", async () => {
    const accepted = (await (await post("/pipelines/hold/jobs", {})).json()) as { id: string };
    const res = await app.request(`/jobs/${accepted.id}/logs?follow`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const until = async (pattern: RegExp): Promise<void> => {
      for (let i = 0; i < 100 && !pattern.test(text); i++) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      assert.match(text, pattern);
    };
    await until(/event: line\ndata: .*waiting to be released/);
    release?.();
    await until(/event: end\ndata: .*"status":"succeeded"/);
    assert.match(text, /"msg":"released"/);
    assert.equal(text.match(/waiting to be released/g)?.length, 1, "a line is sent once, live or stored");
  });

  it("pages through every job with a next link, filters by status and pipeline, finds one by id prefix", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(((await run("die", { i }))).id);
    const seen: string[] = [];
    let path: string | undefined = "/jobs?status=dead&pipeline=die&limit=5";
    for (let page = 0; path !== undefined && page < 10; page++) {
      const res: Response = await app.request(path);
      assert.equal(res.status, 200);
      const body = (await res.json()) as { jobs: JobRecord[]; next?: string };
      seen.push(...body.jobs.map((j) => j.id));
      if (body.next !== undefined) assert.equal(res.headers.get("link"), `<${body.next}>; rel="next"`);
      path = body.next;
    }
    assert.deepEqual([...seen].sort(), [...ids].sort());
    assert.equal(new Set(seen).size, 12);
    const one = (await (await app.request(`/jobs?id=${ids[4]!.slice(0, 20)}`)).json()) as { jobs: JobRecord[] };
    assert.deepEqual(one.jobs.map((j) => j.id), [ids[4]]);
    assert.equal((await app.request("/jobs?cursor=bm9wZQ")).status, 400);
    assert.equal((await app.request("/jobs?since=yesterday")).status, 400);
    assert.equal(((await (await app.request(`/jobs?pipeline=die&since=${Date.now() + 60_000}`)).json()) as { jobs: unknown[] }).jobs.length, 0);
  });

  it("retry-dead redrives the dead jobs of a pipeline; DELETE forgets a finished job and refuses a running one", async () => {
    const res = await post("/pipelines/die/retry-dead?limit=3");
    assert.equal(res.status, 202);
    const body = (await res.json()) as { redriven: number; ids: string[]; more: boolean };
    assert.equal(body.redriven, 3);
    assert.equal(body.more, true);
    const first = body.ids[0]!;
    await app.request(`/jobs/${first}?wait=10000`);
    assert.equal((await app.request(`/jobs/${first}`, { method: "DELETE" })).status, 204);
    assert.equal((await app.request(`/jobs/${first}`)).status, 404);
    assert.equal((await app.request(`/jobs/${first}`, { method: "DELETE" })).status, 404);
    const held = (await (await post("/pipelines/hold/jobs", {})).json()) as { id: string };
    const refused = await app.request(`/jobs/${held.id}`, { method: "DELETE" });
    assert.equal(refused.status, 409);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "NOT_FINISHED");
    assert.equal((await post("/pipelines/nope/retry-dead")).status, 404);
  });

  it("refuses a retry's bad new instructions with the enqueue rules' codes, and the job stays dead", async () => {
    const dead = await run("die", {});
    assert.equal(dead.status, "dead");
    const refusals: [string, number, string][] = [
      ["[1, 2]", 400, "INVALID_INSTRUCTIONS"],
      ["null", 400, "INVALID_INSTRUCTIONS"],
      ["{\"a\": ", 400, "INVALID_JSON"],
      ["[".repeat(100) + "]".repeat(100), 400, "TOO_DEEP"],
    ];
    for (const [body, status, code] of refusals) {
      const res = await app.request(`/jobs/${dead.id}/retry`, { method: "POST", headers: JSON_HEADERS, body });
      assert.equal(res.status, status, body.slice(0, 20));
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code, body.slice(0, 20));
    }
    const after = (await (await app.request(`/jobs/${dead.id}`)).json()) as JobRecord;
    assert.equal(after.status, "dead");
    assert.equal(after.history?.length, dead.history?.length, "nothing ran");
    // The engine's door answers the same (the gateway is only its adapter).
    await assert.rejects(runner.dispatcher.redrive(dead.id, { input: [1] }), { code: "INVALID_INSTRUCTIONS" });
  });
});
