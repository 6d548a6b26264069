/**
 * The Mario side of the benchmark: a no-op pipeline of 1 or 3 steps through the real ZeroMQ
 * runtime. The pipeline server runs in its own process (`_mario-server.ts`, reporting finished jobs
 * over IPC), each step in a `mario step` process, the producer here (PipelineClient).
 *
 * Throughput clock: from the first enqueue to the moment the server reports the last job finished.
 * Latency under load: per job, from the producer's send to the server's finish (same machine clock).
 * Latency with one job in flight: enqueue then `client.waitFor`, one job at a time; and `client.run`
 * (enqueue + wait as one request), one at a time (`runP50Ms`, `runP99Ms` in the row's extra figures).
 */
import { PipelineClient } from "../src/transport/pipeline-client.ts";
import { ask, forkReady, nextMessage, spawnReady, stopChild, type ReadyChild } from "./_children.ts";
import { CpuMeter, cpuMs, ownCpuMs, peakRssMb, percentile, redisCpuMs, redisScriptCalls, type RunFigures } from "./_stats.ts";

export interface MarioBenchOptions {
  name: string;
  steps: number;
  redisUrl?: string | undefined;
  jobs: number;
  idleJobs: number;
  /** Jobs run at once per step worker. */
  concurrency: number;
  /** Enqueue requests the producer keeps outstanding. */
  window: number;
  /**
   * Dispatch only: the jobs are put straight into storage while dispatching is paused, and the
   * clock runs from resume to the last completion (no client, no intake). Not end to end.
   */
  dispatchOnly?: boolean | undefined;
  /**
   * Who runs the steps: `mario step bench/noop-steps.ts` (in process, the default) or
   * `mario host bench/functions` (the no-op function file, a worker thread per slot), 1 step.
   */
  workers?: "step" | "host" | undefined;
  /** Bytes of padding in each job's instructions (`{ i, pad }`); none by default. */
  payloadBytes?: number | undefined;
  /** The server's storage `maxQueued` (unfinished jobs before BUSY); storage's default otherwise. */
  maxQueued?: number | undefined;
  /** How long the loaded phase may take before the run fails, ms (default 600 000). */
  timeoutMs?: number | undefined;
}

const JOB_TYPES = ["noop-a", "noop-b", "noop-c"];

export async function benchMario(options: MarioBenchOptions): Promise<RunFigures> {
  const pipeline = `bench-${options.steps}-${Date.now().toString(36)}`;
  const host = options.workers === "host";
  const steps = host ? ["noop"] : JOB_TYPES.slice(0, options.steps);
  const pad = options.payloadBytes === undefined ? undefined : "x".repeat(options.payloadBytes);
  const instructionsOf = (i: number): { i: number; pad?: string } => (pad === undefined ? { i } : { i, pad });
  const timeoutMs = options.timeoutMs ?? 600_000;
  const children: ReadyChild[] = [];
  const client: { current?: PipelineClient } = {};
  try {
    const server = await forkReady<{ type: string; sub: string; pull: string }>("bench/_mario-server.ts", [
      JSON.stringify({
        pipeline,
        steps,
        ...(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl }),
        ...(options.maxQueued === undefined ? {} : { maxQueued: options.maxQueued }),
      }),
    ]);
    children.push(server.ready);
    const workers = host
      ? [
          await spawnReady("mario", ["host", "bench/functions", `--sub-connect=${server.message.sub}`, `--concurrency=${options.concurrency}`], {
            readyPattern: /ready noop/,
            timeoutMs: 60_000,
          }),
        ]
      : await Promise.all(
          steps.map((jobType) =>
            spawnReady("mario", ["step", "bench/noop-steps.ts", jobType, `--sub-connect=${server.message.sub}`, `--concurrency=${options.concurrency}`], {
              readyPattern: /step worker ready/,
              env: { MARIO_LOG_LEVEL: "info", MARIO_LOG_FORMAT: "json" },
            }),
          ),
        );
    children.push(...workers);
    const c = new PipelineClient(server.message.pull, { timeoutMs: 60_000 });
    client.current = c;
    await c.connect();

    // Warm-up and one job in flight at a time (also proves every worker has joined).
    const idle: number[] = [];
    for (let i = 0; i < options.idleJobs; i++) {
      const started = performance.now();
      const [ok, job] = await c.enqueueJob({ name: pipeline, instructions: instructionsOf(i) });
      if (!ok) throw new Error(`idle enqueue refused: ${job.message}`);
      const record = await c.waitFor(job.id, { timeoutMs: 30_000 });
      if (record.status !== "succeeded") throw new Error(`idle job ${job.id} ended ${record.status}`);
      idle.push(performance.now() - started);
    }
    // The same, as one request each (client.run: enqueue + wait).
    const runs: number[] = [];
    for (let i = 0; i < options.idleJobs; i++) {
      const started = performance.now();
      const record = await c.run({ name: pipeline, instructions: instructionsOf(i), timeoutMs: 30_000 });
      if (record.status !== "succeeded") throw new Error(`idle run ${record.id} ended ${record.status}`);
      runs.push(performance.now() - started);
    }

    // Warm-up burst: every slot busy once (mario host starts a function's threads on demand).
    await Promise.all(
      Array.from({ length: Math.min(options.concurrency * 2, Math.floor((options.maxQueued ?? Number.POSITIVE_INFINITY) / 2)) }, async (_, i) => {
        const [ok, job] = await c.enqueueJob({ name: pipeline, instructions: instructionsOf(i) });
        if (!ok) throw new Error(`warm-up enqueue refused: ${job.message}`);
        await c.waitFor(job.id, { timeoutMs: 60_000 });
      }),
    );

    await ask(server.ready.child, { type: "track", count: options.jobs }, "tracking");
    const done = nextMessage<{ type: string; finished: [string, number][]; serverBusy: number }>(server.ready.child, "done", timeoutMs);
    // Rejections are read when the loaded phase is over (or the run fails earlier, in finally).
    done.catch(() => {});
    const workerName = (k: number): string => (host ? "mario host" : `step ${steps[k]}`);
    const meter = new CpuMeter([
      ["producer", ownCpuMs],
      ["server", () => cpuMs(server.ready.pid)],
      ...workers.map((w, k): [string, () => Promise<number>] => [workerName(k), () => cpuMs(w.pid)]),
      ...(options.redisUrl === undefined ? [] : [["redis-server", () => redisCpuMs(options.redisUrl!)] as [string, () => Promise<number>]]),
    ]);
    if (options.dispatchOnly === true) return await dispatchOnly(options, server.ready, workers, steps, meter);
    await meter.start();
    const scriptsBefore = options.redisUrl === undefined ? 0 : await redisScriptCalls(options.redisUrl);
    const sentAt = new Map<string, number>();
    let next = 0;
    let busy = 0;
    const startedWall = Date.now();
    const started = performance.now();
    const deadline = Date.now() + timeoutMs;
    const lane = async (): Promise<void> => {
      while (next < options.jobs) {
        const i = next++;
        for (;;) {
          if (Date.now() > deadline) throw new Error(`${options.name}: not all enqueued within ${timeoutMs} ms`);
          const sent = Date.now();
          const [ok, job] = await c.enqueueJob({ name: pipeline, instructions: instructionsOf(i) });
          if (ok) {
            sentAt.set(job.id, sent);
            break;
          }
          if (job.code !== "BUSY") throw new Error(`enqueue refused: ${job.code} ${job.message}`);
          busy++;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.window, options.jobs) }, lane));
    const enqueueSeconds = (performance.now() - started) / 1000;
    const { finished, serverBusy } = await done;
    const seconds = (performance.now() - started) / 1000;
    const cpuUsPerJob = await meter.stop(options.jobs);
    const scriptCalls = options.redisUrl === undefined ? 0 : (await redisScriptCalls(options.redisUrl)) - scriptsBefore;
    const load = finished.map(([id, at]) => at - (sentAt.get(id) ?? startedWall));

    const rss: Record<string, number> = { server: await peakRssMb(server.ready.pid) };
    for (const [k, w] of workers.entries()) rss[workerName(k)] = await peakRssMb(w.pid);
    return {
      name: options.name,
      jobs: options.jobs,
      seconds,
      jobsPerSecond: options.jobs / seconds,
      loadP50Ms: percentile(load, 50),
      loadP99Ms: percentile(load, 99),
      idleP50Ms: percentile(idle, 50),
      idleP99Ms: percentile(idle, 99),
      peakRssMb: rss,
      cpuUsPerJob,
      extra: { enqueueSeconds, busyRetries: busy, serverBusy, runP50Ms: percentile(runs, 50), runP99Ms: percentile(runs, 99), ...(options.redisUrl === undefined ? {} : { redisScriptCallsPerJob: scriptCalls / options.jobs }) },
    };
  } finally {
    client.current?.close();
    // Workers first (they hand back nothing: all done), then the server.
    await Promise.all(children.slice(1).map(stopChild));
    if (children[0] !== undefined) await stopChild(children[0]);
  }
}

async function dispatchOnly(options: MarioBenchOptions, server: ReadyChild, workers: ReadyChild[], steps: string[], meter: CpuMeter): Promise<RunFigures> {
  await ask(server.child, { type: "pause" }, "paused");
  await ask(server.child, { type: "preload", count: options.jobs }, "preloaded", 120_000);
  await ask(server.child, { type: "track", count: options.jobs }, "tracking");
  const done = nextMessage<{ type: string; finished: [string, number][] }>(server.child, "done");
  await meter.start();
  const startedWall = Date.now();
  const started = performance.now();
  server.child.send({ type: "resume" });
  const { finished } = await done;
  const seconds = (performance.now() - started) / 1000;
  const cpuUsPerJob = await meter.stop(options.jobs);
  const load = finished.map(([, at]) => at - startedWall);
  const rss: Record<string, number> = { server: await peakRssMb(server.pid) };
  for (const [k, w] of workers.entries()) rss[`step ${steps[k]}`] = await peakRssMb(w.pid);
  return {
    name: options.name,
    jobs: options.jobs,
    seconds,
    jobsPerSecond: options.jobs / seconds,
    // From resume (all jobs waiting) to each finish: how long the backlog took to reach each job.
    loadP50Ms: percentile(load, 50),
    loadP99Ms: percentile(load, 99),
    idleP50Ms: Number.NaN,
    idleP99Ms: Number.NaN,
    peakRssMb: rss,
    cpuUsPerJob,
  };
}
