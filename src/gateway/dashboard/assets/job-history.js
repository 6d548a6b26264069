// A job's attempt history (each attempt's step, worker, host, start, duration, outcome, error)
// and its log lines per attempt, kept live while the job runs (read again every second while the
// dialog is open).

import { api } from "./api.js";
import { h } from "./dom.js";
import { dateTime, duration } from "./format.js";

export function renderHistory(job) {
  const attempts = job.history ?? [];
  if (attempts.length === 0) return h("p.muted.small", null, "No attempt finished yet.");
  const rows = attempts.map((a, i) =>
    h(
      "tr",
      { "data-attempt": String(i + 1), "data-outcome": a.outcome },
      h("td.num", null, String(i + 1)),
      h("td.mono", null, `${a.step} #${a.attempt}`),
      h("td", null, h("span.badge", { "data-status": a.outcome === "succeeded" ? "succeeded" : a.outcome === "dead" ? "dead" : "failed" }, a.outcome)),
      h("td.small", null, h("span.mono.ellipsis", null, a.workerId ?? "–"), h("span.muted.ellipsis", null, a.host ?? "")),
      h("td.small", null, dateTime(a.startedAt)),
      h("td.num.small", null, duration(Math.max(0, a.finishedAt - a.startedAt))),
      h("td.small", null, a.error ? `${a.error.name}${a.error.code ? ` [${a.error.code}]` : ""}: ${a.error.message}` : ""),
    ),
  );
  return h(
    "div.table-wrap",
    null,
    h("table.history", null, h("thead", null, h("tr", null, ["#", "step", "outcome", "worker · host", "started", "took", "error"].map((t) => h("th", null, t)))), h("tbody", null, rows)),
  );
}

function renderLogs(answer) {
  const blocks = answer.attempts.filter((a) => a.logs.length > 0 || a.dropped > 0);
  if (blocks.length === 0) return h("p.muted.small", null, "No log lines.");
  return h(
    "div.logs",
    null,
    blocks.map((a) =>
      h(
        "section.log-attempt",
        { "data-attempt": `${a.step}#${a.attempt}` },
        h("h4.small", null, `${a.step} · attempt ${a.attempt}${a.outcome ? ` · ${a.outcome}` : " · running"}`),
        h(
          "pre.log",
          null,
          a.logs.map((line) => h("span.log-line", { "data-level": line.level }, `${new Date(line.t).toISOString().slice(11, 23)} ${line.level.padEnd(5)} ${line.msg}\n`)),
          a.dropped > 0 ? h("span.log-cut", null, `… ${a.dropped} line(s) cut: the job's log limit\n`) : null,
        ),
      ),
    ),
  );
}

/** Fills `root` with the job's logs, read again every second while the job runs and `root` is shown. */
export function liveLogs(root, jobId) {
  let stopped = false;
  let timer;
  const read = async () => {
    if (stopped || !root.isConnected) return;
    try {
      const answer = await api(`/jobs/${encodeURIComponent(jobId)}/logs`);
      if (stopped) return;
      root.replaceChildren(renderLogs(answer));
      if (answer.status !== "succeeded" && answer.status !== "dead" && answer.status !== "cancelled") timer = setTimeout(read, 1000);
    } catch (error) {
      root.replaceChildren(h("p.hint", { "data-kind": "error" }, error.message));
    }
  };
  void read();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
