/**
 * `mario host --watch` as a child process: an edit changes the next job's output while an
 * in-flight job of another function completes; a syntax error keeps the previous version.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { slowStep, versionedStep } from "../fixtures/functions-support/_slow-step.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { eventually } from "../support/eventually.ts";
import { MarioProcesses, type MarioProcess } from "../support/processes.ts";

describe("mario host --watch", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let server: PipelineServer;
  let client: PipelineClient;
  let host: MarioProcess;

  async function run(pipeline: string, instructions: object): Promise<JobRecord> {
    const [ok, job] = await client.enqueueJob({ name: pipeline, instructions });
    assert.ok(ok, `enqueued: ${JSON.stringify(job)}`);
    return client.waitFor(job.id, { timeoutMs: 20_000 });
  }

  /** Resolves once stdout holds `count` lines matching `pattern`. */
  async function linesMatching(pattern: RegExp, count: number): Promise<void> {
    await eventually(() => host.stdout.split("\n").filter((l) => pattern.test(l)).length >= count, { timeoutMs: 15_000, message: `${count} line(s) matching ${pattern}` });
  }

  before(async () => {
    project = await tempProject({ files: { "echo.ts": versionedStep("echo", 1), "slow.mjs": slowStep(1) } });
    server = new PipelineServer({
      pipelines: ["echo", "slow"].map((name) => ({ name, steps: [name] })),
      storage: new MemoryStorageBackend(),
      subBind: "tcp://127.0.0.1:0",
      jobPullBind: "tcp://127.0.0.1:0",
    });
    await server.start();
    client = new PipelineClient(server.jobPullAddress);
    await client.connect();
    host = procs.start(["host", project.functionsDir, `--sub-connect=${server.subAddress}`, "--watch", "--heartbeat-ms=200"]);
    await host.waitForLine(/mario host: serving 2 function\(s\).*watching/, 30_000);
  });
  after(async () => {
    await procs.stopAll();
    client?.close();
    await server?.stop();
    await project?.cleanup();
  });

  it("an edit changes the next job's output while another function's in-flight job completes", async () => {
    assert.deepEqual((await run("echo", { n: 1 })).result, { step: "echo", version: 1, n: 1 });
    const release = join(project.root, "release");
    const [ok, slow] = await client.enqueueJob({ name: "slow", instructions: { release } });
    assert.ok(ok);
    await eventually(async () => (await server.dispatcher.storage.getJob(slow.id))?.status === "running", { message: "the slow job is running" });
    await writeFile(join(project.functionsDir, "echo.ts"), versionedStep("echo", 2));
    await linesMatching(/^reloaded echo /, 1);
    assert.deepEqual((await run("echo", { n: 2 })).result, { step: "echo", version: 2, n: 2 });
    assert.equal((await server.dispatcher.storage.getJob(slow.id))?.status, "running");
    await writeFile(release, "");
    const done = await client.waitFor(slow.id, { timeoutMs: 10_000 });
    assert.equal(done.status, "succeeded");
    assert.equal(done.attempts, 1, "the in-flight job was not dropped or re-run");
    assert.deepEqual(done.result, { step: "slow", version: 1 });
  });

  it("a syntax error prints esbuild's error and keeps the previous version running", async () => {
    await writeFile(join(project.functionsDir, "echo.ts"), "export default async function (i) { return { a: ; }\n");
    await host.waitForLine(/Unexpected ";"/);
    assert.match(host.stderr, /echo\.ts: build failed/);
    assert.match(host.stderr, /previous version keeps running/);
    assert.deepEqual((await run("echo", { n: 3 })).result, { step: "echo", version: 2, n: 3 });
    await writeFile(join(project.functionsDir, "echo.ts"), versionedStep("echo", 3));
    await linesMatching(/^reloaded echo /, 2);
    assert.deepEqual((await run("echo", { n: 4 })).result, { step: "echo", version: 3, n: 4 });
  });

  it("exits 0 on SIGTERM", async () => {
    assert.deepEqual(await host.stop("SIGTERM"), { code: 0, signal: null });
  });
});
