/**
 * The package entry: `import … from "mario"` on plain Node (no `--import tsx`) goes through
 * lib/index.js, which registers tsx and re-exports src/index.ts by name. Checks that a plain node
 * process can import and run a job, and that lib/index.js names exactly the runtime exports of
 * src/index.ts (so the hand-written list cannot drift).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import * as source from "../../src/index.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const libEntry = new URL("../../lib/index.js", import.meta.url);

// Resolved from the repository root by package self-reference (package.json has name + exports).
const PLAIN_NODE_PROGRAM = `
import { PipelineClient, LocalRunner, defineStep, definePipeline } from "mario";
const double = defineStep("double", ({ n }) => ({ n: Number(n) * 2 }));
const runner = new LocalRunner({ pipelines: [definePipeline("math", [double])], steps: [double] });
await runner.start();
try {
  const { job } = await runner.enqueue("math", { n: 21 });
  const final = await runner.waitFor(job.id);
  console.log(JSON.stringify({ execArgv: process.execArgv.filter((a) => a.startsWith("--") && a !== "--input-type=module"), pipelineClient: typeof PipelineClient, status: final.status, result: final.result }));
} finally {
  await runner.stop();
}
`;

describe('package entry: import … from "mario"', () => {
  it("works in a plain node process (no --import tsx) and runs a one-step LocalRunner job", async () => {
    const env = { ...process.env, NODE_OPTIONS: "", MARIO_LOG_LEVEL: "warn" };
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", PLAIN_NODE_PROGRAM], {
      cwd: repoRoot,
      env,
      timeout: 60_000,
      encoding: "utf8",
    });
    const lines = stdout.trim().split("\n");
    assert.deepEqual(JSON.parse(lines.at(-1) ?? ""), { execArgv: [], pipelineClient: "function", status: "succeeded", result: { n: 42 } });
  });

  it('"mario" resolves to lib/index.js, which exports exactly the runtime exports of src/index.ts', async () => {
    assert.equal(import.meta.resolve("mario"), libEntry.href);
    const lib = (await import(libEntry.href)) as Record<string, unknown>;
    const sourceExports = source as Record<string, unknown>;
    assert.deepEqual(Object.keys(lib).sort(), Object.keys(sourceExports).sort());
    for (const name of Object.keys(sourceExports)) assert.equal(lib[name], sourceExports[name], `${name} is the same binding`);
  });

  it("exports the gateway APIs the README documents", () => {
    for (const name of ["createGatewayApp", "createDashboardApp", "DispatcherCluster", "RemoteCluster", "PipelineClient"] as const) {
      assert.equal(typeof source[name], "function", name);
    }
  });
});
