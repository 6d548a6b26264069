/**
 * The dashboard's event stream on its own (`app.request()`, no network): a snapshot first, then
 * coalesced changes; a late joiner ends with the same counts as storage; heartbeats; a slow
 * client gets the latest state rather than a backlog; every listener and timer goes away when
 * the browser leaves.
 */
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { after, describe, it } from "node:test";
import type { Instructions } from "../../src/core/job.ts";
import type { Cluster, ClusterEvents } from "../../src/engine/cluster.ts";
import { TypedEmitter } from "../../src/core/typed-emitter.ts";
import { DispatcherCluster } from "../../src/engine/dispatcher-cluster.ts";
import { LocalRunner } from "../../src/engine/local-runner.ts";
import { createDashboardApp, type DashboardOptions } from "../../src/gateway/dashboard/dashboard-app.ts";
import type { PipelineStats } from "../../src/storage/storage-backend.ts";
import { eventually } from "../support/eventually.ts";

interface SseMessage {
  event: string;
  data: unknown;
}

/** Reads an SSE response. `start()` pumps; a reader that is not started reads nothing (a slow browser). */
class SseReader {
  readonly messages: SseMessage[] = [];
  comments = 0;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = "";
  #done: Promise<void> | undefined;

  constructor(response: Response) {
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
    this.#reader = response.body!.getReader();
  }

  start(): this {
    this.#done ??= this.#pump().catch(() => {});
    return this;
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await this.#reader.read();
      if (done) return;
      this.#buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = this.#buffer.indexOf("\n\n")) >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) this.comments++;
          else if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (data.length > 0) this.messages.push({ event, data: JSON.parse(data.join("\n")) });
      }
    }
  }

  of(event: string): SseMessage[] {
    return this.messages.filter((m) => m.event === event);
  }

  /** The latest full state seen: the snapshot patched by every later message. */
  latest(kind: "stats" | "workers" | "jobs"): Record<string, unknown> | undefined {
    let found: Record<string, unknown> | undefined;
    for (const m of this.messages) {
      if (m.event === "snapshot") found = (m.data as Record<string, Record<string, unknown>>)[kind];
      else if (m.event === kind) found = m.data as Record<string, unknown>;
    }
    return found;
  }

  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
    await this.#done;
  }
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

/** A LocalRunner on memory storage with real steps: `work` (ok), `boom` (always throws). */
async function startCluster(): Promise<{ runner: LocalRunner; cluster: Cluster }> {
  const work = async (input: Instructions): Promise<Instructions> => {
    await delay(Math.floor(Math.random() * 3));
    return { ...input, worked: true };
  };
  const runner = new LocalRunner({
    pipelines: [
      { name: "flow", steps: ["work", "finish"] },
      { name: "boom", steps: ["boom"] },
    ],
    steps: [
      { jobType: "work", handler: work, config: { concurrency: 4 } },
      { jobType: "finish", handler: (input) => ({ ...input, finished: true }), config: { concurrency: 2 } },
      {
        jobType: "boom",
        handler: () => {
          throw new TypeError("boom: this step always fails");
        },
        config: { retries: 1, backoff: { type: "fixed", delayMs: 5, jitter: 0 } },
      },
    ],
    reclaimIntervalMs: 50,
  });
  await runner.start();
  closers.push(() => runner.stop(200));
  return { runner, cluster: new DispatcherCluster(runner.dispatcher) };
}

async function connect(cluster: Cluster, options: DashboardOptions = {}): Promise<SseReader> {
  const app = createDashboardApp(cluster, { coalesceMs: 50, refreshMs: 200, ...options });
  const reader = new SseReader(await app.request("/events"));
  closers.push(() => reader.close());
  return reader;
}

/** The counts a browser shows, from stats as storage has them or as the stream carried them. */
type CountedStep = { jobType: string; queued: number; running: number; delayed: number; succeeded: number; failed: number; dead: number };
type CountedPipeline = Omit<PipelineStats, "steps"> & { steps: readonly CountedStep[] };

function counts(pipelines: readonly CountedPipeline[]): unknown {
  return pipelines.map((p) => ({
    pipeline: p.pipeline,
    totals: [p.accepted, p.succeeded, p.dead, p.queued, p.running, p.failed],
    steps: p.steps.map((s) => [s.jobType, s.queued, s.running, s.delayed, s.succeeded, s.failed, s.dead]),
  }));
}

describe("dashboard /events", () => {
  it("sends a snapshot first: pipelines with their steps, stats with quantiles, workers, jobs", async () => {
    const { runner, cluster } = await startCluster();
    const { job } = await runner.enqueue("flow", { n: 1 });
    await runner.waitFor(job.id, 5000);
    const reader = (await connect(cluster)).start();
    await eventually(() => reader.messages.length > 0, { message: "no first message" });
    const first = reader.messages[0]!;
    assert.equal(first.event, "snapshot");
    const snapshot = first.data as {
      definitions: { name: string; steps: string[] }[];
      stats: { pipelines: { pipeline: string; succeeded: number; steps: { jobType: string; p50: unknown; samples: number }[] }[] };
      workers: { workers: { jobType: string; capacity: number }[] };
      jobs: { recent: { id: string; status: string }[] };
      staleAfterMs: number;
      serverTime: number;
    };
    assert.deepEqual(snapshot.definitions, [
      { name: "flow", steps: ["work", "finish"] },
      { name: "boom", steps: ["boom"] },
      { name: "work", steps: ["work"] },
      { name: "finish", steps: ["finish"] },
    ]);
    const flow = snapshot.stats.pipelines.find((p) => p.pipeline === "flow")!;
    assert.equal(flow.succeeded, 1);
    assert.deepEqual(flow.steps.map((s) => s.jobType), ["work", "finish"]);
    assert.equal(flow.steps[0]!.samples, 1);
    assert.ok(flow.steps[0]!.p50 !== null && typeof (flow.steps[0]!.p50 as { le: number }).le === "number", "p50 is a bucket bound");
    assert.deepEqual(snapshot.workers.workers.map((w) => [w.jobType, w.capacity]).sort(), [["boom", 1], ["finish", 2], ["work", 4]]);
    assert.deepEqual(snapshot.jobs.recent.map((j) => [j.id, j.status]), [[job.id, "succeeded"]]);
    assert.equal(snapshot.staleAfterMs, 5_000);
    assert.ok(Math.abs(snapshot.serverTime - Date.now()) < 5000);
  });

  it("a client that connects mid-run ends with the same counts as storage, and sees dead jobs with their stack", async () => {
    const { runner, cluster } = await startCluster();
    const ids: string[] = [];
    const enqueueSome = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        ids.push((await runner.enqueue(i % 10 === 0 ? "boom" : "flow", { i })).job.id);
        if (i % 20 === 0) await delay(1);
      }
    };
    await enqueueSome(150);
    // The dashboard counts throughput from its creation on; count alongside it.
    let workDone = 0;
    let boomDead = 0;
    const offStep = cluster.events.on("step:finished", (e) => void (e.pipeline === "flow" && e.jobType === "work" && e.ok && workDone++));
    const offJob = cluster.events.on("job:finished", (e) => void (e.pipeline === "boom" && e.status === "dead" && boomDead++));
    closers.push(async () => {
      offStep();
      offJob();
    });
    const reader = (await connect(cluster)).start();
    await enqueueSome(150);
    await Promise.all(ids.map((id) => runner.waitFor(id, 20_000)));
    const expected = counts(await cluster.stats());
    await eventually(
      () => {
        const stats = reader.latest("stats") as { pipelines: Parameters<typeof counts>[0] } | undefined;
        return stats !== undefined && JSON.stringify(counts(stats.pipelines)) === JSON.stringify(expected);
      },
      { timeoutMs: 5000, message: "the stream's counts never matched storage" },
    );
    const stats = reader.latest("stats") as { pipelines: Parameters<typeof counts>[0] };
    assert.deepEqual(counts(stats.pipelines), expected);
    const flow = stats.pipelines.find((p) => p.pipeline === "flow")!;
    assert.equal(flow.accepted, 270);
    assert.equal(flow.succeeded, 270);
    const boom = stats.pipelines.find((p) => p.pipeline === "boom")!;
    assert.deepEqual([boom.accepted, boom.dead, boom.steps[0]!.failed], [30, 30, 60], "each boom job failed twice, then died");
    await eventually(() => ((reader.latest("jobs") as { dead: unknown[] } | undefined)?.dead.length ?? 0) === 30, { message: "dead jobs not listed" });
    const dead = (reader.latest("jobs") as { dead: { status: string; error: { name: string; message: string; stack: string } }[] }).dead;
    assert.equal(dead[0]!.status, "dead");
    assert.equal(dead[0]!.error.name, "TypeError");
    assert.match(dead[0]!.error.message, /always fails/);
    assert.match(dead[0]!.error.stack, /dashboard-events\.test\.ts/, "the stack points into the step");
    const throughput = (stats as unknown as { throughput: { series: { pipeline: string; jobType?: string; ok: number[]; failed: number[] }[] } }).throughput;
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    const work = throughput.series.find((s) => s.pipeline === "flow" && s.jobType === "work")!;
    assert.ok(workDone >= 135, `${workDone} work steps finished after the client joined`);
    assert.equal(sum(work.ok), workDone, "throughput counts every finished attempt");
    const boomJobs = throughput.series.find((s) => s.pipeline === "boom" && s.jobType === undefined)!;
    assert.equal(sum(boomJobs.failed), boomDead, "pipeline series counts dead jobs");
  });

  it("in front of a cluster that reports no steps (mario gateway), counts throughput from the growth of the storage counters", async () => {
    const { runner, cluster: local } = await startCluster();
    // What a gateway sees of remote pipeline servers: storage reads, and no step events.
    const remote: Cluster = {
      pipelines: () => local.pipelines(),
      enqueue: (pipeline, instructions, options) => local.enqueue(pipeline, instructions, options),
      getJob: (id) => local.getJob(id),
      waitFor: (id, ms) => local.waitFor(id, ms),
      redrive: (id) => local.redrive(id),
      redriveDead: (pipeline, filter) => local.redriveDead(pipeline, filter),
      deleteJob: (id) => local.deleteJob(id),
      cancel: (id) => local.cancel(id),
      listJobs: (query) => local.listJobs(query),
      findJobs: (query) => local.findJobs(query),
      stats: () => local.stats(),
      workers: () => local.workers(),
      ready: () => local.ready(),
      events: new TypedEmitter<ClusterEvents>(),
      reportsSteps: false,
    };
    const before = await runner.enqueue("flow", { early: true });
    await runner.waitFor(before.job.id, 5000);
    const reader = (await connect(remote, { refreshMs: 50 })).start();
    await eventually(() => reader.of("snapshot").length === 1);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await runner.enqueue(i % 10 === 0 ? "boom" : "flow", { i })).job.id);
    await Promise.all(ids.map((id) => runner.waitFor(id, 20_000)));
    type Series = { pipeline: string; jobType?: string; ok: number[]; failed: number[] };
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    const series = (pipeline: string, jobType?: string): Series | undefined =>
      (reader.latest("stats") as { throughput: { series: Series[] } } | undefined)?.throughput.series.find((s) => s.pipeline === pipeline && s.jobType === jobType);
    await eventually(() => sum(series("flow", "work")?.ok ?? []) === 36 && sum(series("boom")?.failed ?? []) === 4, {
      timeoutMs: 5000,
      message: "the throughput never showed the jobs run after the client joined",
    });
    // The job finished before the client joined is the baseline, not throughput.
    assert.equal(sum(series("flow")!.ok), 36);
    assert.equal(sum(series("boom", "boom")!.failed), 8, "each boom job failed twice");
  });

  it("coalesces a burst: far fewer pushes than events, at most about one per coalesce window", async () => {
    const { runner, cluster } = await startCluster();
    const reader = (await connect(cluster, { coalesceMs: 100, refreshMs: 60_000 })).start();
    await eventually(() => reader.of("snapshot").length === 1);
    let events = 0;
    const offs = (["job:accepted", "job:started", "step:finished", "job:finished"] as const).map((name) => cluster.events.on(name, () => void events++));
    const started = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push((await runner.enqueue("flow", { i })).job.id);
    await Promise.all(ids.map((id) => runner.waitFor(id, 20_000)));
    await eventually(() => (reader.latest("stats") as { pipelines: { succeeded: number }[] } | undefined)?.pipelines[0]?.succeeded === 300);
    const elapsed = Date.now() - started;
    for (const off of offs) off();
    const pushes = reader.of("stats").length;
    assert.ok(events >= 1500, `the burst made ${events} cluster events`);
    assert.ok(pushes <= Math.ceil(elapsed / 100) + 2, `${pushes} stats pushes in ${elapsed} ms with a 100 ms window`);
  });

  it("writes heartbeat comments when nothing happens", async () => {
    const { cluster } = await startCluster();
    const reader = (await connect(cluster, { heartbeatMs: 40, refreshMs: 60_000 })).start();
    await eventually(() => reader.comments >= 2, { message: "no heartbeat comments" });
    assert.equal(reader.of("snapshot").length, 1);
  });

  it("a client that does not read gets the latest state, not a backlog", async () => {
    const { runner, cluster } = await startCluster();
    const app = createDashboardApp(cluster, { coalesceMs: 10, refreshMs: 60_000 });
    const slow = new SseReader(await app.request("/events"));
    closers.push(() => slow.close());
    const fast = new SseReader(await app.request("/events")).start();
    closers.push(() => fast.close());
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      ids.push((await runner.enqueue("flow", { i })).job.id);
      if (i % 10 === 0) await delay(15);
    }
    await Promise.all(ids.map((id) => runner.waitFor(id, 20_000)));
    const done = (r: SseReader): boolean => (r.latest("stats") as { pipelines: { succeeded: number }[] } | undefined)?.pipelines[0]?.succeeded === 200;
    await eventually(() => done(fast), { message: "the reading client never saw the end" });
    slow.start();
    await eventually(() => done(slow), { message: "the slow client never caught up" });
    assert.ok(fast.of("stats").length >= 5, `the reading client got ${fast.of("stats").length} pushes`);
    assert.ok(slow.messages.length <= 6, `the slow client got ${slow.messages.length} messages, not a backlog`);
  });

  it("removes every listener and stops reading the cluster when the clients leave", async () => {
    const { runner, cluster } = await startCluster();
    let live = 0;
    const events = cluster.events as unknown as { on: (event: string, listener: () => void) => () => void };
    const on = events.on.bind(events);
    events.on = (event, listener) => {
      live++;
      const off = on(event, listener);
      let removed = false;
      return () => {
        if (!removed) live--;
        removed = true;
        off();
      };
    };
    let reads = 0;
    const stats = cluster.stats.bind(cluster);
    cluster.stats = () => {
      reads++;
      return stats();
    };
    const app = createDashboardApp(cluster, { coalesceMs: 10, refreshMs: 20, heartbeatMs: 20 });
    const baseline = live;
    const readers: SseReader[] = [];
    for (let i = 0; i < 3; i++) {
      const reader = new SseReader(await app.request("/events")).start();
      closers.push(() => reader.close());
      readers.push(reader);
    }
    await eventually(() => readers.every((r) => r.of("snapshot").length === 1));
    assert.ok(live > baseline, "connected clients listen to the cluster");
    const listening = live;
    await runner.waitFor((await runner.enqueue("flow", {})).job.id, 5000);
    await readers[0]!.close();
    await eventually(() => live === listening, { message: "one client leaving must not detach the others" });
    await eventually(() => readers[1]!.of("stats").length >= 1);
    await readers[1]!.close();
    await readers[2]!.close();
    await eventually(() => live === baseline, { message: `listeners left behind: ${live - baseline}` });
    // Proving that nothing happens takes waiting: several refresh periods with no client.
    const readsAfter = reads;
    await delay(150);
    assert.equal(reads, readsAfter, "no reads of the cluster without clients");
  });
});
