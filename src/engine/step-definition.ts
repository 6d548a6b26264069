import type { Instructions } from "../core/job.ts";
import type { StepConfig } from "../core/step-config.ts";
import type { StepHandler } from "./delivery.ts";

/** A step: the job type it handles, its function and its settings. */
export interface StepDefinition {
  jobType: string;
  handler: StepHandler;
  config?: StepConfig | undefined;
  /** Instructions to show a user how to call it (the curl line `mario up` prints). */
  example?: Instructions | undefined;
}
