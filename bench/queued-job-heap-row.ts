/** The "memory storage per queued small job" row: runs queued-job-heap.ts in its own process. */
import { spawnReady, stopChild } from "./_children.ts";
import type { RunFigures } from "./_stats.ts";

export async function benchQueuedJobHeap(count: number): Promise<RunFigures> {
  const started = performance.now();
  const child = await spawnReady("bench/queued-job-heap.ts", [String(count)], { readyPattern: /queued-job-heap /, timeoutMs: 120_000, nodeArgs: ["--expose-gc"] });
  try {
    const line = child.lines.find((l) => l.startsWith("queued-job-heap "))!;
    const figures = JSON.parse(line.slice("queued-job-heap ".length)) as { plain: number; keyed: number };
    return {
      name: "memory storage: heap per queued job",
      jobs: count,
      seconds: (performance.now() - started) / 1000,
      jobsPerSecond: Number.NaN,
      loadP50Ms: Number.NaN,
      loadP99Ms: Number.NaN,
      idleP50Ms: Number.NaN,
      idleP99Ms: Number.NaN,
      peakRssMb: {},
      cpuUsPerJob: {},
      extra: { bytesPerJob: figures.plain, bytesPerJobWithIdempotencyKey: figures.keyed },
    };
  } finally {
    await stopChild(child);
  }
}
