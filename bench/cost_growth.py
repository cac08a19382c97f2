#!/usr/bin/env python3
"""Fits the cost-growth exponents of the CostGrowthBench sweeps and draws the log-log chart.

usage: bench/cost_growth.py OUT_DIR   (reads d.csv, pixels.csv, classes.csv, refs.csv written by
bench/cost-growth.sh; writes OUT_DIR/cost-growth.md and OUT_DIR/cost-growth.png)

The exponent of a kernel along a parameter is the slope of log(time) against log(parameter) by
least squares over the sweep; "local" slopes between neighbouring points show where the growth
changes (a kernel leaving a cache level shows as a steeper step).
"""
import csv
import math
import os
import sys

SWEEPS = [("d", "Param: d", "feature dimension d"),
          ("pixels", "Param: size", "frame pixels (M)"),
          ("classes", "Param: classes", "classes present"),
          ("refs", "Param: refs", "references per class")]


def value(sweep, raw):
    if sweep == "pixels":
        w0, h0 = raw.split("x")
        return 64 * int(w0) * int(h0) / 1e6
    return float(raw)


def read(path, sweep, column):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            kernel = r["Benchmark"].rsplit(".", 1)[1]
            rows.setdefault(kernel, []).append((value(sweep, r[column]), float(r["Score"])))
    return {k: sorted(v) for k, v in rows.items()}


def slope(points):
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def main(out):
    data = {}
    for sweep, column, _ in SWEEPS:
        path = os.path.join(out, sweep + ".csv")
        if os.path.exists(path):
            data[sweep] = read(path, sweep, column)
    lines = ["| kernel | swept | values | ms per frame | fitted exponent | local exponents |", "|---|---|---|---|---|---|"]
    for sweep, _, label in SWEEPS:
        for kernel, pts in sorted(data.get(sweep, {}).items()):
            local = [math.log(b[1] / a[1]) / math.log(b[0] / a[0]) for a, b in zip(pts, pts[1:])]
            lines.append("| %s | %s | %s | %s | %.2f | %s |" % (
                kernel, label, ", ".join("%g" % round(x, 2) for x, _ in pts), ", ".join("%.3g" % y for _, y in pts),
                slope(pts), ", ".join("%.2f" % s for s in local)))
    table = "\n".join(lines) + "\n"
    with open(os.path.join(out, "cost-growth.md"), "w") as f:
        f.write(table)
    print(table)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart (apt-get install python3-matplotlib)", file=sys.stderr)
        return
    sweeps = [s for s in SWEEPS if s[0] in data]
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.2 * len(sweeps), 3.8))
    if len(sweeps) == 1:
        axes = [axes]
    for ax, (sweep, _, label) in zip(axes, sweeps):
        for kernel, pts in sorted(data[sweep].items()):
            ax.loglog([x for x, _ in pts], [y for _, y in pts], "o-", label="%s (%.2f)" % (kernel, slope(pts)))
        ax.set_xlabel(label)
        ax.set_ylabel("ms per frame")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, title="kernel (exponent)", title_fontsize=8)
    fig.suptitle("segsa fused CPU kernels: time per frame (base: d=64, 512x336, 12 classes, 2,000 LSA refs)", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "cost-growth.png"), dpi=110)
    print("wrote", os.path.join(out, "cost-growth.png"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/cost-growth")
