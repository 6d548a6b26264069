/**
 * Throughput over the last minutes, for the dashboard's sparklines: counts of finished step
 * attempts (ok / failed) per pipeline and job type, and of finished jobs (succeeded / dead) per
 * pipeline, in fixed time buckets kept in a ring. Fed from cluster events; no timer.
 */
import type { Cluster } from "../../engine/cluster.ts";

/** Bucket width, ms. */
export const THROUGHPUT_BUCKET_MS = 5_000;
/** Buckets kept: 60 × 5 s = the last 5 minutes. */
export const THROUGHPUT_BUCKETS = 60;

interface Ring {
  ok: number[];
  failed: number[];
  /** Bucket number (epoch ms / bucket width) of the newest slot written. */
  head: number;
}

export interface ThroughputSeries {
  pipeline: string;
  /** Omitted for a pipeline's finished jobs (ok = succeeded, failed = dead). */
  jobType?: string | undefined;
  ok: number[];
  failed: number[];
}

export interface ThroughputView {
  bucketMs: number;
  /** Epoch ms at which the last bucket of every series starts. */
  endAt: number;
  series: ThroughputSeries[];
}

export class ThroughputRecorder {
  readonly #rings = new Map<string, Ring>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Starts counting the cluster's finished steps and jobs; returns the way to stop. */
  attach(cluster: Cluster): () => void {
    const offStep = cluster.events.on("step:finished", (e) => this.record(e.pipeline, e.jobType, e.ok));
    const offJob = cluster.events.on("job:finished", (e) => this.record(e.pipeline, undefined, e.status === "succeeded"));
    return () => {
      offStep();
      offJob();
    };
  }

  record(pipeline: string, jobType: string | undefined, ok: boolean): void {
    const key = `${pipeline}\u0000${jobType ?? ""}`;
    const bucket = Math.floor(this.#now() / THROUGHPUT_BUCKET_MS);
    let ring = this.#rings.get(key);
    if (ring === undefined) {
      ring = { ok: new Array<number>(THROUGHPUT_BUCKETS).fill(0), failed: new Array<number>(THROUGHPUT_BUCKETS).fill(0), head: bucket };
      this.#rings.set(key, ring);
    }
    advance(ring, bucket);
    if (bucket <= ring.head - THROUGHPUT_BUCKETS) return; // older than the window (clock went back)
    const slot = bucket % THROUGHPUT_BUCKETS;
    if (ok) ring.ok[slot]! += 1;
    else ring.failed[slot]! += 1;
  }

  /** Every series, oldest bucket first, the last one being the current bucket. */
  view(): ThroughputView {
    const bucket = Math.floor(this.#now() / THROUGHPUT_BUCKET_MS);
    const series: ThroughputSeries[] = [];
    for (const [key, ring] of this.#rings) {
      advance(ring, bucket);
      const [pipeline = "", jobType = ""] = key.split("\u0000");
      const ok: number[] = [];
      const failed: number[] = [];
      for (let b = bucket - THROUGHPUT_BUCKETS + 1; b <= bucket; b++) {
        const slot = ((b % THROUGHPUT_BUCKETS) + THROUGHPUT_BUCKETS) % THROUGHPUT_BUCKETS;
        ok.push(ring.ok[slot]!);
        failed.push(ring.failed[slot]!);
      }
      series.push({ pipeline, ...(jobType === "" ? {} : { jobType }), ok, failed });
    }
    return { bucketMs: THROUGHPUT_BUCKET_MS, endAt: bucket * THROUGHPUT_BUCKET_MS, series };
  }
}

/** Moves the ring's head to `bucket`, zeroing the slots skipped over. */
function advance(ring: Ring, bucket: number): void {
  if (bucket <= ring.head) return;
  const steps = Math.min(THROUGHPUT_BUCKETS, bucket - ring.head);
  for (let i = 1; i <= steps; i++) {
    const slot = (ring.head + i) % THROUGHPUT_BUCKETS;
    ring.ok[slot] = 0;
    ring.failed[slot] = 0;
  }
  ring.head = bucket;
}
