/**
 * `mario enqueue <address> <pipeline-name> ['<json>'] [--wait] [--timeout=ms] [--delay=ms | --run-at=ISO] [--priority=n]`
 *
 * Sends one job to a pipeline server (or a streamer) and prints its id; with `--wait`, prints the
 * final job record as JSON (exit 1 if the job ended dead), asked as one request (`runJob`). Bad JSON, an unknown pipeline, a busy
 * pipeline, a bad delay or priority (checked by the server, as over HTTP) or no answer within the
 * timeout: one line on stderr ending in its code, exit 1.
 */
import { defineCommand } from "citty";
import { InvalidInstructionsError } from "../../core/errors/invalid-instructions-error.ts";
import { PipelineClient } from "../../transport/pipeline-client.ts";
import { errorFromCode } from "../../core/errors/error-from-code.ts";
import { WaitTimeoutError } from "../../core/errors/wait-timeout-error.ts";
import { curveClientFlags, curveFrom } from "../_curve-flags.ts";
import { wholeNumberFlag } from "../_flags.ts";

export default defineCommand({
  meta: { name: "enqueue", description: "Enqueue a job on a pipeline server and print its id (or, with --wait, its final record)" },
  args: {
    address: { type: "positional", required: true, description: "the pipeline's --job-pull-bind address (or a streamer's --pull), e.g. tcp://127.0.0.1:5050" },
    pipeline: { type: "positional", required: true, description: "pipeline name" },
    instructions: { type: "positional", required: false, description: "instructions as a JSON object (default {})" },
    wait: { type: "boolean", description: "wait for the job to finish and print its record" },
    timeout: { type: "string", description: "give up after this many ms (default 10000; with --wait 300000)" },
    "idempotency-key": { type: "string", description: "same key, same job: a repeat enqueue answers the existing job" },
    delay: { type: "string", description: "start no sooner than this many ms from now (0 to 2592000000, 30 days)" },
    "run-at": { type: "string", description: "start no sooner than this time: ISO 8601 with a zone (2026-12-01T10:00:00Z) or epoch ms" },
    priority: { type: "string", description: "0 (default) to 9: higher runs first, at every step" },
    ...curveClientFlags,
  },
  async run({ args }) {
    let instructions: unknown;
    try {
      instructions = JSON.parse(args.instructions ?? "{}");
    } catch (error) {
      throw new InvalidInstructionsError(`instructions are not valid JSON: ${(error as Error).message}`);
    }
    const timeoutMs = wholeNumberFlag(args.timeout, "--timeout", 1) ?? (args.wait === true ? 300_000 : 10_000);
    const client = new PipelineClient(args.address, { timeoutMs: Math.min(timeoutMs, 10_000), curve: curveFrom(args) });
    try {
      await client.connect();
      const request = {
        name: args.pipeline, instructions, idempotencyKey: args["idempotency-key"],
        delayMs: args.delay, runAt: args["run-at"], priority: args.priority,
      };
      if (args.wait === true) {
        // Enqueue and wait as one request (an older server: enqueue, then wait).
        const answer = await client.runJob({ ...request, timeoutMs });
        if (answer.status === "refused") throw errorFromCode(answer.error.code, `${answer.error.message} (${answer.error.code})`);
        if (answer.status === "pending") throw new WaitTimeoutError(`job ${answer.job.id} is still ${answer.job.status} after ${timeoutMs} ms`);
        process.stdout.write(JSON.stringify(answer.job, null, 2) + "\n");
        return answer.job.status === "succeeded" ? 0 : 1;
      }
      const [ok, payload] = await client.enqueueJob(request);
      // The server's refusal, with its code: the same code and message as POST /pipelines/:name/jobs.
      if (!ok) throw errorFromCode(payload.code, `${payload.message} (${payload.code})`);
      process.stdout.write(payload.id + "\n");
      return 0;
    } finally {
      client.close();
    }
  },
});
