/**
 * The module worker threads start from: `_thread-main.ts` and what it imports (the shape
 * adapters, the attempt runner, zod), bundled once per process with esbuild into a plain ES
 * module under the OS temp folder. Threads then start in tens of milliseconds, with no
 * TypeScript loader, wherever the host was installed.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

let runtimeUrl: string | undefined;

/** The `file:` URL of the thread runtime, built on first use (synchronously, about 50 ms). */
export function threadRuntimeUrl(): string {
  runtimeUrl ??= buildRuntime();
  return runtimeUrl;
}

/** The URL of tsx's ESM API, for bundles that import TypeScript sources. */
export function tsxApiUrl(): string {
  return import.meta.resolve("tsx/esm/api");
}

function buildRuntime(): string {
  // _thread-main.ts in a checkout, the compiled _thread-main.js when installed.
  const entry = fileURLToPath(new URL(`./_thread-main${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url));
  const result = esbuild.buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
    outfile: join(tmpdir(), "mario-thread.mjs"),
    banner: { js: 'const require = (await import("node:module")).createRequire(import.meta.url);' },
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error("esbuild produced no thread runtime");
  const hash = createHash("sha256").update(output.contents).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), `mario-${process.getuid?.() ?? "user"}`, "runtime");
  const file = join(dir, `thread-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, output.contents);
    renameSync(temp, file);
  }
  return pathToFileURL(file).href;
}
