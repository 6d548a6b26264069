/**
 * Delayed jobs and priorities with real processes (issue #17, "What it must show"), on memory and
 * on Redis. Memory: `mario up` (HTTP, the function in a worker thread) and `mario pipeline` +
 * `mario host` (for `mario enqueue`). Redis: `mario pipeline --redis` + `mario host` +
 * `mario gateway --redis` (HTTP) and `mario enqueue` to the pipeline server. Every step function
 * runs with concurrency 1.
 * - a 2 s delayed job starts no earlier than 2 s after it was accepted, both times stamped by
 *   storage (`startedAt - createdAt >= 2000` in the record), over HTTP and through `mario enqueue`;
 * - with the one worker busy, a priority job enqueued after 100 others starts before all of them
 *   (start times from the records);
 * - bad delay, past runAt, both, over the maximum, bad priority: 400 and its code over HTTP, the
 *   same code and message from `mario enqueue` (exit 1), nothing accepted.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, runMario } from "../support/processes.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const JSON_HEADERS = { "content-type": "application/json" };

/** One function, `work`, one attempt at a time; `{hold: <file>}` runs until that file exists (at most 60 s). */
const WORK = `import { existsSync } from "node:fs";
export const config = { concurrency: 1, retries: 0, timeoutMs: 90000 };
export default async function (input) {
  const end = Date.now() + 60000;
  while (input.hold && !existsSync(input.hold) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return { n: input.n ?? 0 };
}
`;

interface Job {
  id: string;
  status: string;
  createdAt: number;
  startedAt?: number;
  runAt?: number;
  priority?: number;
}

interface Doors {
  /** The HTTP API (ends with /). */
  url: string;
  /** A pipeline server's --job-pull-bind address, for `mario enqueue`. */
  pull: string;
}

/** [query, code] of every bad input, and the `mario enqueue` flags saying the same. */
const BAD: { query: string; flags: string[]; code: string }[] = [
  { query: "delay=soon", flags: ["--delay=soon"], code: "INVALID_DELAY" },
  { query: "delay=-5", flags: ["--delay=-5"], code: "INVALID_DELAY" },
  { query: "delay=2592000001", flags: ["--delay=2592000001"], code: "INVALID_DELAY" },
  { query: "runAt=2020-01-01T00:00:00Z", flags: ["--run-at=2020-01-01T00:00:00Z"], code: "INVALID_DELAY" },
  { query: "delay=10&runAt=2099-01-01T00:00:00Z", flags: ["--delay=10", "--run-at=2099-01-01T00:00:00Z"], code: "INVALID_DELAY" },
  { query: "priority=10", flags: ["--priority=10"], code: "INVALID_PRIORITY" },
  { query: "priority=high", flags: ["--priority=high"], code: "INVALID_PRIORITY" },
];

async function getJob(url: string, id: string): Promise<Job> {
  const res = await fetch(`${url}jobs/${id}`);
  assert.equal(res.status, 200, `GET /jobs/${id}`);
  return (await res.json()) as Job;
}

async function postJob(url: string, query: string, body: unknown): Promise<Response> {
  return fetch(`${url}pipelines/work/jobs${query === "" ? "" : `?${query}`}`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) });
}

async function accepted(url: string): Promise<number> {
  const res = await fetch(`${url}pipelines`);
  const body = (await res.json()) as { pipelines: { name: string; accepted: number }[] };
  return body.pipelines.find((p) => p.name === "work")?.accepted ?? 0;
}

/** What both backends must show, through their doors. */
function whatItMustShow(backend: string, doors: () => Doors, scratch: () => string): void {
  it(`${backend}: a 2 s delayed job starts no earlier than 2 s after enqueue by storage's clock (HTTP and mario enqueue)`, async () => {
    const { url, pull } = doors();
    const res = await postJob(url, "delay=2000&wait=20000", { n: 1 });
    assert.equal(res.status, 200);
    const job = (await res.json()) as Job;
    assert.equal(job.status, "succeeded");
    assert.ok(job.startedAt! - job.createdAt >= 2000, `HTTP: started ${job.startedAt! - job.createdAt} ms after enqueue`);
    const cli = await runMario(["enqueue", pull, "work", '{"n": 2}', "--delay=2000", "--wait", "--timeout=20000"]);
    assert.equal(cli.code, 0, cli.stderr);
    const viaCli = JSON.parse(cli.stdout) as Job;
    assert.equal(viaCli.status, "succeeded");
    assert.ok(viaCli.startedAt! - viaCli.createdAt >= 2000, `mario enqueue: started ${viaCli.startedAt! - viaCli.createdAt} ms after enqueue`);
    const at = new Date(Date.now() + 1500).toISOString();
    const runAt = (await (await postJob(url, `runAt=${encodeURIComponent(at)}`, {})).json()) as Job;
    assert.equal(runAt.status, "delayed");
    const stored = await getJob(url, runAt.id);
    assert.ok(stored.status === "delayed" || stored.startedAt! >= Date.parse(at), `stored ${stored.status}`);
    assert.equal(stored.runAt ?? Date.parse(at), Date.parse(at), "its due time is the runAt given");
    await eventually(async () => (await getJob(url, runAt.id)).status === "succeeded", { timeoutMs: 20_000 });
    assert.ok((await getJob(url, runAt.id)).startedAt! >= Date.parse(at), "not before its runAt by storage's clock");
  });

  it(`${backend}: with the one worker busy, a priority job enqueued last runs before the 100 queued before it`, async () => {
    const { url } = doors();
    const release = join(scratch(), `release-${backend}`);
    const blocker = (await (await postJob(url, "", { hold: release })).json()) as Job;
    await eventually(async () => (await getJob(url, blocker.id)).status === "running", { timeoutMs: 20_000, message: "the blocker never started" });
    const plain: string[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await postJob(url, "", { n: i });
      assert.equal(res.status, 202);
      plain.push(((await res.json()) as Job).id);
    }
    const urgent = (await (await postJob(url, "priority=9", { n: 100 })).json()) as Job;
    writeFileSync(release, "");
    const last = plain.at(-1)!;
    await eventually(async () => (await getJob(url, last)).status === "succeeded", { timeoutMs: 60_000, message: "the 100 jobs did not finish" });
    const urgentJob = await getJob(url, urgent.id);
    assert.equal(urgentJob.priority, 9);
    const starts = await Promise.all(plain.map(async (id) => (await getJob(url, id)).startedAt!));
    const before = starts.filter((t) => t <= urgentJob.startedAt!).length;
    assert.equal(before, 0, `the priority job started at ${urgentJob.startedAt}, after ${before} of the 100`);
    const blockerJob = await getJob(url, blocker.id);
    assert.ok(blockerJob.startedAt! < urgentJob.startedAt!, "the busy worker finished its job first");
  });

  it(`${backend}: a bad delay, runAt or priority is a 400 with its code over HTTP, and the same line from mario enqueue`, async () => {
    const { url, pull } = doors();
    const before0 = await accepted(url);
    for (const bad of BAD) {
      const res = await postJob(url, bad.query, { n: 1 });
      assert.equal(res.status, 400, bad.query);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, bad.code, `${bad.query}: ${error.message}`);
      const cli = await runMario(["enqueue", pull, "work", "{}", ...bad.flags, "--timeout=10000"]);
      assert.equal(cli.code, 1, `${bad.flags.join(" ")}: ${cli.stderr}`);
      const line = `mario enqueue: ${error.message} (${error.code})\n`;
      // A past runAt names the server's "now": the same text but for that time.
      if (bad.query.startsWith("runAt=2020")) assert.match(cli.stderr, /^mario enqueue: runAt 2020-01-01T00:00:00\.000Z is in the past .*\(INVALID_DELAY\)\n$/);
      else assert.equal(cli.stderr, line);
    }
    assert.equal(await accepted(url), before0, "nothing accepted");
  });
}

describe("delayed jobs and priorities (e2e, real processes)", () => {
  const procs = new MarioProcesses();
  let root = "";
  let redis: RedisServer | undefined;
  const memory: Doors = { url: "", pull: "" };
  const onRedis: Doors = { url: "", pull: "" };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "mario-when-"));
    const functions = join(root, "functions");
    mkdirSync(functions);
    writeFileSync(join(functions, "work.mjs"), WORK);
    redis = await startRedis();
    const [memSub, memPull, redisSub, redisPull] = await freePorts(4);
    memory.pull = `tcp://127.0.0.1:${memPull}`;
    onRedis.pull = `tcp://127.0.0.1:${redisPull}`;
    const up = procs.start(["up", "--port=0", "--host=127.0.0.1", functions]);
    const memPipeline = procs.start(["pipeline", functions, `--sub-bind=tcp://127.0.0.1:${memSub}`, `--job-pull-bind=${memory.pull}`]);
    const redisPipeline = procs.start(["pipeline", functions, `--sub-bind=tcp://127.0.0.1:${redisSub}`, `--job-pull-bind=${onRedis.pull}`, `--redis=${redis.url}`]);
    memory.url = /http:\/\/127\.0\.0\.1:\d+\//.exec(await up.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//, 60_000))![0];
    await Promise.all([memPipeline.waitForLine(/ready/, 60_000), redisPipeline.waitForLine(/pipeline server registered/, 60_000)]);
    const host = procs.start(["host", functions, `--sub-connect=tcp://127.0.0.1:${memSub}`, `--sub-connect=tcp://127.0.0.1:${redisSub}`, "--heartbeat-ms=200"]);
    const gateway = procs.start(["gateway", `--redis=${redis.url}`, "--port=0", "--host=127.0.0.1"]);
    await host.waitForLine(/mario host: serving 1 function\(s\)/, 60_000);
    onRedis.url = /http:\/\/127\.0\.0\.1:\d+\//.exec(await gateway.waitForLine(/mario gateway on http:\/\/127\.0\.0\.1:\d+\//, 60_000))![0];
    await eventually(async () => (await fetch(`${onRedis.url}ready`)).status === 200, { timeoutMs: 20_000, message: "the gateway never saw the pipeline server" });
  });
  after(async () => {
    await procs.stopAll();
    await redis?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  whatItMustShow("memory", () => memory, () => root);
  whatItMustShow("redis", () => onRedis, () => root);
});
