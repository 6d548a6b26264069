// Number, duration and age formatting for the dashboard.

const integer = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });

export function count(n) {
  if (n === null || n === undefined) return "–";
  return Math.abs(n) >= 100_000 ? compact.format(n) : integer.format(n);
}

/** 850 ms, 12.3 s, 4 m 05 s, 3 h 12 m, 2 d 4 h */
export function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(v < 10_000 ? 1 : 0)} s`;
  const s = Math.floor(v / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} m`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** A bucketed latency quantile from the server: {le} or {gt} or null. */
export function quantile(q) {
  if (q === null || q === undefined) return "–";
  if ("gt" in q) return `>${duration(q.gt)}`;
  return `≤${duration(q.le)}`;
}

export function shortId(id) {
  return id.length > 10 ? `${id.slice(0, 4)}…${id.slice(-6)}` : id;
}

export function dateTime(epochMs) {
  if (!epochMs) return "–";
  const d = new Date(epochMs);
  return `${d.toLocaleDateString(undefined)} ${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

export function json(value) {
  if (value === undefined) return "(none)";
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}
