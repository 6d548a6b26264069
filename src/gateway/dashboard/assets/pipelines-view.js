// Pipelines as flows of step cards. Cards are built once per set of definitions and then
// updated in place (text and chart paths only), so a push never rebuilds the page.

import { h, setAttr, setText } from "./dom.js";
import { count, duration, quantile } from "./format.js";
import { align, createSparkline, drawSparkline } from "./sparkline.js";

/** Buckets summed for the "per minute" rate under a chart. */
const RATE_WINDOW_MS = 60_000;

export class PipelinesView {
  #root;
  #signature = "";
  /** name → { fields, spark, steps: Map(jobType → { el, fields, spark }) } */
  #cards = new Map();

  constructor(root) {
    this.#root = root;
  }

  /** Rebuilds the cards when the set of pipelines or their steps changed. */
  setDefinitions(definitions) {
    const signature = JSON.stringify(definitions);
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#cards.clear();
    // Pipelines of several steps first, as flows of cards; every function alone (a one-step
    // pipeline named after its job type) folds into one compact table, a row each, so the jobs
    // table stays on the first screen however many functions there are.
    const isSingle = (d) => d.steps.length === 1 && d.steps[0] === d.name;
    const flows = definitions.filter((d) => !isSingle(d)).map((d) => this.#buildCard(d));
    const singles = definitions.filter(isSingle).map((d) => this.#buildRow(d));
    const parts = [...flows];
    if (singles.length > 0) {
      const head = h("tr", null, ["function", "workers", "queued", "in flight", "succeeded", "failed", "dead", "p50", "last 5 min"].map((t, i) => h(i >= 2 && i <= 7 ? "th.num" : "th", null, t)));
      parts.push(h("section.singles-table", { "aria-label": "functions" }, h("h3.group-title", null, `Functions (${singles.length})`), h("div.table-wrap", null, h("table.singles-list", null, h("thead", null, head), h("tbody", null, singles)))));
    }
    this.#root.replaceChildren(...(parts.length > 0 ? parts : [h("p.muted", null, "No pipelines are served.")]));
  }

  #buildCard(definition) {
    const fields = {};
    const field = (name, cls = "") => (fields[name] = h(`span.value${cls}`, { "data-field": name }, "–"));
    const spark = createSparkline(`${definition.name}: jobs finished per 5 s over the last 5 minutes`);
    const steps = new Map();
    const flow = h("div.flow");
    definition.steps.forEach((jobType, index) => {
      if (index > 0) flow.append(h("div.arrow", { "aria-hidden": "true" }, "→"));
      const step = this.#buildStep(definition.name, jobType, index);
      steps.set(jobType, step);
      flow.append(step.el);
    });
    const card = h(
      "article.pipeline",
      { "data-pipeline": definition.name },
      h(
        "header.pipeline-head",
        null,
        h("div.pipeline-title", null, h("h3", null, definition.name), h("span.muted.small", null, definition.steps.length === 1 ? "single step" : `${definition.steps.length} steps`)),
        h(
          "div.pipeline-totals",
          null,
          h("span.total", { title: "jobs accepted" }, h("span.label", null, "accepted"), field("accepted")),
          h("span.total", { title: "jobs waiting for a worker" }, h("span.label", null, "queued"), field("queued")),
          h("span.total", { title: "delayed jobs waiting for their start time (the Delayed tab lists them)" }, h("span.label", null, "delayed"), field("delayed")),
          h("span.total", { title: "jobs leased to a worker" }, h("span.label", null, "running"), field("running")),
          h("span.total.ok", { title: "jobs that finished" }, h("span.label", null, "succeeded"), field("succeeded")),
          h("span.total.warn", { title: "jobs waiting for a retry" }, h("span.label", null, "retrying"), field("failed")),
          h("span.total.bad", { title: "jobs that died (can be redriven)" }, h("span.label", null, "dead"), field("dead")),
        ),
        h("div.pipeline-spark", null, spark, field("rate", ".rate")),
      ),
      flow,
    );
    this.#cards.set(definition.name, { fields, spark, steps });
    return card;
  }

  /** A function alone: one row with the same fields as a step card (the ones not shown stay detached). */
  #buildRow(definition) {
    const jobType = definition.steps[0];
    const step = this.#buildStep(definition.name, jobType, 0);
    const f = step.fields;
    const cell = (name) => h("td.num", null, f[name]);
    const row = h(
      "tr.single",
      { "data-step": `${definition.name}/${jobType}`, "data-pipeline": definition.name },
      h("td.mono", null, definition.name),
      h("td", null, f.workers),
      h("td.num", null, f.queued, f.waiting),
      cell("running"),
      h("td.num.ok", null, f.succeeded),
      h("td.num.warn", null, f.failed),
      h("td.num.bad", null, f.dead),
      cell("p50"),
      h("td.spark-cell", null, step.spark, f.rate),
    );
    const pipelineFields = {};
    for (const name of ["accepted", "queued", "delayed", "running", "succeeded", "failed", "dead", "rate"]) pipelineFields[name] = h("span", null, "");
    this.#cards.set(definition.name, { fields: pipelineFields, spark: createSparkline(`${definition.name}: jobs finished`), steps: new Map([[jobType, { ...step, el: row }]]) });
    return row;
  }

  #buildStep(pipeline, jobType, index) {
    const fields = {};
    const field = (name) => (fields[name] = h("dd.value", { "data-field": name }, "–"));
    const metric = (label, name, title, cls = "") => h(`div.metric${cls}`, { title }, h("dt", null, label), field(name));
    const spark = createSparkline(`${jobType} in ${pipeline}: attempts finished per 5 s (ok and failed) over the last 5 minutes`);
    fields.workers = h("span.step-workers", { "data-field": "workers" }, "");
    fields.rate = h("span.rate", { "data-field": "rate" }, "");
    fields.waiting = h("span.step-waiting", { "data-field": "waiting", "data-none": true, title: "jobs held back by the step's limits (counted in queued): rate-limited = its rate window is full, key-busy = maxPerKey jobs of their concurrency key run" }, "");
    const el = h(
      "section.step",
      { "data-step": `${pipeline}/${jobType}` },
      h("header.step-head", null, h("span.step-index", null, String(index + 1)), h("h4", null, jobType), fields.waiting, fields.workers),
      h(
        "dl.metrics",
        null,
        metric("queued", "queued", "jobs waiting at this step"),
        metric("oldest", "oldest", "age of the oldest queued job"),
        metric("in flight", "running", "attempts running now"),
        metric("succeeded", "succeeded", "attempts that succeeded", ".ok"),
        metric("failed", "failed", "attempts that failed (each retry counts)", ".warn"),
        metric("dead", "dead", "jobs that died at this step", ".bad"),
        metric("stalled", "stalled", "jobs handed back by a lost or stopped worker (stalls: not attempts)", ".warn"),
        metric("p50", "p50", "median execution time (histogram bucket)"),
        metric("p99", "p99", "99th percentile execution time (histogram bucket)"),
        metric("retrying", "delayed", "jobs waiting for a retry at this step"),
      ),
      h("div.step-spark", null, spark, fields.rate),
    );
    return { el, fields, spark };
  }

  /** Updates every number from a stats message and the worker list. */
  update(stats, workers, now) {
    const byType = new Map();
    for (const worker of workers) {
      const entry = byType.get(worker.jobType) ?? { count: 0, capacity: 0, inFlight: 0 };
      entry.count += 1;
      entry.capacity += worker.capacity;
      entry.inFlight += worker.inFlight;
      byType.set(worker.jobType, entry);
    }
    for (const pipeline of stats.pipelines) {
      const card = this.#cards.get(pipeline.pipeline);
      if (card === undefined) continue;
      for (const name of ["accepted", "queued", "delayed", "running", "succeeded", "failed", "dead"]) setText(card.fields[name], count(pipeline[name] ?? 0));
      if (card.fields.dead.parentElement !== null) setAttr(card.fields.dead.parentElement, "data-hot", pipeline.dead > 0);
      for (const step of pipeline.steps) {
        const view = card.steps.get(step.jobType);
        if (view === undefined) continue;
        const f = view.fields;
        for (const name of ["queued", "running", "succeeded", "failed", "dead", "stalled", "delayed"]) setText(f[name], count(step[name] ?? 0));
        const held = [step.rateLimited ? `${count(step.rateLimited)} rate-limited` : "", step.keyBusy ? `${count(step.keyBusy)} key-busy` : ""].filter(Boolean);
        setText(f.waiting, held.length === 0 ? "" : `waiting: ${held.join(" · ")}`);
        setAttr(f.waiting, "data-none", held.length === 0);
        setAttr(f.oldest, "data-since", step.oldestQueuedAt ?? false);
        setText(f.oldest, step.oldestQueuedAt === null ? "–" : duration(now - step.oldestQueuedAt));
        setText(f.p50, quantile(step.p50));
        setText(f.p99, quantile(step.p99));
        setAttr(view.el, "data-dead", step.dead > 0);
        setAttr(view.el, "data-busy", step.running > 0);
        const w = byType.get(step.jobType);
        setText(f.workers, w === undefined ? "no worker" : `${w.count} worker${w.count === 1 ? "" : "s"} · ${w.inFlight}/${w.capacity}`);
        setAttr(f.workers, "data-none", w === undefined);
      }
    }
    this.drawCharts(stats.throughput, now);
  }

  /** Redraws the charts aligned to `now` (called on every push and every few seconds). */
  drawCharts(throughput, now) {
    if (throughput === undefined) return;
    const { bucketMs, endAt } = throughput;
    const series = new Map(throughput.series.map((s) => [`${s.pipeline}\u0000${s.jobType ?? ""}`, s]));
    const empty = new Array(throughput.series[0]?.ok.length ?? 60).fill(0);
    const window = Math.max(1, Math.round(RATE_WINDOW_MS / bucketMs));
    const draw = (svg, rateEl, key, what) => {
      const s = series.get(key);
      const ok = s === undefined ? empty : align(s.ok, endAt, bucketMs, now);
      const failed = s === undefined ? empty : align(s.failed, endAt, bucketMs, now);
      const recentOk = ok.slice(-window).reduce((a, b) => a + b, 0);
      const recentFailed = failed.slice(-window).reduce((a, b) => a + b, 0);
      drawSparkline(svg, ok, failed, `${what}: ${recentOk} ok, ${recentFailed} failed in the last minute`);
      setText(rateEl, `${count(recentOk + recentFailed)}/min${recentFailed > 0 ? ` · ${count(recentFailed)} ✗` : ""}`);
      setAttr(rateEl, "data-failed", recentFailed > 0);
    };
    for (const [name, card] of this.#cards) {
      draw(card.spark, card.fields.rate, `${name}\u0000`, "jobs finished");
      for (const [jobType, step] of card.steps) draw(step.spark, step.fields.rate, `${name}\u0000${jobType}`, "attempts finished");
    }
  }
}
