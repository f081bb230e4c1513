// Fleet page: every gateway the user may see, online/offline (and since when), outbox depth,
// device batteries, firmware. Polled while open: "offline" also means "silent for 10 min",
// which no event announces, so the page asks again every REFRESH_MS (each ask is audited).
import { api, has } from "./api.js";
import { t, fmtTime } from "./i18n.js";
import { h, simBadge, notAvailable } from "./dom.js";

const REFRESH_MS = 10_000;
const LOW_BATTERY = 20; // %: worth a visit or a battery change

function presenceCell(s) {
  if (!s || s.presence === "unknown") return h("span", { class: "badge offline" }, t("fleet.unknown"));
  const online = s.presence === "online";
  return [h("span", { class: `badge ${online ? "ok" : "offline"}` }, t(online ? "online" : "offline")),
    s.since ? h("div", { class: "legend since" }, t("fleet.since").replace("{t}", fmtTime(s.since))) : null,
    online ? null : h("div", { class: "legend reason" },
      t(`fleet.reason.${s.offline_reason}`).replace("{m}", String(Math.round(s.offline_after_s / 60))))];
}

function batteryCell(s) {
  const devs = (s?.devices || []).filter((d) => d.battery_pct != null);
  if (!devs.length) return "–";
  return devs.map((d) => h("div", { style: "white-space:nowrap" }, `${d.device}: `, d.battery_pct < LOW_BATTERY
    ? h("span", { class: "badge warning" }, `${d.battery_pct} %`) : `${d.battery_pct} %`));
}

function row(g) {
  const s = g.status;
  return h("tr", { "data-gateway": g.id, "data-presence": s?.presence ?? "unknown" },
    h("td", {}, g.id, g.label ? ` (${g.label})` : "", " ", simBadge(s?.simulated)),
    h("td", { class: "presence" }, presenceCell(s)),
    h("td", {}, s?.last_seen_at ? fmtTime(s.last_seen_at) : "–"),
    h("td", { class: "outbox" }, s?.outbox_depth ?? "–"),
    h("td", { class: "battery" }, batteryCell(s)),
    h("td", { class: "firmware" }, s?.software ?? "–"),
    h("td", { class: "hide-sm" }, s?.config_version ?? "–"));
}

export async function fleetPage(main) {
  main.replaceChildren(h("h1", {}, t("fleet")));
  if (!(await has("/api/v1/gateways"))) { main.append(notAvailable()); return null; }
  const body = h("tbody", {});
  const msg = h("p", { class: "na", role: "status" });
  const cols = [t("gateway"), t("status"), t("fleet.lastseen"), t("outbox"), t("battery"), t("firmware")];
  main.append(h("div", { class: "card scroll" }, h("table", { id: "fleet-table" },
    h("thead", {}, h("tr", {}, cols.map((c) => h("th", {}, c)), h("th", { class: "hide-sm" }, t("fleet.config")))),
    body)), msg, h("p", { class: "legend" }, t("fleet.note")));
  async function load() {
    try {
      const gws = await api("/api/v1/gateways");
      body.replaceChildren(...gws.map(row));
      msg.textContent = gws.length ? "" : t("fleet.none");
    } catch (e) { msg.textContent = String(e.detail || e); }
  }
  await load();
  const timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  return () => clearInterval(timer);
}
