// Fused whole-frame LSA (design.md section 2, last paragraph) for libsegsa_cpu.
//
// In the space whitened by the KDE bandwidth factor L_c (bandwidth matrix = L_c L_c^T) the Gaussian
// kernel is isotropic. With a centre c_c (the reference mean; any point works, it only keeps the
// numbers small), the whitened references y_j = L^-1 (r_j - c) are prepared once per model
// (segsa_lsa_prepare_references), and per frame:
//   1. whiten the low-resolution cells the class touches: z_k = L^-1 (f_k[active] - c);
//   2. one GEMM at low resolution, in chunks of kChunk references: D[k][j] = <z_k, y_j>;
//   3. per output pixel p (weights w_pk of its <= 4 neighbours, sum 1): y_p = sum_k w_pk z_k,
//      ||y_p - y_j||^2 = ||y_p||^2 - 2 sum_k w_pk D[k][j] + ||y_j||^2, and an online
//      log-sum-exp over j (two passes within a chunk, merged across chunks);
//   4. LSA = -(logsumexp_j(-q_j / 2) + log_norm), log_norm = -log n - k/2 log(2 pi) - sum log diag L.
// float64 throughout; the upsampled tensor is never built; no allocation.
#include "segsa_internal.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace segsa {
namespace {

#define SEGSA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

constexpr int kChunk = 256;  // references per GEMM chunk (a row of D is 2 KiB)
constexpr int kMR = 4;       // micro-kernel: cells
constexpr int kNR = 16;      // micro-kernel: references

// exp(x) for x <= 0, accurate to a few ulp; 0 below -708. Branch-free so that it vectorises.
inline double exp_nonpositive(double x) {
    x = x < -708.0 ? -708.0 : x;
    const double log2e = 1.4426950408889634;
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double magic = 6755399441055744.0;  // 1.5 * 2^52
    double kd = x * log2e + magic;
    int64_t bits = __builtin_bit_cast(int64_t, kd);
    kd -= magic;
    double r = x - kd * ln2_hi;
    r = r - kd * ln2_lo;  // |r| <= 0.3466
    double p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    uint64_t sbits = (static_cast<uint64_t>(bits) + 1023u) << 52;
    return p * __builtin_bit_cast(double, sbits);
}

// D[m][j] = <Z[m], Yt[:, j]> for m in [m0, m1), j in [0, nc); Z row-major [.. x k], Yt [k x ldy].
SEGSA_CLONES
void gemm_rows(const double* Z, int k, int m0, int m1, const double* Yt, size_t ldy, int nc, double* D, size_t ldd) {
    int m = m0;
    for (; m + kMR <= m1; m += kMR) {
        const double* z0 = Z + static_cast<size_t>(m) * k;
        int j = 0;
        for (; j + kNR <= nc; j += kNR) {
            double acc[kMR][kNR] = {};
            for (int i = 0; i < k; i++) {
                const double* y = Yt + static_cast<size_t>(i) * ldy + j;
                for (int r = 0; r < kMR; r++) {
                    double zr = z0[static_cast<size_t>(r) * k + i];
#pragma omp simd
                    for (int c = 0; c < kNR; c++) acc[r][c] += zr * y[c];
                }
            }
            for (int r = 0; r < kMR; r++)
                for (int c = 0; c < kNR; c++) D[static_cast<size_t>(m + r) * ldd + j + c] = acc[r][c];
        }
        for (; j < nc; j++) {
            for (int r = 0; r < kMR; r++) {
                double s = 0;
                const double* zr = z0 + static_cast<size_t>(r) * k;
                for (int i = 0; i < k; i++) s += zr[i] * Yt[static_cast<size_t>(i) * ldy + j];
                D[static_cast<size_t>(m + r) * ldd + j] = s;
            }
        }
    }
    for (; m < m1; m++) {
        const double* zr = Z + static_cast<size_t>(m) * k;
        double* dr = D + static_cast<size_t>(m) * ldd;
        for (int j = 0; j < nc; j++) dr[j] = 0;
        for (int i = 0; i < k; i++) {
            double zi = zr[i];
            const double* y = Yt + static_cast<size_t>(i) * ldy;
#pragma omp simd
            for (int j = 0; j < nc; j++) dr[j] += zi * y[j];
        }
    }
}

// Log-sum-exp of -q_j/2 over one chunk for one pixel, merged into (max, sum).
SEGSA_CLONES
void pixel_chunk(const double* d0, const double* d1, const double* d2, const double* d3, double a, double b, double c,
                 double e, double pn, const double* rn, int nc, double* buf, double& state_max, double& state_sum) {
    double qmin = std::numeric_limits<double>::infinity();
#pragma omp simd reduction(min : qmin)
    for (int j = 0; j < nc; j++) {
        double dot = a * d0[j] + b * d1[j] + c * d2[j] + e * d3[j];
        double q = pn + rn[j] - 2.0 * dot;
        buf[j] = q;
        qmin = q < qmin ? q : qmin;
    }
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < nc; j++) s += exp_nonpositive(-0.5 * (buf[j] - qmin));
    double m = -0.5 * qmin;
    if (state_sum == 0) {
        state_max = m;
        state_sum = s;
    } else if (m > state_max) {
        state_sum = state_sum * std::exp(state_max - m) + s;
        state_max = m;
    } else {
        state_sum += s * std::exp(m - state_max);
    }
}

// z = L^-1 (x - centre) for one cell; x gathered from the channel-major feature map.
SEGSA_CLONES
void whiten_cell(const float* features, size_t plane, int32_t cell, int k, const int32_t* act, const double* centre,
                 const double* L, double* z) {
    for (int i = 0; i < k; i++) {
        const double* row = L + static_cast<size_t>(i) * k;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int j = 0; j < i; j++) s += row[j] * z[j];
        double v = static_cast<double>(features[static_cast<size_t>(act[i]) * plane + cell]) - centre[i];
        z[i] = (v - s) / row[i];
    }
}

struct LsaWs {
    Axis rows, cols;
    int64_t* class_start;  // [C+1]
    int64_t* class_fill;   // [C]
    int32_t* pixels;       // [H*W] pixel indices sorted by class
    int32_t* cell_map;     // [cells] compact index of a touched cell, -1 otherwise
    int32_t* cell_list;    // [cells]
    int32_t* nbr;          // [H*W * 4] compact neighbour rows per class pixel
    double* wts;           // [H*W * 4] interpolation weights per class pixel
    double* pnorm;         // [H*W] ||y_p||^2
    double* smax;          // [H*W] running log-sum-exp state
    double* ssum;          // [H*W]
    double* z;             // [cells * d] whitened cells (compact)
    double* dots;          // [cells * kChunk]
};

size_t carve(Carver& cv, LsaWs& w, int d, int h0, int w0, int H, int W, int C) {
    size_t cells = static_cast<size_t>(h0) * w0;
    size_t npix = static_cast<size_t>(H) * W;
    w.rows = {cv.take<int32_t>(H), cv.take<int32_t>(H), cv.take<double>(H), cv.take<double>(H)};
    w.cols = {cv.take<int32_t>(W), cv.take<int32_t>(W), cv.take<double>(W), cv.take<double>(W)};
    w.class_start = cv.take<int64_t>(C + 1);
    w.class_fill = cv.take<int64_t>(C);
    w.pixels = cv.take<int32_t>(npix);
    w.cell_map = cv.take<int32_t>(cells);
    w.cell_list = cv.take<int32_t>(cells);
    w.nbr = cv.take<int32_t>(npix * 4);
    w.wts = cv.take<double>(npix * 4);
    w.pnorm = cv.take<double>(npix);
    w.smax = cv.take<double>(npix);
    w.ssum = cv.take<double>(npix);
    w.z = cv.take<double>(cells * d);
    w.dots = cv.take<double>(cells * kChunk);
    return cv.used();
}

size_t lsa_workspace_bytes(int d, int h0, int w0, int H, int W, int C) {
    Carver cv(nullptr);
    LsaWs w;
    return carve(cv, w, d, h0, w0, H, W, C);
}

int check_lsa_models(const char* fn, const segsa_lsa_models* m, int d, int C) {
    if (m == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models is null", fn);
    if (m->num_classes != C)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models->num_classes=%d but num_classes=%d", fn, m->num_classes, C);
    if (m->dim != d)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models have dimension %d but the features have d=%d", fn, m->dim, d);
    if (!m->active_count || !m->offset || !m->chol_offset || !m->ref_count || !m->ref_offset || !m->refs_t_offset || !m->log_norm)
        return fail(SEGSA_ERR_INVALID_ARGUMENT,
                    "%s: models->active_count/offset/chol_offset/ref_count/refs_t_offset/ref_offset/log_norm is null", fn);
    for (int c = 0; c < C; c++) {
        int k = m->active_count[c];
        if (k < 0 || k > d)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d has %d active features, expected 0..%d", fn, c, k, d);
        if (k == 0) continue;
        if (!m->active_index || !m->centre || !m->chol || !m->refs_t || !m->ref_norm2)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models->active_index/centre/chol/refs_t/ref_norm2 is null", fn);
        if (m->offset[c] < 0 || m->chol_offset[c] < 0 || m->ref_offset[c] < 0 || m->refs_t_offset[c] < 0)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d has a negative offset", fn, c);
        if (m->ref_count[c] < 1)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d has a model but %d references", fn, c, m->ref_count[c]);
        if (!std::isfinite(m->log_norm[c]))
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d log_norm is %g", fn, c, m->log_norm[c]);
        const int32_t* act = m->active_index + m->offset[c];
        const double* L = m->chol + m->chol_offset[c];
        for (int i = 0; i < k; i++) {
            if (act[i] < 0 || act[i] >= d)
                return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d active feature %d is %d, outside [0, %d)", fn, c, i,
                            act[i], d);
            double diag = L[static_cast<size_t>(i) * k + i];
            if (!(diag > 0) || !std::isfinite(diag))
                return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d Cholesky diagonal %d is %g, must be positive", fn,
                            c, i, diag);
        }
    }
    return SEGSA_OK;
}

}  // namespace
}  // namespace segsa

using namespace segsa;

extern "C" {

SEGSA_API int segsa_lsa_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes, size_t* bytes) {
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_lsa_workspace_bytes: bytes is null");
    if (d <= 0 || h0 <= 0 || w0 <= 0 || H <= 0 || W <= 0 || num_classes <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT,
                    "segsa_lsa_workspace_bytes: sizes must be positive (d=%d, h0=%d, w0=%d, H=%d, W=%d, num_classes=%d)",
                    d, h0, w0, H, W, num_classes);
    *bytes = lsa_workspace_bytes(d, h0, w0, H, W, num_classes);
    return SEGSA_OK;
}

SEGSA_API int segsa_lsa_prepare_references(const double* references, int n, int d, int k, const int32_t* active_index,
                                           const double* centre, const double* chol, double* refs_t,
                                           double* ref_norm2) {
    static const char* fn = "segsa_lsa_prepare_references";
    try {
        if (!references || !active_index || !centre || !chol || !refs_t || !ref_norm2)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: a pointer argument is null", fn);
        if (n < 1 || d < 1 || k < 1 || k > d)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: n=%d, d=%d, k=%d: need n >= 1 and 1 <= k <= d", fn, n, d, k);
        for (int i = 0; i < k; i++) {
            if (active_index[i] < 0 || active_index[i] >= d)
                return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: active feature %d is %d, outside [0, %d)", fn, i,
                            active_index[i], d);
            double diag = chol[static_cast<size_t>(i) * k + i];
            if (!(diag > 0) || !std::isfinite(diag))
                return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: Cholesky diagonal %d is %g, must be positive", fn, i, diag);
        }
// Prepared once per model, not per frame: a per-thread scratch row is allocated here.
#pragma omp parallel num_threads(kernel_threads())
        {
            std::vector<double> zbuf(static_cast<size_t>(k));
            double* z = zbuf.data();
#pragma omp for schedule(static)
            for (int j = 0; j < n; j++) {
                const double* r = references + static_cast<size_t>(j) * d;
                double norm = 0;
                for (int i = 0; i < k; i++) {
                    const double* row = chol + static_cast<size_t>(i) * k;
                    double s = 0;
                    for (int t = 0; t < i; t++) s += row[t] * z[t];
                    double v = (r[active_index[i]] - centre[i] - s) / row[i];
                    z[i] = v;
                    norm += v * v;
                }
                for (int i = 0; i < k; i++) refs_t[static_cast<size_t>(i) * n + j] = z[i];
                ref_norm2[j] = norm;
            }
        }
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}

SEGSA_API int segsa_lsa_frame(const float* features, int d, int h0, int w0, int H, int W, int upsample_mode,
                              const int32_t* predicted, int num_classes, const segsa_lsa_models* models,
                              void* workspace, size_t workspace_bytes, float* sa_map, int64_t* class_pixels,
                              double* class_sums) {
    static const char* fn = "segsa_lsa_frame";
    try {
        int st = check_frame_args(fn, features, d, h0, w0, H, W, upsample_mode, predicted, num_classes);
        if (st) return st;
        if ((st = check_lsa_models(fn, models, d, num_classes))) return st;
        if (class_pixels == nullptr || class_sums == nullptr)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class_pixels or class_sums is null", fn);
        size_t need = lsa_workspace_bytes(d, h0, w0, H, W, num_classes);
        if (workspace == nullptr || workspace_bytes < need)
            return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL,
                        "%s: workspace of %zu bytes%s, need %zu (segsa_lsa_workspace_bytes)", fn, workspace_bytes,
                        workspace == nullptr ? " (null)" : "", need);
        const int C = num_classes;
        const size_t cells = static_cast<size_t>(h0) * w0;
        const int64_t npix = static_cast<int64_t>(H) * W;
        Carver cv(align64(workspace));
        LsaWs w;
        carve(cv, w, d, h0, w0, H, W, C);
        axis_init(upsample_mode, h0, H, w.rows);
        axis_init(upsample_mode, w0, W, w.cols);
        for (size_t a = 0; a < cells; a++) w.cell_map[a] = -1;

        const float nan = std::numeric_limits<float>::quiet_NaN();
        for (int c = 0; c <= C; c++) w.class_start[c] = 0;
        for (int64_t p = 0; p < npix; p++) {
            int32_t c = predicted[p];
            if (c >= 0 && c < C && models->active_count[c] > 0) w.class_start[c + 1]++;
            else if (sa_map) sa_map[p] = nan;
        }
        for (int c = 0; c < C; c++) {
            w.class_start[c + 1] += w.class_start[c];
            w.class_fill[c] = w.class_start[c];
        }
        for (int64_t p = 0; p < npix; p++) {
            int32_t c = predicted[p];
            if (c >= 0 && c < C && models->active_count[c] > 0) w.pixels[w.class_fill[c]++] = static_cast<int32_t>(p);
        }

        for (int c = 0; c < C; c++) {
            const int64_t begin = w.class_start[c], end = w.class_start[c + 1];
            class_pixels[c] = end - begin;
            class_sums[c] = 0;
            if (begin == end) continue;
            const int k = models->active_count[c];
            const int n = models->ref_count[c];
            const int32_t* act = models->active_index + models->offset[c];
            const double* centre = models->centre + models->offset[c];
            const double* L = models->chol + models->chol_offset[c];
            const double* Yt = models->refs_t + models->refs_t_offset[c];
            const double* rn = models->ref_norm2 + models->ref_offset[c];
            const double log_norm = models->log_norm[c];

            // touched cells (compact) and each pixel's neighbour rows and weights
            int32_t ncell = 0;
            auto touch = [&](int32_t cell) {
                if (w.cell_map[cell] < 0) {
                    w.cell_map[cell] = ncell;
                    w.cell_list[ncell++] = cell;
                }
                return w.cell_map[cell];
            };
            for (int64_t t = begin; t < end; t++) {
                int32_t p = w.pixels[t];
                int y = p / W, x = p - y * W;
                double wy0 = w.rows.wlo[y], wy1 = w.rows.whi[y], wx0 = w.cols.wlo[x], wx1 = w.cols.whi[x];
                int32_t q = w.rows.lo[y] * w0 + w.cols.lo[x];
                double a = wy0 * wx0, b = wy0 * wx1, cc = wy1 * wx0, e = wy1 * wx1;
                int32_t i00 = touch(q);
                int32_t* nb = w.nbr + static_cast<size_t>(t) * 4;
                double* wt = w.wts + static_cast<size_t>(t) * 4;
                nb[0] = i00;
                nb[1] = b != 0 ? touch(q + 1) : i00;
                nb[2] = cc != 0 ? touch(q + w0) : i00;
                nb[3] = e != 0 ? touch(q + w0 + 1) : i00;
                wt[0] = a;
                wt[1] = b;
                wt[2] = cc;
                wt[3] = e;
            }
            const int64_t npx = end - begin;
            const bool par = static_cast<int64_t>(ncell) * k * n > 2000000 || npx * static_cast<int64_t>(n) > 2000000;
#pragma omp parallel num_threads(kernel_threads()) if (par)
            {
                double buf[kChunk];
#pragma omp for schedule(static)
                for (int32_t t = 0; t < ncell; t++)
                    whiten_cell(features, cells, w.cell_list[t], k, act, centre, L, w.z + static_cast<size_t>(t) * k);
#pragma omp for schedule(static)
                for (int64_t t = begin; t < end; t++) {
                    const int32_t* nb = w.nbr + static_cast<size_t>(t) * 4;
                    const double* wt = w.wts + static_cast<size_t>(t) * 4;
                    const double* z0 = w.z + static_cast<size_t>(nb[0]) * k;
                    const double* z1 = w.z + static_cast<size_t>(nb[1]) * k;
                    const double* z2 = w.z + static_cast<size_t>(nb[2]) * k;
                    const double* z3 = w.z + static_cast<size_t>(nb[3]) * k;
                    double s = 0;
                    for (int i = 0; i < k; i++) {
                        double v = wt[0] * z0[i] + wt[1] * z1[i] + wt[2] * z2[i] + wt[3] * z3[i];
                        s += v * v;
                    }
                    w.pnorm[t] = s;
                    w.smax[t] = 0;
                    w.ssum[t] = 0;
                }
                for (int j0 = 0; j0 < n; j0 += kChunk) {
                    const int nc = n - j0 < kChunk ? n - j0 : kChunk;
                    const int groups = (ncell + kMR - 1) / kMR;
#pragma omp for schedule(static)
                    for (int g = 0; g < groups; g++) {
                        int m0 = g * kMR, m1 = m0 + kMR < ncell ? m0 + kMR : ncell;
                        gemm_rows(w.z, k, m0, m1, Yt + j0, static_cast<size_t>(n), nc, w.dots, kChunk);
                    }
#pragma omp for schedule(static)
                    for (int64_t t = begin; t < end; t++) {
                        const int32_t* nb = w.nbr + static_cast<size_t>(t) * 4;
                        const double* wt = w.wts + static_cast<size_t>(t) * 4;
                        pixel_chunk(w.dots + static_cast<size_t>(nb[0]) * kChunk,
                                    w.dots + static_cast<size_t>(nb[1]) * kChunk,
                                    w.dots + static_cast<size_t>(nb[2]) * kChunk,
                                    w.dots + static_cast<size_t>(nb[3]) * kChunk, wt[0], wt[1], wt[2], wt[3],
                                    w.pnorm[t], rn + j0, nc, buf, w.smax[t], w.ssum[t]);
                    }
                }
#pragma omp for schedule(static)
                for (int64_t t = begin; t < end; t++) {
                    double sa = -(w.smax[t] + std::log(w.ssum[t]) + log_norm);
                    if (sa_map) sa_map[w.pixels[t]] = static_cast<float>(sa);
                    w.pnorm[t] = sa;  // no longer needed as ||y||^2: keeps the pixel's SA for the ordered sum
                }
            }
            // one fixed order, whatever the thread count
            double sum = 0;
            for (int64_t t = begin; t < end; t++) sum += w.pnorm[t];
            class_sums[c] = sum;
            for (int32_t t = 0; t < ncell; t++) w.cell_map[w.cell_list[t]] = -1;
        }
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}

}  // extern "C"
