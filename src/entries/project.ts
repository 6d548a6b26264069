/**
 * `mario-pipelines/project`: what `mario up` and `mario host` serve, loaded in your own process:
 * the pipelines of a mario.config.*, a functions folder (each file bundled with esbuild) or a
 * class-DSL module. Loads esbuild.
 *
 * ```ts
 * import { LocalRunner } from "mario-pipelines";
 * import { loadProject } from "mario-pipelines/project";
 * const { pipelines, steps } = await loadProject("."); // ./mario.config.ts, else ./functions
 * const runner = new LocalRunner({ pipelines, steps });
 * ```
 */
export { loadProject } from "../config/load-project.ts";
export type { Project } from "../config/load-project.ts";
