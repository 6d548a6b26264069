/**
 * `mario up [dir]`: everything in one process: the pipelines of mario.config, every function of
 * functions/ (each also a one-step pipeline), on memory storage.
 */
import { defineCommand } from "citty";
import { loadProject } from "../../config/load-project.ts";
import { LocalRunner } from "../../engine/local-runner.ts";
import { createLogger } from "../../log/logger.ts";
import { untilShutdownSignal } from "../_shutdown.ts";

export default defineCommand({
  meta: { name: "up", description: "Run pipelines, functions, gateway and dashboard in one process" },
  args: {
    dir: { type: "positional", required: false, description: "project root (with mario.config.*) or a functions folder; default: current folder" },
  },
  async run({ args }) {
    const logger = createLogger({ format: "pretty" });
    const project = await loadProject(args.dir);
    for (const problem of project.problems) logger.warn(problem.message);
    const runner = new LocalRunner({ pipelines: project.pipelines, steps: project.steps, logger });
    runner.dispatcher.events.on("step:finished", (e) => {
      logger.info(`${e.pipeline} ${e.jobType} ${e.ok ? "ok" : "failed"}`, { job: e.jobId, attempt: e.attempt, ms: e.durationMs, ...(e.error ? { error: e.error.message } : {}) });
    });
    runner.dispatcher.events.on("job:finished", (e) => {
      logger.info(`${e.pipeline} job ${e.status}`, { job: e.jobId, ...(e.status === "succeeded" ? { result: e.result } : { error: e.error?.message }) });
    });
    await runner.start();
    logger.info(`mario is up: pipelines ${project.pipelines.map((p) => `${p.name} [${p.steps.join(" → ")}]`).join(", ")}`);
    const signal = await untilShutdownSignal();
    logger.info(`${signal}: shutting down`);
    await runner.stop();
    return 0;
  },
});
