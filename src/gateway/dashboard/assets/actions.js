// What the operator can do: enqueue jobs from the form (JSON checked before anything is sent),
// open a job's detail, redrive a dead (or cancelled) job, cancel a job not finished.

import { api, toast } from "./api.js";
import { $, h } from "./dom.js";
import { count, dateTime, duration, json, shortId } from "./format.js";
import { liveLogs, renderHistory } from "./job-history.js";

let stopLogs = () => {};

/** Parses the instructions field: { value } or { error } with a message naming the problem. */
export function parseInstructions(text) {
  if (text.trim() === "") return { value: {} };
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `Not valid JSON: ${error.message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const kind = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
    return { error: `Instructions must be a JSON object ({…}), not ${kind}.` };
  }
  return { value };
}

export function setUpEnqueueForm({ onOpen }) {
  const form = $("#enqueue-form");
  const textarea = $("#enqueue-json");
  const hint = $("#enqueue-hint");
  const submit = $("#enqueue-submit");
  const check = () => {
    const parsed = parseInstructions(textarea.value);
    textarea.setAttribute("aria-invalid", parsed.error ? "true" : "false");
    hint.dataset.kind = parsed.error ? "error" : "";
    hint.replaceChildren(parsed.error ?? "");
    return parsed;
  };
  textarea.addEventListener("input", check);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const parsed = check();
    if (parsed.error) {
      textarea.focus();
      return;
    }
    const pipeline = $("#enqueue-pipeline").value;
    const copies = Math.min(100, Math.max(1, Math.trunc(Number($("#enqueue-copies").value) || 1)));
    submit.disabled = true;
    hint.dataset.kind = "";
    hint.replaceChildren(`Enqueuing ${copies} job${copies === 1 ? "" : "s"}…`);
    try {
      const ids = [];
      for (let i = 0; i < copies; i++) {
        const answer = await api(`/pipelines/${encodeURIComponent(pipeline)}/jobs`, { method: "POST", body: parsed.value });
        ids.push(answer.id);
      }
      hint.dataset.kind = "ok";
      hint.replaceChildren(
        `Queued ${copies} job${copies === 1 ? "" : "s"} on ${pipeline}: `,
        ...ids.slice(0, 3).flatMap((id, i) => [i > 0 ? ", " : "", h("button.link.mono", { type: "button", onclick: () => onOpen(id) }, shortId(id))]),
        ids.length > 3 ? ` and ${ids.length - 3} more` : "",
      );
    } catch (error) {
      hint.dataset.kind = "error";
      hint.replaceChildren(`Not queued: ${error.message}`);
    } finally {
      submit.disabled = false;
    }
  });
}

/** Fills the pipeline select, keeping the current choice. */
export function setPipelineOptions(definitions) {
  const select = $("#enqueue-pipeline");
  const current = select.value;
  const names = definitions.map((d) => d.name);
  if (JSON.stringify([...select.options].map((o) => o.value)) === JSON.stringify(names)) return;
  select.replaceChildren(...definitions.map((d) => h("option", { value: d.name }, d.steps.length > 1 ? `${d.name}  (${d.steps.join(" → ")})` : d.name)));
  if (names.includes(current)) select.value = current;
}

/** `POST /jobs/:id/<route>`, said in a toast; true when it was done. */
async function act(jobId, route, what, done) {
  try {
    toast(done(await api(`/jobs/${encodeURIComponent(jobId)}/${route}`, { method: "POST" })), "ok");
    return true;
  } catch (error) {
    toast(`${what} failed: ${error.message}`, "error");
    return false;
  }
}

export const redrive = (jobId) => act(jobId, "retry", "Redrive", () => `Job ${shortId(jobId)} requeued`);

/** Cancels a job: at once when it waits, or its running attempt is stopped (it ends cancelled). */
export const cancel = (jobId) => act(jobId, "cancel", "Cancel", (job) => `Job ${shortId(jobId)} ${job.status === "cancelled" ? "cancelled" : "is being stopped"}`);

export async function openJob(jobId) {
  const dialog = $("#job-dialog");
  const root = $("#job-detail");
  root.replaceChildren(h("p.muted", null, "Loading…"));
  $("#job-dialog-title").textContent = `Job ${shortId(jobId)}`;
  if (!dialog.open) dialog.showModal();
  stopLogs();
  try {
    const job = await api(`/jobs/${encodeURIComponent(jobId)}`);
    root.replaceChildren(renderJob(job));
    stopLogs = liveLogs($("#job-logs"), jobId);
    dialog.addEventListener("close", () => stopLogs(), { once: true });
  } catch (error) {
    root.replaceChildren(h("p.hint", { "data-kind": "error" }, error.message));
  }
}

/** Statuses a job can be cancelled in. */
const CANCELLABLE = new Set(["queued", "delayed", "failed", "running"]);

function renderJob(job) {
  const end = job.finishedAt ?? Date.now();
  const facts = [
    ["id", h("span.mono", null, job.id)],
    ["status", h("span.badge", { "data-status": job.status }, job.status)],
    ["pipeline", `${job.pipeline} (${job.route.join(" → ")})`],
    ["step", `${job.step} (${job.stepIndex + 1}/${job.route.length}), attempt ${job.attempts}`],
    ["stalls", `${count(job.stalls ?? 0)} (handed back by a lost or stopped worker; not attempts)`],
    ["created", dateTime(job.createdAt)],
    ["finished", job.finishedAt ? `${dateTime(job.finishedAt)} · took ${duration(job.finishedAt - job.createdAt)}` : "–"],
  ];
  if (job.status === "delayed" && job.runAt) facts.push(["starts", `${dateTime(job.runAt)} (delayed: not before then, by storage's clock)`]);
  if (job.priority) facts.push(["priority", `${job.priority} (0 to 9, higher runs first at every step)`]);
  if (job.workerId) facts.push(["worker", h("span.mono", null, job.workerId)]);
  if (job.idempotencyKey) facts.push(["idempotency key", h("span.mono", null, job.idempotencyKey)]);
  const buttons = [];
  if (job.status === "dead" || job.status === "cancelled") buttons.push(h("button", { type: "button", "data-action": "redrive", onclick: async () => (await redrive(job.id)) && openJob(job.id) }, "Redrive this job"));
  if (CANCELLABLE.has(job.status)) {
    const stopping = job.cancelRequestedAt !== undefined;
    buttons.push(h("button.secondary", { type: "button", "data-action": "cancel", disabled: stopping, onclick: async () => (await cancel(job.id)) && openJob(job.id) }, stopping ? "Being cancelled…" : "Cancel this job"));
  }
  const actions = buttons.length > 0 ? h("div.row.end", null, buttons) : null;
  return h(
    "div.detail",
    null,
    h("dl.facts", null, facts.map(([k, v]) => [h("dt", null, k), h("dd", null, v)])),
    job.error ? h("section", null, h("h3", null, "Error"), h("p.error-message", null, `${job.error.name}${job.error.code ? ` [${job.error.code}]` : ""}: ${job.error.message}`), job.error.stack ? h("pre.stack", null, job.error.stack) : null) : null,
    actions,
    h("section", null, h("h3", null, "Timeline"), timeline(job, end)),
    h("section", { id: "job-history" }, h("h3", null, `Attempts (${(job.history ?? []).length})`), renderHistory(job)),
    h("section", null, h("h3", null, "Logs"), h("div", { id: "job-logs" }, h("p.muted.small", null, "Loading…"))),
    h("div.columns", null,
      h("section", null, h("h3", null, "Instructions"), h("pre.json", null, json(job.instructions))),
      h("section", null, h("h3", null, "Result"), h("pre.json", null, job.status === "succeeded" ? json(job.result) : "(not finished)")),
    ),
  );
}

function timeline(job, end) {
  const span = Math.max(1, end - job.createdAt);
  const pct = (t) => `${(((t - job.createdAt) / span) * 100).toFixed(2)}%`;
  const rows = job.route.map((jobType, index) => {
    const done = job.steps[index];
    let bar;
    let text;
    if (done) {
      bar = h("span.bar", { "data-kind": "done" });
      bar.style.left = pct(done.startedAt);
      bar.style.width = `max(2px, ${(((done.finishedAt - done.startedAt) / span) * 100).toFixed(2)}%)`;
      text = `${duration(done.finishedAt - done.startedAt)} · ${count(done.attempts)} attempt${done.attempts === 1 ? "" : "s"}`;
    } else if (index === job.stepIndex && job.status !== "succeeded") {
      bar = h("span.bar", { "data-kind": job.status });
      bar.style.left = pct(job.steps[index - 1]?.finishedAt ?? job.createdAt);
      bar.style.right = "0";
      text = `${job.status}${job.attempts > 0 ? ` · attempt ${job.attempts}` : ""}`;
    } else {
      text = "not reached";
    }
    const output = done ? h("details.output", null, h("summary", null, "output"), h("pre.json", null, json(done.output))) : null;
    return h("div.tl-row", null, h("span.mono.tl-name", null, jobType), h("div.tl-track", null, bar), h("span.small.tl-text", null, text), output);
  });
  return h("div.timeline", null, rows);
}
