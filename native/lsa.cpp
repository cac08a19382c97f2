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
//
// Pruning with a proved bound. The pixels of a class that share a low-resolution quad (the same
// top-left neighbour cell) form a group with four corner cells z_i (by position); a pixel's
// whitened vector is y_p = sum_i w_i z_i, w its bilinear weights (w_i >= 0, sum 1). With
// e_ij = ||z_i - y_j||^2 the variance identity gives
//     q_j(p) = ||y_p - y_j||^2 = sum_i w_i e_ij - V(w),   V(w) = 1/2 sum_il w_i w_l ||z_i - z_l||^2,
// and V does not depend on j. The group's weight vectors lie in the hull of the weights W_s at the
// four corners s of its pixels' (u, v) range (bilinear weights are bilinear in (u, v)), so with
// E_sj = sum_i W_si e_ij, for any reference c and every pixel p of the group
//     q_j(p) - q_c(p) = sum_i w_i (e_ij - e_ic) >= min_s (E_sj - E_sc).
// If that margin exceeds 80, q_j(p) > q_min(p) + 80 for every pixel of the group: j's kernel is
// below e^-40 of the pixel's largest, and j is skipped; the others are evaluated exactly as
// before. The candidate c of a group is the reference with the smallest sum_s E_sc among the
// chunks seen so far. e_ij = ||z_i||^2 + ||y_j||^2 - 2 D[i][j] comes from the GEMM row already
// computed; the margin test carries a rounding slack of 1 + tol (max ||z_i||^2 + max ||y_j||^2),
// tol = 8 (k + 8) eps, so it is conservative. The skipped references change the log-sum-exp by at
// most log(1 + n e^-40) (4.3e-14 at n = 10^4). Measured on CamVid val with models/camvid.pt, the
// bound skips about 55% of the pairs at 10,000 references per class (bench/RESULTS.md); on feature
// maps whose neighbouring cells are independent (the JMH LsaBench's random maps) it skips almost
// nothing, and the test costs about one pass over the group's references.
// segsa_lsa_set_pruning(SEGSA_LSA_PRUNE_VERIFY) also evaluates every skipped reference and counts
// any that came within e^-40 of the pixel's best (segsa_lsa_pruning_stats): the tests assert that
// count is zero. SEGSA_LSA_EXHAUSTIVE evaluates every pair (the benchmarks' peer).
#include "segsa_internal.hpp"

#ifndef SEGSA_LSA_QUARTERS
#define SEGSA_LSA_QUARTERS 0
#endif

#include <atomic>
#include <immintrin.h>
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
constexpr double kPruneGap = 80.0;  // q gap: exp(-80 / 2) = e^-40
constexpr bool kQuarters = SEGSA_LSA_QUARTERS;  // group a quad's pixels by quarter (true) or whole (false)

// The group of a pixel: its top-left cell, and (kQuarters) the quarter of the quad it falls in.
inline int32_t group_key(int32_t cell, double u, double v) {
    return cell * 4 + (kQuarters ? (v >= 0.5 ? 2 : 0) + (u >= 0.5 ? 1 : 0) : 0);
}

std::atomic<int> g_pruning{SEGSA_LSA_PRUNE};
std::atomic<int64_t> g_evaluated{0}, g_pruned{0}, g_violations{0};

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
    // groups (a quad's quarter): G = 4 * cells at most
    int32_t* group_of;     // [G] group of a (top-left cell, quarter) key, -1 otherwise
    int32_t* group_key;    // [G] key of each group
    int32_t* gfill;        // [G] fill position of each group while grouping
    int32_t* group_start;  // [G + 1] pixels of group g: order[group_start[g] .. group_start[g+1])
    int32_t* order;        // [H*W] class pixel positions grouped
    int32_t* gcorner;      // [G * 4] compact rows of each group's corners, by position
    int32_t* gmask;        // [G] bit i: some pixel of the group has a nonzero weight at corner i
    double* guv;           // [G * 4] umin, umax, vmin, vmax of the group's pixels
    double* znorm;         // [cells] ||z||^2 of each compact cell
    double* gcand;         // [G * 4] E_sc of each group's candidate c at its virtual corners s
    double* gcandsum;      // [G] sum over the virtual corners of the candidate's E_sc
    double* pmin;          // [H*W] verify mode: smallest q of a skipped reference per pixel
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
    const size_t groups = cells * 4;
    w.group_of = cv.take<int32_t>(groups);
    w.group_key = cv.take<int32_t>(groups);
    w.gfill = cv.take<int32_t>(groups);
    w.group_start = cv.take<int32_t>(groups + 1);
    w.order = cv.take<int32_t>(npix);
    w.gcorner = cv.take<int32_t>(groups * 4);
    w.gmask = cv.take<int32_t>(groups);
    w.guv = cv.take<double>(groups * 4);
    w.znorm = cv.take<double>(cells);
    w.gcand = cv.take<double>(groups * 4);
    w.gcandsum = cv.take<double>(groups);
    w.pmin = cv.take<double>(npix);
    return cv.used();
}

// Keeps the references with !(mg[j] > threshold) (NaN kept): their dot products with the four
// corners and their norms, contiguous, and their indices. Returns how many.
int compact_scalar(const double* const* dc, const double* rnc, const double* mg, double threshold, int nc, int32_t* idx,
                   double (*cd)[kChunk], double* crn) {
    int ns = 0;
    for (int j = 0; j < nc; j++) {
        idx[ns] = j;
        ns += !(mg[j] > threshold);
    }
    for (int r = 0; r < 4; r++)
        for (int u = 0; u < ns; u++) cd[r][u] = dc[r][idx[u]];
    for (int u = 0; u < ns; u++) crn[u] = rnc[idx[u]];
    return ns;
}

__attribute__((target("avx512f,avx512vl")))
int compact_avx512(const double* const* dc, const double* rnc, const double* mg, double threshold, int nc, int32_t* idx,
                   double (*cd)[kChunk], double* crn) {
    const __m512d th = _mm512_set1_pd(threshold);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    int ns = 0, j = 0;
    for (; j + 8 <= nc; j += 8) {
        __mmask8 drop = _mm512_cmp_pd_mask(_mm512_loadu_pd(mg + j), th, _CMP_GT_OQ);
        __mmask8 keep = static_cast<__mmask8>(~drop);
        if (keep == 0) continue;
        // compress in registers, then a full store (ns <= j, so ns + 8 <= nc <= kChunk): a compress
        // straight to memory is microcoded and slow on some cores (AMD Zen 4)
        for (int r = 0; r < 4; r++) _mm512_storeu_pd(cd[r] + ns, _mm512_maskz_compress_pd(keep, _mm512_loadu_pd(dc[r] + j)));
        _mm512_storeu_pd(crn + ns, _mm512_maskz_compress_pd(keep, _mm512_loadu_pd(rnc + j)));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx + ns),
                            _mm256_maskz_compress_epi32(keep, _mm256_add_epi32(lane, _mm256_set1_epi32(j))));
        ns += __builtin_popcount(static_cast<unsigned>(keep));
    }
    for (; j < nc; j++) {
        if (mg[j] > threshold) continue;
        for (int r = 0; r < 4; r++) cd[r][ns] = dc[r][j];
        crn[ns] = rnc[j];
        idx[ns++] = j;
    }
    return ns;
}

const bool kHaveAvx512 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
}();

inline int compact(const double* const* dc, const double* rnc, const double* mg, double threshold, int nc, int32_t* idx,
                   double (*cd)[kChunk], double* crn) {
    return kHaveAvx512 ? compact_avx512(dc, rnc, mg, threshold, nc, idx, cd, crn)
                       : compact_scalar(dc, rnc, mg, threshold, nc, idx, cd, crn);
}

// One group of pixels and one chunk of references: the bound of the file comment, then the
// surviving references' dot products and norms compacted into cd and crn (their indices in idx).
// Returns the survivor count; dc receives the group's four rows of D, base the pruning threshold
// before the per-reference slack (tol * ||y_j||^2); mg[j] the margin of each reference.
SEGSA_CLONES
int bound_group(const LsaWs& w, int32_t g, const double* rnc, int nc, double tol, double rmax, double (*e)[kChunk],
                double (*E)[kChunk], double* mg, int32_t* idx, double (*cd)[kChunk], double* crn, const double** dc,
                double& base) {
    const double inf = std::numeric_limits<double>::infinity();
    const int32_t* gc = w.gcorner + static_cast<size_t>(g) * 4;
    double zmax = 0;
    for (int i = 0; i < 4; i++) {
        dc[i] = w.dots + static_cast<size_t>(gc[i]) * kChunk;
        double zn = w.znorm[gc[i]];
        zmax = std::fmax(zmax, zn);
        double* ei = e[i];
#pragma omp simd
        for (int j = 0; j < nc; j++) ei[j] = zn + rnc[j] - 2.0 * dc[i][j];
    }
    // the four virtual corners: weights at the corners of the group's (u, v) range
    const double* uv = w.guv + static_cast<size_t>(g) * 4;
    double Wv[4][4];
    for (int s2 = 0; s2 < 4; s2++) {
        double u = (s2 & 1) ? uv[1] : uv[0], v = (s2 & 2) ? uv[3] : uv[2];
        Wv[s2][0] = (1 - v) * (1 - u);
        Wv[s2][1] = (1 - v) * u;
        Wv[s2][2] = v * (1 - u);
        Wv[s2][3] = v * u;
    }
    // a virtual corner that weighs a corner no pixel uses (its row is a stand-in):
    // no bound for this group, every reference is evaluated
    bool bounded = true;
    for (int s2 = 0; s2 < 4; s2++)
        for (int i = 0; i < 4; i++)
            if (Wv[s2][i] != 0 && !(w.gmask[g] >> i & 1)) bounded = false;
    for (int s2 = 0; s2 < 4; s2++) {
        const double a0 = Wv[s2][0], a1 = Wv[s2][1], a2 = Wv[s2][2], a3 = Wv[s2][3];
        double* Es = E[s2];
#pragma omp simd
        for (int j = 0; j < nc; j++) Es[j] = a0 * e[0][j] + a1 * e[1][j] + a2 * e[2][j] + a3 * e[3][j];
    }
    // the candidate: the reference with the smallest sum of E_sj over the virtual corners so far
    double* cand = w.gcand + static_cast<size_t>(g) * 4;
    {
        double lo = inf;
#pragma omp simd reduction(min : lo)
        for (int j = 0; j < nc; j++) {
            double sum = E[0][j] + E[1][j] + E[2][j] + E[3][j];
            mg[j] = sum;
            lo = sum < lo ? sum : lo;
        }
        if (lo < w.gcandsum[g]) {
            int best = 0;
            while (best < nc && !(mg[best] == lo)) best++;
            if (best < nc) {
                w.gcandsum[g] = lo;
                for (int r = 0; r < 4; r++) cand[r] = E[r][best];
            }
        }
    }
    // margin_j = min over virtual corners s of E_sj - E_sc
    {
        const double c0 = cand[0], c1 = cand[1], c2 = cand[2], c3 = cand[3];
        const bool have = c0 < inf && bounded;
#pragma omp simd
        for (int j = 0; j < nc; j++) {
            double v = E[0][j] - c0;
            double v1 = E[1][j] - c1, v2 = E[2][j] - c2, v3 = E[3][j] - c3;
            v = v1 < v ? v1 : v;
            v = v2 < v ? v2 : v;
            v = v3 < v ? v3 : v;
            mg[j] = have ? v : -inf;
        }
    }
    // e and E carry rounding of at most tol / 2 (||z_i||^2 + ||y_j||^2) each: a difference of two
    // references' E at most tol (zmax + rmax)
    base = kPruneGap + 1.0 + tol * (zmax + rmax);
    return compact(dc, rnc, mg, base, nc, idx, cd, crn);
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

SEGSA_API int segsa_lsa_set_pruning(int mode) {
    if (mode != SEGSA_LSA_PRUNE && mode != SEGSA_LSA_PRUNE_VERIFY && mode != SEGSA_LSA_EXHAUSTIVE)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_lsa_set_pruning: mode is %d, expected %d, %d or %d", mode,
                    SEGSA_LSA_PRUNE, SEGSA_LSA_PRUNE_VERIFY, SEGSA_LSA_EXHAUSTIVE);
    g_pruning.store(mode, std::memory_order_relaxed);
    return SEGSA_OK;
}

SEGSA_API int segsa_lsa_pruning_stats(int64_t* evaluated, int64_t* pruned, int64_t* violations, int reset) {
    if (!evaluated || !pruned || !violations)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_lsa_pruning_stats: a pointer argument is null");
    if (reset) {
        *evaluated = g_evaluated.exchange(0);
        *pruned = g_pruned.exchange(0);
        *violations = g_violations.exchange(0);
    } else {
        *evaluated = g_evaluated.load();
        *pruned = g_pruned.load();
        *violations = g_violations.load();
    }
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
        for (size_t a = 0; a < cells * 4; a++) w.group_of[a] = -1;

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
            // Groups: the class pixels that share a top-left cell (one quad) and a quarter of it (u = x's
            // weight of the right neighbour below or above 1/2, v likewise for rows). Each group keeps
            // its four corner rows by position (top-left, top-right, bottom-left, bottom-right) and the
            // range of its pixels' (u, v): its pixels' weight vectors lie in the hull of the weights
            // at the range's four corners (the bilinear weights are bilinear in (u, v)).
            int32_t ngroup = 0;
            for (int64_t t = begin; t < end; t++) {
                int32_t p = w.pixels[t];
                int y = p / W, x = p - y * W;
                double u = w.cols.whi[x], v = w.rows.whi[y];
                int32_t key = group_key(w.rows.lo[y] * w0 + w.cols.lo[x], u, v);
                int32_t g = w.group_of[key];
                if (g < 0) {
                    g = w.group_of[key] = ngroup++;
                    w.group_key[g] = key;
                    w.group_start[g + 1] = 0;
                    for (int i = 0; i < 4; i++) w.gcorner[static_cast<size_t>(g) * 4 + i] = -1;
                    w.gmask[g] = 0;
                    double* uv = w.guv + static_cast<size_t>(g) * 4;
                    uv[0] = uv[1] = u;
                    uv[2] = uv[3] = v;
                }
                w.group_start[g + 1]++;
                double* uv = w.guv + static_cast<size_t>(g) * 4;
                uv[0] = std::fmin(uv[0], u);
                uv[1] = std::fmax(uv[1], u);
                uv[2] = std::fmin(uv[2], v);
                uv[3] = std::fmax(uv[3], v);
                const int32_t* nb = w.nbr + static_cast<size_t>(t) * 4;
                const double* wt = w.wts + static_cast<size_t>(t) * 4;
                int32_t* gc = w.gcorner + static_cast<size_t>(g) * 4;
                for (int i = 0; i < 4; i++)
                    if (wt[i] != 0) {
                        if (gc[i] < 0) gc[i] = nb[i];
                        w.gmask[g] |= 1 << i;
                    }
            }
            w.group_start[0] = 0;
            for (int32_t g = 0; g < ngroup; g++) {
                w.group_start[g + 1] += w.group_start[g];
                w.gfill[g] = w.group_start[g];
                int32_t* gc = w.gcorner + static_cast<size_t>(g) * 4;
                int32_t any = gc[0] >= 0 ? gc[0] : gc[1] >= 0 ? gc[1] : gc[2] >= 0 ? gc[2] : gc[3];
                for (int i = 0; i < 4; i++)
                    if (gc[i] < 0) gc[i] = any >= 0 ? any : w.nbr[static_cast<size_t>(begin) * 4];
            }
            for (int64_t t = begin; t < end; t++) {
                int32_t p = w.pixels[t];
                int y = p / W, x = p - y * W;
                double u = w.cols.whi[x], v = w.rows.whi[y];
                int32_t key = group_key(w.rows.lo[y] * w0 + w.cols.lo[x], u, v);
                w.order[w.gfill[w.group_of[key]]++] = static_cast<int32_t>(t);
            }
            const int64_t npx = end - begin;
            const bool par = static_cast<int64_t>(ncell) * k * n > 2000000 || npx * static_cast<int64_t>(n) > 2000000;
            const int mode = g_pruning.load(std::memory_order_relaxed);
            const bool verify = mode == SEGSA_LSA_PRUNE_VERIFY, exhaustive = mode == SEGSA_LSA_EXHAUSTIVE;
            const double eps = std::numeric_limits<double>::epsilon();
            const double tol = 8.0 * (k + 8) * eps;
            const double inf = std::numeric_limits<double>::infinity();
            double rmax = 0;
            for (int j = 0; j < n; j++) rmax = std::fmax(rmax, rn[j]);
#pragma omp parallel num_threads(kernel_threads()) if (par)
            {
                alignas(64) double buf[kChunk], crn[kChunk], mg[kChunk];
                alignas(64) double cd[4][kChunk], e[4][kChunk], E[4][kChunk];
                int32_t idx[kChunk];
                int64_t evaluated = 0, pruned = 0, violations = 0;
#pragma omp for schedule(static)
                for (int32_t t = 0; t < ncell; t++)
                    whiten_cell(features, cells, w.cell_list[t], k, act, centre, L, w.z + static_cast<size_t>(t) * k);
#pragma omp for schedule(static)
                for (int32_t t = 0; t < ncell; t++) {
                    const double* zt = w.z + static_cast<size_t>(t) * k;
                    double norm = 0;
                    for (int i = 0; i < k; i++) norm += zt[i] * zt[i];
                    w.znorm[t] = norm;
                }
#pragma omp for schedule(static)
                for (int32_t g = 0; g < ngroup; g++) {
                    for (int i = 0; i < 4; i++) w.gcand[static_cast<size_t>(g) * 4 + i] = inf;
                    w.gcandsum[g] = inf;
                }
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
                    w.pmin[t] = inf;
                }
                for (int j0 = 0; j0 < n; j0 += kChunk) {
                    const int nc = n - j0 < kChunk ? n - j0 : kChunk;
                    const int groups = (ncell + kMR - 1) / kMR;
#pragma omp for schedule(static)
                    for (int g = 0; g < groups; g++) {
                        int m0 = g * kMR, m1 = m0 + kMR < ncell ? m0 + kMR : ncell;
                        gemm_rows(w.z, k, m0, m1, Yt + j0, static_cast<size_t>(n), nc, w.dots, kChunk);
                    }
                    const double* rnc = rn + j0;
#pragma omp for schedule(dynamic, 16)
                    for (int32_t g = 0; g < ngroup; g++) {
                        const double* dc[4];
                        double base = 0;
                        int ns = nc;
                        const double *p0, *p1, *p2, *p3, *prn;
                        if (exhaustive) {
                            const int32_t* gc = w.gcorner + static_cast<size_t>(g) * 4;
                            for (int i = 0; i < 4; i++) dc[i] = w.dots + static_cast<size_t>(gc[i]) * kChunk;
                            p0 = dc[0], p1 = dc[1], p2 = dc[2], p3 = dc[3], prn = rnc;
                        } else {
                            ns = bound_group(w, g, rnc, nc, tol, rmax, e, E, mg, idx, cd, crn, dc, base);
                            p0 = cd[0], p1 = cd[1], p2 = cd[2], p3 = cd[3], prn = crn;
                        }
                        const int32_t pbegin = w.group_start[g], pend = w.group_start[g + 1];
                        for (int32_t o = pbegin; o < pend; o++) {
                            const int32_t t = w.order[o];
                            const double* wt = w.wts + static_cast<size_t>(t) * 4;
                            if (ns > 0)
                                pixel_chunk(p0, p1, p2, p3, wt[0], wt[1], wt[2], wt[3], w.pnorm[t], prn, ns, buf, w.smax[t],
                                            w.ssum[t]);
                            if (verify && ns < nc) {
                                double pm = w.pmin[t];
                                for (int j = 0; j < nc; j++) {
                                    if (!(mg[j] > base)) continue;
                                    double dot = wt[0] * dc[0][j] + wt[1] * dc[1][j] + wt[2] * dc[2][j] + wt[3] * dc[3][j];
                                    double q = w.pnorm[t] + rnc[j] - 2.0 * dot;
                                    if (q < pm) pm = q;
                                }
                                w.pmin[t] = pm;
                            }
                        }
                        evaluated += static_cast<int64_t>(ns) * (pend - pbegin);
                        pruned += static_cast<int64_t>(nc - ns) * (pend - pbegin);
                    }
                }
                if (verify) {
#pragma omp for schedule(static)
                    for (int64_t t = begin; t < end; t++) {
                        double qmin = -2.0 * w.smax[t];
                        if (!(w.pmin[t] > qmin + kPruneGap) && std::isfinite(w.pmin[t])) violations++;
                    }
                }
                g_evaluated.fetch_add(evaluated, std::memory_order_relaxed);
                g_pruned.fetch_add(pruned, std::memory_order_relaxed);
                g_violations.fetch_add(violations, std::memory_order_relaxed);
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
            for (int32_t g = 0; g < ngroup; g++) w.group_of[w.group_key[g]] = -1;
        }
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}

}  // extern "C"
