/**
 * NO_ANSWER does not mean "not taken", and a resend is safe: 20 enqueues sent without an
 * idempotency key while the streamer in front of the pipeline server is stalled (SIGSTOP: the
 * requests sit in its socket) are answered NO_ANSWER; once it wakes, the server stores them. Sent
 * again with the keys the client made (`NoAnswerError.idempotencyKey`), they answer the same 20
 * jobs: 20 stored, not 40. Real processes: redis-server, `mario streamer`, `mario pipeline --redis`.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { NoAnswerError } from "../../src/core/errors/no-answer-error.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { eventually } from "../support/eventually.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses } from "../support/processes.ts";
import { startRedis } from "../support/redis-server.ts";
import { stopProcess } from "../support/stop-process.ts";

const JOBS = 20;


describe("a resend after NO_ANSWER never doubles a job", () => {
  const procs = new MarioProcesses();
  after(() => procs.stopAll());

  it(`${JOBS} enqueues answered NO_ANSWER during a stalled streamer end as ${JOBS} jobs after a resend`, async (t) => {
    const redis = await startRedis();
    t.after(() => redis.destroy());
    const [sub, sIn, sOut] = (await freePorts(3)).map((p) => `tcp://127.0.0.1:${p}`) as [string, string, string];
    const streamer = procs.start(["streamer", `--pull=${sIn}`, `--push=${sOut}`]);
    await streamer.waitForLine(/streamer ready/);
    const server = procs.start(["pipeline", "examples/simple.ts", "example-one", `--sub-bind=${sub}`, `--job-pull-connect=${sOut}`, `--redis=${redis.url}`]);
    await server.waitForLine(/pipeline server ready/);
    const raw = new Redis(redis.url);
    t.after(() => raw.disconnect());
    const accepted = async (): Promise<number> => Number((await raw.hget("mario:example-one:{example-one}:counters", "accepted")) ?? 0);

    const client = new PipelineClient(sIn, { timeoutMs: 1000 });
    t.after(() => client.close());
    await client.connect();
    // The link works: one job through the streamer.
    const [ok] = await client.enqueueJob({ name: "example-one", instructions: { size: 1, warmup: true } });
    assert.equal(ok, true);

    // The stop is in effect (state T) before the requests leave.
    await stopProcess(streamer.pid);
    let answers: PromiseSettledResult<unknown>[];
    try {
      answers = await Promise.allSettled(Array.from({ length: JOBS }, (_, i) => client.enqueueJob({ name: "example-one", instructions: { size: 1, i } })));
    } finally {
      process.kill(streamer.pid, "SIGCONT");
    }
    const keys = answers.map((a) => (a.status === "rejected" && a.reason instanceof NoAnswerError ? a.reason.idempotencyKey : undefined));
    const outcome = answers.map((a) => (a.status === "rejected" ? String(a.reason) : JSON.stringify(a.value)));
    assert.equal(keys.filter((k) => k !== undefined).length, JOBS, `every enqueue during the stall is NO_ANSWER with its key; first answer: ${outcome[0]}`);
    assert.match(String((answers[0] as PromiseRejectedResult).reason), /send it again with idempotency key/);

    // They were not lost: the server stores them once the streamer wakes.
    await eventually(async () => (await accepted()) === 1 + JOBS, { timeoutMs: 15_000, message: "the stalled requests were not stored" });

    const resent = await Promise.all(keys.map((idempotencyKey, i) => client.enqueueJob({ name: "example-one", instructions: { size: 1, i }, idempotencyKey })));
    const ids = new Set<string>();
    for (const [okAgain, job] of resent) {
      assert.equal(okAgain, true);
      if (okAgain) {
        assert.equal(job.duplicate, true, "the resend answers the job already taken");
        ids.add(job.id);
      }
    }
    assert.equal(ids.size, JOBS);
    assert.equal(await accepted(), 1 + JOBS, `${JOBS} jobs, not ${2 * JOBS}`);
    t.diagnostic(`NO_ANSWER: ${JOBS}, stored after the stall: ${JOBS}, after the resend: ${(await accepted()) - 1}`);
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    assert.deepEqual(await streamer.stop(), { code: 0, signal: null });
  });
});
