/**
 * The schedules of a project: those of mario.config (`schedules`), then one per function file
 * that exports `schedule` (named after its job type, enqueueing into its one-step pipeline).
 * Each is checked here, at load: its pipeline exists, its time zone is known, croner reads its
 * cron expression, its instructions are a JSON object; a problem is one line naming it.
 */
import { checkInstructions } from "../core/enqueue-rules.ts";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import { MarioError } from "../core/errors/mario-error.ts";
import { listOrNone } from "../core/errors/unknown-pipeline-error.ts";
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import { checkSchedule, type ScheduleDefinition } from "../core/schedule.ts";
import type { StepDefinition } from "../engine/step-definition.ts";
import type { FunctionStep } from "../functions/step-from-module.ts";
import type { MarioConfig } from "./mario-config.ts";
import { functionScheduleSchema } from "./schedule-schema.ts";

export function projectSchedules(
  configFile: string | undefined,
  declared: MarioConfig["schedules"],
  steps: readonly StepDefinition[],
  pipelines: readonly PipelineDefinition[],
): ScheduleDefinition[] {
  const schedules: ScheduleDefinition[] = [];
  const from = new Map<string, string>();
  const add = (where: string, schedule: ScheduleDefinition): void => {
    const seen = from.get(schedule.name);
    if (seen !== undefined) throw new InvalidConfigError(`${where}: schedule "${schedule.name}" is also declared in ${seen}; rename one`);
    if (!pipelines.some((p) => p.name === schedule.pipeline)) {
      throw new InvalidConfigError(`${where}: schedule "${schedule.name}": unknown pipeline "${schedule.pipeline}"; pipelines: ${listOrNone(pipelines.map((p) => p.name))}`);
    }
    try {
      checkSchedule(schedule);
      checkInstructions(schedule.instructions, `schedule "${schedule.name}": instructions`);
    } catch (error) {
      if (error instanceof MarioError) throw new InvalidConfigError(`${where}: ${error.message}`, { cause: error });
      throw error;
    }
    from.set(schedule.name, where);
    schedules.push(schedule);
  };
  for (const [name, s] of Object.entries(declared)) {
    add(configFile ?? "mario.config", { name, cron: s.cron, timezone: s.timezone, pipeline: s.pipeline, instructions: s.instructions ?? {} });
  }
  for (const step of steps) {
    const file = (step as Partial<FunctionStep>).file;
    const raw = (step as Partial<FunctionStep>).schedule;
    if (file === undefined || raw === undefined) continue;
    const parsed = functionScheduleSchema.safeParse(raw);
    if (!parsed.success) throw new InvalidConfigError(`${file}: schedule "${step.jobType}": ${parsed.error.issues[0]?.message ?? "not a schedule"}`);
    add(file, { name: step.jobType, cron: parsed.data.cron, timezone: parsed.data.timezone, pipeline: step.jobType, instructions: parsed.data.instructions ?? {} });
  }
  return schedules;
}
