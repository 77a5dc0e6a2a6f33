"""Spec fuzzing: schemathesis against /api/v1/openapi.json of a running release build, once per
role (anonymous, enterprise, reviewer, official, admin; tokens from POST /api/v1/auth/login),
`--checks all`, positive and negative data (`--mode all`), every phase (examples, coverage,
fuzzing, stateful: schemathesis infers the links between operations from the spec).

Each role gets its own freshly seeded SQLite database and server, so one role's writes (an
admin disabling accounts, say) cannot starve another's run. Requests are counted from the
HAR file schemathesis writes (every request it sent, checks included); server errors are
responses >= 500 in it; spec violations are schemathesis's failures of every other kind.

usage: fuzz.py [--examples 25] [--max-time 150] [--roles anonymous,enterprise,...]
"""

import argparse
import json
import os
import re
import subprocess
import time

import common
from common import log

HERE = os.path.dirname(os.path.abspath(__file__))
ROLES = ["anonymous", "enterprise", "reviewer", "official", "admin"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", "25")))
    ap.add_argument("--max-time", type=int, default=int(os.environ.get("FUZZ_MAX_TIME", "150")))
    ap.add_argument("--roles", default=",".join(ROLES))
    ap.add_argument("--workers", default=os.environ.get("FUZZ_WORKERS", "2"))
    ap.add_argument("--seed", default=os.environ.get("FUZZ_SEED", ""))
    args = ap.parse_args()
    started = time.time()
    outdir = os.path.join(common.OUT, "fuzz")
    os.makedirs(outdir, exist_ok=True)
    st = os.path.join(HERE, ".venv", "bin", "schemathesis")
    totals = {"requests": 0, "cases": 0, "server_errors": 0, "violations": 0, "tool_errors": 0}
    per_role, details = [], []
    for role in args.roles.split(","):
        url = common.sqlite_db(f"fuzz-{role}")
        common.seeded(url)
        server = common.Server(url, log_name=f"fuzz-{role}-serve.log", extra_env={"LADDER_ACCESS_TTL_SECS": "7200", "LADDER_LOG": "error"}).start()
        try:
            headers = []
            if role != "anonymous":
                user, password = common.DEMO[role]
                headers = ["-H", f"Authorization: Bearer {common.login(server.base, user, password)}"]
            har = os.path.join(outdir, f"{role}.har")
            if os.path.exists(har):
                os.remove(har)
            cmd = [st, "--config-file", os.path.join(HERE, "schemathesis.toml"), "--no-color", "run", f"{server.base}/api/v1/openapi.json",
                   "--checks", "all", "--mode", "all", "--phases", "examples,coverage,fuzzing,stateful",
                   "--max-examples", str(args.examples), "--max-time", str(args.max_time), "--workers", args.workers,
                   "--request-timeout", "30", "--suppress-health-check", "all",
                   "--report", "har", "--report-har-path", har, *headers]
            if args.seed:
                cmd += ["--seed", args.seed]
            log(f"fuzz[{role}]: {' '.join(c if not c.startswith('Authorization') else 'Authorization: Bearer …' for c in cmd)}")
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.max_time * 4 + 300)
            text = p.stdout + p.stderr
            with open(os.path.join(outdir, f"{role}.txt"), "w") as f:
                f.write(text)
            alive = server.alive()
        finally:
            server.stop()
        entries = []
        try:
            entries = json.load(open(har))["log"]["entries"]
        except (OSError, ValueError, KeyError) as e:
            log(f"fuzz[{role}]: no HAR ({e})")
        requests_ = len(entries)
        server_errors = sum(1 for e in entries if int(e.get("response", {}).get("status", 0) or 0) >= 500)
        m = re.search(r"(\d+) generated", text)
        cases = int(m.group(1)) if m else 0
        failures = {}
        in_failures = False
        for line in text.splitlines():
            if line.strip() == "Failures:":
                in_failures = True
                continue
            if in_failures:
                fm = re.match(r"\s*\S+\s+(ST\d+|[A-Z]+\d*)?\s*(.+?):\s*(\d+)\s*$", line)
                if fm:
                    failures[f"{fm.group(1) or ''} {fm.group(2)}".strip()] = int(fm.group(3))
                elif line.strip() == "" and failures:
                    in_failures = False
        se = sum(n for k, n in failures.items() if "server error" in k.lower())
        viol = sum(n for k, n in failures.items() if "server error" not in k.lower())
        em = re.search(r"(\d+) errors?\b", text.splitlines()[-1] if text.splitlines() else "")
        tool_errors = int(em.group(1)) if em else 0
        totals["requests"] += requests_
        totals["cases"] += cases
        totals["server_errors"] += max(server_errors, se)
        totals["violations"] += viol
        per_role.append(f"{role} {requests_}")
        details.append({"role": role, "requests": requests_, "test_cases": cases, "server_errors_5xx": server_errors, "failures": failures,
                        "exit": p.returncode, "server_alive": alive, "last_line": text.splitlines()[-1] if text.splitlines() else ""})
        log(f"fuzz[{role}]: {requests_} requests, {cases} test cases, {server_errors} responses >= 500, failures {failures}, exit {p.returncode}, "
            f"server {'up' if alive else 'DOWN'}; {text.splitlines()[-1] if text.splitlines() else ''}")
        if not alive:
            totals["server_errors"] += 1
        # schemathesis's own errors (a generator crash, say) are not answers of the service: counted
        # apart, see the role's .txt.
        totals["tool_errors"] += tool_errors
    with open(os.path.join(outdir, "summary.json"), "w") as f:
        json.dump({"totals": totals, "roles": details}, f, indent=1)
    ok = totals["server_errors"] == 0 and totals["violations"] == 0 and totals["requests"] >= 5000
    return common.verdict(
        "fuzz",
        ok,
        f"{totals['requests']} requests ({', '.join(per_role)}; {totals['cases']} generated test cases), {totals['server_errors']} server errors, "
        f"{totals['violations']} spec violations, {totals['tool_errors']} schemathesis-internal errors, {time.time() - started:.0f} s",
    )


if __name__ == "__main__":
    raise SystemExit(main())
