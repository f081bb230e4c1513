// Pages: patient list, patient page, ECG viewer, family view, referrals (fleet: fleet.js).
import { api, has, ApiError, token } from "./api.js";
import { t, fmtTime } from "./i18n.js";
import { h, simBadge, sevBadge, notAvailable, describe, kindLabel, fmtNum, fmtBp } from "./dom.js";
import { bp as bpIn, glu as gluIn, bpUnit, gluUnit } from "./units.js";
import { trendChart, sparkline, agpChart } from "./charts.js";
import { ecgStrip } from "./ecg.js";

const SEV_RANK = { urgent: 3, warning: 2, info: 1 };
const OPEN = ["raised", "delivered", "acknowledged"];
const DAY = 86400e3;

export async function openAlerts(patient) {
  if (!(await has("/api/v1/alerts"))) return null;
  const q = new URLSearchParams(OPEN.map((s) => ["state", s]));
  q.set("limit", "500");
  if (patient) q.set("patient", patient);
  return (await api(`/api/v1/alerts?${q}`)).items;
}

async function readings(pid, { kinds = [], days = 14, max = 3000, page = 1000 } = {}) {
  const out = [];
  let cursor = null;
  const since = new Date(Date.now() - days * DAY).toISOString();
  do {
    const q = new URLSearchParams(kinds.map((k) => ["kind", k]));
    q.set("since", since); q.set("limit", String(Math.min(page, max)));
    if (cursor) q.set("cursor", cursor);
    const got = await api(`/api/v1/patients/${encodeURIComponent(pid)}/readings?${q}`);
    out.push(...got.items); cursor = got.next_cursor;
  } while (cursor && out.length < max);
  return out;
}

// ---------- patient list (triage) ----------
export async function patientList(main) {
  main.replaceChildren(h("h1", {}, t("patients")), h("p", {}, t("loading")));
  const [patients, alerts] = await Promise.all([api("/api/v1/patients"), openAlerts()]);
  const rows = await Promise.all(patients.map(async (p) => {
    // one page per patient: enough for the latest values and a 30-point sparkline
    const rs = await readings(p.id, { kinds: ["blood_pressure", "glucose", "heart_rate"], days: 14, max: 150 });
    const mine = (alerts || []).filter((a) => a.patient_id === p.id);
    const sev = Math.max(0, ...mine.map((a) => SEV_RANK[a.severity] || 0));
    const last = rs.length ? new Date(rs[0].measured_at) : null;
    return { p, rs, mine, sev, last, offline: mine.some((a) => a.rule_id === "gateway_offline") };
  }));
  // Triage: most severe open alert first, then the longest silent.
  rows.sort((a, b) => b.sev - a.sev || (a.last ?? 0) - (b.last ?? 0));
  const latest = (rs, kind) => rs.find((r) => r.kind === kind);
  const spark = (rs, kind, f, color) => sparkline(rs.filter((r) => r.kind === kind).slice(0, 30).reverse().map(f), { color, label: kindLabel(kind) });
  const table = h("table", { id: "patient-table" },
    h("thead", {}, h("tr", {}, h("th", {}, t("patient")), h("th", {}, t("col.alert")),
      h("th", {}, t("col.latest")), h("th", { class: "hide-sm" }, t("col.trend")), h("th", {}, t("col.last")))),
    h("tbody", {}, rows.map(({ p, rs, mine, last, offline }) => {
      const bp = latest(rs, "blood_pressure"), gl = latest(rs, "glucose"), hr = latest(rs, "heart_rate");
      const worst = mine.sort((a, b) => SEV_RANK[b.severity] - SEV_RANK[a.severity])[0];
      const stale = !last || Date.now() - last > DAY;
      return h("tr", { "data-patient": p.id },
        h("td", {}, h("a", { href: `#/patient/${encodeURIComponent(p.id)}` }, p.display_name), " ",
          simBadge(rs.some((r) => r.simulated))),
        h("td", {}, alerts === null ? h("span", { class: "na" }, "–") :
          worst ? [sevBadge(worst.severity), ` ${mine.length}`] : t("none")),
        h("td", {}, [bp && `${t("bp")} ${describe(bp)}`, gl && `${t("glucose")} ${describe(gl)}`,
          hr && `${t("hr")} ${describe(hr)}`].filter(Boolean).map((s) => h("div", {}, s))),
        h("td", { class: "hide-sm" }, spark(rs, "blood_pressure", (r) => r.values.systolic, "#b00020"),
          spark(rs, "glucose", (r) => r.values.mg_dl, "#0b5cad")),
        h("td", {}, last ? fmtTime(last) : "–", " ",
          offline ? h("span", { class: "badge offline" }, t("offline")) : stale ? h("span", { class: "badge warning" }, t("stale")) : null));
    })));
  main.replaceChildren(h("h1", {}, t("patients")), h("div", { class: "card scroll" }, table));
}

// ---------- patient page ----------
const inBp = (band) => ({ ...band, lo: bpIn(band.lo), hi: bpIn(band.hi) });
const BP_BANDS = () => [
  { lo: 0, hi: 120, color: "#1d6b2f14", label: `${t("band.normal")} <120/<80` },
  { lo: 120, hi: 130, color: "#c9a00018", label: `${t("band.elevated")} 120–129` },
  { lo: 130, hi: 140, color: "#e09a2b22", label: `${t("band.stage1")} 130–139 / 80–89` },
  { lo: 140, hi: 180, color: "#b0002018", label: `${t("band.stage2")} ≥140 / ≥90` },
  { lo: 180, hi: 300, color: "#b0002033", label: `${t("band.crisis")} >180 / >120` },
];

export async function patientPage(main, pid) {
  main.replaceChildren(h("p", {}, t("loading")));
  let rs, ecgs;
  try {
    [rs, ecgs] = await Promise.all([
      readings(pid, { kinds: ["blood_pressure", "glucose", "heart_rate", "spo2", "body_weight"], days: 14 }),
      api(`/api/v1/patients/${encodeURIComponent(pid)}/readings?kind=ecg&limit=20`).then((p) => p.items),
    ]);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) { main.replaceChildren(h("p", { class: "err", id: "forbidden" }, t("forbidden"))); return; }
    throw e;
  }
  const patients = await api("/api/v1/patients");
  const p = patients.find((x) => x.id === pid) || { display_name: pid };
  const of = (k) => rs.filter((r) => r.kind === k);
  const pts = (k, f) => of(k).map((r) => ({ t: new Date(r.measured_at), v: f(r.values), title: `${fmtTime(r.measured_at)} ${describe(r)}${r.simulated ? ` (${t("simulated")})` : ""}` }));
  const bp = of("blood_pressure"), gl = of("glucose");
  // Guideline limits are in mmHg and mg/dL (as their sources state them); axes, bands and
  // points are drawn in the user's units, band labels keep the source's numbers.
  const bpChart = h("div", { id: "bp-chart" }, trendChart({ title: t("bp"), unit: bpUnit(), yMin: bpIn(40), yMax: bpIn(220),
    bands: BP_BANDS().map(inBp),
    series: [{ key: "sys", label: t("sys"), color: "#b00020", points: pts("blood_pressure", (v) => bpIn(v.systolic)) },
             { key: "dia", label: t("dia"), color: "#0b5cad", points: pts("blood_pressure", (v) => bpIn(v.diastolic)) }] }));
  const gluChart = h("div", { id: "glucose-chart" }, trendChart({ title: t("glucose"), unit: gluUnit(), yMin: gluIn(40), yMax: gluIn(400),
    bands: [{ lo: gluIn(70), hi: gluIn(180), color: "#1d6b2f22", label: "70–180 mg/dL (3.9–10.0 mmol/L)" }],
    series: [{ key: "glu", label: t("glucose"), color: "#0b5cad", points: pts("glucose", (v) => gluIn(v.mg_dl)) }] }));
  const hrPoints = [...pts("heart_rate", (v) => v.bpm)];
  const alerts = await openAlerts(pid);
  const devices = new Map();
  for (const r of [...rs, ...ecgs]) if (!devices.has(r.device.key)) devices.set(r.device.key, r);
  main.replaceChildren(
    h("p", {}, h("a", { href: "#/patients" }, `← ${t("back")}`)),
    h("h1", {}, p.display_name, " ", simBadge(rs.some((r) => r.simulated) || ecgs.some((r) => r.simulated))),
    h("div", { class: "card" }, h("h2", {}, t("nav.inbox")),
      alerts === null ? notAvailable() : alerts.length ? h("ul", {}, alerts.map((a) => h("li", {}, sevBadge(a.severity), " ", a.title, " ", simBadge(a.simulated)))) : t("none")),
    h("div", { class: "grid" },
      h("section", { class: "card wide" }, h("h2", {}, t("bp"), ` (${bp.length})`), bpChart,
        h("p", { class: "legend" }, t("bp.legend"))),
      h("section", { class: "card" }, h("h2", {}, t("glucose"), ` (${gl.length})`), gluChart,
        h("p", { class: "legend" }, t("glu.legend"))),
      h("section", { class: "card" }, h("h2", {}, t("agp")),
        gl.length >= 10 ? h("div", { id: "agp-chart" }, agpChart(pts("glucose", (v) => gluIn(v.mg_dl)), { title: t("agp"),
          target: [gluIn(70), gluIn(180)], yMin: gluIn(40), yMax: gluIn(350), lines: [54, 70, 180, 250].map(gluIn) })) : h("p", { class: "na" }, t("agp.few")),
        h("p", { class: "legend" }, t("agp.legend"), " ", t("glu.legend"))),
      h("section", { class: "card" }, h("h2", {}, t("hr")), h("div", { id: "hr-chart" },
        trendChart({ title: t("hr"), unit: "/min", yMin: 30, yMax: 180, series: [{ key: "hr", label: t("hr"), color: "#444", points: hrPoints }] })))),
    h("section", { class: "card" }, h("h2", {}, t("ecg")), ecgs.length ? h("ul", { id: "ecg-list" }, ecgs.map((e) =>
      h("li", {}, h("a", { href: `#/patient/${encodeURIComponent(pid)}/ecg/${e.msg_id}` }, `${fmtTime(e.measured_at)} · ${describe(e)}`), " ", simBadge(e.simulated)))) : t("none")),
    h("section", { class: "card" }, h("h2", {}, t("devices")), h("div", { class: "scroll" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, t("device")), h("th", {}, t("gateway")), h("th", {}, t("col.last")))),
      h("tbody", {}, [...devices.values()].map((r) => h("tr", {}, h("td", {}, `${r.device.make} ${r.device.model} (${r.device.key})`, " ", simBadge(r.simulated)),
        h("td", {}, r.gateway_id), h("td", {}, fmtTime(r.measured_at)))))))),
    await thresholdsCard(pid), await reportsCard(pid),
    h("section", { class: "card" }, h("h2", {}, t("readings")), h("div", { class: "scroll" }, h("table", { id: "readings-table" },
      h("thead", {}, h("tr", {}, h("th", {}, t("when")), h("th", {}, t("kind")), h("th", {}, t("value")), h("th", { class: "hide-sm" }, t("device")))),
      h("tbody", {}, rs.slice(0, 50).map((r) => h("tr", {}, h("td", {}, fmtTime(r.measured_at)), h("td", {}, kindLabel(r.kind)),
        h("td", {}, describe(r), " ", simBadge(r.simulated)), h("td", { class: "hide-sm" }, `${r.device.make} ${r.device.model}`))))))),
  );
}

async function thresholdsCard(pid) {
  const card = h("section", { class: "card", id: "thresholds" }, h("h2", {}, t("thresholds")));
  if (!(await has("/api/v1/patients/{patient_id}/thresholds"))) { card.append(notAvailable()); return card; }
  const path = `/api/v1/patients/${encodeURIComponent(pid)}/thresholds`;
  let th;
  try { th = await api(path); } catch (e) { card.append(h("p", { class: "na" }, String(e.detail || e))); return card; }
  const cur = th.current?.clinician;
  card.append(h("p", { class: "legend" }, cur
    ? `${t("th.version")} ${cur.version} · ${cur.author} · ${fmtTime(cur.effective_at)} · ${cur.reason}`
    : t("th.defaults")));
  // Per-rule overrides as JSON (the rule engine validates them; see docs/rules.md).
  const area = h("textarea", { id: "th-rules", rows: 8, style: "width:100%;font-family:monospace", "aria-label": t("th.rules") },
    JSON.stringify(cur?.rules ?? {}, null, 2));
  const reason = h("input", { id: "th-reason", style: "width:100%", required: true });
  const msg = h("p", { role: "status" });
  const save = h("button", { type: "button", onclick: async () => {
    msg.className = ""; msg.textContent = "";
    let rules;
    try { rules = JSON.parse(area.value); } catch { msg.className = "err"; msg.textContent = t("th.badjson"); return; }
    if (!reason.value.trim()) { msg.className = "err"; msg.textContent = t("th.needreason"); return; }
    try {
      const out = await api(`${path}/clinician`, { method: "PUT", body: { rules, reason: reason.value.trim() } });
      msg.textContent = `✓ ${t("th.version")} ${out.current?.clinician?.version ?? ""} · ` +
        (out.pushes || []).map((p) => `${p.gateway_id}: ${p.status}`).join(", ");
    } catch (e) { msg.className = "err"; msg.textContent = typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail); }
  } }, t("th.save"));
  card.append(h("label", { for: "th-rules" }, t("th.rules")), area,
    h("label", { for: "th-reason" }, t("th.reason")), reason, h("p", {}, save), msg,
    th.pushes?.length ? h("p", { class: "legend" }, th.pushes.map((p) => `${p.gateway_id} v${p.version}: ${p.status}${p.last_error ? ` (${p.last_error})` : ""}`).join(" · ")) : null);
  return card;
}

async function reportsCard(pid) {
  const card = h("section", { class: "card", id: "reports" }, h("h2", {}, t("reports")));
  if (!(await has("/api/v1/reports/{patient_id}/home-bp"))) { card.append(notAvailable()); return card; }
  const enc = encodeURIComponent(pid);
  const get = (path) => api(path).catch((e) => ({ error: String(e.detail || e) }));
  const [bp, glu, adh] = await Promise.all([get(`/api/v1/reports/${enc}/home-bp`),
    get(`/api/v1/reports/${enc}/glucose`), get(`/api/v1/reports/${enc}/adherence`)]);
  const dl = (pairs) => h("table", { class: "kv" }, h("tbody", {}, pairs.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, v ?? "–")))));
  const section = (title, r, body) => h("div", { class: "report" }, h("h3", {}, title),
    r.error ? h("p", { class: "na" }, r.error) : [body(r), h("p", { class: "legend" }, r.source || "")]);
  const pct = (v) => (v == null ? "–" : `${v} %`);
  card.append(h("div", { class: "grid" },
    section(t("rep.homebp"), bp, (r) => dl([
      [t("bp"), r.mean_systolic == null ? null : fmtBp(r.mean_systolic, r.mean_diastolic)],
      [t("rep.days"), (r.days_used || []).length], [t("rep.sessions"), r.sessions_used],
      [t("rep.adequate"), r.adequate ? "✓" : "✗"],
      [`≥ ${r.threshold?.systolic}/${r.threshold?.diastolic}`, r.above_threshold ? t("rep.above") : t("rep.below")]])),
    section(t("rep.tir"), glu, (r) => dl([
      ["70–180 mg/dL", pct(r.tir_70_180_pct)], ["< 70", pct(r.tbr_below_70_pct)], ["< 54", pct(r.tbr_below_54_pct)],
      ["> 180", pct(r.tar_above_180_pct)], ["> 250", pct(r.tar_above_250_pct)],
      ["GMI", r.gmi_pct_estimate == null ? null : `${r.gmi_pct_estimate} % (${t("rep.estimate")})`], ["CV", pct(r.cv_pct)],
      [t("readings"), r.readings]])),
    section(t("rep.adherence"), adh, (r) => dl(Object.entries(r.by_kind || {}).map(([k, v]) =>
      [kindLabel(k), `${v.days_with_data}/${r.days} (${v.share_pct} %)`])))));
  if (await has("/api/v1/reports/{patient_id}/report.html")) {
    // The printable page needs the bearer header, so fetch it and open it as a local blob.
    card.append(h("button", { type: "button", class: "secondary", onclick: async () => {
      const r = await fetch(`/api/v1/reports/${enc}/report.html`, { headers: { Authorization: `Bearer ${token()}` } });
      if (r.ok) window.open(URL.createObjectURL(new Blob([await r.text()], { type: "text/html" })), "_blank");
    } }, t("rep.print")));
  }
  return card;
}

// ---------- ECG viewer ----------
export async function ecgPage(main, pid, msgId) {
  main.replaceChildren(h("p", {}, t("loading")));
  let strip;
  try { strip = await api(`/api/v1/patients/${encodeURIComponent(pid)}/ecg/${encodeURIComponent(msgId)}`); }
  catch (e) { if (e.status === 404) { main.replaceChildren(h("p", { class: "err", id: "forbidden" }, t("forbidden"))); return; } throw e; }
  let zoom = 1;
  const wrap = h("div", { class: "ecg-wrap", id: "ecg-viewer" }, ecgStrip(strip, zoom));
  const setZoom = (z) => { zoom = z; wrap.replaceChildren(ecgStrip(strip, zoom)); label.textContent = `${zoom}×`; };
  const label = h("span", {}, "1×");
  main.replaceChildren(
    h("p", {}, h("a", { href: `#/patient/${encodeURIComponent(pid)}` }, `← ${t("back")}`)),
    h("h1", {}, t("ecg"), " ", simBadge(strip.simulated)),
    h("p", {}, `${fmtTime(strip.measured_at)} · lead ${strip.lead} · ${strip.fs_hz} Hz · ${t("ecg.paper")}`),
    h("div", { class: "ecg-tools" }, h("span", {}, t("ecg.zoom")),
      h("button", { type: "button", class: "secondary", "aria-label": "zoom out", onclick: () => setZoom(Math.max(0.5, zoom / 2)) }, "−"), label,
      h("button", { type: "button", class: "secondary", "aria-label": "zoom in", onclick: () => setZoom(Math.min(4, zoom * 2)) }, "+")),
    wrap,
    h("div", { class: "card" },
      h("p", {}, `${t("ecg.hr")}: ${fmtNum(strip.hr_bpm)} /min (${fmtNum(strip.min_hr_bpm)}–${fmtNum(strip.max_hr_bpm)}) · ${strip.beats.length} ${t("ecg.beats")} · ${t("ecg.quality")}: ${strip.quality}`),
      strip.findings.length ? h("ul", { id: "ecg-findings" }, strip.findings.map((f) => h("li", { class: "finding" },
        `${t(`ecg.${f.code}`)} (${f.start_s.toFixed(1)} s, ${f.duration_s.toFixed(1)} s)`))) : h("p", {}, t("ecg.nofind")),
      h("p", { class: "legend" }, t("ecg.note"))),
  );
}

// ---------- family view ----------
export async function familyPage(main) {
  const [p] = await api("/api/v1/patients");
  if (!p) { main.replaceChildren(h("p", {}, t("none"))); return; }
  const rs = await readings(p.id, { kinds: ["blood_pressure", "glucose", "heart_rate", "spo2", "body_weight"], days: 30 });
  const alerts = await openAlerts(p.id);
  const latest = ["blood_pressure", "glucose", "heart_rate", "spo2", "body_weight"].map((k) => rs.find((r) => r.kind === k)).filter(Boolean);
  main.replaceChildren(h("div", { class: "family" },
    h("h1", {}, t("fam.title"), " · ", p.display_name),
    h("div", { class: "grid" }, latest.map((r) => h("div", { class: "card" }, h("div", {}, kindLabel(r.kind), " ", simBadge(r.simulated)),
      h("div", { class: "big" }, describe(r)), h("div", {}, fmtTime(r.measured_at))))),
    h("section", { class: "card", id: "family-alerts" }, h("h2", {}, t("fam.alerts")),
      alerts === null ? notAvailable() : alerts.length ? h("ul", {}, alerts.map((a) => h("li", {}, sevBadge(a.severity), " ", a.title, " ", simBadge(a.simulated)))) : h("p", {}, t("fam.noalerts"))),
    h("p", {}, t("fam.call"))));
}

// ---------- referrals / consortium ----------
export async function referralsPage(main) {
  main.replaceChildren(h("h1", {}, t("referrals")));
  if (!(await has("/api/v1/patients/{patient_id}/referrals"))) { main.append(notAvailable()); return; }
  const patients = await api("/api/v1/patients");
  const all = (await Promise.all(patients.map((p) => api(`/api/v1/patients/${encodeURIComponent(p.id)}/referrals`).catch(() => [])))).flat();
  const teams = (await has("/api/v1/consortium/teams")) ? await api("/api/v1/consortium/teams").catch(() => []) : [];
  const team = (id) => teams.find((x) => x.id === id)?.name ?? `#${id}`;
  main.append(h("div", { class: "card scroll" }, h("table", { id: "referral-table" },
    h("thead", {}, h("tr", {}, [t("patient"), "→", t("status"), t("when")].map((s) => h("th", {}, s)))),
    h("tbody", {}, all.map((r) => h("tr", {}, h("td", {}, h("a", { href: `#/patient/${encodeURIComponent(r.patient_id)}` }, r.patient_id)),
      h("td", {}, `${team(r.from_team_id)} → ${team(r.to_team_id)}: ${r.reason}`),
      h("td", {}, r.ended_at ? "ended" : "open"), h("td", {}, fmtTime(r.created_at))))))));
}
