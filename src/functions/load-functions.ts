/**
 * Finds the function files of a folder (`listFunctionFiles`) and loads them into this process
 * (`loadFunctions`), each bundled with esbuild first (TypeScript, ESM or CommonJS; see
 * ./bundle-function.ts). A file that fails to build or fits no shape is reported with its name
 * and what was expected; the others still load. (`mario host` runs the same bundles in worker
 * threads instead: src/host/.)
 */
import { readdir } from "node:fs/promises";
import { extname, join } from "node:path";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { bundleFunction, bundleUrl } from "./bundle-function.ts";
import { stepFromModule, type FunctionStep } from "./step-from-module.ts";

/** Extensions of function files. Files starting with `_`, `.d.ts` and `*.test.*` files are not functions. */
export const FUNCTION_EXTENSIONS: readonly string[] = [".ts", ".mts", ".js", ".mjs", ".cjs"];

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

/** One function file, bundled and imported: its step (job type from the file). */
export async function loadFunctionFile(file: string): Promise<FunctionStep> {
  const bundle = await bundleFunction(file);
  return stepFromModule(file, (await import(bundleUrl(bundle))) as Record<string, unknown>);
}

export async function loadFunctions(dir: string): Promise<LoadedFunctions> {
  const steps: FunctionStep[] = [];
  const problems: { file: string; message: string }[] = [];
  for (const file of await listFunctionFiles(dir)) {
    try {
      const step = await loadFunctionFile(file);
      const clash = steps.find((s) => s.jobType === step.jobType);
      if (clash !== undefined) throw new InvalidConfigError(`${file}: job type "${step.jobType}" is already served by ${clash.file}`);
      steps.push(step);
    } catch (error) {
      problems.push({ file, message: error instanceof MarioError ? error.message : `${file}: ${(error as Error).message}` });
    }
  }
  return { steps, problems };
}
