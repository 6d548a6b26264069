/**
 * The native client (`PipelineClient` from mario-pipelines/client): enqueue a job on a pipeline
 * server over ZeroMQ, wait for its final record, print its status and result. Start the seed's
 * pipeline and steps first (see examples/simple.ts), then, in this repository (the condition makes
 * "mario-pipelines" resolve to the sources, no build needed):
 *
 *   node --import tsx --conditions=mario-source examples/client.ts [address] [pipeline] ['<json instructions>']
 *   node --import tsx --conditions=mario-source examples/client.ts tcp://127.0.0.1:5050 example-one '{"size": 10}'   # the defaults
 *
 * In your own project, with mario-pipelines installed, the same file runs with `node` once compiled,
 * or with any TypeScript runner.
 *
 * Exit code 0 when the job succeeded; 1 when it was refused, ended dead or got no answer.
 */
import { PipelineClient, type EnqueueJobResult } from "mario-pipelines/client";

const [address = "tcp://127.0.0.1:5050", pipeline = "example-one", json = '{"size": 10}'] = process.argv.slice(2);

/** How often a BUSY answer is tried, and how long to wait between tries (ms). */
const BUSY_TRIES = 5;
const BUSY_PAUSE_MS = 1000;

// timeoutMs: a request the server does not answer within 5 s fails (NoAnswerError).
const client = new PipelineClient(address, { timeoutMs: 5_000 });

/**
 * enqueueJob does not throw when the server refuses a job: it answers [false, { code, message }].
 * BUSY means the pipeline's buffer is full ("busy, try again later") and nothing was queued, so
 * trying again later is safe.
 */
async function enqueue(instructions: unknown): Promise<EnqueueJobResult> {
  for (let tries = 1; ; tries++) {
    const answer = await client.enqueueJob({ name: pipeline, instructions });
    const [ok, payload] = answer;
    if (ok || payload.code !== "BUSY" || tries === BUSY_TRIES) return answer;
    await new Promise((resolve) => setTimeout(resolve, BUSY_PAUSE_MS));
  }
}

try {
  const instructions: unknown = JSON.parse(json);
  await client.connect();
  const [ok, payload] = await enqueue(instructions);
  if (!ok) {
    // BUSY after every try, UNKNOWN_PIPELINE (the message names the pipelines the server serves)
    // or INVALID_INSTRUCTIONS (not a JSON object).
    console.error(`refused: ${payload.code}: ${payload.message}`);
    process.exitCode = 1;
  } else {
    console.log(`enqueued job ${payload.id} on ${payload.pipeline}`);
    // Resolves with the final record (succeeded or dead); rejects if it is not final within 30 s.
    const job = await client.waitFor(payload.id, { timeoutMs: 30_000 });
    console.log(`status: ${job.status}`);
    if (job.status === "succeeded") console.log(`result: ${JSON.stringify(job.result)}`);
    else {
      console.log(`error: ${job.error?.code ?? job.error?.name ?? "?"}: ${job.error?.message ?? ""}`);
      process.exitCode = 1;
    }
  }
} catch (error) {
  // Bad JSON in argv, no answer from the address (NoAnswerError), a wait that timed out (RemoteError).
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
} finally {
  client.close();
  await client.closed();
}
