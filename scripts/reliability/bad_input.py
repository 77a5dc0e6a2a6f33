"""Bad input: the corpus in tests/bad_input/ against a running release build.

  * http_cases.json: malformed JSON, wrong types, huge numbers, 10^6-element arrays, deep
    nesting, invalid UTF-8, bad paths, queries and headers (payloads/ holds the bodies; the
    big ones are generated here);
  * fragments.txt: SQL, script and template fragments put into every text field of the
    request bodies below (and a NUL byte, and a 100,000-character string);
  * csv_cases.json + csv/: `ladder import enterprises|facts|certifications FILE` on broken files.

Each HTTP case must be answered 4xx with a problem document (Content-Type
application/problem+json, fields type/title/status/detail, status = the HTTP status) and
leave every table as it was; free-text fields (names, passwords, labels, search) may instead
be accepted (2xx) if the value is stored exactly as sent. The server must stay up (healthz
after every case, and the same pid at the end). Each CSV import must exit non-zero, name the
broken lines, and write nothing.

usage: bad_input.py [--backend sqlite|postgres]
"""

import argparse
import json
import os
import sqlite3
import subprocess
import time

import requests

import common
from common import log

CORPUS = os.path.join(common.ROOT, "tests", "bad_input")
FREE_TEXT = {"name", "password", "label_zh", "label_en", "reason", "comment", "note", "q"}
NOT_DATA = {"login_failures", "idempotency_keys", "__diesel_schema_migrations", "sqlite_sequence"}


class Counts:
    def __init__(self, backend, url):
        self.backend, self.url = backend, url
        if backend == "sqlite":
            con = sqlite3.connect(url)
            self.tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'") if r[0] not in NOT_DATA]
            con.close()
        else:
            out = common.psql("SELECT tablename FROM pg_tables WHERE schemaname='public'", url)
            self.tables = [t for t in out.split() if t not in NOT_DATA]

    def newest_actions(self, n):
        sql = f"SELECT action FROM audit_log ORDER BY id DESC LIMIT {int(n)}"
        if self.backend == "sqlite":
            con = sqlite3.connect(self.url, timeout=30)
            try:
                return [r[0] for r in con.execute(sql).fetchall()]
            finally:
                con.close()
        import psycopg

        if not hasattr(self, "pg"):
            self.pg = psycopg.connect(self.url, autocommit=True)
        return [r[0] for r in self.pg.execute(sql).fetchall()]

    def snapshot(self):
        sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {t}" for t in self.tables)
        if self.backend == "sqlite":
            con = sqlite3.connect(self.url, timeout=30)
            try:
                return dict(con.execute(sql).fetchall())
            finally:
                con.close()
        import psycopg

        if not hasattr(self, "pg"):
            self.pg = psycopg.connect(self.url, autocommit=True)
        return dict(self.pg.execute(sql).fetchall())


# A refused login is audited by contract (API.md "Accounts and clients": failed logins and
# lockouts go to the audit trail), so a 401/429 from /auth/login may add login.* audit rows
# and nothing else.
AUDITED_REFUSALS = {"/api/v1/auth/login": ("login.failed", "login.locked")}


def unexpected_writes(counts, before, after, path, status):
    changed = [t for t in before if before[t] != after.get(t)]
    allowed = AUDITED_REFUSALS.get(path.split("?")[0])
    if allowed and status in (401, 429) and changed == ["audit_log"]:
        added = after["audit_log"] - before["audit_log"]
        actions = counts.newest_actions(added)
        if actions and all(a in allowed for a in actions):
            return ""
        return f"4xx wrote audit rows {actions} (only {list(allowed)} are expected)"
    if changed:
        return f"4xx but wrote {[(t, before[t], after.get(t)) for t in changed]}"
    return ""


def generate(kind):
    if kind == "facts_array_1e6":
        return '{"facts": {"operating_revenue": [' + ",".join(["0"] * 1_000_000) + "]}}"
    if kind == "facts_array_200k":
        return '{"facts": {"operating_revenue": [' + ",".join(["0"] * 200_000) + "]}}"
    if kind == "deep_array_100k":
        return '{"facts": {"operating_revenue": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    if kind == "oversize_2mib":
        return '{"facts": {"operating_revenue": "' + "9" * (2 << 20) + '"}}'
    if kind == "holds_1e6":
        return json.dumps({"tier": "little_giant", "as_of": "2026-06-01", "facts": {"2025": {}}, "holds": ["a"] * 1_000_000})
    if kind == "holds_100k":
        return json.dumps({"tier": "little_giant", "as_of": "2026-06-01", "facts": {"2025": {}}, "holds": ["srdi_sme"] * 100_000})
    if kind == "facts_years_20k":
        return json.dumps({"tier": "little_giant", "as_of": "2026-06-01", "facts": {str(1000 + i): {"employees": 1} for i in range(20_000)}})
    if kind == "quota_tiers_10k":
        return json.dumps({"year": 2027, "scope": "210106", "tiers": ["little_giant"] * 10_000, "measure": "new", "target": 1})
    if kind == "import_items_20k":
        item = {"uscc": "bad", "tier": "srdi_sme", "number": "X", "issued_on": "2024-01-01", "valid_from": "2024-01-01", "valid_to": "2026-12-31"}
        return json.dumps({"items": [item] * 20_000})
    raise ValueError(kind)


def check_problem(r):
    """'' if r is a 4xx problem document, else what is wrong."""
    if not 400 <= r.status_code < 500:
        return f"status {r.status_code}"
    ct = r.headers.get("content-type", "")
    if not ct.startswith("application/problem+json"):
        return f"{r.status_code} with content-type {ct!r}"
    try:
        b = r.json()
    except ValueError:
        return f"{r.status_code} body is not JSON: {r.text[:100]!r}"
    missing = [k for k in ("type", "title", "status", "detail") if k not in b]
    if missing:
        return f"{r.status_code} problem without {missing}"
    if b["status"] != r.status_code:
        return f"problem status {b['status']} != HTTP {r.status_code}"
    return ""


def uscc(n):
    a, w = "0123456789ABCDEFGHJKLMNPQRTUWXY", [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = f"91210106{n:09d}"
    s = sum(a.index(c) * k for c, k in zip(body, w))
    return body + a[(31 - s % 31) % 31]


def text_cases(ctx, fragments):
    """(name, method, path, role, body dict, field, headers) with each fragment in each text field."""
    n = [900_000]

    def fresh():
        n[0] += 1
        return n[0]

    bases = [
        ("login", "POST", "/api/v1/auth/login", "anonymous", lambda: {"username": "admin", "password": "wrong-password"}, ["username", "password"], {}),
        ("register", "POST", "/api/v1/auth/register", "anonymous",
         lambda: {"username": f"bi{fresh()}", "password": "bad-input-password-1", "uscc": uscc(n[0]), "name": f"沈阳坏输入{n[0]}有限公司",
                  "district_code": "210106", "cluster_code": "equipment"},
         ["username", "password", "uscc", "name", "district_code", "cluster_code"], {}),
        ("create enterprise", "POST", "/api/v1/enterprises", "admin",
         lambda: {"uscc": uscc(fresh()), "name": f"沈阳坏输入{n[0]}有限公司", "district_code": "210106", "cluster_code": "equipment"},
         ["uscc", "name", "district_code", "cluster_code"], {}),
        ("patch enterprise", "PATCH", f"/api/v1/enterprises/{ctx['enterprise']}", "admin", lambda: {"name": "沈阳改名有限公司", "district_code": "210106"},
         ["name", "district_code"], {"If-Match": "*"}),
        ("create user", "POST", "/api/v1/users", "admin", lambda: {"username": f"bu{fresh()}", "password": "bad-input-password-1", "role": "official"},
         ["username", "password", "role"], {}),
        ("create client", "POST", "/api/v1/clients", "admin", lambda: {"name": f"client {fresh()}", "role": "official"}, ["name", "role"], {}),
        ("create application", "POST", "/api/v1/applications", "admin", lambda: {"enterprise_id": ctx["enterprise"], "tier": "srdi_sme", "year": 2026}, ["tier"], {}),
        ("evaluation", "POST", "/api/v1/evaluations", "enterprise",
         lambda: {"tier": "little_giant", "as_of": "2026-06-01", "facts": {"2025": {"operating_revenue": "1"}}, "holds": ["srdi_sme"]}, ["tier", "as_of", "holds.0", "facts.2025.operating_revenue"], {}),
        ("facts", "PUT", f"/api/v1/enterprises/{ctx['enterprise']}/facts/2024", "admin", lambda: {"facts": {"operating_revenue": "1", "employees": 3}},
         ["facts.operating_revenue", "facts.employees"], {}),
        ("quota", "POST", "/api/v1/quotas", "admin",
         lambda: {"year": 2040 + fresh() % 50, "scope": "210106", "tiers": ["little_giant"], "measure": "new", "target": 3, "label_zh": "指标", "label_en": "target"},
         ["scope", "tiers.0", "measure", "label_zh", "label_en"], {}),
        ("tie", "POST", f"/api/v1/reviewers/{ctx['reviewer_id']}/ties", "admin", lambda: {"enterprise_id": ctx["enterprise"] + fresh() % 300 + 1, "note": "tie"}, ["note"], {}),
    ]
    out = []
    for name, method, path, role, make, fields, headers in bases:
        for field in fields:
            for frag in fragments:
                body = make()
                cur = body
                keys = field.split(".")
                for k in keys[:-1]:
                    cur = cur[int(k)] if isinstance(cur, list) else cur[k]
                last = keys[-1]
                if isinstance(cur, list):
                    cur[int(last)] = frag
                else:
                    cur[last] = frag
                out.append((f"{name}.{field}={frag[:20]!r}", method, path, role, body, last, headers))
    queries = [("/api/v1/enterprises", "q"), ("/api/v1/enterprises", "district"), ("/api/v1/enterprises", "cluster"), ("/api/v1/enterprises", "tier"),
               ("/api/v1/certifications", "tier"), ("/api/v1/certifications", "district"), ("/api/v1/applications", "tier"), ("/api/v1/rulesets", "tier"),
               ("/api/v1/audit", "entity"), ("/api/v1/reports/rollup?year=2025", "by")]
    for path, param in queries:
        for frag in fragments:
            out.append((f"GET {path}?{param}={frag[:20]!r}", "GET", path, "admin", {"__query__": {param: frag}}, "q", {}))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="sqlite,postgres")
    args = ap.parse_args()
    started = time.time()
    ok, parts = True, []
    for backend in args.backends.split(","):
        good, figures = run(backend)
        ok = ok and good
        parts.append(f"{backend}: {figures}")
    return common.verdict("bad_input", ok, "; ".join(parts) + f"; {time.time() - started:.0f} s")


def run(backend):
    class args:
        pass

    args.backend = backend
    started = time.time()
    pgname = None
    if args.backend == "sqlite":
        url = common.sqlite_db("bad_input")
    else:
        if not common.pg_available():
            return False, "PostgreSQL not reachable"
        pgname, url = common.pg_db("ladder_bad_input")
    failures, tried, accepted = [], 0, 0
    try:
        common.seeded(url)
        server = common.Server(url, log_name=f"bad_input-{args.backend}.log").start()
        pid = server.pid()
        tok = common.tokens(server.base)
        tok["anonymous"] = None
        me = requests.get(server.base + "/api/v1/me", headers={"Authorization": f"Bearer {tok['enterprise']}"}, timeout=10).json()
        rv = requests.get(server.base + "/api/v1/me", headers={"Authorization": f"Bearer {tok['reviewer']}"}, timeout=10).json()
        ctx = {"enterprise": me["enterprise"]["id"], "reviewer_id": rv["id"]}
        # A published rule set, for the case-run inputs of issue 11 (`{ruleset}` in paths).
        published = requests.get(server.base + "/api/v1/rulesets", params={"status": "published"},
                                 headers={"Authorization": f"Bearer {tok['admin']}"}, timeout=10).json()
        ctx["ruleset"] = published["items"][0]["id"]
        # A draft application of the enterprise, for the evidence cases (`{application}`).
        made = requests.post(server.base + "/api/v1/applications", json={"enterprise_id": ctx["enterprise"], "tier": "tech_sme", "year": 2017},
                             headers={"Authorization": f"Bearer {tok['enterprise']}"}, timeout=30)
        made.raise_for_status()
        ctx["application"] = made.json()["id"]
        counts = Counts(args.backend, url)

        def send(method, path, role, data, content_type="application/json", headers=None, params=None):
            h = dict(headers or {})
            if tok.get(role):
                h["Authorization"] = f"Bearer {tok[role]}"
            if content_type:
                h["Content-Type"] = content_type
            return requests.request(method, server.base + path, data=data, headers=h, params=params, timeout=120)

        def up():
            try:
                return requests.get(server.base + "/healthz", timeout=10).status_code == 200
            except requests.RequestException:
                return False

        # 1. The HTTP corpus.
        cases = json.load(open(os.path.join(CORPUS, "http_cases.json")))
        for case in cases:
            path = (case["path"].replace("{enterprise}", str(ctx["enterprise"])).replace("{ruleset}", str(ctx["ruleset"]))
                    .replace("{application}", str(ctx["application"])))
            if "payload" in case:
                data = open(os.path.join(CORPUS, "payloads", case["payload"]), "rb").read()
            elif "generate" in case:
                data = generate(case["generate"]).encode()
            elif "body" in case:
                data = case["body"].replace("{enterprise}", str(ctx["enterprise"])).encode()
            else:
                data = None
            before = counts.snapshot()
            ct = case.get("content_type", "application/json") if data is not None else None
            tried += 1
            try:
                r = send(case["method"], path, case["role"], data, ct, case.get("headers"))
                bad = check_problem(r)
                if bad and case.get("allow_2xx") and 200 <= r.status_code < 300:
                    bad = ""  # documented in the case: a lenient answer that writes nothing
                if bad and case.get("http_layer") and 400 <= r.status_code < 500:
                    bad = ""  # answered by the HTTP layer before the application: 4xx, not a problem document
                if bad:
                    failures.append(f"{case['name']}: {bad}: {r.text[:200]}")
            except requests.RequestException as e:
                failures.append(f"{case['name']}: no answer: {e}")
            after = counts.snapshot()
            if before != after:
                failures.append(f"{case['name']}: wrote {[(t, before[t], after[t]) for t in before if before[t] != after.get(t)]}")
            if not up():
                failures.append(f"{case['name']}: the server is down")
                server.start()
        http_tried = tried

        # 2. Fragments in every text field.
        fragments = [f for f in open(os.path.join(CORPUS, "fragments.txt"), encoding="utf-8").read().split("\n") if f]
        fragments += ["nul\u0000byte", "x" * 100_000]
        for name, method, path, role, body, field, headers in text_cases(ctx, fragments):
            if "__query__" in body:  # request heads over ~32 KiB are the HTTP layer's (see http_cases.json)
                body = {"__query__": {k: v[:20_000] for k, v in body["__query__"].items()}}
            before = counts.snapshot()
            tried += 1
            if "__query__" in body:
                r = send(method, path, role, None, None, headers, params=body["__query__"])
            else:
                r = send(method, path, role, json.dumps(body).encode(), "application/json", headers)
            bad = check_problem(r)
            if bad and 200 <= r.status_code < 300 and field in FREE_TEXT:
                bad = ""
                accepted += 1
                if "__query__" not in body:
                    sent = body.get(field)
                    try:
                        got = r.json().get(field, sent) if isinstance(r.json(), dict) else sent
                    except ValueError:
                        got = None
                    if field != "password" and got != sent:
                        bad = f"accepted but stored {str(got)[:60]!r} for {str(sent)[:60]!r}"
            elif bad and 200 <= r.status_code < 300 and "__query__" in body:
                bad = ""  # a filter that matches nothing is a fine answer
                accepted += 1
            elif not bad:
                after = counts.snapshot()
                bad = unexpected_writes(counts, before, after, path, r.status_code)
            if bad:
                failures.append(f"{name}: {bad}: {r.text[:200]}")
            if not up():
                failures.append(f"{name}: the server is down")
                server.start()
        text_tried = tried - http_tried

        # 3. CSV imports through the CLI.
        csv_cases = json.load(open(os.path.join(CORPUS, "csv_cases.json")))
        for case in csv_cases:
            before = counts.snapshot()
            tried += 1
            p = common.cli(url, "import", case["kind"], os.path.join(CORPUS, "csv", case["file"]), check=False)
            after = counts.snapshot()
            if p.returncode == 0:
                failures.append(f"import {case['file']}: exit 0: {p.stdout.strip()}")
            missing = [n for n in case["lines"] if f"line {n}" not in p.stderr]
            if missing:
                failures.append(f"import {case['file']}: lines {missing} not named: {p.stderr.strip()[:400]}")
            if before != after:
                failures.append(f"import {case['file']}: wrote {[(t, before[t], after[t]) for t in before if before[t] != after.get(t)]}")
        alive = server.alive() and server.pid() == pid
        if not alive:
            failures.append("the server process was replaced during the run")
        server.stop()
    finally:
        if pgname:
            common.pg_drop(pgname)
    with open(f"{common.OUT}/bad_input-{args.backend}.txt", "w") as f:
        f.write("\n".join(failures) + "\n")
    for x in failures[:40]:
        log(x)
    return not failures, (
        f"{tried} inputs ({http_tried} HTTP cases, {text_tried} text-field injections, {len(csv_cases)} CSV imports), "
        f"{len(failures)} failures, {accepted} free-text values accepted verbatim, server up throughout: {'yes' if alive else 'no'}, {time.time() - started:.0f} s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
