#!/usr/bin/env python3
"""Compares an engine's outcomes with the golden file (ladder's): outcome, route, score and
score_max of both tiers for every enterprise. Exit 1 on any mismatch (timings do not count then).
Usage: python3 compare.py out/zen.jsonl [data/golden.jsonl]"""
import json
import sys
from decimal import Decimal

FIELDS = ("outcome", "route", "score", "score_max")


def load(path):
    with open(path) as f:
        return {r["id"]: r for r in map(json.loads, filter(str.strip, f))}


def norm(k, v):
    return Decimal(str(v)).normalize() if k.startswith("score") and v is not None else v


def main():
    got_path = sys.argv[1]
    golden = load(sys.argv[2] if len(sys.argv) > 2 else "data/golden.jsonl")
    got = load(got_path)
    bad = []
    for i, g in golden.items():
        r = got.get(i)
        if r is None:
            bad.append(f"{i}: missing from {got_path}")
            continue
        for tier in ("little_giant", "tech_sme"):
            for k in FIELDS:
                a, b = norm(k, g[tier].get(k)), norm(k, r.get(tier, {}).get(k))
                if a != b:
                    bad.append(f"{i} {tier}.{k}: golden {a}, got {b}")
    extra = len(set(got) - set(golden))
    outcomes = {}
    for g in golden.values():
        for tier in ("little_giant", "tech_sme"):
            key = f"{tier}:{g[tier]['outcome']}"
            outcomes[key] = outcomes.get(key, 0) + 1
    status = "OK" if not bad and not extra else "MISMATCH"
    print(json.dumps({"file": got_path, "status": status, "enterprises": len(golden), "mismatches": len(bad),
                      "extra": extra, "golden_outcomes": dict(sorted(outcomes.items()))}))
    for line in bad[:25]:
        print("  " + line)
    sys.exit(0 if status == "OK" else 1)


if __name__ == "__main__":
    main()
