/**
 * Finds what a process serves: pipelines and steps, from a project root (mario.config.*), a
 * functions folder, a config file, or a class-DSL module.
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { MarioError } from "../core/errors/mario-error.ts";
import { pathToFileURL } from "node:url";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import { validatePipelines, withSingleStepPipelines, type PipelineDefinition } from "../core/pipeline-definition.ts";
import { isPipelineClass, pipelineNameOf, type PipelineClass } from "../dsl/pipeline.ts";
import { isStepClass, jobTypeOf, stepFromClass, type StepClass } from "../dsl/step.ts";
import type { StepDefinition } from "../engine/step-definition.ts";
import { bundleFunction, bundleUrl } from "../functions/bundle-function.ts";
import { FUNCTION_EXTENSIONS, loadFunctionFile, loadFunctions } from "../functions/load-functions.ts";
import type { FunctionStep } from "../functions/step-from-module.ts";
import type { ScheduleDefinition } from "../core/schedule.ts";
import { CONFIG_FILES, looksLikeConfig, parseConfig, type MarioConfig } from "./mario-config.ts";
import { projectSchedules } from "./project-schedules.ts";

export interface Project {
  root: string;
  /** Declared pipelines, then every step as a one-step pipeline of its own name. */
  pipelines: PipelineDefinition[];
  steps: StepDefinition[];
  /** Class-DSL pipelines, for their hooks and backends. */
  pipelineClasses: PipelineClass[];
  /** Function files that could not be used. */
  problems: { file: string; message: string }[];
  functionsDir?: string | undefined;
  /** The mario.config.* the project came from, if any. */
  configFile?: string | undefined;
  /** Cron schedules: mario.config's `schedules`, then each function file's `export const schedule` (checked). */
  schedules: ScheduleDefinition[];
}

/**
 * `target` may be: a folder with a mario.config.*, a functions folder, a config file or a
 * class-DSL module. Default: the current folder.
 */
export async function loadProject(target?: string): Promise<Project> {
  const path = resolve(target ?? ".");
  if (!existsSync(path)) throw new InvalidConfigError(`${target}: no such file or folder`);
  if (target !== undefined && !statSync(path).isDirectory()) return loadFile(path, target);
  const configFile = findConfigFile(path);
  if (configFile !== undefined) return fromConfig(configFile, (await loadAnyModule(configFile)).default);
  return loadFunctionsProject(target === undefined ? join(path, "functions") : path, {});
}

/**
 * A config file, a class-DSL module or a single function file (its job type the file's, served
 * as a one-step pipeline of that name). A function file is loaded bundled, as `mario host`
 * loads it: imported as it is, one that imports "mario" fails in Node's loader
 * (ERR_REQUIRE_CYCLE_MODULE), which is then no more than the reason it was bundled.
 */
async function loadFile(path: string, target: string): Promise<Project> {
  const imported = await loadAnyModule(path).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  if (!(imported instanceof Error)) {
    if (looksLikeConfig(imported.default)) return fromConfig(path, imported.default);
    if (Object.values(imported).some((value) => isPipelineClass(value) || isStepClass(value))) return fromClassModule(path, imported);
  }
  if (imported instanceof MarioError) throw imported;
  if (!FUNCTION_EXTENSIONS.includes(extname(path))) {
    throw new InvalidConfigError(`${target}: not a mario.config, class-DSL module or function file${imported instanceof Error ? ` (${firstLine(imported.message)})` : ""}`);
  }
  // Not a config, no classes: a function file, or an error naming the shapes it could have.
  const step: FunctionStep = await loadFunctionFile(path);
  const pipelines = withSingleStepPipelines([], [step.jobType]);
  return { root: dirname(path), pipelines, steps: [step], pipelineClasses: [], problems: [], schedules: projectSchedules(undefined, {}, [step], pipelines) };
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

export function findConfigFile(dir: string): string | undefined {
  return CONFIG_FILES.map((name) => join(dir, name)).find((file) => existsSync(file));
}

/** The pipelines a mario.config declares (names and steps checked, job types not). */
export async function readDeclaredPipelines(file: string): Promise<PipelineDefinition[]> {
  const config = parseConfig(file, (await loadAnyModule(file)).default);
  const declared = Object.entries(config.pipelines).map(([name, steps]) => ({ name, steps }));
  validatePipelines(declared);
  return declared;
}

/**
 * Imports a config file or class-DSL module. A `mario.config.*` goes through esbuild first: in a
 * project without `"type": "module"`, Node would load a `.ts`/`.js` config as CommonJS and fail
 * on its `export default`. A TypeScript class-DSL module goes through esbuild too (plain Node
 * cannot import TypeScript); its imports of this package resolve to the very modules this process
 * runs, so its classes are the ones `mario-pipelines` exports here. JavaScript modules are
 * imported as they are.
 */
async function importModule(file: string): Promise<Record<string, unknown>> {
  if (CONFIG_FILES.includes(basename(file)) || TS_MODULE.test(file)) return (await import(bundleUrl(await bundleFunction(file)))) as Record<string, unknown>;
  return (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
}

const TS_MODULE = /\.[cm]?tsx?$/;

async function loadAnyModule(file: string): Promise<Record<string, unknown>> {
  if (file.endsWith(".json")) {
    try {
      return { default: JSON.parse(await readFile(file, "utf8")) as unknown };
    } catch (error) {
      throw new InvalidConfigError(`${file}: ${(error as Error).message}`, { cause: error });
    }
  }
  return importModule(file);
}

async function fromConfig(file: string, raw: unknown): Promise<Project> {
  const config = parseConfig(file, raw);
  const declared = Object.entries(config.pipelines).map(([name, steps]) => ({ name, steps }));
  const options = { declared, root: dirname(file), configFile: file, schedules: config.schedules };
  return { ...(await loadFunctionsProject(resolve(dirname(file), config.functions), options)), configFile: resolve(file) };
}

interface FunctionsProjectOptions {
  declared?: PipelineDefinition[];
  root?: string;
  configFile?: string;
  schedules?: MarioConfig["schedules"];
}

async function loadFunctionsProject(dir: string, options: FunctionsProjectOptions): Promise<Project> {
  const { steps, problems } = await loadFunctions(dir);
  const declared = options.declared ?? [];
  validatePipelines(declared, steps.map((s) => s.jobType));
  const pipelines = withSingleStepPipelines(declared, steps.map((s) => s.jobType));
  return {
    root: options.root ?? dir,
    pipelines,
    steps,
    pipelineClasses: [],
    problems,
    functionsDir: dir,
    schedules: projectSchedules(options.configFile, options.schedules ?? {}, steps, pipelines),
  };
}

function fromClassModule(file: string, mod: Record<string, unknown>): Project {
  const exported = Object.values(mod);
  const pipelineClasses = exported.filter(isPipelineClass).filter((cls) => cls.steps.length > 0);
  const stepClasses = new Set<StepClass>(exported.filter(isStepClass));
  for (const cls of pipelineClasses) for (const step of cls.steps) stepClasses.add(step);
  const steps = [...stepClasses].map(stepFromClass);
  const declared = pipelineClasses.map((cls) => ({ name: pipelineNameOf(cls), steps: cls.steps.map(jobTypeOf) }));
  if (steps.length === 0) {
    throw new InvalidConfigError(`${basename(file)}: exports no Pipeline or Step classes and no mario config`);
  }
  validatePipelines(declared, steps.map((s) => s.jobType));
  return {
    root: dirname(file),
    pipelines: withSingleStepPipelines(declared, steps.map((s) => s.jobType)),
    steps,
    pipelineClasses,
    problems: [],
    schedules: [],
  };
}
