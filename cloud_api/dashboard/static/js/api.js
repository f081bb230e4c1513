// The API client: bearer token in sessionStorage (gone when the tab closes), feature checks
// from /openapi.json (a page whose endpoint is not deployed says so instead of faking data),
// and the alert stream read with fetch so the token travels in the Authorization header.
const TOKEN = "homerpm.token", REFRESH = "homerpm.refresh";
let features = null;

export class ApiError extends Error {
  constructor(status, detail) { super(`${status}: ${detail}`); this.status = status; this.detail = detail; }
}
export function token() { return sessionStorage.getItem(TOKEN); }
export function signOut() { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(REFRESH); }

export async function login(username, password) {
  const body = new URLSearchParams({ username, password });
  const r = await fetch("/api/v1/auth/token", { method: "POST", body });
  if (!r.ok) throw new ApiError(r.status, (await r.json().catch(() => ({}))).detail || r.statusText);
  const j = await r.json();
  sessionStorage.setItem(TOKEN, j.access_token);
  if (j.refresh_token) sessionStorage.setItem(REFRESH, j.refresh_token);
  return j;
}

async function refresh() {
  const rt = sessionStorage.getItem(REFRESH);
  if (!rt || !(await has("/api/v1/auth/refresh"))) return false;
  const r = await fetch("/api/v1/auth/refresh", { method: "POST",
    headers: { "content-type": "application/json" }, body: JSON.stringify({ refresh_token: rt }) });
  if (!r.ok) return false;
  const j = await r.json();
  sessionStorage.setItem(TOKEN, j.access_token);
  if (j.refresh_token) sessionStorage.setItem(REFRESH, j.refresh_token);
  return true;
}

export async function api(path, { method = "GET", body, retry = true } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401 && retry && (await refresh())) return api(path, { method, body, retry: false });
  if (r.status === 401) { signOut(); location.hash = "#/login"; throw new ApiError(401, "signed out"); }
  if (!r.ok) throw new ApiError(r.status, (await r.json().catch(() => ({}))).detail || r.statusText);
  return r.status === 204 ? null : r.json();
}

/** Does the server offer this path (as written in its OpenAPI document)? */
export async function has(path) {
  if (!features) {
    features = fetch("/openapi.json").then((r) => r.json()).then((j) => new Set(Object.keys(j.paths || {})))
      .catch(() => new Set());
  }
  return (await features).has(path);
}

/** Server-Sent Events over fetch. Calls onEvent({id, event, data}); reconnects with Last-Event-ID. */
export function openStream(onEvent, onState) {
  let lastId = null, stopped = false, ctrl = null;
  async function run() {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const headers = { Authorization: `Bearer ${token()}`, Accept: "text/event-stream" };
        if (lastId) headers["Last-Event-ID"] = lastId;
        const r = await fetch("/api/v1/stream", { headers, signal: ctrl.signal, cache: "no-store" });
        if (r.status === 401 && !(await refresh())) { onState("offline"); return; }
        if (!r.ok || !r.body) throw new Error(`stream ${r.status}`);
        onState("live");
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const frame = buf.slice(0, cut); buf = buf.slice(cut + 2);
            const ev = { id: null, event: "message", data: "" };
            for (const line of frame.split("\n")) {
              if (line.startsWith(":")) continue;
              const i = line.indexOf(":"); const k = i < 0 ? line : line.slice(0, i);
              const v = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
              if (k === "id") ev.id = v; else if (k === "event") ev.event = v; else if (k === "data") ev.data += v;
            }
            if (ev.id) lastId = ev.id;
            if (ev.data) { try { onEvent({ ...ev, data: JSON.parse(ev.data) }); } catch (e) { console.warn(e); } }
          }
        }
      } catch (e) { if (stopped) return; console.warn("stream", e); }
      onState("offline");
      await new Promise((res) => setTimeout(res, 2000));
    }
  }
  run();
  return () => { stopped = true; ctrl?.abort(); };
}
