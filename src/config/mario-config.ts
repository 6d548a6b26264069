/**
 * `mario.config.ts` (or .mts, .js, .mjs, .json) at the project root:
 *
 * ```ts
 * export default {
 *   functions: "functions",
 *   pipelines: { "example-one": ["generate-file", "delete-file"] },
 *   schedules: { nightly: { cron: "0 3 * * *", pipeline: "example-one", instructions: { size: 10 }, timezone: "Europe/Paris" } },
 * };
 * ```
 */
import { z } from "zod";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";
import { scheduleSchema } from "./schedule-schema.ts";

export const CONFIG_FILES: readonly string[] = ["mario.config.ts", "mario.config.mts", "mario.config.js", "mario.config.mjs", "mario.config.json"];

const configSchema = z.object({
  /** Functions folder, relative to the config file. Default "functions". */
  functions: z.string().min(1).default("functions"),
  pipelines: z.record(z.string(), z.array(z.string()).min(1)).default({}),
  /** Cron schedules by name: each tick enqueues one job into `pipeline` (see ./schedule-schema.ts). */
  schedules: z.record(z.string(), scheduleSchema.extend({ pipeline: z.string({ error: "needs a pipeline (a string)" }).min(1, "needs a pipeline") })).default({}),
});

export type MarioConfig = z.infer<typeof configSchema>;
export type MarioConfigInput = z.input<typeof configSchema>;

export function defineConfig(config: MarioConfigInput): MarioConfigInput {
  return config;
}

export function parseConfig(file: string, raw: unknown): MarioConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue?.path[0] === "schedules" && issue.path.length >= 2) {
      throw new InvalidConfigError(`${file}: schedule "${String(issue.path[1])}": ${issue.message}`);
    }
    const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
    throw new InvalidConfigError(`${file}: invalid configuration${where}: ${issue?.message ?? "unknown problem"}`);
  }
  return result.data;
}

export function looksLikeConfig(value: unknown): boolean {
  return typeof value === "object" && value !== null && ("pipelines" in value || "functions" in value || "schedules" in value);
}
