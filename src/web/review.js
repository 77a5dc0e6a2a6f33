// ladder — /review, the reviewers' and admins' page: the queue with names, an application
// with its facts, the kept pre-screen beside a re-grade on current facts, the evidence, the
// review criteria to judge and the decision; admins also assign (conflict-of-interest ties
// shown), decide claims and resolve objections. Public API only; text only as text.
import {
  $, h, append, clear, fill, tn, label, api, optional, store, showError, say, wireSession, showSession,
  badge, valueText, todayIso, dateOf, daysBetween, listOf, ApiError
} from "./common.js";
import { ts } from "./i18n.js";

const S = { me: null, tiers: new Map(), indicators: [], names: new Map(), app: null };
const OPEN_STATES = ["submitted", "under_review", "publicized"];

function init() {
  wireSession(enter, leave);
  $("back-to-queue").addEventListener("click", () => { showQueue(); $("queue-title").focus(); });
  window.addEventListener("hashchange", route);
  if (store.access) enter().catch(() => leave());
  else leave();
}

function leave(message) {
  showSession(false);
  $("app").hidden = true;
  $("signin").hidden = false;
  document.body.dataset.state = "signed-out";
  showError($("signin-error"), message ? { message } : null);
}

function isAdmin() { return S.me && S.me.role === "admin"; }

async function enter() {
  S.me = await api("/me");
  showSession(true);
  $("signin").hidden = true;
  $("app").hidden = false;
  if (!["reviewer", "admin", "official"].includes(S.me.role)) {
    fill($("queue-body"), h("p", { class: "notice" }, "此页面供评审专家与管理员使用；企业请前往 ", h("a", { href: "/portal" }, "企业申报 Company portal"), "。"));
    document.body.dataset.state = "ready";
    return;
  }
  const [tiers, ind] = await Promise.all([api("/tiers"), api("/indicators")]);
  S.tiers = new Map(listOf(tiers).map((x) => [x.code, x]));
  S.indicators = listOf(ind);
  document.querySelectorAll(".admin-only").forEach((el) => { el.hidden = !isAdmin(); });
  await loadQueue();
  if (isAdmin()) { loadClaims(); loadObjections(); }
  await route();
  document.body.dataset.state = "ready";
}

async function route() {
  const m = /^#application-(\d+)$/.exec(location.hash);
  if (m && S.me) await openApplication(+m[1]);
  else if (location.hash === "" || location.hash === "#queue") showQueue();
}

function showQueue() {
  $("application").hidden = true;
  $("queue").hidden = false;
  if (/^#application-/.test(location.hash)) history.replaceState(null, "", "#queue");
}

function tierLabel(code) { return label(S.tiers.get(code), code); }
function th(zh, en) { return h("th", { scope: "col" }, zh, h("span", { class: "en" }, en)); }

async function enterpriseOf(id) {
  if (S.names.has(id)) return S.names.get(id);
  const e = await api("/enterprises/" + id).catch(() => ({ id, name: "#" + id, uscc: "" }));
  S.names.set(id, e);
  return e;
}

// ---------- queue ----------

async function loadQueue() {
  const box = $("queue-body");
  fill(box, h("p", { class: "muted" }, tn("loading")));
  try {
    let items;
    if (S.me.role === "reviewer") {
      items = listOf(await api("/review-queue?limit=200"));
      $("queue-note").textContent = "分配给您的申报，按提交先后排列。 Assigned to you, oldest first.";
    } else {
      const lists = await Promise.all(OPEN_STATES.map((st) => optional("/applications?state=" + st + "&limit=200", { items: [] }).catch(() => ({ items: [] }))));
      items = lists.flatMap(listOf);
      items.sort((a, b) => String(a.submitted_at || a.created_at).localeCompare(String(b.submitted_at || b.created_at)));
      $("queue-note").textContent = "已提交、审核中与公示中的全部申报。 Everything submitted, under review or in publicity.";
    }
    await Promise.all([...new Set(items.map((a) => a.enterprise_id))].map(enterpriseOf));
    renderQueue(items);
  } catch (e) {
    if (e.status !== 401) showError($("app-error"), e);
  }
}

function renderQueue(items) {
  const box = clear($("queue-body"));
  if (!items.length) { append(box, h("p", { class: "muted" }, "队列为空。 The queue is empty.")); return; }
  const today = todayIso();
  append(box, h("table", { class: "grid queue" },
    h("caption", null, items.length + " 件申报 · applications"),
    h("thead", null, h("tr", null, th("企业", "Enterprise"), th("称号", "Tier"), th("状态", "State"), th("已等待", "Age"), th("预审", "Pre-screen"),
      isAdmin() ? th("评审人", "Reviewer") : null, h("th", { scope: "col" }, h("span", { class: "sr-only" }, "操作 Action")))),
    h("tbody", null, items.map((a) => {
      const e = S.names.get(a.enterprise_id) || {};
      const since = dateOf(a.submitted_at || a.created_at);
      const age = since ? daysBetween(since, today) : null;
      return h("tr", { dataset: { applicationId: String(a.id) } },
        h("th", { scope: "row" }, e.name || "#" + a.enterprise_id, h("span", { class: "en block" }, e.uscc || "")),
        h("td", null, tierLabel(a.tier), h("span", { class: "muted small block" }, String(a.year))),
        h("td", null, badge("state", a.state)),
        h("td", null, age === null ? "—" : age + " 天 d"),
        h("td", null, a.prescreen_outcome ? badge("outcome", a.prescreen_outcome) : "—"),
        isAdmin() ? h("td", null, a.reviewer_id ? "#" + a.reviewer_id : "未分配 unassigned") : null,
        h("td", null, h("a", { class: "btn btn-secondary", href: "#application-" + a.id }, "办理 · Open")));
    }))));
}

// ---------- one application ----------

async function openApplication(id) {
  $("queue").hidden = true;
  const sec = $("application");
  sec.hidden = false;
  const box = fill($("application-body"), h("p", { class: "muted" }, tn("loading")));
  try {
    const a = await api("/applications/" + id);
    S.app = a;
    const ent = await enterpriseOf(a.enterprise_id);
    const [current, regrade, atts] = await Promise.all([
      api("/enterprises/" + a.enterprise_id + "/facts").catch(() => null),
      api("/evaluations", { method: "POST", body: { tier: a.tier, as_of: todayIso(), enterprise_id: a.enterprise_id } }).catch((e) => ({ error: e })),
      optional("/applications/" + id + "/attachments", null).catch(() => null)
    ]);
    clear(box);
    renderApplication(box, a, ent, current, regrade, atts);
    $("application-title").focus();
    sec.scrollIntoView({ block: "start" });
  } catch (e) {
    if (e.status !== 401) fill(box, h("div", { class: "alert", role: "alert" }, e.message));
  }
}

function renderApplication(box, a, ent, current, regrade, atts) {
  const kept = a.prescreen && a.prescreen.result;
  append(box,
    h("div", { class: "app-head", dataset: { applicationId: String(a.id), state: a.state } },
      h("p", { class: "app-ent" }, h("strong", null, ent.name || "#" + a.enterprise_id), " ", h("span", { class: "muted" }, ent.uscc || "")),
      h("p", null, "申报 #" + a.id + " · ", tierLabel(a.tier), " · " + a.year + " 年度 ", badge("state", a.state),
        a.renewal ? h("span", { class: "chip" }, "复核 renewal") : null),
      h("p", { class: "muted small" }, "提交于 Submitted " + (dateOf(a.submitted_at) || "—") + (a.reviewer_id ? " · 评审人 reviewer #" + a.reviewer_id : ""))));

  if (isAdmin()) append(box, assignPanel(a));

  // Pre-screen kept beside a re-grade on current facts.
  append(box, h("div", { class: "compare" },
    h("section", { class: "card", "aria-labelledby": "kept-h" },
      h("h3", { id: "kept-h" }, "提交时预审（保留） ", h("span", { class: "en" }, "Pre-screen kept at submission"), " ", kept ? badge("outcome", kept.outcome) : null),
      kept ? [rulesetLine(kept), critList(kept.criteria || [])] : h("p", { class: "muted" }, "无预审结果 No pre-screen kept.")),
    h("section", { class: "card", "aria-labelledby": "regrade-h" },
      h("h3", { id: "regrade-h" }, "按当前数据重新评估 ", h("span", { class: "en" }, "Re-grade on current facts"), " ", regrade && !regrade.error ? badge("outcome", regrade.outcome) : null),
      regrade && !regrade.error ? [h("p", { class: "muted small" }, "评估日期 As of " + (regrade.as_of || todayIso())), rulesetLine(regrade), critList(regrade.criteria || [], kept)]
        : h("p", { class: "muted" }, regrade && regrade.error ? regrade.error.message : "—"))));

  append(box, factsTable(a.prescreen && a.prescreen.facts, current && current.facts));
  append(box, evidencePanel(atts));
  append(box, decisionForm(a, kept));
}

function rulesetLine(r) {
  return r.ruleset ? h("p", { class: "muted small" }, "规则 Rule set v" + (r.ruleset.version ?? "") + " · 自 from " + (r.ruleset.effective_from || "") + (r.route ? " · " + r.route : "")) : null;
}

function critList(criteria, kept) {
  const keptBy = new Map(((kept && kept.criteria) || []).map((c) => [c.id, c]));
  return h("ul", { class: "crit-list compact" }, criteria.map((c) => {
    const st = c.review && (c.passed === null || c.passed === undefined) ? "review" : c.passed === true ? "passed" : c.passed === false ? "failed" : "undecided";
    const before = keptBy.get(c.id);
    const changed = kept && before && before.passed !== c.passed;
    return h("li", { class: "crit crit-" + st + (changed ? " changed" : ""), dataset: { criterion: c.id, status: st } },
      h("span", { class: "mark", "aria-hidden": "true" }, { passed: "✓", failed: "✗", undecided: "?", review: "⚖" }[st]),
      h("div", { class: "crit-body" },
        h("p", { class: "crit-title" }, h("span", { class: "sr-only" }, ts(st === "review" ? "review_needed" : st) + "："),
          c.explain_zh || c.label_zh || c.id, c.explain_en || c.label_en ? h("span", { class: "en block" }, c.explain_en || c.label_en) : null),
        !c.explain_zh && (c.actual !== undefined) ? h("p", { class: "small muted" }, "实际 " + valueText(c.actual) + " · 要求 " + valueText(c.threshold)) : null,
        c.shortfall ? h("p", { class: "shortfall small" }, "差 gap " + valueText(c.shortfall.gap) + "（需 needed " + valueText(c.shortfall.needed) + "）") : null,
        changed ? h("p", { class: "small changed-note" }, "与提交时不同 · differs from the kept pre-screen") : null));
  }));
}

function factsTable(kept, current) {
  const sec = h("section", { class: "card", "aria-labelledby": "facts-h" }, h("h3", { id: "facts-h" }, "申报数据 ", h("span", { class: "en" }, "Facts (kept at submission; ● = changed since)")));
  const years = Object.keys(kept || current || {}).sort();
  if (!years.length) { append(sec, h("p", { class: "muted" }, tn("none"))); return sec; }
  const src = kept || current;
  const rows = S.indicators.filter((i) => years.some((y) => src[y] && src[y][i.code] !== undefined));
  append(sec, h("div", { class: "table-wrap", tabindex: "0" }, h("table", { class: "grid" },
    h("caption", null, "单位见各行 · units per row"),
    h("thead", null, h("tr", null, th("指标", "Indicator"), years.map((y) => h("th", { scope: "col" }, y)))),
    h("tbody", null, rows.map((i) => h("tr", null,
      h("th", { scope: "row" }, i.label_zh, h("span", { class: "en" }, i.unit)),
      years.map((y) => {
        const v = src[y] ? src[y][i.code] : undefined;
        const now = current && current[y] ? current[y][i.code] : undefined;
        const moved = kept && current && String(now) !== String(v);
        return h("td", { class: moved ? "changed" : "" }, valueText(v), moved ? h("span", { title: "现为 now " + valueText(now) }, " ●") : null);
      })))))));
  return sec;
}

// ---------- evidence ----------

function evidencePanel(atts) {
  const sec = h("section", { class: "card", "aria-labelledby": "ev-h" }, h("h3", { id: "ev-h" }, "证明材料 ", h("span", { class: "en" }, "Evidence")));
  if (atts === null) { append(sec, h("p", { class: "muted" }, tn("not_available"))); return sec; }
  const items = listOf(atts);
  if (!items.length) { append(sec, h("p", { class: "muted" }, "未上传材料。 No evidence uploaded.")); return sec; }
  const viewer = h("div", { class: "viewer", id: "viewer" });
  append(sec, h("ul", { class: "att-list" }, items.map((x) => h("li", { dataset: { attachmentId: String(x.id) } },
    h("span", null, x.filename), " ", h("span", { class: "muted small" }, (x.content_type || "") + " · " + (x.size || 0) + " B · sha256 " + String(x.sha256 || "").slice(0, 16) + "…"), " ",
    h("button", { type: "button", class: "btn btn-secondary btn-small", onclick: () => view(x, viewer) }, "查看 · View"), " ",
    h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => openInTab(x) }, "新标签页打开 · Open in a new tab")))), viewer);
  return sec;
}

// The file is fetched with the reviewer's token and shown from a blob: URL typed by the
// service's content check: a PDF in the browser's own viewer in a new tab (opened with
// noopener; a blob typed application/pdf is rendered by the viewer, never as a page), an
// image inline, anything else only as a download.
async function blobOf(x) {
  const res = await api("/attachments/" + x.id, { raw: true, accept: "*/*" });
  const type = x.content_type || res.headers.get("Content-Type") || "application/octet-stream";
  const safe = /^(application\/pdf|image\/png|image\/jpeg)$/.test(type) ? type : "application/octet-stream";
  return new Blob([await res.arrayBuffer()], { type: safe });
}

async function view(x, viewer) {
  try {
    const blob = await blobOf(x);
    const url = URL.createObjectURL(blob);
    if (blob.type.startsWith("image/")) fill(viewer, h("img", { src: url, alt: x.filename }));
    else if (blob.type === "application/pdf") {
      window.open(url, "_blank", "noopener");
      fill(viewer, h("p", { class: "small muted" }, "PDF 已在新标签页中打开。 The PDF opened in a new tab (the browser's own viewer)."));
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } else fill(viewer, h("a", { href: url, download: x.filename }, "下载 Download " + x.filename));
  } catch (e) { if (e.status !== 401) fill(viewer, h("p", { class: "alert" }, e.message)); }
}

async function openInTab(x) {
  try {
    const url = URL.createObjectURL(await blobOf(x));
    window.open(url, "_blank", "noopener");
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) { if (e.status !== 401) showError($("app-error"), e); }
}

// ---------- admin: assignment ----------

function assignPanel(a) {
  const sec = h("section", { class: "card", "aria-labelledby": "assign-h" }, h("h3", { id: "assign-h" }, "分配评审人 ", h("span", { class: "en" }, "Assign a reviewer")));
  const sel = h("select", { id: "assign-reviewer" });
  const err = h("div", { class: "alert", role: "alert", hidden: true });
  const note = h("p", { class: "muted small", id: "assign-note" }, tn("loading"));
  const btn = h("button", { type: "button", class: "btn btn-secondary", id: "assign-submit" }, "分配 · Assign");
  append(sec, h("div", { class: "field" }, h("label", { for: "assign-reviewer" }, "评审人 ", h("span", { class: "en" }, "Reviewer")), sel), note, err, btn);
  (async () => {
    try {
      const users = listOf(await api("/users?role=reviewer&limit=500"));
      const ties = await Promise.all(users.map((u) => api("/reviewers/" + u.id + "/ties").then(listOf).catch(() => [])));
      append(sel, h("option", { value: "" }, "请选择 Choose…"));
      let tied = 0;
      users.forEach((u, i) => {
        const t = ties[i].find((x) => x.enterprise_id === a.enterprise_id);
        if (t) tied++;
        append(sel, h("option", { value: String(u.id), disabled: t ? true : null, selected: a.reviewer_id === u.id ? true : null },
          u.username + (t ? " — 利益冲突 conflict of interest" + (t.note ? "：" + t.note : "") : "")));
      });
      note.textContent = tied ? tied + " 位评审人与该企业存在利益关联，不可分配。 " + tied + " reviewer(s) tied to this enterprise cannot be assigned." : "无利益冲突申报。 No declared ties.";
    } catch (e) { note.textContent = e.message; }
  })();
  btn.addEventListener("click", async () => {
    if (!sel.value) { showError(err, { message: "请选择评审人 · Choose a reviewer" }); sel.focus(); return; }
    try {
      await api("/applications/" + a.id + "/assign", { method: "POST", body: { reviewer_id: +sel.value } });
      say("已分配 · Assigned");
      await openApplication(a.id);
      loadQueue();
    } catch (e) { if (e.status !== 401) showError(err, e); }
  });
  return sec;
}

// ---------- judgment and decision ----------

function decisionForm(a, kept) {
  const sec = h("section", { class: "card decision", "aria-labelledby": "decide-h" }, h("h3", { id: "decide-h" }, "评审与决定 ", h("span", { class: "en" }, "Judge and decide")));
  const mine = S.me.role === "reviewer" && a.reviewer_id === S.me.id && a.state === "under_review";
  const adminMay = isAdmin() && a.state === "under_review";
  if (!mine && !adminMay) {
    append(sec, h("p", { class: "muted" }, a.state === "under_review" ? "仅指定的评审人可作出决定。 Only the assigned reviewer decides." :
      "当前状态无需决定。 Nothing to decide in this state."));
    if (a.decision) append(sec, h("p", null, "决定 Decision: ", tn(a.decision), a.decision_comment ? " — " + a.decision_comment : ""));
    return sec;
  }
  const review = ((kept && kept.criteria) || []).filter((c) => c.review);
  const form = h("form", { id: "decision-form", novalidate: true });
  if (review.length) {
    append(form, h("p", null, "请逐项判断需人工评审的条件： ", h("span", { class: "en" }, "Judge each criterion left to a person:")));
    review.forEach((c) => {
      const name = "judge-" + c.id;
      append(form, h("fieldset", { class: "judge", dataset: { criterion: c.id } },
        h("legend", null, c.label_zh || c.id, h("span", { class: "en" }, c.label_en || "")),
        c.explain_zh ? h("p", { class: "small muted" }, c.explain_zh) : null,
        h("label", { class: "radio" }, h("input", { type: "radio", name, value: "true", id: name + "-yes" }), " 符合 · Met"),
        h("label", { class: "radio" }, h("input", { type: "radio", name, value: "false", id: name + "-no" }), " 不符合 · Not met")));
    });
  }
  append(form, h("fieldset", { class: "choice" }, h("legend", null, "决定 ", h("span", { class: "en" }, "Decision")),
    ["approve", "return", "reject"].map((d) => h("label", { class: "radio" }, h("input", { type: "radio", name: "decision", value: d, id: "decision-" + d }), " ", tn(d)))));
  const override = h("div", { class: "field", id: "override-field", hidden: true },
    h("label", { for: "override-reason" }, "破格通过理由（至少 10 个字） ", h("span", { class: "en" }, "Override reason (at least 10 characters)")),
    h("textarea", { id: "override-reason", rows: 3, "aria-describedby": "override-hint" }),
    h("p", { class: "hint", id: "override-hint" }, "预审不符合或有条件判断为不符合时，通过需说明理由。 Needed to approve against the pre-screen or a judgment."));
  append(form, h("div", { class: "field" }, h("label", { for: "decision-comment" }, "评审意见 ", h("span", { class: "en" }, "Comment (required)")),
    h("textarea", { id: "decision-comment", rows: 3, required: true })), override);
  const err = h("div", { class: "alert", role: "alert", id: "decision-error", hidden: true });
  append(form, err, h("button", { type: "submit", class: "btn btn-primary", id: "decision-submit" }, "提交决定 · Record the decision"));
  const needsOverride = () => {
    const d = form.querySelector("input[name=decision]:checked");
    const judgedNo = form.querySelector("fieldset.judge input[value=false]:checked");
    return !!d && d.value === "approve" && (!!judgedNo || (kept && kept.outcome === "ineligible"));
  };
  form.addEventListener("change", () => { override.hidden = !needsOverride(); });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = form.querySelector("input[name=decision]:checked");
    if (!d) { showError(err, { message: "请选择决定 · Choose a decision" }); $("decision-approve").focus(); return; }
    const comment = $("decision-comment").value.trim();
    if (!comment) { showError(err, { message: "请填写评审意见 · Write a comment" }); $("decision-comment").focus(); return; }
    const body = { decision: d.value, comment };
    if (review.length) {
      const judged = {};
      review.forEach((c) => { const x = form.querySelector("input[name='judge-" + c.id + "']:checked"); if (x) judged[c.id] = x.value === "true"; });
      if (Object.keys(judged).length) body.review = judged;
    }
    if (!override.hidden && $("override-reason").value.trim()) body.override = { reason: $("override-reason").value.trim() };
    $("decision-submit").disabled = true;
    try {
      const out = await api("/applications/" + a.id + "/decision", { method: "POST", body, headers: { "Idempotency-Key": "decision-" + a.id + "-" + Date.now() } });
      say("已记录决定 · Decision recorded: " + ts(d.value));
      await loadQueue();
      await openApplication(a.id);
      return out;
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 422 && d.value === "approve" && /overrid|破格/i.test(JSON.stringify(e.doc || {}))) { override.hidden = false; $("override-reason").focus(); }
      showError(err, e);
    } finally {
      const b = $("decision-submit");
      if (b) b.disabled = false;
    }
  });
  append(sec, form);
  return sec;
}

// ---------- admin: claims and objections ----------

async function loadClaims() {
  const box = $("claims-body");
  try {
    const items = listOf(await api("/claims?limit=200"));
    clear(box);
    const open = items.filter((c) => !c.state || c.state === "pending");
    if (!open.length) { append(box, h("p", { class: "muted" }, "没有待处理的认领申请。 No pending claims.")); return; }
    append(box, h("ul", { class: "plain-list" }, open.map((c) => h("li", { dataset: { claimId: String(c.id) } },
      h("p", null, h("strong", null, c.enterprise_name || c.name || "#" + c.enterprise_id), " ", h("span", { class: "muted" }, c.uscc || ""),
        " ← " + (c.username || "#" + c.user_id) + " · " + dateOf(c.created_at)),
      h("button", { type: "button", class: "btn btn-secondary btn-small", onclick: () => decideClaim(c.id, "approve") }, "核准 · Approve"), " ",
      h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => decideClaim(c.id, "reject") }, "驳回 · Reject")))));
  } catch (e) {
    if (e.missing) fill(box, h("p", { class: "muted" }, tn("not_available")));
    else if (e.status !== 401) fill(box, h("p", { class: "alert" }, e.message));
  }
}

async function decideClaim(id, what) {
  try { await api("/claims/" + id + "/" + what, { method: "POST" }); say("已处理认领 · Claim " + what); loadClaims(); }
  catch (e) { if (e.status !== 401) showError($("app-error"), e); }
}

async function loadObjections() {
  const box = $("objections-body");
  try {
    const items = listOf(await api("/objections?limit=200"));
    clear(box);
    if (!items.length) { append(box, h("p", { class: "muted" }, "没有异议。 No objections.")); return; }
    append(box, h("ul", { class: "plain-list" }, items.map((o) => {
      const open = !o.resolved_at && (o.state === undefined || o.state === "open");
      const comment = h("input", { type: "text", id: "obj-comment-" + o.id, "aria-label": "处理意见 Comment" });
      return h("li", { dataset: { objectionId: String(o.id) } },
        h("p", null, h("a", { href: "#application-" + o.application_id }, "申报 #" + o.application_id), " · " + (o.name || "") + " · " + (o.contact || "") + " · " + dateOf(o.created_at)),
        h("blockquote", null, o.text || ""),
        open ? h("div", { class: "inline-form" }, comment,
          h("button", { type: "button", class: "btn btn-secondary btn-small", onclick: () => resolveObjection(o.id, true, comment.value) }, "成立 · Uphold"),
          h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => resolveObjection(o.id, false, comment.value) }, "不成立 · Dismiss"))
          : h("p", { class: "muted small" }, "已处理 Resolved: " + (o.upheld ? "成立 upheld" : "不成立 dismissed") + (o.comment ? " — " + o.comment : "")));
    })));
  } catch (e) {
    if (e.missing) fill(box, h("p", { class: "muted" }, tn("not_available")));
    else if (e.status !== 401) fill(box, h("p", { class: "alert" }, e.message));
  }
}

async function resolveObjection(id, upheld, comment) {
  try {
    await api("/objections/" + id + "/resolve", { method: "POST", body: { upheld, comment: comment || (upheld ? "异议成立" : "异议不成立") } });
    loadObjections();
    loadQueue();
  } catch (e) { if (e.status !== 401) showError($("app-error"), new ApiError(e.status, e.message, e.errors)); }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
