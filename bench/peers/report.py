#!/usr/bin/env python3
"""Turns results/raw.jsonl (written by ./run) into results/results.md (the tables quoted in
BENCHMARKS.md) and throughput.svg (throughput against batch size, log-log). Stdlib only."""
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The folder of one run (`run` writes each run to a fresh results/run-<UTC time>/); by default
# the committed report in results/.
OUT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(HERE, "results")
NAMES = {"ladder": "ladder", "zen": "GoRules ZEN", "openfisca": "OpenFisca", "jre": "json-rules-engine"}
ORDER = ["ladder", "zen", "openfisca", "jre"]
COLORS = {"ladder": "#d62728", "ladder (chunked)": "#ff9896", "zen": "#1f77b4", "openfisca": "#2ca02c", "jre": "#9467bd"}


def load():
    rows = []
    with open(os.path.join(OUT, "raw.jsonl")) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def fmt(x, unit=""):
    if x is None:
        return "–"
    if x >= 100:
        s = f"{x:,.0f}"
    elif x >= 10:
        s = f"{x:.1f}"
    else:
        s = f"{x:.2f}"
    return s + unit


def ratio(x):
    return "–" if x is None else (f"{x:,.0f}×" if x >= 100 else f"{x:.1f}×" if x >= 10 else f"{x:.2f}×")


def main():
    rows = load()
    lat = {}
    for r in rows:
        if r.get("kind") == "latency":
            lat[(r["engine"], str(r["trace"]).lower())] = r
    batch = {}
    for r in rows:
        if r.get("kind") == "batch":
            key = r["engine"] + (" (chunked)" if r.get("mode") == "chunked" else "")
            batch[(key, r["n"])] = r
    checks = [r for r in rows if r.get("kind") == "check"]
    machine = next((r for r in rows if r.get("kind") == "machine"), {})
    machine = {**machine, **next((r for r in rows if r.get("kind") == "machine-end"), {})}
    sizes = sorted({n for (_, n) in batch})

    def lat_of(engine, trace):
        r = lat.get((engine, trace)) or (lat.get((engine, "always")) if engine == "jre" else None)
        return r

    md = []
    md.append("### Correctness (before any timing)\n")
    md.append("| engine | enterprises compared | mismatches with the golden file | status |")
    md.append("|---|---:|---:|---|")
    for c in checks:
        md.append(f"| {NAMES.get(c['engine'], c['engine'])} | {c.get('enterprises', '–'):,} | {c.get('mismatches', '–')} | {c['status']} |")
    md.append("")

    # ratios to ladder: how many times ladder is better (time, memory: peer / ladder; throughput: ladder / peer)
    md.append("### Ratios to ladder (how many times better ladder is; > 1 = ladder ahead)\n")
    head = ["engine", "latency, explanation on (median)", "latency, explanation off (median)", "p99, explanation on"]
    head += [f"throughput 10^{int(math.log10(n))}" for n in sizes]
    head += [f"peak RSS 10^{int(math.log10(n))}" for n in sizes[-1:]]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "---|" * len(head))
    lad_on, lad_off = lat_of("ladder", "true"), lat_of("ladder", "false")
    for e in ORDER[1:]:
        on, off = lat_of(e, "true"), lat_of(e, "false")
        cells = [NAMES[e]]
        cells.append(ratio(on["median_us"] / lad_on["median_us"]) if on and lad_on else "–")
        cells.append(ratio(off["median_us"] / lad_off["median_us"]) if off and lad_off else "–")
        cells.append(ratio(on["p99_us"] / lad_on["p99_us"]) if on and lad_on else "–")
        for n in sizes:
            a, b = batch.get(("ladder", n)), batch.get((e, n))
            cells.append(ratio(a["per_sec"] / b["per_sec"]) if a and b else "–")
        for n in sizes[-1:]:
            a, b = batch.get(("ladder", n)), batch.get((e, n))
            cells.append(ratio(b["max_rss_kb"] / a["max_rss_kb"]) if a and b else "–")
        md.append("| " + " | ".join(cells) + " |")
    md.append("")

    md.append("### Single-evaluation latency (one enterprise, both rule sets; µs)\n")
    md.append("| engine | explanation | median | p99 | samples |")
    md.append("|---|---|---:|---:|---:|")
    for e in ORDER:
        for t, label in (("true", "on"), ("false", "off"), ("always", "always on (no switch)")):
            r = lat.get((e, t))
            if r:
                md.append(f"| {NAMES[e]} | {label} | {fmt(r['median_us'])} | {fmt(r['p99_us'])} | {r['samples']:,} |")
    md.append("")

    md.append("### Batch throughput (enterprises graded per second, both rule sets, no explanation)\n")
    keys = [k for k in ["ladder", "ladder (chunked)", "zen", "openfisca", "jre"] if any((k, n) in batch for n in sizes)]
    md.append("| engine | mode | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    md.append("|---|---|" + "---:|" * len(sizes))
    for k in keys:
        mode = next((batch[(k, n)]["mode"] for n in sizes if (k, n) in batch), "")
        label = NAMES.get(k.split(" ")[0], k) + (" (chunks of 10,000)" if "chunked" in k else "")
        md.append(f"| {label} | {mode} | " + " | ".join(fmt(batch[(k, n)]["per_sec"]) if (k, n) in batch else "–" for n in sizes) + " |")
    md.append("")
    md.append("Grading time only (seconds), excluding loading the input:\n")
    md.append("| engine | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    md.append("|---|" + "---:|" * len(sizes))
    for k in keys:
        label = NAMES.get(k.split(" ")[0], k) + (" (chunks of 10,000)" if "chunked" in k else "")
        md.append(f"| {label} | " + " | ".join(fmt(batch[(k, n)]["eval_s"]) if (k, n) in batch else "–" for n in sizes) + " |")
    md.append("")

    md.append("### Peak memory (max RSS of the whole process, MiB: input held in the engine's form + grading)\n")
    md.append("| engine | " + " | ".join(f"{n:,}" for n in sizes) + " |")
    md.append("|---|" + "---:|" * len(sizes))
    for k in keys:
        label = NAMES.get(k.split(" ")[0], k) + (" (chunks of 10,000)" if "chunked" in k else "")
        md.append(f"| {label} | " + " | ".join(fmt(batch[(k, n)]["max_rss_kb"] / 1024) if (k, n) in batch else "–" for n in sizes) + " |")
    md.append("")
    if machine:
        md.append("### Machine\n")
        for k, v in machine.items():
            if k != "kind":
                md.append(f"- {k}: {v}")
        md.append("")
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write("\n".join(md))
    svg(batch, keys, sizes)
    print("\n".join(md))


def svg(batch, keys, sizes):
    W, H, L, R, T, B = 720, 440, 80, 200, 40, 60
    pts = [batch[(k, n)]["per_sec"] for k in keys for n in sizes if (k, n) in batch]
    if not pts or not sizes:
        return
    ylo = 10 ** math.floor(math.log10(min(pts)))
    yhi = 10 ** math.ceil(math.log10(max(pts)))
    xlo, xhi = math.log10(sizes[0]), math.log10(sizes[-1])
    X = lambda n: L + (math.log10(n) - xlo) / max(xhi - xlo, 1e-9) * (W - L - R)
    Y = lambda v: T + (1 - (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo))) * (H - T - B)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2 - R / 2}" y="22" text-anchor="middle" font-size="14">Batch throughput vs batch size (enterprises/s, log-log; same core)</text>']
    e = int(math.log10(ylo))
    while 10 ** e <= yhi:
        y = Y(10 ** e)
        o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L - 8}" y="{y + 4:.1f}" text-anchor="end">10^{e}</text>')
        e += 1
    for n in sizes:
        x = X(n)
        o.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#ddd"/>')
        o.append(f'<text x="{x:.1f}" y="{H - B + 18}" text-anchor="middle">{n:,}</text>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - 15}" text-anchor="middle">enterprises in the batch</text>')
    o.append(f'<text x="18" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 18 {(T + H - B) / 2})">enterprises graded per second</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#333"/>')
    for i, k in enumerate(keys):
        c = COLORS.get(k, "#333")
        p = [(X(n), Y(batch[(k, n)]["per_sec"])) for n in sizes if (k, n) in batch]
        o.append(f'<polyline fill="none" stroke="{c}" stroke-width="2.5" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in p)}"/>')
        for x, y in p:
            o.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{c}"/>')
        ly = T + 20 + i * 22
        label = NAMES.get(k.split(" ")[0], k) + (" (chunked)" if "chunked" in k else "")
        o.append(f'<line x1="{W - R + 15}" y1="{ly}" x2="{W - R + 40}" y2="{ly}" stroke="{c}" stroke-width="2.5"/>')
        o.append(f'<text x="{W - R + 46}" y="{ly + 4}">{label}</text>')
    o.append("</svg>")
    with open(os.path.join(OUT, "throughput.svg"), "w") as f:
        f.write("\n".join(o) + "\n")


if __name__ == "__main__":
    main()
