// The fused pass over a frame's class scores for libsegsa_cpu (segsa.h, segsa_logits_frame and
// segsa_logits_maps_frame): argmax, non-finite counts, per-class pixel counts, the softmax
// uncertainty sums and optionally the per-pixel entropy, margin and probability maps, in one read of
// the logits, upsampling low-resolution logits on the fly with PyTorch's float32 arithmetic.
//
// This file is compiled with -ffp-contract=off (CMakeLists.txt) and writes every fused
// multiply-add explicitly: the interpolation must round exactly as ATen's generic upsample kernel
// (UpSampleKernel.cpp, NCHW, as LibTorch 2.10's build compiles it: float32, fused where its
// compiler fuses) so that the argmax equals torch.argmax(F.interpolate(...)) bit for bit; checked
// against LibTorch on seeded logits with exact ties in LogitsPassTest. ATen sends small outputs
// (H + W <= 128), 3-class and channels-last logits to its channels-last kernel, which rounds in
// another order that depends on the CPU's vector width: SegmentationModel upsamples those with
// LibTorch first and passes them here at full resolution.
#include "segsa_internal.hpp"

#include <cfloat>
#include <cmath>
#include <cstring>

namespace segsa {
namespace {

#define SEGSA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

// Pixels handled together: per-tile state lives on the stack (nothing is allocated per frame).
constexpr int kTile = 256;
// Doubles of the per-tile cache of e_c = exp(l_c - max) kept for the probabilities map when
// C * n fits (32 KiB of stack); larger C recompute e_c (the same exp of the same difference).
constexpr int kExpCache = 4096;
// The frame is cut into this many fixed chunks of pixels (not one per thread): every count and
// sum is reduced over chunks in one order, so results do not depend on the thread count.
constexpr int kChunks = 64;

// ATen's linear-interpolation indices and weights along one axis, float32 (UpSample.h:
// area_pixel_compute_scale, area_pixel_compute_source_index, guard_index_and_lambda,
// compute_source_index_and_lambda), or nearest (nearest_idx).
struct Axis32 {
    int32_t* lo;
    int32_t* hi;
    float* wlo;
    float* whi;
};

void axis32_init(int mode, int in, int out, bool fused, Axis32& a) {
    if (mode == 2) {
        float scale = static_cast<float>(in) / static_cast<float>(out);
        for (int i = 0; i < out; i++) {
            int idx;
            if (out == in) idx = i;
            else if (out == 2 * in) idx = i >> 1;
            else {
                float prod = static_cast<float>(i) * scale;
                int f = static_cast<int>(std::floor(prod));
                idx = f < in - 1 ? f : in - 1;
            }
            a.lo[i] = idx;
            a.hi[i] = idx;
            a.wlo[i] = 1.0f;
            a.whi[i] = 0.0f;
        }
        return;
    }
    const bool aligned = mode == 1;
    float scale;
    if (aligned) scale = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
    else scale = static_cast<float>(in) / static_cast<float>(out);
    for (int i = 0; i < out; i++) {
        if (out == in) {
            a.lo[i] = i;
            a.hi[i] = i;
            a.wlo[i] = 1.0f;
            a.whi[i] = 0.0f;
            continue;
        }
        float src;
        if (aligned) src = scale * static_cast<float>(i);
        else {
            // ATen's scale * (i + 0.5) - 0.5, which its AVX2/AVX-512 builds contract into one fused multiply-add
            src = fused ? std::fma(scale, static_cast<float>(i) + 0.5f, -0.5f) : scale * (static_cast<float>(i) + 0.5f) - 0.5f;
            if (src < 0.0f) src = 0.0f;
        }
        int i0 = static_cast<int>(std::floor(src));
        if (i0 > in - 1) i0 = in - 1;
        float l1 = src - static_cast<float>(i0);
        if (l1 < 0.0f) l1 = 0.0f;
        if (l1 > 1.0f) l1 = 1.0f;
        a.lo[i] = i0;
        a.hi[i] = i0 < in - 1 ? i0 + 1 : i0;
        a.wlo[i] = 1.0f - l1;
        a.whi[i] = l1;
    }
}

struct Pass {
    const float* logits;
    int C, h, w, H, W, mode;
    bool full;  // logits already at H x W
    bool fused; // round as ATen's AVX2/AVX-512 kernels (fused multiply-adds); false: as its baseline kernel
    Axis32 rows, cols;
    int32_t* predicted;
    bool uncertainty;          // uncertainty_sums requested
    bool softmax;              // the softmax part runs: uncertainty or a map requested
    float* entropy_map;        // [H*W] or null
    float* margin_map;         // [H*W] or null
    float* probabilities;      // [C, H*W] or null
    int64_t* chunk_pixels;     // [kChunks * C]
    double* chunk_sums;        // [kChunks * 4 * C]
    int64_t* chunk_nonfinite;  // [kChunks]
};

inline bool not_finite(float v) { return !(std::fabs(v) <= FLT_MAX); }

// The logits of class c for the n pixels of one tile, into v: a view of the full-resolution
// plane, or interpolated (ATen's generic kernel: t0 * w0 + t1 * w1 per axis, the row axis
// outermost) from the low-resolution plane.
inline const float* tile_values(const Pass& P, int c, int64_t p0, int y, int x0, int n, float* v) {
    if (P.full) return P.logits + static_cast<size_t>(c) * P.H * P.W + p0;
    const float* plane = P.logits + static_cast<size_t>(c) * P.h * P.w;
    const float* r0 = plane + static_cast<size_t>(P.rows.lo[y]) * P.w;
    const float* r1 = plane + static_cast<size_t>(P.rows.hi[y]) * P.w;
    const float wy0 = P.rows.wlo[y], wy1 = P.rows.whi[y];
    const int32_t* xl = P.cols.lo + x0;
    const int32_t* xh = P.cols.hi + x0;
    const float* wx0 = P.cols.wlo + x0;
    const float* wx1 = P.cols.whi + x0;
    if (P.mode == 2) {
        for (int i = 0; i < n; i++) v[i] = r0[xl[i]];
        return v;
    }
    if (!P.fused) {
        for (int i = 0; i < n; i++) {
            float t0 = r0[xl[i]] * wx0[i] + r0[xh[i]] * wx1[i];
            float t1 = r1[xl[i]] * wx0[i] + r1[xh[i]] * wx1[i];
            v[i] = t0 * wy0 + t1 * wy1;
        }
        return v;
    }
    // ATen's t0 * w0 + t1 * w1 as its AVX2/AVX-512 builds contract it: fma(t0, w0, t1 * w1), the row axis outermost
    for (int i = 0; i < n; i++) {
        float t0 = std::fma(r0[xl[i]], wx0[i], r0[xh[i]] * wx1[i]);
        float t1 = std::fma(r1[xl[i]], wx0[i], r1[xh[i]] * wx1[i]);
        v[i] = std::fma(t0, wy0, t1 * wy1);
    }
    return v;
}

// e[i] = exp(d[i]) for d[i] <= 0, vectorised (exp_nonpositive, segsa_internal.hpp)
inline void exp_block(const double* __restrict d, double* __restrict e, int n) {
#pragma omp simd
    for (int i = 0; i < n; i++) e[i] = exp_nonpositive(d[i]);
}

// One tile of n pixels starting at flat index p0 (row y, column x0 when upsampling).
SEGSA_CLONES
void tile(const Pass& P, int64_t p0, int y, int x0, int n, int64_t* pixels, double* sums, int64_t* nonfinite) {
    float best[kTile], scratch[kTile];
    int32_t idx[kTile];
    int64_t bad = 0;
    {
        const float* v = tile_values(P, 0, p0, y, x0, n, scratch);
        for (int i = 0; i < n; i++) {
            best[i] = v[i];
            idx[i] = 0;
            bad += not_finite(v[i]);
        }
    }
    for (int c = 1; c < P.C; c++) {
        const float* v = tile_values(P, c, p0, y, x0, n, scratch);
#pragma omp simd reduction(+ : bad)
        for (int i = 0; i < n; i++) {
            float x = v[i], b = best[i];
            // torch.argmax: the first maximum; NaN counts as larger than every number (the first NaN wins)
            bool take = x > b || (x != x && b == b);
            best[i] = take ? x : b;
            idx[i] = take ? c : idx[i];
            bad += not_finite(x);
        }
    }
    std::memcpy(P.predicted + p0, idx, sizeof(int32_t) * n);
    for (int i = 0; i < n; i++) pixels[idx[i]]++;
    *nonfinite += bad;
    if (!P.softmax) return;

    // softmax per pixel in float64: m = max logit, e_c = exp(l_c - m), s = sum e_c; p_top1 = 1 / s,
    // entropy = log s - sum e_c (l_c - m) / s, deepGini = 1 - sum e_c^2 / s^2, margin from the
    // second largest logit (the first maximum's ties count as the second)
    double s[kTile], t[kTile], q[kTile], second[kTile], mx[kTile], dv[kTile], ev[kTile];
    for (int i = 0; i < n; i++) {
        mx[i] = best[i];
        s[i] = 0;
        t[i] = 0;
        q[i] = 0;
        second[i] = -INFINITY;
    }
    double cache[kExpCache];
    const bool keep = P.probabilities != nullptr && static_cast<int64_t>(P.C) * n <= kExpCache;
    for (int c = 0; c < P.C; c++) {
        const float* v = tile_values(P, c, p0, y, x0, n, scratch);
        for (int i = 0; i < n; i++) dv[i] = static_cast<double>(v[i]) - mx[i];
        double* ec = keep ? cache + static_cast<size_t>(c) * n : ev;
        exp_block(dv, ec, n);
        for (int i = 0; i < n; i++) {
            const double d = dv[i], e = ec[i];
            s[i] += e;
            t[i] += d == 0 ? 0.0 : e * d;  // e * d is 0 at the maximum (and avoids inf * 0 for -inf logits)
            q[i] += e * e;
        }
        for (int i = 0; i < n; i++) {
            double x = v[i];
            second[i] = c != idx[i] && x > second[i] ? x : second[i];
        }
    }
    double* se = sums;
    double* sm = sums + P.C;
    double* sl = sums + 2 * P.C;
    double* sg = sums + 3 * P.C;
    float* em = P.entropy_map ? P.entropy_map + p0 : nullptr;
    float* mm = P.margin_map ? P.margin_map + p0 : nullptr;
    for (int i = 0; i < n; i++) {
        const int c = idx[i];
        const double p1 = 1.0 / s[i];
        const double p2 = P.C >= 2 ? std::exp(second[i] - mx[i]) / s[i] : 0.0;
        double entropy = std::log(s[i]) - t[i] / s[i];
        if (entropy < 0) entropy = 0;  // rounding near a one-hot softmax
        const float fe = static_cast<float>(entropy);
        const float fm = static_cast<float>(P.C >= 2 ? 1.0 - (p1 - p2) : 0.0);
        if (P.uncertainty) {
            se[c] += static_cast<double>(fe);
            sm[c] += static_cast<double>(fm);
            sl[c] += static_cast<double>(static_cast<float>(1.0 - p1));
            sg[c] += static_cast<double>(static_cast<float>(1.0 - q[i] / (s[i] * s[i])));
        }
        if (em) em[i] = fe;
        if (mm) mm[i] = fm;
    }
    if (P.probabilities == nullptr) return;
    // p_c = e_c / s with the e_c of the loop above: kept in the cache, or recomputed (the same exp
    // of the same difference) when C * n does not fit
    const size_t plane = static_cast<size_t>(P.H) * P.W;
    for (int c = 0; c < P.C; c++) {
        const double* ec = ev;
        if (keep) ec = cache + static_cast<size_t>(c) * n;
        else {
            const float* v = tile_values(P, c, p0, y, x0, n, scratch);
            for (int i = 0; i < n; i++) dv[i] = static_cast<double>(v[i]) - mx[i];
            exp_block(dv, ev, n);
        }
        float* out = P.probabilities + static_cast<size_t>(c) * plane + p0;
        for (int i = 0; i < n; i++) out[i] = static_cast<float>(ec[i] / s[i]);
    }
}

SEGSA_CLONES
int64_t count_nonfinite(const float* v, int64_t n) {
    int64_t bad = 0;
#pragma omp simd reduction(+ : bad)
    for (int64_t i = 0; i < n; i++) bad += not_finite(v[i]);
    return bad;
}

size_t carve_logits(Carver& cv, Pass& P, int C, int H, int W) {
    P.rows = {cv.take<int32_t>(H), cv.take<int32_t>(H), cv.take<float>(H), cv.take<float>(H)};
    P.cols = {cv.take<int32_t>(W), cv.take<int32_t>(W), cv.take<float>(W), cv.take<float>(W)};
    P.chunk_pixels = cv.take<int64_t>(static_cast<size_t>(kChunks) * C);
    P.chunk_sums = cv.take<double>(static_cast<size_t>(kChunks) * 4 * C);
    P.chunk_nonfinite = cv.take<int64_t>(kChunks + 1);
    return cv.used();
}

}  // namespace
}  // namespace segsa

using namespace segsa;

extern "C" SEGSA_API int segsa_logits_workspace_bytes(int num_classes, int H, int W, size_t* bytes) {
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_logits_workspace_bytes: bytes is null");
    if (num_classes <= 0 || H <= 0 || W <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_logits_workspace_bytes: sizes must be positive (num_classes=%d, H=%d, W=%d)",
                    num_classes, H, W);
    Carver cv(nullptr);
    Pass P{};
    *bytes = carve_logits(cv, P, num_classes, H, W);
    return SEGSA_OK;
}

namespace {

// segsa_logits_frame and segsa_logits_maps_frame (fn names the entry point in error messages)
int logits_pass(const char* fn, const float* logits, int num_classes, int h, int w, int H, int W, int upsample_mode,
                void* workspace, size_t workspace_bytes, int32_t* predicted, int64_t* class_pixels,
                int64_t* non_finite_logits, double* uncertainty_sums, const float* features, int64_t feature_values,
                int64_t* non_finite_features, float* entropy_map, float* margin_map, float* probabilities) {
    try {
        if (logits == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: logits is null", fn);
        if (num_classes <= 0 || num_classes > 65535)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: num_classes=%d, expected 1..65535", fn, num_classes);
        if (h <= 0 || w <= 0 || H <= 0 || W <= 0)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: sizes must be positive (h=%d, w=%d, H=%d, W=%d)", fn, h, w, H, W);
        if (static_cast<int64_t>(H) * W > INT32_MAX)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: frame too large (H=%d, W=%d)", fn, H, W);
        if (upsample_mode < 0 || upsample_mode > 2)
            return fail(SEGSA_ERR_INVALID_ARGUMENT,
                        "%s: upsample_mode=%d, expected 0 (bilinear), 1 (bilinear aligned) or 2 (nearest)", fn, upsample_mode);
        if (predicted == nullptr || class_pixels == nullptr || non_finite_logits == nullptr)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: predicted, class_pixels or non_finite_logits is null", fn);
        if (features != nullptr && (feature_values < 0 || non_finite_features == nullptr))
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: features given with feature_values=%lld and non_finite_features %s", fn,
                        static_cast<long long>(feature_values), non_finite_features ? "set" : "null");
        Pass P{};
        Carver probe(nullptr);
        size_t need = carve_logits(probe, P, num_classes, H, W);
        if (workspace == nullptr || workspace_bytes < need)
            return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes%s, need %zu (segsa_logits_workspace_bytes)", fn,
                        workspace_bytes, workspace == nullptr ? " (null)" : "", need);
        Carver cv(align64(workspace));
        carve_logits(cv, P, num_classes, H, W);
        const int C = num_classes;
        P.logits = logits;
        P.C = C;
        P.h = h;
        P.w = w;
        P.H = H;
        P.W = W;
        P.mode = upsample_mode;
        P.full = h == H && w == W;
        P.predicted = predicted;
        P.uncertainty = uncertainty_sums != nullptr;
        P.entropy_map = entropy_map;
        P.margin_map = margin_map;
        P.probabilities = probabilities;
        const bool maps = entropy_map != nullptr || margin_map != nullptr || probabilities != nullptr;
        P.softmax = P.uncertainty || maps;
        __builtin_cpu_init();
        P.fused = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");  // ATen's AVX2 / AVX-512 kernels
        if (!P.full) {
            axis32_init(upsample_mode, h, H, P.fused, P.rows);
            axis32_init(upsample_mode, w, W, P.fused, P.cols);
        }
        const int64_t npix = static_cast<int64_t>(H) * W;
        const int64_t fvals = features ? feature_values : 0;
        // work units: full resolution = flat pixel ranges; upsampling = whole rows (one row's indices)
        const int64_t units = P.full ? npix : H;
        const int chunks = units < kChunks ? static_cast<int>(units) : kChunks;
        const int64_t work = npix * C * (P.softmax ? (probabilities != nullptr ? 5 : 3) : 1);
        int64_t features_bad = 0;
#pragma omp parallel num_threads(kernel_threads()) if (work > 200000)
        {
#pragma omp for schedule(static) nowait
            for (int ch = 0; ch < chunks; ch++) {
                int64_t* px = P.chunk_pixels + static_cast<size_t>(ch) * C;
                double* sums = P.chunk_sums + static_cast<size_t>(ch) * 4 * C;
                std::memset(px, 0, sizeof(int64_t) * C);
                if (P.uncertainty) std::memset(sums, 0, sizeof(double) * 4 * C);
                int64_t bad = 0;
                const int64_t u0 = units * ch / chunks, u1 = units * (ch + 1) / chunks;
                if (P.full) {
                    for (int64_t p = u0; p < u1; p += kTile) {
                        int n = static_cast<int>(u1 - p < kTile ? u1 - p : kTile);
                        tile(P, p, 0, 0, n, px, sums, &bad);
                    }
                } else {
                    for (int64_t y = u0; y < u1; y++) {
                        for (int x = 0; x < W; x += kTile) {
                            int n = W - x < kTile ? W - x : kTile;
                            tile(P, y * W + x, static_cast<int>(y), x, n, px, sums, &bad);
                        }
                    }
                }
                P.chunk_nonfinite[ch] = bad;
            }
            // the features' non-finite count, in fixed slices summed in order
#pragma omp for schedule(static)
            for (int ch = 0; ch < kChunks; ch++) {
                if (fvals == 0) continue;
                const int64_t a = fvals * ch / kChunks, b = fvals * (ch + 1) / kChunks;
                int64_t n = count_nonfinite(features + a, b - a);
                if (n) {
#pragma omp atomic
                    features_bad += n;
                }
            }
        }
        int64_t bad = 0;
        for (int c = 0; c < C; c++) class_pixels[c] = 0;
        if (P.uncertainty) std::memset(uncertainty_sums, 0, sizeof(double) * 4 * C);
        for (int ch = 0; ch < chunks; ch++) {
            bad += P.chunk_nonfinite[ch];
            const int64_t* px = P.chunk_pixels + static_cast<size_t>(ch) * C;
            for (int c = 0; c < C; c++) class_pixels[c] += px[c];
            if (P.uncertainty) {
                const double* sums = P.chunk_sums + static_cast<size_t>(ch) * 4 * C;
                for (int k = 0; k < 4 * C; k++) uncertainty_sums[k] += sums[k];
            }
        }
        *non_finite_logits = bad;
        if (features != nullptr) *non_finite_features = features_bad;
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}

}  // namespace

extern "C" SEGSA_API int segsa_logits_frame(const float* logits, int num_classes, int h, int w, int H, int W,
                                            int upsample_mode, void* workspace, size_t workspace_bytes,
                                            int32_t* predicted, int64_t* class_pixels, int64_t* non_finite_logits,
                                            double* uncertainty_sums, const float* features, int64_t feature_values,
                                            int64_t* non_finite_features) {
    return logits_pass("segsa_logits_frame", logits, num_classes, h, w, H, W, upsample_mode, workspace, workspace_bytes,
                       predicted, class_pixels, non_finite_logits, uncertainty_sums, features, feature_values,
                       non_finite_features, nullptr, nullptr, nullptr);
}

extern "C" SEGSA_API int segsa_logits_maps_frame(const float* logits, int num_classes, int h, int w, int H, int W,
                                                 int upsample_mode, void* workspace, size_t workspace_bytes,
                                                 int32_t* predicted, int64_t* class_pixels, int64_t* non_finite_logits,
                                                 double* uncertainty_sums, const float* features, int64_t feature_values,
                                                 int64_t* non_finite_features, float* entropy_map, float* margin_map,
                                                 float* probabilities) {
    return logits_pass("segsa_logits_maps_frame", logits, num_classes, h, w, H, W, upsample_mode, workspace,
                       workspace_bytes, predicted, class_pixels, non_finite_logits, uncertainty_sums, features,
                       feature_values, non_finite_features, entropy_map, margin_map, probabilities);
}
