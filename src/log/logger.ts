/**
 * Structured logging. Lines go to stderr: human-readable on a terminal, JSON otherwise (or with
 * `MARIO_LOG_FORMAT=json`). `MARIO_LOG_LEVEL` = debug | info | warn | error | silent (default info).
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel | "silent", number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LoggerOptions {
  level?: LogLevel | "silent" | undefined;
  format?: "json" | "pretty" | undefined;
  write?: ((line: string) => void) | undefined;
  fields?: LogFields | undefined;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const envLevel = process.env.MARIO_LOG_LEVEL as LogLevel | "silent" | undefined;
  const level = options.level ?? (envLevel !== undefined && envLevel in RANK ? envLevel : "info");
  const format = options.format ?? (process.env.MARIO_LOG_FORMAT === "json" || !process.stderr.isTTY ? "json" : "pretty");
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  return make(RANK[level], format, write, options.fields ?? {});
}

export const silentLogger: Logger = make(RANK.silent, "json", () => {}, {});

function make(min: number, format: "json" | "pretty", write: (line: string) => void, base: LogFields): Logger {
  const log = (level: LogLevel, message: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const all = { ...base, ...fields };
    if (format === "json") {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...all }));
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      write(`${new Date().toISOString().slice(11, 23)} ${level.padEnd(5)} ${message}${extra === "" ? "" : "  " + extra}`);
    }
  };
  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    child: (fields) => make(min, format, write, { ...base, ...fields }),
  };
}
