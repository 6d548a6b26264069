/**
 * SIGSTOP that has taken effect: the kernel stops a process's threads one by one, and under load
 * a thread (a ZeroMQ I/O thread, say) may run a little longer after `kill` returns.
 * `stopProcess` resolves once /proc/<pid>/task/<tid>/stat says every thread is stopped (state T),
 * so what a test does next meets a stopped process. Only for processes the test started itself.
 *
 * ```ts
 * await stopProcess(child.pid);   // SIGSTOP, then wait for state T in every thread
 * process.kill(child.pid, "SIGCONT");
 * ```
 */
import { readdirSync, readFileSync } from "node:fs";
import { eventually } from "./eventually.ts";

/** The state letter of a /proc stat file (R running, S sleeping, T stopped, …). */
function stateOf(statPath: string): string {
  const stat = readFileSync(statPath, "utf8");
  const end = stat.lastIndexOf(")");
  return stat.slice(end + 2, end + 3);
}

/** Whether every thread of `pid` is stopped. */
export function isStopped(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).every((tid) => stateOf(`/proc/${pid}/task/${tid}/stat`) === "T");
}

export async function stopProcess(pid: number): Promise<void> {
  if (!(pid > 0)) throw new Error(`not a pid: ${pid}`);
  process.kill(pid, "SIGSTOP");
  await eventually(() => isStopped(pid), { timeoutMs: 5000, intervalMs: 5, message: `process ${pid} did not stop` });
}
