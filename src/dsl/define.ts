/**
 * The functional form:
 *
 * ```ts
 * const double = defineStep("double", ({ n }) => ({ n: Number(n) * 2 }), { retries: 0 });
 * const math = definePipeline("math", [double, "print"]);
 * ```
 */
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import type { StepConfig } from "../core/step-config.ts";
import type { StepHandler } from "../engine/delivery.ts";
import type { StepDefinition } from "../engine/step-definition.ts";

export function defineStep(jobType: string, handler: StepHandler, config?: StepConfig): StepDefinition {
  return { jobType, handler, config };
}

export function definePipeline(name: string, steps: readonly (StepDefinition | string)[]): PipelineDefinition {
  return { name, steps: steps.map((s) => (typeof s === "string" ? s : s.jobType)) };
}
