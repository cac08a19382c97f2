// Fused whole-frame MDSA (design.md section 2) for libsegsa_cpu.
#include "segsa_internal.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace segsa {
namespace {

#define SEGSA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

constexpr int kBlock = 8;  // cells whitened together, one SIMD lane each

// Whitens up to kBlock cells at once: v = f[active] at the cells - mu, solved in place for
// L v' = v with the cells as the vector dimension (broadcast L[i][j], no horizontal sums);
// then z[cell][0..k) = v'. vb is scratch of k * kBlock doubles.
// vb[i][c] = f[active[i]][cell c] - mu[i] for kBlock cells (the last block repeats its first cell)
inline void centre_block(const float* features, size_t plane, const int32_t* cells, int n, int k, const int32_t* active,
                         const double* mu, double* vb) {
    int32_t cl[kBlock];
    for (int c = 0; c < kBlock; c++) cl[c] = cells[c < n ? c : 0];
    for (int i = 0; i < k; i++) {
        const float* fi = features + static_cast<size_t>(active[i]) * plane;
        double m = mu[i];
        double* vi = vb + static_cast<size_t>(i) * kBlock;
        for (int c = 0; c < kBlock; c++) vi[c] = static_cast<double>(fi[cl[c]]) - m;
    }
}

SEGSA_CLONES
void whiten_block(const float* features, size_t plane, const int32_t* cells, int n, int k, const int32_t* active,
                  const double* mu, const double* L, double* vb, double* z) {
    centre_block(features, plane, cells, n, k, active, mu, vb);
    // forward substitution, kBlock cells at a time (one SIMD lane each). The sum over j runs in
    // four independent chains (j mod 4) so that the FMA latency is hidden; they are added in one
    // fixed order, so the result does not depend on anything but the inputs.
    for (int i = 0; i < k; i++) {
        const double* row = L + static_cast<size_t>(i) * k;
        double* vi = vb + static_cast<size_t>(i) * kBlock;
        double a0[kBlock], a1[kBlock], a2[kBlock], a3[kBlock];
#pragma omp simd
        for (int c = 0; c < kBlock; c++) {
            a0[c] = vi[c];
            a1[c] = 0;
            a2[c] = 0;
            a3[c] = 0;
        }
        int j = 0;
        for (; j + 4 <= i; j += 4) {
            const double l0 = row[j], l1 = row[j + 1], l2 = row[j + 2], l3 = row[j + 3];
            const double* v0 = vb + static_cast<size_t>(j) * kBlock;
#pragma omp simd
            for (int c = 0; c < kBlock; c++) {
                a0[c] -= l0 * v0[c];
                a1[c] -= l1 * v0[kBlock + c];
                a2[c] -= l2 * v0[2 * kBlock + c];
                a3[c] -= l3 * v0[3 * kBlock + c];
            }
        }
        for (; j < i; j++) {
            const double l = row[j];
            const double* vj = vb + static_cast<size_t>(j) * kBlock;
#pragma omp simd
            for (int c = 0; c < kBlock; c++) a0[c] -= l * vj[c];
        }
        double inv = row[i];
#pragma omp simd
        for (int c = 0; c < kBlock; c++) vi[c] = ((a0[c] + a1[c]) + (a2[c] + a3[c])) / inv;
    }
    for (int c = 0; c < n; c++) {
        double* zc = z + static_cast<size_t>(cells[c]) * k;
        for (int i = 0; i < k; i++) zc[i] = vb[static_cast<size_t>(i) * kBlock + c];
    }
}

// Whitening by the precomputed inverse factor: z_c = Linv (f_c - mu) for kBlock cells, as a
// product register-blocked over 8 output rows x kBlock cells (8 x 8 accumulators): each step of
// j loads one vector of kBlock centred features and 8 scalars of Linv for 8 FMAs. Linv is lower
// triangular (zeros above the diagonal), so row block i0 stops at j < i0 + 8. Sums run over j
// in order: the result depends on the inputs only.
SEGSA_CLONES
void whiten_block_inv(const float* features, size_t plane, const int32_t* cells, int n, int k, const int32_t* active,
                      const double* mu, const double* Linv, double* vb, double* z) {
    centre_block(features, plane, cells, n, k, active, mu, vb);
    constexpr int R = 8;
    int i0 = 0;
    for (; i0 + R <= k; i0 += R) {
        double acc[R][kBlock];
        for (int r = 0; r < R; r++)
#pragma omp simd
            for (int c = 0; c < kBlock; c++) acc[r][c] = 0;
        const int jmax = i0 + R;
        for (int j = 0; j < jmax; j++) {
            const double* vj = vb + static_cast<size_t>(j) * kBlock;
            for (int r = 0; r < R; r++) {
                const double l = Linv[static_cast<size_t>(i0 + r) * k + j];
#pragma omp simd
                for (int c = 0; c < kBlock; c++) acc[r][c] += l * vj[c];
            }
        }
        for (int c = 0; c < n; c++) {
            double* zc = z + static_cast<size_t>(cells[c]) * k + i0;
            for (int r = 0; r < R; r++) zc[r] = acc[r][c];
        }
    }
    for (; i0 < k; i0++) {
        double acc[kBlock];
#pragma omp simd
        for (int c = 0; c < kBlock; c++) acc[c] = 0;
        const double* row = Linv + static_cast<size_t>(i0) * k;
        for (int j = 0; j <= i0; j++) {
            const double l = row[j];
            const double* vj = vb + static_cast<size_t>(j) * kBlock;
#pragma omp simd
            for (int c = 0; c < kBlock; c++) acc[c] += l * vj[c];
        }
        for (int c = 0; c < n; c++) z[static_cast<size_t>(cells[c]) * k + i0] = acc[c];
    }
}

// The 10 distinct entries of the Gram matrix of four whitened cells (null = zero vector):
// n00 n01 n10 n11 g(00,01) g(00,10) g(00,11) g(01,10) g(01,11) g(10,11)
SEGSA_CLONES
void quad_gram(const double* z00, const double* z01, const double* z10, const double* z11, int k, double* g) {
    double n00 = 0, n01 = 0, n10 = 0, n11 = 0, a = 0, b = 0, c = 0, e = 0, f = 0, h = 0;
    if (z01 && z10 && z11) {
#pragma omp simd reduction(+ : n00, n01, n10, n11, a, b, c, e, f, h)
        for (int i = 0; i < k; i++) {
            double x0 = z00[i], x1 = z01[i], x2 = z10[i], x3 = z11[i];
            n00 += x0 * x0; n01 += x1 * x1; n10 += x2 * x2; n11 += x3 * x3;
            a += x0 * x1; b += x0 * x2; c += x0 * x3; e += x1 * x2; f += x1 * x3; h += x2 * x3;
        }
    } else {
#pragma omp simd reduction(+ : n00)
        for (int i = 0; i < k; i++) n00 += z00[i] * z00[i];
        if (z01) {
#pragma omp simd reduction(+ : n01, a)
            for (int i = 0; i < k; i++) { n01 += z01[i] * z01[i]; a += z00[i] * z01[i]; }
        }
        if (z10) {
#pragma omp simd reduction(+ : n10, b)
            for (int i = 0; i < k; i++) { n10 += z10[i] * z10[i]; b += z00[i] * z10[i]; }
        }
        if (z11) {
#pragma omp simd reduction(+ : n11, c)
            for (int i = 0; i < k; i++) { n11 += z11[i] * z11[i]; c += z00[i] * z11[i]; }
        }
        if (z01 && z10) {
#pragma omp simd reduction(+ : e)
            for (int i = 0; i < k; i++) e += z01[i] * z10[i];
        }
        if (z01 && z11) {
#pragma omp simd reduction(+ : f)
            for (int i = 0; i < k; i++) f += z01[i] * z11[i];
        }
        if (z10 && z11) {
#pragma omp simd reduction(+ : h)
            for (int i = 0; i < k; i++) h += z10[i] * z11[i];
        }
    }
    g[0] = n00; g[1] = n01; g[2] = n10; g[3] = n11;
    g[4] = a; g[5] = b; g[6] = c; g[7] = e; g[8] = f; g[9] = h;
}

// || a z00 + b z01 + c z10 + e z11 ||^2 straight from the whitened cells (zero weights skipped).
double direct_norm2(const double* z, int k, int32_t q, int w0, double a, double b, double c, double e) {
    const double* z00 = z + static_cast<size_t>(q) * k;
    const double* z01 = b != 0 ? z + static_cast<size_t>(q + 1) * k : z00;
    const double* z10 = c != 0 ? z + static_cast<size_t>(q + w0) * k : z00;
    const double* z11 = e != 0 ? z + static_cast<size_t>(q + w0 + 1) * k : z00;
    double s = 0;
    for (int i = 0; i < k; i++) {
        double v = a * z00[i] + b * z01[i] + c * z10[i] + e * z11[i];
        s += v * v;
    }
    return s;
}

struct MdsaWs {
    Axis rows, cols;
    int64_t* class_start;  // [C+1]
    int32_t* pixels;       // [H*W] pixel indices sorted by class
    uint8_t* cell_mark;    // [cells]
    uint8_t* quad_mark;    // [cells]
    int32_t* cell_list;    // [cells]
    int32_t* quad_list;    // [cells]
    double* z;             // [cells * d]
    double* gram;          // [cells * 10]
    double* vblock;        // [(cells / kBlock + 1) * d * kBlock] whitening scratch, one slice per block
    double* sa_px;         // [H*W] per-pixel SA in class order, summed in that order (thread-count independent)
    int32_t* row_of;       // [H*W] row of each entry of pixels (no division per pixel)
    int32_t* col_of;       // [H*W] column
    int64_t* chunk_count;  // [kSortChunks * C] per row chunk: class counts, then fill positions
};

// The counting sort of pixels by class runs over this many fixed row chunks (not one per thread),
// so the order it produces, and every result, does not depend on the thread count.
constexpr int kSortChunks = 16;

size_t carve(Carver& cv, MdsaWs& w, int d, int h0, int w0, int H, int W, int C) {
    size_t cells = static_cast<size_t>(h0) * w0;
    w.rows = {cv.take<int32_t>(H), cv.take<int32_t>(H), cv.take<double>(H), cv.take<double>(H)};
    w.cols = {cv.take<int32_t>(W), cv.take<int32_t>(W), cv.take<double>(W), cv.take<double>(W)};
    w.class_start = cv.take<int64_t>(C + 1);
    w.pixels = cv.take<int32_t>(static_cast<size_t>(H) * W);
    w.cell_mark = cv.take<uint8_t>(cells);
    w.quad_mark = cv.take<uint8_t>(cells);
    w.cell_list = cv.take<int32_t>(cells);
    w.quad_list = cv.take<int32_t>(cells);
    w.z = cv.take<double>(cells * d);
    w.gram = cv.take<double>(cells * 10);
    w.sa_px = cv.take<double>(static_cast<size_t>(H) * W);
    w.row_of = cv.take<int32_t>(static_cast<size_t>(H) * W);
    w.col_of = cv.take<int32_t>(static_cast<size_t>(H) * W);
    w.chunk_count = cv.take<int64_t>(static_cast<size_t>(kSortChunks) * C);
    w.vblock = cv.take<double>((cells / kBlock + 1) * static_cast<size_t>(d) * kBlock);
    return cv.used();
}

int check_models(const char* fn, const segsa_mdsa_models* m, int d, int C) {
    if (m == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models is null", fn);
    if (m->num_classes != C)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models->num_classes=%d but num_classes=%d", fn, m->num_classes, C);
    if (m->dim != d)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models have dimension %d but the features have d=%d", fn, m->dim, d);
    if (!m->active_count || !m->offset || !m->chol_offset)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models->active_count/offset/chol_offset is null", fn);
    bool any = false;
    for (int c = 0; c < C; c++) {
        int k = m->active_count[c];
        if (k < 0 || k > d)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d has %d active features, expected 0..%d", fn, c, k, d);
        if (k == 0) continue;
        any = true;
        if (m->offset[c] < 0 || m->chol_offset[c] < 0)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d has a negative offset", fn, c);
        if (!m->active_index || !m->mean || !m->chol)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models->active_index/mean/chol is null", fn);
        const int32_t* act = m->active_index + m->offset[c];
        const double* L = m->chol + m->chol_offset[c];
        for (int i = 0; i < k; i++) {
            if (act[i] < 0 || act[i] >= d)
                return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d active feature %d is %d, outside [0, %d)", fn, c, i,
                            act[i], d);
            double diag = L[static_cast<size_t>(i) * k + i];
            if (!(diag > 0) || !std::isfinite(diag))
                return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class %d Cholesky diagonal %d is %g, must be positive", fn, c,
                            i, diag);
        }
    }
    (void)any;
    return SEGSA_OK;
}

}  // namespace

size_t mdsa_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes) {
    Carver cv(nullptr);
    MdsaWs w;
    return carve(cv, w, d, h0, w0, H, W, num_classes);
}

}  // namespace segsa

using namespace segsa;

extern "C" SEGSA_API int segsa_mdsa_frame(const float* features, int d, int h0, int w0, int H, int W,
                                          int upsample_mode, const int32_t* predicted, int num_classes,
                                          const segsa_mdsa_models* models, void* workspace, size_t workspace_bytes,
                                          float* sa_map, int64_t* class_pixels, double* class_sums) {
    static const char* fn = "segsa_mdsa_frame";
    try {
        int st = check_frame_args(fn, features, d, h0, w0, H, W, upsample_mode, predicted, num_classes);
        if (st) return st;
        if ((st = check_models(fn, models, d, num_classes))) return st;
        if (class_pixels == nullptr || class_sums == nullptr)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class_pixels or class_sums is null", fn);
        size_t need = mdsa_workspace_bytes(d, h0, w0, H, W, num_classes);
        if (workspace == nullptr || workspace_bytes < need)
            return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes%s, need %zu (segsa_workspace_bytes)", fn,
                        workspace_bytes, workspace == nullptr ? " (null)" : "", need);
        const int C = num_classes;
        const size_t cells = static_cast<size_t>(h0) * w0;
        const size_t plane = cells;
        const int64_t npix = static_cast<int64_t>(H) * W;
        Carver cv(align64(workspace));
        MdsaWs w;
        carve(cv, w, d, h0, w0, H, W, C);
        axis_init(upsample_mode, h0, H, w.rows);
        axis_init(upsample_mode, w0, W, w.cols);
        std::memset(w.cell_mark, 0, cells);
        std::memset(w.quad_mark, 0, cells);

        // counting sort of scored pixels by class (NaN in the map for the others), over fixed row
        // chunks: the same order as one serial pass, whatever the thread count
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const int chunks = H < kSortChunks ? H : kSortChunks;
        const bool par_sort = npix > 100000;
#pragma omp parallel for num_threads(kernel_threads()) schedule(static) if (par_sort)
        for (int ch = 0; ch < chunks; ch++) {
            int64_t* cnt = w.chunk_count + static_cast<size_t>(ch) * C;
            for (int c = 0; c < C; c++) cnt[c] = 0;
            const int64_t p0 = static_cast<int64_t>(ch * static_cast<int64_t>(H) / chunks) * W;
            const int64_t p1 = static_cast<int64_t>((ch + 1) * static_cast<int64_t>(H) / chunks) * W;
            for (int64_t p = p0; p < p1; p++) {
                int32_t c = predicted[p];
                if (c >= 0 && c < C && models->active_count[c] > 0) cnt[c]++;
                else if (sa_map) sa_map[p] = nan;
            }
        }
        w.class_start[0] = 0;
        for (int c = 0; c < C; c++) {
            int64_t off = w.class_start[c];
            for (int ch = 0; ch < chunks; ch++) {
                int64_t* cnt = w.chunk_count + static_cast<size_t>(ch) * C + c;
                int64_t n = *cnt;
                *cnt = off;  // from now on: where this chunk's pixels of class c go
                off += n;
            }
            w.class_start[c + 1] = off;
        }
#pragma omp parallel for num_threads(kernel_threads()) schedule(static) if (par_sort)
        for (int ch = 0; ch < chunks; ch++) {
            int64_t* pos = w.chunk_count + static_cast<size_t>(ch) * C;
            const int y0 = static_cast<int>(ch * static_cast<int64_t>(H) / chunks);
            const int y1 = static_cast<int>((ch + 1) * static_cast<int64_t>(H) / chunks);
            for (int y = y0; y < y1; y++) {
                int32_t p = y * W;
                for (int x = 0; x < W; x++, p++) {
                    int32_t c = predicted[p];
                    if (c >= 0 && c < C && models->active_count[c] > 0) {
                        int64_t t = pos[c]++;
                        w.pixels[t] = p;
                        w.row_of[t] = y;
                        w.col_of[t] = x;
                    }
                }
            }
        }

        for (int c = 0; c < C; c++) {
            const int64_t begin = w.class_start[c], end = w.class_start[c + 1];
            class_pixels[c] = end - begin;
            class_sums[c] = 0;
            if (begin == end) continue;
            const int k = models->active_count[c];
            const int32_t* act = models->active_index + models->offset[c];
            const double* mu = models->mean + models->offset[c];
            const double* L = models->chol + models->chol_offset[c];
            const double* Linv = models->chol_inv ? models->chol_inv + models->chol_offset[c] : nullptr;

            // cells and 2x2 quads this class touches: marked in parallel (every writer stores 1), then
            // listed in cell order (the order does not change any value: each cell and quad is independent)
#pragma omp parallel for num_threads(kernel_threads()) schedule(static) if (end - begin > 50000)
            for (int64_t t = begin; t < end; t++) {
                int y = w.row_of[t], x = w.col_of[t];
                int y0 = w.rows.lo[y], x0 = w.cols.lo[x];
                bool hy = w.rows.whi[y] != 0, hx = w.cols.whi[x] != 0;
                int32_t q = y0 * w0 + x0;
                __atomic_store_n(&w.quad_mark[q], 1, __ATOMIC_RELAXED);
                __atomic_store_n(&w.cell_mark[q], 1, __ATOMIC_RELAXED);
                if (hx) __atomic_store_n(&w.cell_mark[q + 1], 1, __ATOMIC_RELAXED);
                if (hy) __atomic_store_n(&w.cell_mark[q + w0], 1, __ATOMIC_RELAXED);
                if (hx && hy) __atomic_store_n(&w.cell_mark[q + w0 + 1], 1, __ATOMIC_RELAXED);
            }
            int32_t ncell = 0, nquad = 0;
            for (int32_t i = 0; i < static_cast<int32_t>(cells); i++) {
                if (w.quad_mark[i]) w.quad_list[nquad++] = i;
                if (w.cell_mark[i]) w.cell_list[ncell++] = i;
            }

#pragma omp parallel for num_threads(kernel_threads()) schedule(static) if (static_cast<int64_t>(ncell) * k * k > 200000)
            for (int32_t t = 0; t < ncell; t += kBlock) {
                int n = ncell - t < kBlock ? ncell - t : kBlock;
                double* vb = w.vblock + static_cast<size_t>(t / kBlock) * k * kBlock;
                if (Linv) whiten_block_inv(features, plane, w.cell_list + t, n, k, act, mu, Linv, vb, w.z);
                else whiten_block(features, plane, w.cell_list + t, n, k, act, mu, L, vb, w.z);
            }

#pragma omp parallel for num_threads(kernel_threads()) schedule(static) if (static_cast<int64_t>(nquad) * k > 100000)
            for (int32_t t = 0; t < nquad; t++) {
                int32_t q = w.quad_list[t];
                int qx = q % w0, qy = q / w0;
                auto zp = [&](int32_t cell) -> const double* {
                    return w.cell_mark[cell] ? w.z + static_cast<size_t>(cell) * k : nullptr;
                };
                const double* z01 = qx + 1 < w0 ? zp(q + 1) : nullptr;
                const double* z10 = qy + 1 < h0 ? zp(q + w0) : nullptr;
                const double* z11 = qx + 1 < w0 && qy + 1 < h0 ? zp(q + w0 + 1) : nullptr;
                quad_gram(w.z + static_cast<size_t>(q) * k, z01, z10, z11, k, w.gram + static_cast<size_t>(q) * 10);
            }

#pragma omp parallel for num_threads(kernel_threads()) schedule(static) if (end - begin > 20000)
            for (int64_t t = begin; t < end; t++) {
                int32_t p = w.pixels[t];
                int y = w.row_of[t], x = w.col_of[t];
                double wy0 = w.rows.wlo[y], wy1 = w.rows.whi[y], wx0 = w.cols.wlo[x], wx1 = w.cols.whi[x];
                const double* g = w.gram + static_cast<size_t>(w.rows.lo[y] * w0 + w.cols.lo[x]) * 10;
                double a = wy0 * wx0, b = wy0 * wx1, cc = wy1 * wx0, e = wy1 * wx1;
                double diag = a * a * g[0] + b * b * g[1] + cc * cc * g[2] + e * e * g[3];
                double c01 = a * b * g[4], c02 = a * cc * g[5], c03 = a * e * g[6], c12 = b * cc * g[7],
                       c13 = b * e * g[8], c23 = cc * e * g[9];
                double s = diag + 2 * (c01 + c02 + c03 + c12 + c13 + c23);
                // w^T G w loses relative accuracy when MDSA is small next to the whitened neighbours
                // (cancellation, error ~ eps * magnitude / s): then sum the neighbours directly.
                double magnitude = diag + 2 * (std::fabs(c01) + std::fabs(c02) + std::fabs(c03) + std::fabs(c12)
                                               + std::fabs(c13) + std::fabs(c23));
                if (s < 1e-6 * magnitude) s = direct_norm2(w.z, k, w.rows.lo[y] * w0 + w.cols.lo[x], w0, a, b, cc, e);
                // clamp rounding below zero, but keep NaN: a non-finite feature is no SA, never 0
                double sa = s > 0 ? std::sqrt(s) : (s == s ? 0.0 : s);
                if (sa_map) sa_map[p] = static_cast<float>(sa);
                w.sa_px[t] = sa;
            }
            // one fixed order, whatever the thread count: byte-identical results for 1, 2 or 7 threads
            double sum = 0;
            for (int64_t t = begin; t < end; t++) sum += w.sa_px[t];
            class_sums[c] = sum;

            for (int32_t t = 0; t < ncell; t++) w.cell_mark[w.cell_list[t]] = 0;
            for (int32_t t = 0; t < nquad; t++) w.quad_mark[w.quad_list[t]] = 0;
        }
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}
