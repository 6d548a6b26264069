/**
 * `mario host --threads=1` (a child process) behind a pipeline server over ZeroMQ: attempts of one
 * function share its one thread. A crash from one attempt's timer fails that job only; the other
 * attempts that were on the thread cross the wire as ATTEMPT_LOST and the server hands their jobs
 * back as stalls (not attempts), and they succeed on the next thread. Waits on an HTTP gate on
 * 127.0.0.1 that counts the attempts in flight, not on time.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { HttpGate } from "../support/http-gate.ts";
import { MarioProcesses } from "../support/processes.ts";

const GATED = `
export const config = { concurrency: 16, timeoutMs: 30000, retries: 0 };
export default async function gated(input) {
  if (input.crash === true) {
    setTimeout(() => { throw new Error("crash from a timer in " + input.n); }, 0);
    return new Promise(() => {});
  }
  const response = await fetch(input.gate + "?n=" + input.n);
  await response.text();
  return { n: input.n };
}
`;

describe("mario host: attempts sharing a thread (child process)", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let gate: HttpGate;
  let server: PipelineServer;
  let client: PipelineClient;

  async function enqueue(instructions: object): Promise<string> {
    const [ok, job] = await client.enqueueJob({ name: "gated", instructions });
    assert.ok(ok, `enqueued: ${JSON.stringify(job)}`);
    return job.id;
  }
  const wait = (id: string): Promise<JobRecord> => client.waitFor(id, { timeoutMs: 30_000 });

  before(async () => {
    project = await tempProject({ files: { "gated.ts": GATED } });
    gate = await HttpGate.start();
    // The server's own project decides the retries (not the worker's announcement): none, as the file says.
    server = new PipelineServer({ pipelines: [{ name: "gated", steps: ["gated"] }], stepConfigs: new Map([["gated", { concurrency: 16, timeoutMs: 30_000, retries: 0 }]]), storage: new MemoryStorageBackend(), subBind: "tcp://127.0.0.1:0", jobPullBind: "tcp://127.0.0.1:0" });
    await server.start();
    client = new PipelineClient(server.jobPullAddress);
    await client.connect();
  });
  after(async () => {
    await procs.stopAll();
    client?.close();
    await server?.stop();
    await gate?.close();
    await project?.cleanup();
  });

  it("a crash fails its own job; the jobs beside it on the thread come back as stalls and succeed", async () => {
    const host = procs.start(["host", project.functionsDir, `--sub-connect=${server.subAddress}`, "--heartbeat-ms=200", "--threads=1"]);
    await host.waitForLine(/^ready gated \(.*concurrency=16 timeoutMs=30000 threads=1$/m, 30_000);
    const neighbours = await Promise.all([1, 2, 3].map((n) => enqueue({ gate: gate.url, n })));
    await gate.until(3);
    const crash = await enqueue({ crash: true, n: 4 });
    const crashed = await wait(crash);
    assert.equal(crashed.status, "dead");
    assert.equal(crashed.error?.code, "HANDLER_CRASHED");
    assert.match(crashed.error?.message ?? "", /crash from a timer in 4/);
    assert.equal(crashed.attempts, 1);
    gate.open();
    const jobs = await Promise.all(neighbours.map(wait));
    assert.deepEqual(jobs.map((j) => [j.status, j.attempts, j.stalls, j.result]), [1, 2, 3].map((n) => ["succeeded", 1, 1, { n }]));
    await host.waitForLine(new RegExp(`a function thread crashed in an attempt of job ${crash}: 3 other attempt\\(s\\) on it handed back as stalls`), 10_000);
    assert.deepEqual(await host.stop("SIGTERM"), { code: 0, signal: null });
  });
});
