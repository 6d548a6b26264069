/**
 * Prometheus text exposition format (version 0.0.4) from the cluster's stats and workers, then
 * this process's own metrics (prom-client's default process and Node.js collectors, and
 * `mario_build_info`). The README lists every family with its type and unit.
 *
 * ```ts
 * const text = renderMetrics(await cluster.stats(), await cluster.workers());
 * // # HELP mario_jobs_total Jobs by pipeline and outcome since storage was created.
 * // # TYPE mario_jobs_total counter
 * // mario_jobs_total{pipeline="hash-and-clean",status="succeeded"} 12
 * ```
 */
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import type { Readiness } from "../engine/cluster.ts";
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { emptyHistogram } from "../storage/latency-histogram.ts";
import type { LatencyHistogram, PipelineStats, StepStats, WorkerInfo } from "../storage/storage-backend.ts";

export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;
type MetricType = "counter" | "gauge" | "histogram";

class Exposition {
  readonly #lines: string[] = [];

  family(name: string, type: MetricType, help: string, samples: () => void): void {
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
    samples();
  }

  sample(name: string, labels: Labels, value: number): void {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    this.#lines.push(`${name}${pairs.length === 0 ? "" : `{${pairs.join(",")}}`} ${formatNumber(value)}`);
  }

  toString(): string {
    return this.#lines.join("\n") + "\n";
  }
}

/**
 * Readiness as gauges: `mario_ready` (1 when `/ready` answers 200) and `mario_storage_lost` (1
 * once storage was emptied or replaced under this process: dispatching has stopped).
 */
export function renderReadiness(readiness: Readiness): string {
  const out = new Exposition();
  out.family("mario_ready", "gauge", "1 when storage (and the pipeline link) answer, as GET /ready.", () => out.sample("mario_ready", {}, readiness.ok ? 1 : 0));
  const lost = !readiness.ok && readiness.code === ERROR_CODES.STORAGE_LOST;
  out.family("mario_storage_lost", "gauge", "1 when the store was emptied or replaced under this process (dispatching stopped).", () =>
    out.sample("mario_storage_lost", {}, lost ? 1 : 0),
  );
  return out.toString();
}

export function renderMetrics(stats: readonly PipelineStats[], workers: readonly WorkerInfo[], now: number = Date.now()): string {
  const out = new Exposition();
  const steps = stats.flatMap((p) => p.steps.map((s) => ({ pipeline: p.pipeline, s })));

  const deaths = (p: PipelineStats): number => p.steps.reduce((sum, s) => sum + s.dead, 0);
  // One counter per outcome: each only goes up. Deaths are summed from the steps' counters, which
  // a redrive leaves alone (a redriven job that dies again counts again); how many jobs are dead
  // now is the gauge mario_jobs_dead.
  // One sample per pipeline (or step), or with `label`, one per key of what `pick` answers.
  type Picker<T> = (item: T) => number | Record<string, number>;
  const samples = (name: string, labels: Labels, value: number | Record<string, number>, label: string): void => {
    if (typeof value === "number") out.sample(name, labels, value);
    else for (const [key, v] of Object.entries(value)) out.sample(name, { ...labels, [label]: key }, v);
  };
  const perPipeline = (name: string, type: MetricType, help: string, pick: Picker<PipelineStats>, label = "status"): void => {
    out.family(name, type, help, () => {
      for (const p of stats) samples(name, { pipeline: p.pipeline }, pick(p), label);
    });
  };
  const perStep = (name: string, type: MetricType, help: string, pick: Picker<StepStats>, label = "status"): void => {
    out.family(name, type, help, () => {
      for (const { pipeline, s } of steps) samples(name, { pipeline, step: s.jobType }, pick(s), label);
    });
  };
  perPipeline("mario_jobs_accepted_total", "counter", "Jobs accepted (enqueued) by a pipeline since storage was created.", (p) => p.accepted);
  perPipeline("mario_jobs_succeeded_total", "counter", "Jobs that finished succeeded.", (p) => p.succeeded);
  perPipeline("mario_jobs_dead_total", "counter", "Jobs that went dead (dead-lettered); a redriven job that dies again counts again.", deaths);
  // Summed from the steps' counters, which a redrive leaves alone (as deaths are); a pipeline's
  // `cancelled` is how many are cancelled now.
  const cancels = (p: PipelineStats): number => p.steps.reduce((sum, s) => sum + (s.cancelled ?? 0), 0);
  perPipeline("mario_jobs_cancelled_total", "counter", "Jobs cancelled; a redriven job cancelled again counts again.", cancels);
  perStep("mario_step_attempts_total", "counter", "Attempts of a step by outcome (succeeded, failed); a retried job counts every failed attempt.", (s) => ({ succeeded: s.succeeded, failed: s.failed }), "outcome");
  perStep("mario_step_dead_total", "counter", "Jobs that went dead at a step.", (s) => s.dead);
  perStep("mario_step_stalls_total", "counter", "Jobs handed back at a step because their worker was lost or stopped with them in flight (stalls, not attempts).", (s) => s.stalled);
  // The first spellings, kept for dashboards built on them (deprecated: they mix kinds of count).
  perPipeline("mario_jobs_total", "counter", "Deprecated (use mario_jobs_{accepted,succeeded,dead}_total): jobs by pipeline and outcome.", (p) => ({ accepted: p.accepted, succeeded: p.succeeded, dead: deaths(p) }));
  perPipeline("mario_jobs_dead", "gauge", "Jobs in the dead-letter state now, by pipeline (a redrive takes one out).", (p) => p.dead);
  perPipeline("mario_jobs_active", "gauge", "Unfinished jobs by pipeline and status (queued, delayed = waiting for their start time, running, failed = waiting for a retry).", (p) => ({
    queued: p.queued,
    delayed: p.delayed ?? 0,
    running: p.running,
    failed: p.failed,
  }));
  perStep("mario_step_jobs_total", "counter", "Deprecated (use mario_step_attempts_total and mario_step_dead_total): step attempts succeeded, failed, and jobs dead at the step.", (s) => ({
    succeeded: s.succeeded,
    failed: s.failed,
    dead: s.dead,
  }));
  perStep("mario_queue_depth", "gauge", "Jobs waiting for a worker at a step (retries not yet due excluded).", (s) => s.queued);
  perStep("mario_queue_delayed", "gauge", "Jobs waiting for a retry at a step.", (s) => s.delayed);
  perStep("mario_step_waiting", "gauge", "Jobs of a step held back by its limits, by reason: rate-limited (its rate window is full), key-busy (maxPerKey jobs of their concurrency key run); counted in mario_queue_depth.", (s) => ({
    "rate-limited": s.rateLimited ?? 0,
    "key-busy": s.keyBusy ?? 0,
  }), "reason");
  perStep("mario_queue_delayed_start", "gauge", "Delayed jobs (enqueued with a delay or a start time) waiting for their start time at a step.", (s) => s.delayedStart ?? 0);
  perStep("mario_step_in_flight", "gauge", "Jobs leased to workers at a step.", (s) => s.running);
  perStep("mario_queue_oldest_age_seconds", "gauge", "Age of the oldest job waiting at a step, 0 when none waits.", (s) =>
    s.oldestQueuedAt === null ? 0 : Math.max(0, now - s.oldestQueuedAt) / 1000,
  );
  const histogram = (name: string, help: string, pick: (s: StepStats) => LatencyHistogram): void => {
    out.family(name, "histogram", help, () => {
      for (const { pipeline, s } of steps) {
        const { bucketsMs, counts, sumMs, count } = pick(s);
        let cumulative = 0;
        bucketsMs.forEach((bound, i) => {
          cumulative += counts[i] ?? 0;
          out.sample(`${name}_bucket`, { pipeline, step: s.jobType, le: formatNumber(bound / 1000) }, cumulative);
        });
        out.sample(`${name}_bucket`, { pipeline, step: s.jobType, le: "+Inf" }, count);
        out.sample(`${name}_sum`, { pipeline, step: s.jobType }, sumMs / 1000);
        out.sample(`${name}_count`, { pipeline, step: s.jobType }, count);
      }
    });
  };
  histogram("mario_step_duration_seconds", "Duration of step attempts.", (s) => s.latency);
  histogram("mario_queue_wait_seconds", "Wait from due (enqueued, previous step done, retry time, redrive) to the start of an attempt.", (s) => s.queueWait ?? emptyHistogram());
  const jobTypes = [...new Set([...steps.map(({ s }) => s.jobType), ...workers.map((w) => w.jobType)])].sort();
  // Summed over the workers of each job type (0 for a step none serves).
  const perJobType = (name: string, help: string, pick: (w: WorkerInfo) => number): void => {
    out.family(name, "gauge", help, () => {
      for (const step of jobTypes) out.sample(name, { step }, workers.reduce((sum, w) => sum + (w.jobType === step ? pick(w) : 0), 0));
    });
  };
  perJobType("mario_workers", "Workers announced for a step.", () => 1);
  perJobType("mario_worker_capacity", "Jobs the workers of a step take at once, summed.", (w) => w.capacity);
  perJobType("mario_worker_in_flight", "Jobs the workers of a step hold right now, summed.", (w) => w.inFlight);
  return out.toString();
}

/**
 * This process's metrics, from prom-client: the default collectors (process CPU, memory, file
 * descriptors, event-loop lag, heap, GC) and `mario_build_info`. One registry per process.
 */
let processRegistry: Registry | undefined;

export function processMetrics(build: { version: string }): Registry {
  if (processRegistry !== undefined) return processRegistry;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({ name: "mario_build_info", help: "Always 1; the labels say which Mario and Node.js serve.", labelNames: ["version", "node"], registers: [registry] }).set({ version: build.version, node: process.version }, 1);
  processRegistry = registry;
  return registry;
}

/**
 * The cluster's families, then this process's. prom-client separates families by blank lines,
 * which the format does not have, and spells a not-a-number "Nan" before the first event-loop
 * sample, where the format says "NaN".
 */
export async function renderAllMetrics(stats: readonly PipelineStats[], workers: readonly WorkerInfo[], build: { version: string }): Promise<string> {
  const own = (await processMetrics(build).metrics()).split("\n").filter((line) => line !== "").map((line) => line.replace(/ Nan$/, " NaN"));
  return renderMetrics(stats, workers) + own.join("\n") + "\n";
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
