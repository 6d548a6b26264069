/**
 * `mario build` bundles a functions folder into self-contained modules; `mario host` serving
 * the output gives the same results as serving the sources.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { CJS_LAMBDA, tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { MarioProcesses, runMario } from "../support/processes.ts";

const CASES: [string, object][] = [
  ["echo-execute", { n: 7 }],
  ["workers-fetch", { n: 7 }],
  ["hono-app", { n: 7 }],
  ["lambda-step", { n: 7 }],
  ["zod-validate", { name: "image", n: 7 }],
  ["legacy", { n: 7 }],
];

describe("mario build", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let server: PipelineServer;
  let client: PipelineClient;

  async function run(pipeline: string, instructions: object): Promise<JobRecord> {
    const [ok, job] = await client.enqueueJob({ name: pipeline, instructions });
    assert.ok(ok, `enqueued: ${JSON.stringify(job)}`);
    return client.waitFor(job.id, { timeoutMs: 20_000 });
  }

  async function resultsServing(dir: string): Promise<unknown[]> {
    const host = procs.start(["host", dir, `--sub-connect=${server.subAddress}`, "--heartbeat-ms=200"]);
    await host.waitForLine(/mario host: serving 6 function\(s\)/, 30_000);
    const results = [];
    for (const [pipeline, instructions] of CASES) results.push((await run(pipeline, instructions)).result);
    assert.deepEqual(await host.stop("SIGTERM"), { code: 0, signal: null });
    return results;
  }

  before(async () => {
    project = await tempProject({
      copy: ["functions-shapes/echo-execute.ts", "functions-shapes/workers-fetch.ts", "functions-shapes/hono-app.ts", "functions-shapes/lambda-handler.ts", "functions-shapes/zod-validate.ts"],
      files: { "legacy.cjs": CJS_LAMBDA },
    });
    server = new PipelineServer({ pipelines: CASES.map(([name]) => ({ name, steps: [name] })), storage: new MemoryStorageBackend(), subBind: "tcp://127.0.0.1:0", jobPullBind: "tcp://127.0.0.1:0" });
    await server.start();
    client = new PipelineClient(server.jobPullAddress);
    await client.connect();
  });
  after(async () => {
    await procs.stopAll();
    client?.close();
    await server?.stop();
    await project?.cleanup();
  });

  it("writes one self-contained module per function (npm packages inlined)", async () => {
    const result = await runMario(["build", "functions", "--outdir=dist/functions"], { cwd: project.root });
    assert.equal(result.code, 0, result.stderr);
    const outdir = join(project.root, "dist", "functions");
    assert.deepEqual((await readdir(outdir)).sort(), ["echo-execute.mjs", "hono-app.mjs", "lambda-handler.mjs", "legacy.mjs", "workers-fetch.mjs", "zod-validate.mjs"]);
    assert.match(result.stdout, /built functions\/hono-app\.ts → dist\/functions\/hono-app\.mjs \(hono-app, fetch\)/);
    for (const file of ["zod-validate.mjs", "hono-app.mjs"]) {
      const text = await readFile(join(outdir, file), "utf8");
      assert.doesNotMatch(text, /from "(zod|hono)"/, `${file} imports no npm package at run time`);
    }
  });

  it("--cache-dir: what the check of each bundle writes goes there", async () => {
    const cache = await mkdtemp(join(tmpdir(), "mario-cache-flag-"));
    try {
      const result = await runMario(["build", "functions", "--outdir=dist/checked", `--cache-dir=${cache}`], { cwd: project.root });
      assert.equal(result.code, 0, result.stderr);
      const [folder, ...others] = await readdir(join(cache, "functions"));
      assert.equal(others.length, 0, "one folder for the project");
      const files = await readdir(join(cache, "functions", folder!));
      assert.ok(files.some((f) => /^zod-validate-[0-9a-f]{16}\.mjs$/.test(f)), files.join(", "));
      assert.ok(files.includes("node_modules"), "a link to the project's packages");
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });

  it("serving the bundles gives the same results as serving the sources", async () => {
    const fromSources = await resultsServing(project.functionsDir);
    const fromBundles = await resultsServing(join(project.root, "dist", "functions"));
    assert.deepEqual(fromBundles, fromSources);
    assert.deepEqual(fromSources[0], { shape: "execute", n: 14, attempt: 1 });
  });

  it("reports a file that does not build, with esbuild's error, and exits 1", async () => {
    await project.write("broken.ts", "export default async function ( {\n");
    const result = await runMario(["build", "functions", "--outdir=dist/functions", "--no-check"], { cwd: project.root });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /mario build: functions\/broken\.ts: build failed/);
    assert.match(result.stdout, /built functions\/echo-execute\.ts/);
  });
});
