"""Crash safety: clients write facts and drive applications through the workflow (create,
submit, assign, decide, revoke) at full speed; the server is killed with SIGKILL at a
random moment, restarted, and the store is checked:

  * every write answered 2xx is there (facts revision with the value sent; each
    acknowledged transition has its event; each acknowledged approval its certification;
    each acknowledged revocation is revoked);
  * no certification issued by the workflow without its approved application;
  * every upload answered 201 is there, row and content; no stored content (blob) without an
    attachment naming it, no attachment without its whole content;
  * no certification of an application that went through publicity (公示) dated on or before
    the last day of its period (a `ladder tick` process with the clock two months ahead runs
    beside the server all round long, and is killed with it);
  * no two current certifications, nor two in force today, per enterprise and tier;
  * the rollup's achieved counts equal a recount in SQL;
  * `ladder audit verify` exits 0;
  * SQLite: PRAGMA integrity_check = ok and no foreign key violations.

usage: crash.py --backend sqlite|postgres --rounds N [--workers 8]
"""

import argparse
import datetime
import hashlib
import json
import os
import signal
import random
import sqlite3
import subprocess
import threading
import time

import requests

import common
from common import log

TODAY = datetime.date.today()
YEAR = TODAY.year


class Store:
    def __init__(self, backend, url):
        self.backend, self.url = backend, url

    def rows(self, sql):
        if self.backend == "sqlite":
            con = sqlite3.connect(self.url, timeout=30)
            try:
                return [tuple("" if v is None else str(v) for v in r) for r in con.execute(sql).fetchall()]
            finally:
                con.close()
        out = subprocess.run(["psql", self.url, "-At", "-F", "\t", "-c", sql], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(out.stderr)
        return [tuple(line.split("\t")) for line in out.stdout.splitlines() if line]


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.acked = []  # (kind, data)
        self.sent = 0
        self.failed = 0  # no answer (connection cut by the kill)
        self.non2xx = {}

    def add(self, kind, data):
        with self.lock:
            self.acked.append((kind, data))

    def count(self, status=None, failed=False, kind=""):
        with self.lock:
            self.sent += 1
            if failed:
                self.failed += 1
            elif status is not None and not 200 <= status < 300:
                self.non2xx[f"{kind}:{status}"] = self.non2xx.get(f"{kind}:{status}", 0) + 1


class Worker(threading.Thread):
    """Owns a slice of enterprises (no two workers touch the same pair)."""

    pair_cursor = {}

    def __init__(self, n, base, tok, reviewer_id, enterprises, tiers, rec, stop, seq):
        super().__init__(daemon=True)
        self.n, self.base, self.rec, self.stop, self.seq = n, base, rec, stop, seq
        self.admin = common.session(tok["admin"])
        self.reviewer = common.session(tok["reviewer"])
        self.reviewer_id = reviewer_id
        self.pairs = [(e, t) for e in enterprises for t in tiers]
        self.enterprises = enterprises
        self.app = None  # dict(id, state, enterprise, tier, review, cert)
        self.rng = random.Random(n * 7919 + int(time.time()))

    def call(self, s, method, path, body, kind):
        try:
            r = s.request(method, self.base + path, json=body, timeout=30)
        except requests.RequestException:
            self.rec.count(failed=True)
            self.stop.set()
            return None, None
        self.rec.count(r.status_code, kind=kind)
        try:
            b = r.json()
        except ValueError:
            b = None
        return r.status_code, b

    def next_pair(self):
        i = Worker.pair_cursor.get(self.n, 0)
        Worker.pair_cursor[self.n] = i + 1
        return self.pairs[i % len(self.pairs)]

    def facts(self):
        e = self.rng.choice(self.enterprises)
        year = self.rng.choice([2022, 2023, 2024, 2025])
        v = next(self.seq)
        body = {"facts": {"employees": v, "operating_revenue": f"{v}.25", "high_tech_enterprise": bool(v % 2)}}
        st, b = self.call(self.admin, "PUT", f"/api/v1/enterprises/{e}/facts/{year}", body, "facts")
        if st is not None and 200 <= st < 300:
            self.rec.add("facts", {"enterprise": e, "year": year, "revision": b["revision"], "employees": v})

    def step(self):
        a = self.app
        if a is None:
            e, t = self.next_pair()
            st, b = self.call(self.admin, "POST", "/api/v1/applications", {"enterprise_id": e, "tier": t, "year": YEAR}, "create")
            if st == 201:
                self.app = {"id": b["id"], "state": "draft", "enterprise": e, "tier": t}
                self.rec.add("transition", {"id": b["id"], "to": "draft"})
            return
        aid = a["id"]
        if a["state"] == "draft" and not a.get("uploaded") and self.rng.random() < 0.6:
            a["uploaded"] = True
            self.upload(aid)
            return
        if a["state"] == "draft":
            st, b = self.call(self.admin, "POST", f"/api/v1/applications/{aid}/submit", {}, "submit")
            if st == 200:
                a["state"] = "submitted"
                self.rec.add("transition", {"id": aid, "to": "submitted"})
            else:
                self.app = None
        elif a["state"] == "submitted":
            st, b = self.call(self.admin, "POST", f"/api/v1/applications/{aid}/assign", {"reviewer_id": self.reviewer_id}, "assign")
            if st == 200:
                a["state"] = "under_review"
                crit = ((b.get("prescreen") or {}).get("result") or {}).get("criteria") or []
                a["review"] = {c["id"]: True for c in crit if c.get("review") is True}
                a["ineligible"] = b.get("prescreen_outcome") == "ineligible"
                self.rec.add("transition", {"id": aid, "to": "under_review"})
            else:
                self.app = None
        elif a["state"] == "under_review":
            approve = self.rng.random() < 0.7
            body = {"decision": "approve" if approve else "reject", "comment": "crash test"}
            if approve:
                body["review"] = a.get("review") or {}
                if a.get("ineligible"):
                    body["override"] = {"reason": "crash test: approved against the pre-screen"}
            st, b = self.call(self.reviewer, "POST", f"/api/v1/applications/{aid}/decision", body, "decision")
            if st == 200:
                a["state"] = b["state"]
                self.rec.add("transition", {"id": aid, "to": b["state"]})
                if b["state"] == "approved":
                    a["cert"] = b["certification"]["id"]
                    self.rec.add("approved", {"id": aid, "cert": a["cert"]})
                else:
                    # rejected, or publicized: the ticker ends the period
                    self.app = None
            else:
                self.app = None
        elif a["state"] == "approved":
            st, b = self.call(self.admin, "POST", f"/api/v1/certifications/{a['cert']}/revoke", {"reason": "crash test"}, "revoke")
            if st == 200:
                self.rec.add("revoked", {"cert": a["cert"]})
            self.app = None

    def upload(self, aid):
        """A PDF of 1 KiB – 1.5 MiB (one or two stored chunks), unique content."""
        v = next(self.seq)
        size = self.rng.randint(1024, 1536 * 1024)
        head = f"%PDF-1.7\n% crash upload {v} {self.n}\n".encode()
        data = head + bytes([32 + (v % 90)]) * (size - len(head))
        try:
            r = self.admin.post(
                f"{self.base}/api/v1/applications/{aid}/attachments",
                files={"file": (f"evidence-{v}.pdf", data, "application/pdf")},
                data={"kind": "audit_report"},
                timeout=30,
            )
        except requests.RequestException:
            self.rec.count(failed=True)
            self.stop.set()
            return
        self.rec.count(r.status_code, kind="upload")
        if r.status_code == 201:
            b = r.json()
            self.rec.add("upload", {"id": b["id"], "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})

    def run(self):
        while not self.stop.is_set():
            if self.rng.random() < 0.5:
                self.facts()
            else:
                self.step()


class Ticker(threading.Thread):
    """`ladder tick` in a loop with the clock two months ahead: publicity periods end while the
    server runs; the tick process in flight is SIGKILLed with the server."""

    def __init__(self, url, stop):
        super().__init__(daemon=True)
        self.url, self.stop, self.proc, self.runs = url, stop, None, 0
        ahead = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=60)
        self.env = common.env_for(url, {"LADDER_CLOCK_START": ahead.strftime("%Y-%m-%dT%H:%M:%SZ"), "LADDER_POOL_SIZE": "2"})

    def run(self):
        while not self.stop.is_set():
            self.proc = subprocess.Popen([common.BIN, "tick"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.proc.wait()
            self.runs += 1
            time.sleep(0.2)

    def kill(self):
        p = self.proc
        if p is not None and p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()


def check(store, backend, url, base, admin_token, rec):
    problems = []
    # 1. every acknowledged write is there.
    facts = [d for k, d in rec.acked if k == "facts"]
    if facts:
        have = {}
        for e, y, rev, f in store.rows("SELECT enterprise_id, year, revision, facts FROM fact_revisions"):
            have[(int(e), int(y), int(rev))] = f
        for d in facts:
            f = have.get((d["enterprise"], d["year"], d["revision"]))
            if f is None:
                problems.append(f"lost facts write {d}")
            elif str(json.loads(f).get("employees")) != str(d["employees"]):
                problems.append(f"facts revision {d} holds {f}")
        latest = {(int(e), int(y)): int(r) for e, y, r in store.rows("SELECT enterprise_id, year, revision FROM fact_years")}
        for d in facts:
            if latest.get((d["enterprise"], d["year"]), -1) < d["revision"]:
                problems.append(f"fact_years behind an acknowledged revision {d}")
    events = {}
    for aid, to in store.rows("SELECT application_id, to_state FROM application_events"):
        events.setdefault(int(aid), set()).add(to)
    for d in (d for k, d in rec.acked if k == "transition"):
        if d["to"] not in events.get(d["id"], set()):
            problems.append(f"lost transition {d}")
    certs = {int(r[0]): r for r in store.rows("SELECT id, application_id, revoked_on, is_current FROM certifications")}
    for d in (d for k, d in rec.acked if k == "approved"):
        c = certs.get(d["cert"])
        if c is None or c[1] != str(d["id"]):
            problems.append(f"lost certification of approval {d}")
    for d in (d for k, d in rec.acked if k == "revoked"):
        c = certs.get(d["cert"])
        if c is None or c[2] == "":
            problems.append(f"lost revocation {d}")
    # 1b. every acknowledged upload is there, row and content; content and rows match.
    atts = {int(i): (sha, int(size)) for i, sha, size in store.rows("SELECT id, sha256, size FROM attachments")}
    chunks = {sha: int(n) for sha, n in store.rows("SELECT sha256, COUNT(*) FROM blobs GROUP BY sha256")}
    for d in (d for k, d in rec.acked if k == "upload"):
        a = atts.get(d["id"])
        if a is None or a[0] != d["sha256"] or a[1] != d["size"]:
            problems.append(f"lost upload {d}")
    for i, (sha, size) in atts.items():
        want = max(1, -(-size // (1 << 20)))
        if chunks.get(sha) != want:
            problems.append(f"attachment {i} without its whole content: {chunks.get(sha)} chunks of {want}")
    named = {sha for sha, _ in atts.values()}
    stray = [sha for sha in chunks if sha not in named]
    if stray:
        problems.append(f"stored content no attachment names: {stray[:5]}")
    # 1c. no certificate without its publicity period: a certification of an application that
    # was publicized is dated after the period's last day.
    early = store.rows(
        "SELECT c.id FROM certifications c JOIN applications a ON a.id = c.application_id "
        "WHERE a.publicity_to IS NOT NULL AND c.issued_on <= a.publicity_to"
    )
    if early:
        problems.append(f"certifications issued before their publicity ended: {early[:5]}")
    unended = store.rows(
        "SELECT a.id FROM applications a WHERE a.publicity_to IS NOT NULL AND a.state = 'approved' "
        "AND NOT EXISTS (SELECT 1 FROM application_events e WHERE e.application_id = a.id AND e.to_state = 'publicized')"
    )
    if unended:
        problems.append(f"approved after publicity without a publicized event: {unended[:5]}")
    # 2. no certification from the workflow without its approved application.
    orphans = store.rows(
        "SELECT c.id FROM certifications c LEFT JOIN applications a ON a.id = c.application_id "
        "WHERE c.application_id IS NOT NULL AND (a.id IS NULL OR a.state <> 'approved')"
    )
    orphans += store.rows("SELECT c.id FROM certifications c WHERE c.application_id IS NULL AND NOT c.imported")
    if orphans:
        problems.append(f"certifications without an approved application: {orphans[:5]}")
    approved_without = store.rows(
        "SELECT a.id FROM applications a LEFT JOIN certifications c ON c.application_id = a.id WHERE a.state = 'approved' GROUP BY a.id HAVING COUNT(c.id) <> 1"
    )
    if approved_without:
        problems.append(f"approved applications without exactly one certification: {approved_without[:5]}")
    # 3. at most one current, and one in force today, per enterprise and tier.
    dup = store.rows("SELECT enterprise_id, tier, COUNT(*) FROM certifications WHERE is_current GROUP BY enterprise_id, tier HAVING COUNT(*) > 1")
    t = TODAY.isoformat()
    dup += store.rows(
        f"SELECT enterprise_id, tier, COUNT(*) FROM certifications WHERE revoked_on IS NULL AND valid_from <= '{t}' AND valid_to >= '{t}' "
        "GROUP BY enterprise_id, tier HAVING COUNT(*) > 1"
    )
    if dup:
        problems.append(f"two current certifications for one enterprise and tier: {dup[:5]}")
    # 4. quota counts equal a recount.
    r = requests.get(f"{base}/api/v1/reports/rollup?year={YEAR}&as_of={t}", headers={"Authorization": f"Bearer {admin_token}"}, timeout=60)
    if r.status_code != 200:
        problems.append(f"rollup answered {r.status_code}: {r.text[:200]}")
    else:
        for q in r.json()["quotas"]:
            tiers = ", ".join(f"'{x}'" for x in q["tiers"])
            scope = "" if q["scope"] == "210100" else f" AND e.district_code = '{q['scope']}'"
            if q["measure"] == "new":
                cond = f"c.issued_on >= '{YEAR}-01-01' AND c.issued_on <= '{t}'"
            else:
                cond = f"c.valid_from <= '{t}' AND c.valid_to >= '{t}'"
            n = store.rows(
                f"SELECT COUNT(*) FROM certifications c JOIN enterprises e ON e.id = c.enterprise_id WHERE c.tier IN ({tiers}){scope} "
                f"AND {cond} AND (c.revoked_on IS NULL OR c.revoked_on > '{t}')"
            )[0][0]
            if int(n) != q["achieved"]:
                problems.append(f"quota {q['id']} achieved {q['achieved']} but a recount gives {n}")
    # 5. the audit chain.
    p = common.cli(url, "audit", "verify", check=False)
    if p.returncode != 0:
        problems.append(f"ladder audit verify exited {p.returncode}: {p.stdout.strip()} {p.stderr.strip()[-300:]}")
    # 6. SQLite integrity.
    if backend == "sqlite":
        ic = store.rows("PRAGMA integrity_check")
        if ic != [("ok",)]:
            problems.append(f"integrity_check: {ic[:5]}")
        fk = store.rows("PRAGMA foreign_key_check")
        if fk:
            problems.append(f"foreign_key_check: {fk[:5]}")
    return problems


def run(backend, rounds, workers, min_run, max_run, seq):
    pgname = None
    if backend == "sqlite":
        url = common.sqlite_db("crash")
    else:
        pgname, url = common.pg_db("ladder_crash")
    store = Store(backend, url)
    rounds_ok, all_problems = 0, []
    totals = {"sent": 0, "acked": 0, "facts": 0, "transitions": 0, "approvals": 0, "revocations": 0, "uploads": 0, "publicity_ended": 0, "unanswered": 0}
    try:
        common.seeded(url)
        server = common.Server(url, log_name=f"crash-{backend}.log", extra_env={"LADDER_ACCESS_TTL_SECS": "7200"})
        server.start()
        tok = common.tokens(server.base)
        reviewer_id = common.session(tok["reviewer"]).get(server.base + "/api/v1/me", timeout=10).json()["id"]
        s = common.session(tok["admin"])
        ents, cursor = [], None
        while True:
            r = s.get(server.base + "/api/v1/enterprises", params={"limit": 500, **({"cursor": cursor} if cursor else {})}, timeout=30).json()
            ents += [e["id"] for e in r["items"]]
            cursor = r["next_cursor"]
            if not cursor:
                break
        tiers = [t["code"] for t in s.get(server.base + "/api/v1/tiers", timeout=10).json()]
        # Half the tiers issue at approval, half go under publicity (5 working days).
        for i, code in enumerate(tiers):
            s.patch(server.base + f"/api/v1/tiers/{code}", json={"publicity_days": 0 if i % 2 else 5}, timeout=10)
        rng = random.Random()
        for rnd in range(1, rounds + 1):
            if not server.alive():
                server.start()
            rec, stop = Recorder(), threading.Event()
            ws = [Worker(i, server.base, tok, reviewer_id, ents[i::workers], tiers, rec, stop, seq) for i in range(workers)]
            ticker = Ticker(url, stop)
            for w in ws:
                w.start()
            ticker.start()
            time.sleep(rng.uniform(min_run, max_run))
            server.kill()
            ticker.kill()
            stop.set()
            ticker.join(timeout=60)
            ticker.kill()
            for w in ws:
                w.join(timeout=60)
            server.start()
            problems = check(store, backend, url, server.base, tok["admin"], rec)
            totals["publicity_ended"] = int(store.rows(
                "SELECT COUNT(*) FROM certifications c JOIN applications a ON a.id = c.application_id WHERE a.publicity_to IS NOT NULL"
            )[0][0])
            kinds = [k for k, _ in rec.acked]
            totals["sent"] += rec.sent
            totals["acked"] += len(rec.acked) - kinds.count("approved")
            totals["facts"] += kinds.count("facts")
            totals["transitions"] += kinds.count("transition")
            totals["approvals"] += kinds.count("approved")
            totals["revocations"] += kinds.count("revoked")
            totals["uploads"] += kinds.count("upload")
            totals["unanswered"] += rec.failed
            if problems:
                all_problems += [f"[{backend}] round {rnd}: {p}" for p in problems]
                log(f"[{backend}] round {rnd}: {len(problems)} problem(s): {problems[:3]}")
            else:
                rounds_ok += 1
            log(
                f"[{backend}] round {rnd}/{rounds}: {rec.sent} requests, {len(rec.acked) - kinds.count('approved')} acknowledged writes, "
                f"{rec.failed} cut by the kill, non-2xx {rec.non2xx}, {'ok' if not problems else 'PROBLEMS'}"
            )
        server.stop()
    finally:
        if pgname:
            common.pg_drop(pgname)
    return rounds_ok, totals, all_problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backends", default="sqlite:50,postgres:20", help="backend:rounds,…")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--min-run", type=float, default=0.3)
    ap.add_argument("--max-run", type=float, default=3.0)
    args = ap.parse_args()
    import itertools

    seq = itertools.count(1)
    started = time.time()
    parts, ok, report = [], True, {}
    all_problems = []
    for spec in args.backends.split(","):
        backend, rounds = spec.split(":")
        rounds = int(rounds)
        if backend == "postgres" and not common.pg_available():
            parts.append(f"postgres: not reachable")
            ok = False
            continue
        t0 = time.time()
        rounds_ok, t, problems = run(backend, rounds, args.workers, args.min_run, args.max_run, seq)
        report[backend] = {"rounds": rounds, "ok": rounds_ok, "totals": t, "problems": problems, "seconds": time.time() - t0}
        all_problems += problems
        ok = ok and rounds_ok == rounds
        parts.append(
            f"{backend} {rounds_ok}/{rounds} SIGKILLs survived ({t['sent']} requests, {t['acked']} acknowledged writes checked: "
            f"{t['facts']} facts, {t['transitions']} transitions incl. {t['approvals']} approvals, {t['revocations']} revocations, {t['uploads']} uploads, {t['publicity_ended']} certificates issued at the end of publicity)"
        )
    with open(f"{common.OUT}/crash.json", "w") as f:
        json.dump(report, f, indent=1)
    for p in all_problems[:20]:
        log(p)
    return common.verdict("crash", ok, "; ".join(parts) + f"; {len(all_problems)} problems, {time.time() - started:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
