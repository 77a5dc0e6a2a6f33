// ladder — /publicity, the public page (no sign-in): the enterprises in their publicity
// period (GET /api/v1/public/publicity) and a form to object to one of them.
import { $, h, append, clear, fill, api, showError, listOf, label, tn } from "./common.js";

const S = { tiers: new Map(), districts: new Map(), items: [] };

// Labels of the tiers and districts are reference data behind sign-in; the public page names
// the shipped tiers itself and shows any other code as it is.
const TIERS = {
  innovative_sme: ["创新型中小企业", "Innovative SME"],
  tech_sme: ["科技型中小企业", "Tech-based SME"],
  tech_innovative_sme: ["科技和创新型中小企业", "Tech & innovative SME"],
  srdi_sme: ["专精特新中小企业", "Specialised & innovative SME"],
  little_giant: ["专精特新“小巨人”企业", "Little giant"],
  single_champion: ["制造业单项冠军企业", "Single champion"],
  smart_factory_basic: ["基础级智能工厂", "Smart factory, basic"],
  smart_factory_advanced: ["先进级智能工厂", "Smart factory, advanced"],
  smart_factory_excellent: ["卓越级智能工厂", "Smart factory, excellent"],
  smart_factory_leading: ["领航级智能工厂", "Smart factory, leading"]
};
const DISTRICTS = {
  210102: "和平区", 210103: "沈河区", 210104: "大东区", 210105: "皇姑区", 210106: "铁西区", 210111: "苏家屯区",
  210112: "浑南区", 210113: "沈北新区", 210114: "于洪区", 210115: "辽中区", 210123: "康平县", 210124: "法库县", 210181: "新民市"
};

function tierLabel(code) {
  const x = TIERS[code];
  return x ? label({ label_zh: x[0], label_en: x[1] }) : code;
}

async function load() {
  const box = $("pub-list");
  document.body.dataset.state = "loading";
  try {
    const doc = await api("/public/publicity", { auth: false });
    S.items = listOf(doc);
    render();
  } catch (e) {
    if (e.missing) fill(box, h("p", { class: "muted" }, tn("not_available")));
    else showError($("app-error"), e);
  }
  document.body.dataset.state = "ready";
}

function render() {
  const box = clear($("pub-list"));
  const sel = clear($("obj-app"));
  if (!S.items.length) {
    append(box, h("p", { class: "muted" }, "目前没有处于公示期的企业。 No enterprise is in publicity now."));
    $("objection").hidden = true;
    return;
  }
  $("objection").hidden = false;
  append(box, h("table", { class: "grid wrap" },
    h("caption", null, "公示期内可对名单中的企业提出异议。 Objections are open until the end of each period."),
    h("thead", null, h("tr", null,
      h("th", { scope: "col" }, "企业名称", h("span", { class: "en" }, "Enterprise")),
      h("th", { scope: "col" }, "统一社会信用代码", h("span", { class: "en" }, "Credit code")),
      h("th", { scope: "col" }, "区县", h("span", { class: "en" }, "District")),
      h("th", { scope: "col" }, "拟认定称号", h("span", { class: "en" }, "Tier")),
      h("th", { scope: "col" }, "公示期", h("span", { class: "en" }, "Period")),
      h("th", { scope: "col" }, h("span", { class: "sr-only" }, "操作 Action")))),
    h("tbody", null, S.items.map((x) => h("tr", { dataset: { applicationId: String(x.application_id) } },
      h("th", { scope: "row" }, x.name),
      h("td", null, x.uscc),
      h("td", null, DISTRICTS[x.district_code] || x.district_code),
      h("td", null, tierLabel(x.tier)),
      h("td", null, x.from + " → " + x.to),
      h("td", null, h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => { $("obj-app").value = String(x.application_id); $("obj-name").focus(); } }, "提出异议 · Object")))))));
  append(sel, h("option", { value: "" }, "请选择 Choose…"));
  S.items.forEach((x) => append(sel, h("option", { value: String(x.application_id) }, x.name + " · " + (TIERS[x.tier] ? TIERS[x.tier][0] : x.tier))));
}

function fieldErrors(errors) {
  document.querySelectorAll("#obj-form .field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
  document.querySelectorAll("#obj-form [aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  const rest = [];
  let first = null;
  errors.forEach((e) => {
    const p = document.getElementById("obj-" + String(e.field || "").split(".").pop() + "-err");
    if (!p) { rest.push(e); return; }
    p.textContent = e.message || e.code || "";
    p.hidden = false;
    const input = document.querySelector("[aria-describedby~='" + p.id + "']");
    if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
  });
  if (first) first.focus();
  return rest;
}

async function onObject(ev) {
  ev.preventDefault();
  const id = $("obj-app").value;
  const body = { name: $("obj-name").value.trim(), contact: $("obj-contact").value.trim(), text: $("obj-text").value.trim() };
  const missing = [];
  if (!id) missing.push({ field: "application_id", message: "请选择企业 Choose an enterprise" });
  Object.entries(body).forEach(([k, v]) => { if (!v) missing.push({ field: k, message: "必填 Required" }); });
  showError($("obj-error"), null);
  $("obj-done").hidden = true;
  if (missing.length) { fieldErrors(missing); return; }
  $("obj-submit").disabled = true;
  try {
    await api("/public/publicity/" + encodeURIComponent(id) + "/objections", { method: "POST", body, auth: false });
    fieldErrors([]);
    fill($("obj-done"), "异议已提交，将由主管部门核查处理。", h("span", { class: "en" }, "Your objection has been received and will be looked into."));
    $("obj-done").hidden = false;
    $("obj-form").reset();
  } catch (e) {
    const rest = fieldErrors(e.errors || []);
    if (rest.length || !(e.errors || []).length) showError($("obj-error"), Object.assign(e, { errors: rest }));
  } finally {
    $("obj-submit").disabled = false;
  }
}

function init() {
  $("obj-form").addEventListener("submit", onObject);
  load();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
