/**
 * The seed's commands, verbatim with free ports, as `mario` child processes: pipeline + steps +
 * `mario enqueue … --wait` on examples/simple.ts, and examples/client.ts against the same; and
 * the CLI's one-line errors.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, describe, it } from "node:test";
import { MarioProcesses, REPO_ROOT, runMario } from "../support/processes.ts";
import { freeAddress, freePorts } from "../support/ports.ts";

const procs = new MarioProcesses();
after(() => procs.stopAll());

/** Runs `node --import tsx --conditions=mario-source <args…>` (as examples/client.ts says) in the repository to its end; SIGKILLed after `timeoutMs`. */
function runNodeTs(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "--conditions=mario-source", ...args], { cwd: REPO_ROOT, timeout: timeoutMs, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("mario pipeline / step / enqueue", () => {
  it("runs examples/simple.ts example-one: succeeded with deleted_path", async () => {
    const [p1, p2] = await freePorts(2);
    const sub = `tcp://127.0.0.1:${p1}`;
    const pull = `tcp://127.0.0.1:${p2}`;
    const pipeline = procs.start(["pipeline", "examples/simple.ts", "example-one", `--sub-bind=${sub}`, `--job-pull-bind=${pull}`]);
    const generate = procs.start(["step", "examples/simple.ts", "generate-file", `--sub-connect=${sub}`]);
    const hash = procs.start(["step", "examples/simple.ts", "calculate-hash", `--sub-connect=${sub}`]);
    const remove = procs.start(["step", "examples/simple.ts", "delete-file", `--sub-connect=${sub}`]);
    await pipeline.waitForLine(/pipeline server ready/);
    await Promise.all([generate, hash, remove].map((p) => p.waitForLine(/step worker ready/)));

    const result = await runMario(["enqueue", pull, "example-one", '{"size": 10}', "--wait"], { timeoutMs: 20_000 });
    assert.equal(result.code, 0, result.stderr);
    const job = JSON.parse(result.stdout) as { status: string; result: { deleted_path?: string; size: number } };
    assert.equal(job.status, "succeeded");
    assert.match(job.result.deleted_path ?? "", /mario-simple-.*\.bin$/);
    assert.equal(job.result.size, 10);

    const plain = await runMario(["enqueue", pull, "example-one", '{"size": 1}']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout.trim(), /^[0-9a-z]{22}$/);

    for (const proc of [generate, hash, remove, pipeline]) assert.deepEqual(await proc.stop(), { code: 0, signal: null });
  });

  it("runs examples/client.ts against examples/simple.ts example-one: exit 0, status succeeded", async () => {
    const [p1, p2] = await freePorts(2);
    const sub = `tcp://127.0.0.1:${p1}`;
    const pull = `tcp://127.0.0.1:${p2}`;
    const pipeline = procs.start(["pipeline", "examples/simple.ts", "example-one", `--sub-bind=${sub}`, `--job-pull-bind=${pull}`]);
    const generate = procs.start(["step", "examples/simple.ts", "generate-file", `--sub-connect=${sub}`]);
    const remove = procs.start(["step", "examples/simple.ts", "delete-file", `--sub-connect=${sub}`]);
    await pipeline.waitForLine(/pipeline server ready/);
    await Promise.all([generate, remove].map((p) => p.waitForLine(/step worker ready/)));

    const client = await runNodeTs(["examples/client.ts", pull, "example-one"], 30_000);
    assert.equal(client.code, 0, `stdout:\n${client.stdout}\nstderr:\n${client.stderr}`);
    assert.match(client.stdout, /^enqueued job [0-9a-z]{22} on example-one$/m);
    assert.match(client.stdout, /^status: succeeded$/m);
    const result = /^result: (.+)$/m.exec(client.stdout)?.[1];
    assert.ok(result !== undefined, client.stdout);
    const parsed = JSON.parse(result) as { size?: number; deleted_path?: string };
    assert.equal(parsed.size, 10, "the default instructions are {\"size\": 10}");
    assert.match(parsed.deleted_path ?? "", /mario-simple-.*\.bin$/);

    const unknown = await runNodeTs(["examples/client.ts", pull, "nope"], 30_000);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'refused: UNKNOWN_PIPELINE: unknown pipeline "nope"; known pipelines: example-one\n');

    for (const proc of [generate, remove, pipeline]) assert.deepEqual(await proc.stop(), { code: 0, signal: null });
  });

  it("prints one line and exits non-zero for an unknown pipeline, bad JSON and an unreachable address", async () => {
    const [p1, p2] = await freePorts(2);
    const pull = `tcp://127.0.0.1:${p2}`;
    const pipeline = procs.start(["pipeline", "examples/simple.ts", "example-one", `--sub-bind=tcp://127.0.0.1:${p1}`, `--job-pull=${pull}`]);
    await pipeline.waitForLine(/pipeline server ready/);

    const unknown = await runMario(["enqueue", pull, "nope", "{}", "--timeout=3000"]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'mario enqueue: unknown pipeline "nope"; known pipelines: example-one (UNKNOWN_PIPELINE)\n');

    const bad = await runMario(["enqueue", pull, "example-one", "{size: 10}"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^mario enqueue: instructions are not valid JSON: .+\n$/);

    const notObject = await runMario(["enqueue", pull, "example-one", "[1]"]);
    assert.equal(notObject.code, 1);
    assert.match(notObject.stderr, /^mario enqueue: instructions for "example-one" must be a JSON object, got an array \(INVALID_INSTRUCTIONS\)\n$/);

    const nobody = await freeAddress();
    const unreachable = await runMario(["enqueue", nobody, "example-one", "{}", "--timeout=800"]);
    assert.equal(unreachable.code, 1);
    // One line, naming the key the job may have been taken under (resend with --idempotency-key).
    assert.match(
      unreachable.stderr,
      new RegExp(`^mario enqueue: no answer from ${nobody.replaceAll(".", "\\.")} within 800 ms: is a pipeline server listening there\\? The job may still have been taken: send it again with idempotency key client-\\w+ \\(never doubles it\\)\n$`),
    );
  });

  it("names what exists when the pipeline or job type is unknown (exit 2)", async () => {
    const [p1, p2] = await freePorts(2);
    const badPipeline = await runMario(["pipeline", "examples/simple.ts", "nope", `--sub-bind=tcp://127.0.0.1:${p1}`, `--job-pull-bind=tcp://127.0.0.1:${p2}`]);
    assert.equal(badPipeline.code, 2);
    assert.match(badPipeline.stderr, /^mario pipeline: unknown pipeline "nope" in examples\/simple.ts; pipelines: .*example-one.*hash-and-clean.*\n$/);
    const badStep = await runMario(["step", "examples/simple.ts", "nope", `--sub-connect=tcp://127.0.0.1:${p1}`]);
    assert.equal(badStep.code, 2);
    assert.match(badStep.stderr, /^mario step: unknown job type "nope" in examples\/simple.ts; job types: calculate-hash, delete-file, generate-file\n$/);
  });
});
