/**
 * No-op steps for the benchmark, served by `mario step bench/noop-steps.ts <job-type>`: each
 * returns its input unchanged (an object, so a 3-step pipeline goes on to the next step).
 */
import { Step, type Instructions } from "../src/index.ts";

class Noop extends Step {
  static override config = { concurrency: Number(process.env.BENCH_CONCURRENCY ?? 64), timeoutMs: 30_000 };

  execute(instructions: Instructions) {
    return instructions;
  }
}

export class NoopA extends Noop {
  static override jobType = "noop-a";
}
export class NoopB extends Noop {
  static override jobType = "noop-b";
}
export class NoopC extends Noop {
  static override jobType = "noop-c";
}
