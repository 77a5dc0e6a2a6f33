// ladder — officials' dashboard. Plain JS, no framework, no eval, no inline handlers
// (works under `script-src 'self'`). Data: GET /api/v1/reports/rollup (see API.md).
(function () {
  "use strict";

  var API = "/api/v1";
  var CITY_SCOPE = "210100";
  var KEY_ACCESS = "ladder.access_token";
  var KEY_REFRESH = "ladder.refresh_token";
  var KEY_USER = "ladder.username";
  var SVGNS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#1d6fd6", "#d9480f", "#2b8a3e", "#862e9c", "#c2255c", "#0b7285", "#b08800", "#495057", "#5c940d", "#364fc7", "#e8590c", "#087f5b"];

  var state = {
    ref: null,          // {tiers: Map, districts: [...], clusters: [...]}
    refPromise: null,
    refreshing: null,   // in-flight refresh promise (refresh tokens rotate: never refresh twice)
    seq: 0,             // guards against stale responses
    shown: null         // {year, as_of} of the report on screen
  };

  // ---------- small helpers ----------

  function $(id) { return document.getElementById(id); }

  // h("div", {class: "x", dataset: {a: 1}}, child, "text", [children]) — text is always textContent.
  function h(tag, attrs) {
    var el = document.createElement(tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function s(tag, attrs) {
    var el = document.createElementNS(SVGNS, tag);
    setAttrs(el, attrs);
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function setAttrs(el, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "dataset") { Object.keys(v).forEach(function (d) { el.dataset[d] = v[d]; }); }
      else if (k === "text") { el.textContent = v; }
      else { el.setAttribute(k, v === true ? "" : String(v)); }
    });
  }
  function append(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(el, x); }); return; }
    el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function num(v) { var n = Number(v); return isFinite(n) ? n : 0; }
  // Integers exactly as the API gives them (numbers or exact-decimal strings).
  function intText(v) {
    if (typeof v === "string" && /^-?\d+$/.test(v.trim())) return v.trim();
    var n = Number(v);
    if (!isFinite(n)) return String(v);
    return Number.isInteger(n) ? String(n) : String(v);
  }
  // Percent with one decimal; a value already given with one decimal is kept verbatim.
  function pctText(v) {
    if (typeof v === "string" && /^-?\d+\.\d$/.test(v.trim())) return v.trim();
    return num(v).toFixed(1);
  }
  // A count that may be fractional (expected_by_now = target × elapsed share).
  function countText(v) {
    var n = num(v);
    return Number.isInteger(n) ? String(n) : (Math.round(n * 10) / 10).toFixed(1);
  }
  function pad2(n) { return (n < 10 ? "0" : "") + n; }
  function isoDate(d) { return d.getFullYear() + "-" + pad2(d.getMonth() + 1) + "-" + pad2(d.getDate()); }
  function todayIso() { return isoDate(new Date()); }
  function validYear(y) { return /^\d{4}$/.test(String(y)) && +y >= 2000 && +y <= 2100; }
  function clampDate(iso, year) {
    var lo = year + "-01-01", hi = year + "-12-31";
    if (!/^\d{4}-\d{2}-\d{2}$/.test(iso || "")) iso = todayIso();
    return iso < lo ? lo : iso > hi ? hi : iso;
  }
  function daysInMonth(y, m) { return new Date(y, m, 0).getDate(); }

  // ---------- tokens ----------

  var store = {
    get access() { return sessionStorage.getItem(KEY_ACCESS); },
    get refresh() { return sessionStorage.getItem(KEY_REFRESH); },
    get user() { return sessionStorage.getItem(KEY_USER) || ""; },
    save: function (tok, user) {
      if (tok.access_token) sessionStorage.setItem(KEY_ACCESS, tok.access_token);
      if (tok.refresh_token) sessionStorage.setItem(KEY_REFRESH, tok.refresh_token);
      if (user) sessionStorage.setItem(KEY_USER, user);
    },
    wipe: function () {
      sessionStorage.removeItem(KEY_ACCESS);
      sessionStorage.removeItem(KEY_REFRESH);
      sessionStorage.removeItem(KEY_USER);
    }
  };

  // ---------- HTTP ----------

  function ApiError(status, message, fields) {
    this.status = status;
    this.message = message;
    this.fields = fields || [];
  }

  function retryAfterText(res) {
    var ra = res.headers.get("Retry-After");
    if (!ra) return "";
    var secs = /^\d+$/.test(ra.trim()) ? +ra : Math.max(0, Math.round((Date.parse(ra) - Date.now()) / 1000));
    if (!isFinite(secs)) return "";
    return "请 " + secs + " 秒后重试 · retry after " + secs + " s";
  }

  // RFC 9457 problem document → ApiError (shows `detail`).
  function problem(res) {
    return res.text().then(function (text) {
      var doc = null;
      try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
      var msg = (doc && (doc.detail || doc.title)) || ("HTTP " + res.status + " " + (res.statusText || ""));
      if (res.status === 429) {
        var ra = retryAfterText(res);
        msg = "请求过于频繁 Too many requests" + (doc && doc.detail ? ": " + doc.detail : "") + (ra ? "。" + ra : "");
      }
      var fields = doc && Array.isArray(doc.errors) ? doc.errors.map(function (e) {
        return (e.field ? e.field + ": " : "") + (e.message || e.code || "");
      }) : [];
      return new ApiError(res.status, msg, fields);
    });
  }

  function networkError(e) {
    return new ApiError(0, "无法连接服务器 · Cannot reach the server (" + (e && e.message ? e.message : e) + ")");
  }

  function rawFetch(path, opts) {
    opts = opts || {};
    var headers = { "Accept": opts.accept || "application/json" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (opts.auth !== false && store.access) headers["Authorization"] = "Bearer " + store.access;
    return fetch(API + path, {
      method: opts.method || "GET",
      headers: headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      credentials: "same-origin",
      cache: "no-store"
    }).catch(function (e) { throw networkError(e); });
  }

  function refreshTokens() {
    if (state.refreshing) return state.refreshing;
    var rt = store.refresh;
    if (!rt) return Promise.resolve(false);
    state.refreshing = rawFetch("/auth/refresh", { method: "POST", body: { refresh_token: rt }, auth: false })
      .then(function (res) {
        if (!res.ok) return false;
        return res.json().then(function (tok) { store.save(tok); return !!tok.access_token; });
      })
      .catch(function () { return false; })
      .then(function (ok) { state.refreshing = null; return ok; });
    return state.refreshing;
  }

  // Authenticated call: on 401 refresh once and retry, else back to sign-in.
  function api(path, opts) {
    opts = opts || {};
    return rawFetch(path, opts).then(function (res) {
      if (res.status !== 401) return res;
      return refreshTokens().then(function (ok) {
        if (!ok) return res;
        return rawFetch(path, opts);
      });
    }).then(function (res) {
      if (res.status === 401) {
        return problem(res).then(function () {
          toSignIn("登录已过期，请重新登录。 Your session has expired, please sign in again.");
          throw new ApiError(401, "登录已过期 · Session expired");
        });
      }
      if (!res.ok) return problem(res).then(function (e) { throw e; });
      if (opts.raw) return res;
      if (res.status === 204) return null;
      return res.json();
    });
  }

  function showError(box, err) {
    clear(box);
    if (!err) { box.hidden = true; return; }
    append(box, err.message || String(err));
    if (err.fields && err.fields.length) append(box, h("ul", null, err.fields.map(function (f) { return h("li", null, f); })));
    box.hidden = false;
  }

  // ---------- sign-in / sign-out ----------

  function toSignIn(message) {
    store.wipe();
    state.ref = null;
    state.refPromise = null;
    state.shown = null;
    $("dashboard").hidden = true;
    $("session").hidden = true;
    $("signin").hidden = false;
    var dash = $("dashboard");
    delete dash.dataset.loaded;
    dash.dataset.state = "signed-out";
    showError($("signin-error"), message ? { message: message } : null);
    $("login-password").value = "";
    $("login-username").focus();
  }

  function toDashboard() {
    $("signin").hidden = true;
    $("dashboard").hidden = false;
    $("session").hidden = false;
    $("session-user").textContent = store.user ? store.user : "";
    load();
  }

  function onSignIn(ev) {
    ev.preventDefault();
    var user = $("login-username").value.trim();
    var pass = $("login-password").value;
    var errBox = $("signin-error");
    if (!user || !pass) {
      showError(errBox, { message: "请输入用户名和密码。 Enter your username and password." });
      (user ? $("login-password") : $("login-username")).focus();
      return;
    }
    var btn = $("signin-submit");
    btn.disabled = true;
    showError(errBox, null);
    rawFetch("/auth/login", { method: "POST", body: { username: user, password: pass }, auth: false })
      .then(function (res) {
        if (!res.ok) return problem(res).then(function (e) { throw e; });
        return res.json();
      })
      .then(function (tok) {
        store.save(tok, user);
        $("login-password").value = "";
        toDashboard();
        $("main").focus();
      })
      .catch(function (e) {
        showError(errBox, e);
        $("login-password").select();
      })
      .then(function () { btn.disabled = false; });
  }

  function onSignOut() {
    var rt = store.refresh;
    var p = store.access && rt
      ? rawFetch("/auth/logout", { method: "POST", body: { refresh_token: rt } }).catch(function () { return null; })
      : Promise.resolve(null);
    p.then(function () { toSignIn(null); });
  }

  // ---------- controls ----------

  function setYear(year, keepDate) {
    var y = $("ctl-year"), d = $("ctl-asof");
    y.value = year;
    d.min = year + "-01-01";
    d.max = year + "-12-31";
    d.value = clampDate(keepDate ? d.value : todayIso(), year);
  }

  // A new year keeps the report date if it already lies in that year, else takes today
  // clamped into the year (31 December for a past year, 1 January for a future one).
  function onYearChange() {
    var v = $("ctl-year").value.trim();
    if (!validYear(v)) return;
    setYear(+v, $("ctl-asof").value.slice(0, 4) === v);
  }

  function onDateChange() {
    var v = $("ctl-year").value.trim();
    if (validYear(v)) $("ctl-asof").value = clampDate($("ctl-asof").value, +v);
  }

  function params() {
    var yv = $("ctl-year").value.trim();
    if (!validYear(yv)) return null;
    var year = +yv;
    var asOf = clampDate($("ctl-asof").value, year);
    if ($("ctl-asof").value !== asOf) setYear(year, true);
    $("ctl-asof").value = asOf;
    return { year: year, as_of: asOf };
  }

  function readHash() {
    var m = /year=(\d{4})/.exec(location.hash), d = /as_of=(\d{4}-\d{2}-\d{2})/.exec(location.hash);
    var year = m && validYear(m[1]) ? +m[1] : new Date().getFullYear();
    setYear(year, false);
    if (d) $("ctl-asof").value = clampDate(d[1], year);
  }

  // ---------- data ----------

  function loadReference() {
    if (state.ref) return Promise.resolve(state.ref);
    if (state.refPromise) return state.refPromise;
    function soft(p) { return p.catch(function (e) { if (e && e.status === 401) throw e; return null; }); }
    state.refPromise = Promise.all([soft(api("/tiers")), soft(api("/districts")), soft(api("/clusters"))])
      .then(function (r) {
        var tiers = new Map();
        (listOf(r[0])).forEach(function (t) { tiers.set(t.code, t); });
        state.ref = { tiers: tiers, districts: listOf(r[1]), clusters: listOf(r[2]) };
        return state.ref;
      })
      .catch(function (e) { state.refPromise = null; throw e; });
    return state.refPromise;
  }
  function listOf(x) { return Array.isArray(x) ? x : (x && Array.isArray(x.items) ? x.items : []); }

  function load() {
    var p = params();
    var dash = $("dashboard");
    if (!p) {
      showError($("dash-error"), { message: "请输入有效年度（2000–2100）。 Enter a valid year." });
      $("ctl-year").focus();
      return;
    }
    var seq = ++state.seq;
    delete dash.dataset.loaded;
    dash.dataset.state = "loading";
    dash.setAttribute("aria-busy", "true");
    $("reload").disabled = true;
    $("status").textContent = "正在加载 " + p.year + " 年数据（截至 " + p.as_of + "）… Loading…";
    showError($("dash-error"), null);
    var q = "/reports/rollup?year=" + encodeURIComponent(p.year) + "&as_of=" + encodeURIComponent(p.as_of);
    var fq = "/reports/forecast?year=" + encodeURIComponent(p.year) + "&as_of=" + encodeURIComponent(p.as_of);
    // The forecast grades the registry: shown beside each quota when it arrives, never blocking.
    var forecast = api(fq).catch(function (e) { if (e && e.status === 401) throw e; return null; });
    Promise.all([loadReference(), api(q)])
      .then(function (r) {
        if (seq !== state.seq) return;
        render(r[1], r[0], p);
        forecast.then(function (f) { if (seq === state.seq && f) renderForecast(f); });
        fillPoolTiers(r[0]);
        loadDrafts();
        state.shown = { year: r[1].year || p.year, as_of: r[1].as_of || p.as_of };
        try { history.replaceState(null, "", "#year=" + p.year + "&as_of=" + p.as_of); } catch (e) { /* ignore */ }
        var now = new Date();
        $("status").textContent = "已更新 Updated " + pad2(now.getHours()) + ":" + pad2(now.getMinutes()) + ":" + pad2(now.getSeconds()) +
          " · " + state.shown.year + " 年度，截至 as of " + state.shown.as_of;
        dash.dataset.state = "ready";
        dash.dataset.loaded = p.year + "|" + p.as_of;
      })
      .catch(function (e) {
        if (seq !== state.seq) return;
        dash.dataset.state = "error";
        if (e && e.status === 401) return;
        showError($("dash-error"), e);
        $("status").textContent = "";
      })
      .then(function () {
        if (seq !== state.seq) return;
        dash.removeAttribute("aria-busy");
        $("reload").disabled = false;
      });
  }

  function download(format) {
    var p = state.shown || params();
    if (!p) return;
    var btn = $("download-" + format);
    btn.disabled = true;
    var accept = format === "csv" ? "text/csv" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    var path = "/reports/rollup?year=" + encodeURIComponent(p.year) + "&as_of=" + encodeURIComponent(p.as_of) + "&format=" + format;
    $("status").textContent = "正在下载 Downloading " + format.toUpperCase() + "…";
    api(path, { raw: true, accept: accept + ", application/problem+json" })
      .then(function (res) { return res.blob(); })
      .then(function (blob) {
        var name = "ladder-rollup-" + p.year + "-" + p.as_of + "." + format;
        var url = URL.createObjectURL(blob);
        var a = h("a", { href: url, download: name, hidden: true });
        document.body.appendChild(a);
        a.click();
        document.body.removeChild(a);
        setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        $("status").textContent = "已下载 Downloaded " + name;
      })
      .catch(function (e) {
        if (e && e.status === 401) return;
        showError($("dash-error"), e);
        $("status").textContent = "";
      })
      .then(function () { btn.disabled = false; });
  }

  // ---------- labels ----------

  function tierLabel(ref, code) {
    var t = ref.tiers.get(code);
    return t ? { zh: t.label_zh || code, en: t.label_en || "" } : { zh: code, en: "" };
  }
  function quotaLabel(ref, q) {
    if (q.label_zh) return { zh: q.label_zh, en: q.label_en || "" };
    var ls = (q.tiers || []).map(function (c) { return tierLabel(ref, c); });
    return {
      zh: ls.map(function (l) { return l.zh; }).join(" + ") || String(q.id),
      en: ls.map(function (l) { return l.en; }).filter(Boolean).join(" + ")
    };
  }
  function measureLabel(m) { return m === "active" ? "在册 active" : "新增 new"; }
  function scopeLabel(ref, scope) {
    if (!scope || String(scope) === CITY_SCOPE) return "全市 City";
    var d = ref.districts.filter(function (x) { return x.code === String(scope); })[0];
    return d ? d.name_zh + " " + d.name_en : String(scope);
  }
  function labelNodes(l, cls) {
    return [l.zh, l.en ? h("span", { class: cls || "en" }, l.en) : null];
  }

  // ---------- rendering ----------

  function render(data, ref, p) {
    var quotas = Array.isArray(data.quotas) ? data.quotas : [];
    renderSummary(data, quotas, p);
    renderQuotas(quotas, ref);
    renderChart(data, quotas, ref, p);
    renderPipeline(quotas, ref);
    renderBreakdown($("by-district"), quotas, ref, "by_district", ref.districts,
      "行：区县；列：指标；数值为已完成数。 Rows: districts; columns: quotas; cells: achieved.", "区县 District");
    renderBreakdown($("by-cluster"), quotas, ref, "by_cluster", ref.clusters,
      "行：产业集群；列：指标；数值为已完成数。 Rows: industry clusters; columns: quotas; cells: achieved.", "产业集群 Cluster");
    var now = new Date();
    $("foot-note").textContent = "数据来源 Source: ladder /api/v1/reports/rollup · 年度 Year " + (data.year || p.year) +
      " · 截至 As of " + (data.as_of || p.as_of) + " · 生成于 Generated " + isoDate(now) + " " + pad2(now.getHours()) + ":" + pad2(now.getMinutes());
  }

  function elapsedShare(quotas, p) {
    for (var i = 0; i < quotas.length; i++) {
      var t = num(quotas[i].target);
      if (t > 0 && quotas[i].expected_by_now !== undefined && quotas[i].expected_by_now !== null) {
        return Math.min(1, Math.max(0, num(quotas[i].expected_by_now) / t));
      }
    }
    var start = Date.UTC(p.year, 0, 1), end = Date.UTC(p.year + 1, 0, 1);
    var d = Date.parse(p.as_of + "T00:00:00Z") + 86400000;
    return Math.min(1, Math.max(0, (d - start) / (end - start)));
  }

  function tile(label, value, unit, note, cls) {
    return h("div", { class: "tile" + (cls ? " " + cls : "") },
      h("div", { class: "tile-label" }, label),
      h("div", { class: "tile-value" }, value, unit ? h("small", null, unit) : null),
      note ? h("div", { class: "tile-note" }, note) : null);
  }

  function renderSummary(data, quotas, p) {
    var box = $("summary");
    clear(box);
    var onPace = quotas.filter(function (q) { return q.on_pace; }).length;
    var met = quotas.filter(function (q) { return num(q.achieved) >= num(q.target) && num(q.target) > 0; }).length;
    var sub = 0, rev = 0, pred = 0;
    quotas.forEach(function (q) {
      var pp = q.pipeline || {};
      sub += num(pp.submitted); rev += num(pp.under_review); pred += num(pp.predicted_eligible);
    });
    var share = elapsedShare(quotas, p);
    append(box, [
      tile("进度正常 On pace", String(onPace), "/ " + quotas.length + " 项",
        quotas.length - onPace > 0 ? (quotas.length - onPace) + " 项落后 behind pace" : "全部指标进度正常 all on pace",
        onPace === quotas.length ? "tile-ok" : "tile-bad"),
      tile("已完成目标 Targets met", String(met), "/ " + quotas.length + " 项", "完成率 ≥ 100%"),
      tile("时间进度 Year elapsed", (share * 100).toFixed(1), "%", "截至 as of " + (data.as_of || p.as_of)),
      tile("在途申报 In the pipeline", String(sub + rev), "件", "已提交 " + sub + " · 审核中 " + rev + " · 预计符合 " + pred)
    ]);
  }

  function renderQuotas(quotas, ref) {
    var box = $("quotas");
    clear(box);
    if (!quotas.length) {
      append(box, h("p", { class: "muted" }, "本年度尚未设定指标。 No quotas set for this year."));
      return;
    }
    quotas.forEach(function (q) {
      var id = String(q.id);
      var label = quotaLabel(ref, q);
      var target = num(q.target), achieved = num(q.achieved), expected = num(q.expected_by_now);
      var ratio = target > 0 ? achieved / target : 0;
      var behind = !q.on_pace;
      var titleId = "quota-title-" + id.replace(/[^A-Za-z0-9_-]/g, "_");
      var pp = q.pipeline || {};
      var gap = num(q.gap);

      var fill = h("div", { class: "bar-fill" + (ratio >= 1 ? " full" : "") });
      fill.style.width = (Math.min(1, Math.max(0, ratio)) * 100).toFixed(2) + "%";
      var bar = h("div", {
        class: "bar", role: "progressbar", "aria-labelledby": titleId,
        "aria-valuemin": 0, "aria-valuemax": 100,
        "aria-valuenow": Math.min(100, Math.max(0, num(q.percent))).toFixed(1),
        "aria-valuetext": "已完成 " + intText(q.achieved) + " / " + intText(q.target) + "，" + pctText(q.percent) +
          "%；应达 " + countText(expected) + "；" + (behind ? "落后" : "进度正常")
      }, fill);
      if (target > 0) {
        var pace = h("div", { class: "bar-pace", title: "应达进度 Expected by now: " + countText(expected) });
        pace.style.left = (Math.min(1, Math.max(0, expected / target)) * 100).toFixed(2) + "%";
        append(bar, pace);
      }

      var card = h("article", { class: "quota" + (behind ? " behind" : ""), dataset: { quotaId: id }, "aria-labelledby": titleId },
        h("div", { class: "quota-head" },
          h("div", null,
            h("h3", { class: "quota-title", id: titleId }, labelNodes(label)),
            h("div", { class: "quota-meta" },
              h("span", { class: "chip" }, measureLabel(q.measure)),
              h("span", { class: "chip" }, scopeLabel(ref, q.scope)))),
          h("span", { class: "badge " + (behind ? "badge-bad" : "badge-ok") }, behind ? "落后 · Behind" : "进度正常 · On pace")),
        h("div", { class: "quota-numbers" },
          h("div", { class: "quota-count" },
            h("span", { class: "big", dataset: { field: "achieved" } }, intText(q.achieved)),
            h("span", { class: "sep", "aria-hidden": "true" }, "/"),
            h("span", { class: "tgt", dataset: { field: "target" } }, intText(q.target)),
            " 家"),
          h("div", { class: "quota-pct" },
            h("span", { dataset: { field: "percent" } }, pctText(q.percent)),
            h("span", { class: "unit" }, "%"))),
        bar,
        h("div", { class: "pace-line" },
          h("span", null, "应达 Expected by now ", h("strong", null, countText(expected))),
          gap > 0
            ? h("span", null, "缺口 Gap ", h("strong", null, intText(q.gap)))
            : h("span", null, h("strong", null, "已完成目标 ✓ Target met"))),
        h("div", { class: "quota-pipe", "aria-label": "在途 Pipeline" },
          pipeCell(pp.submitted, "已提交", "submitted"),
          pipeCell(pp.under_review, "审核中", "under review"),
          pipeCell(pp.predicted_eligible, "预计符合", "predicted eligible")));
      append(box, card);
    });
  }

  // ---------- forecast, pool, impact (the officials' tools) ----------

  var VERDICTS = {
    on_track: ["预计完成", "On track", "badge-ok"],
    at_risk: ["存在风险", "At risk", "badge-warn"],
    off_track: ["预计无法完成", "Off track", "badge-bad"]
  };

  function renderForecast(f) {
    (f.quotas || []).forEach(function (q) {
      var card = document.querySelector('article.quota[data-quota-id="' + String(q.id).replace(/[^0-9]/g, "") + '"]');
      if (!card) return;
      var old = card.querySelector(".quota-forecast");
      if (old) old.parentNode.removeChild(old);
      var v = VERDICTS[q.verdict] || [q.verdict, "", ""];
      append(card, h("div", { class: "quota-forecast", dataset: { verdict: q.verdict } },
        h("span", { class: "badge " + v[2], title: f.verdict_rule || "" }, v[0] + " · " + v[1]),
        h("span", null, "预测年末 Projected ", h("strong", { dataset: { field: "projected" } }, intText(q.projected))),
        h("span", null, "可申报未申报 Eligible, not applied ",
          h("strong", null, q.eligible_not_applied === null ? "—" : intText(q.eligible_not_applied))),
        h("span", null, "差一项 One away ", h("strong", null, q.near_miss === null ? "—" : intText(q.near_miss)))));
    });
  }

  function fillPoolTiers(ref) {
    var sel = $("pool-tier");
    if (sel.options.length) return;
    ref.tiers.forEach(function (t, code) {
      if (t.has_rules === false) return;
      append(sel, h("option", { value: code }, (t.label_zh || code) + (t.label_en ? " · " + t.label_en : "")));
    });
    var pick = Array.prototype.filter.call(sel.options, function (o) { return o.value === "srdi_sme"; })[0];
    if (pick) sel.value = pick.value;
  }

  function poolAsOf() {
    var p = state.shown || params();
    return p ? p.as_of : todayIso();
  }

  function loadPool(ev) {
    if (ev) ev.preventDefault();
    var tier = $("pool-tier").value;
    var max = $("pool-max").value.trim();
    if (!tier) return;
    var panel = $("pool-panel");
    panel.dataset.state = "loading";
    $("pool-load").disabled = true;
    showError($("pool-error"), null);
    var path = "/cultivation?tier=" + encodeURIComponent(tier) + "&as_of=" + encodeURIComponent(poolAsOf()) +
      (max !== "" ? "&max_failed=" + encodeURIComponent(max) : "") + "&limit=100";
    api(path)
      .then(function (r) { renderPool(r); panel.dataset.state = "ready"; })
      .catch(function (e) {
        panel.dataset.state = "error";
        if (e && e.status === 401) return;
        showError($("pool-error"), e);
      })
      .then(function () { $("pool-load").disabled = false; });
  }

  function shortfallText(f) {
    var s = f.shortfall;
    if (!s) return f.criterion;
    var what = s.fact ? s.fact + (s.year ? " " + s.year : "") : "score";
    return f.criterion + "（" + what + "：" + (s.actual === null ? "未填报" : String(s.actual)) + " → " + String(s.needed) + "）";
  }

  var OUTCOMES = { eligible: "符合 Eligible", ineligible: "不符合 Ineligible", incomplete: "缺数据 Incomplete" };
  function outcomeText(o) { return OUTCOMES[o] || o; }

  function renderPool(r) {
    var dbox = $("pool-districts"), lbox = $("pool-list");
    clear(dbox); clear(lbox);
    var districts = (r.by_district || []).filter(function (d) { return d.total > 0; });
    append(dbox, h("table", { class: "grid", id: "pool-district-table" },
      h("caption", null, "共 " + r.total + " 家 · " + r.total + " enterprises in the pool (" + r.tier + ", " + r.as_of + ")"),
      h("thead", null, h("tr", null, th("区县", "District"), th("培育库", "In pool"), th("已符合", "Eligible"), th("差一项", "One away"))),
      h("tbody", null, districts.map(function (d) {
        return h("tr", { dataset: { district: d.code } },
          h("th", { scope: "row" }, d.name + " ", h("span", { class: "en" }, d.name_en)),
          h("td", null, String(d.total)), h("td", null, String(d.eligible)),
          h("td", { dataset: { field: "one_away" } }, h("strong", null, String(d.one_away))));
      }))));
    var items = r.items || [];
    if (!items.length) { append(lbox, h("p", { class: "muted" }, "没有符合条件的企业。 No enterprise matches.")); return; }
    var names = {};
    (r.by_district || []).forEach(function (d) { names[d.code] = d.name; });
    append(lbox, h("table", { class: "grid wrap", id: "pool-table" },
      h("thead", null, h("tr", null, th("序号", "#"), th("企业", "Enterprise"), th("区县", "District"), th("结果", "Outcome"),
        th("未达标", "Failed"), th("差距", "Shortfall"), th("未达标项", "Criteria"))),
      h("tbody", null, items.map(function (it, i) {
        return h("tr", { dataset: { enterpriseId: it.enterprise_id } },
          h("td", null, String(i + 1)), h("th", { scope: "row" }, it.name), h("td", null, names[it.district] || it.district), h("td", null, outcomeText(it.outcome)),
          h("td", null, String(it.distance.failed)), h("td", null, String(it.distance.shortfall)),
          h("td", null, (it.failed || []).map(shortfallText).join("；")));
      }))));
  }

  function loadDrafts() {
    var box = $("impact-drafts");
    api("/rulesets?status=draft&limit=50")
      .then(function (r) {
        clear(box);
        var drafts = listOf(r);
        if (!drafts.length) { append(box, h("p", { class: "muted" }, "暂无规则草案。 No draft rule sets.")); return; }
        append(box, h("ul", { class: "draft-list" }, drafts.map(function (d) {
          var btn = h("button", { type: "button", class: "btn btn-secondary", dataset: { ruleset: d.id } }, "查看影响 · Impact");
          btn.addEventListener("click", function () { loadImpact(d, btn); });
          return h("li", null, h("span", null, d.tier + " v" + d.version + " · " + d.name + " "), btn);
        })));
      })
      .catch(function (e) { if (e && e.status === 401) return; showError($("impact-error"), e); });
  }

  function loadImpact(d, btn) {
    var panel = $("impact-panel");
    panel.dataset.state = "loading";
    btn.disabled = true;
    showError($("impact-error"), null);
    api("/rulesets/" + encodeURIComponent(d.id) + "/impact", { method: "POST", body: { as_of: poolAsOf() } })
      .then(function (r) { renderImpact(r, d); panel.dataset.state = "ready"; })
      .catch(function (e) {
        panel.dataset.state = "error";
        if (e && e.status === 401) return;
        showError($("impact-error"), e);
      })
      .then(function () { btn.disabled = false; });
  }

  function renderImpact(r, d) {
    var box = $("impact-result");
    clear(box);
    var rows = (r.by_district || []).filter(function (x) { return x.gained || x.lost; });
    append(box, h("div", { class: "summary" },
      tile("草案 Draft", d.tier + " v" + d.version, "", "对比 against v" + (r.against && r.against.version) + " · " + r.as_of),
      tile("新增符合 Gained", String(r.gained), "家", null, "tile-ok"),
      tile("不再符合 Lost", String(r.lost), "家", null, r.lost ? "tile-bad" : ""),
      tile("不变 Unchanged", String(r.unchanged), "/ " + r.total, null)));
    append(box, h("table", { class: "grid", id: "impact-district-table" },
      h("thead", null, h("tr", null, th("区县", "District"), th("新增", "Gained"), th("减少", "Lost"))),
      h("tbody", null, rows.map(function (x) {
        return h("tr", null, h("th", { scope: "row" }, x.name), h("td", null, String(x.gained)), h("td", null, String(x.lost)));
      }))));
    var changed = r.changed || [];
    if (changed.length) {
      var names = {};
      (r.by_district || []).forEach(function (x) { names[x.code] = x.name; });
      append(box, h("table", { class: "grid wrap", id: "impact-changed" },
        h("caption", null, "变化的企业（最多 500 家）· Changed enterprises (at most 500)"),
        h("thead", null, h("tr", null, th("企业", "Enterprise"), th("区县", "District"), th("原", "From"), th("新", "To"), th("决定性条件", "Deciding"))),
        h("tbody", null, changed.slice(0, 100).map(function (c) {
          return h("tr", null, h("th", { scope: "row" }, c.name), h("td", null, names[c.district] || c.district), h("td", null, outcomeText(c.from)), h("td", null, outcomeText(c.to)),
            h("td", null, (c.deciding || []).join("，")));
        }))));
    }
  }

  function pipeCell(v, zh, en) {
    return h("div", { class: "pipe-cell" },
      h("span", { class: "n" }, intText(v === undefined || v === null ? 0 : v)),
      h("span", { class: "l" }, zh, h("br"), en));
  }

  function renderPipeline(quotas, ref) {
    var box = $("pipeline");
    clear(box);
    if (!quotas.length) return;
    var tot = { s: 0, r: 0, p: 0 };
    var rows = quotas.map(function (q) {
      var pp = q.pipeline || {};
      var s1 = num(pp.submitted), r1 = num(pp.under_review), p1 = num(pp.predicted_eligible);
      tot.s += s1; tot.r += r1; tot.p += p1;
      var target = num(q.target), achieved = num(q.achieved);
      var projected = achieved + p1;
      var short = Math.max(0, target - projected);
      var projPct = target > 0 ? (projected / target * 100).toFixed(1) + "%" : "—";
      var l = quotaLabel(ref, q);
      return h("tr", null,
        h("th", { scope: "row" }, l.zh, " ", h("span", { class: "en" }, measureLabel(q.measure))),
        h("td", null, intText(q.achieved) + " / " + intText(q.target)),
        h("td", { class: num(q.gap) > 0 ? "" : "zero" }, intText(q.gap)),
        h("td", { class: s1 ? "" : "zero" }, String(s1)),
        h("td", { class: r1 ? "" : "zero" }, String(r1)),
        h("td", { class: p1 ? "" : "zero" }, String(p1)),
        h("td", { class: short > 0 ? "bad" : "ok" }, projPct),
        h("td", { class: short > 0 ? "bad" : "ok" }, short > 0 ? String(short) : "✓ 0"));
    });
    var table = h("table", { class: "grid" },
      h("caption", null, "若在途申报中预计符合者全部获批，可达的完成率与仍差数量。 Projected: achieved + predicted eligible, and what would still be missing."),
      h("thead", null, h("tr", null,
        th("指标", "Quota"), th("已完成 / 目标", "Achieved / target"), th("缺口", "Gap"),
        th("已提交", "Submitted"), th("审核中", "Under review"), th("预计符合", "Predicted eligible"),
        th("预计完成率", "Projected"), th("仍差", "Still short"))),
      h("tbody", null, rows),
      h("tfoot", null, h("tr", null,
        h("th", { scope: "row" }, "合计 Total"), h("td"), h("td"),
        h("td", null, String(tot.s)), h("td", null, String(tot.r)), h("td", null, String(tot.p)), h("td"), h("td"))));
    append(box, h("div", { class: "table-wrap", tabindex: 0 }, table));
  }

  function th(zh, en) {
    return h("th", { scope: "col" }, zh, h("span", { class: "en" }, en));
  }

  function renderBreakdown(box, quotas, ref, key, refRows, caption, firstCol) {
    clear(box);
    if (!quotas.length) return;
    // Row order: the reference list, then any code the rollup names that it does not.
    var rows = [], seen = {};
    refRows.forEach(function (r) {
      rows.push({ code: r.code, zh: r.name_zh || r.code, en: r.name_en || "" });
      seen[r.code] = true;
    });
    quotas.forEach(function (q) {
      (q[key] || []).forEach(function (b) {
        if (!seen[b.code]) { seen[b.code] = true; rows.push({ code: b.code, zh: b.name || b.code, en: "" }); }
      });
    });
    var cells = quotas.map(function (q) {
      var m = {};
      (q[key] || []).forEach(function (b) { m[b.code] = (m[b.code] || 0) + num(b.achieved); });
      return m;
    });
    var colMax = cells.map(function (m) {
      return Object.keys(m).reduce(function (a, k) { return Math.max(a, m[k]); }, 0);
    });
    var sums = cells.map(function (m) { return Object.keys(m).reduce(function (a, k) { return a + m[k]; }, 0); });
    var others = quotas.map(function (q, i) { return Math.max(0, num(q.achieved) - sums[i]); });
    var anyOther = others.some(function (x) { return x > 0; });

    var head = h("tr", null, h("th", { scope: "col" }, firstCol),
      quotas.map(function (q) {
        var l = quotaLabel(ref, q);
        return h("th", { scope: "col" }, l.zh, h("span", { class: "en" }, measureLabel(q.measure)));
      }));
    var body = rows.map(function (r) {
      return h("tr", null,
        h("th", { scope: "row" }, r.zh, r.en ? [" ", h("span", { class: "en" }, r.en)] : null),
        quotas.map(function (q, i) { return valueCell(cells[i][r.code] || 0, colMax[i]); }));
    });
    if (anyOther) {
      body.push(h("tr", { class: "other" },
        h("th", { scope: "row" }, "未归类 ", h("span", { class: "en" }, "Unassigned")),
        others.map(function (v) { return valueCell(v, 0); })));
    }
    var foot = h("tr", null, h("th", { scope: "row" }, "合计 Total"),
      quotas.map(function (q, i) { return h("td", null, String(sums[i] + others[i])); }));
    append(box, h("table", { class: "grid" }, h("caption", null, caption), h("thead", null, head), h("tbody", null, body), h("tfoot", null, foot)));
  }

  function valueCell(v, max) {
    if (!v) return h("td", { class: "zero" }, "0");
    var td = h("td", null, String(v));
    // Heat-map tint: the larger the share of the column's largest value, the darker.
    if (max > 0) td.style.backgroundColor = "rgba(29, 111, 214, " + (0.06 + 0.34 * v / max).toFixed(3) + ")";
    return td;
  }

  // ---------- monthly chart (inline SVG) ----------

  function renderChart(data, quotas, ref, p) {
    var box = $("chart");
    clear(box);
    var monthly = Array.isArray(data.monthly) ? data.monthly.slice() : [];
    monthly.sort(function (a, b) { return a.month < b.month ? -1 : a.month > b.month ? 1 : 0; });
    if (!monthly.length || !quotas.length) {
      append(box, h("p", { class: "chart-empty" }, "暂无逐月数据。 No monthly data."));
      return;
    }
    var year = +(data.year || p.year);
    var series = quotas.map(function (q, i) {
      var t = num(q.target), id = String(q.id);
      var pts = [];
      monthly.forEach(function (m) {
        var mm = /^(\d{4})-(\d{2})$/.exec(m.month || "");
        if (!mm || !m.cumulative || !(id in m.cumulative)) return;
        var v = num(m.cumulative[id]);
        pts.push({ month: m.month, x: +mm[2], v: v, pct: t > 0 ? v / t * 100 : 0 });
      });
      return { q: q, label: quotaLabel(ref, q), color: PALETTE[i % PALETTE.length], pts: pts };
    });
    var maxPct = 100;
    series.forEach(function (sr) { sr.pts.forEach(function (pt) { maxPct = Math.max(maxPct, pt.pct); }); });
    var yMax = Math.ceil(maxPct / 25) * 25;

    var W = 1000, H = 380, L = 64, R = 24, T = 18, B = 46;
    var iw = W - L - R, ih = H - T - B;
    function X(m) { return L + (m / 12) * iw; }
    function Y(pct) { return T + ih - (pct / yMax) * ih; }

    var desc = series.map(function (sr) {
      var last = sr.pts[sr.pts.length - 1];
      return sr.label.zh + (last ? " " + last.pct.toFixed(1) + "%" : "");
    }).join("；");
    var svg = s("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-labelledby": "chart-svg-title chart-svg-desc", preserveAspectRatio: "xMidYMid meet" },
      s("title", { id: "chart-svg-title" }, year + " 年逐月累计完成率（占目标 %） Monthly cumulative, % of target"),
      s("desc", { id: "chart-svg-desc" }, desc));

    // Grid and y axis.
    var step = yMax > 200 ? 50 : 25;
    for (var g = 0; g <= yMax; g += step) {
      append(svg, s("line", { x1: L, x2: W - R, y1: Y(g), y2: Y(g), stroke: g === 100 ? "#8792a2" : "#e1e6ed", "stroke-width": g === 100 ? 1.5 : 1 }));
      append(svg, s("text", { x: L - 10, y: Y(g) + 5, "text-anchor": "end", "font-size": 15 }, g + "%"));
    }
    // x axis: month ends.
    append(svg, s("line", { x1: L, x2: W - R, y1: Y(0), y2: Y(0), stroke: "#5b6778", "stroke-width": 1.5 }));
    for (var m = 1; m <= 12; m++) {
      append(svg, s("line", { x1: X(m), x2: X(m), y1: Y(0), y2: Y(0) + 6, stroke: "#5b6778" }));
      append(svg, s("text", { x: X(m), y: H - B + 26, "text-anchor": "middle", "font-size": 15 }, m + "月"));
    }
    // Linear pace: 0 at 1 January, 100% at 31 December.
    append(svg, s("line", { x1: X(0), y1: Y(0), x2: X(12), y2: Y(100), stroke: "#5b6778", "stroke-width": 2, "stroke-dasharray": "7 6" }));
    // Report date.
    var am = /^(\d{4})-(\d{2})-(\d{2})$/.exec(data.as_of || p.as_of);
    if (am && +am[1] === year) {
      var ax = X(+am[2] - 1 + (+am[3]) / daysInMonth(year, +am[2]));
      append(svg, s("line", { x1: ax, x2: ax, y1: T, y2: Y(0), stroke: "#b3261e", "stroke-width": 1.5, "stroke-dasharray": "3 4" }));
      append(svg, s("text", { x: ax - 6, y: T + 14, "text-anchor": "end", "font-size": 14, fill: "#b3261e" }, "报告日 " + am[0]));
    }
    // Series.
    series.forEach(function (sr) {
      if (!sr.pts.length) return;
      var d = sr.pts.map(function (pt, i) { return (i ? "L" : "M") + X(pt.x).toFixed(1) + " " + Y(pt.pct).toFixed(1); }).join(" ");
      var gEl = s("g", null, s("path", { d: d, fill: "none", stroke: sr.color, "stroke-width": 3.5, "stroke-linejoin": "round", "stroke-linecap": "round" }));
      sr.pts.forEach(function (pt) {
        append(gEl, s("circle", { cx: X(pt.x), cy: Y(pt.pct), r: 4.5, fill: "#fff", stroke: sr.color, "stroke-width": 2.5 },
          s("title", null, sr.label.zh + " " + pt.month + "：" + countText(pt.v) + " / " + intText(sr.q.target) + "（" + pt.pct.toFixed(1) + "%）")));
      });
      append(svg, gEl);
    });
    append(box, svg);

    // Legend with the latest value.
    var legend = h("ul", { class: "chart-legend" },
      series.map(function (sr) {
        var sw = h("span", { class: "sw", "aria-hidden": "true" });
        sw.style.background = sr.color;
        var last = sr.pts[sr.pts.length - 1];
        return h("li", null, sw, h("span", null, sr.label.zh + " · " + measureLabel(sr.q.measure) + (last ? "  " + last.pct.toFixed(1) + "%" : "")));
      }),
      h("li", null, h("span", { class: "sw dash", "aria-hidden": "true" }), h("span", null, "均衡进度 Even pace")));
    append(box, legend);

    // The numbers behind the chart, for screen readers and for checking.
    var table = h("table", { class: "grid" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "月份 Month"),
        series.map(function (sr) { return h("th", { scope: "col" }, sr.label.zh); }))),
      h("tbody", null, monthly.map(function (mo) {
        return h("tr", null, h("th", { scope: "row" }, mo.month),
          series.map(function (sr) {
            var v = mo.cumulative ? mo.cumulative[String(sr.q.id)] : undefined;
            return h("td", null, v === undefined ? "—" : intText(v));
          }));
      })));
    append(box, h("details", { class: "chart-data" }, h("summary", null, "查看逐月数据表 · Show the monthly numbers"), h("div", { class: "table-wrap", tabindex: 0 }, table)));
  }

  // ---------- start ----------

  function init() {
    $("signin-form").addEventListener("submit", onSignIn);
    $("signout").addEventListener("click", onSignOut);
    $("controls").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
    $("ctl-year").addEventListener("change", onYearChange);
    $("ctl-asof").addEventListener("change", onDateChange);
    $("download-csv").addEventListener("click", function () { download("csv"); });
    $("download-xlsx").addEventListener("click", function () { download("xlsx"); });
    $("print").addEventListener("click", function () { window.print(); });
    $("pool-form").addEventListener("submit", loadPool);
    readHash();
    if (store.access) toDashboard();
    else toSignIn(null);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
