/**
 * The BullMQ side of the benchmark: the same 1-step no-op work on the same redis-server.
 * Producer here (addBulk in chunks of 1000), worker in its own process (`bullmq-worker.ts`).
 *
 * Throughput clock: from the first add to the moment a 10 ms poll of the completed count sees the
 * last job. Latency under load: per job, `finishedOn - timestamp` (both set by BullMQ). Latency with
 * one job in flight: `add` then `waitUntilFinished`, one job at a time.
 */
import { Queue, QueueEvents } from "bullmq";
import { spawnReady, stopChild, type ReadyChild } from "./_children.ts";
import { CpuMeter, cpuMs, ownCpuMs, peakRssMb, percentile, redisCpuMs, type RunFigures } from "./_stats.ts";

export async function benchBullmq(options: { redisUrl: string; jobs: number; idleJobs: number; concurrency: number; drainOnly?: boolean }): Promise<RunFigures> {
  const url = new URL(options.redisUrl);
  const connection = { host: url.hostname, port: Number(url.port) };
  const name = `bench-${Date.now()}`;
  const queue = new Queue(name, { connection });
  const events = new QueueEvents(name, { connection });
  await events.waitUntilReady();
  const drain = options.drainOnly === true;
  const worker = await spawnReady("bench/bullmq-worker.ts", [options.redisUrl, name, String(options.concurrency), drain ? "paused" : "running"]);
  try {
    if (drain) return await drainOnly(options, queue, worker);
    const idle: number[] = [];
    for (let i = 0; i < options.idleJobs; i++) {
      const started = performance.now();
      const job = await queue.add("noop", { i });
      await job.waitUntilFinished(events, 30_000);
      idle.push(performance.now() - started);
    }
    const before = (await queue.getJobCounts("completed")).completed ?? 0;
    const meter = new CpuMeter([
      ["producer", ownCpuMs],
      ["worker", () => cpuMs(worker.pid)],
      ["redis-server", () => redisCpuMs(options.redisUrl)],
    ]);
    await meter.start();
    const started = performance.now();
    for (let i = 0; i < options.jobs; i += 1000) {
      const count = Math.min(1000, options.jobs - i);
      await queue.addBulk(Array.from({ length: count }, (_, k) => ({ name: "noop", data: { i: i + k } })));
    }
    const enqueueSeconds = (performance.now() - started) / 1000;
    const deadline = Date.now() + 600_000;
    while (((await queue.getJobCounts("completed")).completed ?? 0) < before + options.jobs) {
      if (Date.now() > deadline) throw new Error("BullMQ run did not finish in 10 minutes");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuUsPerJob = await meter.stop(options.jobs);
    const load: number[] = [];
    for (let start = 0; start < options.jobs; start += 5000) {
      for (const job of await queue.getJobs(["completed"], start, start + 4999)) {
        if (job.finishedOn !== undefined && (job.data as { i?: number }).i !== undefined) load.push(job.finishedOn - job.timestamp);
      }
    }
    return {
      name: "bullmq 1-step (redis)",
      jobs: options.jobs,
      seconds,
      jobsPerSecond: options.jobs / seconds,
      loadP50Ms: percentile(load, 50),
      loadP99Ms: percentile(load, 99),
      idleP50Ms: percentile(idle, 50),
      idleP99Ms: percentile(idle, 99),
      peakRssMb: { worker: await peakRssMb(worker.pid) },
      cpuUsPerJob,
      extra: { enqueueSeconds },
    };
  } finally {
    await stopChild(worker);
    await events.close();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
}

/** Not end to end: the jobs are added while the worker waits, the clock runs from "go" to the last completion. */
async function drainOnly(options: { redisUrl: string; jobs: number }, queue: Queue, worker: ReadyChild): Promise<RunFigures> {
  for (let i = 0; i < options.jobs; i += 1000) {
    const count = Math.min(1000, options.jobs - i);
    await queue.addBulk(Array.from({ length: count }, (_, k) => ({ name: "noop", data: { i: i + k } })));
  }
  const meter = new CpuMeter([
    ["worker", () => cpuMs(worker.pid)],
    ["redis-server", () => redisCpuMs(options.redisUrl)],
  ]);
  await meter.start();
  const startedWall = Date.now();
  const started = performance.now();
  worker.child.kill("SIGUSR2");
  const deadline = Date.now() + 600_000;
  while (((await queue.getJobCounts("completed")).completed ?? 0) < options.jobs) {
    if (Date.now() > deadline) throw new Error("BullMQ drain did not finish in 10 minutes");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuUsPerJob = await meter.stop(options.jobs);
  const load: number[] = [];
  for (let start = 0; start < options.jobs; start += 5000) {
    for (const job of await queue.getJobs(["completed"], start, start + 4999)) {
      if (job.finishedOn !== undefined) load.push(job.finishedOn - startedWall);
    }
  }
  return {
    name: "dispatch only: bullmq 1-step (redis)",
    jobs: options.jobs,
    seconds,
    jobsPerSecond: options.jobs / seconds,
    loadP50Ms: percentile(load, 50),
    loadP99Ms: percentile(load, 99),
    idleP50Ms: Number.NaN,
    idleP99Ms: Number.NaN,
    peakRssMb: { worker: await peakRssMb(worker.pid) },
    cpuUsPerJob,
  };
}
