#!/usr/bin/env python3
"""Golden values for segsa evaluate / select / score --uncertainty, computed independently with numpy/scipy.

How to run (from the repository root; python3 with numpy and scipy only):

    python3 tools/golden/evaluate.py [--out src/testdata/golden/evaluate.json]

Deterministic. Writes one JSON file with:

  spearman        small hand-made (x, y) samples, several with ties (average ranks) and one constant,
                  with rho and the two-sided p-value of scipy.stats.spearmanr (t with n-2 dof);
                  null where scipy gives NaN.
  clopper_pearson one-sided upper confidence bounds of a binomial rate, x events in n trials:
                  scipy.stats.beta.ppf(confidence, x + 1, n - x) (1 when x == n).
  uncertainty     the softmax uncertainty baselines of the e2e fixture (tools/golden/e2e.py, files in
                  src/testdata/e2e) for segsa score --uncertainty --groups "pair=0,1;rest=2,3"
                  on val/: per "image/class" (class ids, then group names) the four columns
                  [entropy, margin, least_confidence, deepgini], null where the cell is empty.
                  p = softmax over classes of the logits upsampled bilinearly (align_corners False,
                  float64 after the float32 forward of e2e.py); per pixel: entropy = -sum p ln p,
                  margin = 1 - (p1 - p2) with p1 >= p2 the two largest, least_confidence = 1 - p1,
                  deepgini = 1 - sum p^2; class value = mean over the pixels predicted (argmax) as the
                  class; group value = mean over the group's classes with a value in the image of
                  (value - mean_c) / std_c, mean_c and std_c (ddof 1) over the val images where class c
                  has a value (classes with fewer than 2 such images or std 0 left out).
"""
import argparse
import json
import os
import sys

import numpy as np
import scipy.stats

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import e2e  # noqa: E402  (the fixture's forward pass, upsampling and PNG reader)


def spearman_cases():
    rng = np.random.default_rng(11)
    cases = [
        ("ties_in_y", [1, 2, 3, 4, 5], [5, 6, 7, 8, 7]),
        ("ties_in_both", [1, 1, 2, 3, 3, 3, 4, 5], [2, 1, 2, 2, 5, 4, 4, 6]),
        ("three_points", [1.0, 2.0, 3.0], [1.0, 3.0, 2.0]),
        ("perfect_negative", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]),
        ("constant_x", [2.0, 2.0, 2.0, 2.0], [0.1, 0.5, 0.3, 0.2]),
    ]
    x = rng.normal(size=60)
    y = -0.9 * x + 0.3 * rng.normal(size=60)
    cases.append(("strong_negative_n60", x.tolist(), y.tolist()))
    x = np.round(rng.normal(size=40), 1)
    y = np.round(0.4 * x + rng.normal(size=40), 1)
    cases.append(("rounded_ties_n40", x.tolist(), y.tolist()))
    x = rng.uniform(size=25)
    y = rng.uniform(size=25)
    cases.append(("independent_n25", x.tolist(), y.tolist()))
    out = []
    for name, a, b in cases:
        with np.errstate(all="ignore"):
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = scipy.stats.spearmanr(a, b)
        rho, p = float(r.statistic), float(r.pvalue)
        out.append({"name": name, "x": [float(v) for v in a], "y": [float(v) for v in b],
                    "rho": None if np.isnan(rho) else rho, "p": None if np.isnan(p) else p})
    return out


def clopper_pearson_cases():
    out = []
    for x, n, conf in [(0, 10, 0.95), (1, 10, 0.95), (3, 20, 0.95), (5, 100, 0.95), (0, 1, 0.95),
                       (50, 1000, 0.95), (2, 7, 0.9), (4, 4, 0.95), (1, 40, 0.99)]:
        upper = 1.0 if x == n else float(scipy.stats.beta.ppf(conf, x + 1, n - x))
        out.append({"events": x, "trials": n, "confidence": conf, "upper": upper})
    return out


def uncertainty_values(fixture):
    with open(os.path.join(fixture, "model.json")) as f:
        m = json.load(f)
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    model = {"w1": f32(m["w1"]).reshape(4, 3), "b1": f32(m["b1"]), "w2": f32(m["w2"]).reshape(e2e.C, e2e.D),
             "b2": f32(m["b2"]), "mean": f32(m["mean"]), "std": f32(m["std"])}
    per_image = {}
    for name in e2e.VAL:
        with open(os.path.join(fixture, "val", "images", name), "rb") as fh:
            rgb = e2e.png_read(fh.read())
        with open(os.path.join(fixture, "val", "labels", name), "rb") as fh:
            lab = e2e.png_read(fh.read()).astype(np.int64)
        _, logits = e2e.forward(model, rgb)
        up = e2e.upsample(logits)  # [C, H, W] float64
        pred = up.argmax(0)
        z = up - up.max(0, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(0, keepdims=True)
        logp = z - np.log(np.exp(z).sum(0, keepdims=True))
        srt = np.sort(p, axis=0)
        maps = [-(p * logp).sum(0), 1 - (srt[-1] - srt[-2]), 1 - srt[-1], 1 - (p * p).sum(0)]
        values = np.full((4, e2e.C), np.nan)
        for c in range(e2e.C):
            sel = pred == c
            if sel.any():
                for k in range(4):
                    values[k, c] = maps[k][sel].mean()
        valid = lab != e2e.IGNORE
        per_image[name] = (values, set(pred.reshape(-1).tolist()) | set(lab[valid].reshape(-1).tolist()))
    # z statistics per measure and class over the val images
    stats = np.full((4, e2e.C, 2), np.nan)
    for k in range(4):
        for c in range(e2e.C):
            v = np.array([per_image[n][0][k, c] for n in e2e.VAL])
            v = v[~np.isnan(v)]
            if len(v) >= 2 and v.std(ddof=1) > 0:
                stats[k, c] = (v.mean(), v.std(ddof=1))
    out = {}
    for name in e2e.VAL:
        values, present = per_image[name]
        for c in range(e2e.C):
            if c in present:
                out[f"{name}/{c}"] = [None if np.isnan(values[k, c]) else float(values[k, c]) for k in range(4)]
        for gname, members in e2e.GROUPS:
            if not any(c in present for c in members):
                continue
            row = []
            for k in range(4):
                zs = [(values[k, c] - stats[k, c, 0]) / stats[k, c, 1] for c in members
                      if not np.isnan(values[k, c]) and not np.isnan(stats[k, c, 0])]
                row.append(float(np.mean(zs)) if zs else None)
            out[f"{name}/{gname}"] = row
    return out


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(HERE))
    ap.add_argument("--out", default=os.path.join(root, "src/testdata/golden/evaluate.json"))
    ap.add_argument("--fixture", default=os.path.join(root, "src/testdata/e2e"))
    args = ap.parse_args()
    doc = {"generator": "tools/golden/evaluate.py", "numpy": np.__version__, "scipy": scipy.__version__,
           "spearman": spearman_cases(), "clopper_pearson": clopper_pearson_cases(),
           "uncertainty_columns": ["entropy", "margin", "least_confidence", "deepgini"],
           "uncertainty_groups": e2e.GROUP_SPEC,
           "uncertainty": uncertainty_values(args.fixture)}
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
