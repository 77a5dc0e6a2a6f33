"""Load: wrk (Debian's package) with load.lua, against a release build on SQLite (the default
store) seeded with the demo data set.

  1. the mix: 70% reads (GET /enterprises/{id}, GET /enterprises/{id}/eligibility), 20%
     evaluations (POST /evaluations), 10% writes (PUT /enterprises/{id}/facts/{year}) at a
     fixed rate (LOAD_RATE, default 400/s) on 64 connections for 60 s. Pass: 0 errors (no
     socket error, every status 2xx) and the rate held (≥ 95% of the requests scheduled).
  2. a login flood beside reads: reads alone at a fixed rate for 30 s (the quiet p99), then
     the same reads while another wrk sends correct logins (argon2 verify) as fast as 32
     connections allow. Pass: reads' p99 ≤ 3 × the quiet p99 and the server's peak RSS
     (VmHWM, sampled VmRSS too) ≤ 300 MiB, no read errors.

Latency is measured from each request's intended start (load.lua), so a stall is charged
to every request that should have gone out during it.

usage: load.py [--rate 400] [--seconds 60] [--conns 64] [--flood-seconds 30] [--read-rate 200]
"""

import argparse
import json
import os
import subprocess
import threading
import time

import requests

import common
from common import log

HERE = os.path.dirname(os.path.abspath(__file__))


def wrk(base, mode, rate, conns, seconds, env_extra):
    env = dict(os.environ)
    env.update({"LOAD_MODE": mode, "LOAD_RATE": str(rate), "LOAD_CONNS": str(conns), **env_extra})
    cmd = ["wrk", "-t", str(conns), "-c", str(conns), "-d", f"{seconds}s", "--timeout", "10s", "-s", os.path.join(HERE, "load.lua"), base]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 120)
    for line in p.stdout.splitlines():
        if line.startswith("LADDER_RESULT "):
            return json.loads(line[len("LADDER_RESULT "):])
    raise RuntimeError(f"wrk printed no result ({p.returncode}): {p.stdout[-1500:]} {p.stderr[-1500:]}")


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop, self.max_rss_kib, self.hwm_kib = pid, threading.Event(), 0, 0

    def read(self):
        vals = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":")
                    vals[k] = int(v.split()[0])
        return vals

    def run(self):
        while not self.stop.is_set():
            try:
                v = self.read()
                self.max_rss_kib = max(self.max_rss_kib, v.get("VmRSS", 0))
                self.hwm_kib = max(self.hwm_kib, v.get("VmHWM", 0))
            except OSError:
                pass
            time.sleep(0.25)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=int(os.environ.get("LOAD_RATE", "400")))
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--read-rate", type=int, default=200)
    ap.add_argument("--read-conns", type=int, default=32)
    ap.add_argument("--flood-seconds", type=int, default=30)
    ap.add_argument("--flood-conns", type=int, default=32)
    args = ap.parse_args()
    started = time.time()
    url = common.sqlite_db("load")
    common.seeded(url)
    common.cli(url, "users", "create", "--username", "flood", "--role", "official", "--password-stdin", stdin="flood-password-2025!")
    server = common.Server(url, log_name="load-serve.log", extra_env={"LADDER_ACCESS_TTL_SECS": "7200", "LADDER_MAX_FAILED_LOGINS": "1000000"}).start()
    sampler = RssSampler(server.pid())
    sampler.start()
    tok = common.tokens(server.base)
    s = common.session(tok["admin"])
    ids = [str(e["id"]) for e in s.get(server.base + "/api/v1/enterprises", params={"limit": 500}, timeout=30).json()["items"]]
    env = {"LOAD_TOKEN": tok["admin"], "LOAD_IDS": ",".join(ids), "LOAD_YEAR": "2024",
           "LOAD_LOGIN": json.dumps({"username": "flood", "password": "flood-password-2025!"})}
    # Warm up (caches, connections, page cache).
    wrk(server.base, "mix", 100, 8, 5, env)

    mix = wrk(server.base, "mix", args.rate, args.conns, args.seconds, env)
    mix_rss = sampler.hwm_kib
    scheduled = args.rate * args.seconds
    sent = mix["all"]["n"]
    sock = sum(mix["socket_errors"].values())
    mix_ok = mix["all"]["errors"] == 0 and sock == 0 and sent >= 0.95 * scheduled
    log(f"mix: {json.dumps(mix)}")

    quiet = wrk(server.base, "reads", args.read_rate, args.read_conns, args.flood_seconds, env)
    log(f"quiet reads: {json.dumps(quiet)}")
    flood_result = {}

    def flood():
        flood_result.update(wrk(server.base, "login", 0, args.flood_conns, args.flood_seconds + 2, env))

    ft = threading.Thread(target=flood)
    ft.start()
    time.sleep(1)
    loud = wrk(server.base, "reads", args.read_rate, args.read_conns, args.flood_seconds, env)
    ft.join()
    log(f"reads under the login flood: {json.dumps(loud)}")
    log(f"login flood: {json.dumps(flood_result)}")
    sampler.stop.set()
    time.sleep(0.3)
    try:
        final = sampler.read()
    except OSError:
        final = {}
    hwm_mib = max(sampler.hwm_kib, final.get("VmHWM", 0)) / 1024
    alive = server.alive()
    server.stop()

    q99, l99 = quiet["all"]["p99_ms"], loud["all"]["p99_ms"]
    ratio = l99 / q99 if q99 else float("inf")
    flood_ok = ratio <= 3.0 and hwm_mib <= 300 and loud["all"]["errors"] == 0 and sum(loud["socket_errors"].values()) == 0
    result = {"mix": mix, "quiet": quiet, "loud": loud, "flood": flood_result, "rss_hwm_mib": hwm_mib, "rss_hwm_after_mix_mib": mix_rss / 1024,
              "rate": args.rate, "seconds": args.seconds, "conns": args.conns}
    with open(os.path.join(common.OUT, "load.json"), "w") as f:
        json.dump(result, f, indent=1)
    per = " ".join(f"{k} p50 {v['p50_ms']:.1f}/p99 {v['p99_ms']:.1f} ms;" for k, v in sorted(mix.items()) if isinstance(v, dict) and "p99_ms" in v and k != "all")
    flood_logins = flood_result.get("all", {}).get("n", 0)
    return common.verdict(
        "load",
        mix_ok and flood_ok and alive,
        f"mix {sent}/{scheduled} requests at {args.rate}/s on {args.conns} connections for {args.seconds} s, {mix['all']['errors']} errors, "
        f"{sock} socket errors, p50 {mix['all']['p50_ms']:.1f} ms, p99 {mix['all']['p99_ms']:.1f} ms ({per.rstrip(';')}); "
        f"login flood ({flood_logins} logins in {args.flood_seconds} s, {flood_result.get('all', {}).get('errors', '?')} non-2xx): reads p99 {l99:.1f} ms vs quiet {q99:.1f} ms "
        f"(x{ratio:.2f}, limit 3), peak RSS {hwm_mib:.0f} MiB (limit 300), {time.time() - started:.0f} s",
    )


if __name__ == "__main__":
    raise SystemExit(main())
