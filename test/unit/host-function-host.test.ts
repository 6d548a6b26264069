/**
 * FunctionHost in this process (served to a local Dispatcher, no network): discovery, problems
 * reported by file name while the others start, and --watch reloads (edit, add, delete, syntax
 * error) without dropping in-flight jobs.
 */
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { Dispatcher } from "../../src/engine/dispatcher.ts";
import { waitForFinal } from "../../src/engine/wait-for-final.ts";
import { FunctionHost, type FunctionHostEvents } from "../../src/host/function-host.ts";
import { serveInProcess } from "../../src/host/serve-in-process.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { slowStep, versionedStep } from "../fixtures/functions-support/_slow-step.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { eventually } from "../support/eventually.ts";

const JOB_TYPES = ["echo", "slow", "added", "lambda-step"];

function nextEvent<K extends keyof FunctionHostEvents>(host: FunctionHost, event: K, accept: (...args: FunctionHostEvents[K]) => boolean, timeoutMs = 10_000): Promise<FunctionHostEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${String(event)}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = host.events.on(event, (...args) => {
      if (!accept(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    });
  });
}

describe("FunctionHost (in process)", () => {
  let project: TempProject;
  let dispatcher: Dispatcher;
  let host: FunctionHost;
  let startResult: Awaited<ReturnType<FunctionHost["start"]>>;

  async function run(pipeline: string, instructions: object): Promise<JobRecord> {
    const outcome = await dispatcher.enqueue(pipeline, instructions);
    assert.equal(outcome.status, "created");
    const record = await waitForFinal(dispatcher, outcome.job.id, { timeoutMs: 20_000 });
    assert.ok(record, "job finished in time");
    return record;
  }

  before(async () => {
    project = await tempProject({
      copy: ["functions-shapes/lambda-handler.ts"],
      files: {
        "echo.ts": versionedStep("echo", 1),
        "slow.mjs": slowStep(1),
        "no-shape.ts": "export const notAHandler = 42;\n",
        "broken.ts": "export default async function ( {\n",
        "_helper.ts": "export const ignored = true;\n",
        "zz-echo-again.ts": `export const jobType = "echo";\n${versionedStep("echo-again", 1)}`,
      },
    });
    dispatcher = new Dispatcher({ storage: new MemoryStorageBackend(), pipelines: JOB_TYPES.map((name) => ({ name, steps: [name] })) });
    await dispatcher.start();
    host = new FunctionHost({ dir: project.functionsDir, serve: serveInProcess(dispatcher), watch: true, debounceMs: 50, killGraceMs: 100 });
    startResult = await host.start();
  });
  after(async () => {
    await host?.stop(1000);
    await dispatcher?.stop();
    await project?.cleanup();
  });

  it("starts every usable function and reports the others by file name with what was expected", () => {
    assert.deepEqual(startResult.functions.map((f) => f.jobType).sort(), ["echo", "lambda-step", "slow"]);
    const byFile = new Map(startResult.problems.map((p) => [p.file.split("/").pop(), p.message]));
    assert.deepEqual([...byFile.keys()].sort(), ["broken.ts", "no-shape.ts", "zz-echo-again.ts"]);
    assert.match(byFile.get("zz-echo-again.ts") ?? "", /job type "echo" is already served by .*echo\.ts/);
    assert.match(byFile.get("no-shape.ts") ?? "", /no-shape\.ts: no handler found; expected one of: a default-exported function \(execute\)/);
    assert.match(byFile.get("broken.ts") ?? "", /broken\.ts: build failed[\s\S]*ERROR/);
    assert.match(byFile.get("broken.ts") ?? "", /broken\.ts:\d+:\d+/, "esbuild's location of the error");
  });

  it("serves them", async () => {
    assert.deepEqual((await run("echo", { n: 1 })).result, { step: "echo", version: 1, n: 1 });
    assert.equal((await run("lambda-step", { n: 1 })).result && "lambda", "lambda");
  });

  it("--watch: an edit changes the next job's output while another function's in-flight job completes", async () => {
    const release = join(project.root, "release-1");
    const slow = await dispatcher.enqueue("slow", { release });
    assert.equal(slow.status, "created");
    await eventually(async () => (await dispatcher.get(slow.job.id))?.status === "running", { message: "slow job running" });
    const reloaded = nextEvent(host, "ready", (fn, again) => fn.jobType === "echo" && again);
    await writeFile(join(project.functionsDir, "echo.ts"), versionedStep("echo", 2));
    await reloaded;
    assert.deepEqual((await run("echo", { n: 2 })).result, { step: "echo", version: 2, n: 2 });
    assert.equal((await dispatcher.get(slow.job.id))?.status, "running", "the other function's job is still in flight");
    await writeFile(release, "");
    const done = await waitForFinal(dispatcher, slow.job.id, { timeoutMs: 10_000 });
    assert.equal(done?.status, "succeeded");
    assert.equal(done?.attempts, 1, "not re-run");
    assert.deepEqual(done?.result, { step: "slow", version: 1 });
  });

  it("--watch: the old version's in-flight job finishes on the old version; the next job runs the new one", async () => {
    const release = join(project.root, "release-2");
    const first = await dispatcher.enqueue("slow", { release });
    assert.equal(first.status, "created");
    await eventually(async () => (await dispatcher.get(first.job.id))?.status === "running", { message: "slow job running" });
    const reloaded = nextEvent(host, "ready", (fn, again) => fn.jobType === "slow" && again);
    await writeFile(join(project.functionsDir, "slow.mjs"), slowStep(2));
    await reloaded;
    await writeFile(release, "");
    const done = await waitForFinal(dispatcher, first.job.id, { timeoutMs: 10_000 });
    assert.deepEqual(done?.result, { step: "slow", version: 1 });
    assert.equal(done?.attempts, 1);
    assert.deepEqual((await run("slow", { release })).result, { step: "slow", version: 2 });
  });

  it("--watch: a syntax error keeps the previous version running and reports esbuild's error", async () => {
    const problem = nextEvent(host, "problem", (p) => p.file.endsWith("echo.ts"));
    await writeFile(join(project.functionsDir, "echo.ts"), "export default async function (i) { return { a: ; }\n");
    const [reported] = await problem;
    assert.match(reported.message, /echo\.ts: build failed/);
    assert.match(reported.message, /Unexpected ";"/);
    assert.match(reported.message, /previous version keeps running/);
    assert.deepEqual((await run("echo", { n: 3 })).result, { step: "echo", version: 2, n: 3 });
    const fixed = nextEvent(host, "ready", (fn) => fn.jobType === "echo");
    await writeFile(join(project.functionsDir, "echo.ts"), versionedStep("echo", 3));
    await fixed;
    assert.deepEqual((await run("echo", { n: 4 })).result, { step: "echo", version: 3, n: 4 });
  });

  it("--watch: an added file starts, a deleted one stops", async () => {
    const added = nextEvent(host, "ready", (fn, again) => fn.jobType === "added" && !again);
    await writeFile(join(project.functionsDir, "added.ts"), versionedStep("added", 1));
    await added;
    assert.deepEqual((await run("added", { n: 5 })).result, { step: "added", version: 1, n: 5 });
    const removed = nextEvent(host, "removed", (fn) => fn.jobType === "added");
    await rm(join(project.functionsDir, "added.ts"));
    await removed;
    await eventually(async () => !(await dispatcher.workers()).some((w) => w.jobType === "added"), { message: "its worker left" });
    assert.deepEqual(host.functions().map((f) => f.jobType).sort(), ["echo", "lambda-step", "slow"]);
  });

  it("a missing folder is an error at start", async () => {
    const missing = new FunctionHost({ dir: join(project.root, "nope"), serve: serveInProcess(dispatcher) });
    await assert.rejects(missing.start(), /cannot read functions folder .*nope/);
  });
});
