/** The class DSL (examples/simple.ts), the functional form and project loading. */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadProject } from "../../src/config/load-project.ts";
import type { JobRecord } from "../../src/core/job.ts";
import { Pipeline } from "../../src/dsl/pipeline.ts";
import { Step, stepFromClass } from "../../src/dsl/step.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import type { JobFinishedEvent } from "../../src/engine/dispatcher.ts";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "mario-dsl-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("class DSL", () => {
  it("examples/simple.ts declares the seed's steps and pipelines", async () => {
    const project = await loadProject("examples/simple.ts");
    assert.deepEqual(
      project.pipelines.filter((p) => p.steps.length > 1),
      [
        { name: "example-one", steps: ["generate-file", "delete-file"] },
        { name: "hash-and-clean", steps: ["generate-file", "calculate-hash", "delete-file"] },
      ],
    );
    assert.deepEqual(project.steps.map((s) => s.jobType).sort(), ["calculate-hash", "delete-file", "generate-file"]);
    const runner = new LocalRunner({ pipelines: project.pipelines, steps: project.steps });
    cleanups.push(() => runner.stop(100));
    await runner.start();
    const { job } = await runner.enqueue("example-one", { size: 10 });
    const done = await runner.waitFor(job.id, 10_000);
    assert.equal(done.status, "succeeded");
    assert.ok(typeof (done.result as { deleted_path?: unknown }).deleted_path === "string");
  });

  it("calls onStarted, onFinished and handleFinishedJob", async () => {
    class Upper extends Step {
      static override jobType = "upper";
      execute(instructions: { text?: unknown }) {
        return { text: String(instructions.text).toUpperCase() };
      }
    }
    const seen: string[] = [];
    let finishedJob: JobRecord | undefined;
    let resolveHandled: () => void = () => {};
    const handled = new Promise<void>((resolve) => (resolveHandled = resolve));
    class Shout extends Pipeline {
      static override pipelineName = "shout";
      static override steps = [Upper];
      override onStarted(): void {
        seen.push("started");
      }
      override onFinished(event: JobFinishedEvent): void {
        super.onFinished(event);
        seen.push(`finished:${event.status}`);
      }
      override handleFinishedJob(job: JobRecord): void {
        finishedJob = job;
        resolveHandled();
      }
    }
    const pipeline = new Shout();
    await pipeline.initialize();
    assert.equal(pipeline.name, "shout");
    const runner = new LocalRunner({ pipelines: [pipeline.definition], steps: [stepFromClass(Upper)] });
    cleanups.push(() => runner.stop(100));
    pipeline.attach(runner.dispatcher);
    await runner.start();
    const { job } = await runner.enqueue("shout", { text: "hi" });
    await runner.waitFor(job.id, 10_000);
    await handled;
    assert.deepEqual(seen, ["started", "finished:succeeded"]);
    assert.deepEqual(finishedJob?.result, { text: "HI" });
  });
});

describe("project loading", () => {
  it("a folder without mario.config is a functions folder served as one-step pipelines", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "double.ts"), "export default ({ n }: { n: number }) => ({ n: n * 2 });\n");
    await writeFile(join(dir, "lambda-style.mjs"), "export const handler = async (event) => ({ got: event });\n");
    await writeFile(join(dir, "nothing.mjs"), "export const x = 1;\n");
    const project = await loadProject(dir);
    assert.deepEqual(project.pipelines, [{ name: "double", steps: ["double"] }, { name: "lambda-style", steps: ["lambda-style"] }]);
    assert.equal(project.problems.length, 1);
    assert.match(project.problems[0]!.message, /nothing\.mjs: no handler found; expected one of/);
  });

  it("a function's exported example must be instructions (an object); CommonJS modules may export one too", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "good.mjs"), "export const example = { n: 1 };\nexport default ({ n }) => ({ n });\n");
    await writeFile(join(dir, "common.cjs"), "module.exports = { handler: async (e) => e, example: { m: 2 } };\n");
    await writeFile(join(dir, "bad.mjs"), "export const example = 'n=1';\nexport default () => null;\n");
    const project = await loadProject(dir);
    assert.deepEqual(project.steps.map((s) => [s.jobType, s.example]), [["common", { m: 2 }], ["good", { n: 1 }]]);
    assert.equal(project.problems.length, 1);
    assert.match(project.problems[0]!.message, /bad\.mjs: "example" must be an object/);
  });

  it("a mario.config naming a missing step lists the ones that exist", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, "functions"));
    await writeFile(join(dir, "functions", "a.mjs"), "export default () => ({});\n");
    await writeFile(join(dir, "mario.config.json"), JSON.stringify({ pipelines: { p: ["a", "b"] } }));
    await assert.rejects(loadProject(dir), { code: "UNKNOWN_JOB_TYPE", message: 'pipeline "p": unknown job type "b"; known job types: a' });
  });

  it("an invalid mario.config is reported with the file and the path of the problem", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "mario.config.json"), JSON.stringify({ pipelines: { p: "not-a-list" } }));
    await assert.rejects(loadProject(dir), (e: unknown) => (e as Error).message.includes("mario.config.json: invalid configuration at pipelines.p"));
    await writeFile(join(dir, "mario.config.json"), "{ nope");
    await assert.rejects(loadProject(dir), { code: "INVALID_CONFIG" });
  });

  it("a missing path is one clear error", async () => {
    await assert.rejects(loadProject("/definitely/not/here"), { code: "INVALID_CONFIG", message: "/definitely/not/here: no such file or folder" });
  });
});
