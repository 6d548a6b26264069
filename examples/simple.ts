/**
 * The original Mario's example, in the class DSL: three steps and two pipelines.
 *
 *   mario pipeline examples/simple.ts example-one --sub-bind=tcp://127.0.0.1:6000 --job-pull-bind=tcp://127.0.0.1:5050
 *   mario step examples/simple.ts generate-file --sub-connect=tcp://127.0.0.1:6000
 *   mario step examples/simple.ts delete-file --sub-connect=tcp://127.0.0.1:6000
 *   mario enqueue tcp://127.0.0.1:5050 example-one '{"size": 10}' --wait
 *
 * Storage: memory, unless REDIS_URL is set (e.g. `REDIS_URL=redis://127.0.0.1:6379 mario pipeline …`):
 * then `initialize()` chooses Redis, so queued and running jobs survive a restart of the pipeline.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pipeline, Step, type Instructions, type StepContext } from "mario-pipelines";
import { RedisStorageBackend } from "mario-pipelines/storage/redis";

export class GenerateFile extends Step {
  static override jobType = "generate-file";

  async execute(instructions: Instructions, ctx: StepContext) {
    const size = Math.max(0, Math.trunc(Number(instructions.size ?? 1024)));
    const path = join(tmpdir(), `mario-simple-${ctx.jobId}-${ctx.attempt}.bin`);
    await writeFile(path, randomBytes(size));
    return { path, size };
  }
}

export class HashFile extends Step {
  static override jobType = "calculate-hash";

  async execute(instructions: Instructions) {
    const path = String(instructions.path);
    return { ...instructions, hash: createHash("sha1").update(await readFile(path)).digest("hex") };
  }
}

export class RemoveFile extends Step {
  static override jobType = "delete-file";

  async execute(instructions: Instructions) {
    const { path, ...rest } = instructions;
    await rm(String(path), { force: true });
    return { ...rest, deleted_path: path };
  }
}

class WithOptionalRedis extends Pipeline {
  override initialize() {
    const redisUri = process.env.REDIS_URL;
    if (redisUri !== undefined && redisUri !== "") this.backend = new RedisStorageBackend(this.name, { redisUri });
  }

  override onFinished(event: { jobId: string; status: string }) {
    super.onFinished(event as never);
    console.log(`job ${event.jobId} ${event.status}`);
  }
}

export class Example1 extends WithOptionalRedis {
  static override pipelineName = "example-one";
  static override steps = [GenerateFile, RemoveFile];
}

export class HashAndClean extends WithOptionalRedis {
  static override pipelineName = "hash-and-clean";
  static override steps = [GenerateFile, HashFile, RemoveFile];
}
