/**
 * `mario.config.ts` (or .mts, .js, .mjs, .json) at the project root:
 *
 * ```ts
 * export default {
 *   functions: "functions",
 *   pipelines: { "example-one": ["generate-file", "delete-file"] },
 * };
 * ```
 */
import { z } from "zod";
import { InvalidConfigError } from "../core/errors/invalid-config-error.ts";

export const CONFIG_FILES: readonly string[] = ["mario.config.ts", "mario.config.mts", "mario.config.js", "mario.config.mjs", "mario.config.json"];

const configSchema = z.object({
  /** Functions folder, relative to the config file. Default "functions". */
  functions: z.string().min(1).default("functions"),
  pipelines: z.record(z.string(), z.array(z.string()).min(1)).default({}),
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
    const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
    throw new InvalidConfigError(`${file}: invalid configuration${where}: ${issue?.message ?? "unknown problem"}`);
  }
  return result.data;
}

export function looksLikeConfig(value: unknown): boolean {
  return typeof value === "object" && value !== null && ("pipelines" in value || "functions" in value);
}
