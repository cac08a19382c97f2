#!/usr/bin/env python3
"""The RQ3 table from the finished runs of tools/results/rq3.sh.

usage: tools/results/rq3_table.py docs/results/rq3 docs/results/rq3.md

Reads the cards of the finished runs, DIR/runs/<class>-<rule>-<level>-<size>-seed<s>.md (copied
there by rq3.sh), or the run directories DIR/runs/<run>/model.md (out/rq3), and DIR/base.md
(validation IoU per class and mIoU on CamVid val). Per target class and subset size the
table gives the target class IoU and the mIoU, mean and standard deviation over the seeds, next
to the base model; High against Random is tested with Welch's t-test (scipy) where both have at
least 2 seeds.
"""
import os
import re
import sys
from collections import defaultdict


def card(path):
    iou, miou = {}, None
    with open(path) as f:
        for line in f:
            m = re.match(r"\| validation mIoU \| ([0-9.]+)", line)
            if m:
                miou = float(m.group(1))
            m = re.match(r"\| ([A-Za-z]+) \| ([0-9.]+|NaN) \|$", line.strip())
            if m and m.group(1) not in ("class",):
                iou[m.group(1)] = float(m.group(2)) if m.group(2) != "NaN" else float("nan")
    return iou, miou


def stats(v):
    n = len(v)
    if n == 0:
        return "", float("nan"), 0
    mean = sum(v) / n
    sd = (sum((x - mean) ** 2 for x in v) / (n - 1)) ** 0.5 if n > 1 else float("nan")
    return ("%.3f ± %.3f" % (mean, sd) if n > 1 else "%.3f" % mean), mean, n


def stratified_permutation(pairs):
    """Exact stratified permutation test of sum over strata of (mean a - mean b): in each stratum
    (subset size) the runs' labels are permuted among that stratum's runs only. pairs: a list of
    (a values, b values) per stratum. Returns (observed statistic, two-sided p)."""
    import itertools
    def stat(split):
        return sum(sum(a) / len(a) - sum(b) / len(b) for a, b in split)
    observed = stat(pairs)
    options = []
    for a, b in pairs:
        pooled = a + b
        choices = []
        for idx in itertools.combinations(range(len(pooled)), len(a)):
            chosen = set(idx)
            choices.append(([pooled[i] for i in idx], [pooled[i] for i in range(len(pooled)) if i not in chosen]))
        options.append(choices)
    total = extreme = 0
    for combo in itertools.product(*options):
        total += 1
        if abs(stat(combo)) >= abs(observed) - 1e-12:
            extreme += 1
    return observed, extreme / total


def summary_table(runs, sizes):
    """Per class and rule: each level's target IoU minus Random's (the same rule's Random; the
    mdsa Random for Diverse), per size, and pooled over the sizes that have both with an exact
    stratified permutation test (strata: sizes)."""
    rows = []
    for cls in ("Car", "Pedestrian", "Bicyclist"):
        for rule, level, ref_rule in (("mdsa", "high", "mdsa"), ("mdsa", "low", "mdsa"), ("entropy", "high", "entropy"),
                                      ("entropy", "low", "entropy"), ("diverse", "diverse", "mdsa")):
            diffs, pairs = [], []
            for s in sizes:
                a = [x[1] for x in runs.get((cls, rule, level, s), [])]
                b = [x[1] for x in runs.get((cls, ref_rule, "random", s), [])]
                if len(a) >= 2 and len(b) >= 2:
                    diffs.append("%+.3f" % (sum(a) / len(a) - sum(b) / len(b)))
                    pairs.append((a, b))
                else:
                    diffs.append("")
            if not pairs:
                continue
            observed, p = stratified_permutation(pairs)
            rows.append("| %s | %s %s | %s | %+.3f | %.2g |" % (cls, rule, level.capitalize(), " | ".join(diffs),
                                                               observed / len(pairs), p))
    if not rows:
        return []
    return ["## Each rule against Random", "",
            "Target class IoU of the level minus that of Random at the same size (means over seeds; Diverse against the "
            "mdsa Random subsets), and the mean difference over the sizes that have both, with the two-sided p of an exact "
            "stratified permutation test (the runs' labels permuted within each size).", "",
            "| class | rule | Small | Medium | Large | mean | p |", "|---|---|---|---|---|---|---|"] + rows + [""]


def main(w, out):
    runs = defaultdict(list)
    pattern = re.compile(r"^([A-Za-z]+)-(mdsa|entropy|diverse)-([a-z]+)-([a-z]+)-seed(\d+)$")
    rdir = os.path.join(w, "runs")
    for entry in sorted(os.listdir(rdir)) if os.path.isdir(rdir) else []:
        name = entry[:-3] if entry.endswith(".md") else entry
        m = pattern.match(name)
        md = os.path.join(rdir, entry) if entry.endswith(".md") else os.path.join(rdir, entry, "model.md")
        if not m or not os.path.exists(md):
            continue
        cls, rule, level, size, seed = m.groups()
        iou, miou = card(md)
        runs[(cls, rule, level, size)].append((int(seed), iou.get(cls, float("nan")), miou))
    base_iou, base_miou = card(os.path.join(w, "base.md")) if os.path.exists(os.path.join(w, "base.md")) else ({}, None)
    lines = ["# RQ3: retraining on High-SA frames (CamVid)", "",
             "Generated by `tools/results/rq3_table.py %s %s` from the runs of `tools/results/rq3.sh` finished so far." % (w, out),
             "Each cell: the target class IoU on CamVid val (mean ± sd over seeds) / the mIoU, and the number of seeds.", ""]
    if base_miou is not None:
        lines.append("Base model (a third of CamVid train, 122 frames): mIoU %.3f." % base_miou)
        lines.append("")
    from_scipy = True
    try:
        from scipy import stats as st
    except ImportError:
        from_scipy = False
    sizes = ["small", "medium", "large"]
    for cls in ("Car", "Pedestrian", "Bicyclist"):
        keys = [k for k in runs if k[0] == cls]
        if not keys:
            continue
        lines += ["## %s%s" % (cls, "" if cls not in base_iou else " (base model IoU %.3f)" % base_iou[cls]), "",
                  "| rule | level | Small (10% of base) | Medium (20%) | Large (30%) |",
                  "|---|---|" + "---|" * len(sizes)]
        for rule in ("mdsa", "entropy", "diverse"):
            for level in ("high", "low", "random", "diverse"):
                if not any((cls, rule, level, s) in runs for s in sizes):
                    continue
                cells = []
                for s in sizes:
                    r = runs.get((cls, rule, level, s), [])
                    t, _, n = stats([x[1] for x in r])
                    mi, _, _ = stats([x[2] for x in r if x[2] is not None])
                    cells.append("%s / %s (%d)" % (t, mi, n) if n else "")
                lines.append("| %s | %s | %s |" % (rule, level.capitalize(), " | ".join(cells)))
        for rule in ("mdsa", "entropy"):
            tests = []
            for s in sizes:
                hi = [x[1] for x in runs.get((cls, rule, "high", s), [])]
                ra = [x[1] for x in runs.get((cls, rule, "random", s), [])]
                if from_scipy and len(hi) >= 2 and len(ra) >= 2:
                    t = st.ttest_ind(hi, ra, equal_var=False)
                    tests.append("%s: t = %.2f, p = %.2g" % (s, t.statistic, t.pvalue))
            if tests:
                lines += ["", "High vs Random by %s (Welch's t-test on the target IoU): %s." % (rule, "; ".join(tests))]
        tests = []
        for s in sizes:
            dv = [x[1] for x in runs.get((cls, "diverse", "diverse", s), [])]
            ra = [x[1] for x in runs.get((cls, "mdsa", "random", s), [])]
            if from_scipy and len(dv) >= 2 and len(ra) >= 2:
                t = st.ttest_ind(dv, ra, equal_var=False)
                tests.append("%s: t = %.2f, p = %.2g" % (s, t.statistic, t.pvalue))
        if tests:
            lines += ["", "Diverse vs Random (the mdsa Random subsets; Welch's t-test on the target IoU): %s." % "; ".join(tests)]
        lines.append("")
    summary = summary_table(runs, sizes)
    if summary:
        lines += summary
    done = sum(len(v) for v in runs.values())
    lines.append("%d run(s) finished." % done)
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    # two shards of rq3.sh may write it at once: whole files only
    tmp = "%s.%d.tmp" % (out, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
