// Tiny DOM helpers: h("tag", {attrs}, ...children). Text is always set as text (no innerHTML
// with data), so a patient name or alert title can never inject markup.
import { t } from "./i18n.js";
import { bp, glu, bpUnit, gluUnit, bpDigits, gluDigits } from "./units.js";

export function h(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const k of kids.flat()) if (k != null && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}
export const simBadge = (sim) => (sim ? h("span", { class: "badge sim", title: t("simulated") }, t("simulated")) : null);
export const sevBadge = (sev) => h("span", { class: `badge ${sev}` }, t(`sev.${sev}`));
export const notAvailable = () => h("p", { class: "na" }, t("not.available"));
export const fmtNum = (v, d = 0) => (v == null ? "–" : Number(v).toFixed(d));

/** A systolic/diastolic pair (given in mmHg) in the user's pressure unit. */
export const fmtBp = (sys, dia) => `${fmtNum(bp(sys), bpDigits())}/${fmtNum(bp(dia), bpDigits())} ${bpUnit()}`;
/** A glucose value (given in mg/dL) in the user's glucose unit. */
export const fmtGlu = (mgdl) => `${fmtNum(glu(mgdl), gluDigits())} ${gluUnit()}`;

export function describe(r) {
  const v = r.values;
  switch (r.kind) {
    case "blood_pressure": return fmtBp(v.systolic, v.diastolic) + (v.pulse ? ` · ${t("pulse")} ${fmtNum(v.pulse)}` : "");
    case "glucose": return fmtGlu(v.mg_dl);
    case "heart_rate": return `${fmtNum(v.bpm)} /min`;
    case "spo2": return `${fmtNum(v.spo2_pct)} %`;
    case "body_weight": return `${fmtNum(v.kg ?? v.weight_kg, 1)} kg`;
    case "ecg": return `${((v.samples_uv?.length || 0) / (v.fs_hz || 1)).toFixed(0)} s @ ${v.fs_hz} Hz`;
    default: return "";
  }
}
export const kindLabel = (k) => t({ blood_pressure: "bp", glucose: "glucose", heart_rate: "hr", ecg: "ecg", spo2: "spo2", body_weight: "weight" }[k] || k);
