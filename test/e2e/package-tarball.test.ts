/**
 * The package as a user gets it: `npm pack` (which builds dist/ through "prepack"), the tarball
 * installed into a fresh project outside this repository (its dependencies from the registry, as
 * usual), then, with plain `node` and no tsx anywhere: `npx mario init`, `npm install`,
 * `npx mario up --port=0`, a job curled to success, `tsc --noEmit` over a file importing the
 * package's types (and failing on a wrong one), and `import("mario-pipelines/client")` loading
 * neither ioredis nor hono (seen by a resolve hook and in the CommonJS module cache).
 *
 * One difference from a user's project: mario-pipelines is not on the registry yet, so the
 * `^0.1.0` dependency `mario init` writes is pointed at the tarball before `npm install`.
 */
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO_ROOT } from "../support/processes.ts";

const NAME = "mario-pipelines";

/** The environment of a user's shell: none of `npm test`'s npm_* variables, no NODE_OPTIONS. */
const userEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_") && k !== "NODE_OPTIONS"));
userEnv.MARIO_LOG_LEVEL = "info";

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sh(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: { ...userEnv, ...env }, timeout: timeoutMs, killSignal: "SIGKILL", encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr });
    });
  });
}

async function ok(command: string, args: readonly string[], cwd: string): Promise<string> {
  const ran = await sh(command, args, cwd);
  assert.equal(ran.code, 0, `${command} ${args.join(" ")} failed:\n${ran.stdout}\n${ran.stderr}`);
  return ran.stdout;
}

describe("the npm tarball, installed in a fresh project", { timeout: 600_000 }, () => {
  let temp = "";
  let app = "";
  let tarball = "";
  let packedFiles: string[] = [];
  /** `npx mario up`, in its own process group (npx → sh → node): stopped as a group. */
  let up: ChildProcess | undefined;

  before(async () => {
    temp = await mkdtemp(join(tmpdir(), "mario-tarball-"));
    app = join(temp, "app");
    await mkdir(app);
    const packed = await ok("npm", ["pack", "--json", "--pack-destination", temp], REPO_ROOT);
    const [report] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
    tarball = join(temp, report.filename);
    packedFiles = report.files.map((f) => f.path);
    // --no-save and an explicit prefix: the folder stays without a package.json for `mario init`.
    await ok("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefer-offline", `--prefix=${app}`, tarball], app);
  }, { timeout: 400_000 });

  after(async () => {
    if (up?.pid !== undefined && up.exitCode === null && up.signalCode === null) process.kill(-up.pid, "SIGKILL");
    if (temp !== "") await rm(temp, { recursive: true, force: true });
  });

  it("the tarball holds bin/, dist/ (JavaScript, declarations, Lua scripts, dashboard assets) and the container file init writes; no tests, bench, fixtures or sources", () => {
    // Every Lua script of the sources (their names change with their key counts), preludes included.
    const scripts = readdirSync(join(REPO_ROOT, "src/storage/redis/lua")).filter((f) => f.endsWith(".lua")).map((f) => `dist/src/storage/redis/lua/${f}`);
    assert.ok(scripts.length > 10, "the sources hold the Lua scripts");
    for (const file of ["bin/mario.js", "package.json", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/entries/client.js", "dist/adapters/fetch.js", ...scripts, "dist/src/gateway/dashboard/assets/index.html"]) {
      assert.ok(packedFiles.includes(file), `${file} is packed`);
    }
    assert.deepEqual(packedFiles.filter((p) => !/^(bin\/mario\.js|package\.json|README\.md|LICENSE|docker\/project\.Dockerfile)$/.test(p) && !p.startsWith("dist/")), []);
    assert.deepEqual(packedFiles.filter((p) => /(^|\/)(test|bench|fixtures|examples)\//.test(p) || /\.test\.|(?<!\.d)\.ts$/.test(p)), []);
  });

  it("installs without tsx; `npx mario --version` runs the compiled CLI", async () => {
    assert.equal(existsSync(join(app, "node_modules", "tsx")), false);
    assert.equal(existsSync(join(app, "node_modules", NAME, "src")), false);
    // No compiled module names a TypeScript file (a dynamic import tsc left as "../x.ts" would fail on first use).
    const dist = join(app, "node_modules", NAME, "dist");
    const named: string[] = [];
    for (const file of await readdir(dist, { recursive: true })) {
      if (!file.endsWith(".js")) continue;
      for (const m of (await readFile(join(dist, file), "utf8")).matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*)["'](\.\.?\/[^"']+\.ts)["']/g)) named.push(`${file}: ${m[1]}`);
    }
    assert.deepEqual(named, []);
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    assert.equal((await ok("npx", ["--no-install", "mario", "--version"], app)).trim(), pkg.version);
  });

  it("`npx mario init` writes the project and prints exactly `npm install && npx mario up`; a second run writes nothing", { timeout: 300_000 }, async () => {
    const first = await sh("npx", ["--no-install", "mario", "init"], app);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trim().split("\n").filter((l) => l.startsWith("wrote ")), ["wrote package.json", "wrote mario.config.ts", "wrote functions/hello.ts", "wrote tsconfig.json", "wrote .gitignore", "wrote project.Dockerfile"]);
    assert.equal(first.stdout.trim().split("\n").at(-1)?.trim(), "npm install && npx mario up");
    const digest = async (): Promise<string> => {
      const hash = createHash("sha256");
      for (const f of ["package.json", "mario.config.ts", "functions/hello.ts", "tsconfig.json", ".gitignore", "project.Dockerfile"]) hash.update(await readFile(join(app, f)));
      return hash.digest("hex");
    };
    const before = await digest();
    const second = await sh("npx", ["--no-install", "mario", "init"], app);
    assert.equal(second.code, 1);
    assert.equal(second.stdout, "");
    assert.match(second.stderr.trim(), /^mario init: nothing written: \. already holds every file init writes \(it never overwrites\)$/);
    assert.equal(await digest(), before);

    const pkg = JSON.parse(await readFile(join(app, "package.json"), "utf8")) as { type: string; dependencies: Record<string, string> };
    assert.equal(pkg.type, "module");
    assert.match(pkg.dependencies[NAME] ?? "", /^\^\d+\.\d+\.\d+$/);
    pkg.dependencies[NAME] = `file:${tarball}`;
    await writeFile(join(app, "package.json"), JSON.stringify(pkg, null, 2));
    await ok("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], app);
  });

  it("`npx mario up --port=0` serves the new project: a job curled to success, then SIGTERM stops it", async () => {
    const child = spawn("npx", ["--no-install", "mario", "up", "--port=0"], { cwd: app, env: userEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    up = child;
    let output = "";
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const tryLine = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString("utf8");
        const line = /^try: (curl .*)$/m.exec(output)?.[1];
        if (line !== undefined) resolve(line);
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      void closed.then(() => reject(new Error(`mario up ended before it was up:\n${output}`)));
    });
    assert.match(output, /pipelines: greet \[hello\], hello/);
    const url = /'(http:\/\/127\.0\.0\.1:\d+\/pipelines\/[^']+)'/.exec(tryLine)?.[1];
    assert.ok(url !== undefined, tryLine);
    const curl = await ok("curl", ["-sS", "--max-time", "20", "-X", "POST", url, "-H", "content-type: application/json", "-d", '{"name":"tarball"}'], app);
    const job = JSON.parse(curl) as { status: string; result: unknown };
    assert.equal(job.status, "succeeded", curl);
    assert.deepEqual(job.result, { greeting: "Hello, tarball!" });

    // npx → sh → node: the group gets SIGTERM; stdout closes once the last of them (mario) exits.
    process.kill(-(child.pid ?? 0), "SIGTERM");
    await closed;
    assert.match(output, /SIGTERM: shutting down/);
  });

  it("`tsc --noEmit` passes a file importing the package's types from several subpaths and fails the one wrong use", { timeout: 120_000 }, async () => {
    const good = `import type { StepContext, JobRecord, StorageBackend } from "${NAME}";
import { defineStep, LocalRunner } from "${NAME}";
import type { PipelineClientOptions } from "${NAME}/client";
import type { GatewayOptions } from "${NAME}/gateway";
import type { RedisStorageOptions } from "${NAME}/storage/redis";
import { fromModule } from "${NAME}/adapters/lambda";
export const step = defineStep("double", (i: { n?: number }, ctx: StepContext) => ({ n: (i.n ?? 0) * 2, job: ctx.jobId }));
export const runner = new LocalRunner({ pipelines: [], steps: [step] });
export type Used = [JobRecord, StorageBackend, PipelineClientOptions, GatewayOptions, RedisStorageOptions, typeof fromModule];
`;
    await writeFile(join(app, "uses-types.ts"), good);
    await writeFile(join(app, "wrong-types.ts"), `import type { StepContext } from "${NAME}";\nexport const wrong: number = ({} as StepContext).jobId;\n`);
    // skipLibCheck off: the package's own .d.ts files are checked too.
    await writeFile(join(app, "tsconfig.check.json"), JSON.stringify({ extends: "./tsconfig.json", compilerOptions: { skipLibCheck: false }, include: ["functions", "mario.config.ts", "uses-types.ts", "wrong-types.ts"] }));
    const checked = await sh("npx", ["--no-install", "tsc", "--noEmit", "-p", "tsconfig.check.json"], app);
    assert.notEqual(checked.code, 0);
    const errors = checked.stdout.split("\n").filter((l) => /error TS\d+/.test(l));
    assert.equal(errors.length, 1, checked.stdout);
    assert.match(errors[0] ?? "", /^wrong-types\.ts\(2,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  });

  it('`import("mario-pipelines/client")` loads zeromq but neither ioredis nor hono; the root entry none of the three', async () => {
    // A resolve hook (ES modules) writes every URL it resolves; the CommonJS cache lists the rest.
    await writeFile(join(app, "record-hooks.mjs"), `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.RECORD_FILE, result.url + "\\n");
  return result;
}
`);
    await writeFile(join(app, "record.mjs"), `import { register } from "node:module";\nregister("./record-hooks.mjs", import.meta.url);\n`);
    const loaded = async (specifier: string): Promise<string[]> => {
      const record = join(temp, `loaded-${specifier.replaceAll("/", "_")}.txt`);
      await writeFile(record, "");
      const program = `const m = await import(${JSON.stringify(specifier)});
const { createRequire } = await import("node:module");
const cache = Object.keys(createRequire(import.meta.url).cache);
(await import("node:fs")).appendFileSync(process.env.RECORD_FILE, cache.join("\\n") + "\\n");
if (Object.keys(m).length === 0) process.exit(3);`;
      const ran = await sh(process.execPath, ["--import", "./record.mjs", "--input-type=module", "-e", program], app, { RECORD_FILE: record });
      assert.equal(ran.code, 0, ran.stderr);
      return (await readFile(record, "utf8")).split("\n").filter((l) => l !== "");
    };
    const uses = (urls: string[], pkg: string): boolean => urls.some((u) => u.includes(`/node_modules/${pkg}/`));

    const client = await loaded(`${NAME}/client`);
    assert.ok(uses(client, NAME) && uses(client, "zeromq"), "the hooks saw the client and zeromq load");
    assert.equal(uses(client, "ioredis"), false, "ioredis");
    assert.equal(uses(client, "hono") || uses(client, "@hono/node-server"), false, "hono");

    const root = await loaded(NAME);
    for (const pkg of ["zeromq", "ioredis", "hono", "esbuild"]) assert.equal(uses(root, pkg), false, pkg);
    assert.ok(uses(await loaded(`${NAME}/storage/redis`), "ioredis"), "the same check does see ioredis when it loads");
  });
});
