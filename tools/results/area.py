#!/usr/bin/env python3
"""Spearman rho of each image score against the predicted area of the class (scores.csv `pixels`),
and of the IoU against that area: how much of an SA-vs-IoU correlation the class's area alone
could carry. Standard library only (average ranks for ties, as segsa evaluate).

Usage: tools/results/area.py [scores.csv]   (default docs/results/camvid/scores.csv)
"""
import csv
import sys


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2
        i = j + 1
    return out


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = (sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb)) ** 0.5
    return num / den if den else float("nan")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "docs/results/camvid/scores.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    classes = []
    for r in rows:
        if r["class"] not in classes:
            classes.append(r["class"])
    has_lsa = any(r["lsa"] for r in rows)
    print("| class | images | rho(area, MDSA) |" + (" rho(area, LSA) |" if has_lsa else "") + " rho(area, IoU) |")
    print("|---|---|---|" + ("---|" if has_lsa else "") + "---|")
    for c in classes:
        use = [r for r in rows if r["class"] == c and r["mdsa"] and r["iou"] and (r["lsa"] or not has_lsa)]
        if len(use) < 3:
            continue
        area = [float(r["pixels"]) for r in use]
        line = f"| {c} | {len(use)} | {spearman(area, [float(r['mdsa']) for r in use]):+.2f} |"
        if has_lsa:
            line += f" {spearman(area, [float(r['lsa']) for r in use]):+.2f} |"
        line += f" {spearman(area, [float(r['iou']) for r in use]):+.2f} |"
        print(line)


if __name__ == "__main__":
    main()
