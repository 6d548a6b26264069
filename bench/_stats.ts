/** Small statistics helpers for the benchmark. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Peak resident set size of a process in MiB (Linux VmHWM), or NaN when unreadable. */
export async function peakRssMb(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /VmHWM:\s+(\d+) kB/.exec(status);
    return match === null ? Number.NaN : Math.round(Number(match[1]) / 1024);
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (user + system) a process has used so far, in ms (Linux /proc), or NaN when unreadable.
 * `mainThread`: only its main thread's (node's event loop: in `mario up`, the gateway and the
 * engine, without the function threads, GC helpers and libuv's pool).
 */
export async function cpuMs(pid: number, mainThread = false): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  try {
    const stat = await readFile(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** CPU time of redis-server so far, ms (INFO cpu). */
export async function redisCpuMs(redisUrl: string): Promise<number> {
  const { Redis } = await import("ioredis");
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const info = await client.info("cpu");
    const read = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
    return (read("used_cpu_user") + read("used_cpu_sys")) * 1000;
  } finally {
    client.disconnect();
  }
}

/** Script calls (EVALSHA/EVAL/FCALL) redis-server has answered so far: the benchmark's round trips. */
export async function redisScriptCalls(redisUrl: string): Promise<number> {
  const { Redis } = await import("ioredis");
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const info = await client.info("commandstats");
    let calls = 0;
    for (const match of info.matchAll(/cmdstat_(evalsha|eval|fcall|evalsha_ro|eval_ro):calls=(\d+)/g)) calls += Number(match[2]);
    return calls;
  } finally {
    client.disconnect();
  }
}

/** Measures CPU used by named processes across a phase: `start()` then `stop(jobs)` → µs per job. */
export class CpuMeter {
  readonly #sources: [string, () => Promise<number>][];
  #before: number[] = [];

  constructor(sources: [string, () => Promise<number>][]) {
    this.#sources = sources;
  }

  async start(): Promise<void> {
    this.#before = await Promise.all(this.#sources.map(([, read]) => read()));
  }

  async stop(jobs: number): Promise<Record<string, number>> {
    const after = await Promise.all(this.#sources.map(([, read]) => read()));
    const perJob: Record<string, number> = {};
    this.#sources.forEach(([name], i) => {
      perJob[name] = round(((after[i]! - this.#before[i]!) * 1000) / jobs, 1);
    });
    perJob.total = round(Object.values(perJob).reduce((a, b) => a + b, 0), 1);
    return perJob;
  }
}

/** CPU of this process so far, ms. */
export function ownCpuMs(): Promise<number> {
  const usage = process.cpuUsage();
  return Promise.resolve((usage.user + usage.system) / 1000);
}

export interface RunFigures {
  name: string;
  /** The row's BENCH_ONLY key (set by run.ts). */
  key?: string | undefined;
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  /** Latency from enqueue to finish, under load. */
  loadP50Ms: number;
  loadP99Ms: number;
  /** Latency with one job in flight at a time. */
  idleP50Ms: number;
  idleP99Ms: number;
  peakRssMb: Record<string, number>;
  /** CPU time per job during the loaded phase, µs, per process (and their total). */
  cpuUsPerJob: Record<string, number>;
  /** Anything else worth keeping (enqueue time, busy answers). */
  extra?: Record<string, number> | undefined;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
