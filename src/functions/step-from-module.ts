/**
 * Turns one handler module into a step: tries each handler shape (./shapes/) in turn. A CommonJS
 * module (`module.exports = …`, `exports.handler = …`) arrives as a lone `default` export once
 * bundled; its `handler`, `jobType`, `config`, `example` and `schedule` are read from there too.
 */
import { basename, extname } from "node:path";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import { isInstructions, type Instructions } from "../core/job.ts";
import { isValidName } from "../core/names.ts";
import type { StepConfig } from "../core/step-config.ts";
import { resolveStepLimits } from "../core/step-limits.ts";
import type { StepDefinition } from "../engine/step-definition.ts";
import type { HandlerShape } from "./handler-shape.ts";
import { executeShape } from "./shapes/execute.ts";
import { fetchShape } from "./shapes/fetch.ts";
import { lambdaShape } from "./shapes/lambda.ts";

/** The shapes, in the order they are tried (a default-exported object with `fetch` before a default function). */
export const HANDLER_SHAPES: readonly HandlerShape[] = [fetchShape, lambdaShape, executeShape];

export interface FunctionStep extends StepDefinition {
  file: string;
  shape: string;
  /** The module's `schedule` export as it is (a cron string or `{ cron, instructions?, timezone? }`), checked by the project loader. */
  schedule?: unknown;
}

/** The step a module defines, or an InvalidConfigError naming the file and the shapes expected. */
export function stepFromModule(file: string, loaded: Record<string, unknown>): FunctionStep {
  const mod = normalizeModule(loaded);
  const jobType = typeof mod.jobType === "string" ? mod.jobType : basename(file, extname(file));
  if (!isValidName(jobType)) {
    throw new InvalidConfigError(`${file}: job type "${jobType}" is not a valid name (letters, digits, ".", "_", "-")`);
  }
  for (const shape of HANDLER_SHAPES) {
    const handler = shape.fromModule(mod);
    if (handler !== undefined) {
      const step: FunctionStep = { jobType, handler, config: configOf(file, mod.config), example: exampleOf(file, mod.example), file, shape: shape.shape };
      if (mod.schedule !== undefined) step.schedule = mod.schedule;
      return step;
    }
  }
  throw new InvalidConfigError(
    `${file}: no handler found; expected one of: a default-exported function (execute), a default-exported object with fetch(request, env, ctx) (fetch), or an exported handler(event, context) (lambda)`,
  );
}

/** Lifts the named exports of a CommonJS module (its lone `default`) to the top level. */
export function normalizeModule(mod: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(mod).filter((k) => k !== "__esModule" && k !== "module.exports");
  const exported = mod.default;
  if (keys.length !== 1 || keys[0] !== "default") return mod;
  if ((typeof exported !== "object" && typeof exported !== "function") || exported === null) return mod;
  const cjs = exported as Record<string, unknown>;
  const lifted: Record<string, unknown> = { default: cjs.__esModule === true ? cjs.default : exported };
  for (const name of ["handler", "jobType", "config", "example", "schedule"]) if (cjs[name] !== undefined) lifted[name] = cjs[name];
  return lifted;
}

function exampleOf(file: string, raw: unknown): Instructions | undefined {
  if (raw === undefined) return undefined;
  if (!isInstructions(raw)) throw new InvalidConfigError(`${file}: "example" must be an object: instructions the step accepts`);
  return raw;
}

function configOf(file: string, raw: unknown): StepConfig | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== "object" || raw === null) throw new InvalidConfigError(`${file}: "config" must be an object`);
  resolveStepLimits(raw as Record<string, unknown>, file);
  return raw;
}
