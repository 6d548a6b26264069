/**
 * Keeps what an attempt logs: `ctx.logger` and `console.*` called while it runs (in this
 * process or in a worker thread: the same code runs in both). `console` is wrapped once per
 * process (or thread); an AsyncLocalStorage tells which attempt, if any, a call belongs to, so
 * concurrent attempts each keep their own lines. Output still goes where it went before (stderr,
 * the server's log): keeping a line is in addition, never instead.
 *
 * ```ts
 * const log = new AttemptLog((line) => live(line));
 * const outcome = await log.run(() => handler(input, { ...ctx, logger: log.logger(baseLogger) }));
 * outcome.logs = log.lines;
 * ```
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import { safeStringify } from "../core/job.ts";
import { clipMessage, DEFAULT_LOG_LIMITS, type LogLevel, type LogLimits, type LogLine } from "../core/job-logs.ts";
import type { LogFields, Logger } from "../log/logger.ts";

const current = new AsyncLocalStorage<AttemptLog>();
let consoleWrapped = false;

function wrapConsole(): void {
  if (consoleWrapped) return;
  consoleWrapped = true;
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    // console.log is kept as info; the others at their own level.
    const level: LogLevel = method === "log" ? "info" : method;
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      current.getStore()?.add(level, format(...args));
      original(...args);
    };
  }
}

/** The lines of one attempt, at most the job's limit (an attempt cannot hold more than a job). */
export class AttemptLog {
  readonly lines: LogLine[] = [];
  dropped = 0;
  readonly #onLine: ((line: LogLine) => void) | undefined;
  readonly #limits: LogLimits;

  constructor(onLine?: (line: LogLine) => void, limits: LogLimits = DEFAULT_LOG_LIMITS) {
    this.#onLine = onLine;
    this.#limits = limits;
    wrapConsole();
  }

  add(level: LogLevel, text: string): void {
    if (this.lines.length >= this.#limits.maxLines) {
      this.dropped += 1;
      return;
    }
    const line: LogLine = { t: Date.now(), level, msg: clipMessage(text, this.#limits) };
    this.lines.push(line);
    this.#onLine?.(line);
  }

  /** Runs `work` as this attempt: console calls inside it (and in what it awaits) are kept here. */
  run<T>(work: () => T): T {
    return current.run(this, work);
  }

  /** A logger that keeps each line here and also writes it to `base`. */
  logger(base: Logger): Logger {
    const keep = (level: LogLevel) => (message: string, fields?: LogFields): void => {
      this.add(level, fields === undefined || Object.keys(fields).length === 0 ? message : `${message} ${safeStringify(fields)}`);
      base[level](message, fields);
    };
    const make = (logger: Logger): Logger => ({
      debug: keep("debug"),
      info: keep("info"),
      warn: keep("warn"),
      error: keep("error"),
      child: (fields) => make(logger.child(fields)),
    });
    return make(base);
  }
}
