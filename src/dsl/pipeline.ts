/**
 * The class DSL's pipeline: a name, its steps in order, an optional storage backend and hooks.
 *
 * ```ts
 * class Example1 extends Pipeline {
 *   static override pipelineName = "example-one";
 *   static override steps = [GenerateFile, RemoveFile];
 *   override initialize() { this.backend = new RedisStorageBackend(this.name, { redisUri: "redis://127.0.0.1:6379" }); }
 *   override onFinished(event) { super.onFinished(event); console.log(event.jobId, event.status); }
 * }
 * ```
 */
import type { JobRecord } from "../core/job.ts";
import { kebabFromClassName } from "../core/names.ts";
import type { PipelineDefinition } from "../core/pipeline-definition.ts";
import type { Dispatcher, JobFinishedEvent } from "../engine/dispatcher.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";
import { jobTypeOf, type StepClass } from "./step.ts";

export interface JobStartedEvent {
  jobId: string;
  pipeline: string;
  jobType: string;
  attempt: number;
  workerId: string;
}

export class Pipeline {
  static pipelineName?: string | undefined;
  static steps: StepClass[] = [];

  /** Set in `initialize()` to choose storage; memory when left undefined. */
  backend: StorageBackend | undefined;

  get name(): string {
    return pipelineNameOf(this.constructor as typeof Pipeline);
  }

  get definition(): PipelineDefinition {
    return { name: this.name, steps: (this.constructor as typeof Pipeline).steps.map(jobTypeOf) };
  }

  /** Called once before the pipeline starts: choose `this.backend` here. */
  initialize(): void | Promise<void> {}

  /** A job's first step started. */
  onStarted(_event: JobStartedEvent): void {}

  /** A job ended: succeeded or dead. */
  onFinished(_event: JobFinishedEvent): void {}

  /** The finished job's full record. */
  handleFinishedJob(_job: JobRecord): void | Promise<void> {}

  /** Wires the hooks to a dispatcher's events. */
  attach(dispatcher: Dispatcher): () => void {
    const offStarted = dispatcher.events.on("job:started", (event) => {
      if (event.pipeline === this.name && event.attempt === 1) this.onStarted(event);
    });
    const offFinished = dispatcher.events.on("job:finished", (event) => {
      if (event.pipeline !== this.name) return;
      this.onFinished(event);
      void dispatcher
        .get(event.jobId)
        .then((job) => (job === undefined ? undefined : this.handleFinishedJob(job)))
        .catch(() => {});
    });
    return () => {
      offStarted();
      offFinished();
    };
  }
}

export type PipelineClass = typeof Pipeline;

export function isPipelineClass(value: unknown): value is PipelineClass {
  return typeof value === "function" && (value === Pipeline || value.prototype instanceof Pipeline);
}

export function pipelineNameOf(cls: PipelineClass): string {
  return cls.pipelineName ?? kebabFromClassName(cls.name);
}
