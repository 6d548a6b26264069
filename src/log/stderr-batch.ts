/**
 * Log lines to stderr gathered per event-loop turn into one write. `mario up` logs two lines per
 * job (step finished, job finished), and each was a write(2) of its own (node writes stderr to a
 * file or a pipe synchronously on Linux): ~60–80 µs of its main thread per job under load. The
 * lines keep their order, go out at the end of the turn (setImmediate, which does not keep the
 * process alive), at once past 1 000 waiting, and at `exit` (process.exit, a crash, the end of the
 * loop): only a SIGKILL in the same turn loses them. In a worker thread each line is written as
 * it comes (its stderr is already a message to the main thread).
 *
 * ```ts
 * const logger = createLogger({ write: writeBatchedStderr });
 * ```
 */
import { isMainThread } from "node:worker_threads";

const MAX_PENDING_LINES = 1000;

let pending: string[] = [];
let scheduled = false;
let hooked = false;

/** Writes every waiting line now. */
export function flushBatchedStderr(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const text = pending.join("");
  pending = [];
  process.stderr.write(text);
}

/** One log line (without its newline), written with the others of this turn. */
export function writeBatchedStderr(line: string): void {
  if (!isMainThread) {
    process.stderr.write(line + "\n");
    return;
  }
  pending.push(line + "\n");
  if (!hooked) {
    hooked = true;
    process.on("exit", flushBatchedStderr);
  }
  if (pending.length >= MAX_PENDING_LINES) flushBatchedStderr();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flushBatchedStderr).unref();
  }
}
