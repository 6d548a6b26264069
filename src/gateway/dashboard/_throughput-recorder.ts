/**
 * Throughput over the last minutes, for the dashboard's sparklines: counts of finished step
 * attempts (ok / failed) per pipeline and job type, and of finished jobs (succeeded / dead) per
 * pipeline, in fixed time buckets kept in a ring. No timer. Fed from cluster events where the
 * cluster reports every step; otherwise (a gateway in front of remote pipeline servers) from the
 * growth of the storage counters between two reads of the stats.
 */
import type { Cluster } from "../../engine/cluster.ts";
import type { PipelineStats } from "../../storage/storage-backend.ts";

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
  /** Counter totals at the last `observeTotals`, by series key. */
  #totals = new Map<string, { ok: number; failed: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Counts the cluster's finished steps and jobs from its events, if it reports them. */
  attach(cluster: Cluster): void {
    if (!cluster.reportsSteps) return;
    cluster.events.on("step:finished", (e) => this.record(e.pipeline, e.jobType, e.ok));
    cluster.events.on("job:finished", (e) => this.record(e.pipeline, undefined, e.status === "succeeded"));
  }

  /**
   * Counts what finished since the previous call from storage counters: per step succeeded and
   * failed attempts, per pipeline succeeded and dead jobs. The first call (and the first after
   * `resetTotals`) only takes the baseline.
   */
  observeTotals(stats: readonly PipelineStats[]): void {
    const seen = new Map<string, { ok: number; failed: number }>();
    const count = (pipeline: string, jobType: string | undefined, ok: number, failed: number): void => {
      const key = `${pipeline}\u0000${jobType ?? ""}`;
      seen.set(key, { ok, failed });
      const before = this.#totals.get(key);
      if (before === undefined) return;
      // A counter that went down (storage emptied, a redrive) counts nothing.
      this.record(pipeline, jobType, true, Math.max(0, ok - before.ok));
      this.record(pipeline, jobType, false, Math.max(0, failed - before.failed));
    };
    for (const pipeline of stats) {
      count(pipeline.pipeline, undefined, pipeline.succeeded, pipeline.dead);
      for (const step of pipeline.steps) count(pipeline.pipeline, step.jobType, step.succeeded, step.failed);
    }
    this.#totals = seen;
  }

  /** The next `observeTotals` takes a new baseline (what finished in between is not counted). */
  resetTotals(): void {
    this.#totals = new Map();
  }

  record(pipeline: string, jobType: string | undefined, ok: boolean, count = 1): void {
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
    if (ok) ring.ok[slot]! += count;
    else ring.failed[slot]! += count;
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
