/**
 * Loads every handler file of a functions folder. A file that fits no shape is reported with its
 * name and what was expected; the others still load.
 */
import { readdir } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
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

export async function importModule(file: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
}

export async function loadFunctions(dir: string): Promise<LoadedFunctions> {
  const steps: FunctionStep[] = [];
  const problems: { file: string; message: string }[] = [];
  for (const file of await listFunctionFiles(dir)) {
    try {
      const step = stepFromModule(file, await importModule(file));
      const clash = steps.find((s) => s.jobType === step.jobType);
      if (clash !== undefined) throw new InvalidConfigError(`${file}: job type "${step.jobType}" is already served by ${clash.file}`);
      steps.push(step);
    } catch (error) {
      problems.push({ file, message: error instanceof InvalidConfigError ? error.message : `${file}: ${(error as Error).message}` });
    }
  }
  return { steps, problems };
}
