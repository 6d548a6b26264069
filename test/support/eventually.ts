/**
 * Polls `check` until it answers true, at most `timeoutMs` (default 30 s: a bound, generous for a
 * loaded machine, never a measure). For conditions that only time brings
 * (a lease expiring) or that another process reaches; never a fixed sleep.
 */
import { setTimeout as delay } from "node:timers/promises";

export async function eventually(
  check: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; message?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(options.message ?? "condition not reached in time");
    await delay(options.intervalMs ?? 20);
  }
}
