// The schedules panel: each cron schedule's name, cron, next run and last job (a link to its
// detail), read from GET /schedules. Hidden while there are none. Read again at most every 2 s
// (on the stats pushes), and the "in …" of the next run ticks with the page's clock.

import { api } from "./api.js";
import { h, setText } from "./dom.js";
import { duration, shortId } from "./format.js";

const MIN_INTERVAL_MS = 2000;

export class SchedulesView {
  constructor(card, body, { onOpen }) {
    this.card = card;
    this.body = body;
    this.onOpen = onOpen;
    this.readAt = 0;
    this.reading = undefined;
    this.schedules = [];
  }

  /** Reads GET /schedules again unless it was read less than 2 s ago. */
  refresh() {
    if (this.reading !== undefined || Date.now() - this.readAt < MIN_INTERVAL_MS) return;
    this.readAt = Date.now();
    this.reading = api("/schedules")
      .then((answer) => this.render(answer.schedules))
      .catch(() => {})
      .finally(() => {
        this.reading = undefined;
      });
  }

  render(schedules) {
    this.schedules = schedules;
    this.card.hidden = schedules.length === 0;
    this.body.replaceChildren(
      ...schedules.map((s) =>
        h(
          "tr",
          { "data-schedule": s.name },
          h("td", { title: `${s.pipeline} · ${s.timezone}` }, s.name),
          h("td", null, h("code", null, s.cron)),
          h("td.num", { "data-next": s.nextRun ?? "", title: s.nextRun ?? "" }, "–"),
          h(
            "td",
            null,
            s.lastJobId === null
              ? h("span.muted", null, "none yet")
              : h("a", { href: `#job-${s.lastJobId}`, "data-job": s.lastJobId, "data-status": s.lastJobStatus ?? "", title: `${s.lastRun} · ${s.lastJobStatus ?? "gone"}`, onclick: (e) => { e.preventDefault(); void this.onOpen(s.lastJobId); } }, `${shortId(s.lastJobId)} · ${s.lastJobStatus ?? "gone"}`),
          ),
        ),
      ),
    );
    this.tick(Date.now());
  }

  /** Updates the "in …" of every next run to `now` (the server's clock). */
  tick(now) {
    for (const cell of this.body.querySelectorAll("[data-next]")) {
      const at = Date.parse(cell.dataset.next);
      setText(cell, Number.isNaN(at) ? "–" : at <= now ? "due" : `in ${duration(at - now)}`);
    }
  }
}
