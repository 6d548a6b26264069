/**
 * A stopped pipeline server answers nothing more and keeps no timer or socket for a client's
 * pending `wait`: the wait (which may run up to an hour) is aborted at stop, and the reply
 * sockets refuse to open after close. The client times out, as with any server that went away.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { NoAnswerError } from "../../src/core/errors/no-answer-error.ts";
import { eventually } from "../support/eventually.ts";

test("a stopped pipeline server sends nothing more and keeps no timer or socket for pending waits", async (t) => {
  let gets = 0;
  class CountingStorage extends MemoryStorageBackend {
    override async getJob(jobId: string) {
      gets++;
      return super.getJob(jobId);
    }
  }
  const storage = new CountingStorage();
  // No worker serves "a": the job stays queued.
  const server = new PipelineServer({ pipelines: [{ name: "p", steps: ["a"] }], storage, subBind: "tcp://127.0.0.1:0", jobPullBind: "tcp://127.0.0.1:0" });
  await server.start();
  t.after(() => server.stop());
  const client = new PipelineClient(server.jobPullAddress, { timeoutMs: 1000 });
  await client.connect();
  t.after(async () => {
    client.close();
    await client.closed();
  });

  const [ok, job] = await client.enqueueJob({ name: "p", instructions: {} });
  assert.equal(ok, true);
  const id = (job as { id: string }).id;
  const before = gets;
  const waiting = client.waitFor(id, { timeoutMs: 1500 }).then(
    (record) => ({ kind: "answer", detail: record.status }),
    (error: unknown) => ({ kind: error instanceof NoAnswerError ? "no-answer" : "answer", detail: String(error) }),
  );
  // The server has taken the wait once it reads the job.
  await eventually(() => gets > before, { timeoutMs: 3000 });
  await server.stop();

  const result = await waiting; // the client gives up at 1500 + 1000 ms
  assert.equal(result.kind, "no-answer", `a stopped server answered: ${result.detail}`);
});
