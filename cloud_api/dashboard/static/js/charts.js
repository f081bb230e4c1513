// Small SVG charts: trend lines over guideline bands, sparklines, and the AGP percentile
// profile. Our own code, so nothing third-party is shipped or fetched.
const NS = "http://www.w3.org/2000/svg";
export function el(name, attrs = {}, parent) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

/**
 * series: [{label, color, points: [{t: Date, v: number, title}]}]
 * bands:  [{lo, hi, color, label}] horizontal guideline bands (drawn under the data)
 */
export function trendChart({ series, bands = [], yMin, yMax, unit = "", title = "", height = 220 }) {
  const W = 640, H = height, L = 42, R = 8, T = 10, B = 24;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title });
  el("title", {}, svg).textContent = title;
  const all = series.flatMap((s) => s.points);
  if (!all.length) return svg;
  const t0 = Math.min(...all.map((p) => +p.t)), t1 = Math.max(...all.map((p) => +p.t));
  const span = Math.max(t1 - t0, 3600e3);
  const x = (t) => L + ((+t - t0) / span) * (W - L - R);
  const y = (v) => T + (1 - (Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin)) * (H - T - B);
  for (const b of bands) {
    const r = el("rect", { x: L, width: W - L - R, y: y(Math.min(b.hi, yMax)),
      height: Math.max(0, y(Math.max(b.lo, yMin)) - y(Math.min(b.hi, yMax))), fill: b.color, class: "band" }, svg);
    el("title", {}, r).textContent = b.label;
  }
  const step = niceStep((yMax - yMin) / 5);
  for (let v = Math.ceil(yMin / step) * step; v <= yMax; v += step) {
    el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#0001" }, svg);
    el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" }, svg).textContent = tick(v);
  }
  el("text", { x: 2, y: T + 8 }, svg).textContent = unit;
  const fmt = (t) => new Date(t).toLocaleDateString(undefined, { month: "numeric", day: "numeric" });
  el("text", { x: L, y: H - 6 }, svg).textContent = fmt(t0);
  el("text", { x: W - R, y: H - 6, "text-anchor": "end" }, svg).textContent = fmt(t1);
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a.t - b.t);
    el("polyline", { points: pts.map((p) => `${x(p.t)},${y(p.v)}`).join(" "), fill: "none",
      stroke: s.color, "stroke-width": 1.5 }, svg);
    for (const p of pts) {
      const c = el("circle", { cx: x(p.t), cy: y(p.v), r: 3, fill: s.color, class: `pt pt-${s.key || "s"}` }, svg);
      el("title", {}, c).textContent = p.title || `${s.label} ${p.v}`;
    }
  }
  return svg;
}

export function sparkline(values, { color = "#0b5cad", label = "" } = {}) {
  const W = 110, H = 28;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "spark", role: "img", "aria-label": label });
  if (values.length < 2) return svg;
  const lo = Math.min(...values), hi = Math.max(...values), k = hi - lo || 1;
  const pts = values.map((v, i) => `${(i / (values.length - 1)) * (W - 4) + 2},${H - 3 - ((v - lo) / k) * (H - 6)}`);
  el("polyline", { points: pts.join(" "), fill: "none", stroke: color, "stroke-width": 1.5 }, svg);
  return svg;
}

/** Percentile p (0..100) of a sorted array, linear interpolation. */
export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = (p / 100) * (sorted.length - 1), lo = Math.floor(i), hi = Math.ceil(i);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
}

/** AGP: glucose by hour of day over the window; bands 5–95 and 25–75, median line. */
/** ``lines``: reference levels drawn dashed (same unit as the points). */
export function agpChart(points, { title = "", target = [70, 180], yMin = 40, yMax = 350, lines = [54, 70, 180, 250] } = {}) {
  const byHour = Array.from({ length: 24 }, () => []);
  for (const p of points) byHour[new Date(p.t).getHours()].push(p.v);
  const rows = byHour.map((vs, h) => {
    const s = [...vs].sort((a, b) => a - b);
    return { h, n: s.length, q: [5, 25, 50, 75, 95].map((p) => percentile(s, p)) };
  }).filter((r) => r.n > 0);
  const W = 640, H = 220, L = 42, R = 8, T = 10, B = 24;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart agp", role: "img", "aria-label": title });
  el("title", {}, svg).textContent = title;
  const x = (h) => L + (h / 23) * (W - L - R);
  const y = (v) => T + (1 - (Math.min(Math.max(v, yMin), yMax) - yMin) / (yMax - yMin)) * (H - T - B);
  el("rect", { x: L, width: W - L - R, y: y(target[1]), height: y(target[0]) - y(target[1]), fill: "#1d6b2f22" }, svg);
  for (const v of lines) {
    el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#0003", "stroke-dasharray": "3 3" }, svg);
    el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end" }, svg).textContent = tick(v);
  }
  for (const h of [0, 6, 12, 18, 23]) el("text", { x: x(h), y: H - 6, "text-anchor": "middle" }, svg).textContent = `${h}:00`;
  const area = (lo, hi, fill) => {
    const up = rows.map((r) => `${x(r.h)},${y(r.q[hi])}`), down = rows.map((r) => `${x(r.h)},${y(r.q[lo])}`).reverse();
    el("polygon", { points: [...up, ...down].join(" "), fill, class: "agp-band" }, svg);
  };
  area(0, 4, "#0b5cad22"); area(1, 3, "#0b5cad55");
  el("polyline", { points: rows.map((r) => `${x(r.h)},${y(r.q[2])}`).join(" "), fill: "none",
    stroke: "#0b5cad", "stroke-width": 2, class: "agp-median" }, svg);
  return svg;
}

/** An axis label without float noise (0.30000000000000004 → "0.3", 3.885 → "3.9"). */
const tick = (v) => String(Math.abs(v) >= 20 ? Math.round(v) : +v.toFixed(1));

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw)), m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}
