/**
 * What `npm test` does when redis-server, chromium or curl is missing (test/support/system-needs.mjs,
 * used by test/run.mjs): installs them with apt-get (update first) when root with apt-get, else
 * prints the one line to run (and test/run.mjs exits 1); checks only what the selected files need.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NEEDS, needsOf, planSetup } from "../support/system-needs.mjs";
import { REPO_ROOT } from "../support/processes.ts";

const need = (command: string) => NEEDS.find((n) => n.command === command)!;

describe("npm test: programs outside npm", () => {
  it("needs only what the selected files run: nothing for unit tests, chromium for the browser suite", () => {
    assert.deepEqual(needsOf(["test/unit/core.test.ts"]), []);
    assert.deepEqual(needsOf(["test/browser/dashboard.test.ts"]).map((n) => n.command), ["chromium"]);
    assert.deepEqual(needsOf(["test/e2e/cli-up.test.ts", "test/integration/redis-storage.test.ts"]).map((n) => n.command), ["redis-server", "curl"]);
  });

  it("nothing missing: nothing to do", () => {
    assert.deepEqual(planSetup({ missing: [], root: false, aptGet: false }), { action: "none" });
  });

  it("root with apt-get: apt-get update, then one install of every missing package", () => {
    const plan = planSetup({ missing: [need("redis-server"), need("chromium")], root: true, aptGet: true });
    assert.equal(plan.action, "install");
    assert.ok(plan.action === "install");
    assert.deepEqual(plan.commands, [
      ["apt-get", "update", "-qq"],
      ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server", "chromium"],
    ]);
    assert.equal(plan.message, "npm test: installing redis-server chromium with apt-get: missing redis-server (Redis storage tests), chromium (dashboard browser tests)");
  });

  it("not root, or no apt-get: one line naming what is missing and the command to run", () => {
    const notRoot = planSetup({ missing: [need("redis-server")], root: false, aptGet: true });
    assert.deepEqual(notRoot, {
      action: "refuse",
      message: "npm test: missing redis-server (Redis storage tests); install (not root): sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server",
    });
    const noApt = planSetup({ missing: [need("curl")], root: true, aptGet: false });
    assert.equal(noApt.action, "refuse");
    assert.ok(noApt.action === "refuse" && !noApt.message.includes("\n") && noApt.message.includes("no apt-get here"));
  });

  describe("test/run.mjs with redis-server off PATH prints that one line and exits 1, running no test", () => {
    let temp = "";
    before(async () => {
      // Readable by uid 65534 wherever the repository is: a copy of test/run.mjs and what it
      // imports, one (empty) matching test file, and a PATH folder holding only apt-get.
      temp = await mkdtemp(join(tmpdir(), "mario-needs-"));
      for (const dir of ["bin", "test/support", "test/integration"]) await mkdir(join(temp, dir), { recursive: true });
      await symlink("/usr/bin/apt-get", join(temp, "bin", "apt-get"));
      for (const file of ["test/run.mjs", "test/support/system-needs.mjs"]) await cp(join(REPO_ROOT, file), join(temp, file));
      await writeFile(join(temp, "test/integration/redis-storage.test.ts"), "");
      await chmodTree(temp);
    });
    after(() => rm(temp, { recursive: true, force: true }));

    const runAs = (path: string) =>
      spawnSync("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "test/run.mjs", "redis-storage"], {
        cwd: temp,
        env: { PATH: path, HOME: "/nonexistent" },
        encoding: "utf8",
        timeout: 30_000,
      });

    it("not root (uid 65534), apt-get present", () => {
      const ran = runAs(join(temp, "bin"));
      assert.equal(ran.status, 1, ran.stderr);
      assert.equal(ran.stdout, "");
      assert.equal(ran.stderr, "npm test: missing redis-server (Redis storage tests); install (not root): sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server\n");
    });

    it("no apt-get on PATH", () => {
      const ran = runAs("/nonexistent");
      assert.equal(ran.status, 1, ran.stderr);
      assert.equal(ran.stderr, "npm test: missing redis-server (Redis storage tests); install (no apt-get here; on Debian or Ubuntu): sudo apt-get update && sudo apt-get install -y --no-install-recommends redis-server\n");
    });
  });
});

async function chmodTree(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await chmodTree(join(dir, entry.name));
    else if (entry.isFile()) await chmod(join(dir, entry.name), 0o644);
  }
}
