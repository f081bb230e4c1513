// Shell: sign-in, hash router, language switch, live stream start/stop.
import { login, token, signOut, api, has, ApiError } from "./api.js";
import { t, setLang, getLang, applyStatic, onLangChange } from "./i18n.js";
import { h } from "./dom.js";
import { adoptPrefs, prefsNow, savePrefs } from "./units.js";
import { patientList, patientPage, ecgPage, familyPage, referralsPage } from "./views.js";
import { fleetPage } from "./fleet.js";
import { inboxPage, startLive, stopLive } from "./inbox.js";

const main = document.getElementById("main");
let cleanup = null, generation = 0;

/** Role for choosing pages only (the server decides access): /me when deployed, else the token's claim. */
async function role() {
  if (await has("/api/v1/me")) {
    try {
      const me = await api("/api/v1/me");
      adoptPrefs(me);
      showUnits(true);
      return me.role;
    } catch { /* fall through */ }
  }
  try { return JSON.parse(atob(token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).role; } catch { return ""; }
}

const unitSelects = { bp_unit: document.getElementById("bp-unit"), glucose_unit: document.getElementById("glucose-unit") };
function showUnits(on) {
  document.getElementById("units").hidden = !on;
  const p = prefsNow();
  for (const [k, sel] of Object.entries(unitSelects)) sel.value = p[k];
}
for (const [k, sel] of Object.entries(unitSelects)) {
  sel.addEventListener("change", async () => {
    try { await savePrefs({ [k]: sel.value }); } catch { showUnits(true); return; }
    route();
  });
}

function loginPage() {
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const msg = h("p", { class: "err", role: "alert" });
  const form = h("form", { class: "card login", onsubmit: async (e) => {
    e.preventDefault(); msg.textContent = "";
    try {
      await login(user.value, pass.value);
      sessionStorage.setItem("homerpm.user", user.value);
      location.hash = "#/";
    } catch (err) { msg.textContent = err instanceof ApiError && err.status === 429 ? t("login.throttled") : t("login.bad"); }
  } },
  h("h1", {}, t("login.title")),
  h("label", { for: "username" }, t("login.user")), user,
  h("label", { for: "password" }, t("login.pass")), pass,
  h("p", {}, h("button", { type: "submit" }, t("login.go"))), msg);
  main.replaceChildren(form);
  user.focus();
}

async function route() {
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  // Pages render into a detached element that replaces <main> only if no newer navigation
  // started meanwhile: a slow page must not paint over the one the user went on to.
  const mine = ++generation;
  const nav = document.getElementById("nav"), out = document.getElementById("logout");
  const path = location.hash.replace(/^#/, "") || "/";
  if (!token() || path === "/login") {
    nav.hidden = true; out.hidden = true; showUnits(false); stopLive();
    loginPage(); return;
  }
  out.hidden = false;
  const r = await role();
  const family = r === "family";
  nav.hidden = family;
  if (!family) startLive(document.getElementById("live"));
  for (const a of nav.querySelectorAll("a")) a.toggleAttribute("aria-current", path.startsWith(a.getAttribute("href").slice(1)));
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const page = h("div", {});
  main.replaceChildren(h("p", {}, t("loading")));
  let off = null;
  try {
    if (parts[0] === "patient" && parts[2] === "ecg") await ecgPage(page, parts[1], parts[3]);
    else if (parts[0] === "patient") await patientPage(page, parts[1]);
    else if (family) await familyPage(page);
    else if (parts[0] === "inbox") off = await inboxPage(page);
    else if (parts[0] === "fleet") off = await fleetPage(page);
    else if (parts[0] === "referrals") await referralsPage(page);
    else await patientList(page);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) page.replaceChildren(h("p", { class: "err" }, String(e.detail || e)));
  }
  if (mine !== generation) { off?.(); return; }
  cleanup = off;
  main.replaceChildren(page);
  main.dataset.ready = path;
}

const select = document.getElementById("lang");
select.value = getLang();
select.addEventListener("change", () => setLang(select.value));
onLangChange(() => route());
document.getElementById("logout").addEventListener("click", () => { signOut(); stopLive(); location.hash = "#/login"; });
window.addEventListener("hashchange", route);
applyStatic();
route();
