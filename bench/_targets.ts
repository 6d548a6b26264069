/**
 * Issue #16's targets table, computed from one run's rows. Each line names its basis: CPU µs per
 * job (summed over every process of the row, the figure that holds on a shared machine), jobs/s,
 * p50 latency, MiB or bytes. A line whose rows are missing or failed says "not measured" and why.
 */
import { NAMES, PAYLOADS } from "./_rows.ts";
import { round, type RunFigures } from "./_stats.ts";

export interface TargetLine {
  figure: string;
  basis: string;
  now: string;
  target: string;
  /** true / false, or the reason it was not measured. */
  verdict: boolean | string;
  /** Printed under the table (e.g. why a fallback was used). */
  note?: string | undefined;
}

type Lookup = (name: string) => RunFigures | string;

const cpu = (r: RunFigures): number => r.cpuUsPerJob.total ?? Number.NaN;
const x = (v: number): string => `${round(v, 2)}×`;

/** `find` answers the run of that name (the median one), or why there is none. */
export function targetLines(find: Lookup): TargetLine[] {
  const lines: TargetLine[] = [];
  const need = (figure: string, basis: string, target: string, names: string[], compute: (rs: RunFigures[]) => { now: string; met: boolean }): void => {
    const found = names.map(find);
    const missing = found.find((f): f is string => typeof f === "string");
    if (missing !== undefined) {
      lines.push({ figure, basis, now: "-", target, verdict: `not measured: ${missing}` });
      return;
    }
    const { now, met } = compute(found as RunFigures[]);
    lines.push({ figure, basis, now, target, verdict: met });
  };

  need("Redis 1-step vs BullMQ", "jobs/s ratio; CPU: BullMQ's µs/job over Mario's", "≥ 3× both", [NAMES.redis1, NAMES.bullmq], ([m, b]) => {
    const speed = m!.jobsPerSecond / b!.jobsPerSecond;
    const cost = cpu(b!) / cpu(m!);
    return { now: `${x(speed)} jobs/s, ${x(cost)} CPU`, met: speed >= 3 && cost >= 3 };
  });
  need("Redis 1-step vs the minimal Redis lease chain", "CPU: chain's µs/job over Mario's (jobs/s ratio shown)", "≥ 0.7×", [NAMES.redis1, NAMES.redisChain], ([m, c]) => {
    const cost = cpu(c!) / cpu(m!);
    return { now: `${x(cost)} CPU (${x(m!.jobsPerSecond / c!.jobsPerSecond)} jobs/s)`, met: cost >= 0.7 };
  });
  need("memory 1-step vs the minimal ZeroMQ chain", "CPU: chain's µs/job over Mario's (jobs/s ratio shown)", "≥ 0.5×", [NAMES.memory1, NAMES.zmqChain], ([m, c]) => {
    const cost = cpu(c!) / cpu(m!);
    return { now: `${x(cost)} CPU (${x(m!.jobsPerSecond / c!.jobsPerSecond)} jobs/s)`, met: cost >= 0.5 };
  });
  for (const [storage, up, hono] of [["memory", NAMES.upMemory, NAMES.honoMemory], ["redis", NAMES.upRedis, NAMES.honoRedis]] as const) {
    need(`gateway POST vs bare Hono + enqueue (${storage})`, "CPU: Hono's µs/request over mario up's (POSTs/s ratio shown)", "≥ 0.7×", [up, hono], ([u, h]) => {
      const cost = cpu(h!) / cpu(u!);
      const posts = (u!.extra?.postsPerSecond ?? Number.NaN) / (h!.extra?.postsPerSecond ?? Number.NaN);
      return { now: `${x(cost)} CPU (${x(posts)} POSTs/s)`, met: cost >= 0.7 };
    });
  }
  need("function file vs in-process step, CPU per job", "CPU: mario host (concurrency 64) µs/job over mario step's", "≤ 1.5×", [NAMES.host64, NAMES.memory1], ([h, m]) => {
    const cost = cpu(h!) / cpu(m!);
    return { now: `${x(cost)} (${round(cpu(h!))} / ${round(cpu(m!))} µs)`, met: cost <= 1.5 };
  });
  need("RSS of a no-op function at concurrency 64", "peak RSS of the mario host process, MiB", "≤ 300 MiB", [NAMES.host64], ([h]) => {
    const rss = h!.peakRssMb["mario host"] ?? Number.NaN;
    return { now: `${rss} MiB`, met: rss <= 300 };
  });
  need("?wait 1-in-flight p50 vs bare Hono calling the function", "p50 latency ratio", "≤ 2×", [NAMES.waitUp, NAMES.waitHono], ([u, h]) => {
    const ratio = u!.idleP50Ms / h!.idleP50Ms;
    return { now: `${x(ratio)} (${round(u!.idleP50Ms, 2)} / ${round(h!.idleP50Ms, 2)} ms)`, met: ratio <= 2 };
  });
  need("memory 1-in-flight p50 vs zeromq.js round trip", "p50 latency ratio", "≤ 3×", [NAMES.memory1, NAMES.zmqRoundTrip], ([m, z]) => {
    const ratio = m!.idleP50Ms / z!.idleP50Ms;
    return { now: `${x(ratio)} (${round(m!.idleP50Ms, 2)} / ${round(z!.idleP50Ms, 3)} ms)`, met: ratio <= 3 };
  });
  for (const [storage, target] of [["memory", 10], ["redis", 20]] as const) {
    // The slope from 100 B to 100 KB; when the 100 KB row failed, to 10 KB (and says why).
    const [small = "", mid = "", big = ""] = PAYLOADS.map(([label]) => find(NAMES.payload(storage, label)));
    const upper =
      typeof big !== "string" ? { run: big, bytes: PAYLOADS[2]![2], note: undefined } : typeof mid !== "string" ? { run: mid, bytes: PAYLOADS[1]![2], note: `slope to 10 KB: ${big}` } : undefined;
    const basis = "CPU µs/job slope from 100 B to 100 KB, per 1000 B";
    if (typeof small === "string" || upper === undefined) {
      lines.push({ figure: `cost per KB of payload (${storage})`, basis, now: "-", target: `≤ ${target} µs`, verdict: `not measured: ${typeof small === "string" ? small : typeof big === "string" ? big : ""}` });
      continue;
    }
    const slope = (cpu(upper.run) - cpu(small)) / ((upper.bytes - PAYLOADS[0]![2]) / 1000);
    lines.push({ figure: `cost per KB of payload (${storage})`, basis, now: `${round(slope)} µs/KB${upper.note === undefined ? "" : " (to 10 KB)"}`, target: `≤ ${target} µs`, verdict: slope <= target, note: upper.note });
  }
  need("CPU per job at the queue limit vs no limit", "CPU µs/job, memory 1-step, maxQueued 100 vs default", "≤ +10 %", [NAMES.limit, NAMES.memory1], ([l, m]) => {
    const extra = (cpu(l!) / cpu(m!) - 1) * 100;
    return { now: `${extra >= 0 ? "+" : ""}${round(extra)} % (${round(cpu(l!))} / ${round(cpu(m!))} µs, ${l!.extra?.busyRetries ?? 0} BUSY)`, met: extra <= 10 };
  });
  need("memory storage per queued small job", "heap bytes per queued {\"i\":1}, with the client's idempotency key (without)", "≤ 1 KB", [NAMES.heap], ([h]) => {
    const keyed = h!.extra?.bytesPerJobWithIdempotencyKey ?? Number.NaN;
    return { now: `${keyed} B (${h!.extra?.bytesPerJob ?? Number.NaN} B)`, met: keyed <= 1024 };
  });
  return lines;
}
