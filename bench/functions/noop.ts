/**
 * The benchmark's no-op function file, served by `mario host bench/functions` and
 * `mario up bench/functions` (job type and one-step pipeline "noop"), and called in process by the
 * bare Hono baseline: it returns its input unchanged.
 *
 * Concurrency: BENCH_FN_CONCURRENCY (default 64); `mario host --concurrency=N` overrides it.
 */
export const config = { concurrency: Number(process.env.BENCH_FN_CONCURRENCY ?? 64), timeoutMs: 30_000 };

export default function noop(instructions: Record<string, unknown>): Record<string, unknown> {
  return instructions;
}
