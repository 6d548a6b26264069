/**
 * SIGSTOP that has taken effect: the kernel stops a process's threads one by one, and under load
 * a thread may run a little longer after `kill` returns. `stopProcess` resolves once
 * /proc/<pid>/stat says the process is stopped (state T), so what a test does next meets a
 * stopped process. Only for processes the test started itself (by pid).
 *
 * ```ts
 * await stopProcess(child.pid);   // SIGSTOP, then wait for state T
 * process.kill(child.pid, "SIGCONT");
 * ```
 */
import { readFileSync } from "node:fs";
import { eventually } from "./eventually.ts";

/** The state letter of /proc/<pid>/stat (R running, S sleeping, T stopped, …). */
export function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const end = stat.lastIndexOf(")");
  return stat.slice(end + 2, end + 3);
}

export async function stopProcess(pid: number): Promise<void> {
  if (!(pid > 0)) throw new Error(`not a pid: ${pid}`);
  process.kill(pid, "SIGSTOP");
  await eventually(() => processState(pid) === "T", { timeoutMs: 5000, intervalMs: 5, message: `process ${pid} did not stop` });
}
