/**
 * The dashboard's live state, shared by every connected browser. While at least one subscriber
 * is connected it listens to the cluster's events; a burst of events leads to at most one fresh
 * read of the cluster per `coalesceMs`, and only the parts that changed (stats, workers, jobs)
 * are pushed. A periodic refresh catches what no event announces (heartbeats, work done by other
 * processes on shared storage). A new subscriber first gets a full snapshot. When the last
 * subscriber leaves, every listener and timer is removed.
 */
import type { Cluster } from "../../engine/cluster.ts";
import type { Logger } from "../../log/logger.ts";
import type { DashboardOptions } from "./dashboard-app.ts";
import type { ThroughputRecorder } from "./_throughput-recorder.ts";
import { toJobSummary, toPipelineView, type JobsMessage, type SnapshotMessage, type StatsMessage, type WorkersMessage } from "./_views.ts";

export type LiveEvent = "snapshot" | "stats" | "workers" | "jobs" | "problem";

/** Receives serialized messages; must not block (a slow browser keeps only the latest of each). */
export interface LiveSubscriber {
  deliver(event: LiveEvent, data: string): void;
}

/** The dashboard's settings (see DashboardOptions), every one given. */
export type LiveHubOptions = Required<Pick<DashboardOptions, "coalesceMs" | "refreshMs" | "staleAfterMs" | "recentJobs">> & { logger: Logger };

type Kind = "stats" | "workers" | "jobs";

export class LiveHub {
  readonly #cluster: Cluster;
  readonly #throughput: ThroughputRecorder;
  readonly #options: LiveHubOptions;
  readonly #subscribers = new Map<LiveSubscriber, { needsSnapshot: boolean }>();
  readonly #lastSent = new Map<Kind, string>();
  #detach: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing = false;
  #again = false;
  #problem: string | null = null;

  constructor(cluster: Cluster, throughput: ThroughputRecorder, options: LiveHubOptions) {
    this.#cluster = cluster;
    this.#throughput = throughput;
    this.#options = options;
  }

  /** Adds a subscriber; it gets a snapshot first, then changes. Returns the way to leave. */
  subscribe(subscriber: LiveSubscriber): () => void {
    if (this.#subscribers.size === 0) this.#start();
    this.#subscribers.set(subscriber, { needsSnapshot: true });
    this.#schedule(0);
    return () => {
      if (!this.#subscribers.delete(subscriber)) return;
      if (this.#subscribers.size === 0) this.#stop();
    };
  }

  #start(): void {
    const events = this.#cluster.events;
    const changed = (): void => this.#schedule(this.#options.coalesceMs);
    const announcing = ["job:accepted", "job:started", "step:finished", "job:finished", "worker:added", "worker:removed"] as const;
    this.#detach = announcing.map((event) => events.on(event, changed));
    // Throughput read from counters starts again from here (nothing was read while nobody watched).
    this.#throughput.resetTotals();
    const refresh = setInterval(() => this.#schedule(0), this.#options.refreshMs);
    refresh.unref();
    this.#detach.push(() => clearInterval(refresh));
    this.#lastSent.clear();
  }

  #stop(): void {
    for (const off of this.#detach) off();
    this.#detach = [];
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#again = false;
  }

  #schedule(delayMs: number): void {
    if (this.#flushing) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, delayMs);
  }

  async #flush(): Promise<void> {
    if (this.#subscribers.size === 0) return;
    this.#flushing = true;
    try {
      const snapshot = await this.#read();
      this.#broadcast(snapshot);
      if (this.#problem !== null) {
        this.#problem = null;
        this.#send("problem", JSON.stringify({ message: null }));
      }
    } catch (error) {
      const message = `cluster state unavailable: ${error instanceof Error ? error.message : String(error)}`;
      this.#options.logger.warn("dashboard refresh failed", { error: message });
      if (this.#problem !== message) {
        this.#problem = message;
        this.#send("problem", JSON.stringify({ message }));
      }
    } finally {
      this.#flushing = false;
      if (this.#again && this.#subscribers.size > 0) {
        this.#again = false;
        this.#schedule(this.#options.coalesceMs);
      }
    }
  }

  async #read(): Promise<SnapshotMessage> {
    const limit = this.#options.recentJobs;
    const cluster = this.#cluster;
    const [stats, workers, recent, dead, failed] = await Promise.all([
      cluster.stats(),
      cluster.workers(),
      cluster.listJobs({ limit }),
      cluster.listJobs({ status: "dead", limit }),
      cluster.listJobs({ status: "failed", limit }),
    ]);
    if (!cluster.reportsSteps) this.#throughput.observeTotals(stats);
    const serverTime = Date.now();
    const statsMessage: StatsMessage = { serverTime, pipelines: stats.map(toPipelineView), throughput: this.#throughput.view() };
    const workersMessage: WorkersMessage = { serverTime, workers: [...workers].sort((a, b) => a.jobType.localeCompare(b.jobType) || a.workerId.localeCompare(b.workerId)) };
    const jobsMessage: JobsMessage = { serverTime, recent: recent.map(toJobSummary), dead: dead.map(toJobSummary), failed: failed.map(toJobSummary) };
    return {
      serverTime,
      staleAfterMs: this.#options.staleAfterMs,
      definitions: cluster.pipelines().map((p) => ({ name: p.name, steps: [...p.steps] })),
      stats: statsMessage,
      workers: workersMessage,
      jobs: jobsMessage,
    };
  }

  #broadcast(snapshot: SnapshotMessage): void {
    const parts: [Kind, StatsMessage | WorkersMessage | JobsMessage][] = [
      ["stats", snapshot.stats],
      ["workers", snapshot.workers],
      ["jobs", snapshot.jobs],
    ];
    const changed: [Kind, string][] = [];
    for (const [kind, message] of parts) {
      const { serverTime: _time, ...content } = message;
      const key = JSON.stringify(content);
      if (this.#lastSent.get(kind) !== key) {
        this.#lastSent.set(kind, key);
        changed.push([kind, JSON.stringify(message)]);
      }
    }
    let snapshotData: string | undefined;
    for (const [subscriber, state] of this.#subscribers) {
      if (state.needsSnapshot) {
        state.needsSnapshot = false;
        snapshotData ??= JSON.stringify(snapshot);
        subscriber.deliver("snapshot", snapshotData);
        if (this.#problem !== null) subscriber.deliver("problem", JSON.stringify({ message: this.#problem }));
      } else {
        for (const [kind, data] of changed) subscriber.deliver(kind, data);
      }
    }
  }

  #send(event: LiveEvent, data: string): void {
    for (const subscriber of this.#subscribers.keys()) subscriber.deliver(event, data);
  }
}
