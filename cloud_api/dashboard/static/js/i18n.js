// English / Simplified Chinese strings. Clinical wording written by hand, not machine translated.
const TABLE = {
  en: {
    skip: "Skip to content", "nav.patients": "Patients", "nav.inbox": "Alerts",
    "nav.referrals": "Referrals", "nav.fleet": "Gateways", "lang.label": "Language",
    "units.bp": "Blood pressure unit", "units.glucose": "Glucose unit",
    logout: "Sign out", footer: "HomeRPM reports measurements and the limits they crossed; it does not diagnose.",
    "login.title": "Sign in", "login.user": "Username", "login.pass": "Password", "login.go": "Sign in",
    "login.bad": "Wrong username or password.", "login.throttled": "Too many attempts; try again later.",
    patients: "Patients", patient: "Patient", "col.alert": "Open alerts", "col.latest": "Latest readings",
    "col.last": "Last reading", "col.trend": "Trend", offline: "offline", stale: "no data > 24 h",
    simulated: "simulated", loading: "Loading…", none: "None", "not.available": "Not available on this server yet",
    bp: "Blood pressure", sys: "Systolic", dia: "Diastolic", glucose: "Blood glucose", hr: "Heart rate",
    ecg: "ECG", spo2: "SpO₂", weight: "Body weight", pulse: "Pulse",
    readings: "Readings", when: "Time", kind: "Type", value: "Value", device: "Device", gateway: "Gateway",
    devices: "Devices and gateways", "bp.legend": "Bands: ACC/AHA 2017 adult BP categories (normal <120/<80; elevated 120–129/<80; stage 1 130–139 or 80–89; stage 2 ≥140 or ≥90; severe >180/>120). Home BP uses ≥135/85 (ESC/ESH, Chinese HBPM guidance).",
    "band.normal": "normal", "band.elevated": "elevated", "band.stage1": "stage 1", "band.stage2": "stage 2", "band.crisis": "severe",
    "glu.legend": "Target range 70–180 mg/dL (ATTD international consensus on time in range, Battelino et al., Diabetes Care 2019).",
    agp: "14-day glucose profile (AGP)", "agp.legend": "Median, 25–75th and 5–95th percentiles by hour of day.",
    "agp.few": "Too few glucose readings for a profile.",
    "ecg.open": "View strip", "ecg.beats": "beats", "ecg.zoom": "Zoom", "ecg.paper": "25 mm/s, 10 mm/mV",
    "ecg.note": "Automated screening; findings need clinician review. Not a diagnosis.",
    "ecg.quality": "Signal quality", "ecg.hr": "Heart rate", "ecg.nofind": "No findings flagged.",
    "ecg.possible_af": "possible AF — clinician review", "ecg.pause": "pause — clinician review",
    thresholds: "Alert thresholds", "th.version": "version", "th.defaults": "Rule defaults (no clinician override).",
    "th.rules": "Clinician overrides (JSON, per rule)", "th.reason": "Reason for the change", "th.save": "Save and push to gateways",
    "th.badjson": "Not valid JSON.", "th.needreason": "A reason is required.", reports: "Reports", "rep.homebp": "Home BP (7-2-2)",
    "rep.tir": "Time in ranges", "rep.days": "Days used", "rep.sessions": "Sessions used",
    "rep.adequate": "Enough days (≥ 3)", "rep.above": "above", "rep.below": "below", "rep.estimate": "estimate", "rep.adherence": "Adherence", "rep.print": "Printable report",
    inbox: "Alert inbox", "inbox.empty": "No alerts.", "inbox.live": "live", "inbox.offline": "reconnecting…",
    ack: "Acknowledge", assign: "Assign to me", comment: "Comment", snooze: "Snooze 15 min",
    escalate: "Escalate", resolve: "Resolve", why: "Why", status: "Status", severity: "Severity",
    "sev.urgent": "urgent", "sev.warning": "warning", "sev.info": "info",
    "st.raised": "raised", "st.delivered": "delivered", "st.acknowledged": "acknowledged", "st.resolved": "resolved",
    "banner.urgent": "Urgent alert", "banner.open": "Open inbox", "banner.dismiss": "Dismiss",
    "comment.prompt": "Comment", referrals: "Referrals", "ref.in": "Referred in", "ref.out": "Referred out",
    fleet: "Gateways", online: "online", battery: "Battery", firmware: "Firmware", outbox: "Outbox",
    "fleet.since": "since {t}", "fleet.lastseen": "Last heartbeat", "fleet.unknown": "never seen", "fleet.config": "Config version",
    "fleet.reason.reported_offline": "Last Will or shutdown message", "fleet.reason.heartbeat_missing": "no heartbeat for more than {m} min",
    "fleet.none": "No gateways.", "fleet.note": "Offline: the gateway's Last Will (sent by the broker when its connection is lost) or its shutdown message, or no heartbeat for longer than the limit (10 minutes by default) — the same test as the gateway-offline alert. Outbox: readings waiting on the gateway for delivery. Refreshed every 10 s.",
    "fam.title": "My readings", "fam.alerts": "Active alerts", "fam.noalerts": "No active alerts.",
    "fam.call": "If you feel unwell, call your clinic or emergency services.",
    back: "Back", "role.forbidden": "Your role may not open this page (organisation administrators only).", "forbidden": "Not found, or you may not see this patient.",
  },
  zh: {
    skip: "跳到正文", "nav.patients": "患者", "nav.inbox": "告警", "nav.referrals": "转诊",
    "nav.fleet": "网关", "lang.label": "语言", "units.bp": "血压单位", "units.glucose": "血糖单位", logout: "退出登录",
    footer: "HomeRPM 仅报告测量值及其超出的限值，不作诊断。",
    "login.title": "登录", "login.user": "用户名", "login.pass": "密码", "login.go": "登录",
    "login.bad": "用户名或密码错误。", "login.throttled": "尝试次数过多，请稍后再试。",
    patients: "患者", patient: "患者", "col.alert": "未处理告警", "col.latest": "最新读数",
    "col.last": "最近测量", "col.trend": "趋势", offline: "离线", stale: "超过24小时无数据",
    simulated: "模拟数据", loading: "加载中…", none: "无", "not.available": "本服务器暂不支持此功能",
    bp: "血压", sys: "收缩压", dia: "舒张压", glucose: "血糖", hr: "心率", ecg: "心电图",
    spo2: "血氧饱和度", weight: "体重", pulse: "脉率",
    readings: "测量记录", when: "时间", kind: "类型", value: "数值", device: "设备", gateway: "网关",
    devices: "设备与网关", "bp.legend": "分级：ACC/AHA 2017 成人血压分类（正常 <120/<80；血压升高 120–129/<80；1级 130–139 或 80–89；2级 ≥140 或 ≥90；重度 >180/>120）。家庭血压诊断阈值 ≥135/85（ESC/ESH、《中国家庭血压监测指南》）。",
    "band.normal": "正常", "band.elevated": "血压升高", "band.stage1": "1级", "band.stage2": "2级", "band.crisis": "重度",
    "glu.legend": "目标范围 70–180 mg/dL（3.9–10.0 mmol/L；ATTD 葡萄糖目标范围内时间国际共识，Battelino 等，Diabetes Care 2019）。",
    agp: "14天动态血糖图谱（AGP）", "agp.legend": "按一天中各小时的中位数、第25–75及第5–95百分位数。",
    "agp.few": "血糖读数太少，无法生成图谱。",
    "ecg.open": "查看心电图", "ecg.beats": "心搏", "ecg.zoom": "缩放", "ecg.paper": "走纸速度 25 mm/s，增益 10 mm/mV",
    "ecg.note": "自动筛查结果，需由临床医生复核，不构成诊断。",
    "ecg.quality": "信号质量", "ecg.hr": "心率", "ecg.nofind": "未标记异常。",
    "ecg.possible_af": "疑似房颤 — 请临床医生复核", "ecg.pause": "心搏暂停 — 请临床医生复核",
    thresholds: "告警阈值", "th.version": "版本", "th.defaults": "使用规则默认值（无医生调整）。",
    "th.rules": "医生调整（JSON，按规则）", "th.reason": "修改原因", "th.save": "保存并下发到网关",
    "th.badjson": "JSON 格式不正确。", "th.needreason": "请填写修改原因。", reports: "报告", "rep.homebp": "家庭血压（7-2-2）",
    "rep.tir": "目标范围内时间", "rep.days": "纳入天数", "rep.sessions": "纳入测量次数",
    "rep.adequate": "天数充足（≥3天）", "rep.above": "高于阈值", "rep.below": "低于阈值", "rep.estimate": "估算值", "rep.adherence": "测量依从性", "rep.print": "打印版报告",
    inbox: "告警收件箱", "inbox.empty": "暂无告警。", "inbox.live": "实时", "inbox.offline": "正在重新连接…",
    ack: "确认", assign: "分配给我", comment: "备注", snooze: "暂缓15分钟", escalate: "升级",
    resolve: "解除", why: "触发原因", status: "状态", severity: "级别",
    "sev.urgent": "紧急", "sev.warning": "警告", "sev.info": "提示",
    "st.raised": "已触发", "st.delivered": "已送达", "st.acknowledged": "已确认", "st.resolved": "已解除",
    "banner.urgent": "紧急告警", "banner.open": "打开收件箱", "banner.dismiss": "关闭",
    "comment.prompt": "备注", referrals: "转诊", "ref.in": "转入", "ref.out": "转出",
    fleet: "网关", online: "在线", battery: "电量", firmware: "固件", outbox: "待发队列",
    "fleet.since": "自 {t} 起", "fleet.lastseen": "最近心跳", "fleet.unknown": "从未上线", "fleet.config": "配置版本",
    "fleet.reason.reported_offline": "遗嘱消息或关机消息", "fleet.reason.heartbeat_missing": "超过{m}分钟无心跳",
    "fleet.none": "暂无网关。", "fleet.note": "离线：网关的遗嘱消息（连接中断时由消息服务器发出）或关机消息，或超过限定时间（默认10分钟）没有心跳——与“网关离线”告警的判断相同。待发队列：网关上等待上传的测量记录。每10秒刷新。",
    "fam.title": "我的测量", "fam.alerts": "当前告警", "fam.noalerts": "当前没有告警。",
    "fam.call": "如感觉不适，请联系您的诊所或拨打急救电话。",
    back: "返回", "role.forbidden": "您的角色无权打开此页面（仅限机构管理员）。", forbidden: "未找到，或您无权查看该患者。",
  },
};

const KEY = "homerpm.lang";
let lang = localStorage.getItem(KEY) || ((navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en");
if (!TABLE[lang]) lang = "en";
const listeners = new Set();

export function t(key) { return TABLE[lang][key] ?? TABLE.en[key] ?? key; }
export function getLang() { return lang; }
export function onLangChange(fn) { listeners.add(fn); }
export function setLang(next) {
  if (!TABLE[next]) return;
  lang = next;
  localStorage.setItem(KEY, next);
  applyStatic();
  listeners.forEach((fn) => fn(next));
}
/** Fill every element carrying data-i18n in the static shell. */
export function applyStatic(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  root.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
}
export function fmtTime(iso) {
  return new Date(iso).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB",
    { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}
