// ladder — what the pages share: element building (text only through textContent), the
// session (tokens in sessionStorage, refreshed once on 401), calls to the public /api/v1
// with RFC 9457 problem documents turned into errors, and the sign-in form.
import { t } from "./i18n.js";

export const API = "/api/v1";
const KEY_ACCESS = "ladder.access_token";
const KEY_REFRESH = "ladder.refresh_token";
const KEY_USER = "ladder.username";

export function $(id) { return document.getElementById(id); }

// h("div", {class: "x", dataset: {a: 1}}, child, "text", [children]): strings become text nodes.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "dataset") Object.entries(v).forEach(([d, x]) => { el.dataset[d] = x; });
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  children.forEach((c) => append(el, c));
  return el;
}
export function append(el, ...cs) {
  for (const c of cs) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) c.forEach((x) => append(el, x));
    else el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}
export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
export function fill(el, ...children) { clear(el); children.forEach((c) => append(el, c)); return el; }

// Chinese, then English beside it in a quieter span.
export function bi(zh, en) { return [zh, en ? h("span", { class: "en" }, en) : null]; }
export function tn(key) { const [zh, en] = t(key); return bi(zh, en); }
export function label(obj, code) {
  if (!obj) return bi(code || "", "");
  return bi(obj.label_zh || obj.name_zh || obj.name || code || "", obj.label_en || obj.name_en || "");
}

export function pad2(n) { return (n < 10 ? "0" : "") + n; }
export function isoDate(d) { return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()); }
export function todayIso() { return isoDate(new Date()); }
export function dateOf(ts) { return ts ? String(ts).slice(0, 10) : ""; }
export function daysBetween(a, b) {
  return Math.round((Date.parse(b + "T00:00:00Z") - Date.parse(a + "T00:00:00Z")) / 86400000);
}
export function listOf(x) { return Array.isArray(x) ? x : (x && Array.isArray(x.items) ? x.items : []); }

// ---------- session ----------

export const store = {
  get access() { return sessionStorage.getItem(KEY_ACCESS); },
  get refresh() { return sessionStorage.getItem(KEY_REFRESH); },
  get user() { return sessionStorage.getItem(KEY_USER) || ""; },
  save(tok, user) {
    if (tok.access_token) sessionStorage.setItem(KEY_ACCESS, tok.access_token);
    if (tok.refresh_token) sessionStorage.setItem(KEY_REFRESH, tok.refresh_token);
    if (user) sessionStorage.setItem(KEY_USER, user);
  },
  wipe() { [KEY_ACCESS, KEY_REFRESH, KEY_USER].forEach((k) => sessionStorage.removeItem(k)); }
};

// ---------- HTTP ----------

export class ApiError extends Error {
  constructor(status, message, errors) {
    super(message);
    this.status = status;
    this.errors = errors || []; // [{field, code, message}] from the problem document
  }
  // 404/405/501 from a route this server does not have: the feature is not here yet.
  get missing() { return this.status === 404 || this.status === 405 || this.status === 501; }
}

async function problem(res) {
  let doc = null;
  try { const text = await res.text(); doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
  let msg = (doc && (doc.detail || doc.title)) || ("HTTP " + res.status);
  if (res.status === 429) {
    const ra = res.headers.get("Retry-After");
    msg = "请求过于频繁 Too many requests" + (ra ? "（" + ra + " s）" : "");
  }
  const err = new ApiError(res.status, msg, doc && Array.isArray(doc.errors) ? doc.errors : []);
  err.doc = doc;
  return err;
}

function rawFetch(path, opts = {}) {
  const headers = { Accept: opts.accept || "application/json" };
  let body = opts.body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(body);
  }
  if (opts.auth !== false && store.access) headers.Authorization = "Bearer " + store.access;
  Object.assign(headers, opts.headers || {});
  return fetch(API + path, { method: opts.method || "GET", headers, body, credentials: "same-origin", cache: "no-store" })
    .catch((e) => { throw new ApiError(0, "无法连接服务器 Cannot reach the server (" + (e && e.message) + ")"); });
}

let refreshing = null;
function refreshTokens() {
  if (refreshing) return refreshing;
  const rt = store.refresh;
  if (!rt) return Promise.resolve(false);
  refreshing = rawFetch("/auth/refresh", { method: "POST", body: { refresh_token: rt }, auth: false })
    .then((res) => (res.ok ? res.json().then((tok) => { store.save(tok); return !!tok.access_token; }) : false))
    .catch(() => false)
    .finally(() => { refreshing = null; });
  return refreshing;
}

let onExpired = () => {};
export function setOnExpired(f) { onExpired = f; }

// Authenticated call: on 401 refresh once and retry; a problem document becomes an ApiError.
export async function api(path, opts = {}) {
  let res = await rawFetch(path, opts);
  if (res.status === 401 && opts.auth !== false && await refreshTokens()) res = await rawFetch(path, opts);
  if (res.status === 401 && opts.auth !== false && store.access) {
    store.wipe();
    onExpired();
    throw new ApiError(401, t("session_expired").join(" "));
  }
  if (!res.ok) throw await problem(res);
  if (opts.raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

// An optional feature: its absence (404/405 on the route) gives `fallback`, not an error.
export async function optional(path, fallback, opts) {
  try { return await api(path, opts); } catch (e) { if (e.missing) return fallback; throw e; }
}

export function showError(box, err) {
  clear(box);
  if (!err) { box.hidden = true; return; }
  append(box, err.message || String(err));
  if (err.errors && err.errors.length) {
    append(box, h("ul", null, err.errors.map((e) => h("li", null, (e.field ? e.field + ": " : "") + (e.message || e.code || "")))));
  }
  box.hidden = false;
}

export function say(text) {
  const s = $("status");
  if (s) s.textContent = text;
}

// ---------- sign-in ----------

export async function signIn(username, password) {
  const tok = await api("/auth/login", { method: "POST", body: { username, password }, auth: false });
  store.save(tok, username);
  return tok;
}

export async function signOut() {
  const rt = store.refresh;
  if (store.access && rt) {
    try { await api("/auth/logout", { method: "POST", body: { refresh_token: rt } }); } catch (e) { /* gone anyway */ }
  }
  store.wipe();
}

// Wires the shared sign-in form (#signin-form, #login-username, #login-password,
// #signin-error) and the session bar (#session, #session-user, #signout).
export function wireSession(onIn, onOut) {
  const form = $("signin-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const user = $("login-username").value.trim();
    const pass = $("login-password").value;
    const box = $("signin-error");
    if (!user || !pass) {
      showError(box, { message: t("need_credentials").join(" ") });
      (user ? $("login-password") : $("login-username")).focus();
      return;
    }
    const btn = form.querySelector("button[type=submit]");
    btn.disabled = true;
    showError(box, null);
    try {
      await signIn(user, pass);
      $("login-password").value = "";
      await onIn();
    } catch (e) {
      showError(box, e);
      $("login-password").select();
    } finally {
      btn.disabled = false;
    }
  });
  $("signout").addEventListener("click", async () => { await signOut(); onOut(); });
  setOnExpired(() => onOut(t("session_expired").join(" ")));
}

export function showSession(on) {
  $("session").hidden = !on;
  $("session-user").textContent = on ? store.user : "";
}

// A badge for an outcome or a state: class from the code, text from the table.
export function badge(kind, code) {
  const key = kind === "state" ? "st_" + code : code;
  const [zh, en] = t(key);
  return h("span", { class: "badge badge-" + code, dataset: { code: code || "" } }, zh, en && en !== key ? h("span", { class: "en" }, en) : null);
}

// Small exact-decimal formatting: values are shown as the API gives them.
export function valueText(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "是 yes" : "否 no";
  return String(v);
}
