/**
 * HTTP rows of the benchmark, all against the no-op function file (bench/functions/noop.ts):
 *
 * - `mario up bench/functions` (memory or `--redis`): `POST /pipelines/noop/jobs` at `connections`
 *   connections (autocannon); the clock and the CPU meter run until the last job has finished
 *   (GET /pipelines), so the figure is what a user's `mario up` spends per job: gateway, storage,
 *   dispatch and the function's worker thread, in one process.
 * - the bare Hono baseline (bench/baselines/hono-enqueue.ts): the same POST doing only the storage
 *   enqueue (nothing runs the jobs).
 * - `?wait` with one request in flight: `POST /pipelines/noop/jobs?wait=10000` on `mario up`
 *   against the baseline's `POST /run/noop`, which calls the same function in process.
 */
import { postLoad, postOneAtATime } from "./_http-load.ts";
import { spawnReady, stopChild, type ReadyChild } from "./_children.ts";
import { CpuMeter, cpuMs, peakRssMb, redisCpuMs, type RunFigures } from "./_stats.ts";

export interface HttpBenchOptions {
  name: string;
  target: "up" | "hono";
  redisUrl?: string | undefined;
  /** Requests of the loaded phase. */
  jobs: number;
  connections: number;
  /** Requests measured one at a time (`?wait` rows; warm-up of the others). */
  idleJobs: number;
  /** `?wait` one-in-flight row instead of the loaded POST. */
  wait?: boolean | undefined;
}

const BODY = JSON.stringify({ i: 1 });

export async function benchHttp(options: HttpBenchOptions): Promise<RunFigures> {
  const server = await startTarget(options);
  try {
    const url = urlOf(server);
    const meterSources: [string, () => Promise<number>][] = [[options.target === "up" ? "mario up" : "hono", () => cpuMs(server.pid)]];
    if (options.redisUrl !== undefined) meterSources.push(["redis-server", () => redisCpuMs(options.redisUrl!)]);
    const meter = new CpuMeter(meterSources);
    // The server's main thread apart (in mario up: gateway + engine, not the function threads).
    const mainThread = new CpuMeter([["main thread", () => cpuMs(server.pid, true)]]);
    const postUrl = options.target === "up" ? `${url}pipelines/noop/jobs` : `${url}${options.wait === true ? "run" : "pipelines"}/noop${options.wait === true ? "" : "/jobs"}`;
    if (options.wait === true) {
      const waitUrl = options.target === "up" ? `${postUrl}?wait=10000` : postUrl;
      await postOneAtATime(waitUrl, BODY, 20, 10_000, checkWaited(options.target));
      await meter.start();
      const started = performance.now();
      const one = await postOneAtATime(waitUrl, BODY, options.idleJobs, 10_000, checkWaited(options.target));
      const seconds = (performance.now() - started) / 1000;
      return await figures(options, seconds, options.idleJobs, await meter.stop(options.idleJobs), { p50Ms: Number.NaN, p99Ms: Number.NaN }, one, server);
    }
    // Warm-up: a burst at full width first (mario up starts a function's threads on demand: a
    // cold burst of 50 waits for them), its errors not counted; then the measured run must be all 2xx.
    await postOneAtATime(postUrl, BODY, Math.min(options.idleJobs, 100));
    const warm = await postLoad(postUrl, BODY, options.connections * 10, options.connections, 30);
    if (warm.ok < warm.requests) process.stderr.write(`bench: ${options.name}: warm-up burst: ${warm.ok} of ${warm.requests} answered 2xx (${warm.errors} errors, ${warm.non2xx} not 2xx${warm.firstRefusal === undefined ? "" : `, first: ${warm.firstRefusal}`})\n`);
    const before = options.target === "up" ? await untilSettled(url, 60_000) : 0;
    await Promise.all([meter.start(), mainThread.start()]);
    const started = performance.now();
    const load = await postLoad(postUrl, BODY, options.jobs, options.connections);
    // A few refusals (503 when storage is slow to answer) are counted and shown; most must pass.
    if (load.ok < options.jobs / 2) throw new Error(`${options.name}: ${load.ok} of ${options.jobs} POSTs answered 2xx (statuses ${JSON.stringify(load.statuses)}, ${load.errors} errors)`);
    if (options.target === "up") await untilSucceeded(url, before + load.ok, 120_000);
    const seconds = (performance.now() - started) / 1000;
    const [cpu, main] = await Promise.all([meter.stop(options.jobs), mainThread.stop(options.jobs)]);
    if (load.firstRefusal !== undefined) process.stderr.write(`bench: ${options.name}: ${load.non2xx} not 2xx, first: ${load.firstRefusal}\n`);
    const refused = Object.fromEntries(Object.entries(load.statuses).filter(([code]) => !code.startsWith("2")).map(([code, n]) => [`status${code}`, n]));
    return await figures(options, seconds, options.jobs, cpu, load, { p50Ms: Number.NaN, p99Ms: Number.NaN }, server, {
      mainThreadUsPerJob: main["main thread"] ?? Number.NaN,
      postSeconds: load.seconds,
      postsPerSecond: options.jobs / load.seconds,
      errors: load.errors,
      ...refused,
    });
  } finally {
    await stopChild(server);
  }
}

function figures(
  options: HttpBenchOptions,
  seconds: number,
  jobs: number,
  cpuUsPerJob: Record<string, number>,
  load: { p50Ms: number; p99Ms: number },
  one: { p50Ms: number; p99Ms: number },
  server: ReadyChild,
  extra: Record<string, number> = {},
): Promise<RunFigures> {
  return peakRssMb(server.pid).then((rss) => ({
    name: options.name,
    jobs,
    seconds,
    jobsPerSecond: jobs / seconds,
    loadP50Ms: load.p50Ms,
    loadP99Ms: load.p99Ms,
    idleP50Ms: one.p50Ms,
    idleP99Ms: one.p99Ms,
    peakRssMb: { [options.target === "up" ? "mario up" : "hono"]: rss },
    cpuUsPerJob,
    extra,
  }));
}

function startTarget(options: HttpBenchOptions): Promise<ReadyChild> {
  if (options.target === "hono") {
    return spawnReady("bench/baselines/hono-enqueue.ts", [JSON.stringify(options.redisUrl === undefined ? {} : { redisUrl: options.redisUrl })], { readyPattern: /hono baseline ready/ });
  }
  const redis = options.redisUrl === undefined ? [] : [`--redis=${options.redisUrl}`, `--namespace=bench-up-${Date.now().toString(36)}`];
  return spawnReady("mario", ["up", "bench/functions", "--port=0", ...redis], { readyPattern: /mario is up on/, timeoutMs: 60_000, env: { BENCH_FN_CONCURRENCY: "64" } });
}

function urlOf(server: ReadyChild): string {
  for (const line of server.lines) {
    const match = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
    if (match !== null) return match[1]!;
  }
  throw new Error(`no URL in the server's output:\n${server.lines.join("\n")}`);
}

/** `?wait` must answer the finished job (mario up) or the function's output (baseline). */
function checkWaited(target: "up" | "hono"): (text: string) => void {
  return (text) => {
    const body = JSON.parse(text) as { status?: string; i?: number };
    if (target === "up" ? body.status !== "succeeded" : body.i !== 1) throw new Error(`?wait answered ${text.slice(0, 200)}`);
  };
}

async function succeeded(url: string): Promise<number> {
  const response = await fetch(`${url}pipelines`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { pipelines: { name: string; succeeded: number }[] };
  return body.pipelines.find((p) => p.name === "noop")?.succeeded ?? 0;
}

/** Waits until every accepted job has finished (the warm-up's); answers the succeeded count. */
async function untilSettled(url: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}pipelines`, { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json()) as { pipelines: { name: string; accepted: number; succeeded: number; dead: number }[] };
    const p = body.pipelines.find((q) => q.name === "noop");
    if (p !== undefined && p.accepted === p.succeeded + p.dead) return p.succeeded;
    if (Date.now() > deadline) throw new Error(`warm-up jobs not all finished within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function untilSucceeded(url: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await succeeded(url)) < count) {
    if (Date.now() > deadline) throw new Error(`jobs not all finished within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
