#!/usr/bin/env node
// `npm run build` (also run by `npm pack` / `npm publish` through "prepack"): the package as users
// get it, in dist/. tsc compiles src/ and adapters/ to ES modules with .d.ts declarations
// (tsconfig.build.json); the files the code reads at run time (Lua scripts, the dashboard's
// assets) are copied beside the compiled modules. dist/ is emptied first, so a file removed from
// src/ never lingers in a tarball.
import { spawnSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const compiled = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: ["ignore", process.stderr, process.stderr] });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

// tsc leaves some dynamic `import("../x.ts")` calls unrewritten (seen with TypeScript 6.0 inside
// async arrow/method bodies): every relative specifier ending in .ts becomes .js, so dist/ never
// names a TypeScript file at run time.
const RELATIVE_TS = /((?:\bfrom\s*|\bimport\s*\(\s*)["'])(\.\.?\/[^"']+)\.ts(["'])/g;
let rewritten = 0;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
  const file = join(entry.parentPath ?? entry.path, entry.name);
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(RELATIVE_TS, (_, head, path, quote) => (rewritten++, `${head}${path}.js${quote}`));
  if (fixed !== text) writeFileSync(file, fixed);
}

let copied = 0;
for (const folder of ["src", "adapters"]) {
  for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith(".ts")) continue;
    const from = join(entry.parentPath ?? entry.path, entry.name);
    cpSync(from, join(dist, from.slice(root.length)));
    copied++;
  }
}
console.error(`build: dist/ written (tsc; ${rewritten} relative .ts imports tsc left rewritten to .js; ${copied} asset files copied)`);
