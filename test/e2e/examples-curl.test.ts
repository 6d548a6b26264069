/**
 * examples/curl.sh for real: `mario up --port=0` on the repository's own project (what `npm start`
 * serves) as a child process, then `bash examples/curl.sh` with MARIO_URL pointing at it. Every
 * request in the script checks its status code, so exit 0 means each route answered as documented;
 * the test also checks the lines that show it.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { MarioProcesses, REPO_ROOT, type MarioProcess } from "../support/processes.ts";

/** No token on either side, whatever the environment running the tests holds. */
const NO_TOKEN = { MARIO_TOKEN: undefined };

function runScript(url: string, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...NO_TOKEN, MARIO_URL: url };
    execFile("bash", ["examples/curl.sh"], { cwd: REPO_ROOT, env, timeout: timeoutMs, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("examples/curl.sh against mario up (e2e)", () => {
  const procs = new MarioProcesses();
  let up: MarioProcess;
  let url = "";
  before(async () => {
    const curl = spawnSync("curl", ["--version"], { stdio: "ignore" });
    if (curl.error !== undefined || curl.status !== 0) {
      throw new Error("examples/curl.sh needs curl, which is not installed here (install it with: apt-get install curl)");
    }
    up = procs.start(["up", "--port=0", "--host=127.0.0.1"], { env: NO_TOKEN });
    const line = await up.waitForLine(/mario is up on http:\/\/127\.0\.0\.1:\d+\//);
    url = /http:\/\/127\.0\.0\.1:\d+\//.exec(line)![0];
  });
  after(() => procs.stopAll());

  it("runs every request of the script with the documented answers and exits 0", async () => {
    const run = await runScript(url, 60_000);
    assert.equal(run.code, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    assert.equal(run.stderr, "");
    const out = run.stdout;

    // POST → 202 queued with a Location, then GET /jobs/:id until succeeded.
    const queued = /^\{"id":"([0-9a-z]{22})","pipeline":"hash-and-clean","status":"queued"\}$/m.exec(out);
    assert.ok(queued !== null, out);
    const id = queued[1]!;
    assert.match(out, new RegExp(`^Location: /jobs/${id}$`, "m"));
    assert.match(out, new RegExp(`^job ${id} succeeded$`, "m"));
    assert.match(out, /^result: \{"size":10,"hash":"[0-9a-f]{40}","deleted_path":".+"\}$/m);
    // ?wait: the finished record in one request.
    assert.match(out, /^steps: generate-file → delete-file$/m);
    // GET /pipelines.
    assert.match(out, /^\{"pipelines":\[\{"name":"example-one",/m);
    // Idempotency-Key: same job, replayed.
    assert.match(out, /\(Idempotent-Replayed: true\)$/m);
    assert.match(out, /^same job: [0-9a-z]{22}$/m);
    // A dead job, redriven; a succeeded one refused.
    const dead = /^job ([0-9a-z]{22}) dead: ENOENT/m.exec(out);
    assert.ok(dead !== null, out);
    assert.match(out, new RegExp(`^\\{"id":"${dead[1]}","pipeline":"calculate-hash","status":"queued"\\}$`, "m"));
    assert.match(out, /"code":"NOT_DEAD"/);
    // GET /metrics: two hash-and-clean jobs accepted (the repeated key made none), the ?wait one succeeded.
    assert.match(out, /^mario_jobs_total\{pipeline="hash-and-clean",status="accepted"\} 2$/m);
    assert.match(out, /^mario_jobs_total\{pipeline="example-one",status="succeeded"\} 1$/m);
  });

  it("mario up still serves and stops with exit 0", async () => {
    assert.equal((await fetch(`${url}health`)).status, 200);
    assert.deepEqual(await up.stop(), { code: 0, signal: null });
  });
});
