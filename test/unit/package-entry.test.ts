/**
 * The package as published (mario-pipelines), checked without building it: every subpath of the
 * exports map has its source, its compiled file and its declarations at the matching places; the
 * light entries import no driver they should not (from the sources' import graph, with esbuild);
 * the resolver function files use maps names and subpaths like Node would; and `npm pack
 * --dry-run` lists no tests, bench, fixtures or examples. The built tarball itself, installed in a
 * fresh project, is test/e2e/package-tarball.test.ts.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, it } from "node:test";
import * as esbuild from "esbuild";
import { ownModule } from "../../src/_own-package.ts";
import * as root from "../../src/index.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("package.json", `file://${repoRoot}`), "utf8")) as {
  name: string;
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  dependencies: Record<string, string>;
};

/** The npm packages the module graph of `entry` (a source file) imports, outside node: builtins. */
async function packagesImportedBy(entry: string): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    splitting: true,
    packages: "external",
    outdir: "/nonexistent",
    logLevel: "silent",
  });
  // What loading the entry loads: its output and the chunks it imports statically. A dynamic
  // import() (such as the Redis registry a client given a redis:// URL loads) is not followed.
  const outputs = result.metafile.outputs;
  const found = new Set<string>();
  const start = Object.keys(outputs).find((path) => outputs[path]!.entryPoint !== undefined);
  const queue = start === undefined ? [] : [start];
  const seen = new Set(queue);
  while (queue.length > 0) {
    for (const i of outputs[queue.pop()!]!.imports) {
      if (i.kind === "dynamic-import") continue;
      if (!i.external) {
        if (!seen.has(i.path)) { seen.add(i.path); queue.push(i.path); }
      } else if (!i.path.startsWith("node:")) {
        found.add(i.path.startsWith("@") ? i.path.split("/").slice(0, 2).join("/") : i.path.split("/")[0]!);
      }
    }
  }
  return [...found].sort();
}

describe("package: mario-pipelines", () => {
  it("is named mario-pipelines, installs the mario command, and has no run-time tsx", () => {
    assert.equal(pkg.name, "mario-pipelines");
    assert.deepEqual(pkg.bin, { mario: "./bin/mario.js" });
    assert.equal(pkg.dependencies.tsx, undefined);
  });

  it("every subpath points at its source (mario-source), dist JavaScript (default) and declarations (types)", () => {
    const subpaths = Object.keys(pkg.exports).filter((k) => k !== "./package.json");
    assert.deepEqual(subpaths, [".", "./client", "./server", "./gateway", "./storage/redis", "./project", "./adapters/*"]);
    for (const key of subpaths) {
      const target = pkg.exports[key] as Record<string, string>;
      assert.deepEqual(Object.keys(target), ["mario-source", "types", "default"], `${key}: condition order`);
      const source = target["mario-source"]!;
      assert.match(source, /^\.\/.+\.ts$/, key);
      const stem = source.slice(2, -3);
      assert.equal(target.default, `./dist/${stem}.js`, key);
      assert.equal(target.types, `./dist/${stem}.d.ts`, key);
      if (!stem.includes("*")) assert.ok(existsSync(new URL(source, `file://${repoRoot}`)), `${source} exists`);
    }
  });

  it("the root entry loads no ZeroMQ, Redis, hono or esbuild; the client no Redis or hono; the gateway no ZeroMQ or Redis", async () => {
    assert.deepEqual(await packagesImportedBy("src/index.ts"), ["croner", "zod"]);
    assert.deepEqual(await packagesImportedBy("src/entries/client.ts"), ["zeromq", "zod"]);
    assert.deepEqual(await packagesImportedBy("src/entries/server.ts"), ["croner", "zeromq", "zod"]);
    assert.deepEqual(await packagesImportedBy("src/entries/gateway.ts"), ["@hono/zod-openapi", "croner", "hono", "prom-client", "zod"]);
    assert.deepEqual(await packagesImportedBy("src/entries/storage-redis.ts"), ["ioredis"]);
    for (const shape of ["execute", "fetch", "lambda"]) assert.deepEqual(await packagesImportedBy(`adapters/${shape}.ts`), [], shape);
  });

  it("the root entry still offers the DSL, LocalRunner, memory storage and every error class", () => {
    for (const name of ["defineStep", "definePipeline", "defineConfig", "Step", "Pipeline", "LocalRunner", "MemoryStorageBackend", "MarioError", "NoAnswerError", "RemoteError", "createLogger"] as const) {
      assert.equal(typeof root[name], "function", name);
    }
  });

  it("function files' imports of the package resolve through its exports map (its old name too), nothing else", () => {
    const at = (path: string): string => new URL(path, `file://${repoRoot}`).href;
    assert.equal(ownModule("mario-pipelines"), at("src/index.ts"));
    assert.equal(ownModule("mario-pipelines/client"), at("src/entries/client.ts"));
    assert.equal(ownModule("mario-pipelines/storage/redis"), at("src/entries/storage-redis.ts"));
    assert.equal(ownModule("mario-pipelines/adapters/fetch"), at("adapters/fetch.ts"));
    assert.equal(ownModule("mario"), at("src/index.ts"));
    assert.equal(ownModule("mario/gateway"), at("src/entries/gateway.ts"));
    for (const bad of ["mario-pipelines/nope", "mario-pipelines/adapters/a/b", "mario-pipelines/adapters/", "mario-pipelinesx", "marios", "zod"]) {
      assert.equal(ownModule(bad), undefined, bad);
    }
  });

  it("npm pack --dry-run lists bin/, dist/ and the container file init writes: no tests, bench, fixtures, examples or sources", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot, encoding: "utf8", timeout: 60_000 });
    const [report] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const paths = report.files.map((f) => f.path);
    assert.ok(paths.includes("bin/mario.js") && paths.includes("package.json") && paths.includes("README.md"), paths.join(" "));
    const stray = paths.filter((p) => !/^(bin\/mario\.js|package\.json|README\.md|LICENSE|docker\/project\.Dockerfile)$/.test(p) && !p.startsWith("dist/"));
    assert.deepEqual(stray, []);
    assert.deepEqual(paths.filter((p) => /(^|\/)(test|bench|fixtures|examples)\//.test(p) || /\.test\.|(?<!\.d)\.ts$/.test(p)), []);
  });
});
