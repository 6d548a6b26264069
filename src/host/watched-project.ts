/**
 * What `mario up --watch` runs: the functions of a project hosted in worker threads for a
 * dispatcher in this process (FunctionHost + serveInProcess), with the dispatcher's pipelines kept
 * in line with the files and with `mario.config`: a changed function is swapped in without
 * dropping in-flight jobs, an added one becomes a one-step pipeline, a deleted one leaves, and an
 * edit of mario.config adds, changes or removes declared pipelines.
 *
 * ```ts
 * const project = new WatchedProject({ dispatcher: runner.dispatcher, functionsDir: "functions", configFile: "mario.config.ts" });
 * project.events.on("problem", (p) => console.error(p.message));
 * await project.start();
 * await project.stop(5000);
 * ```
 *
 * A declared pipeline naming a job type no file serves (its file deleted or broken) is left out
 * until the type is back, with a problem reported once.
 */
import { MarioError } from "../core/errors/mario-error.ts";
import { withSingleStepPipelines, type PipelineDefinition } from "../core/pipeline-definition.ts";
import { TypedEmitter } from "../core/typed-emitter.ts";
import type { Dispatcher } from "../engine/dispatcher.ts";
import { silentLogger, type Logger } from "../log/logger.ts";
import { readDeclaredPipelines } from "../config/load-project.ts";
import { FunctionHost, type FunctionHostEvents, type FunctionHostOptions } from "./function-host.ts";
import { serveInProcess } from "./serve-in-process.ts";
import { watchFolder } from "./watch-folder.ts";

export interface WatchedProjectEvents extends FunctionHostEvents {
  /** The pipelines served changed (a file or mario.config changed). */
  pipelines: [pipelines: readonly PipelineDefinition[]];
}

/** The functions' settings are FunctionHost's. */
export interface WatchedProjectOptions extends Pick<FunctionHostOptions, "overrides" | "threads" | "debounceMs" | "logger"> {
  dispatcher: Dispatcher;
  functionsDir: string;
  /** The project's mario.config.*, watched too. None for a bare functions folder. */
  configFile?: string | undefined;
}

export class WatchedProject {
  readonly events: TypedEmitter<WatchedProjectEvents>;
  readonly #options: WatchedProjectOptions;
  readonly #host: FunctionHost;
  readonly #logger: Logger;
  #declared: readonly PipelineDefinition[] = [];
  #lastConfigProblem: string | undefined;
  #lastMissing = "";
  #stopConfigWatch: (() => Promise<void>) | undefined;
  #updating: Promise<void> = Promise.resolve();

  constructor(options: WatchedProjectOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.events = new TypedEmitter((error) => this.#logger.error("event listener failed", { error: String(error) }));
    this.#host = new FunctionHost({
      dir: options.functionsDir,
      serve: serveInProcess(options.dispatcher, this.#logger),
      overrides: options.overrides,
      threads: options.threads,
      watch: true,
      debounceMs: options.debounceMs,
      logger: this.#logger,
    });
    // Reported once the pipelines match: an added function can be called when "ready" is seen.
    this.#host.events.on("ready", (fn, reloaded) => void this.#update().then(() => this.events.emit("ready", fn, reloaded)));
    this.#host.events.on("removed", (fn) => void this.#update().then(() => this.events.emit("removed", fn)));
    this.#host.events.on("problem", (problem) => this.events.emit("problem", problem));
  }

  /** Loads the config and every function, serves them; resolves once watching. */
  async start(): Promise<void> {
    if (this.#options.configFile !== undefined) this.#declared = await readDeclaredPipelines(this.#options.configFile);
    await this.#host.start();
    await this.#update();
    const configFile = this.#options.configFile;
    if (configFile !== undefined) {
      this.#stopConfigWatch = await watchFolder(configFile, () => void this.#reloadConfig(configFile), {
        debounceMs: this.#options.debounceMs,
        onError: (error) => this.#logger.warn("watching the config failed", { error: String(error) }),
      });
    }
  }

  /** Stops watching; in-flight jobs get `graceMs` to finish. */
  async stop(graceMs = 5000): Promise<void> {
    await this.#stopConfigWatch?.();
    await this.#host.stop(graceMs);
    await this.#updating;
  }

  async #reloadConfig(file: string): Promise<void> {
    try {
      this.#declared = await readDeclaredPipelines(file);
      this.#lastConfigProblem = undefined;
      await this.#update();
    } catch (error) {
      const message = `${error instanceof MarioError ? error.message : `${file}: ${(error as Error).message}`}\n(the previous pipelines keep running)`;
      if (message === this.#lastConfigProblem) return;
      this.#lastConfigProblem = message;
      this.events.emit("problem", { file, message });
    }
  }

  /** Serves the declared pipelines whose job types are all hosted, and every function alone. */
  #update(): Promise<void> {
    this.#updating = this.#updating.then(async () => {
      const jobTypes = this.#host.functions().map((fn) => fn.jobType);
      const complete = this.#declared.filter((p) => p.steps.every((step) => jobTypes.includes(step)));
      const missing = this.#declared.filter((p) => !complete.includes(p)).map((p) => `${p.name} (needs ${p.steps.filter((s) => !jobTypes.includes(s)).join(", ")})`);
      const missingText = missing.join("; ");
      if (missingText !== this.#lastMissing && missingText !== "") {
        this.events.emit("problem", { file: this.#options.configFile ?? this.#options.functionsDir, message: `pipelines left out until their functions load: ${missingText}` });
      }
      this.#lastMissing = missingText;
      const pipelines = withSingleStepPipelines(complete, jobTypes);
      const before = JSON.stringify(this.#options.dispatcher.pipelines);
      if (JSON.stringify(pipelines) === before) return;
      await this.#options.dispatcher.setPipelines(pipelines);
      this.events.emit("pipelines", pipelines);
    }).catch((error: unknown) => this.#logger.error("updating pipelines failed", { error: String(error) }));
    return this.#updating;
  }
}
