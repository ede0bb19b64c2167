#!/usr/bin/env python3
"""Table and log-log figure of Scripts/bench_streaming_study.sh's runs (reads <out>/runs.jsonl and
each run's folder).

Writes <out>/streaming-study.md (a generated Markdown table) and <out>/streaming-study.svg (time
per query and peak resident memory against N, log-log, drawn like the recall figure by
bench_streaming_report.py's `svg`); generated files, rerun the script to regenerate. Per
run: the process's wall and CPU time and peak RSS (/usr/bin/time -v); for streamed runs the opening
(`compare print-study --study`: the checking pass) and the CPU time of the cell's T + 1 passes,
CPU(compare) − CPU(print-study), per query per pass and per (query, pattern, pass); the cell's own
wall time per query per step (`secondsPerQuery` at the largest T divided by T: streamed, the passes
that computed the steps with the measurements fused into them; in-memory, the dynamics alone); the
accuracy at T = 2; and for a streamed run with an in-memory twin the largest differences of the
cell's numbers (Scripts/compare_study_runs.py's `differences`).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_streaming_report import svg  # noqa: E402
from compare_study_runs import cells, differences  # noqa: E402

# The figure's series: the cell's own wall time per query per step (both paths), and for streamed
# runs the CPU time per query per pass (the steadier measure on a shared machine).
SERIES = {"streamed (cell wall)": "#0072B2", "in-memory (cell wall)": "#D55E00",
          "streamed (CPU per pass)": "#009E73", "streamed (user CPU per pass)": "#CC79A7",
          "streamed": "#0072B2", "in-memory": "#D55E00"}
PANELS = [("perQuery", 1e6, "µs per query per step (or pass)"), ("maxRSSMiB", 1, "peak resident memory (MiB)")]


def user_seconds(out, kind, n, mode):
    """User CPU time of one run, from its /usr/bin/time -v file (None when missing)."""
    try:
        for line in open(f"{out}/{kind}-n{n}-{mode}.time"):
            if "User time (seconds)" in line:
                return float(line.split(":")[1])
    except OSError:
        pass
    return None


def main() -> int:
    out = sys.argv[1] if len(sys.argv) > 1 else "report-bench-streaming-study"
    runs = [json.loads(line) for line in open(f"{out}/runs.jsonl") if line.strip()]
    by = {(r["kind"], r["mode"], r["count"]): r for r in runs}
    lines = ["| path | N | B | threads | opening: wall / CPU (s) | process wall (s) | process CPU (s) | "
             "CPU µs per query per pass | CPU ns per (query, pattern, pass) | user CPU ns per (query, pattern, pass) | "
             "cell wall µs per query per step | "
             "accuracy T = 2 | peak RSS (MiB) | max Δ vs in-memory (accuracy / converged / regime / rel. energy) | load |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    points = []
    for kind in ("streamed", "in-memory"):
        for n in sorted({r["count"] for r in runs if r["kind"] == kind and r["mode"] == "run"}):
            r = by[(kind, "run", n)]
            cell = cells(r["folder"])[0]
            last = cell["steps"][-1]
            per_step = last["secondsPerQuery"] / last["steps"]
            opening = by.get((kind, "open", n))
            passes = last["steps"] + 1
            open_text, cpu_query, cpu_ns, user_ns = "—", "—", "—", "—"
            if opening:
                open_text = f'{opening["wall"]:.1f} / {opening["cpu"]:.1f}'
                per_pass = (r["cpu"] - opening["cpu"]) / (passes * r["queries"])
                cpu_query = f"{per_pass * 1e6:,.0f}"
                cpu_ns = f"{per_pass / n * 1e9:.2f}"
                points.append({"kind": f"{kind} (CPU per pass)", "count": n, "perQuery": per_pass})
                user_run, user_open = user_seconds(out, kind, n, "run"), user_seconds(out, kind, n, "open")
                if user_run is not None and user_open is not None:
                    user_pass = (user_run - user_open) / (passes * r["queries"])
                    user_ns = f"{user_pass / n * 1e9:.2f}"
                    points.append({"kind": f"{kind} (user CPU per pass)", "count": n, "perQuery": user_pass})
            points.append({"kind": f"{kind} (cell wall)", "count": n, "perQuery": per_step})
            points.append({"kind": kind, "count": n, "maxRSSMiB": r["maxRSSKiB"] / 1024})
            diff = "—"
            twin = by.get(("in-memory", "run", n))
            if kind == "streamed" and twin:
                t = next(iter(differences(cells(twin["folder"]), cells(r["folder"])).values()))
                diff = f'{t["accuracy"]:.3g} / {t["converged"]:.3g} / {t["regime"]:.3g} / {t["energy (relative)"]:.1e}'
            lines.append(
                f'| {kind} | {n:,} | {r["queries"]} | {r["threads"]} | {open_text} | {r["wall"]:.1f} | {r["cpu"]:.1f} | '
                f'{cpu_query} | {cpu_ns} | {user_ns} | {per_step * 1e6:,.0f} | {last["accuracy"]:.3f} | '
                f'{r["maxRSSKiB"] / 1024:,.0f} | {diff} | {r["load"]} |')
    text = "\n".join(lines) + "\n"
    open(f"{out}/streaming-study.md", "w").write(text)
    print(text, end="")
    svg(points, f"{out}/streaming-study.svg", panels=PANELS, series=SERIES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
