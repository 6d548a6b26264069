/**
 * `mario up` on memory, SIGTERM with open `?wait` requests: dispatching stops first (no job starts
 * after the signal), every open `?wait` gets an HTTP answer with the job's current record, the
 * running step finishes, then HTTP closes, and the process says how many unfinished jobs it drops.
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { eventually } from "../support/eventually.ts";
import { MarioProcesses } from "../support/processes.ts";

interface Job {
  id: string;
  status: string;
  attempts: number;
}

const WAITS = 4;

describe("mario up: graceful shutdown", () => {
  const procs = new MarioProcesses();
  const root = mkdtempSync(join(tmpdir(), "mario-up-shutdown-"));
  after(async () => {
    await procs.stopAll();
    rmSync(root, { recursive: true, force: true });
  });

  it(`SIGTERM with ${WAITS} open ?wait requests answers each of them, finishes the running step, reports what it drops`, async () => {
    mkdirSync(join(root, "functions"));
    writeFileSync(
      join(root, "functions", "slow.mjs"),
      "export const config = { concurrency: 1, timeoutMs: 20000 };\nexport default async function (i) { await new Promise((r) => setTimeout(r, 1500)); return { done: i.n }; }\n",
    );
    const up = procs.start(["up", "--port=0", join(root, "functions")]);
    const line = await up.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//);
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];

    const answers = Array.from({ length: WAITS }, (_, n) =>
      fetch(`${url}pipelines/slow/jobs?wait=30000`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n }) }).then(
        async (res) => ({ status: res.status, job: (await res.json()) as Job }),
        (error: unknown) => ({ status: 0, error: String(error) }),
      ),
    );
    // Every request is in: one job running, the others queued behind it.
    await eventually(
      async () => {
        const { pipelines } = (await (await fetch(`${url}pipelines`)).json()) as { pipelines: { name: string; queued: number; inFlight: number }[] };
        const slow = pipelines.find((p) => p.name === "slow");
        return slow?.inFlight === 1 && slow.queued === WAITS - 1;
      },
      { timeoutMs: 10_000, message: "the requests did not all arrive" },
    );

    // And one delayed job, waiting for its start time: it is dropped too, and counted.
    const delayed = await fetch(`${url}pipelines/slow/jobs?delay=600000`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: "later" }) });
    assert.equal(delayed.status, 202);

    up.child.kill("SIGTERM");
    const results = await Promise.all(answers);
    for (const result of results) assert.ok(result.status === 200 || result.status === 202, `an HTTP answer, got ${JSON.stringify(result)}`);
    const jobs = results.map((r) => (r as { job: Job }).job);
    assert.equal(new Set(jobs.map((j) => j.id)).size, WAITS, "each answer carries its own job's record");
    // The one running at the signal was answered as running; none of the others was started.
    assert.equal(jobs.filter((j) => j.status === "running").length, 1);
    assert.deepEqual(jobs.filter((j) => j.status !== "running").map((j) => [j.status, j.attempts]), Array.from({ length: WAITS - 1 }, () => ["queued", 0]));

    assert.deepEqual(await up.exited, { code: 0, signal: null });
    // The running step finished before the exit; the queued ones are dropped, and said so.
    assert.match(up.stderr, /slow ok/);
    assert.match(up.stderr, new RegExp(`memory storage: ${WAITS} unfinished jobs dropped at exit \\(${WAITS - 1} queued, 0 waiting for a retry, 1 delayed\\)`));
  });
});
