/**
 * bundleFunction (esbuild): where bundles go, content hashes, esbuild errors with the file name,
 * `import … from "mario-pipelines"` (and the old `"mario"`), CommonJS exports, standalone bundles; and the CommonJS normalisation.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, it } from "node:test";
import { normalizeModule, stepFromModule } from "../../src/functions/step-from-module.ts";
import { loadFunctions } from "../../src/functions/load-functions.ts";
import { bundleFunction, bundleUrl, cacheRoot, defaultCacheDir } from "../../src/functions/bundle-function.ts";
import { FunctionBuildError } from "../../src/functions/errors/function-build-error.ts";
import { ThreadExecutor } from "../../src/host/thread-executor.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { CJS_LAMBDA, REPO_ROOT, tempProject, type TempProject } from "../fixtures/functions-support/_temp-project.ts";

describe("bundleFunction", () => {
  let project: TempProject;

  before(async () => {
    project = await tempProject({ copy: ["functions-shapes/zod-validate.ts", "functions-shapes/uses-mario.ts"], files: { "legacy.cjs": CJS_LAMBDA } });
  });
  after(async () => {
    await project?.cleanup();
  });

  it("writes to the cache folder (MARIO_CACHE_DIR), never into the project, named by content hash; packages stay imports that resolve from the project", async () => {
    const cache = await mkdtemp(join(tmpdir(), "mario-cache-test-"));
    const saved = process.env.MARIO_CACHE_DIR;
    process.env.MARIO_CACHE_DIR = cache;
    try {
      const file = join(project.functionsDir, "zod-validate.ts");
      const first = await bundleFunction(file);
      const again = await bundleFunction(file);
      assert.equal(again.hash, first.hash);
      assert.equal(again.outfile, first.outfile);
      assert.equal(dirname(first.outfile), defaultCacheDir(file));
      assert.ok(first.outfile.startsWith(join(cache, "functions") + "/"), first.outfile);
      assert.match(basename(first.outfile), /^zod-validate-[0-9a-f]{16}\.mjs$/);
      assert.equal(existsSync(join(project.root, "node_modules", ".cache", "mario", "functions", basename(first.outfile))), false, "nothing written under node_modules");
      assert.equal(first.needsTsx, false);
      assert.match(await readFile(first.outfile, "utf8"), /from "zod"/);
      const step = stepFromModule("zod-validate.ts", (await import(bundleUrl(first))) as Record<string, unknown>);
      assert.equal(step.shape, "execute");
      await project.write("zod-validate.ts", (await readFile(file, "utf8")).replace("hello", "hi"));
      const changed = await bundleFunction(file);
      assert.notEqual(changed.hash, first.hash);
    } finally {
      if (saved === undefined) delete process.env.MARIO_CACHE_DIR;
      else process.env.MARIO_CACHE_DIR = saved;
      await rm(cache, { recursive: true, force: true });
    }
  });

  it("the cache folder: MARIO_CACHE_DIR, else $XDG_CACHE_HOME/mario, else the OS temp folder", () => {
    const saved = { cache: process.env.MARIO_CACHE_DIR, xdg: process.env.XDG_CACHE_HOME };
    try {
      process.env.MARIO_CACHE_DIR = "/var/cache/x";
      process.env.XDG_CACHE_HOME = "/home/u/.cache";
      assert.equal(cacheRoot(), "/var/cache/x");
      delete process.env.MARIO_CACHE_DIR;
      assert.equal(cacheRoot(), "/home/u/.cache/mario");
      delete process.env.XDG_CACHE_HOME;
      assert.equal(cacheRoot(), join(tmpdir(), `mario-${process.getuid?.() ?? "user"}`));
    } finally {
      for (const [name, value] of [["MARIO_CACHE_DIR", saved.cache], ["XDG_CACHE_HOME", saved.xdg]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("a syntax error is a FunctionBuildError naming the file, with esbuild's message and location", async () => {
    const file = await project.write("broken.ts", "export default async function (i) {\n  return { a: ;\n}\n");
    await assert.rejects(bundleFunction(file), (error: unknown) => {
      assert.ok(error instanceof FunctionBuildError);
      assert.equal(error.code, "INVALID_CONFIG");
      assert.match(error.message, /broken\.ts: build failed/);
      assert.match(error.message, /Unexpected ";"/);
      assert.match(error.message, /broken\.ts:2:\d+/);
      return true;
    });
  });

  it('`import { … } from "mario-pipelines"` and its subpaths resolve to this package, in a worker thread too', async () => {
    const bundle = await bundleFunction(join(project.functionsDir, "uses-mario.ts"));
    assert.equal(bundle.needsTsx, true);
    const executor = await ThreadExecutor.load(bundle);
    try {
      const delivery = { jobId: "j", token: "t", pipeline: "p", jobType: executor.jobType, stepIndex: 0, attempt: 1, input: { name: "ok-name" }, timeoutMs: 10_000 };
      const outcome = await executor.execute(delivery, { workerId: "w", logger: silentLogger, signal: new AbortController().signal, onProgress: () => {} });
      assert.deepEqual(outcome.ok && outcome.output, { valid: true, timeoutCode: "TIMEOUT", shape: "lambda" });
    } finally {
      await executor.close();
    }
  });

  it('the old spelling `from "mario"` still means this package; an unexported subpath is a build error', async () => {
    const old = await project.write("old-name.ts", 'import { isValidName } from "mario";\nexport default () => ({ ok: isValidName("a") });\n');
    const step = stepFromModule(old, (await import(bundleUrl(await bundleFunction(old)))) as Record<string, unknown>);
    assert.equal(step.jobType, "old-name");
    const wrong = await project.write("wrong-sub.ts", 'import { x } from "mario-pipelines/nope";\nexport default () => x;\n');
    await assert.rejects(bundleFunction(wrong), /"mario-pipelines\/nope" is not exported by mario-pipelines/);
    await Promise.all([rm(old), rm(wrong)]);
  });

  it("a relative import of this package's own sources stays an import of those files (classes keep their identity)", async () => {
    const relativeToSrc = relative(project.functionsDir, join(REPO_ROOT, "src", "index.ts"));
    const file = await project.write("relative-src.ts", `import { isValidName } from ${JSON.stringify(relativeToSrc)};\nexport default () => ({ ok: isValidName("a") });\n`);
    const bundle = await bundleFunction(file);
    await rm(file);
    assert.equal(bundle.needsTsx, true);
    assert.ok((await readFile(bundle.outfile, "utf8")).includes(`from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, "src", "index.ts")).href)}`));
  });

  it("standalone mode inlines npm packages and leaves `mario-pipelines` (also spelt `mario`) as an import", async () => {
    const outfile = join(project.root, "dist", "uses-mario.mjs");
    await bundleFunction(join(project.functionsDir, "uses-mario.ts"), { mode: "standalone", outfile });
    assert.match(await readFile(outfile, "utf8"), /from "mario-pipelines"/);
    const oldOut = join(project.root, "dist", "old-spelling.mjs");
    const old = await project.write("old-spelling.ts", 'import { isValidName } from "mario";\nexport default () => ({ ok: isValidName("a") });\n');
    await bundleFunction(old, { mode: "standalone", outfile: oldOut });
    assert.match(await readFile(oldOut, "utf8"), /from "mario-pipelines"/);
    await rm(old);
    const zodOut = join(project.root, "dist", "zod-validate.mjs");
    await bundleFunction(join(project.functionsDir, "zod-validate.ts"), { mode: "standalone", outfile: zodOut });
    assert.doesNotMatch(await readFile(zodOut, "utf8"), /from "zod"/);
  });

  it("a CommonJS handler bundles to a module whose exports a step can use", async () => {
    const bundle = await bundleFunction(join(project.functionsDir, "legacy.cjs"));
    const step = stepFromModule("legacy.cjs", (await import(bundleUrl(bundle))) as Record<string, unknown>);
    assert.equal(step.shape, "lambda");
    assert.deepEqual(step.config, { timeoutMs: 5000 });
  });

  it("loadFunctions (mario up, mario pipeline) loads through esbuild and reports build errors by file", async () => {
    const { steps, problems } = await loadFunctions(project.functionsDir);
    assert.deepEqual(steps.map((s) => s.jobType).sort(), ["legacy", "uses-mario", "zod-validate"]);
    assert.equal(problems.length, 1);
    assert.match(problems[0]?.message ?? "", /broken\.ts: build failed/);
  });
});

describe("normalizeModule", () => {
  const handler = async (): Promise<null> => null;

  it("lifts handler, jobType and config of a CommonJS module (a lone default export)", () => {
    const mod = normalizeModule({ default: { handler, jobType: "x", config: { retries: 1 } } });
    assert.equal(mod.handler, handler);
    assert.equal(mod.jobType, "x");
    assert.deepEqual(mod.config, { retries: 1 });
  });

  it("unwraps `exports.default` of a transpiled ES module (__esModule)", () => {
    const mod = normalizeModule({ default: { __esModule: true, default: handler } });
    assert.equal(mod.default, handler);
  });

  it("leaves ES modules with named exports alone", () => {
    const original = { default: handler, config: { retries: 3 } };
    assert.equal(normalizeModule(original), original);
  });
});
