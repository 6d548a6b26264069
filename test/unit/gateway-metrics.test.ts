/**
 * `GET /metrics`: Prometheus text exposition format 0.0.4, checked with a small strict parser of
 * the format (HELP/TYPE before samples, one TYPE per family, valid names, labels and values,
 * histogram buckets cumulative and ending at +Inf = _count), and counting the jobs run.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { renderMetrics } from "../../src/gateway/metrics.ts";
import { emptyHistogram, observe } from "../../src/storage/latency-histogram.ts";
import { eventually } from "../support/eventually.ts";
import { gatewayFixture, post, type GatewayFixture } from "./gateway-fixture.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(text: string, line: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  assert.match(text, /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, `bad value in: ${line}`);
  return Number(text);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    assert.ok(eq > i, `bad labels in: ${line}`);
    const name = text.slice(i, eq);
    assert.match(name, LABEL_NAME, `bad label name in: ${line}`);
    assert.ok(!(name in labels), `duplicate label ${name} in: ${line}`);
    assert.equal(text[eq + 1], '"', `unquoted label value in: ${line}`);
    let value = "";
    let j = eq + 2;
    for (;;) {
      const ch = text[j];
      assert.ok(ch !== undefined, `unterminated label value in: ${line}`);
      if (ch === "\\") {
        const next = text[j + 1];
        assert.ok(next === "\\" || next === '"' || next === "n", `bad escape in: ${line}`);
        value += next === "n" ? "\n" : next;
        j += 2;
      } else if (ch === '"') break;
      else {
        value += ch;
        j += 1;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i += 1;
    else assert.equal(i, text.length, `expected , or } in: ${line}`);
  }
  return labels;
}

/** Strict parser of the text format; throws on anything a Prometheus server would reject. */
export function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith("\n"), "exposition must end with a newline");
  const families = new Map<string, Family>();
  const seenSeries = new Set<string>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split("\n")) {
    assert.notEqual(line, "", "empty line");
    if (line.startsWith("#")) {
      const match = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      assert.ok(match, `bad comment line: ${line}`);
      const [, kind, name, rest] = match as unknown as [string, string, string, string];
      assert.match(name, NAME, `bad metric name: ${line}`);
      const family = families.get(name) ?? { type: "untyped", help: "", samples: [] };
      if (kind === "TYPE") {
        assert.ok(TYPES.has(rest), `bad type: ${line}`);
        assert.equal(family.samples.length, 0, `TYPE after samples: ${line}`);
        family.type = rest;
      } else family.help = rest;
      families.set(name, family);
      current = name;
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    assert.ok(match, `bad sample line: ${line}`);
    const [, name, labelText, valueText] = match as unknown as [string, string, string | undefined, string];
    assert.ok(current !== undefined, `sample before any TYPE: ${line}`);
    const family = families.get(current)!;
    const allowed = family.type === "histogram" ? [`${current}_bucket`, `${current}_sum`, `${current}_count`] : [current];
    assert.ok(allowed.includes(name), `sample ${name} outside its family ${current}`);
    const labels = labelText === undefined || labelText === "" ? {} : parseLabels(labelText, line);
    const series = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}`;
    assert.ok(!seenSeries.has(series), `duplicate series ${series}`);
    seenSeries.add(series);
    family.samples.push({ name, labels, value: parseValue(valueText, line) });
  }
  for (const [name, family] of families) {
    assert.notEqual(family.help, "", `${name} has no HELP`);
    if (family.type === "histogram") checkHistogram(name, family);
  }
  return families;
}

function checkHistogram(name: string, family: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const sample of family.samples) {
    const { le: _le, ...rest } = sample.labels;
    const key = JSON.stringify(rest);
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${name}_bucket`);
    const count = samples.find((s) => s.name === `${name}_count`);
    assert.ok(samples.some((s) => s.name === `${name}_sum`), `${name}${key} has no _sum`);
    assert.ok(count, `${name}${key} has no _count`);
    assert.equal(buckets.at(-1)?.labels.le, "+Inf", `${name}${key} must end with le="+Inf"`);
    let previousLe = Number.NEGATIVE_INFINITY;
    let previous = 0;
    for (const bucket of buckets) {
      const le = parseValue(bucket.labels.le ?? "", key);
      assert.ok(le > previousLe, `${name}${key} buckets out of order`);
      assert.ok(bucket.value >= previous, `${name}${key} buckets not cumulative`);
      previousLe = le;
      previous = bucket.value;
    }
    assert.equal(previous, count.value, `${name}${key}: +Inf bucket != _count`);
  }
}

function families(all: Map<string, Family>, name: string): Family | undefined {
  return all.get(name);
}

function value(families: Map<string, Family>, family: string, name: string, labels: Record<string, string>): number | undefined {
  return families.get(family)?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe("gateway GET /metrics", () => {
  let f: GatewayFixture;
  before(async () => {
    f = await gatewayFixture();
  });
  after(async () => {
    await f.close();
  });

  it("serves the 0.0.4 text format that counts the jobs run", async () => {
    for (const n of [1, 2, 3]) assert.equal((await post(f.app, "/pipelines/math/jobs?wait=5000", { n })).status, 200);
    assert.equal((await post(f.app, "/pipelines/explode/jobs?wait=5000", {})).status, 200);
    const res = await f.app.request("/metrics");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const families = parseExposition(await res.text());

    assert.equal(families.get("mario_jobs_total")?.type, "counter");
    assert.equal(value(families, "mario_jobs_total", "mario_jobs_total", { pipeline: "math", status: "accepted" }), 3);
    assert.equal(value(families, "mario_jobs_total", "mario_jobs_total", { pipeline: "math", status: "succeeded" }), 3);
    assert.equal(value(families, "mario_jobs_total", "mario_jobs_total", { pipeline: "explode", status: "dead" }), 1);
    assert.equal(value(families, "mario_step_jobs_total", "mario_step_jobs_total", { pipeline: "math", step: "double", status: "succeeded" }), 6);
    assert.equal(value(families, "mario_step_jobs_total", "mario_step_jobs_total", { pipeline: "explode", step: "explode", status: "dead" }), 1);
    assert.equal(value(families, "mario_queue_depth", "mario_queue_depth", { pipeline: "math", step: "double" }), 0);
    assert.equal(value(families, "mario_queue_oldest_age_seconds", "mario_queue_oldest_age_seconds", { pipeline: "math", step: "double" }), 0);
    assert.equal(families.get("mario_step_duration_seconds")?.type, "histogram");
    assert.equal(value(families, "mario_step_duration_seconds", "mario_step_duration_seconds_count", { pipeline: "math", step: "double" }), 6);
    assert.equal(value(families, "mario_workers", "mario_workers", { step: "double" }), 1);
    assert.equal(families.get("mario_jobs_dead")?.type, "gauge");
    assert.equal(value(families, "mario_jobs_dead", "mario_jobs_dead", { pipeline: "explode" }), 1);
  });

  it("a redrive takes a job out of the dead gauge; the dead counter never goes down, and counts the job again when it dies again", async () => {
    const metrics = async () => parseExposition(await (await f.app.request("/metrics")).text());
    const before = await metrics();
    const deaths = value(before, "mario_jobs_total", "mario_jobs_total", { pipeline: "explode", status: "dead" }) ?? 0;
    const dead = value(before, "mario_jobs_dead", "mario_jobs_dead", { pipeline: "explode" }) ?? 0;
    const died = (await (await post(f.app, "/pipelines/explode/jobs?wait=5000", {})).json()) as { id: string; status: string };
    assert.equal(died.status, "dead");
    const afterDeath = await metrics();
    assert.equal(value(afterDeath, "mario_jobs_total", "mario_jobs_total", { pipeline: "explode", status: "dead" }), deaths + 1);
    assert.equal(value(afterDeath, "mario_jobs_dead", "mario_jobs_dead", { pipeline: "explode" }), dead + 1);
    // Redriven: out of the dead-letter state; it runs again and dies again.
    assert.equal((await f.app.request(`/jobs/${died.id}/retry`, { method: "POST" })).status, 202);
    await eventually(async () => ((await (await f.app.request(`/jobs/${died.id}`)).json()) as { status: string; attempts: number }).status === "dead", { timeoutMs: 5000 });
    const afterRedrive = await metrics();
    assert.equal(value(afterRedrive, "mario_jobs_total", "mario_jobs_total", { pipeline: "explode", status: "dead" }), deaths + 2);
    assert.equal(value(afterRedrive, "mario_jobs_dead", "mario_jobs_dead", { pipeline: "explode" }), dead + 1);
  });

  it("serves every metric the README lists, with the type it documents", async () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("### Metrics"), readme.indexOf("In code: `createGatewayApp"));
    const documented = section
      .split("\n")
      .filter((line) => /^\| `[a-z]/.test(line))
      .flatMap((line) => {
        const [names = "", type = ""] = line.split("|").slice(1).map((cell) => cell.trim());
        return [...names.matchAll(/`([a-z_:]+)`/g)].map((m) => ({ name: m[1]!, type }));
      });
    assert.ok(documented.length >= 35, `metrics documented: ${documented.length}`);
    const families = parseExposition(await (await f.app.request("/metrics")).text());
    for (const { name, type } of documented) assert.equal(families.get(name)?.type, type, `${name} is served as a ${type}`);
    // …and nothing served is left out of the README.
    const names = new Set(documented.map((d) => d.name));
    const undocumented = [...families.keys()].filter((name) => !names.has(name) && !/^nodejs_eventloop_lag_\w+_seconds$|^nodejs_active_\w+_total$/.test(name));
    assert.deepEqual(undocumented, []);
  });

  it("counts accepted, succeeded and dead jobs apart, and attempts by outcome", async () => {
    const metrics = async () => parseExposition(await (await f.app.request("/metrics")).text());
    const before = await metrics();
    const read = (m: typeof before, name: string, labels: Record<string, string>) => value(m, name, name, labels) ?? 0;
    assert.equal((await post(f.app, "/pipelines/math/jobs?wait=5000", { n: 1 })).status, 200);
    assert.equal((await post(f.app, "/pipelines/explode/jobs?wait=5000", {})).status, 200);
    const after = await metrics();
    assert.equal(read(after, "mario_jobs_accepted_total", { pipeline: "math" }) - read(before, "mario_jobs_accepted_total", { pipeline: "math" }), 1);
    assert.equal(read(after, "mario_jobs_succeeded_total", { pipeline: "math" }) - read(before, "mario_jobs_succeeded_total", { pipeline: "math" }), 1);
    assert.equal(read(after, "mario_jobs_dead_total", { pipeline: "math" }) - read(before, "mario_jobs_dead_total", { pipeline: "math" }), 0);
    assert.equal(read(after, "mario_jobs_dead_total", { pipeline: "explode" }) - read(before, "mario_jobs_dead_total", { pipeline: "explode" }), 1);
    assert.equal(read(after, "mario_jobs_accepted_total", { pipeline: "explode" }) - read(before, "mario_jobs_accepted_total", { pipeline: "explode" }), 1);
    assert.equal(read(after, "mario_step_attempts_total", { pipeline: "math", step: "double", outcome: "succeeded" }) - read(before, "mario_step_attempts_total", { pipeline: "math", step: "double", outcome: "succeeded" }), 2);
    assert.equal(read(after, "mario_step_attempts_total", { pipeline: "explode", step: "explode", outcome: "failed" }) - read(before, "mario_step_attempts_total", { pipeline: "explode", step: "explode", outcome: "failed" }), 1);
    assert.equal(read(after, "mario_jobs_cancelled_total", { pipeline: "math" }), 0);
    assert.equal(families(after, "mario_build_info")?.samples[0]?.value, 1);
  });

  it("renders buckets in seconds, cumulative, escapes label values, reports queue age", () => {
    const latency = emptyHistogram();
    for (const ms of [0.5, 3, 3, 70_000]) observe(latency, ms);
    const text = renderMetrics(
      [{ pipeline: 'odd"name\\x', accepted: 4, succeeded: 4, dead: 0, queued: 1, running: 0, failed: 0, steps: [{ jobType: "s", queued: 1, running: 0, delayed: 0, oldestQueuedAt: 1_000, succeeded: 4, failed: 0, dead: 0, stalled: 0, latency }] }],
      [],
      3_500,
    );
    const families = parseExposition(text);
    const labels = { pipeline: 'odd"name\\x', step: "s" };
    assert.equal(value(families, "mario_queue_oldest_age_seconds", "mario_queue_oldest_age_seconds", labels), 2.5);
    assert.equal(value(families, "mario_step_duration_seconds", "mario_step_duration_seconds_bucket", { ...labels, le: "0.001" }), 1);
    assert.equal(value(families, "mario_step_duration_seconds", "mario_step_duration_seconds_bucket", { ...labels, le: "0.005" }), 3);
    assert.equal(value(families, "mario_step_duration_seconds", "mario_step_duration_seconds_bucket", { ...labels, le: "60" }), 3);
    assert.equal(value(families, "mario_step_duration_seconds", "mario_step_duration_seconds_bucket", { ...labels, le: "+Inf" }), 4);
    assert.equal(value(families, "mario_step_duration_seconds", "mario_step_duration_seconds_sum", labels), 70.0065);
    assert.equal(value(families, "mario_workers", "mario_workers", { step: "s" }), 0);
  });

  it("the parser rejects what Prometheus rejects", () => {
    assert.throws(() => parseExposition("# HELP a x\n# TYPE a counter\na 1"), /newline/);
    assert.throws(() => parseExposition("# HELP a x\n# TYPE a counter\nb 1\n"), /outside its family/);
    assert.throws(() => parseExposition('# HELP a x\n# TYPE a gauge\na{l="1} 1\n'), /unterminated|bad/);
    assert.throws(() => parseExposition("# HELP a x\n# TYPE a gauge\na 1\na 2\n"), /duplicate/);
    assert.throws(() => parseExposition('# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'), /cumulative/);
  });
});
