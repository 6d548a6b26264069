/**
 * The multihost suite's client, run on the gateway's host: `count` POSTs to
 * `<url>pipelines/<pipeline>/jobs`, `parallel` at a time, then waits until every accepted job is
 * final and reads each one back. Talks to the suite over stdio:
 *
 * - prints `progress <answered>` every 100 answers;
 * - on the stdin line `snapshot`, reads `GET /pipelines` and prints
 *   `snapshot {"inFlight":…,"queued":…,"outstanding":…,"at":<epoch ms>}` (taken just before a fault);
 * - on `fault <epoch ms>`, remembers when the fault happened (for the recovery time);
 * - at the end prints `result {…}`: accepted, errors (status → count), succeeded, dead, lost,
 *   recoveryMs (fault → first job created after it that succeeded), drainMs (fault → last job final).
 *
 * Bounded: `count` requests, and the final wait ends after `finalMs`.
 *
 * ```
 * node --import tsx test/multihost/load-generator.ts http://10.250.1.5:8080/ mh 2000 16 120000
 * node --import tsx test/multihost/load-generator.ts --until-worker http://10.250.1.5:8080/ //10.250.1.3: <since ms> 30000
 * ```
 *
 * `--until-worker`: exits 0 once `GET /workers` lists a worker whose address contains the given
 * text and that was seen after `since`; 1 after the timeout.
 */
import { createInterface } from "node:readline";

const [url = "", pipeline = "", countText = "0", parallelText = "1", finalText = "120000"] = process.argv.slice(2);
const count = Number(countText);
const parallel = Number(parallelText);
const finalMs = Number(finalText);
const JSON_HEADERS = { "content-type": "application/json" };

interface Job {
  id: string;
  status: string;
  createdAt: number;
  finishedAt?: number;
}

let answered = 0;
let outstanding = 0;
let faultAt: number | undefined;
const accepted: string[] = [];
const errors: Record<string, number> = {};

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "snapshot") {
    void snapshot();
  } else if (line.startsWith("fault ")) {
    faultAt = Number(line.slice(6));
  }
});

async function snapshot(): Promise<void> {
  const at = Date.now();
  const body = (await (await fetch(`${url}pipelines`)).json()) as { pipelines: { name: string; inFlight: number; queued: number }[] };
  const stats = body.pipelines.find((p) => p.name === pipeline);
  process.stdout.write(`snapshot ${JSON.stringify({ inFlight: stats?.inFlight ?? 0, queued: stats?.queued ?? 0, outstanding, at })}\n`);
}

async function stats(): Promise<{ accepted: number; succeeded: number; dead: number }> {
  const body = (await (await fetch(`${url}pipelines`)).json()) as { pipelines: { name: string; accepted: number; succeeded: number; dead: number }[] };
  const found = body.pipelines.find((p) => p.name === pipeline);
  if (found === undefined) throw new Error(`the gateway serves no pipeline "${pipeline}": ${body.pipelines.map((p) => p.name).join(", ")}`);
  return { accepted: found.accepted, succeeded: found.succeeded, dead: found.dead };
}

async function send(n: number): Promise<void> {
  outstanding++;
  try {
    const res = await fetch(`${url}pipelines/${pipeline}/jobs`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ n }), signal: AbortSignal.timeout(30_000) });
    const body = (await res.json()) as { id?: string };
    if ((res.status === 202 || res.status === 200) && body.id !== undefined) accepted.push(body.id);
    else errors[String(res.status)] = (errors[String(res.status)] ?? 0) + 1;
  } catch (error) {
    const key = (error as Error).name;
    errors[key] = (errors[key] ?? 0) + 1;
  } finally {
    outstanding--;
    answered++;
    if (answered % 100 === 0) process.stdout.write(`progress ${answered}\n`);
  }
}

async function main(): Promise<void> {
  const base = await stats();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await send(next++);
    }),
  );
  // Every accepted job final (the counters say so), or the deadline.
  const deadline = Date.now() + finalMs;
  for (;;) {
    const now = await stats();
    if (now.succeeded + now.dead - base.succeeded - base.dead >= accepted.length || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const jobs: (Job | undefined)[] = [];
  let cursor = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (cursor < accepted.length) {
        const id = accepted[cursor++]!;
        const res = await fetch(`${url}jobs/${id}`);
        jobs.push(res.status === 200 ? ((await res.json()) as Job) : undefined);
      }
    }),
  );
  const succeeded = jobs.filter((j): j is Job => j?.status === "succeeded");
  const dead = jobs.filter((j) => j?.status === "dead").length;
  const lost = jobs.length - succeeded.length - dead;
  let recoveryMs: number | null = null;
  let drainMs: number | null = null;
  if (faultAt !== undefined) {
    const after = succeeded.filter((j) => j.createdAt >= faultAt!).map((j) => j.finishedAt ?? Infinity);
    recoveryMs = after.length === 0 ? null : Math.min(...after) - faultAt;
    drainMs = Math.max(...jobs.map((j) => j?.finishedAt ?? 0)) - faultAt;
  }
  const counters = await stats();
  process.stdout.write(
    `result ${JSON.stringify({
      sent: count,
      accepted: accepted.length,
      distinct: new Set(accepted).size,
      errors,
      succeeded: succeeded.length,
      dead,
      lost,
      recoveryMs,
      drainMs,
      acceptedInStorage: counters.accepted - base.accepted,
    })}\n`,
  );
}

async function untilWorker(base: string, contains: string, since: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { workers } = (await (await fetch(`${base}workers`)).json()) as { workers: { address: string; lastSeen: number }[] };
    if (workers.some((w) => w.address.includes(contains) && w.lastSeen > since)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no worker at ${contains} seen after ${since} within ${timeoutMs} ms`);
}

const work = process.argv[2] === "--until-worker"
  ? untilWorker(process.argv[3] ?? "", process.argv[4] ?? "", Number(process.argv[5]), Number(process.argv[6]))
  : main();
work.then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`load generator failed: ${String(error)}\n`);
    process.exit(1);
  },
);
