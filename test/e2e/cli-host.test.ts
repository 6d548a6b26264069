/**
 * `mario host` as a child process, serving a temporary functions folder (one function of each
 * shape, a TypeScript function importing zod, a CommonJS handler, a runaway) to a pipeline
 * server over ZeroMQ; jobs go in through the native PipelineClient.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JobRecord } from "../../src/core/job.ts";
import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { PipelineClient } from "../../src/transport/pipeline-client.ts";
import { PipelineServer } from "../../src/transport/pipeline-server.ts";
import { CJS_LAMBDA, tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { MarioProcesses, runMario, type MarioProcess } from "../support/processes.ts";

const JOB_TYPES = ["echo-execute", "workers-fetch", "hono-app", "lambda-step", "zod-validate", "legacy", "runaway", "exits"];

describe("mario host (child process) behind a pipeline server", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let server: PipelineServer;
  let client: PipelineClient;
  let host: MarioProcess | undefined;

  async function run(pipeline: string, instructions: object): Promise<JobRecord> {
    const [ok, job] = await client.enqueueJob({ name: pipeline, instructions });
    assert.ok(ok, `enqueued: ${JSON.stringify(job)}`);
    return client.waitFor(job.id, { timeoutMs: 20_000 });
  }

  before(async () => {
    project = await tempProject({
      copy: [
        "functions-shapes/echo-execute.ts",
        "functions-shapes/workers-fetch.ts",
        "functions-shapes/hono-app.ts",
        "functions-shapes/lambda-handler.ts",
        "functions-shapes/zod-validate.ts",
        "functions-misbehaving/runaway.ts",
        "functions-misbehaving/exits.ts",
      ],
      files: { "legacy.cjs": CJS_LAMBDA, "not-a-function.ts": "export const nothing = 1;\n" },
    });
    server = new PipelineServer({
      pipelines: JOB_TYPES.map((name) => ({ name, steps: [name] })),
      storage: new MemoryStorageBackend(),
      subBind: "tcp://127.0.0.1:0",
      jobPullBind: "tcp://127.0.0.1:0",
    });
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

  it("prints one ready line per function (with --concurrency applied), reports the file that fits no shape, and serves every shape", async () => {
    host = procs.start(["host", project.functionsDir, `--sub-connect=${server.subAddress}`, "--heartbeat-ms=200", "--concurrency=3", "--threads=2"]);
    await host.waitForLine(/mario host: serving 8 function\(s\)/, 30_000);
    for (const jobType of JOB_TYPES) assert.match(host.stdout, new RegExp(`^ready ${jobType} \\(.*concurrency=3 .*threads=2$`, "m"), "--concurrency and --threads override each file's config");
    assert.match(host.stderr, /not-a-function\.ts: no handler found; expected one of/);
    assert.deepEqual((await run("echo-execute", { n: 2 })).result, { shape: "execute", n: 4, attempt: 1 });
    assert.deepEqual((await run("workers-fetch", { n: 2 })).result, { shape: "fetch", method: "POST", n: 3 });
    assert.deepEqual((await run("hono-app", { n: 2 })).result, { shape: "hono", path: "/hono-app", n: 20 });
    assert.deepEqual((await run("lambda-step", { n: 2 })).result, { shape: "lambda", functionName: "lambda-step", n: 1 });
    assert.deepEqual((await run("zod-validate", { name: "zmq", n: 2 })).result, { shape: "zod", greeting: "hello zmq", n: 2 });
    assert.deepEqual((await run("legacy", { n: 2 })).result, { shape: "cjs", n: 6, platform: process.platform });
  });

  it("a runaway handler is dead-lettered with a timeout error and a process.exit() fails its job only; the host keeps serving", async () => {
    const [runaway, exits] = await Promise.all([run("runaway", {}), run("exits", {})]);
    assert.equal(runaway.status, "dead");
    assert.equal(runaway.error?.code, "TIMEOUT");
    assert.equal(runaway.attempts, 2);
    assert.equal(exits.status, "dead");
    assert.equal(exits.error?.code, "HANDLER_CRASHED");
    assert.deepEqual((await run("echo-execute", { n: 5 })).result, { shape: "execute", n: 10, attempt: 1 });
  });

  it("stops gracefully on SIGTERM", async () => {
    assert.ok(host);
    const exit = await host.stop("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  it("--threads below 1: one clear line, exit code 2", async () => {
    const result = await runMario(["host", project.functionsDir, `--sub-connect=${server.subAddress}`, "--threads=0"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^mario host: --threads must be a whole number of at least 1, got "0"\n$/);
  });

  it("without --sub-connect: one clear line, exit code 2", async () => {
    const result = await runMario(["host", project.functionsDir]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^mario host: --sub-connect is required/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it("a malformed address for --sub-connect (host), --sub-connect, --push-connect or --pull-connect (step): one line naming the flag, exit 2", async () => {
    const bad = [
      ["host", project.functionsDir, "--sub-connect=tcp://127.0.0.1:6000,bogus"],
      ["step", "examples/simple.ts", "generate-file", "--sub-connect=bogus"],
      ["step", "examples/simple.ts", "generate-file", "--sub-connect=tcp://127.0.0.1:6000", "--push-connect=tcp://nohost"],
      ["step", "examples/simple.ts", "generate-file", "--sub-connect=tcp://127.0.0.1:6000", "--pull-connect=bogus"],
    ];
    for (const args of bad) {
      const result = await runMario(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      const flag = /--(sub|push|pull)-connect/.exec(args.at(-1)!)![0];
      assert.match(result.stderr, new RegExp(`^mario ${args[0]}: ${flag}: invalid address "[^"]+": .*\n$`));
    }
  });
});
