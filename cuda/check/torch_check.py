#!/usr/bin/env python3
"""The Java backend's path, from Python: libsegsa_cuda on torch CUDA tensors.

cuda/check.sh runs this after the C++ check (segsa_cuda_check). Through ctypes it calls the same
C ABI the Java CudaBackend binds with Panama: segsa_cuda_mdsa_batch on torch tensors' data_ptr()
and torch.cuda.current_stream(), and
  1. compares it with libsegsa_cpu's segsa_mdsa_frame, frame by frame (normalised error of the
     float32 map, relative error of the float64 class sums, exact counts, NaN exactly where the CPU
     has NaN): d = 64 and 256; 512x336, 1024x512 and 1920x1088; batch 1 and 8; a class without a
     model, an absent class, a class of one pixel, NaN features in one cell;
  2. checks with the torch profiler that the scoring call copies nothing between host and device
     (no Memcpy HtoD/DtoH/DtoD event; memsets are allowed);
  3. times the fused kernel with CUDA events against PyTorch on the same GPU: the PaDiM-style peer
     (upsample the features, then Mahalanobis per class) and the skilled peer (whiten at low
     resolution per class, grid_sample the whitened vectors at that class's pixels), batch 1, 8, 32;
  4. prints one table and writes it (markdown and JSON) under $OUT when that is set.

  python3 cuda/check/torch_check.py BUILD_DIR            (libraries in BUILD_DIR/lib)
  python3 cuda/check/torch_check.py BUILD_DIR --dry-run  (no GPU, no torch: the CPU library
      through the same structs against a numpy float64 reference; checks the packing and ctypes)

Exit status 0 all checks pass, 1 a check failed, 2 no GPU / no torch (not in --dry-run).
"""
import ctypes as C
import json
import math
import os
import sys
import time

import numpy as np

MAP_TOL = 1e-5   # float32 maps, normalised by max(|cpu|, 1)
SUM_TOL = 1e-9   # float64 class sums, relative to max(|cpu|, pixels)
CLASSES = 12


class MdsaModels(C.Structure):
    _fields_ = [("num_classes", C.c_int32), ("dim", C.c_int32),
                ("active_count", C.c_void_p), ("offset", C.c_void_p), ("active_index", C.c_void_p),
                ("mean", C.c_void_p), ("chol_offset", C.c_void_p), ("chol", C.c_void_p), ("chol_inv", C.c_void_p)]


def load(build):
    lib = os.path.join(build, "lib") if os.path.isdir(os.path.join(build, "lib")) else build
    cpu = C.CDLL(os.path.join(lib, "libsegsa_cpu.so"))
    cuda = None
    path = os.path.join(lib, "libsegsa_cuda.so")
    if os.path.exists(path):
        cuda = C.CDLL(path)
    i, p, z, sz = C.c_int, C.c_void_p, C.c_size_t, C.POINTER(C.c_size_t)
    cpu.segsa_last_error.argtypes = [C.c_char_p, z]
    cpu.segsa_workspace_bytes.argtypes = [i, i, i, i, i, i, sz]
    cpu.segsa_mdsa_frame.argtypes = [p, i, i, i, i, i, i, p, i, C.POINTER(MdsaModels), p, z, p, p, p]
    if cuda is not None:
        cuda.segsa_cuda_last_error.argtypes = [C.c_char_p, z]
        cuda.segsa_cuda_mdsa_batch_workspace_bytes.argtypes = [i, i, i, i, i, i, i, sz]
        cuda.segsa_cuda_mdsa_batch.argtypes = [p, i, i, i, i, i, i, i, p, i, C.POINTER(MdsaModels), p, z, p, p, p, p]
    return cpu, cuda


def error(lib, cuda_lib=False):
    buf = C.create_string_buffer(1024)
    (lib.segsa_cuda_last_error if cuda_lib else lib.segsa_last_error)(buf, 1024)
    return buf.value.decode()


def check(status, lib, what, cuda_lib=False):
    if status != 0:
        raise RuntimeError("%s: status %d: %s" % (what, status, error(lib, cuda_lib)))


def make_models(d, rng):
    """Per class: mean, covariance A A^T/d + 0.5 I, its Cholesky factor and inverse (float64).
    Class 1 has no model (active_count 0)."""
    classes = []
    for c in range(CLASSES):
        if c == 1:
            classes.append(None)
            continue
        a = rng.standard_normal((d, d))
        cov = a @ a.T / d + 0.5 * np.eye(d)
        L = np.linalg.cholesky(cov)
        Linv = np.linalg.inv(L)
        Linv = np.tril(Linv)
        mean = 0.3 + 0.2 * rng.standard_normal(d)
        classes.append((mean, L, Linv))
    return classes


def pack(classes, d):
    """The arrays of segsa_mdsa_models (numpy, host), in field order."""
    count = np.zeros(CLASSES, np.int32)
    offset = np.zeros(CLASSES, np.int64)
    choff = np.zeros(CLASSES, np.int64)
    act, mean, chol, chinv = [], [], [], []
    o = co = 0
    for c, m in enumerate(classes):
        offset[c], choff[c] = o, co
        if m is None:
            continue
        mu, L, Linv = m
        count[c] = d
        act.append(np.arange(d, dtype=np.int32))
        mean.append(mu)
        chol.append(L.reshape(-1))
        chinv.append(Linv.reshape(-1))
        o += d
        co += d * d
    arrays = [count, offset, np.concatenate(act).astype(np.int32), np.concatenate(mean), choff,
              np.concatenate(chol), np.concatenate(chinv)]
    return [np.ascontiguousarray(a) for a in arrays]


def struct_of(addresses, d):
    s = MdsaModels()
    s.num_classes, s.dim = CLASSES, d
    (s.active_count, s.offset, s.active_index, s.mean, s.chol_offset, s.chol, s.chol_inv) = addresses
    return s


def predicted_map(H, W, rng):
    """Blocks of classes 0..11 (about 40x56 pixels), class 4 absent, class 3 exactly one pixel,
    class 1 present but without a model."""
    ys, xs = np.mgrid[0:H, 0:W]
    h = (ys // 40) * 7919 + (xs // 56) * 104729
    p = ((h * 2654435761) >> 7) % CLASSES
    p = np.where((p == 4) | (p == 3), 0, p).astype(np.int32)
    p[H // 2, W // 3] = 3
    return p


def cpu_mdsa(cpu, feats, pred, struct, mode=0):
    """libsegsa_cpu on one frame: map, class pixels, class sums."""
    d, h0, w0 = feats.shape
    H, W = pred.shape
    nb = C.c_size_t()
    check(cpu.segsa_workspace_bytes(d, h0, w0, H, W, CLASSES, C.byref(nb)), cpu, "segsa_workspace_bytes")
    ws = np.empty(nb.value + 64, np.uint8)
    m = np.empty(H * W, np.float32)
    px = np.zeros(CLASSES, np.int64)
    sums = np.zeros(CLASSES, np.float64)
    f = np.ascontiguousarray(feats, np.float32)
    pr = np.ascontiguousarray(pred, np.int32)
    check(cpu.segsa_mdsa_frame(f.ctypes.data, d, h0, w0, H, W, mode, pr.ctypes.data, CLASSES, C.byref(struct),
                               ws.ctypes.data, nb.value, m.ctypes.data, px.ctypes.data, sums.ctypes.data),
          cpu, "segsa_mdsa_frame")
    return m.reshape(H, W), px, sums


def axis(inp, out):
    """PyTorch bilinear, align_corners=False, index arithmetic in float64."""
    scale = inp / out
    src = np.maximum(scale * (np.arange(out) + 0.5) - 0.5, 0)
    lo = np.minimum(src.astype(np.int64), inp - 1)
    hi = np.where(lo < inp - 1, lo + 1, lo)
    l1 = np.where(hi == lo, 0.0, src - lo)
    return lo, hi, 1 - l1, l1


def numpy_mdsa(feats, pred, classes):
    """float64 reference: upsample (bilinear), then Mahalanobis of each pixel against its class."""
    d, h0, w0 = feats.shape
    H, W = pred.shape
    rl, rh, rwl, rwh = axis(h0, H)
    cl, ch, cwl, cwh = axis(w0, W)
    f = feats.astype(np.float64)
    up = (f[:, rl][:, :, cl] * (rwl[:, None] * cwl[None, :]) + f[:, rl][:, :, ch] * (rwl[:, None] * cwh[None, :])
          + f[:, rh][:, :, cl] * (rwh[:, None] * cwl[None, :]) + f[:, rh][:, :, ch] * (rwh[:, None] * cwh[None, :]))
    x = up.reshape(d, -1).T
    out = np.full(H * W, np.nan)
    p = pred.reshape(-1)
    for c, m in enumerate(classes):
        if m is None:
            continue
        sel = p == c
        if not sel.any():
            continue
        mu, L, Linv = m
        z = (x[sel] - mu) @ Linv.T
        out[sel] = np.sqrt((z * z).sum(1))
    return out.reshape(H, W)


def compare(cpu_map, cpu_px, cpu_sums, got_map, got_px, got_sums):
    nan_c, nan_g = np.isnan(cpu_map), np.isnan(got_map)
    if not np.array_equal(nan_c, nan_g):
        return False, "NaN in different pixels (%d vs %d)" % (nan_c.sum(), nan_g.sum()), math.inf, math.inf
    ok = ~nan_c
    merr = float(np.max(np.abs(got_map[ok] - cpu_map[ok]) / np.maximum(np.abs(cpu_map[ok]), 1))) if ok.any() else 0.0
    if not np.array_equal(cpu_px, got_px):
        return False, "class pixel counts differ: %s vs %s" % (cpu_px.tolist(), got_px.tolist()), merr, math.inf
    fin = np.isfinite(cpu_sums)
    if not np.array_equal(fin, np.isfinite(got_sums)):
        return False, "non-finite class sums differ", merr, math.inf
    serr = float(np.max(np.abs(got_sums[fin] - cpu_sums[fin]) / np.maximum(np.abs(cpu_sums[fin]), np.maximum(cpu_px[fin], 1))))
    ok = merr <= MAP_TOL and serr <= SUM_TOL
    return ok, "" if ok else "error above tolerance", merr, serr


def dry_run(cpu):
    """No GPU: the CPU library through the same structs against the numpy float64 reference."""
    rng = np.random.default_rng(7)
    rows, failures = [], 0
    for d, (w0, h0) in [(8, (8, 6)), (64, (64, 42))]:
        H, W = 8 * h0, 8 * w0
        classes = make_models(d, rng)
        arrays = pack(classes, d)
        s = struct_of([a.ctypes.data for a in arrays], d)
        feats = (rng.standard_normal((d, h0, w0)) * 1.2 + 0.3).astype(np.float32)
        feats[:, 2, 3] = np.nan
        pred = predicted_map(H, W, rng)
        m, px, sums = cpu_mdsa(cpu, feats, pred, s)
        ref = numpy_mdsa(feats, pred, classes)
        ref_px = np.array([(pred == c).sum() if classes[c] is not None else 0 for c in range(CLASSES)], np.int64)
        ref_sums = np.array([np.sum(ref[pred == c]) if classes[c] is not None else 0.0 for c in range(CLASSES)])
        ok, why, merr, serr = compare(ref.astype(np.float32), ref_px, ref_sums, m, px, sums)
        # the CPU kernel and the reference agree to float64 rounding; NaN features give NaN pixels and sums
        rows.append(dict(check="cpu vs numpy (dry run)", d=d, frame="%dx%d" % (W, H), batch=1, map_err=merr, sum_err=serr,
                         ok=ok, why=why))
        failures += not ok
    return rows, failures


def device_checks(cpu, cuda, out_dir):
    import torch
    import torch.nn.functional as F
    dev = torch.device("cuda:0")
    props = torch.cuda.get_device_properties(0)
    rng = np.random.default_rng(20261201)
    rows, timing, failures = [], [], 0
    for d in (64, 256):
        classes = make_models(d, rng)
        arrays = pack(classes, d)
        host_struct = struct_of([a.ctypes.data for a in arrays], d)
        dev_arrays = [torch.from_numpy(a).to(dev) for a in arrays]
        dev_struct = struct_of([t.data_ptr() for t in dev_arrays], d)
        mus = [None if m is None else torch.tensor(m[0], device=dev, dtype=torch.float32) for m in classes]
        linvT = [None if m is None else torch.tensor(m[2].T.copy(), device=dev, dtype=torch.float32) for m in classes]
        for (W, H) in [(512, 336), (1024, 512), (1920, 1088)]:
            h0, w0 = H // 8, W // 8
            for n in (1, 8, 32):
                if n == 32 and (W, H) != (1024, 512):
                    continue
                feats = (torch.randn(n, d, h0, w0, device=dev) * 1.2 + 0.3).contiguous()
                if n == 1:
                    feats[0, :, 2, 3] = float("nan")
                pred_np = np.stack([predicted_map(H, W, rng) for _ in range(n)])
                pred = torch.from_numpy(pred_np).to(dev).contiguous()
                nb = C.c_size_t()
                check(cuda.segsa_cuda_mdsa_batch_workspace_bytes(n, d, h0, w0, H, W, CLASSES, C.byref(nb)), cuda,
                      "segsa_cuda_mdsa_batch_workspace_bytes", True)
                ws = torch.empty(nb.value, dtype=torch.uint8, device=dev)
                smap = torch.empty(n, H, W, dtype=torch.float32, device=dev)
                px = torch.empty(n, CLASSES, dtype=torch.int64, device=dev)
                sums = torch.empty(n, CLASSES, dtype=torch.float64, device=dev)
                stream = torch.cuda.current_stream().cuda_stream

                def fused():
                    check(cuda.segsa_cuda_mdsa_batch(feats.data_ptr(), n, d, h0, w0, H, W, 0, pred.data_ptr(), CLASSES,
                                                     C.byref(dev_struct), ws.data_ptr(), nb.value, smap.data_ptr(),
                                                     px.data_ptr(), sums.data_ptr(), stream), cuda, "segsa_cuda_mdsa_batch", True)

                # 1. correctness against the CPU library, frame by frame (batch 1 and 8)
                if n in (1, 8):
                    fused()
                    torch.cuda.synchronize()
                    gm, gp, gs = smap.cpu().numpy(), px.cpu().numpy(), sums.cpu().numpy()
                    fh = feats.cpu().numpy()
                    worst = (True, "", 0.0, 0.0)
                    for i in range(n):
                        cm, cp, cs = cpu_mdsa(cpu, fh[i], pred_np[i], host_struct)
                        r = compare(cm, cp, cs, gm[i], gp[i], gs[i])
                        if not r[0] or r[2] > worst[2] or r[3] > worst[3]:
                            worst = r if not r[0] else (worst[0], worst[1], max(worst[2], r[2]), max(worst[3], r[3]))
                        if not r[0]:
                            break
                    rows.append(dict(check="cuda vs cpu", d=d, frame="%dx%d" % (W, H), batch=n, map_err=worst[2],
                                     sum_err=worst[3], ok=worst[0], why=worst[1] + (" (NaN cell)" if n == 1 else "")))
                    failures += not worst[0]
                # 2. no host copy in the scoring call
                if n == 8 and (W, H) == (1024, 512):
                    from torch.profiler import profile, ProfilerActivity
                    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                        fused()
                        torch.cuda.synchronize()
                    copies = [e.name for e in prof.events() if "memcpy" in e.name.lower()]
                    ok = not copies
                    rows.append(dict(check="no host copy (profiler)", d=d, frame="%dx%d" % (W, H), batch=n, map_err=0.0,
                                     sum_err=0.0, ok=ok, why="" if ok else "copies: %s" % sorted(set(copies))))
                    failures += not ok
                # 3. timings against the PyTorch peers (d = 256 and 64, every batch)
                def padim():
                    up = F.interpolate(feats, size=(H, W), mode="bilinear", align_corners=False)
                    x = up.permute(0, 2, 3, 1).reshape(-1, d)
                    p = pred.reshape(-1)
                    out = torch.empty(x.shape[0], device=dev)
                    for c in range(CLASSES):
                        if mus[c] is None:
                            continue
                        sel = p == c
                        z = (x[sel] - mus[c]) @ linvT[c]
                        out[sel] = z.norm(dim=1)
                    return out

                ys = (torch.arange(H, device=dev, dtype=torch.float32) + 0.5) / H * 2 - 1
                xs = (torch.arange(W, device=dev, dtype=torch.float32) + 0.5) / W * 2 - 1

                def skilled():
                    out = torch.empty(n, H * W, device=dev)
                    p = pred.reshape(n, -1)
                    for c in range(CLASSES):
                        if mus[c] is None:
                            continue
                        # whiten every cell at low resolution, then interpolate only this class's pixels
                        z = torch.einsum("nkhw,kj->njhw", feats - mus[c].view(1, -1, 1, 1), linvT[c])
                        for i in range(n):
                            idx = (p[i] == c).nonzero().squeeze(1)
                            if idx.numel() == 0:
                                continue
                            grid = torch.stack([xs[idx % W], ys[idx // W]], 1).view(1, 1, -1, 2)
                            g = F.grid_sample(z[i:i + 1], grid, mode="bilinear", align_corners=False)
                            out[i, idx] = g.view(d, -1).norm(dim=0)
                    return out

                def ms(fn, reps):
                    fn()
                    torch.cuda.synchronize()
                    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    a.record()
                    for _ in range(reps):
                        fn()
                    b.record()
                    torch.cuda.synchronize()
                    return a.elapsed_time(b) / reps

                t_fused = ms(fused, 20)
                t_padim = ms(padim, 3) if n * H * W * d * 4 < 40e9 else float("nan")
                t_skilled = ms(skilled, 3)
                pixels = n * H * W
                timing.append(dict(d=d, frame="%dx%d" % (W, H), batch=n, fused_ms=t_fused, padim_ms=t_padim,
                                   skilled_ms=t_skilled, gpix_s=pixels / t_fused / 1e6,
                                   vs_padim=t_padim / t_fused, vs_skilled=t_skilled / t_fused))
                del feats, pred, ws, smap, px, sums
                torch.cuda.empty_cache()
    return rows, timing, failures, "%s (sm_%d%d, %d SMs, %.0f GiB)" % (
        props.name, props.major, props.minor, props.multi_processor_count, props.total_memory / 2 ** 30)


def table(rows, timing, device):
    lines = ["device: %s" % device, "",
             "| check | d | frame | batch | map err | sum err | result |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %d | %s | %d | %.2g | %.2g | %s |" % (r["check"], r["d"], r["frame"], r["batch"], r["map_err"],
                                                              r["sum_err"], "ok" if r["ok"] else "FAIL " + r["why"]))
    if timing:
        lines += ["", "MDSA, 12 classes, CUDA events (ms per batch):", "",
                  "| d | frame | batch | fused ms | G pixels/s | PaDiM-style ms | x | skilled ms | x |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for t in timing:
            lines.append("| %d | %s | %d | %.3f | %.2f | %.2f | %.1f | %.2f | %.1f |" % (
                t["d"], t["frame"], t["batch"], t["fused_ms"], t["gpix_s"], t["padim_ms"], t["vs_padim"], t["skilled_ms"],
                t["vs_skilled"]))
    return "\n".join(lines) + "\n"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    dry = "--dry-run" in sys.argv
    if not args:
        print(__doc__)
        return 2
    cpu, cuda = load(args[0])
    if dry:
        rows, failures = dry_run(cpu)
        timing, device = [], "none (dry run: CPU library against numpy)"
    else:
        try:
            import torch
        except ImportError:
            print("torch_check.py: no torch in this python3", file=sys.stderr)
            return 2
        if not torch.cuda.is_available() or cuda is None:
            print("torch_check.py: no CUDA device for torch, or libsegsa_cuda not built", file=sys.stderr)
            return 2
        rows, timing, failures, device = device_checks(cpu, cuda, os.environ.get("OUT"))
    text = table(rows, timing, device)
    print(text)
    out = os.environ.get("OUT")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "torch_check.md"), "w") as f:
            f.write(text)
        with open(os.path.join(out, "torch_check.json"), "w") as f:
            json.dump(dict(device=device, checks=rows, timing=timing), f, indent=1)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
