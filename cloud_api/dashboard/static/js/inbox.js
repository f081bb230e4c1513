// The alert inbox, kept live by the SSE stream; urgent alerts get a banner and a tone.
import { api, has, openStream } from "./api.js";
import { t, fmtTime, onLangChange } from "./i18n.js";
import { h, simBadge, sevBadge, notAvailable } from "./dom.js";

let stopStream = null, starting = false;
const listeners = new Set();
export function onAlertEvent(fn) { listeners.add(fn); return () => listeners.delete(fn); }

/** Start the stream once per sign-in (staff only); every page can listen. */
export async function startLive(liveEl) {
  if (stopStream || starting) return;
  starting = true;
  const available = await has("/api/v1/stream");
  starting = false;
  if (!available || stopStream) return;
  let stopped = false;
  const stop = openStream((ev) => {
    if (ev.event === "alert.raised" || (ev.event === "alert.escalated")) maybeUrgent(ev.data);
    listeners.forEach((fn) => fn(ev));
  }, (state) => { if (!stopped) showState(liveEl, state); });
  stopStream = () => { stopped = true; stop(); };
}
function showState(el, state) {
  el.textContent = state === "live" ? `● ${t("inbox.live")}` : `○ ${t("inbox.offline")}`;
  el.dataset.state = state;
}
onLangChange(() => {
  const el = document.getElementById("live");
  if (el.dataset.state) showState(el, el.dataset.state);
});

export function stopLive() {
  stopStream?.(); stopStream = null;
  const live = document.getElementById("live");
  live.textContent = ""; delete live.dataset.state;
}

async function maybeUrgent(ev) {
  const a = await api(`/api/v1/alerts/${encodeURIComponent(ev.alert_id)}`).catch(() => null);
  if (!a || a.severity !== "urgent") return;
  const banner = document.getElementById("banner");
  banner.replaceChildren(h("span", {}, `⚠ ${t("banner.urgent")}: ${a.title} (${a.patient_id})`), simBadge(a.simulated),
    h("button", { type: "button", onclick: () => { location.hash = "#/inbox"; banner.hidden = true; } }, t("banner.open")),
    h("button", { type: "button", onclick: () => { banner.hidden = true; } }, t("banner.dismiss")));
  banner.hidden = false;
  beep();
}

/** A short two-tone chime made with WebAudio: no audio file to ship. */
export function beep() {
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    [880, 660].forEach((f, i) => {
      const o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = f; o.connect(g); g.connect(ctx.destination);
      const t0 = ctx.currentTime + i * 0.25;
      g.gain.setValueAtTime(0.0001, t0); g.gain.exponentialRampToValueAtTime(0.3, t0 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.22);
      o.start(t0); o.stop(t0 + 0.24);
    });
    setTimeout(() => ctx.close(), 800);
  } catch { /* autoplay blocked until the user interacts: the banner still shows */ }
}

function whyText(why) {
  if (!why) return "";
  const parts = [why.explanation || ""];
  if (why.thresholds) parts.push(`thresholds: ${JSON.stringify(why.thresholds)}`);
  if (why.source) parts.push(`source: ${typeof why.source === "string" ? why.source : JSON.stringify(why.source)}`);
  return parts.filter(Boolean).join(" · ");
}

export async function inboxPage(main) {
  main.replaceChildren(h("h1", {}, t("inbox")));
  if (!(await has("/api/v1/alerts"))) { main.append(notAvailable()); return; }
  const list = h("div", { id: "inbox-list", "aria-live": "polite" });
  main.append(list);
  const render = async () => {
    const q = new URLSearchParams([["state", "raised"], ["state", "delivered"], ["state", "acknowledged"], ["limit", "200"]]);
    const items = (await api(`/api/v1/alerts?${q}`)).items;
    items.sort((a, b) => (b.severity === "urgent") - (a.severity === "urgent") || new Date(b.raised_at) - new Date(a.raised_at));
    list.replaceChildren(...(items.length ? items.map(row) : [h("p", {}, t("inbox.empty"))]));
  };
  const act = (a, path, body) => async () => {
    try { await api(`/api/v1/alerts/${encodeURIComponent(a.alert_id)}/${path}`, { method: "POST", body: body ?? {} }); }
    catch (e) { alert(String(e.detail || e)); }
    await render();
  };
  const row = (a) => h("article", { class: `card alert-row ${a.severity}`, "data-alert": a.alert_id, "data-status": a.status },
    h("div", {}, sevBadge(a.severity), " ", h("strong", {}, a.title), " ", simBadge(a.simulated)),
    h("div", {}, h("a", { href: `#/patient/${encodeURIComponent(a.patient_id)}` }, a.patient_id), ` · ${fmtTime(a.raised_at)} · `,
      h("span", { class: "status" }, t(`st.${a.status}`) ?? a.status), a.tier ? ` · ${a.tier}` : "",
      a.snoozed_until ? ` · ⏸ ${fmtTime(a.snoozed_until)}` : ""),
    h("div", { class: "why" }, `${t("why")}: ${whyText(a.why)}`),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "ack", disabled: a.status === "acknowledged", onclick: act(a, "acknowledge") }, t("ack")),
      h("button", { type: "button", class: "secondary", onclick: act(a, "assign", { username: sessionStorage.getItem("homerpm.user") }) }, t("assign")),
      h("button", { type: "button", class: "secondary", onclick: async () => {
        const text = prompt(t("comment.prompt")); if (text) await act(a, "comments", { text })(); } }, t("comment")),
      h("button", { type: "button", class: "secondary", onclick: act(a, "snooze", { duration_s: 900 }) }, t("snooze")),
      h("button", { type: "button", class: "secondary", onclick: act(a, "escalate") }, t("escalate")),
      h("button", { type: "button", class: "secondary", onclick: act(a, "resolve", { reason: "" }) }, t("resolve"))));
  await render();
  let pending = null;
  const off = onAlertEvent(() => { clearTimeout(pending); pending = setTimeout(render, 50); });
  return off;
}
