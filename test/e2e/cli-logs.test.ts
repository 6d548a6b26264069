/**
 * `mario logs <job-id> --url=<gateway>` against `mario up`: a finished job's lines, attempt by
 * attempt; `--follow` on a running job prints its lines as they are written and exits 0 when it
 * succeeds; an unknown job is one line on stderr.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";
import { MarioProcesses, runMario } from "../support/processes.ts";

const JSON_HEADERS = { "content-type": "application/json" };

describe("mario logs", () => {
  const procs = new MarioProcesses();
  let project: TempProject;
  let url = "";

  before(async () => {
    project = await tempProject({
      files: {
        "twice.mjs": `export const config = { retries: 1, backoff: { delayMs: 1, jitter: 0 } };
export default async function (i, ctx) { console.log("try " + ctx.attempt); if (ctx.attempt < 2) throw new Error("not yet"); return {}; }
`,
        "gate.mjs": `import { existsSync } from "node:fs";
export default async function (i, ctx) {
  ctx.logger.info("before the gate");
  while (!existsSync(i.release)) await new Promise((r) => setTimeout(r, 20));
  ctx.logger.info("through the gate");
  return {};
}
`,
      },
    });
    const up = procs.start(["up", "--port=0", project.functionsDir]);
    const line = await up.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//, 30_000);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
  });
  after(async () => {
    await procs.stopAll();
    await project?.cleanup();
  });

  it("prints a finished job's lines, attempt by attempt", async () => {
    const job = (await (await fetch(`${url}pipelines/twice/jobs?wait=20000`, { method: "POST", headers: JSON_HEADERS, body: "{}" })).json()) as { id: string; status: string };
    assert.equal(job.status, "succeeded");
    const result = await runMario(["logs", job.id, `--url=${url}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^twice#1 \S+Z info {2}try 1\ntwice#2 \S+Z info {2}try 2\n$/);
  });

  it("--follow prints a running job's lines as they come and exits 0 when it succeeds", async () => {
    const release = join(project.root, "release");
    const job = (await (await fetch(`${url}pipelines/gate/jobs`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ release }) })).json()) as { id: string };
    const follow = procs.start(["logs", job.id, `--url=${url}`, "--follow"]);
    await follow.waitForLine(/gate#1 .* info {2}before the gate/, 20_000);
    assert.doesNotMatch(follow.stdout, /through the gate/);
    await writeFile(release, "");
    assert.deepEqual(await follow.exited, { code: 0, signal: null });
    assert.match(follow.stdout, /before the gate\n.*through the gate\n$/);
  });

  it("an unknown job is one line and a non-zero exit", async () => {
    const result = await runMario(["logs", "0000000000000000000000", `--url=${url}`]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^mario logs: no job 0000000000000000000000/);
    assert.equal(result.stderr.trim().split("\n").length, 1);
  });
});
