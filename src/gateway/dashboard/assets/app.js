// The dashboard's entry module: one EventSource on /events (a snapshot, then the parts that
// changed), state kept here, views updated in place. Ages tick locally on the server's clock.

import { askToken, auth } from "./api.js";
import { openJob, redrive, setPipelineOptions, setUpEnqueueForm } from "./actions.js";
import { $, h, setText } from "./dom.js";
import { count } from "./format.js";
import { JobsBrowser } from "./jobs-browser.js";
import { JobsView, renderWorkers, tickAges } from "./lists-view.js";
import { PipelinesView } from "./pipelines-view.js";
import { SchedulesView } from "./schedules-view.js";

const state = {
  definitions: [],
  stats: undefined,
  workers: [],
  jobs: { recent: [], failed: [], dead: [] },
  staleAfterMs: 5_000,
  /** server clock − browser clock, ms */
  offset: 0,
  tab: "recent",
};

const now = () => Date.now() + state.offset;
const pipelines = new PipelinesView($("#pipelines"));
let browser;
const jobsView = new JobsView($("#jobs"), $("#jobs-empty"), {
  onOpen: openJob,
  onRedrive: async (id) => {
    await redrive(id);
    void browser.refresh();
  },
  onSelect: (id, on) => browser.toggle(id, on),
});
browser = new JobsBrowser(jobsView);
const schedules = new SchedulesView($("#schedules-card"), $("#schedules"), { onOpen: openJob });

function setConnection(kind, text) {
  const el = $("#conn");
  el.dataset.state = kind;
  setText(el, text);
}

function clockFrom(message) {
  if (typeof message.serverTime === "number") state.offset = message.serverTime - Date.now();
}

function renderStats() {
  if (state.stats === undefined) return;
  pipelines.update(state.stats, state.workers, now());
  const totals = state.stats.pipelines.reduce(
    (t, p) => ({ running: t.running + p.running, queued: t.queued + p.queued, succeeded: t.succeeded + p.succeeded, dead: t.dead + p.dead }),
    { running: 0, queued: 0, succeeded: 0, dead: 0 },
  );
  const item = (label, value, kind) => h("span.total", { "data-kind": kind }, h("span.label", null, label), h("span.value", { "data-total": label }, count(value)));
  $("#totals").replaceChildren(
    item("pipelines", state.definitions.length),
    item("workers", state.workers.length),
    item("queued", totals.queued),
    item("running", totals.running),
    item("succeeded", totals.succeeded, "ok"),
    item("dead", totals.dead, totals.dead > 0 ? "bad" : undefined),
  );
}

function renderWorkerList() {
  renderWorkers($("#workers"), state.workers, now(), state.staleAfterMs);
  const stale = state.workers.filter((w) => w.address !== "in-process" && now() - w.lastSeen > state.staleAfterMs).length;
  setText($("#workers-count"), `${state.workers.length}${stale > 0 ? ` · ${stale} stale` : ""}`);
}

/** The page of jobs shown is read from GET /jobs (paged); a push only asks for it again. */
let refreshTimer;
function renderJobs() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void browser.refresh().then(() => tickAges($("#jobs"), now())), 250);
}

const handlers = {
  snapshot(message) {
    clockFrom(message);
    state.staleAfterMs = message.staleAfterMs;
    state.definitions = message.definitions;
    pipelines.setDefinitions(message.definitions);
    setPipelineOptions(message.definitions);
    browser.setPipelines(message.definitions);
    handlers.workers(message.workers);
    handlers.stats(message.stats);
    handlers.jobs(message.jobs);
  },
  stats(message) {
    clockFrom(message);
    state.stats = message;
    renderStats();
    browser.setTotals(message);
    schedules.refresh();
  },
  workers(message) {
    clockFrom(message);
    state.workers = message.workers;
    renderWorkerList();
    renderStats();
  },
  jobs(message) {
    clockFrom(message);
    state.jobs = message;
    renderJobs();
  },
  problem(message) {
    const banner = $("#problem");
    banner.hidden = message.message === null;
    setText(banner, message.message ?? "");
  },
};

let source;
let retryTimer;

function connect() {
  clearTimeout(retryTimer);
  source?.close();
  const url = auth.token === "" ? "/events" : `/events?token=${encodeURIComponent(auth.token)}`;
  setConnection("connecting", "connecting…");
  source = new EventSource(url);
  source.addEventListener("open", () => setConnection("live", "live"));
  for (const [event, handle] of Object.entries(handlers)) {
    source.addEventListener(event, (e) => {
      document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
      handle(JSON.parse(e.data));
    });
  }
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CONNECTING) {
      setConnection("reconnecting", "reconnecting…");
      return;
    }
    // Closed for good: a non-200 answer (EventSource hides which). Ask the server why.
    setConnection("offline", "offline");
    void whyClosed(url);
  });
}

async function whyClosed(url) {
  let status = 0;
  try {
    const controller = new AbortController();
    const response = await fetch(url, { signal: controller.signal, headers: { accept: "text/event-stream" } });
    status = response.status;
    controller.abort();
  } catch {
    status = 0;
  }
  if (status === 401) {
    auth.clear();
    setConnection("auth", "token needed");
    await askToken(auth.required ? "The token was refused." : "The gateway asks for a token.");
    connect();
    return;
  }
  retryTimer = setTimeout(connect, 3000);
}

function setUpTabs() {
  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.addEventListener("click", () => {
      state.tab = tab.dataset.tab;
      for (const other of document.querySelectorAll("[data-tab]")) other.setAttribute("aria-selected", String(other === tab));
      browser.setTab(state.tab);
    });
  }
}

async function start() {
  setUpTabs();
  setUpEnqueueForm({ onOpen: openJob });
  let ticks = 0;
  setInterval(() => {
    ticks += 1;
    tickAges(document.body, now());
    schedules.tick(now());
    renderWorkerList();
    if (ticks % 5 === 0 && state.stats) pipelines.drawCharts(state.stats.throughput, now());
  }, 1000);
  if (auth.required && auth.token === "") await askToken();
  connect();
}

void start();
