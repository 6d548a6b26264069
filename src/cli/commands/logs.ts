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
import type { LogLine } from "../../core/job-logs.ts";
import type { AttemptLogs } from "../../gateway/_job-routes.ts";
import { gatewayClient, gatewayClientFlags } from "../_gateway-client.ts";

export default defineCommand({
  meta: { name: "logs", description: "Print a job's log lines (from a gateway), attempt by attempt" },
  args: {
    "job-id": { type: "positional", required: true, description: "the job's id" },
    ...gatewayClientFlags,
    follow: { type: "boolean", default: false, description: "keep printing while the job runs; exit when it ends" },
  },
  async run({ args }) {
    const gateway = gatewayClient(args);
    const path = `/jobs/${encodeURIComponent(args["job-id"])}/logs`;
    if (args.follow) return follow(await gateway.call(`${path}?follow`, { accept: "text/event-stream" }));
    const answer = (await (await gateway.call(path)).json()) as { attempts: AttemptLogs[] };
    for (const attempt of answer.attempts) printAttempt(attempt);
    return 0;
  },
});

function printAttempt(attempt: AttemptLogs): void {
  for (const line of attempt.logs) printLine(attempt.step, attempt.attempt, line);
  if ((attempt.dropped ?? 0) > 0) process.stdout.write(`${attempt.step}#${attempt.attempt} … ${attempt.dropped} line(s) cut (the job's log limit)\n`);
}

function printLine(step: string, attempt: number, line: LogLine): void {
  process.stdout.write(`${step}#${attempt} ${new Date(line.t).toISOString()} ${line.level.padEnd(5)} ${line.msg}\n`);
}

/** Reads the event stream: `line` events are printed, `end` finishes with the job's status. */
async function follow(res: Response): Promise<number> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body ?? []) {
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
