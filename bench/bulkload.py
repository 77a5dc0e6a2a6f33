#!/usr/bin/env python3
"""Bulk loader for benchmarks only: puts bench/gen.py's enterprises and certifications (and a
few quotas) straight into a freshly migrated database, without the audit trail the imports
write, so that 10^5 enterprises / 3·10^5 certifications load in seconds on both backends.
PostgreSQL through `COPY … FROM STDIN` (psql), SQLite through one transaction of prepared
inserts (Python's sqlite3). Never for real data: nothing is validated or audited here.

    python3 bench/bulkload.py DATABASE_URL DATA_DIR
"""
import csv, datetime, io, os, sqlite3, subprocess, sys

TIERS = ["tech_sme", "innovative_sme", "srdi_sme", "little_giant", "smart_factory_basic",
         "smart_factory_advanced", "digital_transformation", "industrial_design_center"]


def rows(data):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    # The business date is Shanghai's (UTC+8), as `crate::clock`.
    today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date().isoformat()
    ids, ents = {}, []
    with open(os.path.join(data, "enterprises.csv"), newline="") as f:
        for i, r in enumerate(csv.DictReader(f), start=1):
            ids[r["uscc"]] = i
            ents.append((i, r["uscc"], r["name"], r["district_code"], r["cluster_code"] or None,
                         r["founded_on"] or None, r["niche_entered_on"] or None, True, 1, now, now))
    certs = []
    path = os.path.join(data, "certifications.csv")
    if os.path.exists(path):
        with open(path, newline="") as f:
            for i, r in enumerate(csv.DictReader(f), start=1):
                certs.append((i, ids[r["uscc"]], r["tier"], r["number"], r["issued_on"], r["valid_from"],
                              r["valid_to"], r["batch"] or None, True, r["valid_to"] >= today, now))
    districts = sorted({e[3] for e in ents})
    quotas = []
    for year in (2025, 2026):
        quotas.append((year, "city", ",".join(TIERS), "active", len(ents) // 4, "全市在册", "City, active", 1, now, now))
        for tier in TIERS:
            quotas.append((year, "city", tier, "new", len(ents) // 40, f"全市新增 {tier}", f"City, new {tier}", 1, now, now))
        for d in districts:
            quotas.append((year, d, ",".join(TIERS), "new", len(ents) // 200, f"{d} 新增", f"{d}, new", 1, now, now))
    return ents, certs, quotas


ENT_COLS = "id,uscc,name,district_code,cluster_code,founded_on,niche_entered_on,verified,lock_version,created_at,updated_at"
CERT_COLS = "id,enterprise_id,tier,number,issued_on,valid_from,valid_to,batch,imported,is_current,created_at"
QUOTA_COLS = "year,scope,tiers,measure,target,label_zh,label_en,lock_version,created_at,updated_at"


def pg(url, ents, certs, quotas):
    def psql(sql, stdin=None):
        p = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql], input=stdin,
                           capture_output=True, text=True)
        if p.returncode:
            sys.exit(f"psql: {sql[:80]}: {p.stderr}")
        return p.stdout.strip()

    def copy(table, cols, data):
        buf = io.StringIO()
        w = csv.writer(buf)
        for r in data:
            w.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in r])
        psql(f"\\copy {table}({cols}) FROM STDIN WITH (FORMAT csv)", buf.getvalue())

    if psql("SELECT count(*) FROM enterprises") != "0":
        sys.exit("bulkload: the enterprises table is not empty (a freshly migrated database is needed)")
    copy("enterprises", ENT_COLS, ents)
    copy("certifications", CERT_COLS, certs)
    copy("quotas", QUOTA_COLS, quotas)
    psql("SELECT setval('enterprises_id_seq', (SELECT max(id) FROM enterprises)); "
         "SELECT setval('certifications_id_seq', greatest((SELECT max(id) FROM certifications), 1)); ANALYZE")


def lite(path, ents, certs, quotas):
    db = sqlite3.connect(path)
    if db.execute("SELECT count(*) FROM enterprises").fetchone()[0]:
        sys.exit("bulkload: the enterprises table is not empty (a freshly migrated database is needed)")
    with db:
        db.executemany(f"INSERT INTO enterprises({ENT_COLS}) VALUES ({','.join('?' * 11)})", ents)
        db.executemany(f"INSERT INTO certifications({CERT_COLS}) VALUES ({','.join('?' * 11)})", certs)
        db.executemany(f"INSERT INTO quotas({QUOTA_COLS}) VALUES ({','.join('?' * 10)})", quotas)
    db.execute("ANALYZE")
    db.close()


def main():
    url, data = sys.argv[1], sys.argv[2]
    ents, certs, quotas = rows(data)
    if url.startswith(("postgres://", "postgresql://")):
        pg(url, ents, certs, quotas)
    else:
        lite(url.removeprefix("sqlite://"), ents, certs, quotas)
    print(f"bulk-loaded {len(ents)} enterprises, {len(certs)} certifications, {len(quotas)} quotas")


if __name__ == "__main__":
    main()
