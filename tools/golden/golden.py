#!/usr/bin/env python3
"""Golden vectors for the float64 reference of segsa, computed independently with numpy/scipy.

How to run (from the repository root; needs only python3 with numpy and scipy):

    python3 tools/golden/golden.py [--out src/testdata/golden] [--seed 20240607]

It is deterministic (numpy default_rng with a fixed seed) and rewrites these JSON files:

  upsample.json    PyTorch F.interpolate (explicit output size) re-implemented from ATen:
                   "axes": per (mode, in, out) the two source taps and weights of every output
                   position; "maps": a float32 feature map [d, h0, w0] and its float64 upsampling
                   to [d, H, W].
  statistics.json  per class: activation traces [n, d] -> count, mean, covariance (np.cov, ddof 1);
                   "merge": the same split into two halves (the expected result is over all rows).
  mdsa.json        per class of statistics.json: query points and
                   MDSA = sqrt((x - mu)^T S^-1 (x - mu)) (scipy.linalg.solve, cross-checked with
                   scipy.spatial.distance.mahalanobis).
  lsa.json         per (n, d): references [n, d], query points (near the data and far from it) and
                   LSA = -scipy.stats.gaussian_kde(references.T).logpdf(queries.T).
  backend.json     per upsampling mode: one small frame (features [d, h0, w0], labels and predicted
                   class per pixel, -1 = ignore) with the per-class statistics of the labelled
                   pixels' activation traces, and per predicted class the pixel count and the mean
                   MDSA / LSA (models fitted on the labelled activation traces of that class).

Conventions: every matrix / map is a flat row-major list ([n, d] -> n*d values, [d, h0, w0] ->
channel-major). Feature maps are float32 values written as the float64 repr of the float32 (so they
round-trip exactly); everything else is float64 repr (json writes repr, which round-trips).
Mode names are UpsampleMode's CLI names: "bilinear" (align_corners False), "bilinear-aligned"
(align_corners True), "nearest".

PyTorch semantics implemented here (aten/src/ATen/native/UpSample.h):
  bilinear: scale = in/out (align_corners False) or (in-1)/(out-1) (True, 0 when out == 1);
            src = scale*i (True) or max(scale*(i+0.5)-0.5, 0) (False);
            lo = min(floor(src), in-1), hi = lo+1 if lo < in-1 else lo, lambda = src - lo;
            weight_lo = 1-lambda, weight_hi = lambda. Where hi == lo, PyTorch applies both weights
            to the same source cell; this file merges them: weight_lo = 1, weight_hi = 0.
            Evaluated in float64 (design.md: "bit for bit in float64"); note that PyTorch's CPU
            kernel evaluates these in float32 for float32 tensors (opmath_type<float> is float),
            which moves weights by ~1e-7 and can flip lo by one where src is within float32
            rounding of an integer (with lambda ~1 / ~0, so the result moves by ~1e-7 only).
  nearest:  out == in -> i; out == 2*in -> i >> 1; otherwise
            min(floor(float32(i) * float32(float32(in)/float32(out))), in-1) in float32
            (nearest_idx / nearest_neighbor_compute_source_index). lo == hi, weights 1 and 0.
"""
import argparse
import json
import os

import numpy as np
import scipy.linalg
import scipy.spatial.distance
import scipy.stats

MODES = ("bilinear", "bilinear-aligned", "nearest")


# ---------------------------------------------------------------- upsampling
def axis_taps(mode, n_in, n_out):
    """(lo, hi, weight_lo, weight_hi) for one axis, PyTorch F.interpolate with explicit size."""
    lo = np.zeros(n_out, dtype=np.int64)
    hi = np.zeros(n_out, dtype=np.int64)
    wlo = np.zeros(n_out)
    whi = np.zeros(n_out)
    if mode == "nearest":
        scale = np.float32(np.float32(n_in) / np.float32(n_out))
        for i in range(n_out):
            if n_out == n_in:
                idx = i
            elif n_out == 2 * n_in:
                idx = i >> 1
            else:
                prod = np.float32(np.float32(i) * scale)
                idx = min(int(np.floor(prod)), n_in - 1)
            lo[i] = hi[i] = idx
            wlo[i], whi[i] = 1.0, 0.0
        return lo, hi, wlo, whi
    aligned = mode == "bilinear-aligned"
    if aligned:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        scale = n_in / n_out
    for i in range(n_out):
        if aligned:
            src = scale * i
        else:
            src = scale * (i + 0.5) - 0.5
            if src < 0:
                src = 0.0
        i0 = min(int(np.floor(src)), n_in - 1)
        p = 1 if i0 < n_in - 1 else 0
        lam = min(max(src - i0, 0.0), 1.0)
        lo[i], hi[i] = i0, i0 + p
        if p == 0:
            wlo[i], whi[i] = 1.0, 0.0
        else:
            wlo[i], whi[i] = 1.0 - lam, lam
    return lo, hi, wlo, whi


def interp_matrix(mode, n_in, n_out):
    """Dense [n_out, n_in] interpolation matrix of one axis."""
    lo, hi, wlo, whi = axis_taps(mode, n_in, n_out)
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        m[i, lo[i]] += wlo[i]
        m[i, hi[i]] += whi[i]
    return m


def upsample(features, mode, height, width):
    """float32 [d, h0, w0] -> float64 [d, H, W]: separable interpolation in float64."""
    d, h0, w0 = features.shape
    ry = interp_matrix(mode, h0, height)
    rx = interp_matrix(mode, w0, width)
    f = features.astype(np.float64)
    return np.einsum("yh,dhw,xw->dyx", ry, f, rx)


def upsample_direct(features, mode, height, width):
    """Same result computed pixel by pixel from the taps (a cross-check of upsample)."""
    d, h0, w0 = features.shape
    ly, hy, wly, why = axis_taps(mode, h0, height)
    lx, hx, wlx, whx = axis_taps(mode, w0, width)
    f = features.astype(np.float64)
    out = np.zeros((d, height, width))
    for y in range(height):
        for x in range(width):
            out[:, y, x] = (wly[y] * (wlx[x] * f[:, ly[y], lx[x]] + whx[x] * f[:, ly[y], hx[x]])
                            + why[y] * (wlx[x] * f[:, hy[y], lx[x]] + whx[x] * f[:, hy[y], hx[x]]))
    return out


def golden_upsample(rng):
    axis_cases = [(5, 5), (4, 8), (3, 7), (7, 3), (1, 5), (5, 1), (1, 1), (6, 24), (8, 32),
                  (6, 13), (5, 11), (10, 4), (13, 5), (24, 6), (7, 55), (3, 47),
                  (14, 46),  # nearest: float32 scale gives 6 at i=23 where exact arithmetic gives 7
                  (26, 22), (2, 3), (3, 2)]
    axes = []
    for mode in MODES:
        for n_in, n_out in axis_cases:
            lo, hi, wlo, whi = axis_taps(mode, n_in, n_out)
            axes.append({"mode": mode, "in": n_in, "out": n_out,
                         "lo": lo.tolist(), "hi": hi.tolist(),
                         "weight_lo": [float(v) for v in wlo], "weight_hi": [float(v) for v in whi]})
    # the nearest case really exercises float32 arithmetic
    lo, _, _, _ = axis_taps("nearest", 14, 46)
    assert lo[23] == 6 and (23 * 14) // 46 == 7
    map_cases = [(3, 4, 5, 4, 5), (3, 6, 8, 24, 32), (2, 3, 5, 7, 11), (4, 1, 1, 3, 4),
                 (2, 1, 4, 5, 9), (3, 5, 7, 2, 3), (2, 7, 6, 13, 12), (3, 4, 4, 8, 8)]
    maps = []
    for mode in MODES:
        for d, h0, w0, height, width in map_cases:
            feats = rng.standard_normal((d, h0, w0)).astype(np.float32) * np.float32(2.0)
            up = upsample(feats, mode, height, width)
            chk = upsample_direct(feats, mode, height, width)
            assert np.max(np.abs(up - chk)) <= 1e-14 * max(1.0, np.max(np.abs(up)))
            maps.append({"mode": mode, "d": d, "h0": h0, "w0": w0, "height": height, "width": width,
                         "features": [float(v) for v in feats.ravel()],
                         "upsampled": [float(v) for v in up.ravel()]})
    return {"description": "PyTorch F.interpolate (explicit size) taps per axis and upsampled maps; "
                           "see tools/golden/golden.py",
            "axes": axes, "maps": maps}


# ---------------------------------------------------------------- statistics / MDSA
def random_ats(rng, n, d, offset=0.0, scale=1.0):
    """Correlated Gaussian-ish activation traces [n, d]."""
    a = rng.standard_normal((d, d)) * 0.6 + np.eye(d)
    mu = rng.standard_normal(d) * 3 + offset
    x = rng.standard_normal((n, d)) @ a.T * scale + mu
    # a little non-Gaussianity
    x[:, 0] += 0.3 * np.abs(x[:, -1] - mu[-1])
    return x


def stats_of(x):
    return x.shape[0], x.mean(axis=0), np.cov(x, rowvar=False, ddof=1)


def golden_statistics(rng):
    specs = [(0, 40, 3, 0.0, 1.0), (1, 120, 5, 0.0, 1.0), (2, 300, 8, 0.0, 1.0),
             (3, 60, 4, 1000.0, 0.01),  # large offset, small spread: a stability case
             (4, 12, 10, 0.0, 1.0)]
    classes = []
    for cid, n, d, off, sc in specs:
        x = random_ats(rng, n, d, off, sc)
        cnt, mean, cov = stats_of(x)
        classes.append({"class": cid, "n": n, "d": d, "ats": [float(v) for v in x.ravel()],
                        "count": cnt, "mean": [float(v) for v in mean],
                        "cov": [float(v) for v in cov.ravel()]})
    x = random_ats(rng, 97, 6)
    first, second = x[:41], x[41:]
    second = second + np.array([2.0, -1.0, 0.5, 0.0, 3.0, -2.0])  # halves with different means
    allx = np.vstack([first, second])
    cnt, mean, cov = stats_of(allx)
    merge = {"d": 6, "n_first": first.shape[0], "first": [float(v) for v in first.ravel()],
             "n_second": second.shape[0], "second": [float(v) for v in second.ravel()],
             "count": cnt, "mean": [float(v) for v in mean], "cov": [float(v) for v in cov.ravel()]}
    return {"description": "per-class count, mean, covariance (np.cov ddof 1); merge of two halves",
            "classes": classes, "merge": merge}


def golden_mdsa(rng, statistics):
    cases = []
    for c in statistics["classes"]:
        d, n = c["d"], c["n"]
        x = np.array(c["ats"]).reshape(n, d)
        mu = np.array(c["mean"])
        cov = np.array(c["cov"]).reshape(d, d)
        sd = np.sqrt(np.diag(cov))
        near = x[rng.integers(0, n, 6)] + rng.standard_normal((6, d)) * sd * 0.1
        far = mu + rng.standard_normal((4, d)) * sd * 50
        q = np.vstack([mu[None, :], near, far])
        diff = q - mu
        m2 = np.einsum("ij,ij->i", diff, scipy.linalg.solve(cov, diff.T, assume_a="pos").T)
        mdsa = np.sqrt(m2)
        vi = np.linalg.inv(cov)
        chk = np.array([scipy.spatial.distance.mahalanobis(v, mu, vi) for v in q])
        assert np.allclose(mdsa, chk, rtol=1e-8, atol=1e-10), (mdsa, chk)
        cases.append({"class": c["class"], "d": d, "count": c["count"], "mean": c["mean"], "cov": c["cov"],
                      "m": q.shape[0], "queries": [float(v) for v in q.ravel()],
                      "mdsa": [float(v) for v in mdsa]})
    return {"description": "MDSA = sqrt((x-mu)^T S^-1 (x-mu)) with mean/cov of statistics.json's classes "
                           "(fit from its ats); first query = the mean (MDSA 0)",
            "cases": cases}


# ---------------------------------------------------------------- LSA
def lsa_numpy(refs, queries):
    """Independent -logpdf of scipy's gaussian_kde (Scott factor, ddof-1 covariance), log-sum-exp."""
    n, d = refs.shape
    factor = n ** (-1.0 / (d + 4))
    cov = np.cov(refs, rowvar=False, ddof=1) * factor ** 2
    l = np.linalg.cholesky(cov)
    zr = scipy.linalg.solve_triangular(l, refs.T, lower=True).T
    zq = scipy.linalg.solve_triangular(l, queries.T, lower=True).T
    sq = (np.sum(zq ** 2, 1)[:, None] - 2 * zq @ zr.T + np.sum(zr ** 2, 1)[None, :])
    e = -0.5 * sq
    mx = e.max(axis=1)
    lse = mx + np.log(np.exp(e - mx[:, None]).sum(axis=1))
    lognorm = -np.log(n) - 0.5 * d * np.log(2 * np.pi) - np.sum(np.log(np.diag(l)))
    return -(lse + lognorm)


def golden_lsa(rng):
    cases = []
    for n, d in [(50, 3), (300, 8), (1000, 16), (20, 2)]:
        # a two-component mixture so the density is not a single Gaussian
        half = n // 2
        a = random_ats(rng, half, d)
        b = random_ats(rng, n - half, d) + 4.0
        refs = np.vstack([a, b])
        sd = refs.std(axis=0)
        near = refs[rng.integers(0, n, 8)] + rng.standard_normal((8, d)) * sd * 0.05
        mid = refs.mean(axis=0) + rng.standard_normal((4, d)) * sd
        far = refs.mean(axis=0) + rng.standard_normal((4, d)) * sd * 40  # exp underflows without log-sum-exp
        q = np.vstack([near, mid, far])
        kde = scipy.stats.gaussian_kde(refs.T)
        lsa = -kde.logpdf(q.T)
        chk = lsa_numpy(refs, q)
        assert np.allclose(lsa, chk, rtol=1e-9, atol=1e-9), (lsa, chk)
        assert np.all(np.isfinite(lsa)) and np.max(lsa) > 500, lsa
        cases.append({"n": n, "d": d, "scott_factor": float(kde.factor),
                      "references": [float(v) for v in refs.ravel()],
                      "m": q.shape[0], "near": 8, "queries": [float(v) for v in q.ravel()],
                      "lsa": [float(v) for v in lsa]})
    return {"description": "LSA = -scipy.stats.gaussian_kde(references.T).logpdf(queries.T); "
                           "queries: 8 near references, 4 at about 1 sd, 4 at about 40 sd",
            "cases": cases}


# ---------------------------------------------------------------- backend frames
def golden_backend(rng):
    frames = []
    d, h0, w0, height, width, classes = 4, 4, 5, 11, 13, 3
    for mode in MODES:
        feats = rng.standard_normal((d, h0, w0)).astype(np.float32)
        up = upsample(feats, mode, height, width)  # [d, H, W]
        ats = up.reshape(d, -1).T  # [H*W, d]
        # smooth-ish labels: nearest class centre in the first two features, then some noise
        centres = np.array([[-0.8, 0.0], [0.8, 0.5], [0.0, -0.9]])
        dist = ((ats[:, None, :2] - centres[None]) ** 2).sum(-1)
        labels = dist.argmin(1)
        predicted = labels.copy()
        flip = rng.random(labels.shape) < 0.15
        predicted[flip] = rng.integers(0, classes, flip.sum())
        ignore = rng.random(labels.shape) < 0.05
        labels[ignore] = -1
        stats, mdsa_mean, lsa_mean, pixels = [], [], [], []
        for c in range(classes):
            xc = ats[labels == c]
            cnt, mean, cov = stats_of(xc)
            assert cnt > d + 1 and np.linalg.cond(cov) < 1e8
            stats.append({"class": c, "count": cnt, "mean": [float(v) for v in mean],
                          "cov": [float(v) for v in cov.ravel()]})
            xp = ats[predicted == c]
            pixels.append(int(xp.shape[0]))
            diff = xp - mean
            m = np.sqrt(np.einsum("ij,ij->i", diff, scipy.linalg.solve(cov, diff.T, assume_a="pos").T))
            mdsa_mean.append(float(m.mean()))
            lsa = -scipy.stats.gaussian_kde(xc.T).logpdf(xp.T)
            lsa_mean.append(float(lsa.mean()))
        frames.append({"mode": mode, "d": d, "h0": h0, "w0": w0, "height": height, "width": width,
                       "classes": classes,
                       "features": [float(v) for v in feats.ravel()],
                       "labels": [int(v) for v in labels], "predicted": [int(v) for v in predicted],
                       "statistics": stats, "pixels": pixels,
                       "mdsa_mean": mdsa_mean, "lsa_mean": lsa_mean})
    return {"description": "one frame per mode: ReferenceBackend.accumulate on labels (-1 ignored) -> statistics; "
                           "mdsa/lsa on predicted with models fitted on the labelled ATs of each class "
                           "(MDSA: their mean/cov; LSA: all of them as KDE references) -> per-class pixels and mean SA",
            "frames": frames}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "src", "test", "resources", "golden"))
    ap.add_argument("--seed", type=int, default=20240607)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    statistics = golden_statistics(rng)
    outputs = {
        "upsample.json": golden_upsample(rng),
        "statistics.json": statistics,
        "mdsa.json": golden_mdsa(rng, statistics),
        "lsa.json": golden_lsa(rng),
        "backend.json": golden_backend(rng),
    }
    for name, obj in outputs.items():
        obj["generator"] = "tools/golden/golden.py --seed %d" % args.seed
        path = os.path.join(args.out, name)
        with open(path, "w") as fh:
            json.dump(obj, fh, separators=(",", ":"))
            fh.write("\n")
        print("wrote %s (%d bytes)" % (os.path.normpath(path), os.path.getsize(path)))


if __name__ == "__main__":
    main()
