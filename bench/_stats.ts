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

export interface RunFigures {
  name: string;
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
  /** Anything else worth keeping (enqueue time, busy answers). */
  extra?: Record<string, number> | undefined;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
