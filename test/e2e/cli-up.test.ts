/**
 * `mario up` as a child process on a temporary project (mario.config.json + functions/) and on a
 * bare functions folder, on free ports: POSTs to a pipeline and to a single function, polling
 * `GET /jobs/:id` to `succeeded`, `?wait` inline, `/metrics` counting them, SIGTERM → exit 0.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { eventually } from "../support/eventually.ts";
import { MarioProcesses, runMario, type MarioProcess } from "../support/processes.ts";
import { startRedis } from "../support/redis-server.ts";

const JSON_HEADERS = { "content-type": "application/json" };

function makeProject(): string {
  const root = mkdtempSync(join(tmpdir(), "mario-up-"));
  mkdirSync(join(root, "functions"));
  writeFileSync(join(root, "functions", "double.mjs"), "export default async function ({ n }) { return { n: Number(n) * 2 }; }\n");
  writeFileSync(
    join(root, "functions", "shout.mjs"),
    "export const example = { text: \"it's\" };\nexport default { async fetch(request) { const { text } = await request.json(); return Response.json({ text: String(text).toUpperCase() }); } };\n",
  );
  writeFileSync(
    join(root, "functions", "spin.mjs"),
    "export const config = { timeoutMs: 200, retries: 1, backoff: { delayMs: 1, jitter: 0 } };\nexport default function () { for (;;) {} }\n",
  );
  writeFileSync(join(root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { twice: ["double", "double"] } }));
  return root;
}

async function urlOf(proc: MarioProcess): Promise<string> {
  const line = await proc.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//);
  return /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
}

interface Job {
  id: string;
  status: string;
  result?: unknown;
  steps: { jobType: string; output: unknown }[];
}

describe("mario up (e2e)", () => {
  const procs = new MarioProcesses();
  let root = "";
  let up: MarioProcess;
  let url = "";
  before(async () => {
    root = makeProject();
    up = procs.start(["up", "--port=0", "--host=127.0.0.1", root]);
    url = await urlOf(up);
  });
  after(async () => {
    await procs.stopAll();
    rmSync(root, { recursive: true, force: true });
  });

  it("prints the URL with the real port and a ready-to-paste curl line that works", async () => {
    assert.doesNotMatch(url, /:0\//);
    assert.match(up.stdout, /pipelines: twice \[double → double\], double, shout, spin/);
    const curl = up.stdout.split("\n").find((l) => l.startsWith("try: curl "));
    // The longest pipeline whose first step exports an `example` (twice's double has none), quoted for a shell.
    assert.equal(curl, `try: curl -X POST '${url}pipelines/shout/jobs?wait=5000' -H 'content-type: application/json' -d '{"text":"it'\\''s"}'`);
    // Pasted into a shell, as a user would.
    const pasted = await promisify(execFile)("bash", ["-c", `${curl.slice("try: ".length)} --silent --show-error --max-time 20`], { timeout: 30_000 });
    const job = JSON.parse(pasted.stdout) as Job;
    assert.equal(job.status, "succeeded");
    assert.deepEqual(job.result, { text: "IT'S" });
  });

  it("stops a handler stuck in an endless loop at its timeout while the gateway keeps serving", async () => {
    const res = await fetch(`${url}pipelines/spin/jobs`, { method: "POST", headers: JSON_HEADERS, body: "{}" });
    assert.equal(res.status, 202);
    const { id } = (await res.json()) as Job;
    const other = await fetch(`${url}pipelines/double/jobs?wait=10000`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ n: 1 }) });
    assert.equal(other.status, 200, "other jobs are served while the loop spins");
    let job: (Job & { attempts?: number; error?: { code?: string } }) | undefined;
    await eventually(async () => {
      job = (await (await fetch(`${url}jobs/${id}`)).json()) as Job;
      return job.status === "dead";
    }, { timeoutMs: 60_000 });
    assert.equal(job?.attempts, 2);
    assert.equal(job?.error?.code, "TIMEOUT");
    assert.equal((await fetch(`${url}health`)).status, 200);
  });

  it("runs a pipeline: POST answers 202, GET /jobs/:id reaches succeeded with the result", async () => {
    const res = await fetch(`${url}pipelines/twice/jobs`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ n: 5 }) });
    assert.equal(res.status, 202);
    const { id, status } = (await res.json()) as Job;
    assert.equal(status, "queued");
    let job: Job | undefined;
    await eventually(async () => {
      job = (await (await fetch(`${url}jobs/${id}`)).json()) as Job;
      return job.status === "succeeded";
    }, { timeoutMs: 10_000 });
    assert.deepEqual(job?.result, { n: 20 });
    assert.deepEqual(job?.steps.map((s) => s.output), [{ n: 10 }, { n: 20 }]);
  });

  it("runs a single function as its own pipeline, ?wait returns the result inline", async () => {
    const res = await fetch(`${url}pipelines/shout/jobs?wait=10000`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ text: "hi" }) });
    assert.equal(res.status, 200);
    const job = (await res.json()) as Job;
    assert.equal(job.status, "succeeded");
    assert.deepEqual(job.result, { text: "HI" });
  });

  it("/metrics counts them; /health and /ready answer 200", async () => {
    const text = await (await fetch(`${url}metrics`)).text();
    assert.match(text, /^mario_jobs_total\{pipeline="twice",status="succeeded"\} 1$/m);
    // One from the pasted curl line, one from the test of single functions.
    assert.match(text, /^mario_jobs_total\{pipeline="shout",status="succeeded"\} 2$/m);
    assert.match(text, /^mario_step_jobs_total\{pipeline="twice",step="double",status="succeeded"\} 2$/m);
    assert.match(text, /^mario_workers\{step="double"\} 1$/m);
    assert.equal((await fetch(`${url}health`)).status, 200);
    assert.equal((await fetch(`${url}ready`)).status, 200);
  });

  it("SIGTERM stops it with exit code 0", async () => {
    const exit = await up.stop("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});

describe("mario up (e2e): folders, ports, tokens and errors", () => {
  const procs = new MarioProcesses();
  let root = "";
  before(() => {
    root = makeProject();
  });
  after(async () => {
    await procs.stopAll();
    rmSync(root, { recursive: true, force: true });
  });

  it("serves a bare functions folder as one-step pipelines, honours PORT and MARIO_TOKEN", async () => {
    const up = procs.start(["up", "--host=127.0.0.1", join(root, "functions")], { env: { PORT: "0", MARIO_TOKEN: "tok" } });
    const url = await urlOf(up);
    assert.match(up.stdout, /pipelines: double, shout/);
    assert.match(up.stdout, /-H "authorization: Bearer \$MARIO_TOKEN"/);
    const post = (headers: Record<string, string>): Promise<Response> =>
      fetch(`${url}pipelines/double/jobs?wait=10000`, { method: "POST", headers: { ...JSON_HEADERS, ...headers }, body: '{"n": 4}' });
    assert.equal((await post({})).status, 401);
    const ok = await post({ authorization: "Bearer tok" });
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as Job).result, { n: 8 });
    assert.deepEqual(await up.stop(), { code: 0, signal: null });
  });

  it("--redis stores jobs in Redis: a job survives a restart of mario up", async () => {
    const redis = await startRedis();
    try {
      const first = procs.start(["up", "--port=0", "--host=127.0.0.1", `--redis=${redis.url}`, root]);
      const url1 = await urlOf(first);
      assert.match(first.stdout, /redis storage/);
      const done = (await (await fetch(`${url1}pipelines/twice/jobs?wait=10000`, { method: "POST", headers: JSON_HEADERS, body: '{"n": 7}' })).json()) as Job;
      assert.equal(done.status, "succeeded");
      assert.deepEqual(await first.stop(), { code: 0, signal: null });
      const second = procs.start(["up", "--port=0", "--host=127.0.0.1", root], { env: { REDIS_URL: redis.url } });
      const url2 = await urlOf(second);
      const again = (await (await fetch(`${url2}jobs/${done.id}`)).json()) as Job;
      assert.deepEqual(again.result, { n: 28 });
      assert.deepEqual(await second.stop(), { code: 0, signal: null });
    } finally {
      await redis.destroy();
    }
  });

  it("--max-queued answers 503 once a pipeline holds that many unfinished jobs; --keep-finished forgets the oldest finished ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mario-up-limits-"));
    try {
      // `hold` never finishes on its own: its jobs stay unfinished until shutdown.
      writeFileSync(join(dir, "hold.mjs"), "export const config = { timeoutMs: 600000 };\nexport default (_input, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)));\n");
      writeFileSync(join(dir, "double.mjs"), "export default ({ n }) => ({ n: Number(n) * 2 });\n");
      const up = procs.start(["up", "--port=0", "--host=127.0.0.1", "--max-queued=2", "--keep-finished=1", dir]);
      const url = await urlOf(up);
      const post = (pipeline: string, body: string, query = ""): Promise<Response> => fetch(`${url}pipelines/${pipeline}/jobs${query}`, { method: "POST", headers: JSON_HEADERS, body });
      assert.equal((await post("hold", "{}")).status, 202);
      assert.equal((await post("hold", "{}")).status, 202);
      const full = await post("hold", "{}");
      assert.equal(full.status, 503);
      assert.ok(full.headers.get("retry-after") !== null, "503 carries Retry-After");
      const first = (await (await post("double", '{"n": 1}', "?wait=10000")).json()) as Job;
      const second = (await (await post("double", '{"n": 2}', "?wait=10000")).json()) as Job;
      assert.deepEqual([first.status, second.status], ["succeeded", "succeeded"]);
      assert.equal((await fetch(`${url}jobs/${first.id}`)).status, 404, "only the newest finished job of the pipeline is kept");
      assert.equal((await fetch(`${url}jobs/${second.id}`)).status, 200);
      assert.deepEqual(await up.stop(), { code: 0, signal: null });
      const bad = await runMario(["up", "--port=0", "--keep-finished=none", dir]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--keep-finished must be a whole number of at least 1, got "none"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a port in use is one line on stderr and exit 2", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const { code, stderr } = await runMario(["up", `--port=${port}`, "--host=127.0.0.1", root]);
      assert.equal(code, 2);
      assert.match(stderr, new RegExp(`mario up: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
      assert.doesNotMatch(stderr, /\n\s+at /);
    } finally {
      blocker.close();
    }
  });

  it("a folder that does not exist is one line on stderr and a non-zero exit", async () => {
    const { code, stderr } = await runMario(["up", "--port=0", join(root, "missing")]);
    assert.notEqual(code, 0);
    assert.match(stderr, /^mario up: .*missing: no such file or folder\n$/);
  });
});
