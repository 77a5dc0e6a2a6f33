// ladder's pages in a real browser, used as a person would: playwright-core driving Debian's
// /usr/bin/chromium, axe-core on every page. Started by scripts/browser-test (which installs
// what it needs); run by .ci/run.
//
//   node tests/browser/run.mjs            LADDER_BIN (else target/debug/ladder) on a fresh SQLite
//                                         database with the demo data
//
// Journeys: the company (sign up → facts with a bad value corrected → eligibility with a
// shortfall → apply → upload a PDF → submit), the admin's assignment, the reviewer (queue →
// application → judge → return), the officials' dashboard (quota bars compared with the API)
// and the public publicity page. Each ends in a screenshot under target/browser-test/; every
// page is checked with axe-core (no serious or critical violation), at 375 px wide (no
// sideways scrolling), for requests outside the service and for CSP or script errors.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "../..");
const SHOTS = join(ROOT, "target", "browser-test");
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const LADDER = resolve(ROOT, process.env.LADDER_BIN || "target/debug/ladder");
const KEEP = process.argv.includes("--keep-temp");

const failures = [];
const notes = [];
function log(msg) { process.stderr.write("browser-test: " + msg + "\n"); }
function check(cond, msg) { if (!cond) { failures.push(msg); log("FAIL " + msg); } return !!cond; }
class Fail extends Error {}
function must(cond, msg) { if (!cond) throw new Fail(msg); }

// ---------- the server ----------

function freePort() {
  return new Promise((ok) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
}

async function startLadder(tmp) {
  must(existsSync(LADDER), "no ladder binary at " + LADDER + " (set LADDER_BIN or cargo build)");
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: join(tmp, "ladder.db"), LADDER_BIND: "127.0.0.1:" + port, LADDER_LOG: process.env.LADDER_LOG || "warn", LADDER_AUTH_RATE_PER_MIN: "100000" };
  log("seeding the demo data into " + env.DATABASE_URL);
  const seed = spawnSync(LADDER, ["seed", "--demo"], { env, cwd: ROOT, encoding: "utf8", timeout: 600000 });
  must(seed.status === 0, "`ladder seed --demo` failed: " + (seed.stdout || "") + (seed.stderr || ""));
  const out = [];
  const proc = spawn(LADDER, ["serve"], { env, cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout.on("data", (d) => out.push(d));
  proc.stderr.on("data", (d) => out.push(d));
  const base = "http://127.0.0.1:" + port;
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Fail("ladder serve exited: " + Buffer.concat(out).toString().slice(-2000));
    try { if ((await fetch(base + "/readyz")).ok) return { proc, base, out }; } catch (e) { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Fail("ladder serve did not become ready");
}

async function apiCall(base, method, path, body, token) {
  const res = await fetch(base + "/api/v1" + path, {
    method, headers: { "Content-Type": "application/json", Accept: "application/json", ...(token ? { Authorization: "Bearer " + token } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  return { status: res.status, json, text };
}
async function tokenOf(base, username, password) {
  const r = await apiCall(base, "POST", "/auth/login", { username, password });
  must(r.status === 200, "API login " + username + ": " + r.status + " " + r.text.slice(0, 200));
  return r.json.access_token;
}

// ---------- page helpers ----------

// Every page: no request outside the service, no script error, no CSP refusal.
function watch(page, base, name) {
  page.on("pageerror", (e) => check(false, name + ": script error: " + e.message));
  page.on("console", (m) => {
    const text = m.text();
    if (m.type() === "error" && !/^Failed to load resource/.test(text)) check(false, name + ": console error: " + text);
  });
  page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base + "/") || url.startsWith("blob:") || url.startsWith("data:")) return route.continue();
    check(false, name + ": request outside the service: " + url);
    return route.abort();
  });
}

async function axe(page, name) {
  await page.evaluate(AXE);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  const bad = res.filter((v) => v.impact === "serious" || v.impact === "critical");
  res.filter((v) => !bad.includes(v)).forEach((v) => notes.push(name + ": axe " + v.impact + " " + v.id));
  check(!bad.length, name + ": axe found " + bad.length + " serious/critical violation(s): " +
    bad.map((v) => v.impact + " " + v.id + " (" + v.help + ") at " + v.nodes.join(", ")).join("; "));
}

// Readable at phone width: at 375 px nothing scrolls sideways.
async function phone(page, name, shot) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 800 });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(150);
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  if (!check(w <= 376, name + ": at 375 px the page is " + w + " px wide (scrolls sideways)")) {
    const wide = await page.evaluate(() => [...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > 380 && e.offsetParent !== null)
      .slice(0, 5).map((e) => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)));
    log("too wide: " + wide.join(", "));
  }
  if (shot) await page.screenshot({ path: join(SHOTS, shot), fullPage: false });
  await page.setViewportSize(size);
}

async function shot(page, file, full) {
  await page.screenshot({ path: join(SHOTS, file), fullPage: !!full });
  log("screenshot " + join("target/browser-test", file));
}

// Keyboard only: Tab to the username field, type, Tab, type, Enter.
async function keyboardSignIn(page, username, password) {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(() => document.activeElement && document.activeElement.id === "login-username")) break;
  }
  must(await page.evaluate(() => document.activeElement.id === "login-username"), "Tab never reached the username field");
  await page.keyboard.type(username);
  await page.keyboard.press("Tab");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
}

function uscc() {
  const cs = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  const w = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  let body = "91210106";
  for (let i = 0; i < 9; i++) body += String(Math.floor(Math.random() * 10));
  const sum = [...body].reduce((a, ch, i) => a + cs.indexOf(ch) * w[i], 0);
  return body + cs[(31 - (sum % 31)) % 31];
}

// A small, valid one-page PDF.
function pdf(path) {
  const objs = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    null,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
  ];
  const stream = "BT /F1 24 Tf 72 760 Td (Audit report 2025) Tj ET";
  objs[3] = "<< /Length " + stream.length + " >>\nstream\n" + stream + "\nendstream";
  let out = "%PDF-1.4\n";
  const offs = [];
  objs.forEach((o, i) => { offs.push(out.length); out += (i + 1) + " 0 obj\n" + o + "\nendobj\n"; });
  const xref = out.length;
  out += "xref\n0 " + (objs.length + 1) + "\n0000000000 65535 f \n" + offs.map((o) => String(o).padStart(10, "0") + " 00000 n \n").join("");
  out += "trailer\n<< /Size " + (objs.length + 1) + " /Root 1 0 R >>\nstartxref\n" + xref + "\n%%EOF\n";
  writeFileSync(path, out, "latin1");
}

// ---------- journeys ----------

const COMPANY = { username: "shenyang-gear-" + Date.now().toString(36), password: "a-long-company-password-1", name: "沈阳精密齿轮有限公司" };
const FACTS = { operating_revenue: "4006.3", main_business_revenue: "3900", rd_expense: "120.189", rd_staff: "30", niche_years: "6", ip_class1: "2" };

async function companyJourney(ctx, base, tmp) {
  const page = await ctx.newPage();
  watch(page, base, "/portal");
  await page.goto(base + "/portal");
  await page.waitForSelector("body[data-state=signed-out]");
  await axe(page, "/portal sign-in");

  // Sign up.
  await page.fill("#su-username", COMPANY.username);
  await page.fill("#su-password", COMPANY.password);
  await page.fill("#su-uscc", uscc());
  await page.fill("#su-name", COMPANY.name);
  await page.selectOption("#su-district", "210106");
  await page.click("#signup-submit");
  await page.waitForSelector("body[data-state=ready]", { timeout: 30000 });
  must(await page.isVisible("#app"), "the portal did not open after sign-up");
  check((await page.textContent("#profile-name")) === COMPANY.name, "the profile does not show the company's name");

  // Facts for last year, with a bad value first.
  const me = await page.evaluate(() => sessionStorage.getItem("ladder.access_token"));
  const meDoc = await apiCall(base, "GET", "/me", undefined, me);
  const entId = meDoc.json.enterprise.id;
  const year = String(new Date().getFullYear() - 1);
  await page.selectOption("#facts-year", year);
  for (const [code, v] of Object.entries(FACTS)) await page.fill("#fact-" + code, v);
  await page.fill("#fact-employees", "-5");
  await page.click("#facts-save");
  await page.waitForSelector("#fact-employees-err:not([hidden])");
  const errText = await page.textContent("#fact-employees-err");
  check(errText.trim().length > 0, "no inline error under 员工 employees");
  check((await page.getAttribute("#fact-employees", "aria-invalid")) === "true", "the bad field is not marked aria-invalid");
  check(await page.evaluate(() => document.activeElement.id === "fact-employees"), "focus did not move to the bad field");
  await page.fill("#fact-employees", "120");
  await page.click("#facts-save");
  await page.waitForFunction(() => /✓/.test(document.getElementById("facts-saved").textContent));
  check(await page.isHidden("#fact-employees-err"), "the inline error stayed after the correction");
  const filed = await apiCall(base, "GET", "/enterprises/" + entId + "/facts", undefined, me);
  check(filed.json && filed.json.facts && filed.json.facts[year] && String(filed.json.facts[year].employees) === "120" &&
    String(filed.json.facts[year].rd_expense) === "120.189", "the API does not hold the facts the form saved: " + filed.text.slice(0, 300));

  // Partial save: one field changed is one field sent (PATCH), the rest kept.
  await page.fill("#fact-ip_class1", "3");
  await page.click("#facts-save");
  await page.waitForFunction(() => /✓/.test(document.getElementById("facts-saved").textContent));
  const after = await apiCall(base, "GET", "/enterprises/" + entId + "/facts", undefined, me);
  check(String(after.json.facts[year].ip_class1) === "3" && String(after.json.facts[year].rd_staff) === "30", "a partial save lost or missed a value");

  // Eligibility: every tier in force, with the explanation of what falls short.
  await page.waitForSelector("#elig-list .tier-card");
  const today = await page.inputValue("#elig-asof");
  const elig = await apiCall(base, "GET", "/enterprises/" + entId + "/eligibility?as_of=" + today, undefined, me);
  const items = (elig.json && elig.json.items) || [];
  const cards = await page.$$eval("#elig-list .tier-card", (els) => els.map((e) => ({ tier: e.dataset.tier, outcome: e.dataset.outcome })));
  check(cards.length === items.length && items.length > 0, "eligibility: the page shows " + cards.length + " tiers, the API " + items.length);
  for (const it of items) {
    const c = cards.find((x) => x.tier === it.tier);
    check(c && c.outcome === it.outcome, "eligibility " + it.tier + ": API " + it.outcome + ", page " + (c && c.outcome));
  }
  const short = items.flatMap((it) => (it.criteria || []).filter((c) => c.shortfall).map((c) => ({ tier: it.tier, id: c.id, gap: c.shortfall.gap == null ? "" : String(c.shortfall.gap), needed: String(c.shortfall.needed) })));
  if (short.length) {
    for (const s of short) {
      const shown = await page.$$eval("#elig-list [data-tier='" + s.tier + "'] details.criteria [data-criterion='" + s.id + "'] .shortfall", (els) => els.map((e) => ({ gap: e.dataset.gap, needed: e.dataset.needed, text: e.textContent })));
      check(shown.length === 1 && shown[0].gap === s.gap && shown[0].text.includes(s.needed), "shortfall of " + s.tier + "/" + s.id + ": API gap " + s.gap + ", page " + JSON.stringify(shown));
    }
  } else {
    notes.push("the API returned no shortfall (explanations not on this server yet); failed criteria checked instead");
  }
  const srdi = items.find((it) => it.tier === "srdi_sme");
  const tier = srdi ? "srdi_sme" : items[0].tier;
  const failedShown = await page.$$eval("#elig-list [data-tier='" + tier + "'] details.criteria .crit-failed", (els) => els.length);
  const failedApi = ((items.find((it) => it.tier === tier) || {}).criteria || []).filter((c) => c.passed === false).length;
  check(failedShown === failedApi, tier + ": the API fails " + failedApi + " criteria, the page marks " + failedShown);
  await page.$eval("#eligibility", (e) => e.scrollIntoView());
  await shot(page, "portal-eligibility.png");

  // Apply, upload a PDF, submit.
  await page.click("#tier-" + tier + " button.apply");
  await page.waitForSelector("#app-detail [data-state=draft]");
  const appId = await page.getAttribute("#app-detail [data-application-id]", "data-application-id");
  if (await page.isVisible("#upload-form")) {
    const file = join(tmp, "audit-report-2025.pdf");
    pdf(file);
    await page.selectOption("#up-kind", "audit_report");
    await page.setInputFiles("#up-file", file);
    await page.click("#upload-submit");
    await page.waitForSelector("#app-detail .att-list li");
    check((await page.textContent("#app-detail .att-list")).includes("audit-report-2025.pdf"), "the uploaded PDF is not listed");
  } else {
    notes.push("evidence upload not on this server yet (the page says so)");
  }
  await page.click("#submit-app");
  await page.waitForSelector("#app-detail [data-state=submitted]");
  const kept = await apiCall(base, "GET", "/applications/" + appId, undefined, me);
  if (kept.json && kept.json.prescreen_outcome && kept.json.prescreen_outcome !== "eligible") {
    check(await page.isVisible("#submit-warnings"), "the submission's warnings are not shown (pre-screen " + kept.json.prescreen_outcome + ")");
  }
  check(await page.isVisible("#apps-list tr[data-application-id='" + appId + "'][data-state=submitted]"), "the applications list does not show #" + appId + " submitted");
  await axe(page, "/portal");
  await phone(page, "/portal", "portal-375.png");
  await page.locator("#app-detail").scrollIntoViewIfNeeded();
  await shot(page, "portal.png");
  await page.close();
  return { appId, entId };
}

async function adminAssigns(ctx, base, appId) {
  const page = await ctx.newPage();
  watch(page, base, "/review (admin)");
  await page.goto(base + "/review");
  await page.waitForSelector("body[data-state=signed-out]");
  await axe(page, "/review sign-in");
  await page.fill("#login-username", "admin");
  await page.fill("#login-password", "demo-admin-2025!");
  await page.click("#signin-submit");
  await page.waitForSelector("body[data-state=ready]");
  await page.waitForSelector("#queue-body tr[data-application-id='" + appId + "']");
  check((await page.textContent("#queue-body tr[data-application-id='" + appId + "'] th")).includes(COMPANY.name), "the admin's queue does not name the enterprise");
  await page.click("#queue-body tr[data-application-id='" + appId + "'] a");
  await page.waitForSelector("#assign-reviewer option[value]:not([value=''])", { state: "attached" });
  const rid = await page.$eval("#assign-reviewer", (sel) => [...sel.options].find((o) => /^reviewer1\b/.test(o.textContent)).value);
  await page.selectOption("#assign-reviewer", rid);
  await page.click("#assign-submit");
  await page.waitForSelector(".app-head[data-state=under_review]");
  await axe(page, "/review (admin)");
  await phone(page, "/review (admin)");
  await shot(page, "review-admin.png");
  await page.close();
}

async function reviewerJourney(ctx, base, appId) {
  const page = await ctx.newPage();
  watch(page, base, "/review");
  await page.goto(base + "/review");
  await page.waitForSelector("body[data-state=signed-out]");
  await keyboardSignIn(page, "reviewer1", "demo-reviewer1-2025!");
  await page.waitForSelector("body[data-state=ready]");
  const row = "#queue-body tr[data-application-id='" + appId + "']";
  await page.waitForSelector(row);
  const text = await page.textContent(row);
  check(text.includes(COMPANY.name), "the reviewer's queue row does not name the enterprise: " + text);
  check(/\d+ 天/.test(text), "the queue row shows no age: " + text);
  await axe(page, "/review queue");
  await shot(page, "review-queue.png");
  // Open with the keyboard: focus the row's link and press Enter.
  await page.focus(row + " a");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#decision-form");
  check(await page.isVisible("#kept-h"), "no kept pre-screen beside the re-grade");
  check(await page.isVisible("#regrade-h"), "no re-grade on current facts");
  // Judge every review criterion, then return with a comment.
  const judges = await page.$$("fieldset.judge");
  for (const f of judges) await (await f.$("input[value=true]")).check();
  await page.check("#decision-return");
  await page.fill("#decision-comment", "请补充近两年研发费用明细 · Please add the R&D expense details");
  await axe(page, "/review application");
  await page.click("#decision-submit");
  await page.waitForSelector(".app-head[data-state=returned]");
  const api = await apiCall(base, "GET", "/applications/" + appId, undefined, await tokenOf(base, "admin", "demo-admin-2025!"));
  check(api.json && api.json.state === "returned", "the API says #" + appId + " is " + (api.json && api.json.state) + ", not returned");
  await phone(page, "/review");
  await shot(page, "review.png");
  await page.close();
}

async function dashboardCheck(ctx, base) {
  const page = await ctx.newPage();
  watch(page, base, "/dashboard");
  await page.goto(base + "/dashboard");
  await page.waitForSelector("#signin:not([hidden])");
  await axe(page, "/dashboard sign-in");
  await page.fill("#login-username", "official1");
  await page.fill("#login-password", "demo-official1-2025!");
  await page.click("#signin-submit");
  await page.waitForSelector("#dashboard[data-state=ready]");
  await page.fill("#ctl-year", "2025");
  await page.$eval("#ctl-year", (e) => e.dispatchEvent(new Event("change")));
  await page.fill("#ctl-asof", "2025-12-31");
  await page.click("#reload");
  await page.waitForSelector("#dashboard[data-loaded='2025|2025-12-31']");
  const shown = await page.$$eval("[data-quota-id]", (els) => els.map((e) => {
    const f = (n) => { const x = e.querySelector("[data-field='" + n + "']"); return x ? x.textContent : null; };
    return { id: e.dataset.quotaId, achieved: f("achieved"), target: f("target"), percent: f("percent") };
  }));
  const tok = await tokenOf(base, "official1", "demo-official1-2025!");
  const r = await apiCall(base, "GET", "/reports/rollup?year=2025&as_of=2025-12-31", undefined, tok);
  const quotas = (r.json && r.json.quotas) || [];
  check(quotas.length > 0, "the API returned no quotas for 2025");
  check(shown.length === quotas.length, "dashboard: " + shown.length + " quota cards, API " + quotas.length);
  for (const q of quotas) {
    const s = shown.find((x) => x.id === String(q.id));
    if (!check(s, "dashboard: quota " + q.id + " not shown")) continue;
    check(s.achieved === String(q.achieved) && s.target === String(q.target), "dashboard quota " + q.id + ": API " + q.achieved + "/" + q.target + ", page " + s.achieved + "/" + s.target);
    check(Math.abs(Number(s.percent) - Number(q.percent)) < 0.05, "dashboard quota " + q.id + " percent: API " + q.percent + ", page " + s.percent);
  }
  // The forecast beside each quota bar: projected and verdict as the API gives them.
  const fr = await apiCall(base, "GET", "/reports/forecast?year=2025&as_of=2025-12-31", undefined, tok);
  check(fr.status === 200, "forecast: HTTP " + fr.status);
  const fq = (fr.json && fr.json.quotas) || [];
  await page.waitForFunction((n) => document.querySelectorAll(".quota-forecast").length === n, fq.length, { timeout: 60000 });
  for (const q of fq) {
    const got = await page.$eval("article.quota[data-quota-id='" + q.id + "'] .quota-forecast", (e) => ({
      verdict: e.dataset.verdict, projected: e.querySelector("[data-field=projected]").textContent }));
    check(got.verdict === q.verdict && got.projected === String(q.projected),
      "dashboard forecast " + q.id + ": API " + q.verdict + "/" + q.projected + ", page " + got.verdict + "/" + got.projected);
  }
  await page.$eval("#quotas", (e) => e.scrollIntoView());
  await page.screenshot({ path: join(SHOTS, "dashboard-forecast.png"), fullPage: false });
  log("screenshot target/browser-test/dashboard-forecast.png");
  await axe(page, "/dashboard");
  await phone(page, "/dashboard");
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "dashboard.png");
  await page.close();
  return quotas.length;
}

// The cultivation pool and the impact of a draft rule set, on the dashboard, against the API.
async function officialsTools(ctx, base) {
  const admin = await tokenOf(base, "admin", "demo-admin-2025!");
  const doc = JSON.parse(readFileSync(join(ROOT, "fixtures/rulesets/srdi_sme-2022.json"), "utf8"));
  doc.version = 90; doc.status = "draft"; doc.name = "专精特新（分数线提高到70分的草案）"; doc.pass_mark = 70;
  const created = await apiCall(base, "POST", "/rulesets", doc, admin);
  must(created.status === 201, "creating a draft rule set: HTTP " + created.status + " " + JSON.stringify(created.json));
  const page = await ctx.newPage();
  watch(page, base, "/dashboard (tools)");
  await page.goto(base + "/dashboard#year=2025&as_of=2025-12-31");
  await page.waitForSelector("#signin:not([hidden])");
  await page.fill("#login-username", "official1");
  await page.fill("#login-password", "demo-official1-2025!");
  await page.click("#signin-submit");
  await page.waitForSelector("#dashboard[data-state=ready]");
  const tok = await tokenOf(base, "official1", "demo-official1-2025!");
  // Pool: srdi_sme, at most 3 failed criteria.
  await page.selectOption("#pool-tier", "srdi_sme");
  await page.fill("#pool-max", "3");
  await page.click("#pool-load");
  await page.waitForSelector("#pool-panel[data-state=ready]", { timeout: 60000 });
  const asOf = await page.$eval("#ctl-asof", (e) => e.value);
  const pr = await apiCall(base, "GET", "/cultivation?tier=srdi_sme&max_failed=3&limit=100&as_of=" + asOf, undefined, tok);
  check(pr.status === 200, "cultivation: HTTP " + pr.status);
  const ids = await page.$$eval("#pool-table tbody tr", (rows) => rows.map((r) => r.dataset.enterpriseId));
  const want = ((pr.json && pr.json.items) || []).map((i) => String(i.enterprise_id));
  check(want.length > 0, "the pool is empty in the demo data");
  check(JSON.stringify(ids) === JSON.stringify(want), "pool order: page " + ids.slice(0, 5) + "…, API " + want.slice(0, 5) + "…");
  for (const d of ((pr.json && pr.json.by_district) || []).filter((x) => x.total > 0)) {
    const got = await page.$eval("#pool-district-table tr[data-district='" + d.code + "'] [data-field=one_away]", (e) => e.textContent);
    check(got === String(d.one_away), "pool one-away in " + d.code + ": API " + d.one_away + ", page " + got);
  }
  await axe(page, "/dashboard pool");
  await page.$eval("#pool-panel", (e) => e.scrollIntoView());
  await page.screenshot({ path: join(SHOTS, "dashboard-pool.png"), fullPage: false });
  log("screenshot target/browser-test/dashboard-pool.png");
  // Impact of the draft, opened from the list of drafts.
  const id = created.json.id;
  await page.click("#impact-drafts button[data-ruleset='" + id + "']");
  await page.waitForSelector("#impact-panel[data-state=ready]", { timeout: 60000 });
  const ir = await apiCall(base, "POST", "/rulesets/" + id + "/impact", { as_of: asOf }, tok);
  check(ir.status === 200, "impact: HTTP " + ir.status + " " + JSON.stringify(ir.json));
  const tiles = await page.$$eval("#impact-result .tile-value", (els) => els.map((e) => e.firstChild.textContent));
  check(tiles[1] === String(ir.json.gained) && tiles[2] === String(ir.json.lost),
    "impact: API gained " + ir.json.gained + " lost " + ir.json.lost + ", page " + tiles[1] + "/" + tiles[2]);
  check(ir.json.lost > 0, "a raised pass mark lost nobody in the demo data");
  await axe(page, "/dashboard impact");
  await page.$eval("#impact-panel", (e) => e.scrollIntoView());
  await page.screenshot({ path: join(SHOTS, "dashboard-impact.png"), fullPage: false });
  log("screenshot target/browser-test/dashboard-impact.png");
  await page.close();
}

async function publicityCheck(ctx, base) {
  const page = await ctx.newPage();
  watch(page, base, "/publicity");
  await page.goto(base + "/publicity");
  await page.waitForSelector("body[data-state=ready]");
  const r = await apiCall(base, "GET", "/public/publicity");
  if (r.status === 200) {
    const n = ((r.json && r.json.items) || []).length;
    const rows = await page.$$eval("#pub-list tbody tr", (els) => els.length);
    check(rows === n, "/publicity: " + rows + " rows, the API " + n);
  } else {
    notes.push("GET /public/publicity answered " + r.status + " (not on this server yet)");
  }
  await axe(page, "/publicity");
  await phone(page, "/publicity");
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, "publicity.png");
  await page.close();
}

// ---------- main ----------

async function main() {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), "ladder-browser-"));
  let server = null, ctx = null;
  try {
    server = await startLadder(tmp);
    log("ladder on " + server.base);
    ctx = await chromium.launchPersistentContext(join(tmp, "profile"), {
      executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 1000 }, locale: "zh-CN",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
    });
    ctx.setDefaultTimeout(20000);
    const { appId } = await companyJourney(ctx, server.base, tmp);
    log("company journey done (application #" + appId + ")");
    await adminAssigns(ctx, server.base, appId);
    await reviewerJourney(ctx, server.base, appId);
    log("reviewer journey done");
    const nq = await dashboardCheck(ctx, server.base);
    log("dashboard: " + nq + " quotas compared");
    await officialsTools(ctx, server.base);
    log("dashboard: pool and impact compared");
    await publicityCheck(ctx, server.base);
  } catch (e) {
    failures.push(e instanceof Fail ? e.message : (e && e.stack) || String(e));
    if (ctx) {
      for (const [i, p] of ctx.pages().entries()) {
        await p.screenshot({ path: join(SHOTS, "failure-" + i + ".png") }).catch(() => {});
        const alerts = await p.$$eval("[role=alert]:not([hidden])", (els) => els.map((e) => e.textContent.trim()).filter(Boolean)).catch(() => []);
        if (alerts.length) log("alerts on " + p.url() + ": " + alerts.join(" | "));
        log("failure screenshot target/browser-test/failure-" + i + ".png (" + p.url() + ")");
      }
    }
    if (server) log("server output (tail):\n" + Buffer.concat(server.out).toString().slice(-3000));
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    if (server) { server.proc.kill("SIGTERM"); await new Promise((r) => setTimeout(r, 300)); }
    if (!KEEP) rmSync(tmp, { recursive: true, force: true }); else log("kept " + tmp);
  }
  notes.forEach((n) => log("note: " + n));
  if (failures.length) {
    console.log("browser-test: FAIL (" + failures.length + " problem(s))\n  " + failures.join("\n  "));
    process.exit(1);
  }
  console.log("browser-test: OK (company, admin, reviewer journeys; dashboard; publicity; axe clean; screenshots in target/browser-test/)");
}

main();
