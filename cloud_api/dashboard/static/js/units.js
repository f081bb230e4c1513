// Display units the signed-in user prefers (kept server-side: GET /api/v1/me, PUT
// /api/v1/me/preferences). Storage and charts' source data stay canonical (mmHg, mg/dL);
// only what is shown is converted, with the same factors as vitals/units.py.
import { api } from "./api.js";

const MMHG_PER_KPA = 760 / 101.325;
const MGDL_PER_MMOLL = 18.0156;
let prefs = { bp_unit: "mmHg", glucose_unit: "mg/dL" };

export const prefsNow = () => ({ ...prefs });
export const bpUnit = () => prefs.bp_unit;
export const gluUnit = () => prefs.glucose_unit;
export const bpDigits = () => (prefs.bp_unit === "kPa" ? 1 : 0);
export const gluDigits = () => (prefs.glucose_unit === "mmol/L" ? 1 : 0);
/** mmHg → the preferred pressure unit (null stays null). */
export const bp = (mmHg) => (mmHg == null ? null : prefs.bp_unit === "kPa" ? mmHg / MMHG_PER_KPA : mmHg);
/** mg/dL → the preferred glucose unit (null stays null). */
export const glu = (mgdl) => (mgdl == null ? null : prefs.glucose_unit === "mmol/L" ? mgdl / MGDL_PER_MMOLL : mgdl);

/** Take the preferences from a /api/v1/me answer. */
export function adoptPrefs(me) {
  if (me && me.preferences) prefs = { ...prefs, ...me.preferences };
}

/** Store new preferences for this user (audited server-side) and use them from now on. */
export async function savePrefs(next) {
  prefs = { ...prefs, ...next };  // at once: a second change must not undo this one
  prefs = await api("/api/v1/me/preferences", { method: "PUT", body: prefs });
}
