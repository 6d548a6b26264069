/**
 * The class DSL of the original Mario:
 *
 * ```ts
 * class GenerateFile extends Step {
 *   static override jobType = "generate-file";
 *   async execute(instructions) { … return { path }; }
 * }
 * ```
 */
import type { Instructions } from "../core/job.ts";
import { kebabFromClassName } from "../core/names.ts";
import type { StepConfig } from "../core/step-config.ts";
import type { StepContext } from "../engine/delivery.ts";
import type { StepDefinition } from "../engine/step-definition.ts";

export abstract class Step {
  /** The job type this step handles. Default: the class name in kebab-case. */
  static jobType?: string | undefined;
  /** Timeout, retries, backoff, concurrency. */
  static config?: StepConfig | undefined;
  /** Jobs one worker runs at once (the original's name; `config.concurrency` also works). */
  static concurrency?: number | undefined;

  abstract execute(instructions: Instructions, ctx: StepContext): unknown;
}

export type StepClass = (abstract new () => Step) & {
  jobType?: string | undefined;
  config?: StepConfig | undefined;
  concurrency?: number | undefined;
};

export function isStepClass(value: unknown): value is StepClass {
  return typeof value === "function" && value.prototype instanceof Step;
}

export function jobTypeOf(cls: StepClass): string {
  return cls.jobType ?? kebabFromClassName(cls.name);
}

/** Turns a Step class into a step definition, with one instance serving every job. */
export function stepFromClass(cls: StepClass): StepDefinition {
  const instance = new (cls as unknown as new () => Step)();
  const config: StepConfig = { ...cls.config, ...(cls.concurrency === undefined ? {} : { concurrency: cls.concurrency }) };
  return { jobType: jobTypeOf(cls), handler: (instructions, ctx) => instance.execute(instructions, ctx), config };
}
