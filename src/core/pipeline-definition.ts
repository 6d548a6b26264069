import { InvalidConfigError } from "./errors/invalid-config-error.ts";
import { UnknownJobTypeError } from "./errors/unknown-job-type-error.ts";
import { UnknownPipelineError } from "./errors/unknown-pipeline-error.ts";
import { isValidName } from "./names.ts";

/** An ordered list of job types under a name. */
export interface PipelineDefinition {
  name: string;
  steps: readonly string[];
}

/**
 * Checks pipeline definitions against the job types that exist. Throws a typed error naming the
 * pipeline and listing what exists instead.
 */
export function validatePipelines(pipelines: readonly PipelineDefinition[], knownJobTypes?: readonly string[]): void {
  const seen = new Set<string>();
  for (const pipeline of pipelines) {
    if (!isValidName(pipeline.name)) {
      throw new InvalidConfigError(`invalid pipeline name "${pipeline.name}": use letters, digits, ".", "_" and "-"`);
    }
    if (seen.has(pipeline.name)) throw new InvalidConfigError(`pipeline "${pipeline.name}" is declared twice`);
    seen.add(pipeline.name);
    if (pipeline.steps.length === 0) throw new InvalidConfigError(`pipeline "${pipeline.name}" has no steps`);
    for (const step of pipeline.steps) {
      if (!isValidName(step)) {
        throw new InvalidConfigError(`pipeline "${pipeline.name}": invalid job type "${step}"`);
      }
      if (knownJobTypes !== undefined && !knownJobTypes.includes(step)) {
        throw new UnknownJobTypeError(step, knownJobTypes, `pipeline "${pipeline.name}"`);
      }
    }
  }
}

/** Finds a pipeline by name or throws UnknownPipelineError listing the known ones. */
export function findPipeline(pipelines: readonly PipelineDefinition[], name: string): PipelineDefinition {
  const found = pipelines.find((p) => p.name === name);
  if (found === undefined) throw new UnknownPipelineError(name, pipelines.map((p) => p.name));
  return found;
}

/**
 * Every job type is also a one-step pipeline of its own name, unless a declared pipeline already
 * has that name.
 */
export function withSingleStepPipelines(
  declared: readonly PipelineDefinition[],
  jobTypes: readonly string[],
): PipelineDefinition[] {
  const names = new Set(declared.map((p) => p.name));
  const singles = jobTypes.filter((t) => !names.has(t)).map((t) => ({ name: t, steps: [t] }));
  return [...declared, ...singles];
}
