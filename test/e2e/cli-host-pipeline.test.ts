/**
 * All CLI processes: `mario pipeline <project>/mario.config.ts chain` + `mario host` on the
 * project's functions folder; `mario enqueue … --wait` runs a job through every handler shape
 * (execute → fetch → Hono app → lambda), and a TypeScript function importing zod runs as a
 * one-step pipeline of a second server; the host announces to both (`--pub-connect=a,b`).
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, runMario } from "../support/processes.ts";

const CONFIG = `export default {
  functions: "functions",
  pipelines: { chain: ["echo-execute", "workers-fetch", "hono-app", "lambda-step"] },
};
`;

describe("mario pipeline + mario host + mario enqueue --wait", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let pull = "";
  let zodPull = "";

  before(async () => {
    project = await tempProject({
      copy: ["functions-shapes/echo-execute.ts", "functions-shapes/workers-fetch.ts", "functions-shapes/hono-app.ts", "functions-shapes/lambda-handler.ts", "functions-shapes/zod-validate.ts"],
    });
    await writeFile(join(project.root, "mario.config.ts"), CONFIG);
    const [subPort, pullPort, zodSubPort, zodPullPort] = await freePorts(4);
    const sub = `tcp://127.0.0.1:${subPort}`;
    const zodSub = `tcp://127.0.0.1:${zodSubPort}`;
    pull = `tcp://127.0.0.1:${pullPort}`;
    zodPull = `tcp://127.0.0.1:${zodPullPort}`;
    const config = join(project.root, "mario.config.ts");
    const chain = procs.start(["pipeline", config, "chain", `--sub-bind=${sub}`, `--job-pull-bind=${pull}`]);
    const zod = procs.start(["pipeline", config, "zod-validate", `--sub-bind=${zodSub}`, `--job-pull-bind=${zodPull}`]);
    await Promise.all([chain.waitForLine(/ready/, 30_000), zod.waitForLine(/ready/, 30_000)]);
    const host = procs.start(["host", project.functionsDir, `--pub-connect=${sub},${zodSub}`, "--heartbeat-ms=200"]);
    await host.waitForLine(/mario host: serving 5 function\(s\)/, 30_000);
  });
  after(async () => {
    await procs.stopAll();
    await project?.cleanup();
  });

  it("a job runs through execute, fetch (Workers), fetch (Hono) and lambda steps", async () => {
    const result = await runMario(["enqueue", pull, "chain", '{"n": 1}', "--wait", "--timeout=20000"]);
    assert.equal(result.code, 0, result.stderr);
    const job = JSON.parse(result.stdout) as JobRecord;
    assert.equal(job.status, "succeeded");
    assert.deepEqual(job.result, { shape: "lambda", functionName: "lambda-step", n: 29 });
    assert.deepEqual(
      job.steps.map((s) => s.output),
      [
        { shape: "execute", n: 2, attempt: 1 },
        { shape: "fetch", method: "POST", n: 3 },
        { shape: "hono", path: "/hono-app", n: 30 },
        { shape: "lambda", functionName: "lambda-step", n: 29 },
      ],
    );
  });

  it("a TypeScript function importing an npm package (zod), as a one-step pipeline", async () => {
    const result = await runMario(["enqueue", zodPull, "zod-validate", '{"name": "cli", "n": 4}', "--wait", "--timeout=20000"]);
    assert.equal(result.code, 0, result.stderr);
    const job = JSON.parse(result.stdout) as JobRecord;
    assert.deepEqual(job.result, { shape: "zod", greeting: "hello cli", n: 4 });
  });
});
