/**
 * `mario init [dir]` as a function (initProject) and through the CLI's run(): the files of a new
 * project, never an overwrite (each existing file skipped, a second run writes nothing and is
 * exit code 1), an existing functions/ gets no example, a path that is a file is refused; and the
 * project it writes loads and runs its example job.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { initProject, npmName } from "../../src/cli/commands/init.ts";
import { run } from "../../src/cli/main.ts";
import { loadProject } from "../../src/config/load-project.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { REPO_ROOT } from "../support/processes.ts";

const FILES = ["package.json", "mario.config.ts", "functions/hello.ts", "tsconfig.json", ".gitignore", "project.Dockerfile"];

describe("mario init", () => {
  let temp = "";
  before(async () => {
    temp = await mkdtemp(join(tmpdir(), "mario-init-"));
  });
  after(async () => {
    await rm(temp, { recursive: true, force: true });
  });

  it("writes package.json (depending on mario-pipelines), mario.config.ts, functions/hello.ts, tsconfig.json, .gitignore, project.Dockerfile", async () => {
    const dir = join(temp, "My App");
    const result = await initProject(dir);
    assert.deepEqual(result, { written: FILES, kept: [] });
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Record<string, unknown>;
    assert.equal(pkg.name, "my-app");
    assert.equal(pkg.type, "module");
    assert.deepEqual(Object.keys(pkg.dependencies as object), ["mario-pipelines"]);
    assert.deepEqual(Object.keys(pkg.devDependencies as object).sort(), ["@types/node", "typescript"]);
    assert.match(await readFile(join(dir, "functions/hello.ts"), "utf8"), /import type \{ StepContext \} from "mario-pipelines";/);
    // The container file is the one test:containers builds (docker/project.Dockerfile).
    assert.equal(await readFile(join(dir, "project.Dockerfile"), "utf8"), await readFile(join(REPO_ROOT, "docker/project.Dockerfile"), "utf8"));
  });

  it("the project it writes loads, and its example job succeeds", async () => {
    const project = await loadProject(join(temp, "My App"));
    assert.deepEqual(project.problems, []);
    assert.deepEqual(project.pipelines.map((p) => p.name), ["greet", "hello"]);
    const runner = new LocalRunner({ pipelines: project.pipelines, steps: project.steps });
    await runner.start();
    try {
      const { job } = await runner.enqueue("greet", { name: "init" });
      const final = await runner.waitFor(job.id, 10_000);
      assert.equal(final.status, "succeeded");
      assert.deepEqual(final.result, { greeting: "Hello, init!" });
    } finally {
      await runner.stop();
    }
  });

  it("a second run overwrites nothing: one line on stderr, exit code 1", async () => {
    const dir = join(temp, "again");
    assert.equal(await run(["init", dir]), 0);
    await writeFile(join(dir, "functions/hello.ts"), "// mine\n");
    const stderr = await captureStderr(() => run(["init", dir]));
    assert.equal(stderr.code, 1);
    assert.equal(stderr.text, `mario init: nothing written: ${dir} already holds every file init writes (it never overwrites)\n`);
    assert.equal(await readFile(join(dir, "functions/hello.ts"), "utf8"), "// mine\n");
  });

  it("skips each file that exists (another config spelling too) and adds no example to a functions/ that has files", async () => {
    const dir = join(temp, "existing");
    await mkdir(join(dir, "functions"), { recursive: true });
    await writeFile(join(dir, "package.json"), '{"name":"mine"}\n');
    await writeFile(join(dir, "mario.config.js"), "export default {};\n");
    await writeFile(join(dir, "functions", "resize.ts"), "export default () => null;\n");
    const result = await initProject(dir);
    assert.deepEqual(result.written, ["tsconfig.json", ".gitignore", "project.Dockerfile"]);
    assert.deepEqual(result.kept, [
      { path: "package.json", reason: "it exists" },
      { path: "mario.config.ts", reason: "mario.config.js exists" },
      { path: "functions/hello.ts", reason: "functions/ already holds files" },
    ]);
    assert.equal(await readFile(join(dir, "package.json"), "utf8"), '{"name":"mine"}\n');
  });

  it("refuses a path that is a file: one line, exit code 2", async () => {
    const file = join(temp, "a-file");
    await writeFile(file, "x");
    const stderr = await captureStderr(() => run(["init", file]));
    assert.equal(stderr.code, 2);
    assert.equal(stderr.text, `mario init: ${file} exists and is not a folder\n`);
  });

  it("names the package after the folder, as npm allows", () => {
    assert.equal(npmName("My App"), "my-app");
    assert.equal(npmName("_.hidden"), "hidden");
    assert.equal(npmName("ünïcode!"), "n-code");
    assert.equal(npmName("..."), "mario-project");
  });
});

async function captureStderr(fn: () => Promise<number>): Promise<{ code: number; text: string }> {
  const write = process.stderr.write.bind(process.stderr);
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  let text = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    text += String(chunk);
    return true;
  });
  process.stdout.write = (() => true);
  try {
    return { code: await fn(), text };
  } finally {
    process.stderr.write = write;
    process.stdout.write = stdoutWrite;
  }
}
