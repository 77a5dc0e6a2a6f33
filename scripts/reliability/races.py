"""Races across processes: two `ladder serve` on one PostgreSQL database (same DATABASE_URL,
same LADDER_JWT_SECRET), N rounds; each round runs four races, every request released at
once by a barrier and spread over both processes:

  1. decision:        K approvals of one application under review
  2. renewal create:  K renewal applications (复核) for one expiring title
  3. renewal decide:  K approvals of that renewal
  4. revocation:      K revocations of one certification

Each must have exactly one winner (2xx), the rest 409, and the store must agree: one
certification per approval, one current certification per enterprise and tier, the old title
superseded by the renewal, the audit chain intact.

usage: races.py [--rounds 20] [--attempts 16]
"""

import argparse
import datetime
import json
import threading
import time
import uuid

import requests

import common
from common import log

TODAY = datetime.date.today()


def fire(bases, path, token, body, attempts):
    barrier = threading.Barrier(attempts)
    results = [None] * attempts

    def one(i):
        s = common.session(token)
        base = bases[i % len(bases)]
        s.get(base + "/healthz", timeout=10)  # open the connection before the start line
        barrier.wait()
        try:
            r = s.post(base + path, json=body, timeout=120)
            try:
                b = r.json()
            except ValueError:
                b = r.text
            results[i] = (r.status_code, b)
        except requests.RequestException as e:
            results[i] = (0, str(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def one_winner(name, results, problems):
    ok = [r for r in results if 200 <= r[0] < 300]
    conflicts = [r for r in results if r[0] == 409]
    if len(ok) != 1 or len(conflicts) != len(results) - 1:
        statuses = sorted(r[0] for r in results)
        problems.append(f"{name}: {len(ok)} winners, {len(conflicts)} conflicts, statuses {statuses}: {[r[1] for r in results if r[0] not in (409,)][:2]}")
        return None
    return ok[0][1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--attempts", type=int, default=16)
    args = ap.parse_args()
    if not common.pg_available():
        return common.verdict("races", False, f"PostgreSQL not reachable at {common.PG_ADMIN}")
    started = time.time()
    pgname, url = common.pg_db("ladder_races")
    problems, races, won = [], 0, 0
    try:
        common.seeded(url)
        a = common.Server(url, log_name="races-a.log").start()
        b = common.Server(url, log_name="races-b.log").start()
        bases = [a.base, b.base]
        tok = common.tokens(a.base)
        admin, reviewer = common.session(tok["admin"]), common.session(tok["reviewer"])
        reviewer_id = reviewer.get(b.base + "/api/v1/me", timeout=10).json()["id"]
        ents = admin.get(a.base + "/api/v1/enterprises", params={"limit": 500}, timeout=30).json()["items"]
        # These races are about issuing at approval: no publicity period for the tiers raced.
        for code in ("srdi_sme", "tech_sme"):
            admin.patch(a.base + f"/api/v1/tiers/{code}", json={"publicity_days": 0}, timeout=30).raise_for_status()

        def approval(full, comment):
            crit = ((full.get("prescreen") or {}).get("result") or {}).get("criteria") or []
            d = {"decision": "approve", "comment": comment, "review": {c["id"]: True for c in crit if c.get("review") is True}}
            if full.get("prescreen_outcome") == "ineligible":
                d["override"] = {"reason": "race test: approved against the pre-screen"}
            return d

        def post(s, base, path, body, want):
            r = s.post(base + path, json=body, timeout=60)
            if r.status_code != want:
                raise RuntimeError(f"POST {path} {body}: {r.status_code} {r.text[:300]}")
            return r.json()

        pick = iter(ents)
        for rnd in range(1, args.rounds + 1):
            # An enterprise with no open srdi_sme application and no such title (the demo data has some).
            for e in pick:
                r = admin.post(a.base + "/api/v1/applications", json={"enterprise_id": e["id"], "tier": "srdi_sme", "year": TODAY.year}, timeout=60)
                if r.status_code == 201:
                    app = r.json()
                    break
                if r.status_code != 409:
                    raise RuntimeError(f"create application: {r.status_code} {r.text[:300]}")
            else:
                raise RuntimeError("no enterprise left without an open srdi_sme application")
            eid, uscc = e["id"], e["uscc"]
            before = len(problems)
            # 1. concurrent decisions on one application, across both processes.
            post(admin, b.base, f"/api/v1/applications/{app['id']}/submit", {}, 200)
            full = post(admin, a.base, f"/api/v1/applications/{app['id']}/assign", {"reviewer_id": reviewer_id}, 200)
            decision = approval(full, "race")
            res = fire(bases, f"/api/v1/applications/{app['id']}/decision", tok["reviewer"], decision, args.attempts)
            races += 1
            winner = one_winner(f"round {rnd} decision", res, problems)
            cert_id = winner["certification"]["id"] if winner else None
            # 2. concurrent renewal applications for a title expiring within a year.
            number = f"RACE-{rnd}-{uuid.uuid4().hex[:8]}"
            valid_from = TODAY - datetime.timedelta(days=300)
            item = {"uscc": uscc, "tier": "tech_sme", "number": number, "issued_on": valid_from.isoformat(), "valid_from": valid_from.isoformat(),
                    "valid_to": (valid_from + datetime.timedelta(days=364)).isoformat()}
            # Clear a tech_sme title the demo data may already give this enterprise.
            held = admin.get(a.base + "/api/v1/certifications", params={"enterprise_id": eid, "tier": "tech_sme", "limit": 500}, timeout=30).json()["items"]
            for c in held:
                if c.get("is_current"):
                    post(admin, a.base, f"/api/v1/certifications/{c['id']}/revoke", {"reason": "race setup"}, 200)
            r = admin.post(b.base + "/api/v1/certifications/import", json={"items": [item]}, timeout=60)
            if r.status_code not in (200, 201):
                raise RuntimeError(f"import: {r.status_code} {r.text[:300]}")
            res = fire(bases, "/api/v1/applications", tok["admin"], {"enterprise_id": eid, "tier": "tech_sme", "year": TODAY.year, "renewal": True}, args.attempts)
            races += 1
            renewal = one_winner(f"round {rnd} renewal create", res, problems)
            if renewal:
                post(admin, a.base, f"/api/v1/applications/{renewal['id']}/submit", {}, 200)
                full = post(admin, b.base, f"/api/v1/applications/{renewal['id']}/assign", {"reviewer_id": reviewer_id}, 200)
                decision = approval(full, "race renewal")
                res = fire(bases, f"/api/v1/applications/{renewal['id']}/decision", tok["reviewer"], decision, args.attempts)
                races += 1
                w = one_winner(f"round {rnd} renewal decision", res, problems)
                if w:
                    certs = admin.get(a.base + "/api/v1/certifications", params={"enterprise_id": eid, "tier": "tech_sme", "limit": 500}, timeout=30).json()["items"]
                    current = [c for c in certs if c.get("is_current")]
                    if len(current) != 1 or current[0]["number"] == number:
                        problems.append(f"round {rnd} renewal: current tech_sme titles {[(c['number'], c.get('is_current')) for c in certs]}")
                    elif current[0]["valid_from"] != item["valid_to"] and current[0]["valid_from"] <= item["valid_to"]:
                        problems.append(f"round {rnd} renewal overlaps the title it renews: {current[0]}")
            # 3. concurrent revocations of one certification.
            if cert_id:
                res = fire(bases, f"/api/v1/certifications/{cert_id}/revoke", tok["admin"], {"reason": "race"}, args.attempts)
                races += 1
                one_winner(f"round {rnd} revocation", res, problems)
            # The store agrees.
            n = common.psql(f"SELECT COUNT(*) FROM certifications WHERE application_id = {app['id']}", url)
            if n != "1":
                problems.append(f"round {rnd}: application {app['id']} has {n} certifications")
            dup = common.psql("SELECT COUNT(*) FROM (SELECT 1 FROM certifications WHERE is_current GROUP BY enterprise_id, tier HAVING COUNT(*) > 1) d", url)
            if dup != "0":
                problems.append(f"round {rnd}: {dup} enterprise/tier pairs with two current certifications")
            won += 1 if len(problems) == before else 0
            log(f"round {rnd}/{args.rounds}: {'ok' if len(problems) == before else problems[before:]}")
        v = admin.get(a.base + "/api/v1/audit/verify", timeout=120).json()
        if v.get("ok") is not True:
            problems.append(f"audit chain: {v}")
        p = common.cli(url, "audit", "verify", check=False)
        if p.returncode != 0:
            problems.append(f"ladder audit verify exited {p.returncode}: {p.stdout} {p.stderr[-300:]}")
        a.stop()
        b.stop()
    finally:
        common.pg_drop(pgname)
    with open(f"{common.OUT}/races.json", "w") as f:
        json.dump({"rounds": args.rounds, "races": races, "problems": problems}, f, indent=1)
    for p in problems[:20]:
        log(p)
    return common.verdict(
        "races",
        not problems,
        f"{races} races in {args.rounds} rounds over 2 processes on one PostgreSQL, {args.attempts} contenders each, "
        f"{won}/{args.rounds} rounds with exactly one winner every time, {len(problems)} problems, {time.time() - started:.0f} s",
    )


if __name__ == "__main__":
    raise SystemExit(main())
