import { LATENCY_BUCKETS_MS, type LatencyHistogram } from "./storage-backend.ts";

export function emptyHistogram(): LatencyHistogram {
  return { bucketsMs: LATENCY_BUCKETS_MS, counts: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0), sumMs: 0, count: 0 };
}

/** Index of the bucket an observation falls in (the last index is +Inf). */
export function bucketIndex(ms: number): number {
  const index = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
  return index < 0 ? LATENCY_BUCKETS_MS.length : index;
}

export function observe(histogram: LatencyHistogram, ms: number): void {
  const value = Math.max(0, ms);
  histogram.counts[bucketIndex(value)]! += 1;
  histogram.sumMs += value;
  histogram.count += 1;
}

/** Approximate quantile (0..1) from the buckets: the upper bound of the bucket it falls in. */
export function quantile(histogram: LatencyHistogram, q: number): number | null {
  if (histogram.count === 0) return null;
  const rank = Math.ceil(q * histogram.count);
  let seen = 0;
  for (let i = 0; i < histogram.counts.length; i++) {
    seen += histogram.counts[i]!;
    if (seen >= rank) return histogram.bucketsMs[i] ?? Number.POSITIVE_INFINITY;
  }
  return Number.POSITIVE_INFINITY;
}
