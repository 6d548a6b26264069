// The workers table and the jobs table (recent / retrying / dead tabs). Job rows are keyed by
// id and rebuilt only when the job changed, so an open error stack stays open across pushes.

import { h, setText } from "./dom.js";
import { count, duration, shortId } from "./format.js";

export function renderWorkers(tbody, workers, now, staleAfterMs) {
  const rows = workers.map((w) => {
    const inProcess = w.address === "in-process";
    const silent = now - w.lastSeen;
    const stale = !inProcess && silent > staleAfterMs;
    const heartbeat = inProcess ? "in process" : stale ? `stale · ${duration(silent)}` : `${duration(silent)} ago`;
    return h(
      "tr",
      { "data-worker": w.workerId, "data-stale": stale, title: `${w.workerId} · ${w.address} · pid ${w.pid}` },
      h("td", null, h("span.mono.ellipsis", null, w.jobType), h("span.small.muted.mono.ellipsis", null, w.workerId)),
      h("td", null, h("span.ellipsis", null, w.host), h("span.small.muted.ellipsis", null, inProcess ? `pid ${w.pid}` : w.address)),
      h("td.num", null, h("span.load", null, `${w.inFlight}/${w.capacity}`), h("meter", { min: 0, max: Math.max(1, w.capacity), value: w.inFlight })),
      h("td.num", null, h("span.heartbeat", { "data-stale": stale }, heartbeat)),
    );
  });
  tbody.replaceChildren(...(rows.length > 0 ? rows : [h("tr", null, h("td.muted", { colspan: 4 }, "No workers announced."))]));
}

const STATUS_LABEL = { queued: "queued", delayed: "delayed", running: "running", succeeded: "succeeded", failed: "retrying", dead: "dead", cancelled: "cancelled" };

export class JobsView {
  #table;
  #empty;
  #onOpen;
  #onRedrive;
  #onSelect;
  /** id → { body, signature } */
  #rows = new Map();

  constructor(table, empty, { onOpen, onRedrive, onSelect }) {
    this.#table = table;
    this.#empty = empty;
    this.#onOpen = onOpen;
    this.#onRedrive = onRedrive;
    this.#onSelect = onSelect;
  }

  render(jobs, selected = new Set()) {
    const keep = new Set();
    let previous = this.#table.tHead;
    for (const job of jobs) {
      keep.add(job.id);
      const signature = `${selected.has(job.id)}${JSON.stringify(job)}`;
      let row = this.#rows.get(job.id);
      if (row === undefined || row.signature !== signature) {
        const body = this.#build(job, selected.has(job.id));
        if (row !== undefined) {
          const open = row.body.querySelector("details")?.open ?? false;
          if (open && body.querySelector("details")) body.querySelector("details").open = true;
          row.body.replaceWith(body);
        }
        row = { body, signature };
        this.#rows.set(job.id, row);
      }
      if (previous.nextSibling !== row.body) previous.after(row.body);
      previous = row.body;
    }
    for (const [id, row] of this.#rows) {
      if (keep.has(id)) continue;
      row.body.remove();
      this.#rows.delete(id);
    }
    this.#empty.hidden = jobs.length > 0;
  }

  #build(job, isSelected) {
    const stepCount = job.stepCount ?? job.route?.length ?? 1;
    const step = stepCount > 1 ? `${job.step} (${job.stepIndex + 1}/${stepCount})` : job.step;
    const actions = [h("button.link", { type: "button", onclick: () => this.#onOpen(job.id) }, "details")];
    if (job.status === "dead") actions.push(h("button.small-button", { type: "button", "data-action": "redrive", onclick: () => this.#onRedrive(job.id) }, "Redrive"));
    const progress = job.progress ? h("div.small.muted", null, `${Math.round(job.progress.fraction * 100)}%${job.progress.message ? ` · ${job.progress.message}` : ""}`) : null;
    const retryAt = job.status === "failed" && job.runAt ? h("div.small.muted", null, "retry in ", h("span", { "data-until": job.runAt }, "…")) : null;
    const startsAt = job.status === "delayed" && job.runAt
      ? h("div.small.muted", { "data-due": job.runAt }, "starts in ", h("span", { "data-until": job.runAt }, "…"), ` · ${new Date(job.runAt).toISOString().replace(".000Z", "Z")}`)
      : null;
    const priority = job.priority ? h("span.priority", { title: "priority (0 to 9, higher runs first)" }, ` p${job.priority}`) : null;
    const pick = h("input", { type: "checkbox", "aria-label": `select job ${job.id}`, "data-pick": job.id, onchange: (e) => this.#onSelect?.(job.id, e.target.checked) });
    pick.checked = isSelected;
    const main = h(
      "tr.job-row",
      null,
      h("td.pick", null, pick),
      h("td", null, h("span.badge", { "data-status": job.status }, STATUS_LABEL[job.status] ?? job.status)),
      h("td", null, h("button.link.mono", { type: "button", title: job.id, onclick: () => this.#onOpen(job.id) }, shortId(job.id)), progress),
      h("td", null, h("span", null, job.pipeline), h("span.muted", null, " · "), h("span.mono", null, step), priority, retryAt, startsAt),
      h("td.num", { title: "attempts (stalls: handed back by a lost or stopped worker)" }, count(job.attempts), job.stalls ? h("span.muted", null, ` +${count(job.stalls)} stalled`) : null),
      h("td.num", null, h("span", { "data-since": job.updatedAt, title: new Date(job.updatedAt).toISOString() }, "")),
      h("td.actions", null, actions),
    );
    const body = h("tbody", { "data-job": job.id, "data-status": job.status }, main);
    if (job.error !== undefined) {
      const summary = `${job.error.name}${job.error.code ? ` [${job.error.code}]` : ""}: ${job.error.message}`;
      const details = h("details.error", null, h("summary", null, summary), job.error.stack ? h("pre.stack", null, job.error.stack) : h("p.muted.small", null, "no stack"));
      body.append(h("tr.error-row", null, h("td", { colspan: 7 }, details)));
    }
    return body;
  }
}

/** Refreshes every "… ago" and "in …" cell from its data attribute. */
export function tickAges(root, now) {
  for (const el of root.querySelectorAll("[data-since]")) {
    const since = Number(el.dataset.since);
    if (since > 0) setText(el, el.dataset.field === "oldest" ? duration(now - since) : `${duration(now - since)} ago`);
  }
  for (const el of root.querySelectorAll("[data-until]")) setText(el, duration(Number(el.dataset.until) - now));
}
