#!/usr/bin/env python3
"""OpenFisca runner (run from bench/peers with .venv/bin/python):
  check                         grade data/correctness.jsonl → out/openfisca.jsonl
  latency --trace on|off [--samples K]   one enterprise per simulation, calculate() timed
  batch --n N                   one vectorised simulation over N enterprises, calculate() timed
"""
import argparse
import json
import os
import sys
import time
from collections import OrderedDict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ladder_of import FACTS, MISSING, OUTCOMES, ROUTES, SCALE, tax_benefit_system  # noqa: E402
from openfisca_core.simulation_builder import SimulationBuilder  # noqa: E402

OUT_VARS = ["lg_outcome", "lg_route", "ts_outcome", "ts_route", "ts_score", "ts_score_max"]


def peak_rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def records(path, limit=None):
    with open(path) as f:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                break
            if line.strip():
                yield json.loads(line)


def cell(kind, v):
    if kind == "flag":
        return 1 if v else 0
    x = float(v) * SCALE
    r = round(x)
    if abs(x - r) > 1e-6:
        raise ValueError(f"{v} has more than 4 decimals")
    return r


class Columns:
    """Input arrays of one simulation, filled record by record (the records are not kept)."""

    def __init__(self, n, year):
        self.n, self.year, self.i = n, year, 0
        self.cols = {}
        self.holds_srdi = np.zeros(n, dtype=bool)
        self.holds_champion = np.zeros(n, dtype=bool)
        self.renewal = np.zeros(n, dtype=bool)

    def add(self, rec):
        i = self.i
        self.i += 1
        holds = rec.get("holds") or []
        self.holds_srdi[i] = "srdi_sme" in holds
        self.holds_champion[i] = "single_champion" in holds
        self.renewal[i] = bool(rec.get("renewal"))
        for fy, row in (rec.get("facts") or {}).items():
            fy = int(fy)
            if not 0 <= self.year - fy <= 5:
                continue
            for code, v in row.items():
                kind = FACTS.get(code)
                if kind is None or v is None:
                    continue
                col = self.cols.get((code, fy))
                if col is None:
                    col = self.cols[(code, fy)] = np.full(self.n, 0 if kind == "rank" else MISSING, dtype=np.int32)
                col[i] = cell(kind, v)

    def simulation(self, tbs, trace=False):
        sim = SimulationBuilder().build_default_simulation(tbs, count=self.n)
        sim.trace = trace
        for (code, fy), col in self.cols.items():
            sim.set_input(code, str(fy), col)
        for name, arr in (("holds_srdi_sme", self.holds_srdi), ("holds_single_champion", self.holds_champion),
                          ("renewal", self.renewal)):
            sim.set_input(name, "ETERNITY", arr)
        return sim


def calculate(sim, as_of):
    return {v: sim.calculate(v, as_of) for v in OUT_VARS}


def summaries(res, i):
    lg = int(res["lg_outcome"][i])
    ts = int(res["ts_outcome"][i])
    lo, hi = int(res["ts_score"][i]), int(res["ts_score_max"][i])
    in_force = ts != 3
    return {
        "little_giant": {"outcome": OUTCOMES[lg], "route": ROUTES[int(res["lg_route"][i])], "score": None, "score_max": None},
        "tech_sme": {"outcome": OUTCOMES[ts], "route": ROUTES[int(res["ts_route"][i])],
                     "score": str(lo) if in_force else None, "score_max": str(hi) if in_force and hi != lo else None},
    }


def check(args):
    tbs = tax_benefit_system()
    recs = list(records("data/correctness.jsonl"))
    groups = OrderedDict()
    for rec in recs:
        groups.setdefault(rec["as_of"], []).append(rec)
    out = {}
    for as_of, group in groups.items():
        cols = Columns(len(group), int(as_of[:4]))
        for rec in group:
            cols.add(rec)
        res_off = calculate(cols.simulation(tbs, trace=False), as_of)
        res_on = calculate(cols.simulation(tbs, trace=True), as_of)
        for i, rec in enumerate(group):
            s = summaries(res_off, i)
            if s != summaries(res_on, i):
                raise SystemExit(f"{rec['id']}: trace on and off disagree")
            out[rec["id"]] = s
    os.makedirs("out", exist_ok=True)
    with open("out/openfisca.jsonl", "w") as f:
        for rec in recs:
            f.write(json.dumps({"id": rec["id"], **out[rec["id"]]}, ensure_ascii=False) + "\n")
    print(f"openfisca: graded {len(recs)} enterprises in {len(groups)} periods → out/openfisca.jsonl", file=sys.stderr)


def latency(args):
    tbs = tax_benefit_system()
    trace = args.trace == "on"
    recs = list(records("data/correctness.jsonl"))[: args.samples]
    ns = []
    for rep in range(2):  # the first pass warms up
        for rec in recs:
            cols = Columns(1, int(rec["as_of"][:4]))
            cols.add(rec)
            sim = cols.simulation(tbs, trace=trace)
            t = time.perf_counter_ns()
            calculate(sim, rec["as_of"])
            dt = time.perf_counter_ns() - t
            if rep:
                ns.append(dt)
    ns.sort()
    at = lambda q: ns[round((len(ns) - 1) * q)]
    print(json.dumps({"engine": "openfisca", "kind": "latency", "trace": trace, "samples": len(ns),
                      "median_us": at(0.5) / 1e3, "p99_us": at(0.99) / 1e3}))


def batch(args):
    tbs = tax_benefit_system()
    t0 = time.perf_counter()
    cols = None
    as_of = None
    for rec in records("data/batch.jsonl", args.n):
        if cols is None:
            as_of = rec["as_of"]
            cols = Columns(args.n, int(as_of[:4]))
        if rec["as_of"] != as_of:
            raise SystemExit("the batch must share one assessment date")
        cols.add(rec)
    if cols is None or cols.i != args.n:
        raise SystemExit(f"data/batch.jsonl holds fewer than {args.n} enterprises")
    sim = cols.simulation(tbs, trace=False)
    load_s = time.perf_counter() - t0
    rss_loaded = peak_rss_kb()
    t = time.perf_counter()
    res = calculate(sim, as_of)
    eval_s = time.perf_counter() - t
    count = lambda a: [int((a == 2).sum()), int((a == 0).sum()), int((a == 1).sum())]
    print(json.dumps({"engine": "openfisca", "kind": "batch", "mode": "vectorised", "n": args.n,
                      "eval_s": eval_s, "per_sec": args.n / eval_s, "load_s": load_s,
                      "peak_rss_kb": peak_rss_kb(), "rss_after_load_kb": rss_loaded,
                      "tally": {"lg": count(res["lg_outcome"]), "ts": count(res["ts_outcome"]),
                                "ts_score_sum": str(int(res["ts_score"].astype(np.int64).sum()))}}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["check", "latency", "batch"])
    ap.add_argument("--trace", default="off")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--n", type=int, default=10000)
    a = ap.parse_args()
    {"check": check, "latency": latency, "batch": batch}[a.cmd](a)
