// The jobs table, read page by page from `GET /jobs` (cursor paging, so every job of a tab can
// be reached, however many), filtered by tab (status), pipeline and id prefix. Live pushes only
// ask for the page shown to be read again. Rows can be selected: redrive, cancel or delete a selection.

import { api, toast } from "./api.js";
import { $, h, setText } from "./dom.js";
import { shortId } from "./format.js";

const PAGE = 25;
const TAB_STATUS = { recent: undefined, delayed: "delayed", failed: "failed", dead: "dead" };
/** What a bulk action sends for each job ({method} /jobs/:id{path}), and the word its toast uses. */
const BULK = { redrive: ["POST", "/retry", "redriven"], cancel: ["POST", "/cancel", "cancelled"], delete: ["DELETE", "", "deleted"] };

export class JobsBrowser {
  #view;
  #tab = "recent";
  #pipeline = "";
  #search = "";
  /** cursors[i]: the cursor of page i (undefined for the first) */
  #cursors = [undefined];
  #page = 0;
  #next;
  #jobs = [];
  #selected = new Set();
  #loading;
  #again = false;
  #totals = { delayed: 0, failed: 0, dead: 0 };

  constructor(view) {
    this.#view = view;
    $("#jobs-older").addEventListener("click", () => this.#go(this.#page + 1));
    $("#jobs-newer").addEventListener("click", () => this.#go(this.#page - 1));
    $("#jobs-pipeline").addEventListener("change", (e) => this.#filter({ pipeline: e.target.value }));
    let timer;
    $("#jobs-search").addEventListener("input", (e) => {
      clearTimeout(timer);
      timer = setTimeout(() => this.#filter({ search: e.target.value.trim().toLowerCase() }), 200);
    });
    $("#jobs-select-all").addEventListener("change", (e) => {
      for (const job of this.#jobs) if (e.target.checked) this.#selected.add(job.id); else this.#selected.delete(job.id);
      this.#render();
    });
    $("#bulk-redrive").addEventListener("click", () => void this.#bulk("redrive"));
    $("#bulk-cancel").addEventListener("click", () => void this.#bulk("cancel"));
    $("#bulk-delete").addEventListener("click", () => void this.#bulk("delete"));
  }

  get tab() {
    return this.#tab;
  }

  setTab(tab) {
    this.#tab = tab;
    this.#filter({});
  }

  /** Pipelines for the filter, keeping the current choice. */
  setPipelines(definitions) {
    const select = $("#jobs-pipeline");
    const names = ["", ...definitions.map((d) => d.name)];
    if (JSON.stringify([...select.options].map((o) => o.value)) === JSON.stringify(names)) return;
    select.replaceChildren(h("option", { value: "" }, "all pipelines"), ...definitions.map((d) => h("option", { value: d.name }, d.name)));
    select.value = names.includes(this.#pipeline) ? this.#pipeline : "";
  }

  /** Tab counts from the storage's stats, so a tab that says 40 pages through 40. */
  setTotals(stats) {
    const pick = (name) => stats.pipelines.filter((p) => this.#pipeline === "" || p.pipeline === this.#pipeline).reduce((sum, p) => sum + (p[name] ?? 0), 0);
    this.#totals = { delayed: pick("delayed"), failed: pick("failed"), dead: pick("dead") };
    for (const el of document.querySelectorAll("[data-count]")) setText(el, this.#totals[el.dataset.count] > 0 ? String(this.#totals[el.dataset.count]) : "");
    this.#renderRange();
  }

  /** Something changed: read the page shown again (at most one read in flight). */
  refresh() {
    if (this.#loading !== undefined) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = this.#load().finally(() => {
      this.#loading = undefined;
      if (this.#again) {
        this.#again = false;
        void this.refresh();
      }
    });
    return this.#loading;
  }

  #filter(change) {
    if (change.pipeline !== undefined) this.#pipeline = change.pipeline;
    if (change.search !== undefined) this.#search = change.search;
    this.#cursors = [undefined];
    this.#page = 0;
    this.#selected.clear();
    void this.refresh();
  }

  #go(page) {
    if (page < 0 || page >= this.#cursors.length) return;
    this.#page = page;
    void this.refresh();
  }

  async #load() {
    const query = new URLSearchParams({ limit: String(PAGE) });
    const status = TAB_STATUS[this.#tab];
    if (status) query.set("status", status);
    if (this.#pipeline) query.set("pipeline", this.#pipeline);
    if (this.#search) query.set("id", this.#search);
    const cursor = this.#cursors[this.#page];
    if (cursor) query.set("cursor", cursor);
    try {
      const answer = await api(`/jobs?${query}`);
      this.#jobs = answer.jobs;
      // `next` is the link of the next page; its cursor is what the next read sends.
      this.#next = answer.next === undefined ? undefined : new URL(answer.next, location.href).searchParams.get("cursor") ?? undefined;
      this.#cursors.length = this.#page + 1;
      if (this.#next) this.#cursors.push(this.#next);
      $("#jobs-hint").hidden = true;
    } catch (error) {
      const hint = $("#jobs-hint");
      hint.hidden = false;
      hint.textContent = error.message;
      this.#jobs = [];
      this.#next = undefined;
    }
    this.#render();
  }

  #render() {
    for (const id of [...this.#selected]) if (!this.#jobs.some((j) => j.id === id)) this.#selected.delete(id);
    this.#view.render(this.#jobs, this.#selected);
    $("#jobs-older").disabled = this.#next === undefined;
    $("#jobs-newer").disabled = this.#page === 0;
    $("#jobs-select-all").checked = this.#jobs.length > 0 && this.#jobs.every((j) => this.#selected.has(j.id));
    const bulk = $("#jobs-bulk");
    bulk.hidden = this.#selected.size === 0;
    setText($("#jobs-selected"), `${this.#selected.size} selected`);
    this.#renderRange();
  }

  #renderRange() {
    const first = this.#page * PAGE + 1;
    const total = this.#tab === "recent" || this.#search ? undefined : this.#totals[this.#tab];
    const text = this.#jobs.length === 0 ? "" : `${first}–${first + this.#jobs.length - 1}${total === undefined ? "" : ` of ${total}`}`;
    setText($("#jobs-range"), text);
    $("#jobs-range").dataset.page = String(this.#page + 1);
  }

  toggle(id, on) {
    if (on) this.#selected.add(id); else this.#selected.delete(id);
    this.#render();
  }

  async #bulk(action) {
    const ids = [...this.#selected];
    const [method, path, verb] = BULK[action];
    let done = 0;
    const failures = [];
    for (const id of ids) {
      try {
        await api(`/jobs/${encodeURIComponent(id)}${path}`, { method });
        done += 1;
      } catch (error) {
        failures.push(`${shortId(id)}: ${error.message}`);
      }
    }
    this.#selected.clear();
    toast(failures.length === 0 ? `${done} job${done === 1 ? "" : "s"} ${verb}` : `${done} ${verb}; ${failures.length} not: ${failures[0]}`, failures.length === 0 ? "ok" : "error");
    await this.refresh();
  }
}
