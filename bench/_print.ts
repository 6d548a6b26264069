/** The benchmark's printed tables: every row's figures, then the targets table. */
import { round, type RunFigures } from "./_stats.ts";
import type { TargetLine } from "./_targets.ts";

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

const num = (value: number, digits = 0): string => (Number.isNaN(value) ? "-" : String(round(value, digits)));

export function printResults(results: readonly RunFigures[], failures: readonly { key: string; name: string; error: string }[]): void {
  table(
    ["row", "key", "jobs/s", "load p50 ms", "load p99 ms", "1-in-flight p50 ms", "p99 ms", "CPU µs/job", "peak RSS MiB"],
    results.map((r) => [
      r.name,
      r.key ?? "",
      num(r.jobsPerSecond),
      num(r.loadP50Ms),
      num(r.loadP99Ms),
      num(r.idleP50Ms, 3),
      num(r.idleP99Ms, 3),
      num(r.cpuUsPerJob.total ?? Number.NaN, 1),
      Object.entries(r.peakRssMb).map(([k, v]) => `${k} ${v}`).join(", "),
    ]),
  );
  for (const f of failures) console.log(`FAILED ${f.key} (${f.name}): ${f.error}`);
  console.log("\nCPU µs per job, by process, and other figures:");
  for (const r of results) {
    const cpu = Object.entries(r.cpuUsPerJob).map(([k, v]) => `${k} ${v}`).join(", ");
    const extra = Object.entries(r.extra ?? {}).map(([k, v]) => `${k} ${round(v, 2)}`).join(", ");
    console.log(`  ${r.name}: ${[cpu, extra].filter((s) => s !== "").join("; ")}`);
  }
}

export function printTargets(lines: readonly TargetLine[], repeat: number): void {
  console.log(`\nTargets of issue #16${repeat > 1 ? " (median run of each row)" : ""}; CPU = µs per job summed over the row's processes:\n`);
  table(
    ["figure", "now", "target", "met", "basis"],
    lines.map((l) => [l.figure, l.now, l.target, l.verdict === true ? "met" : l.verdict === false ? "NOT met" : "not measured", l.basis]),
  );
  for (const l of lines) {
    if (typeof l.verdict === "string") console.log(`  ${l.figure}: ${l.verdict}`);
    if (l.note !== undefined) console.log(`  ${l.figure}: ${l.note}`);
  }
  const measured = lines.filter((l) => typeof l.verdict === "boolean");
  console.log(`\n${measured.filter((l) => l.verdict === true).length} of ${lines.length} targets met (${lines.length - measured.length} not measured)`);
}
