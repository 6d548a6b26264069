/**
 * `mario logs <job-id> --url=http://127.0.0.1:8080 [--follow]`
 *
 * Prints a job's log lines, attempt by attempt, from a gateway (`mario up` or `mario gateway`):
 * `GET /jobs/:id/logs`. With `--follow`, keeps printing while the job runs (server-sent events
 * of `GET /jobs/:id/logs?follow`) and exits when it ends: 0 when it succeeded, 1 otherwise.
 *
 * ```
 * mario logs 0mz1x4k2p9a8b7c6d5e4f3 --url=http://127.0.0.1:8080 --follow
 * ```
 */
import { defineCommand } from "citty";
import { ERROR_CODES } from "../../core/errors/error-codes.ts";
import { errorFromCode } from "../../core/errors/error-from-code.ts";
import { UsageError } from "../../core/errors/usage-error.ts";
import type { LogLine } from "../../core/job-logs.ts";

interface AttemptLogs {
  step: string;
  attempt: number;
  outcome?: string | undefined;
  logs: LogLine[];
  dropped?: number | undefined;
}

interface LogsAnswer {
  id: string;
  status: string;
  attempts: AttemptLogs[];
}

export default defineCommand({
  meta: { name: "logs", description: "Print a job's log lines (from a gateway), attempt by attempt" },
  args: {
    "job-id": { type: "positional", required: true, description: "the job's id" },
    url: { type: "string", description: "the gateway, e.g. http://127.0.0.1:8080 (default MARIO_URL, else http://127.0.0.1:8080)" },
    follow: { type: "boolean", default: false, description: "keep printing while the job runs; exit when it ends" },
    token: { type: "string", description: "bearer token of the gateway (default MARIO_TOKEN)" },
  },
  async run({ args }) {
    const base = (args.url ?? process.env.MARIO_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
    if (!/^https?:\/\/[^/\s]+/.test(base)) throw new UsageError(`--url must be the gateway's http(s) URL, got "${base}"`);
    const token = args.token ?? process.env.MARIO_TOKEN;
    const headers: Record<string, string> = token === undefined || token === "" ? {} : { authorization: `Bearer ${token}` };
    const id = encodeURIComponent(args["job-id"]);
    if (!args.follow) {
      const answer = (await request(`${base}/jobs/${id}/logs`, headers)) as LogsAnswer;
      for (const attempt of answer.attempts) printAttempt(attempt);
      return 0;
    }
    return follow(`${base}/jobs/${id}/logs?follow`, headers);
  },
});

function printAttempt(attempt: AttemptLogs): void {
  for (const line of attempt.logs) printLine(attempt.step, attempt.attempt, line);
  if ((attempt.dropped ?? 0) > 0) process.stdout.write(`${attempt.step}#${attempt.attempt} … ${attempt.dropped} line(s) cut (the job's log limit)\n`);
}

function printLine(step: string, attempt: number, line: LogLine): void {
  process.stdout.write(`${step}#${attempt} ${new Date(line.t).toISOString()} ${line.level.padEnd(5)} ${line.msg}\n`);
}

async function request(url: string, headers: Record<string, string>): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { headers });
  } catch (error) {
    throw new UsageError(`cannot reach ${new URL(url).origin}: ${(error as Error).message}`);
  }
  const body = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
  if (!res.ok) throw errorFromCode(body?.error?.code ?? ERROR_CODES.INTERNAL, body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

/** Reads the event stream: `line` events are printed, `end` finishes with the job's status. */
async function follow(url: string, headers: Record<string, string>): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { ...headers, accept: "text/event-stream" } });
  } catch (error) {
    throw new UsageError(`cannot reach ${new URL(url).origin}: ${(error as Error).message}`);
  }
  if (!res.ok || res.body === null) {
    const body = (await res.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
    throw errorFromCode(body?.error?.code ?? ERROR_CODES.INTERNAL, body?.error?.message ?? `HTTP ${res.status}`);
  }
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (data === "") continue;
      const parsed = JSON.parse(data) as { step: string; attempt: number; dropped?: number; status?: string } & LogLine;
      if (event === "line") printLine(parsed.step, parsed.attempt, parsed);
      else if (event === "cut") process.stdout.write(`${parsed.step}#${parsed.attempt} … ${parsed.dropped} line(s) cut (the job's log limit)\n`);
      else if (event === "end") return parsed.status === "succeeded" ? 0 : 1;
    }
  }
  return 1;
}
