#!/usr/bin/env python3
"""Compares two finished `attractor compare` report folders cell by cell, times aside.

    python3 Scripts/compare_study_runs.py A B            # per model: largest differences between A and B
    python3 Scripts/compare_study_runs.py --equal A B    # exit 1 unless cells and report rows are identical

Both folders must hold the same study's cells (same cell count and order; the precision may
differ, which is what the per-model table is for). Times (`setupSeconds`, `secondsPerQuery`,
`microsecondsPerQuery`, `cellSeconds`), the lines' checksums (over the times) and the `precision`
and `blasThreads` fields are ignored; everything else is compared: accuracies, converged
fractions, steps to converge, energy drops and regime fractions at every T.
"""
import json
import sys

IGNORED = {"setupSeconds", "secondsPerQuery", "microsecondsPerQuery", "cellSeconds", "checksum", "precision",
           "blasThreads"}


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in IGNORED}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def cells(folder):
    with open(f"{folder}/cells.jsonl") as f:
        lines = f.read().splitlines()
    return [json.loads(line) for line in lines[1:]]


def rows(folder):
    with open(f"{folder}/results.json") as f:
        return strip(json.load(f)["rows"])


def differences(a, b):
    """Per model: number of cells, cells that differ, and the largest differences."""
    table = {}
    for x, y in zip(a, b):
        if (x["index"], x["model"], x["dataset"], x["seed"]) != (y["index"], y["model"], y["dataset"], y["seed"]):
            sys.exit(f"the folders hold different cells (cell {x['index']} against cell {y['index']})")
        t = table.setdefault(x["model"], {"cells": 0, "differing cells": 0, "accuracy": 0.0, "converged": 0.0,
                                          "steps": 0.0, "steps n/a in one": 0, "energy (relative)": 0.0, "regime": 0.0})
        t["cells"] += 1
        if strip(x) != strip(y):
            t["differing cells"] += 1
        t["accuracy"] = max(t["accuracy"], abs(x["initialAccuracy"] - y["initialAccuracy"]))
        for p, q in zip(x["steps"], y["steps"]):
            t["accuracy"] = max(t["accuracy"], abs(p["accuracy"] - q["accuracy"]))
            t["converged"] = max(t["converged"], abs(p["convergedFraction"] - q["convergedFraction"]))
            if (p.get("meanStepsToConverge") is None) != (q.get("meanStepsToConverge") is None):
                t["steps n/a in one"] += 1  # no query converged by T in one of the runs
            elif p.get("meanStepsToConverge") is not None:
                t["steps"] = max(t["steps"], abs(p["meanStepsToConverge"] - q["meanStepsToConverge"]))
            if p.get("energyReduction") is not None and q.get("energyReduction") is not None:
                scale = max(1e-12, abs(q["energyReduction"]))
                t["energy (relative)"] = max(t["energy (relative)"],
                                             abs(p["energyReduction"] - q["energyReduction"]) / scale)
            if p.get("regime") and q.get("regime"):
                for k in p["regime"]:
                    t["regime"] = max(t["regime"], abs(p["regime"][k] - q["regime"][k]))
    return table


def main():
    args = sys.argv[1:]
    equal = "--equal" in args
    args = [a for a in args if a != "--equal"]
    if len(args) != 2:
        sys.exit(__doc__)
    a, b = cells(args[0]), cells(args[1])
    if len(a) != len(b):
        sys.exit(f"{args[0]} has {len(a)} cells, {args[1]} has {len(b)}")
    if equal:
        bad = [x["index"] for x, y in zip(a, b) if strip(x) != strip(y)]
        if bad:
            sys.exit(f"{len(bad)} of {len(a)} cells differ (first: {bad[:10]})")
        if rows(args[0]) != rows(args[1]):
            sys.exit("the report rows differ")
        print(f"identical: {len(a)} cells and {len(rows(args[0]))} report rows (times aside)")
        return
    table = differences(a, b)
    print("| model | cells | cells that differ | max Δ accuracy | max Δ converged fraction | max Δ mean steps | "
          "(T, cell) with steps n/a in one run only | max relative Δ energy drop | max Δ regime fraction |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model, t in table.items():
        print(f"| {model} | {t['cells']} | {t['differing cells']} | {t['accuracy']:.4g} | {t['converged']:.4g} | "
              f"{t['steps']:.4g} | {t['steps n/a in one']} | {t['energy (relative)']:.2g} | {t['regime']:.4g} |")


if __name__ == "__main__":
    main()
