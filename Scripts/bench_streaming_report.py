#!/usr/bin/env python3
"""Table and log-log figure of Scripts/bench_streaming.sh's runs (reads <out>/runs.jsonl).

Writes <out>/streaming.md (Markdown table) and <out>/streaming.svg (time per query per step and
peak resident memory against N, log-log). Generated files; rerun the script to regenerate.
"""
import json
import math
import re
import sys


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else "report-bench-streaming"
    runs = [json.loads(line) for line in open(f"{out}/runs.jsonl") if line.strip()]
    by = {(r["kind"], r["count"], r["steps"]): r for r in runs}
    rows = []
    for kind in ("streamed", "in-memory"):
        for n in sorted({r["count"] for r in runs if r["kind"] == kind}):
            t2 = by.get((kind, n, 2))
            if not t2:
                continue
            b = t2["queries"]
            if kind == "streamed":
                note = next(x for x in json.load(open(t2["report"]))["notes"] if x.startswith("timing:"))
                opening = float(re.search(r"the file ([0-9.]+) s wall", note).group(1))
                passes = int(re.search(r"(\d+) passes", note).group(1))
                wall = float(re.search(r"over it ([0-9.]+) s wall", note).group(1)) / (passes * b)
                cpu = float(re.search(r"([0-9.]+) s CPU", note).group(1)) / (passes * b)
            else:
                t0 = by.get((kind, n, 0))
                if not t0:
                    continue
                opening = None
                wall = (t2["wall"] - t0["wall"]) / (2 * b)
                cpu = (t2["cpu"] - t0["cpu"]) / (2 * b)
            row = {"kind": kind, "count": n, "open": opening, "perQueryStep": wall, "cpuPerQueryStep": cpu,
                   "maxRSSMiB": t2["maxRSSKiB"] / 1024, "load": t2["load"], "threads": t2["threads"], "queries": b}
            if kind == "streamed" and ("in-memory", n, 2) in by:
                row["difference"] = compare(t2["report"], by[("in-memory", n, 2)]["report"])
            rows.append(row)
    lines = ["| path | N | B | threads | open + check (s) | µs per query per step (wall) | µs (CPU) | CPU ns per pattern | peak RSS (MiB) | max rel. diff. vs in-memory | load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        diff = f'{r["difference"]:.1e}' if "difference" in r else "—"
        opening = f'{r["open"]:.2f}' if r["open"] is not None else "—"
        lines.append(f'| {r["kind"]} | {r["count"]:,} | {r["queries"]} | {r["threads"]} | {opening} | '
                     f'{r["perQueryStep"] * 1e6:,.1f} | {r["cpuPerQueryStep"] * 1e6:,.1f} | '
                     f'{r["cpuPerQueryStep"] / r["count"] * 1e9:.2f} | '
                     f'{r["maxRSSMiB"]:,.0f} | {diff} | {r["load"]} |')
    open(f"{out}/streaming.md", "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))
    svg(rows, f"{out}/streaming.svg")
    return 0


def compare(a_path, b_path):
    """Largest relative difference of the per-step metrics of two recall reports."""
    a, b = json.load(open(a_path)), json.load(open(b_path))
    worst = 0.0
    for x, y in zip(a["steps"], b["steps"]):
        for key in ("accuracy", "meanEnergy", "meanStepSize", "convergedFraction"):
            if x.get(key) is None or y.get(key) is None:
                continue
            worst = max(worst, abs(x[key] - y[key]) / max(abs(y[key]), 1e-30))
    return worst


RECALL_PANELS = [("cpuPerQueryStep", 1e6, "CPU µs per query per step"), ("maxRSSMiB", 1, "peak resident memory (MiB)")]
RECALL_SERIES = {"streamed": "#0072B2", "in-memory": "#D55E00"}


def svg(rows, path, panels=RECALL_PANELS, series=RECALL_SERIES):
    """Log-log panels against N, one per (key, factor, label) of `panels` (default: µs per query
    per step and peak RSS in MiB); one line per row "kind" of `series` (kind -> colour), drawn
    where the row has the panel's key. Also used by bench_streaming_study_report.py."""
    width, height, margin = 900, 400, 70
    colours = series
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>']
    counts = [r["count"] for r in rows]
    xlo, xhi = math.floor(math.log10(min(counts))), math.ceil(math.log10(max(counts)))
    pw = (width - (len(panels) + 1) * margin) / len(panels)
    ph = height - 2 * margin
    for p, (key, factor, label) in enumerate(panels):
        values = [r[key] * factor for r in rows if r.get(key) is not None and r[key] > 0]
        ylo, yhi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
        if yhi == ylo:
            yhi += 1
        x0 = margin + p * (pw + margin)
        X = lambda n: x0 + (math.log10(n) - xlo) / (xhi - xlo) * pw
        Y = lambda v: margin + ph - (math.log10(v) - ylo) / (yhi - ylo) * ph
        parts.append(f'<rect x="{x0}" y="{margin}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
        for e in range(xlo, xhi + 1):
            parts.append(f'<line x1="{X(10**e)}" y1="{margin}" x2="{X(10**e)}" y2="{margin + ph}" stroke="#ddd"/>')
            parts.append(f'<text x="{X(10**e)}" y="{margin + ph + 16}" text-anchor="middle">10^{e}</text>')
        for e in range(ylo, yhi + 1):
            parts.append(f'<line x1="{x0}" y1="{Y(10**e)}" x2="{x0 + pw}" y2="{Y(10**e)}" stroke="#ddd"/>')
            parts.append(f'<text x="{x0 - 6}" y="{Y(10**e) + 4}" text-anchor="end">10^{e}</text>')
        parts.append(f'<text x="{x0 + pw / 2}" y="{margin + ph + 36}" text-anchor="middle">stored patterns N (d = 64)</text>')
        parts.append(f'<text x="{x0 + pw / 2}" y="{margin - 12}" text-anchor="middle" font-weight="bold">{label}</text>')
        k = 0
        for kind, colour in colours.items():
            pts = [(r["count"], r[key] * factor) for r in rows
                   if r["kind"] == kind and r.get(key) is not None and r[key] > 0]
            if not pts:
                continue
            parts.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (
                colour, " ".join(f"{X(n):.1f},{Y(v):.1f}" for n, v in pts)))
            for n, v in pts:
                parts.append(f'<circle cx="{X(n):.1f}" cy="{Y(v):.1f}" r="4" fill="{colour}"/>')
            parts.append(f'<text x="{x0 + 10}" y="{margin + 18 + 16 * k}" fill="{colour}">{kind}</text>')
            k += 1
    parts.append("</svg>")
    open(path, "w").write("\n".join(parts) + "\n")


if __name__ == "__main__":
    sys.exit(main())
