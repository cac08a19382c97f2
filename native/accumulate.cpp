// Per-class fit statistics of one frame at low resolution (design.md section 3) for libsegsa_cpu.
#include "segsa_internal.hpp"

#include <cstring>

namespace segsa {
namespace {

#define SEGSA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

// out[j] = dot(gi, H + j*n) for j in [0, count)
SEGSA_CLONES
void row_dots(const double* gi, const double* Hm, size_t n, int count, double* out) {
    for (int j = 0; j < count; j++) {
        const double* hj = Hm + static_cast<size_t>(j) * n;
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (size_t t = 0; t < n; t++) s += gi[t] * hj[t];
        out[j] = s;
    }
}

// out[r * ld + c] = dot(G_{i0+r}, H_{j0+c}) for a 4 x 4 tile: one pass over the cells loads 8
// values for 16 FMAs (a row-by-row dot loads 2 per FMA). The sums run over t in one fixed order.
SEGSA_CLONES
void tile_dots(const double* G, const double* Hm, size_t n, int i0, int j0, double* com, int ld) {
    const double *g0 = G + static_cast<size_t>(i0) * n, *g1 = g0 + n, *g2 = g1 + n, *g3 = g2 + n;
    const double *h0 = Hm + static_cast<size_t>(j0) * n, *h1 = h0 + n, *h2 = h1 + n, *h3 = h2 + n;
    double s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
    double s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
#pragma omp simd reduction(+ : s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33)
    for (size_t t = 0; t < n; t++) {
        double a0 = g0[t], a1 = g1[t], a2 = g2[t], a3 = g3[t];
        double b0 = h0[t], b1 = h1[t], b2 = h2[t], b3 = h3[t];
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
        s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
    }
    double v[4][4] = {{s00, s01, s02, s03}, {s10, s11, s12, s13}, {s20, s21, s22, s23}, {s30, s31, s32, s33}};
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            if (j0 + c <= i0 + r) com[static_cast<size_t>(i0 + r) * ld + j0 + c] = v[r][c];
}

// Pair weights of one cell a: self, and its E, S, SE, SW neighbours (W_ab = sum_p w_pa w_pb).
enum { U = 0, AA = 1, E = 2, S = 3, SE = 4, SW = 5, NW_ = 6 };

struct AccWs {
    Axis rows, cols;
    int64_t* class_start;  // [C+1]
    int64_t* class_fill;   // [C]
    int32_t* pixels;       // [H*W]
    int32_t* cell_map;     // [cells] compact index of a touched cell, -1 otherwise
    int32_t* cell_list;    // [cells]
    double* weights;       // [cells * NW_]
    int32_t* nbr;          // [cells * 9] compact neighbour indices (self first)
    double* nbr_w;         // [cells * 9]
    int32_t* nbr_count;    // [cells]
    double* G;             // [d * cells] centred features of touched cells, channel-major
    double* Hm;            // [d * cells] W G
};

size_t carve(Carver& cv, AccWs& w, int d, int h0, int w0, int H, int W, int C) {
    size_t cells = static_cast<size_t>(h0) * w0;
    w.rows = {cv.take<int32_t>(H), cv.take<int32_t>(H), cv.take<double>(H), cv.take<double>(H)};
    w.cols = {cv.take<int32_t>(W), cv.take<int32_t>(W), cv.take<double>(W), cv.take<double>(W)};
    w.class_start = cv.take<int64_t>(C + 1);
    w.class_fill = cv.take<int64_t>(C);
    w.pixels = cv.take<int32_t>(static_cast<size_t>(H) * W);
    w.cell_map = cv.take<int32_t>(cells);
    w.cell_list = cv.take<int32_t>(cells);
    w.weights = cv.take<double>(cells * NW_);
    w.nbr = cv.take<int32_t>(cells * 9);
    w.nbr_w = cv.take<double>(cells * 9);
    w.nbr_count = cv.take<int32_t>(cells);
    w.G = cv.take<double>(cells * d);
    w.Hm = cv.take<double>(cells * d);
    return cv.used();
}

}  // namespace

size_t accumulate_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes) {
    Carver cv(nullptr);
    AccWs w;
    return carve(cv, w, d, h0, w0, H, W, num_classes);
}

}  // namespace segsa

using namespace segsa;

extern "C" SEGSA_API int segsa_accumulate_frame(const float* features, int d, int h0, int w0, int H, int W,
                                                int upsample_mode, const int32_t* labels, int num_classes,
                                                void* workspace, size_t workspace_bytes, int64_t* counts,
                                                double* means, double* comoments) {
    static const char* fn = "segsa_accumulate_frame";
    try {
        int st = check_frame_args(fn, features, d, h0, w0, H, W, upsample_mode, labels, num_classes);
        if (st) return st;
        if (counts == nullptr || means == nullptr || comoments == nullptr)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: counts, means or comoments is null", fn);
        size_t need = accumulate_workspace_bytes(d, h0, w0, H, W, num_classes);
        if (workspace == nullptr || workspace_bytes < need)
            return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes%s, need %zu (segsa_workspace_bytes)", fn,
                        workspace_bytes, workspace == nullptr ? " (null)" : "", need);
        const int C = num_classes;
        const size_t cells = static_cast<size_t>(h0) * w0;
        const int64_t npix = static_cast<int64_t>(H) * W;
        const size_t dd = static_cast<size_t>(d) * d;
        Carver cv(align64(workspace));
        AccWs w;
        carve(cv, w, d, h0, w0, H, W, C);
        axis_init(upsample_mode, h0, H, w.rows);
        axis_init(upsample_mode, w0, W, w.cols);
        for (size_t a = 0; a < cells; a++) w.cell_map[a] = -1;

        for (int c = 0; c <= C; c++) w.class_start[c] = 0;
        for (int64_t p = 0; p < npix; p++) {
            int32_t c = labels[p];
            if (c >= 0 && c < C) w.class_start[c + 1]++;
        }
        for (int c = 0; c < C; c++) {
            w.class_start[c + 1] += w.class_start[c];
            w.class_fill[c] = w.class_start[c];
        }
        for (int64_t p = 0; p < npix; p++) {
            int32_t c = labels[p];
            if (c >= 0 && c < C) w.pixels[w.class_fill[c]++] = static_cast<int32_t>(p);
        }

        for (int c = 0; c < C; c++) {
            const int64_t begin = w.class_start[c], end = w.class_start[c + 1];
            const int64_t n = end - begin;
            counts[c] = n;
            double* mean = means + static_cast<size_t>(c) * d;
            double* com = comoments + static_cast<size_t>(c) * dd;
            if (n == 0) {
                std::memset(mean, 0, sizeof(double) * d);
                std::memset(com, 0, sizeof(double) * dd);
                continue;
            }
            // pair weights at low resolution
            int32_t nt = 0;
            auto touch = [&](int32_t a) -> double* {
                if (w.cell_map[a] < 0) {
                    w.cell_map[a] = nt;
                    w.cell_list[nt++] = a;
                    std::memset(w.weights + static_cast<size_t>(a) * NW_, 0, sizeof(double) * NW_);
                }
                return w.weights + static_cast<size_t>(a) * NW_;
            };
            for (int64_t t = begin; t < end; t++) {
                int32_t p = w.pixels[t];
                int y = p / W, x = p - y * W;
                double wy0 = w.rows.wlo[y], wy1 = w.rows.whi[y], wx0 = w.cols.wlo[x], wx1 = w.cols.whi[x];
                int32_t a00 = w.rows.lo[y] * w0 + w.cols.lo[x];
                double v00 = wy0 * wx0, v01 = wy0 * wx1, v10 = wy1 * wx0, v11 = wy1 * wx1;
                double* s00 = touch(a00);
                s00[U] += v00;
                s00[AA] += v00 * v00;
                double* s01 = nullptr;
                double* s10 = nullptr;
                if (v01 != 0) {
                    s01 = touch(a00 + 1);
                    s01[U] += v01;
                    s01[AA] += v01 * v01;
                    s00[E] += v00 * v01;
                }
                if (v10 != 0) {
                    s10 = touch(a00 + w0);
                    s10[U] += v10;
                    s10[AA] += v10 * v10;
                    s00[S] += v00 * v10;
                }
                if (v11 != 0) {
                    double* s11 = touch(a00 + w0 + 1);
                    s11[U] += v11;
                    s11[AA] += v11 * v11;
                    s00[SE] += v00 * v11;
                    s01[S] += v01 * v11;
                    s01[SW] += v01 * v10;
                    s10[E] += v10 * v11;
                }
            }
            // neighbour table of each touched cell: self, then the 8 neighbours with non-zero weight
#pragma omp parallel for num_threads(kernel_threads()) schedule(static) if (nt > 4096)
            for (int32_t t = 0; t < nt; t++) {
                int32_t a = w.cell_list[t];
                int ay = a / w0, ax = a - ay * w0;
                const double* s = w.weights + static_cast<size_t>(a) * NW_;
                int32_t* nb = w.nbr + static_cast<size_t>(t) * 9;
                double* nw = w.nbr_w + static_cast<size_t>(t) * 9;
                int m = 0;
                nb[m] = t;
                nw[m++] = s[AA];
                auto add = [&](int by, int bx, int slot, bool forward) {
                    if (by < 0 || by >= h0 || bx < 0 || bx >= w0) return;
                    int32_t b = by * w0 + bx;
                    int32_t tb = w.cell_map[b];
                    if (tb < 0) return;
                    double v = forward ? s[slot] : w.weights[static_cast<size_t>(b) * NW_ + slot];
                    if (v == 0) return;
                    nb[m] = tb;
                    nw[m++] = v;
                };
                add(ay, ax + 1, E, true);
                add(ay + 1, ax, S, true);
                add(ay + 1, ax + 1, SE, true);
                add(ay + 1, ax - 1, SW, true);
                add(ay, ax - 1, E, false);
                add(ay - 1, ax, S, false);
                add(ay - 1, ax - 1, SE, false);
                add(ay - 1, ax + 1, SW, false);
                w.nbr_count[t] = m;
            }
            // mean, centred features G, and H = W G, channel by channel
            const double inv_n = 1.0 / static_cast<double>(n);
#pragma omp parallel for num_threads(kernel_threads()) schedule(static) if (static_cast<int64_t>(nt) * d > 50000)
            for (int i = 0; i < d; i++) {
                const float* fi = features + static_cast<size_t>(i) * cells;
                double* gi = w.G + static_cast<size_t>(i) * nt;
                double* hi = w.Hm + static_cast<size_t>(i) * nt;
                double s = 0;
                for (int32_t t = 0; t < nt; t++) {
                    int32_t a = w.cell_list[t];
                    s += w.weights[static_cast<size_t>(a) * NW_ + U] * fi[a];
                }
                double m = s * inv_n;
                mean[i] = m;
                for (int32_t t = 0; t < nt; t++) gi[t] = static_cast<double>(fi[w.cell_list[t]]) - m;
                for (int32_t t = 0; t < nt; t++) {
                    const int32_t* nb = w.nbr + static_cast<size_t>(t) * 9;
                    const double* nw = w.nbr_w + static_cast<size_t>(t) * 9;
                    double h = 0;
                    for (int j = 0, mm = w.nbr_count[t]; j < mm; j++) h += nw[j] * gi[nb[j]];
                    hi[t] = h;
                }
            }
            // comoment = G^T H (lower triangle, mirrored)
            // lower triangle in 4 x 4 tiles; rows past the last full block of 4 by row-by-row dots
            const int blocks = d / 4;
#pragma omp parallel for num_threads(kernel_threads()) schedule(dynamic, 1) if (static_cast<int64_t>(nt) * d * d > 200000)
            for (int ib = 0; ib < blocks; ib++) {
                for (int jb = 0; jb <= ib; jb++)
                    tile_dots(w.G, w.Hm, static_cast<size_t>(nt), 4 * ib, 4 * jb, com, d);
            }
            for (int i = 4 * blocks; i < d; i++) {
                row_dots(w.G + static_cast<size_t>(i) * nt, w.Hm, static_cast<size_t>(nt), i + 1,
                         com + static_cast<size_t>(i) * d);
            }
            for (int i = 0; i < d; i++)
                for (int j = 0; j < i; j++) com[static_cast<size_t>(j) * d + i] = com[static_cast<size_t>(i) * d + j];
            if (n == 1) std::memset(com, 0, sizeof(double) * dd);  // exact; G^T W G would leave rounding residue
            for (int32_t t = 0; t < nt; t++) w.cell_map[w.cell_list[t]] = -1;
        }
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}
