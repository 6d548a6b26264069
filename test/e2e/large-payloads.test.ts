/**
 * 100 KB instructions at the bench's default window (1000 requests in flight from one
 * PipelineClient), through `mario pipeline` + `mario host` processes, on memory and on Redis
 * storage: every enqueue is answered and every job succeeds. Replies to 1000 batched requests
 * once went out as one message of about 200 MB, over the client's 16 MiB frame limit, which libzmq
 * dropped whole (the producer saw NO_ANSWER), and the 1000 enqueues went to Redis as one 100 MB
 * script call, past the command timeout. Batches are now capped in bytes. On Redis, every script
 * once cjson-decoded and re-encoded the whole job with its 100 KB of caller data (milliseconds of
 * Redis time per job: 1000 in flight passed the 1 s command timeout); caller data now lives in
 * fields no script decodes (src/storage/redis/job-codec.ts).
 */
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses } from "../support/processes.ts";
import { startRedis, type RedisServer } from "../support/redis-server.ts";

const WINDOW = 1000;
const PAYLOAD = "x".repeat(100 * 1024);

describe("big instructions, 1000 in flight, through mario pipeline + mario host", () => {
  const procs = new MarioProcesses();
  let redis: RedisServer | undefined;
  let root = "";

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "mario-large-"));
    mkdirSync(join(root, "functions"));
    writeFileSync(join(root, "functions", "measure.mjs"), "export default async function ({ i, blob }) { return { i, length: String(blob).length }; }\n");
    writeFileSync(join(root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { big: ["measure"] } }));
    redis = await startRedis();
  });
  after(async () => {
    await procs.stopAll();
    await redis?.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  for (const storage of ["memory", "redis"] as const) {
    it(`${storage} storage, ${PAYLOAD.length / 1024} KB each: every job is answered and finishes`, async () => {
      const [sub, pull] = (await freePorts(2)).map((p) => `tcp://127.0.0.1:${p}`) as [string, string];
      const server = procs.start(["pipeline", join(root, "mario.config.json"), "big", `--sub-bind=${sub}`, `--job-pull-bind=${pull}`, ...(storage === "redis" ? [`--redis=${redis!.url}`, "--namespace=large"] : [])]);
      await server.waitForLine(/pipeline server ready/, 30_000);
      const host = procs.start(["host", join(root, "functions"), `--sub-connect=${sub}`, "--concurrency=16"]);
      await host.waitForLine(/mario host: serving 1 function\(s\)/, 30_000);
      const client = new PipelineClient(pull, { timeoutMs: 60_000 });
      await client.connect();
      try {
        const answers = await Promise.all(Array.from({ length: WINDOW }, (_, i) => client.enqueueJob({ name: "big", instructions: { i, blob: PAYLOAD } })));
        const refused = answers.filter(([ok]) => !ok).map(([, e]) => JSON.stringify(e).slice(0, 200));
        assert.deepEqual(refused, [], "every enqueue accepted");
        const finals = await Promise.all(answers.map(([, job]) => client.waitFor((job as { id: string }).id, { timeoutMs: 120_000 })));
        assert.deepEqual(
          finals.map((j) => [j.status, j.result]),
          Array.from({ length: WINDOW }, (_, i) => ["succeeded", { i, length: PAYLOAD.length }]),
        );
        // 1000 waits open at once listen on one shutdown signal: that is no leak, and no warning.
        assert.doesNotMatch(server.stderr, /MaxListenersExceededWarning/);
      } finally {
        client.close();
        await host.stop();
        await server.stop();
      }
    });
  }
});
