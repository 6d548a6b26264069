// A hand-written SVG sparkline: finished attempts per time bucket, ok as an area, failed as red
// ticks on the same scale. Series are aligned to the viewer's server-adjusted clock, so the chart
// keeps scrolling between pushes.

const NS = "http://www.w3.org/2000/svg";
const W = 120;
const H = 30;

const svgElement = (tag, attributes) => {
  const el = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, String(value));
  return el;
};

/** Builds an empty chart; update it with drawSparkline. */
export function createSparkline(label) {
  const svg = svgElement("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", class: "spark", role: "img", "aria-label": label });
  const base = svgElement("line", { x1: 0, x2: W, y1: H - 0.5, y2: H - 0.5, class: "spark-base" });
  const area = svgElement("path", { class: "spark-ok-area" });
  const line = svgElement("path", { class: "spark-ok", "data-role": "spark-ok" });
  const failed = svgElement("path", { class: "spark-failed", "data-role": "spark-failed" });
  svg.append(svgElement("title", {}), base, area, line, failed);
  return svg;
}

/**
 * Shifts a series ending at bucket `endAt` so it ends at the bucket of `now` (zeros fill the
 * buckets nothing happened in since).
 */
export function align(values, endAt, bucketMs, now) {
  const shift = Math.max(0, Math.floor(now / bucketMs) - Math.floor(endAt / bucketMs));
  if (shift === 0) return values;
  if (shift >= values.length) return values.map(() => 0);
  return [...values.slice(shift), ...new Array(shift).fill(0)];
}

/** Draws `ok` and `failed` (same length) into a chart made by createSparkline. */
export function drawSparkline(svg, ok, failed, caption) {
  const n = Math.max(ok.length, 2);
  const max = Math.max(1, ...ok, ...failed);
  const x = (i) => (i / (n - 1)) * W;
  const y = (v) => H - 1 - (v / max) * (H - 4);
  const points = (values) => values.map((v, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const okPath = points(ok);
  const [, , area, line, failedPath] = svg.childNodes;
  line.setAttribute("d", okPath);
  area.setAttribute("d", `${okPath}L${W},${H}L0,${H}Z`);
  // Failures as red ticks from the baseline, one per bucket that had any.
  failedPath.setAttribute("d", failed.map((v, i) => (v > 0 ? `M${x(i).toFixed(1)},${H}V${Math.min(y(v), H - 3).toFixed(1)}` : "")).join(""));
  svg.firstChild.textContent = caption;
  svg.dataset.total = String(ok.reduce((a, b) => a + b, 0) + failed.reduce((a, b) => a + b, 0));
}
