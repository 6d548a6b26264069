/**
 * Who may import whom: the core does no I/O and imports nothing outside itself; function files
 * (src/functions) depend on the core and the engine's types only; config reads projects through
 * src/functions and never imports the host, a transport or the gateway; adapters/ only re-exports
 * the shapes.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** The repository paths a file imports (relative imports only). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^(?:import|export)[^"']*from\s+["'](\.[^"']+)["']/gm)].map((m) => normalize(relative(".", join(dirname(file), m[1]!))));
}

function offenders(dir: string, allowed: readonly string[]): string[] {
  return files(dir).flatMap((file) => importsOf(file).filter((target) => !allowed.some((a) => target.startsWith(a))).map((target) => `${file} → ${target}`));
}

describe("layering", () => {
  it("src/core imports only src/core", () => {
    assert.deepEqual(offenders("src/core", ["src/core/"]), []);
  });

  it("src/functions imports only src/core, src/engine and itself (and src/_own-package.ts, the package's own name and exports)", () => {
    assert.deepEqual(offenders("src/functions", ["src/core/", "src/engine/", "src/functions/", "src/_own-package.ts"]), []);
  });

  it("src/config imports no host, transport, gateway or CLI module", () => {
    assert.deepEqual(offenders("src/config", ["src/core/", "src/engine/", "src/functions/", "src/config/", "src/dsl/"]), []);
  });

  it("adapters/ only re-exports the shapes of src/functions/shapes", () => {
    assert.deepEqual(offenders("adapters", ["src/functions/shapes/"]), []);
  });
});
