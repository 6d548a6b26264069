/**
 * Loads every handler file of a functions folder into this process, each bundled with esbuild
 * first (TypeScript, ESM or CommonJS; see src/host/bundle-function.ts). A file that fails to
 * build or fits no shape is reported with its name and what was expected; the others still load.
 * (`mario host` runs the same bundles in worker threads instead: src/host/.)
 */
import { readdir } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { bundleFunction, bundleUrl } from "../host/bundle-function.ts";
import { CONFIG_FILES } from "./mario-config.ts";
import { FUNCTION_EXTENSIONS, stepFromModule, type FunctionStep } from "./load-function-file.ts";

export interface LoadedFunctions {
  steps: FunctionStep[];
  /** Files that could not be used, each with a one-line reason. */
  problems: { file: string; message: string }[];
}

export async function listFunctionFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
    throw new InvalidConfigError(`cannot read functions folder ${dir}: ${(error as Error).message}`, { cause: error });
  });
  return entries
    .filter((e) => e.isFile() && FUNCTION_EXTENSIONS.includes(extname(e.name)) && !e.name.endsWith(".d.ts") && !e.name.startsWith("_") && !/\.test\.[cm]?[jt]s$/.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/**
 * Imports a config file or class-DSL module. A `mario.config.*` goes through esbuild first: in a
 * project without `"type": "module"`, Node would load a `.ts`/`.js` config as CommonJS and fail
 * on its `export default`. Other modules are imported as they are (their classes must be the
 * very ones this process's `mario` exports).
 */
export async function importModule(file: string): Promise<Record<string, unknown>> {
  if (CONFIG_FILES.includes(basename(file))) return (await import(bundleUrl(await bundleFunction(file)))) as Record<string, unknown>;
  return (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
}

export async function loadFunctions(dir: string): Promise<LoadedFunctions> {
  const steps: FunctionStep[] = [];
  const problems: { file: string; message: string }[] = [];
  for (const file of await listFunctionFiles(dir)) {
    try {
      const bundle = await bundleFunction(file);
      const step = stepFromModule(file, (await import(bundleUrl(bundle))) as Record<string, unknown>);
      const clash = steps.find((s) => s.jobType === step.jobType);
      if (clash !== undefined) throw new InvalidConfigError(`${file}: job type "${step.jobType}" is already served by ${clash.file}`);
      steps.push(step);
    } catch (error) {
      problems.push({ file, message: error instanceof MarioError ? error.message : `${file}: ${(error as Error).message}` });
    }
  }
  return { steps, problems };
}
