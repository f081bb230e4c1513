// ECG strip on standard paper: 25 mm/s, 10 mm/mV, 1 mm minor and 5 mm major lines.
// The SVG's user unit is one millimetre and its size is given in CSS mm, so at zoom 1
// the paper is true scale on a screen whose CSS px are calibrated (CSS: 1 mm = 96/25.4 px).
import { el } from "./charts.js";
import { t } from "./i18n.js";

const MM_PER_S = 25, MM_PER_MV = 10, HEIGHT_MM = 40;

export function ecgStrip(strip, zoom = 1) {
  const n = strip.samples_uv.length, dur = n / strip.fs_hz;
  const W = Math.max(dur * MM_PER_S, 50), H = HEIGHT_MM, mid = H / 2;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, class: "ecg", role: "img",
    "aria-label": `${t("ecg")} ${dur.toFixed(1)} s, ${strip.beats.length} ${t("ecg.beats")}` });
  svg.style.width = `${W * zoom}mm`; svg.style.height = `${H * zoom}mm`;
  el("rect", { x: 0, y: 0, width: W, height: H, fill: "#fff7f7" }, svg);
  const grid = el("g", { class: "grid" }, svg);
  for (let mm = 0; mm <= W; mm += 1) {
    const major = mm % 5 === 0;
    el("line", { x1: mm, x2: mm, y1: 0, y2: H, stroke: major ? "#e08a8a" : "#f6caca",
      "stroke-width": major ? 0.2 : 0.08, class: major ? "major" : "minor" }, grid);
  }
  for (let mm = 0; mm <= H; mm += 1) {
    const major = mm % 5 === 0;
    el("line", { x1: 0, x2: W, y1: mm, y2: mm, stroke: major ? "#e08a8a" : "#f6caca",
      "stroke-width": major ? 0.2 : 0.08, class: major ? "major" : "minor" }, grid);
  }
  // 1 mV calibration pulse (10 mm tall, 0.2 s wide) at the left edge
  el("polyline", { points: `0,${mid + 5} 1,${mid + 5} 1,${mid - 5} 6,${mid - 5} 6,${mid + 5} 7,${mid + 5}`,
    fill: "none", stroke: "#000", "stroke-width": 0.25, class: "cal" }, svg);
  for (const f of strip.findings) {
    const r = el("rect", { x: f.start_s * MM_PER_S, y: 0, width: Math.max(f.duration_s * MM_PER_S, 1),
      height: H, fill: f.code === "possible_af" ? "#b0002018" : "#8a530022", class: `finding-${f.code}` }, svg);
    el("title", {}, r).textContent = t(`ecg.${f.code}`);
    el("text", { x: f.start_s * MM_PER_S + 1, y: 3, "font-size": 2.4, fill: "#b00020" }, svg)
      .textContent = t(`ecg.${f.code}`);
  }
  // Decimate the path to ~4 points per mm: enough for the eye, light for long strips.
  const stride = Math.max(1, Math.floor(strip.fs_hz / (MM_PER_S * 4)));
  const pts = [];
  for (let i = 0; i < n; i += stride) {
    pts.push(`${((i / strip.fs_hz) * MM_PER_S).toFixed(2)},${(mid - (strip.samples_uv[i] / 1000) * MM_PER_MV).toFixed(2)}`);
  }
  el("polyline", { points: pts.join(" "), fill: "none", stroke: "#111", "stroke-width": 0.3,
    "stroke-linejoin": "round", class: "trace" }, svg);
  for (const b of strip.beats) {
    const x = (b / strip.fs_hz) * MM_PER_S;
    el("path", { d: `M${x - 0.8},${H - 0.5} L${x + 0.8},${H - 0.5} L${x},${H - 2.2} Z`, fill: "#0b5cad", class: "beat" }, svg);
  }
  return svg;
}
