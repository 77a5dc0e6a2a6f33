// ladder — /portal, the companies' page: sign up or claim, profile, facts year by year,
// eligibility with explanations and next steps, applications with evidence, certificates and
// notifications. Public API only; anything a user or the registry typed goes in as text.
import {
  $, h, append, clear, fill, bi, tn, label, api, optional, store, showError, say, wireSession, showSession,
  badge, valueText, todayIso, dateOf, daysBetween, listOf, ApiError, signIn
} from "./common.js";
import { t, ts } from "./i18n.js";

const S = {
  me: null, ent: null, indicators: [], tiers: new Map(), districts: [],
  facts: {}, year: null, elig: null, apps: [], openApp: null
};

const KINDS = [
  ["audit_report", "审计报告", "Audit report"],
  ["ip_certificate", "知识产权证书", "IP certificate"],
  ["license", "营业执照等证照", "Licence"],
  ["award", "获奖证明", "Award"],
  ["other", "其他材料", "Other"]
];

// ---------- start ----------

function init() {
  wireSession(enter, leave);
  $("signup-form").addEventListener("submit", onSignUp);
  $("facts-form").addEventListener("submit", onSaveFacts);
  $("facts-year").addEventListener("change", () => { S.year = $("facts-year").value; renderFactsForm(); });
  $("elig-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadEligibility(); });
  $("elig-asof").value = todayIso();
  if (store.access) enter().catch(() => leave());
  else leave();
}

function leave(message) {
  showSession(false);
  $("app").hidden = true;
  $("signin").hidden = false;
  document.body.dataset.state = "signed-out";
  showError($("signin-error"), message ? { message } : null);
  loadDistricts();
}

async function loadDistricts() {
  const sel = $("su-district");
  if (sel.options.length) return;
  // Districts need a session; before sign-up the list is the 13 districts of Shenyang as
  // text the service also validates (a wrong code comes back as a field error).
  const fallback = [
    ["210102", "和平区"], ["210103", "沈河区"], ["210104", "大东区"], ["210105", "皇姑区"], ["210106", "铁西区"],
    ["210111", "苏家屯区"], ["210112", "浑南区"], ["210113", "沈北新区"], ["210114", "于洪区"], ["210115", "辽中区"],
    ["210123", "康平县"], ["210124", "法库县"], ["210181", "新民市"]
  ];
  append(sel, h("option", { value: "" }, "请选择 Choose…"));
  fallback.forEach(([code, name]) => append(sel, h("option", { value: code }, name + " " + code)));
}

async function enter() {
  const me = await api("/me");
  S.me = me;
  showSession(true);
  $("signin").hidden = true;
  $("app").hidden = false;
  if (me.role !== "enterprise" || !me.enterprise) {
    fill($("profile-body"), h("p", { class: "notice" },
      "此页面供企业账号使用；评审与管理请前往 ", h("a", { href: "/review" }, "审核 Review"), "。",
      h("span", { class: "en" }, "This page is for company accounts.")));
    ["facts", "eligibility", "applications", "certificates", "notifications"].forEach((id) => { $(id).hidden = true; });
    document.body.dataset.state = "ready";
    return;
  }
  S.ent = me.enterprise;
  const [ind, tiers, districts, clusters] = await Promise.all([
    api("/indicators"), api("/tiers"), optional("/districts", []), optional("/clusters", [])
  ]);
  S.indicators = listOf(ind);
  S.tiers = new Map(listOf(tiers).map((x) => [x.code, x]));
  S.districts = listOf(districts);
  S.clusters = listOf(clusters);
  renderProfile();
  await loadFacts();
  await Promise.all([loadEligibility(), loadApplications(), loadCertificates(), loadNotifications()]);
  document.body.dataset.state = "ready";
}

function tierLabel(code) { return label(S.tiers.get(code), code); }
function tierText(code) { const x = S.tiers.get(code); return x ? x.label_zh + " " + x.label_en : code; }
function indicator(code) { return S.indicators.find((i) => i.code === code); }
function unitOf(code) { const i = indicator(code); return i ? i.unit : ""; }

function softFail(box, e) {
  if (e && e.status === 401) return;
  if (e && e.missing) { fill(box, h("p", { class: "muted" }, tn("not_available"))); return; }
  fill(box, h("div", { class: "alert", role: "alert" }, e.message || String(e)));
}

// ---------- sign up ----------

function fieldErrors(prefix, errors) {
  document.querySelectorAll("#" + prefix + "-form .field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
  document.querySelectorAll("#" + prefix + "-form [aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  let first = null;
  const rest = [];
  (errors || []).forEach((e) => {
    const name = String(e.field || "").split(".").pop();
    const p = document.getElementById((prefix === "signup" ? "su-" : prefix + "-") + name + "-err");
    if (!p) { rest.push(e); return; }
    p.textContent = e.message || e.code || "";
    p.hidden = false;
    const input = document.querySelector("[aria-describedby~='" + p.id + "']");
    if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
  });
  if (first) first.focus();
  return rest;
}

async function onSignUp(ev) {
  ev.preventDefault();
  const body = {
    username: $("su-username").value.trim(), password: $("su-password").value,
    uscc: $("su-uscc").value.trim().toUpperCase(), name: $("su-name").value.trim(), district_code: $("su-district").value
  };
  const btn = $("signup-submit");
  btn.disabled = true;
  showError($("signup-error"), null);
  $("signup-note").hidden = true;
  try {
    const res = await api("/auth/register", { method: "POST", body, auth: false, raw: true });
    fieldErrors("signup", []);
    const doc = res.status === 204 ? null : await res.json().catch(() => null);
    if (res.status === 202 || (doc && doc.claim_id)) {
      fill($("signup-note"), "该企业已在名录中，认领申请已提交（编号 " + (doc ? doc.claim_id : "") + "），管理员核准后即可登录管理。",
        h("span", { class: "en" }, "This company is already in the registry: your claim awaits an admin's approval."));
      $("signup-note").hidden = false;
      return;
    }
    $("login-username").value = body.username;
    await signIn(body.username, body.password);
    await enter();
    $("facts").scrollIntoView();
    $("facts-fields").querySelector("input, select")?.focus();
  } catch (e) {
    const rest = fieldErrors("signup", e.errors);
    if (rest.length || !e.errors.length) showError($("signup-error"), new ApiError(e.status, e.message, rest));
  } finally {
    btn.disabled = false;
  }
}

// ---------- profile ----------

function renderProfile() {
  const e = S.ent;
  const d = S.districts.find((x) => x.code === e.district_code);
  const c = S.clusters.find((x) => x.code === e.cluster_code);
  fill($("ent-title"), e.name, h("span", { class: "en" }, "企业申报 Company portal"));
  fill($("profile-body"), h("dl", { class: "kv" },
    h("dt", null, tn("ent_name")), h("dd", { id: "profile-name" }, e.name),
    h("dt", null, tn("uscc")), h("dd", null, e.uscc),
    h("dt", null, tn("district")), h("dd", null, d ? label(d) : e.district_code),
    h("dt", null, tn("cluster")), h("dd", null, c ? label(c) : (e.cluster_code || "—")),
    h("dt", null, tn("founded_on")), h("dd", null, e.founded_on || "—"),
    h("dt", null, tn("niche_entered_on")), h("dd", null, e.niche_entered_on || "—"),
    h("dt", null, "核验状态 ", h("span", { class: "en" }, "Status")), h("dd", null, e.verified ? tn("verified") : tn("unverified"))));
}

// ---------- facts ----------

async function loadFacts() {
  const doc = await api("/enterprises/" + S.ent.id + "/facts");
  S.facts = (doc && doc.facts) || {};
  const thisYear = +todayIso().slice(0, 4);
  const years = new Set([thisYear - 3, thisYear - 2, thisYear - 1, thisYear].map(String));
  Object.keys(S.facts).forEach((y) => years.add(y));
  const sel = $("facts-year");
  const keep = S.year || String(thisYear - 1);
  clear(sel);
  [...years].sort().reverse().forEach((y) => append(sel, h("option", { value: y }, y + " 年度" + (S.facts[y] ? " ✓" : ""))));
  sel.value = keep;
  S.year = sel.value;
  renderFactsForm();
}

function rangeText(ind) {
  const parts = [];
  if (ind.min !== null && ind.min !== undefined) parts.push("≥ " + ind.min);
  if (ind.max !== null && ind.max !== undefined) parts.push("≤ " + ind.max);
  return parts.join("，");
}

function renderFactsForm() {
  const box = clear($("facts-fields"));
  const year = S.facts[S.year] || {};
  showError($("facts-error"), null);
  $("facts-saved").textContent = "";
  S.indicators.forEach((ind) => {
    const id = "fact-" + ind.code;
    const err = h("p", { class: "field-error", id: id + "-err", hidden: true });
    const hint = h("p", { class: "hint", id: id + "-hint" }, [ind.unit, rangeText(ind)].filter(Boolean).join(" · "));
    const cur = year[ind.code];
    let input;
    if (ind.kind === "bool") {
      input = h("select", { id, name: ind.code, "aria-describedby": id + "-hint " + id + "-err" },
        h("option", { value: "" }, "未填 —"), h("option", { value: "true" }, "是 yes"), h("option", { value: "false" }, "否 no"));
      input.value = cur === true ? "true" : cur === false ? "false" : "";
    } else {
      input = h("input", {
        id, name: ind.code, type: "text", inputmode: ind.kind === "amount" || ind.kind === "percent" ? "decimal" : "numeric",
        autocomplete: "off", spellcheck: "false", "aria-describedby": id + "-hint " + id + "-err"
      });
      input.value = cur === null || cur === undefined ? "" : String(cur);
    }
    input.dataset.was = input.value;
    append(box, h("div", { class: "field fact", dataset: { code: ind.code } },
      h("label", { for: id }, ind.label_zh, h("span", { class: "en" }, ind.label_en)), input, hint, err));
  });
}

function readChanges() {
  const changes = {};
  S.indicators.forEach((ind) => {
    const el = $("fact-" + ind.code);
    if (!el || el.value === el.dataset.was) return;
    const v = el.value.trim();
    if (v === "") changes[ind.code] = null;
    else if (ind.kind === "bool") changes[ind.code] = v === "true";
    else changes[ind.code] = v; // exact decimal as typed; the service parses it
  });
  return changes;
}

async function onSaveFacts(ev) {
  ev.preventDefault();
  const changes = readChanges();
  const btn = $("facts-save");
  clearFactErrors();
  $("facts-saved").textContent = "";
  if (!Object.keys(changes).length) { $("facts-saved").textContent = "没有改动 · Nothing changed"; return; }
  btn.disabled = true;
  const path = "/enterprises/" + S.ent.id + "/facts/" + S.year;
  try {
    try {
      await api(path, { method: "PATCH", body: { facts: changes } });
    } catch (e) {
      if (!e.missing || e.status === 404 && e.doc && /enterprise/i.test(e.doc.detail || "")) throw e;
      // No PATCH on this server: merge here and replace the year.
      const merged = Object.assign({}, S.facts[S.year] || {});
      Object.entries(changes).forEach(([k, v]) => { if (v === null) delete merged[k]; else merged[k] = v; });
      await api(path, { method: "PUT", body: { facts: merged } });
    }
    await loadFacts();
    $("facts-saved").textContent = "✓ " + S.year + " 年度数据已保存 · Saved";
    loadEligibility();
  } catch (e) {
    if (e.status === 401) return;
    const rest = showFactErrors(e.errors || []);
    if (rest.length || !(e.errors || []).length) showError($("facts-error"), new ApiError(e.status, e.message, rest));
  } finally {
    btn.disabled = false;
  }
}

function clearFactErrors() {
  document.querySelectorAll("#facts-fields .field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
  document.querySelectorAll("#facts-fields [aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  showError($("facts-error"), null);
}

// errors[].field is "facts.rd_staff", "rd_staff" or "facts.2025.rd_staff": the code is last.
function showFactErrors(errors) {
  let first = null;
  const rest = [];
  errors.forEach((e) => {
    const code = String(e.field || "").split(".").pop();
    const el = $("fact-" + code);
    const p = $("fact-" + code + "-err");
    if (!el || !p) { rest.push(e); return; }
    p.textContent = (p.textContent ? p.textContent + "；" : "") + (e.message || e.code || "");
    p.hidden = false;
    el.setAttribute("aria-invalid", "true");
    first = first || el;
  });
  if (first) first.focus();
  return rest;
}

// ---------- eligibility ----------

async function loadEligibility() {
  const asOf = $("elig-asof").value || todayIso();
  const list = $("elig-list");
  fill(list, h("p", { class: "muted" }, tn("loading")));
  clear($("elig-summary"));
  try {
    const doc = await api("/enterprises/" + S.ent.id + "/eligibility?as_of=" + encodeURIComponent(asOf));
    S.elig = doc;
    renderEligibility(listOf(doc), asOf);
  } catch (e) {
    softFail(list, e);
  }
}

function outcomeOf(r) { return r.outcome || (r.result && r.result.outcome) || "not_graded"; }

function renderEligibility(items, asOf) {
  const counts = { eligible: 0, ineligible: 0, incomplete: 0 };
  items.forEach((r) => { const o = outcomeOf(r); if (o in counts) counts[o]++; });
  fill($("elig-summary"),
    ["eligible", "ineligible", "incomplete"].map((o) =>
      h("div", { class: "tile tile-" + o, dataset: { outcome: o } },
        h("div", { class: "tile-label" }, tn(o)),
        h("div", { class: "tile-value" }, String(counts[o]), h("small", null, "项 tiers")))));
  const list = clear($("elig-list"));
  if (!items.length) { append(list, h("p", { class: "muted" }, "该日期没有在施的称号规则。 No tier in force on " + asOf + ".")); return; }
  const order = { eligible: 0, incomplete: 1, ineligible: 2 };
  items.slice().sort((a, b) => (order[outcomeOf(a)] ?? 3) - (order[outcomeOf(b)] ?? 3)).forEach((r) => append(list, tierCard(r, asOf)));
}

function tierCard(r, asOf) {
  const o = outcomeOf(r);
  const id = "tier-" + r.tier;
  const next = (r.summary && r.summary.next_steps) || [];
  const card = h("article", { class: "tier-card outcome-" + o, id, dataset: { tier: r.tier, outcome: o }, "aria-labelledby": id + "-h" },
    h("div", { class: "tier-head" },
      h("h3", { id: id + "-h" }, tierLabel(r.tier)),
      badge("outcome", o),
      h("button", { type: "button", class: "btn " + (o === "eligible" ? "btn-primary" : "btn-secondary") + " apply",
        dataset: { tier: r.tier }, onclick: () => apply(r.tier, +asOf.slice(0, 4)) }, "申报 · Apply")),
    r.ruleset ? h("p", { class: "muted small" }, "规则版本 Rule set v" + (r.ruleset.version ?? "") + " · 自 from " + (r.ruleset.effective_from || "") +
      (r.route ? " · 路径 route: " + r.route : "") + (r.score !== null && r.score !== undefined ? " · 得分 score " + r.score + (r.pass_mark ? " / " + r.pass_mark : "") : "")) : null);
  if (next.length) {
    append(card, h("div", { class: "next-steps" },
      h("h4", null, "下一步 ", h("span", { class: "en" }, "Next steps")),
      h("ol", null, next.map((s) => h("li", { dataset: { kind: s.kind || "" } },
        h("span", { class: "chip" }, tn("ns_" + s.kind)), " ", s.text_zh || "", s.text_en ? h("span", { class: "en block" }, s.text_en) : null)))));
  } else if ((r.missing || []).length) {
    append(card, h("div", { class: "next-steps" },
      h("h4", null, "需补报的数据 ", h("span", { class: "en" }, "Facts to file")),
      h("ul", null, [...new Set(r.missing)].map((m) => {
        const code = String(m).split(".").pop(), ind = indicator(code);
        return h("li", null, m.split(".")[0] + " 年度 ", ind ? label(ind) : code);
      }))));
  }
  // What falls short, in full; the whole list stays one click away.
  const short = (r.criteria || []).filter((c) => c.passed === false || (c.passed !== true && !c.review && c.shortfall));
  const groupsPassed = new Set((r.criteria || []).filter((c) => c.group && c.passed === true).map((c) => c.group));
  const shown = short.filter((c) => !c.group || !groupsPassed.has(c.group));
  if (shown.length) {
    append(card, h("div", { class: "short" }, h("h4", null, "未达到的条件 ", h("span", { class: "en" }, "What falls short")),
      h("ul", { class: "crit-list" }, shown.map(critItem))));
  }
  append(card, criteriaList(r.criteria || [], false));
  return card;
}

// The criteria, each with its explanation (or label and values), shortfall and source.
export function criteriaList(criteria, open) {
  const groups = new Map();
  const rows = [];
  criteria.forEach((c) => {
    if (c.group) {
      if (!groups.has(c.group)) { groups.set(c.group, []); rows.push({ group: c.group, members: groups.get(c.group) }); }
      groups.get(c.group).push(c);
    } else rows.push({ c });
  });
  const failed = criteria.filter((c) => c.passed === false).length;
  return h("details", { class: "criteria", open: open ? true : null },
    h("summary", null, "逐项说明 ", h("span", { class: "en" }, "Criterion by criterion"), " (" + criteria.length + (failed ? "，" + failed + " 项不符合 failed" : "") + ")"),
    h("ul", { class: "crit-list" }, rows.map((row) => row.c ? critItem(row.c) :
      h("li", { class: "crit-group" }, h("p", { class: "group-label" }, "以下任选其一 ", h("span", { class: "en" }, "Any one of")),
        h("ul", { class: "crit-list" }, row.members.map(critItem))))));
}

function critItem(c) {
  const st = c.review && (c.passed === null || c.passed === undefined) ? "review" : c.passed === true ? "passed" : c.passed === false ? "failed" : "undecided";
  const mark = { passed: "✓", failed: "✗", undecided: "?", review: "⚖" }[st];
  const li = h("li", { class: "crit crit-" + st, dataset: { criterion: c.id, status: st } },
    h("span", { class: "mark", "aria-hidden": "true" }, mark),
    h("div", { class: "crit-body" },
      h("p", { class: "crit-title" }, h("span", { class: "sr-only" }, ts(st === "review" ? "review_needed" : st) + "："),
        c.explain_zh || c.label_zh || c.id, c.explain_en || c.label_en ? h("span", { class: "en block" }, c.explain_en || c.label_en) : null),
      !c.explain_zh && (c.actual !== undefined || c.threshold !== undefined)
        ? h("p", { class: "small muted" }, "实际 actual: " + valueText(c.actual) + " · 要求 required: " + valueText(c.threshold)) : null,
      c.shortfall ? shortfallLine(c.shortfall) : null,
      c.source ? h("p", { class: "small muted source" }, "依据 Source: " + c.source) : null));
  return li;
}

function shortfallLine(sf) {
  const ind = indicator(sf.fact);
  const unit = ind ? ind.unit : "";
  const name = ind ? ind.label_zh : sf.fact;
  return h("p", { class: "shortfall", dataset: { fact: sf.fact || "", gap: String(sf.gap ?? ""), needed: String(sf.needed ?? "") } },
    (sf.year ? sf.year + " 年度" : "") + name + " 需达到 " + valueText(sf.needed) + " " + unit +
      "（现为 " + valueText(sf.actual) + "，差 " + valueText(sf.gap) + " " + unit + "）",
    h("span", { class: "en block" }, (ind ? ind.label_en : sf.fact) + (sf.year ? " " + sf.year : "") + ": needs " + valueText(sf.needed) + " " + unit +
      " (now " + valueText(sf.actual) + ", short by " + valueText(sf.gap) + ")"));
}

// ---------- applications ----------

async function apply(tier, year) {
  try {
    const app = await api("/applications", { method: "POST", body: { enterprise_id: S.ent.id, tier, year } });
    say("已创建申报草稿 · Draft created: " + tierText(tier) + " " + year);
    await loadApplications();
    await openApplication(app.id);
  } catch (e) {
    if (e.status !== 401) showError($("app-error"), e);
  }
}

async function loadApplications() {
  const box = $("apps-list");
  try {
    const doc = await api("/applications?enterprise_id=" + S.ent.id + "&limit=100");
    S.apps = listOf(doc);
    renderApplications();
  } catch (e) { softFail(box, e); }
}

function renderApplications() {
  const box = clear($("apps-list"));
  if (!S.apps.length) {
    append(box, h("p", { class: "muted" }, "尚无申报。在上方资格评估中选择称号并点击“申报”。", h("span", { class: "en" }, "No applications yet: choose Apply on a tier above.")));
    return;
  }
  append(box, h("div", { class: "table-wrap", tabindex: "0" }, h("table", { class: "grid wrap" },
    h("caption", null, "本企业的全部申报 · All applications of this company"),
    h("thead", null, h("tr", null, th("称号", "Tier"), th("年度", "Year"), th("状态", "State"), th("预审", "Pre-screen"), th("公示期", "Publicity"), th("操作", "Action"))),
    h("tbody", null, S.apps.map((a) => h("tr", { dataset: { applicationId: String(a.id), state: a.state } },
      h("th", { scope: "row" }, tierLabel(a.tier)),
      h("td", null, String(a.year)),
      h("td", null, badge("state", a.state)),
      h("td", null, a.prescreen_outcome ? badge("outcome", a.prescreen_outcome) : "—"),
      h("td", null, a.publicity ? (a.publicity.from + " → " + a.publicity.to) : "—"),
      h("td", null, h("button", { type: "button", class: "btn btn-ghost", onclick: () => openApplication(a.id) }, "查看 · Open"))))))));
}

function th(zh, en) { return h("th", { scope: "col" }, zh, h("span", { class: "en" }, en)); }

async function openApplication(id) {
  const box = $("app-detail");
  fill(box, h("p", { class: "muted" }, tn("loading")));
  try {
    const a = await api("/applications/" + id);
    S.openApp = a;
    const atts = await optional("/applications/" + id + "/attachments", null);
    renderApplication(a, atts);
    box.scrollIntoView({ block: "start" });
    $("app-detail-title").focus();
  } catch (e) { softFail(box, e); }
}

function renderApplication(a, atts, warnings) {
  const box = clear($("app-detail"));
  const editable = a.state === "draft" || a.state === "returned";
  const card = h("article", { class: "card app-card", dataset: { applicationId: String(a.id), state: a.state } },
    h("h3", { id: "app-detail-title", tabindex: "-1" }, "申报 #" + a.id + " · ", tierLabel(a.tier), " · " + a.year + " ", badge("state", a.state)),
    a.publicity ? h("p", { class: "notice" }, "公示期 Publicity: " + a.publicity.from + " → " + a.publicity.to + "。", h("a", { href: "/publicity" }, "查看公示 · See the list")) : null,
    a.decision_comment ? h("p", { class: "notice" }, "评审意见 Reviewer's comment: ", h("q", null, a.decision_comment)) : null);
  if (warnings && warnings.length) {
    append(card, h("div", { class: "warnings", role: "alert", id: "submit-warnings" },
      h("h4", null, "提交时的提示 ", h("span", { class: "en" }, "Warnings at submission")),
      h("ul", null, warnings.map((w) => h("li", null, w)))));
  }
  // Evidence
  const ev = h("section", { class: "evidence", "aria-labelledby": "ev-title" }, h("h4", { id: "ev-title" }, "证明材料 ", h("span", { class: "en" }, "Evidence")));
  if (atts === null) append(ev, h("p", { class: "muted" }, tn("not_available")));
  else {
    const items = listOf(atts);
    append(ev, items.length ? h("ul", { class: "att-list" }, items.map((x) => h("li", { dataset: { attachmentId: String(x.id) } },
      h("span", { class: "chip" }, kindLabel(x.kind)), " ", x.filename, " ", h("span", { class: "muted small" }, sizeText(x.size) + " · sha256 " + String(x.sha256 || "").slice(0, 12) + "…"),
      editable ? h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => deleteAttachment(a.id, x.id) }, "删除 · Delete") : null)))
      : h("p", { class: "muted" }, "尚未上传材料。 No evidence uploaded yet."));
    if (editable) append(ev, uploadForm(a.id));
  }
  append(card, ev);
  // Actions
  const err = h("div", { class: "alert", role: "alert", id: "app-action-error", hidden: true });
  const actions = h("div", { class: "form-actions" });
  if (editable) append(actions, h("button", { type: "button", class: "btn btn-primary", id: "submit-app", onclick: () => submitApp(a.id, err) }, "提交申报 · Submit"));
  if (a.state === "draft" || a.state === "submitted") append(actions, h("button", { type: "button", class: "btn btn-ghost", onclick: () => withdrawApp(a.id, err) }, "撤回 · Withdraw"));
  append(card, err, actions);
  if (a.prescreen && a.prescreen.result) {
    append(card, h("section", null, h("h4", null, "提交时的预审结果 ", h("span", { class: "en" }, "Pre-screen kept at submission"), " ", badge("outcome", a.prescreen.result.outcome || a.prescreen_outcome)),
      criteriaList(a.prescreen.result.criteria || [], false)));
  }
  if (Array.isArray(a.history) && a.history.length) {
    append(card, h("section", null, h("h4", null, "办理记录 ", h("span", { class: "en" }, "History")),
      h("ol", { class: "history" }, a.history.map((e) => h("li", null, dateOf(e.at) + " · ", e.from_state ? badge("state", e.from_state) : null, " → ", badge("state", e.to_state),
        " · " + e.actor, e.comment ? h("span", { class: "muted" }, " · " + e.comment) : null)))));
  }
  append(box, card);
}

function kindLabel(k) { const x = KINDS.find((y) => y[0] === k); return x ? x[1] + " " + x[2] : k; }
function sizeText(n) { n = +n || 0; return n > 1048576 ? (n / 1048576).toFixed(1) + " MiB" : n > 1024 ? (n / 1024).toFixed(0) + " KiB" : n + " B"; }

function uploadForm(appId) {
  const err = h("div", { class: "alert", role: "alert", hidden: true, id: "upload-error" });
  const form = h("form", { class: "upload", id: "upload-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "up-kind" }, "材料类型 ", h("span", { class: "en" }, "Kind")),
      h("select", { id: "up-kind", name: "kind" }, KINDS.map(([v, zh, en]) => h("option", { value: v }, zh + " " + en)))),
    h("div", { class: "field" }, h("label", { for: "up-file" }, "文件（PDF、PNG、JPEG、OFD，单个不超过 20 MiB） ", h("span", { class: "en" }, "File (PDF, PNG, JPEG, OFD; up to 20 MiB)")),
      h("input", { id: "up-file", name: "file", type: "file", accept: ".pdf,.png,.jpg,.jpeg,.ofd,application/pdf,image/png,image/jpeg" })),
    err,
    h("button", { type: "submit", class: "btn btn-secondary", id: "upload-submit" }, "上传 · Upload"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = $("up-file").files[0];
    if (!f) { showError(err, { message: "请选择文件 · Choose a file" }); $("up-file").focus(); return; }
    const fd = new FormData();
    fd.append("kind", $("up-kind").value);
    fd.append("file", f, f.name);
    $("upload-submit").disabled = true;
    try {
      await api("/applications/" + appId + "/attachments", { method: "POST", body: fd });
      say("已上传 · Uploaded " + f.name);
      await openApplication(appId);
    } catch (e) {
      if (e.status === 413) e.message = "文件过大 File too large: " + e.message;
      showError(err, e);
      $("upload-submit").disabled = false;
    }
  });
  return form;
}

async function deleteAttachment(appId, id) {
  try { await api("/attachments/" + id, { method: "DELETE" }); await openApplication(appId); }
  catch (e) { if (e.status !== 401) showError($("app-action-error"), e); }
}

// What the pre-screen says at submission, as warnings the company reads before review.
function warningsOf(a) {
  const out = [];
  (a.warnings || []).forEach((w) => out.push(typeof w === "string" ? w : (w.text_zh || w.message || JSON.stringify(w)) + (w.text_en ? " · " + w.text_en : "")));
  const r = a.prescreen && a.prescreen.result;
  if (!out.length && r) {
    if (r.outcome === "ineligible") out.push("预审判定暂不符合：评审时需说明理由。 The pre-screen says not yet eligible.");
    if (r.outcome === "incomplete") out.push("预审缺少数据：请补报后重新提交。 The pre-screen is missing data.");
    (r.criteria || []).filter((c) => c.passed === false).forEach((c) => out.push("✗ " + (c.explain_zh || c.label_zh || c.id) + (c.explain_en ? " · " + c.explain_en : "")));
    [...new Set(r.missing || [])].forEach((m) => out.push("缺少 Missing: " + m));
  }
  return out;
}

async function submitApp(id, err) {
  $("submit-app").disabled = true;
  try {
    const a = await api("/applications/" + id + "/submit", { method: "POST" });
    say("已提交 · Submitted #" + id);
    await loadApplications();
    const full = await api("/applications/" + id).catch(() => a);
    renderApplication(full, await optional("/applications/" + id + "/attachments", null), warningsOf(Object.assign({}, full, { warnings: a.warnings || full.warnings })));
    $("app-detail-title").focus();
    loadNotifications();
  } catch (e) {
    if (e.status !== 401) showError(err, e);
    const b = $("submit-app");
    if (b) b.disabled = false;
  }
}

async function withdrawApp(id, err) {
  try { await api("/applications/" + id + "/withdraw", { method: "POST" }); await loadApplications(); await openApplication(id); }
  catch (e) { if (e.status !== 401) showError(err, e); }
}

// ---------- certificates ----------

async function loadCertificates() {
  const box = $("certs-list");
  try {
    const doc = await api("/certifications?enterprise_id=" + S.ent.id + "&limit=100");
    const items = listOf(doc);
    clear(box);
    if (!items.length) { append(box, h("p", { class: "muted" }, "尚未获得称号。 No titles yet.")); return; }
    const today = todayIso();
    append(box, h("ul", { class: "cert-list" }, items.map((c) => {
      const left = daysBetween(today, c.valid_to);
      const soon = c.active && left >= 0 && left <= 90;
      return h("li", { class: "cert" + (soon ? " cert-soon" : "") + (c.active ? "" : " cert-inactive"), dataset: { certificationId: String(c.id) } },
        h("p", { class: "cert-title" }, tierLabel(c.tier), " ", h("span", { class: "chip" }, c.number)),
        h("p", null, "有效期 Valid " + c.valid_from + " → " + c.valid_to + (c.active ? "（剩余 " + left + " 天 · " + left + " days left）" : "（" + (c.status || "inactive") + "）")),
        soon ? h("p", { class: "reminder", role: "note" }, "⏰ 证书将于 " + left + " 天后到期，请及时申请复核。",
          h("span", { class: "en block" }, "Expires in " + left + " days: apply for the renewal review."),
          h("button", { type: "button", class: "btn btn-secondary", onclick: () => applyRenewal(c) }, "申请复核 · Apply for renewal")) : null);
    })));
  } catch (e) { softFail(box, e); }
}

async function applyRenewal(c) {
  try {
    const app = await api("/applications", { method: "POST", body: { enterprise_id: S.ent.id, tier: c.tier, year: +todayIso().slice(0, 4), renewal: true } });
    await loadApplications();
    await openApplication(app.id);
  } catch (e) { if (e.status !== 401) showError($("app-error"), e); }
}

// ---------- notifications ----------

async function loadNotifications() {
  const box = $("notes-list");
  try {
    const doc = await api("/me/notifications");
    const items = listOf(doc);
    clear(box);
    if (!items.length) { append(box, h("p", { class: "muted" }, "暂无通知。 No notifications.")); return; }
    append(box, h("ul", { class: "notes" }, items.map((n) => h("li", { class: n.read_at || n.read ? "read" : "unread" },
      h("p", null, h("span", { class: "chip" }, n.kind || "·"), " ", n.text_zh || n.title_zh || n.message || "", n.text_en ? h("span", { class: "en block" }, n.text_en) : null,
        h("span", { class: "muted small" }, " " + dateOf(n.created_at || n.at))),
      n.read_at || n.read ? null : h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: async () => {
        try { await api("/me/notifications/" + n.id + "/read", { method: "POST" }); loadNotifications(); } catch (e) { softFail(box, e); }
      } }, "标为已读 · Mark read")))));
  } catch (e) { softFail(box, e); }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
