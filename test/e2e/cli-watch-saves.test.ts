/**
 * The four ways an editor saves a file, under `mario host --watch` and `mario up --watch`:
 * an in-place write, `rename(tmp → file)` (sed -i, most editors' atomic save), delete then
 * create, and a syntax error arriving by rename. After each, the next job runs the new version
 * (or the previous one, for the error, printed once per save); an in-flight job of another
 * function is not dropped. `mario up --watch` also follows mario.config.
 */
import assert from "node:assert/strict";
import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { slowStep, versionedStep } from "../fixtures/functions-support/_slow-step.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { eventually } from "../support/eventually.ts";
import { MarioProcesses, type MarioProcess } from "../support/processes.ts";

const JSON_HEADERS = { "content-type": "application/json" };

interface Subject {
  proc: MarioProcess;
  /** Runs a job of `pipeline` to its end; its result. */
  run(pipeline: string, instructions: object): Promise<unknown>;
  /** Enqueues without waiting; the job id. */
  enqueue(pipeline: string, instructions: object): Promise<string>;
  /** Resolves with the job's final status. */
  finalStatus(id: string): Promise<{ status: string; attempts: number; result?: unknown }>;
  /** The line printed when a deleted file's function comes back. */
  added: RegExp;
  close(): Promise<void>;
}

let saves = 0;
/** Writes a temp file beside `file` and renames it over `file`, as `sed -i` and editors do. */
async function atomicSave(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${++saves}.tmp`;
  await writeFile(temp, text);
  await rename(temp, file);
}

function count(text: string, pattern: RegExp): number {
  return text.split("\n").filter((line) => pattern.test(line)).length;
}

function saveKinds(name: string, open: (project: TempProject, procs: MarioProcesses) => Promise<Subject>): void {
  describe(name, () => {
    const procs = new MarioProcesses();
    let project: TempProject;
    let subject: Subject;
    const echo = (): string => join(project.functionsDir, "echo.ts");
    const lines = (pattern: RegExp, n: number): Promise<void> =>
      eventually(() => count(subject.proc.stdout, pattern) >= n, { timeoutMs: 15_000, message: `${n} line(s) matching ${pattern}; stdout: ${subject.proc.stdout}` });

    before(async () => {
      project = await tempProject({ files: { "echo.ts": versionedStep("echo", 1), "slow.mjs": slowStep(1) } });
      subject = await open(project, procs);
    });
    after(async () => {
      await procs.stopAll();
      await subject?.close();
      await project?.cleanup();
    });

    it("an in-place write reloads while another function's in-flight job completes", async () => {
      assert.deepEqual(await subject.run("echo", { n: 1 }), { step: "echo", version: 1, n: 1 });
      const release = join(project.root, "release");
      const slow = await subject.enqueue("slow", { release });
      await writeFile(echo(), versionedStep("echo", 2));
      await lines(/^reloaded echo /, 1);
      assert.deepEqual(await subject.run("echo", { n: 2 }), { step: "echo", version: 2, n: 2 });
      await writeFile(release, "");
      const done = await subject.finalStatus(slow);
      assert.deepEqual({ status: done.status, attempts: done.attempts }, { status: "succeeded", attempts: 1 }, "the in-flight job was neither dropped nor re-run");
    });

    it("rename(tmp → file) reloads, and so does the next one", async () => {
      await atomicSave(echo(), versionedStep("echo", 3));
      await lines(/^reloaded echo /, 2);
      assert.deepEqual(await subject.run("echo", { n: 3 }), { step: "echo", version: 3, n: 3 });
      await atomicSave(echo(), versionedStep("echo", 4));
      await lines(/^reloaded echo /, 3);
      assert.deepEqual(await subject.run("echo", { n: 4 }), { step: "echo", version: 4, n: 4 });
    });

    it("delete then create removes the function and brings it back", async () => {
      await rm(echo());
      await lines(/^removed echo /, 1);
      await writeFile(echo(), versionedStep("echo", 5));
      await lines(subject.added, 1);
      assert.deepEqual(await subject.run("echo", { n: 5 }), { step: "echo", version: 5, n: 5 });
    });

    it("a syntax error after a rename prints once per save and keeps the previous version", async () => {
      const failures = (): number => count(subject.proc.stderr, /echo\.ts: build failed/);
      await atomicSave(echo(), "export default async function (i) { return { a: ; }\n");
      await eventually(() => failures() === 1, { timeoutMs: 15_000, message: `the build error printed; stderr: ${subject.proc.stderr}` });
      assert.match(subject.proc.stderr, /Unexpected ";"/);
      assert.match(subject.proc.stderr, /previous version keeps running/);
      assert.deepEqual(await subject.run("echo", { n: 6 }), { step: "echo", version: 5, n: 6 });
      // The same mistake saved again is printed again (once).
      await atomicSave(echo(), "export default async function (i) { return { a: ; }\n");
      await eventually(() => failures() === 2, { timeoutMs: 15_000, message: "the second save's build error printed" });
      await atomicSave(echo(), versionedStep("echo", 7));
      await lines(/^reloaded echo /, 4);
      assert.deepEqual(await subject.run("echo", { n: 7 }), { step: "echo", version: 7, n: 7 });
      assert.equal(failures(), 2, "each failing save printed exactly once");
    });

    it("exits 0 on SIGTERM", async () => {
      assert.deepEqual(await subject.proc.stop("SIGTERM"), { code: 0, signal: null });
    });
  });
}

saveKinds("mario host --watch: every kind of save", async (project, procs) => {
  const server = new PipelineServer({
    pipelines: ["echo", "slow"].map((name) => ({ name, steps: [name] })),
    storage: new MemoryStorageBackend(),
    subBind: "tcp://127.0.0.1:0",
    jobPullBind: "tcp://127.0.0.1:0",
  });
  await server.start();
  const client = new PipelineClient(server.jobPullAddress);
  await client.connect();
  const proc = procs.start(["host", project.functionsDir, `--sub-connect=${server.subAddress}`, "--watch", "--heartbeat-ms=200"]);
  await proc.waitForLine(/mario host: serving 2 function\(s\).*watching/, 30_000);
  const enqueue = async (pipeline: string, instructions: object): Promise<string> => {
    const [ok, job] = await client.enqueueJob({ name: pipeline, instructions });
    assert.ok(ok, `enqueued: ${JSON.stringify(job)}`);
    return job.id;
  };
  return {
    proc,
    enqueue,
    run: async (pipeline, instructions) => (await client.waitFor(await enqueue(pipeline, instructions), { timeoutMs: 20_000 })).result,
    finalStatus: (id) => client.waitFor(id, { timeoutMs: 20_000 }),
    added: /^ready echo /,
    close: async () => {
      client.close();
      await server.stop();
    },
  };
});

saveKinds("mario up --watch: every kind of save", async (project, procs) => {
  await writeFile(join(project.root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: {} }));
  const proc = procs.start(["up", "--port=0", "--watch", project.root]);
  const line = await proc.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\/.*watching for changes/, 30_000);
  const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
  const post = async (pipeline: string, instructions: object, wait: string): Promise<{ id: string; result?: unknown }> => {
    const res = await fetch(`${url}pipelines/${pipeline}/jobs${wait}`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(instructions) });
    assert.ok(res.status === 200 || res.status === 202, `POST ${pipeline}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as { id: string; result?: unknown };
  };
  return {
    proc,
    enqueue: async (pipeline, instructions) => (await post(pipeline, instructions, "")).id,
    run: async (pipeline, instructions) => (await post(pipeline, instructions, "?wait=20000")).result,
    finalStatus: async (id) => {
      const res = await fetch(`${url}jobs/${id}?wait=20000`);
      return (await res.json()) as { status: string; attempts: number; result: unknown };
    },
    added: /^added echo /,
    close: async () => {},
  };
});

describe("mario up --watch follows mario.config", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let proc: MarioProcess;
  let url = "";
  before(async () => {
    project = await tempProject({ files: { "echo.ts": versionedStep("echo", 1) } });
    await writeFile(join(project.root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: {} }));
    proc = procs.start(["up", "--port=0", "--watch", project.root]);
    const line = await proc.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
  });
  after(async () => {
    await procs.stopAll();
    await project?.cleanup();
  });

  it("a pipeline added to mario.config can be called; a broken config keeps the previous pipelines", async () => {
    assert.equal((await fetch(`${url}pipelines/twice/jobs`, { method: "POST", headers: JSON_HEADERS, body: "{}" })).status, 404);
    await atomicSave(join(project.root, "mario.config.json"), JSON.stringify({ functions: "functions", pipelines: { twice: ["echo", "echo"] } }));
    await proc.waitForLine(/^pipelines: twice, echo$/);
    const res = await fetch(`${url}pipelines/twice/jobs?wait=20000`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ n: 1 }) });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { steps: unknown[] }).steps.length, 2);
    await writeFile(join(project.root, "mario.config.json"), "{ not json");
    await eventually(() => /mario\.config\.json.*[\s\S]*previous pipelines keep running/.test(proc.stderr), { timeoutMs: 15_000, message: "the config error printed" });
    assert.equal((await fetch(`${url}pipelines/twice/jobs?wait=20000`, { method: "POST", headers: JSON_HEADERS, body: "{}" })).status, 200);
  });
});
