#!/usr/bin/env python3
"""Per-layer summary of an `attractor heads` report (heads.json), as Markdown.

    python3 Scripts/heads_summary.py Docs/heads-minilm/heads.json

Per layer: heads per Ramsauer class, median over heads of median k₉₀/N and of β_eff, mean attention
mass on [CLS]+[SEP], the fixed points of the head memories summed over heads and sentences (global /
metastable / single pattern / unstable, and starts that did not converge), and the tokens the
single-pattern fixed points sit on.
"""
import collections
import json
import statistics
import sys


def main():
    r = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "Docs/heads-minilm/heads.json"))
    print("| layer | I | II | III | IV | median k₉₀/N | median β_eff | [CLS]+[SEP] mass | fixed points g/m/s/u | non-converged starts | single-pattern tokens |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for layer in range(r["layerCount"]):
        heads = [h for h in r["heads"] if h["layer"] == layer]
        classes = collections.Counter(h["ramsauerClass"] for h in heads)
        fp = {k: sum((h.get("fixedPoints") or {}).get(k, 0) for h in heads)
              for k in ["global", "metastable", "single", "unstable", "nonConverged"]}
        tokens = collections.Counter()
        for h in heads:
            tokens.update(h.get("singlePatternTokens") or {})
        top = ", ".join(f"{t} {n}" for t, n in tokens.most_common(3)) or "–"
        print(f"| {layer} | {classes['I']} | {classes['II']} | {classes['III']} | {classes['IV']} | "
              f"{statistics.median(h['medianK90Fraction'] for h in heads):.3f} | "
              f"{statistics.median(h['betaEffective'] for h in heads):.2f} | "
              f"{statistics.mean(h['specialTokenMass'] for h in heads):.2f} | "
              f"{fp['global']}/{fp['metastable']}/{fp['single']}/{fp['unstable']} | {fp['nonConverged']} | {top} |")


if __name__ == "__main__":
    main()
