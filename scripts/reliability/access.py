"""Access, part 2 (part 1 is the authorization matrix, `cargo test --test api authz`, run by
the `access` wrapper): against a running release build,

  * every method the OpenAPI document does not list on a path answers 405 (a problem
    document), never 2xx, for anonymous and admin callers; TRACE and OPTIONS never 2xx;
  * every response body collected (each GET of the spec as every role, the writes made to
    set up fixtures, the token endpoints, the audit trail, plus the schemathesis HAR files
    of the fuzz run when present) and the server log are scanned for what must never leave:
    `password_hash`, `secret_hash`, `$argon2`, a `refresh_token` outside the token
    endpoints, a client secret outside its creation, the JWT secret.

usage: access.py
"""

import base64
import glob
import json
import os
import time

import requests

import common
from common import log

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
TOKEN_ENDPOINTS = {"/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/register", "/api/v1/auth/token"}
ALWAYS_FORBIDDEN = ["password_hash", "secret_hash", "$argon2", "token_hash"]


def has_key(text, key):
    """Whether the JSON body has `key` as an object key anywhere."""
    try:
        doc = json.loads(text)
    except ValueError:
        return f'"{key}":' in text.replace(" ", "")
    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if key in v:
                return True
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def main():
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--matrix-rc", type=int, default=None, help="exit code of cargo test --test api authz (run by ./access)")
    ap.add_argument("--matrix-summary", default="not run")
    ap.add_argument("--matrix-rows", default="?")
    args = ap.parse_args()
    started = time.time()
    url = common.sqlite_db("access")
    common.seeded(url)
    server = common.Server(url, log_name="access-serve.log").start()
    base = server.base
    tok = common.tokens(server.base)
    admin = common.session(tok["admin"])
    bodies = []  # (method, path, status, text)
    client_secrets = []

    def record(method, path, r):
        bodies.append((method, path, r.status_code, r.text))
        return r

    # Fixtures: a user, a client, a refresh, a password change, an application, a certification.
    r = record("POST", "/api/v1/auth/login", requests.post(base + "/api/v1/auth/login", json={"username": "admin", "password": common.DEMO["admin"][1]}, timeout=30))
    refresh = r.json()["refresh_token"]
    record("POST", "/api/v1/auth/refresh", requests.post(base + "/api/v1/auth/refresh", json={"refresh_token": refresh}, timeout=30))
    r = record("POST", "/api/v1/users", admin.post(base + "/api/v1/users", json={"username": "scan_user", "password": "scan-user-password-1", "role": "official"}, timeout=30))
    user_id = r.json()["id"]
    record("PATCH", "/api/v1/users/{id}", admin.patch(base + f"/api/v1/users/{user_id}", json={"password": "scan-user-password-2"}, timeout=30))
    r = admin.post(base + "/api/v1/clients", json={"name": "scan client", "role": "official"}, timeout=30)
    created_client = r.json()
    client_id = created_client.get("id")
    if created_client.get("client_secret"):
        client_secrets.append(created_client["client_secret"])
        r2 = requests.post(base + "/api/v1/auth/token", json={"grant_type": "client_credentials", "client_id": created_client["client_id"], "client_secret": created_client["client_secret"]}, timeout=30)
        record("POST", "/api/v1/auth/token", r2)
    me = admin.get(base + "/api/v1/me", timeout=30).json()
    ent = common.session(tok["enterprise"]).get(base + "/api/v1/me", timeout=30).json()["enterprise"]["id"]
    reviewer = common.session(tok["reviewer"]).get(base + "/api/v1/me", timeout=30).json()["id"]
    r = record("POST", "/api/v1/applications", admin.post(base + "/api/v1/applications", json={"enterprise_id": ent, "tier": "srdi_sme", "year": 2026}, timeout=30))
    if r.status_code == 201:
        app_id = r.json()["id"]
    else:  # the demo data may already hold an open application for it
        app_id = admin.get(base + "/api/v1/applications", params={"limit": 1}, timeout=30).json()["items"][0]["id"]
    item = {"uscc": "91210106649644951U", "tier": "tech_sme", "number": "SCAN-1", "issued_on": "2026-01-15", "valid_from": "2026-01-01", "valid_to": "2026-12-31"}
    record("POST", "/api/v1/certifications/import", admin.post(base + "/api/v1/certifications/import", json={"items": [item]}, timeout=30))
    cert = admin.get(base + "/api/v1/certifications", params={"enterprise_id": ent}, timeout=30).json()["items"][0]["id"]
    quota = admin.get(base + "/api/v1/quotas", params={"year": 2025}, timeout=30).json()
    quota = (quota[0] if isinstance(quota, list) else quota["items"][0])["id"]
    ruleset = admin.get(base + "/api/v1/rulesets", timeout=30).json()["items"][0]["id"]
    ids = {"enterprises": ent, "users": user_id, "clients": client_id, "applications": app_id, "certifications": cert, "reviewers": reviewer,
           "quotas": quota, "rulesets": ruleset}

    spec = requests.get(base + "/api/v1/openapi.json", timeout=30).json()

    def concrete(path):
        parts = path.split("/")
        out = []
        for i, p in enumerate(parts):
            if p == "{year}":
                out.append("2025")
            elif p.startswith("{"):
                out.append(str(ids.get(parts[i - 1], 1)))
            else:
                out.append(p)
        return "/".join(out)

    # 405 for every unlisted method.
    failures, method_checks = [], 0
    for path, item_ in spec["paths"].items():
        listed = {m.upper() for m in item_ if m.upper() in METHODS}
        real = concrete(path)
        for m in METHODS + ["TRACE", "OPTIONS"]:
            if m in listed:
                continue
            for role in ("anonymous", "admin"):
                h = {"Authorization": f"Bearer {tok['admin']}"} if role == "admin" else {}
                data = b"{}" if m in ("POST", "PUT", "PATCH") else None
                if data:
                    h["Content-Type"] = "application/json"
                r = requests.request(m, base + real, headers=h, data=data, timeout=30)
                bodies.append((m, path, r.status_code, r.text))
                method_checks += 1
                if 200 <= r.status_code < 300:
                    failures.append(f"{m} {path} as {role}: {r.status_code} (unlisted method answered 2xx)")
                elif m in METHODS and r.status_code != 405:
                    failures.append(f"{m} {path} as {role}: {r.status_code}, expected 405")
                elif m in METHODS and not r.headers.get("content-type", "").startswith("application/problem+json"):
                    failures.append(f"{m} {path} as {role}: 405 without a problem document")

    # Every GET of the spec as every role.
    for role in ["anonymous", "enterprise", "reviewer", "official", "admin"]:
        s = common.session(tok.get(role))
        for path, item_ in spec["paths"].items():
            if "get" not in item_:
                continue
            r = s.get(base + concrete(path), timeout=60)
            bodies.append(("GET", path, r.status_code, r.text))
            if path == "/api/v1/audit":
                for entity in ("user", "api_client", "enterprise", "certification", "application"):
                    r = s.get(base + "/api/v1/audit", params={"entity": entity, "limit": 500}, timeout=60)
                    bodies.append(("GET", path, r.status_code, r.text))

    # The fuzz run's traffic, when there is one.
    har_files = sorted(glob.glob(os.path.join(common.OUT, "fuzz", "*.har")))
    har_entries = 0
    for f in har_files:
        try:
            har = json.load(open(f))
        except (OSError, ValueError) as e:
            log(f"skipping {f}: {e}")
            continue
        for e in har.get("log", {}).get("entries", []):
            req, resp = e.get("request", {}), e.get("response", {})
            content = resp.get("content", {})
            text = content.get("text") or ""
            if content.get("encoding") == "base64":
                try:
                    text = base64.b64decode(text).decode("utf-8", "replace")
                except ValueError:
                    pass
            path = "/" + req.get("url", "").split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
            bodies.append((req.get("method", "?"), path, resp.get("status", 0), text))
            har_entries += 1

    # The scan.
    leaks = []
    for method, path, status, text in bodies:
        for needle in ALWAYS_FORBIDDEN + [common.SECRET]:
            if needle in text:
                leaks.append(f"{method} {path} ({status}) contains {needle[:12]!r}")
        # A refresh token leaves only as the value of a `refresh_token` key of a token endpoint
        # (a problem document naming the field, as logout's 422 does, is not a leak).
        if "refresh_token" in text and path not in TOKEN_ENDPOINTS and path != "/api/v1/openapi.json" and has_key(text, "refresh_token"):
            leaks.append(f"{method} {path} ({status}) carries a refresh_token")
        for sec in client_secrets:
            if sec in text:
                leaks.append(f"{method} {path} ({status}) contains a client secret")
    server.stop()
    log_text = open(server.log_path, errors="replace").read()
    for needle in [common.SECRET] + client_secrets + ["scan-user-password", common.DEMO["admin"][1]]:
        if needle in log_text:
            leaks.append(f"the server log contains {needle[:12]!r}…")
    failures += leaks
    for f in failures[:40]:
        log(f)
    with open(os.path.join(common.OUT, "access.txt"), "w") as f:
        f.write("\n".join(failures) + "\n")
    matrix_ok = args.matrix_rc == 0
    return common.verdict(
        "access",
        not failures and matrix_ok,
        f"authorization matrix {args.matrix_rows} rows ({args.matrix_summary}); "
        f"{method_checks} unlisted-method requests over {len(spec['paths'])} paths, "
        f"{sum(1 for x in failures if 'unlisted' in x or 'expected 405' in x or 'problem document' in x)} not 405; "
        f"{len(bodies)} response bodies scanned ({har_entries} from {len(har_files)} fuzz HAR files) + server log, {len(leaks)} leaks, {time.time() - started:.0f} s",
    )


if __name__ == "__main__":
    raise SystemExit(main())
