/**
 * A job's log lines: what a step writes through `ctx.logger` or `console.*`, kept with the job,
 * per attempt, with time and level. Capped per job, in lines and in bytes; the cut is marked (an
 * attempt says how many of its lines were dropped, and a last line says so).
 *
 * ```ts
 * const capped = capLines(lines, { lines: 10, bytes: 900 }, DEFAULT_LOG_LIMITS);
 * // capped.lines: what fits in what is left of the job's budget; capped.dropped: how many did not
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogLine {
  /** Epoch ms. */
  t: number;
  level: LogLevel;
  msg: string;
}

export interface LogLimits {
  /** Lines kept per job, every attempt together. */
  maxLines: number;
  /** Bytes (UTF-8, of the messages) kept per job. */
  maxBytes: number;
  /** Longest single line, characters; a longer one is cut and ends with "…". */
  maxLineChars: number;
}

/** 1 000 lines, 256 KiB, 8 192 characters a line. */
export const DEFAULT_LOG_LIMITS: LogLimits = { maxLines: 1000, maxBytes: 256 * 1024, maxLineChars: 8192 };

export interface LogUsage {
  lines: number;
  bytes: number;
}

/** UTF-8 size of a message (what the byte cap counts). */
export function lineBytes(line: LogLine): number {
  return Buffer.byteLength(line.msg, "utf8");
}

/** A message as kept: one line of at most `maxLineChars`. */
export function clipMessage(text: string, limits: LogLimits = DEFAULT_LOG_LIMITS): string {
  return text.length <= limits.maxLineChars ? text : `${text.slice(0, limits.maxLineChars - 1)}…`;
}

/** The lines that fit after `used`, in order; `dropped` counts the others (0 when all fit). */
export function capLines(lines: readonly LogLine[], used: LogUsage, limits: LogLimits = DEFAULT_LOG_LIMITS): { lines: LogLine[]; dropped: number } {
  const kept: LogLine[] = [];
  let count = used.lines;
  let bytes = used.bytes;
  for (const line of lines) {
    const size = lineBytes(line);
    if (count + 1 > limits.maxLines || bytes + size > limits.maxBytes) break;
    kept.push(line);
    count += 1;
    bytes += size;
  }
  return { lines: kept, dropped: lines.length - kept.length };
}

/** Lines and bytes the attempts of a job already hold. */
export function usageOf(attempts: readonly { logs?: readonly LogLine[] | undefined }[] | undefined): LogUsage {
  let lines = 0;
  let bytes = 0;
  for (const attempt of attempts ?? []) {
    for (const line of attempt.logs ?? []) {
      lines += 1;
      bytes += lineBytes(line);
    }
  }
  return { lines, bytes };
}
