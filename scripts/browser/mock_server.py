#!/usr/bin/env python3
"""A tiny stand-in for ladder, for working on the dashboard without the Rust service.

Serves src/web/dashboard.{html,css,js} at /dashboard, /dashboard/dashboard.css and
/dashboard/dashboard.js (with a strict Content-Security-Policy, as ladder may send) and fakes
the API calls the dashboard makes, in the shapes of /work/shared/API.md:

    POST /api/v1/auth/login | refresh | logout     GET /api/v1/tiers | districts | clusters | me
    GET  /api/v1/reports/rollup?year=&as_of=[&format=csv|xlsx]              GET /readyz

Demo credentials are those of fixtures/demo/users.csv (official1 / demo-official1-2025!).
Python 3.11 standard library only.

    python3 scripts/browser/mock_server.py --port 8099 [--token-ttl 600]
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import io
import json
import random
import secrets
import sys
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "web"

USERS = {"official1": "demo-official1-2025!", "official2": "demo-official2-2025!", "admin": "demo-admin-2025!"}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

DISTRICTS = [
    ("210102", "和平区", "Heping District"), ("210103", "沈河区", "Shenhe District"),
    ("210104", "大东区", "Dadong District"), ("210105", "皇姑区", "Huanggu District"),
    ("210106", "铁西区", "Tiexi District"), ("210111", "苏家屯区", "Sujiatun District"),
    ("210112", "浑南区", "Hunnan District"), ("210113", "沈北新区", "Shenbei New District"),
    ("210114", "于洪区", "Yuhong District"), ("210115", "辽中区", "Liaozhong District"),
    ("210123", "康平县", "Kangping County"), ("210124", "法库县", "Faku County"),
    ("210181", "新民市", "Xinmin City"),
]
DISTRICT_WEIGHTS = [6, 7, 6, 5, 22, 4, 24, 8, 9, 3, 1, 1, 4]
CLUSTERS = [
    ("robotics", "机器人及智能制造", "Robotics and intelligent manufacturing"),
    ("aviation", "航空", "Aviation"), ("machine_tools", "工业母机", "Machine tools"),
    ("equipment", "高端装备", "High-end equipment"), ("auto", "汽车及零部件", "Automobiles and parts"),
    ("food", "食品", "Food"), ("it", "新一代信息技术", "New-generation information technology"),
    ("biomed", "生物医药及医疗装备", "Biomedicine and medical equipment"),
    ("ic", "集成电路", "Integrated circuits"), ("materials", "新材料", "New materials"),
    ("ai", "人工智能", "Artificial intelligence (the \"+1\")"),
]
CLUSTER_WEIGHTS = [14, 5, 8, 16, 15, 6, 12, 7, 3, 7, 5]
TIERS = [
    ("innovative_sme", "创新型中小企业", "Innovative SME"),
    ("tech_sme", "科技型中小企业", "Technology-based SME"),
    ("tech_innovative_sme", "科技和创新型中小企业", "Technology and innovative SME"),
    ("srdi_sme", "专精特新中小企业", "Specialised, refined, distinctive and innovative (SRDI) SME"),
    ("little_giant", "专精特新“小巨人”企业", "SRDI \"Little Giant\""),
    ("single_champion", "制造业单项冠军企业", "Manufacturing single champion"),
    ("smart_factory_basic", "基础级智能工厂", "Smart factory, basic"),
    ("smart_factory_advanced", "先进级智能工厂", "Smart factory, advanced"),
    ("smart_factory_excellent", "卓越级智能工厂", "Smart factory, excellent"),
    ("smart_factory_leading", "领航级智能工厂", "Smart factory, leading"),
    ("innovation_points", "创新积分制", "Innovation points"),
    ("digital_transformation", "智改数转", "Intelligent and digital transformation"),
    ("industrial_design_center", "工业设计中心", "Industrial design centre"),
]

# (tiers, measure, target, baseline at 1 January, [(month, day, count), ...] issued in the year,
#  pipeline (submitted, under_review, predicted_eligible))
PLAN = [
    (["little_giant"], "new", 10, 0, [(7, 18, 8)], (2, 3, 2)),
    (["srdi_sme"], "new", 100, 0, [(4, 20, 38), (9, 12, 44), (12, 15, 9)], (12, 9, 14)),
    (["single_champion"], "new", 5, 0, [(11, 28, 3)], (1, 1, 1)),
    (["smart_factory_advanced"], "new", 15, 0, [(6, 6, 6), (10, 24, 8)], (3, 2, 3)),
    (["smart_factory_excellent", "smart_factory_leading"], "new", 2, 0, [(9, 3, 2)], (0, 1, 0)),
    (["tech_sme"], "active", 30000, 21480, [(m, 28, 0) for m in range(1, 13)], (420, 260, 510)),
    (["digital_transformation"], "active", 700, 418, [(m, 25, 0) for m in range(1, 13)], (36, 22, 40)),
    (["industrial_design_center"], "active", 50, 41, [(8, 30, 4)], (3, 0, 2)),
]
MONTHLY_ACTIVE_GAIN = {"tech_sme": 860, "digital_transformation": 27}

TOKENS: dict[str, tuple[str, float]] = {}   # access token -> (user, expiry)
REFRESH: dict[str, str] = {}                # live refresh token -> user


def events(plan_row, year: int) -> list[tuple[dt.date, int]]:
    tiers, _measure, _target, _base, evs, _pipe = plan_row
    gain = MONTHLY_ACTIVE_GAIN.get(tiers[0])
    rnd = random.Random(f"{year}-{tiers[0]}")
    out = []
    for m, d, n in evs:
        if gain:
            n = int(gain * rnd.uniform(0.7, 1.3))
        out.append((dt.date(year, m, d), n))
    return out


def allocate(total: int, weights: list[int], salt: str) -> list[int]:
    """Largest-remainder split of total over weights, deterministically jittered."""
    rnd = random.Random(salt)
    w = [x * rnd.uniform(0.6, 1.4) for x in weights]
    s = sum(w)
    raw = [total * x / s for x in w]
    base = [int(r) for r in raw]
    rest = total - sum(base)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - base[i], reverse=True)[:rest]:
        base[i] += 1
    return base


def rollup(year: int, as_of: dt.date) -> dict:
    days = 366 if calendar.isleap(year) else 365
    elapsed = min(days, max(0, (as_of - dt.date(year, 1, 1)).days + 1)) / days
    quotas, series = [], []
    for i, row in enumerate(PLAN, start=1):
        tiers, measure, target, base, _evs, pipe = row
        evs = events(row, year)
        achieved = base + sum(n for d, n in evs if d <= as_of)
        expected = round(target * elapsed, 2)
        qid = year * 100 + i
        by_d = allocate(achieved, DISTRICT_WEIGHTS, f"d{qid}")
        in_clusters = int(achieved * 0.9)
        by_c = allocate(in_clusters, CLUSTER_WEIGHTS, f"c{qid}")
        quotas.append({
            "id": qid, "scope": "210100", "tiers": tiers, "measure": measure, "target": target,
            "achieved": achieved, "gap": max(0, target - achieved),
            "percent": round(achieved * 100 / target, 1), "expected_by_now": expected,
            "on_pace": achieved >= expected,
            "pipeline": {"submitted": pipe[0], "under_review": pipe[1], "predicted_eligible": pipe[2]},
            "by_district": [{"code": c, "name": zh, "achieved": n} for (c, zh, _), n in zip(DISTRICTS, by_d) if n],
            "by_cluster": [{"code": c, "name": zh, "achieved": n} for (c, zh, _), n in zip(CLUSTERS, by_c) if n],
        })
        series.append((qid, base, evs))
    monthly = []
    last_month = as_of.month if as_of.year == year else (12 if as_of.year > year else 0)
    for m in range(1, last_month + 1):
        end = min(dt.date(year, m, calendar.monthrange(year, m)[1]), as_of)
        monthly.append({"month": f"{year}-{m:02d}",
                        "cumulative": {str(qid): base + sum(n for d, n in evs if d <= end) for qid, base, evs in series}})
    return {"year": year, "as_of": as_of.isoformat(), "quotas": quotas, "monthly": monthly}


def tier_label(code: str) -> str:
    return next((zh for c, zh, _ in TIERS if c == code), code)


def rollup_csv(body: dict) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["指标", "口径", "目标", "已完成", "缺口", "完成率(%)", "应达", "进度", "已提交", "审核中", "预计符合"])
    for q in body["quotas"]:
        p = q["pipeline"]
        w.writerow([" + ".join(tier_label(t) for t in q["tiers"]), "新增" if q["measure"] == "new" else "在册",
                    q["target"], q["achieved"], q["gap"], q["percent"], q["expected_by_now"],
                    "进度正常" if q["on_pace"] else "落后", p["submitted"], p["under_review"], p["predicted_eligible"]])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def rollup_xlsx(body: dict) -> bytes:
    """A placeholder zip (the real XLSX comes from ladder); enough to test the download path."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mock.txt", "mock xlsx for " + body["as_of"])
    return out.getvalue()


class Handler(BaseHTTPRequestHandler):
    server_version = "ladder-mock/1"
    token_ttl = 600.0

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:  # type: ignore[attr-defined]
            sys.stderr.write("mock: " + fmt % args + "\n")

    # -- responses --
    def send(self, status: int, body: bytes, ctype: str, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def json(self, status: int, obj):
        self.send(status, json.dumps(obj, ensure_ascii=False).encode(), "application/json")

    def problem(self, status: int, title: str, detail: str, errors=None, extra=None):
        doc = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        if errors:
            doc["errors"] = errors
        self.send(status, json.dumps(doc, ensure_ascii=False).encode(), "application/problem+json", extra)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(n) or b"null")
        except ValueError:
            return None

    def user(self):
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else ""
        entry = TOKENS.get(tok)
        if not entry or entry[1] < time.time():
            self.problem(401, "Unauthorized", "missing, invalid or expired access token")
            return None
        return entry[0]

    def tokens(self, user: str):
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        TOKENS[access] = (user, time.time() + self.token_ttl)
        REFRESH[refresh] = user
        self.json(200, {"access_token": access, "token_type": "Bearer", "expires_in": int(self.token_ttl),
                        "refresh_token": refresh})

    # -- routes --
    def do_GET(self):
        url = urlsplit(self.path)
        path, q = url.path, parse_qs(url.query)
        static = {"/dashboard": ("dashboard.html", "text/html; charset=utf-8"),
                  "/dashboard/": ("dashboard.html", "text/html; charset=utf-8"),
                  "/dashboard/dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
                  "/dashboard/dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8")}
        if path in static:
            name, ctype = static[path]
            return self.send(200, (WEB / name).read_bytes(), ctype, {"Content-Security-Policy": CSP})
        if path in ("/healthz", "/readyz"):
            return self.json(200, {"status": "ok"})
        if not path.startswith("/api/v1/"):
            return self.problem(404, "Not Found", f"no route for {path}")
        user = self.user()
        if user is None:
            return
        if path == "/api/v1/me":
            return self.json(200, {"id": 1, "kind": "user", "username": user, "role": "official", "enterprise": None})
        if path == "/api/v1/tiers":
            return self.json(200, [{"code": c, "label_zh": zh, "label_en": en, "level": 1, "prerequisite": None,
                                    "validity_years": 3, "certifier": "province", "has_rules": True} for c, zh, en in TIERS])
        if path == "/api/v1/districts":
            return self.json(200, [{"code": c, "name_zh": zh, "name_en": en, "kind": "district"} for c, zh, en in DISTRICTS])
        if path == "/api/v1/clusters":
            return self.json(200, [{"code": c, "name_zh": zh, "name_en": en, "confirmed": True} for c, zh, en in CLUSTERS])
        if path == "/api/v1/reports/rollup":
            year_s, as_of_s = (q.get("year") or [""])[0], (q.get("as_of") or [""])[0]
            if not year_s.isdigit() or not 2000 <= int(year_s) <= 2100:
                return self.problem(400, "Bad Request", "year must be a year between 2000 and 2100",
                                    [{"field": "year", "code": "invalid", "message": "not a year"}])
            year = int(year_s)
            try:
                as_of = dt.date.fromisoformat(as_of_s) if as_of_s else dt.date.today()
            except ValueError:
                return self.problem(400, "Bad Request", "as_of must be a date (YYYY-MM-DD)",
                                    [{"field": "as_of", "code": "invalid_date", "message": "not a date"}])
            body = rollup(year, as_of)
            fmt = (q.get("format") or [""])[0]
            if fmt == "csv":
                return self.send(200, rollup_csv(body), "text/csv; charset=utf-8")
            if fmt == "xlsx":
                return self.send(200, rollup_xlsx(body), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            if fmt:
                return self.problem(400, "Bad Request", f"unknown format {fmt!r}; use csv or xlsx")
            return self.json(200, body)
        return self.problem(404, "Not Found", f"no route for {path}")

    def do_POST(self):
        path = urlsplit(self.path).path
        body = self.body()
        if path == "/api/v1/auth/login":
            if not isinstance(body, dict) or set(body) != {"username", "password"}:
                return self.problem(400, "Bad Request", "expected {username, password}")
            if USERS.get(body["username"]) != body["password"]:
                return self.problem(401, "Unauthorized", "invalid username or password")
            return self.tokens(body["username"])
        if path == "/api/v1/auth/refresh":
            rt = body.get("refresh_token") if isinstance(body, dict) else None
            user = REFRESH.pop(rt, None) if rt else None
            if not user:
                return self.problem(401, "Unauthorized", "refresh token is invalid, expired or already used")
            return self.tokens(user)
        if path == "/api/v1/auth/logout":
            if self.user() is None:
                return
            if isinstance(body, dict):
                REFRESH.pop(body.get("refresh_token"), None)
            self.send_response(204)
            self.end_headers()
            return
        return self.problem(404, "Not Found", f"no route for {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8099)
    ap.add_argument("--token-ttl", type=float, default=600.0, help="access token lifetime in seconds")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    Handler.token_ttl = a.token_ttl
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.verbose = a.verbose  # type: ignore[attr-defined]
    print(f"mock ladder listening on http://{a.host}:{a.port}/dashboard", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
