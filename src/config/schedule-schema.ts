/**
 * What a schedule may say, in mario.config (`schedules: { <name>: { cron, pipeline, instructions?,
 * timezone? } }`) and in a function file (`export const schedule = "<cron>"` or `{ cron,
 * instructions?, timezone? }`). The cron expression itself is read by croner when the project is
 * loaded (src/core/schedule.ts), so a bad one fails with its reason.
 */
import { z } from "zod";
import { isTimeZone } from "../core/schedule.ts";

export const scheduleSchema = z.strictObject(
  {
    cron: z.string({ error: "needs a cron expression (a string)" }).min(1, "needs a cron expression"),
    instructions: z.record(z.string(), z.unknown(), { error: "instructions must be a JSON object" }).optional(),
    timezone: z
      .string({ error: "timezone must be a string" })
      .refine(isTimeZone, { error: (issue) => `unknown time zone "${String(issue.input)}" (an IANA name such as Europe/Paris, or UTC)` })
      .optional(),
  },
  { error: (issue) => (issue.code === "unrecognized_keys" ? `unknown field(s) ${issue.keys.join(", ")} (a schedule has cron, instructions, timezone and, in mario.config, pipeline)` : "must be an object { cron, pipeline, instructions?, timezone? }") },
);

/** A function file's `schedule` export: a cron string, or the object without `pipeline` (it is the function's own). */
export const functionScheduleSchema = z.preprocess((value) => (typeof value === "string" ? { cron: value } : value), scheduleSchema);
