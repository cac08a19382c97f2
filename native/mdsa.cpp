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
                  const double* mu, const double* L, double* vb, double* z, int32_t cell_offset) {
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
        double* zc = z + static_cast<size_t>(cells[c] - cell_offset) * k;
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
                      const double* mu, const double* Linv, double* vb, double* z, int32_t cell_offset) {
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
            double* zc = z + static_cast<size_t>(cells[c] - cell_offset) * k + i0;
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
        for (int c = 0; c < n; c++) z[static_cast<size_t>(cells[c] - cell_offset) * k + i0] = acc[c];
    }
}

// The 10 distinct entries of the Gram matrix of four whitened cells (a missing neighbour is the
// zero vector `zero`): n00 n01 n10 n11 g(00,01) g(00,10) g(00,11) g(01,10) g(01,11) g(10,11).
// One code path whatever is missing, so every entry between present cells has the same value
// whichever neighbours a caller marked (the row bands of segsa_mdsa_frame mark only their own).
SEGSA_CLONES
void quad_gram(const double* z00, const double* z01, const double* z10, const double* z11, int k, double* g) {
    double n00 = 0, n01 = 0, n10 = 0, n11 = 0, a = 0, b = 0, c = 0, e = 0, f = 0, h = 0;
#pragma omp simd reduction(+ : n00, n01, n10, n11, a, b, c, e, f, h)
    for (int i = 0; i < k; i++) {
        double x0 = z00[i], x1 = z01[i], x2 = z10[i], x3 = z11[i];
        n00 += x0 * x0; n01 += x1 * x1; n10 += x2 * x2; n11 += x3 * x3;
        a += x0 * x1; b += x0 * x2; c += x0 * x3; e += x1 * x2; f += x1 * x3; h += x2 * x3;
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

// The frame is cut into row bands of output rows, one per thread (at most kMaxBands): each band
// sorts its own pixels by class and, per class, whitens the low-resolution cells its pixels read
// (cells on a band border are whitened by both bands, the same values), forms their Gram matrices
// and evaluates its pixels, with no synchronisation between bands. A pixel's SA does not depend
// on the bands (nor, therefore, on the thread count); the class sums are formed afterwards in one
// serial pass in pixel order.
constexpr int kMaxBands = 16;

struct Band {
    int32_t* pixels;       // [band pixels] pixel indices sorted by class
    int32_t* row_of;       // [band pixels]
    int32_t* col_of;       // [band pixels]
    int64_t* class_start;  // [C+1]
    int64_t* class_fill;   // [C]
    uint8_t* cell_mark;    // [band cells], indexed by cell - cell0
    uint8_t* quad_mark;    // [band cells]
    int32_t* cell_list;    // [band cells] global cell indices
    int32_t* quad_list;    // [band cells]
    double* z;             // [band cells * d]
    double* gram;          // [band cells * 10]
    double* vblock;        // [d * kBlock]
};

struct MdsaWs {
    Axis rows, cols;
    double* sa_px;         // [H*W] per-pixel SA (pixel order) for the ordered class sums
    double* zero;          // [d] the zero vector (missing neighbours)
    int32_t* pixels;       // [H*W] the bands' sorted pixels, band b at its first pixel
    int32_t* row_of;       // [H*W]
    int32_t* col_of;       // [H*W]
    int64_t* class_start;  // [kMaxBands * (C+1)]
    int64_t* class_fill;   // [kMaxBands * C]
    uint8_t* cell_mark;    // [band cells total]
    uint8_t* quad_mark;
    int32_t* cell_list;
    int32_t* quad_list;
    double* z;             // [band cells total * d]
    double* gram;          // [band cells total * 10]
    double* vblock;        // [kMaxBands * d * kBlock]
};

// Low-resolution cells all bands together may hold: each band holds the rows its output rows
// read, and neighbouring bands share at most two of them.
size_t band_cells_total(int h0, int w0) { return (static_cast<size_t>(h0) + 2 * kMaxBands) * w0; }

size_t carve(Carver& cv, MdsaWs& w, int d, int h0, int w0, int H, int W, int C) {
    const size_t bc = band_cells_total(h0, w0);
    const size_t npix = static_cast<size_t>(H) * W;
    w.rows = {cv.take<int32_t>(H), cv.take<int32_t>(H), cv.take<double>(H), cv.take<double>(H)};
    w.cols = {cv.take<int32_t>(W), cv.take<int32_t>(W), cv.take<double>(W), cv.take<double>(W)};
    w.sa_px = cv.take<double>(npix);
    w.zero = cv.take<double>(d);
    w.pixels = cv.take<int32_t>(npix);
    w.row_of = cv.take<int32_t>(npix);
    w.col_of = cv.take<int32_t>(npix);
    w.class_start = cv.take<int64_t>(static_cast<size_t>(kMaxBands) * (C + 1));
    w.class_fill = cv.take<int64_t>(static_cast<size_t>(kMaxBands) * C);
    w.cell_mark = cv.take<uint8_t>(bc);
    w.quad_mark = cv.take<uint8_t>(bc);
    w.cell_list = cv.take<int32_t>(bc);
    w.quad_list = cv.take<int32_t>(bc);
    w.z = cv.take<double>(bc * d);
    w.gram = cv.take<double>(bc * 10);
    w.vblock = cv.take<double>(static_cast<size_t>(kMaxBands) * d * kBlock);
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
        const size_t plane = static_cast<size_t>(h0) * w0;
        const int64_t npix = static_cast<int64_t>(H) * W;
        Carver cv(align64(workspace));
        MdsaWs w;
        carve(cv, w, d, h0, w0, H, W, C);
        axis_init(upsample_mode, h0, H, w.rows);
        axis_init(upsample_mode, w0, W, w.cols);
        for (int i = 0; i < d; i++) w.zero[i] = 0;
        const float nan = std::numeric_limits<float>::quiet_NaN();
        int bands = kernel_threads();
        if (bands > kMaxBands) bands = kMaxBands;
        if (bands > H) bands = H;
        if (npix < 40000) bands = 1;  // a small frame is not worth waking threads for
        if (bands < 1) bands = 1;

        // carve the bands' slices of the shared buffers (cells: the rows each band's output rows read)
        Band band[kMaxBands];
        int band_y0[kMaxBands + 1], band_r0[kMaxBands];
        {
            size_t cell_at = 0;
            for (int b = 0; b < bands; b++) {
                const int y0 = static_cast<int>(static_cast<int64_t>(H) * b / bands);
                const int y1 = static_cast<int>(static_cast<int64_t>(H) * (b + 1) / bands);
                band_y0[b] = y0;
                const int r0 = w.rows.lo[y0], r1 = w.rows.hi[y1 - 1];
                band_r0[b] = r0;
                const size_t bcells = static_cast<size_t>(r1 - r0 + 1) * w0;
                const size_t p0 = static_cast<size_t>(y0) * W;
                Band& B = band[b];
                B.pixels = w.pixels + p0;
                B.row_of = w.row_of + p0;
                B.col_of = w.col_of + p0;
                B.class_start = w.class_start + static_cast<size_t>(b) * (C + 1);
                B.class_fill = w.class_fill + static_cast<size_t>(b) * C;
                B.cell_mark = w.cell_mark + cell_at;
                B.quad_mark = w.quad_mark + cell_at;
                B.cell_list = w.cell_list + cell_at;
                B.quad_list = w.quad_list + cell_at;
                B.z = w.z + cell_at * d;
                B.gram = w.gram + cell_at * 10;
                B.vblock = w.vblock + static_cast<size_t>(b) * d * kBlock;
                std::memset(B.cell_mark, 0, bcells);
                std::memset(B.quad_mark, 0, bcells);
                cell_at += bcells;
            }
            band_y0[bands] = H;
        }

#pragma omp parallel for num_threads(bands) schedule(static, 1) if (bands > 1)
        for (int b = 0; b < bands; b++) {
            Band& B = band[b];
            const int y0 = band_y0[b], y1 = band_y0[b + 1];
            const int32_t cell0 = band_r0[b] * w0;
            // counting sort of the band's scored pixels by class (row-major within a class)
            int64_t* start = B.class_start;
            for (int c = 0; c <= C; c++) start[c] = 0;
            for (int64_t p = static_cast<int64_t>(y0) * W; p < static_cast<int64_t>(y1) * W; p++) {
                int32_t c = predicted[p];
                if (c >= 0 && c < C && models->active_count[c] > 0) start[c + 1]++;
                else if (sa_map) sa_map[p] = nan;
            }
            for (int c = 0; c < C; c++) start[c + 1] += start[c];
            int64_t* fill = B.class_fill;
            for (int c = 0; c < C; c++) fill[c] = start[c];
            for (int y = y0; y < y1; y++) {
                int32_t p = y * W;
                for (int x = 0; x < W; x++, p++) {
                    int32_t c = predicted[p];
                    if (!(c >= 0 && c < C && models->active_count[c] > 0)) continue;
                    int64_t t = fill[c]++;
                    B.pixels[t] = p;
                    B.row_of[t] = y;
                    B.col_of[t] = x;
                }
            }

            for (int c = 0; c < C; c++) {
                const int64_t begin = start[c], end = start[c + 1];
                if (begin == end) continue;
                const int k = models->active_count[c];
                const int32_t* act = models->active_index + models->offset[c];
                const double* mu = models->mean + models->offset[c];
                const double* L = models->chol + models->chol_offset[c];
                const double* Linv = models->chol_inv ? models->chol_inv + models->chol_offset[c] : nullptr;

                // the cells and 2x2 quads this band's pixels of the class read, listed in cell order
                int32_t lo_q = INT32_MAX, hi_q = -1;
                for (int64_t t = begin; t < end; t++) {
                    int y = B.row_of[t], x = B.col_of[t];
                    int y0c = w.rows.lo[y], x0c = w.cols.lo[x];
                    bool hy = w.rows.whi[y] != 0, hx = w.cols.whi[x] != 0;
                    int32_t q = y0c * w0 + x0c - cell0;
                    B.quad_mark[q] = 1;
                    B.cell_mark[q] = 1;
                    if (hx) B.cell_mark[q + 1] = 1;
                    if (hy) B.cell_mark[q + w0] = 1;
                    if (hx && hy) B.cell_mark[q + w0 + 1] = 1;
                    if (q < lo_q) lo_q = q;
                    int32_t qe = q + (hy ? w0 : 0) + (hx ? 1 : 0);
                    if (qe > hi_q) hi_q = qe;
                }
                int32_t ncell = 0, nquad = 0;
                for (int32_t i = lo_q; i <= hi_q; i++) {
                    if (B.quad_mark[i]) B.quad_list[nquad++] = i + cell0;
                    if (B.cell_mark[i]) B.cell_list[ncell++] = i + cell0;
                }
                for (int32_t t = 0; t < ncell; t += kBlock) {
                    int n = ncell - t < kBlock ? ncell - t : kBlock;
                    if (Linv) whiten_block_inv(features, plane, B.cell_list + t, n, k, act, mu, Linv, B.vblock, B.z, cell0);
                    else whiten_block(features, plane, B.cell_list + t, n, k, act, mu, L, B.vblock, B.z, cell0);
                }
                const double* zero = w.zero;
                for (int32_t t = 0; t < nquad; t++) {
                    const int32_t q = B.quad_list[t];
                    const int qx = q % w0, qy = q / w0;
                    auto zp = [&](int32_t cell) -> const double* {
                        return B.cell_mark[cell - cell0] ? B.z + static_cast<size_t>(cell - cell0) * k : zero;
                    };
                    const double* z01 = qx + 1 < w0 ? zp(q + 1) : zero;
                    const double* z10 = qy + 1 < h0 ? zp(q + w0) : zero;
                    const double* z11 = qx + 1 < w0 && qy + 1 < h0 ? zp(q + w0 + 1) : zero;
                    quad_gram(B.z + static_cast<size_t>(q - cell0) * k, z01, z10, z11, k,
                              B.gram + static_cast<size_t>(q - cell0) * 10);
                }
                for (int64_t t = begin; t < end; t++) {
                    int32_t p = B.pixels[t];
                    int y = B.row_of[t], x = B.col_of[t];
                    double wy0 = w.rows.wlo[y], wy1 = w.rows.whi[y], wx0 = w.cols.wlo[x], wx1 = w.cols.whi[x];
                    const int32_t q = w.rows.lo[y] * w0 + w.cols.lo[x] - cell0;
                    const double* g = B.gram + static_cast<size_t>(q) * 10;
                    double a = wy0 * wx0, bb = wy0 * wx1, cc = wy1 * wx0, e = wy1 * wx1;
                    double diag = a * a * g[0] + bb * bb * g[1] + cc * cc * g[2] + e * e * g[3];
                    double c01 = a * bb * g[4], c02 = a * cc * g[5], c03 = a * e * g[6], c12 = bb * cc * g[7],
                           c13 = bb * e * g[8], c23 = cc * e * g[9];
                    double s = diag + 2 * (c01 + c02 + c03 + c12 + c13 + c23);
                    // w^T G w loses relative accuracy when MDSA is small next to the whitened neighbours
                    // (cancellation, error ~ eps * magnitude / s): then sum the neighbours directly.
                    double magnitude = diag + 2 * (std::fabs(c01) + std::fabs(c02) + std::fabs(c03) + std::fabs(c12)
                                                   + std::fabs(c13) + std::fabs(c23));
                    if (s < 1e-6 * magnitude) s = direct_norm2(B.z, k, q, w0, a, bb, cc, e);
                    // clamp rounding below zero, but keep NaN: a non-finite feature is no SA, never 0
                    double sa = s > 0 ? std::sqrt(s) : (s == s ? 0.0 : s);
                    if (sa_map) sa_map[p] = static_cast<float>(sa);
                    w.sa_px[p] = sa;
                }
                for (int32_t t = 0; t < ncell; t++) B.cell_mark[B.cell_list[t] - cell0] = 0;
                for (int32_t t = 0; t < nquad; t++) B.quad_mark[B.quad_list[t] - cell0] = 0;
            }
        }

        // class sums in one fixed order (pixel order within each class), whatever the bands
        for (int c = 0; c < C; c++) {
            class_pixels[c] = 0;
            class_sums[c] = 0;
        }
        for (int64_t p = 0; p < npix; p++) {
            int32_t c = predicted[p];
            if (c >= 0 && c < C && models->active_count[c] > 0) {
                class_pixels[c]++;
                class_sums[c] += w.sa_px[p];
            }
        }
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}
