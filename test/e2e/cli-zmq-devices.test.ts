/**
 * `mario forwarder` and `mario streamer` as child processes between steps, pipeline and client:
 * the seed example still completes, and every process exits 0 on SIGTERM.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { freePorts } from "../support/ports.ts";
import { MarioProcesses, runMario } from "../support/processes.ts";

const procs = new MarioProcesses();
after(() => procs.stopAll());

describe("mario forwarder and mario streamer", () => {
  it("runs examples/simple.ts example-one through both devices", async () => {
    const [fIn, fOut, sIn, sOut] = (await freePorts(4)).map((p) => `tcp://127.0.0.1:${p}`) as [string, string, string, string];
    const forwarder = procs.start(["forwarder", `--subscriber=${fIn}`, `--publisher=${fOut}`, "--subscriber-hwm=500", "--publisher-hwm=500"]);
    const streamer = procs.start(["streamer", `--pull=${sIn}`, `--push=${sOut}`, "--pull-hwm=500", "--push-hwm=500"]);
    await forwarder.waitForLine(/forwarder ready/);
    await streamer.waitForLine(/streamer ready/);
    const pipeline = procs.start(["pipeline", "examples/simple.ts", "example-one", `--sub-connect=${fOut}`, `--job-pull-connect=${sOut}`]);
    const generate = procs.start(["step", "examples/simple.ts", "generate-file", `--pub-connect=${fIn}`]);
    const remove = procs.start(["step", "examples/simple.ts", "delete-file", `--sub-connect=${fIn}`]);
    await pipeline.waitForLine(/pipeline server ready/);
    await pipeline.waitForLine(/worker joined.*generate-file/);
    await pipeline.waitForLine(/worker joined.*delete-file/);

    const result = await runMario(["enqueue", sIn, "example-one", '{"size": 10}', "--wait", "--timeout=15000"]);
    assert.equal(result.code, 0, result.stderr);
    const job = JSON.parse(result.stdout) as { status: string; result: { deleted_path?: string } };
    assert.equal(job.status, "succeeded");
    assert.match(job.result.deleted_path ?? "", /mario-simple-/);

    for (const proc of [generate, remove, pipeline, streamer, forwarder]) assert.deepEqual(await proc.stop(), { code: 0, signal: null });
  });
});
