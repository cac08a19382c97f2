// libsegsa_cuda: device count and the three frame kernels on device pointers (see native/segsa.h).
//
// MDSA (segsa_cuda_mdsa_frame, segsa_cuda_mdsa_batch): whiten, per class, only the low-resolution
// cells its pixels read (touch_kernel marks them), then one thread per output pixel evaluates
// || sum_k w_k z_k ||.
//
// LSA (segsa_cuda_lsa_frame), the method of native/lsa.cpp: whiten the low-resolution cells each
// scored class touches, z = L^-1 (f[active] - centre); ||y_p||^2 per pixel from its <= 4 whitened
// neighbours; then, in chunks of kRefChunk references looped on the host, a tiled GEMM
// D[c][cell][r] = <z_c(cell), y_(j0+r)> and one thread per pixel interpolating the dot products,
// q = ||y_p||^2 + ||y_j||^2 - 2 sum_a w_a D[c][cell_a][r], and the online log-sum-exp of -q/2 (two
// passes within a chunk, merged across chunks exactly as pixel_chunk in lsa.cpp); a last kernel
// writes LSA = -(max + log(sum) + log_norm[c]).
//
// Fit accumulation (segsa_cuda_accumulate_frame), exact like native/accumulate.cpp: per labelled
// pixel, atomics add the interpolation weight of each of its <= 4 cells (cellw) and the pair
// weights W_ab = sum_p w_pa w_pb for the canonical neighbour offsets (0,0), (0,1), (1,-1), (1,0),
// (1,1) (pairw); the non-zero entries are compacted per class (ascending, deterministic); mean =
// sum_a cellw_a f_a / count; S = sum_(a,off) W' g(a) g(a+off)^T (g = f - mean, W' = W/2 for the
// (0,0) offset) by a split-K tiled GEMM, and comoment = S + S^T.
#include "segsa.h"
#include "segsa_internal.hpp"

#include <cuda_runtime.h>
#include <math_constants.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace {

using DevCarver = segsa::AlignedCarver<256>;

thread_local char g_error[1024];

int fail(int code, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(g_error, sizeof g_error, fmt, ap);
    va_end(ap);
    return code;
}

}  // namespace
// the other translation units of libsegsa_cuda (cuda/segments.cu) report their errors here
namespace segsa_cuda_internal {
int vset_error(int code, const char* fmt, va_list ap) {
    std::vsnprintf(g_error, sizeof g_error, fmt, ap);
    return code;
}
}  // namespace segsa_cuda_internal
namespace {

int cuda_fail(cudaError_t err, const char* fn, const char* call, const char* file, int line) {
    return fail(err == cudaErrorMemoryAllocation ? SEGSA_ERR_OUT_OF_MEMORY : SEGSA_ERR_CUDA,
                "%s: %s failed: %s (%s, cudaError %d) at %s:%d", fn, call, cudaGetErrorString(err), cudaGetErrorName(err),
                static_cast<int>(err), file, line);
}

#define SEGSA_CUDA_CHECK(fn, call)                                                     \
    do {                                                                               \
        cudaError_t segsa_err_ = (call);                                               \
        if (segsa_err_ != cudaSuccess) return cuda_fail(segsa_err_, fn, #call, __FILE__, __LINE__); \
    } while (0)

// Axis interpolation exactly as dev.segsa.features.AxisInterpolation (explicit IEEE roundings, no FMA).
__global__ void axis_kernel(int mode, int in, int out, int* lo, int* hi, double* wlo, double* whi) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= out) return;
    if (mode == 2) {
        float scale = __fdiv_rn(static_cast<float>(in), static_cast<float>(out));
        int idx;
        if (out == in) idx = i;
        else if (out == 2 * in) idx = i >> 1;
        else {
            int f = static_cast<int>(floorf(__fmul_rn(static_cast<float>(i), scale)));
            idx = f < in - 1 ? f : in - 1;
        }
        lo[i] = idx;
        hi[i] = idx;
        wlo[i] = 1.0;
        whi[i] = 0.0;
        return;
    }
    bool aligned = mode == 1;
    double scale = aligned ? (out > 1 ? __ddiv_rn(static_cast<double>(in - 1), static_cast<double>(out - 1)) : 0.0)
                           : __ddiv_rn(static_cast<double>(in), static_cast<double>(out));
    double src = aligned ? __dmul_rn(scale, static_cast<double>(i))
                         : __dsub_rn(__dmul_rn(scale, __dadd_rn(static_cast<double>(i), 0.5)), 0.5);
    if (src < 0) src = 0;
    int i0 = static_cast<int>(src);
    if (i0 > in - 1) i0 = in - 1;
    int i1 = i0 < in - 1 ? i0 + 1 : i0;
    double l1 = __dsub_rn(src, static_cast<double>(i0));
    if (i1 == i0) l1 = 0.0;
    lo[i] = i0;
    hi[i] = i1;
    wlo[i] = __dsub_rn(1.0, l1);
    whi[i] = l1;
}

// Marks, per class, the low-resolution cells its scored pixels read: the 4 interpolation corners
// pixel_kernel reads (all 4, also at zero weight, so that it never reads an unwhitened cell). Only
// these are whitened. Frame blockIdx.z of a batch: predicted [n, H*W], touched [n, C, cells].
__global__ void touch_kernel(const int32_t* predicted, int H, int W, int w0, int cells, int C, const int32_t* active_count,
                             const int* rlo, const int* rhi, const int* clo, const int* chi, int* touched) {
    long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= static_cast<long long>(H) * W) return;
    predicted += blockIdx.z * static_cast<size_t>(H) * W;
    touched += blockIdx.z * static_cast<size_t>(C) * cells;
    int c = predicted[p];
    if (c < 0 || c >= C || active_count[c] <= 0) return;
    int y = static_cast<int>(p / W), x = static_cast<int>(p - static_cast<long long>(y) * W);
    int* t = touched + static_cast<size_t>(c) * cells;
    t[rlo[y] * w0 + clo[x]] = 1;
    t[rlo[y] * w0 + chi[x]] = 1;
    t[rhi[y] * w0 + clo[x]] = 1;
    t[rhi[y] * w0 + chi[x]] = 1;
}

// zc[0..k) = L^-1 (f[active][cell] - mu) for one low-resolution cell (forward substitution).
__device__ __forceinline__ void whiten_cell(const float* features, int cells, int cell, int k, const int32_t* act,
                                            const double* mu, const double* L, double* zc) {
    for (int i = 0; i < k; i++) {
        double s = static_cast<double>(features[static_cast<size_t>(act[i]) * cells + cell]) - mu[i];
        const double* row = L + static_cast<size_t>(i) * k;
        for (int j = 0; j < i; j++) s -= row[j] * zc[j];
        zc[i] = s / row[i];
    }
}

// z[c][cell][0..k) = L_c^-1 (f[active][cell] - mu_c) for the cells class c's pixels read (touched).
// One thread per (cell, class); frame blockIdx.z of a batch (features [n, d, cells], touched
// [n, C, cells], z [n, C, cells, d]).
__global__ void whiten_kernel(const float* features, int d, int cells, int C, segsa_mdsa_models m, const int* touched,
                              double* z) {
    int cell = blockIdx.x * blockDim.x + threadIdx.x;
    int c = blockIdx.y;
    features += static_cast<size_t>(blockIdx.z) * d * cells;
    touched += static_cast<size_t>(blockIdx.z) * C * cells;
    z += static_cast<size_t>(blockIdx.z) * C * cells * d;
    if (cell >= cells || c >= C || !touched[static_cast<size_t>(c) * cells + cell]) return;
    whiten_cell(features, cells, cell, m.active_count[c], m.active_index + m.offset[c], m.mean + m.offset[c],
                m.chol + m.chol_offset[c], z + (static_cast<size_t>(c) * cells + cell) * d);
}

__global__ void pixel_kernel(int d, int w0, int cells, int H, int W, const int* rlo, const int* rhi, const double* rwlo,
                             const double* rwhi, const int* clo, const int* chi, const double* cwlo, const double* cwhi,
                             const int32_t* predicted, int C, const int32_t* active_count, const double* z,
                             float* sa_map, unsigned long long* class_pixels, double* class_sums) {
    long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= static_cast<long long>(H) * W) return;
    // frame blockIdx.z of a batch: predicted and sa_map [n, H*W], z [n, C, cells, d], class arrays [n, C]
    const size_t frame = blockIdx.z;
    predicted += frame * H * W;
    if (sa_map) sa_map += frame * H * W;
    z += frame * C * cells * d;
    class_pixels += frame * C;
    class_sums += frame * C;
    int c = predicted[p];
    if (c < 0 || c >= C || active_count[c] <= 0) {
        if (sa_map) sa_map[p] = nanf("");
        return;
    }
    int y = static_cast<int>(p / W), x = static_cast<int>(p - static_cast<long long>(y) * W);
    double w00 = rwlo[y] * cwlo[x], w01 = rwlo[y] * cwhi[x], w10 = rwhi[y] * cwlo[x], w11 = rwhi[y] * cwhi[x];
    const double* zc = z + static_cast<size_t>(c) * cells * d;
    const double* z00 = zc + static_cast<size_t>(rlo[y] * w0 + clo[x]) * d;
    const double* z01 = zc + static_cast<size_t>(rlo[y] * w0 + chi[x]) * d;
    const double* z10 = zc + static_cast<size_t>(rhi[y] * w0 + clo[x]) * d;
    const double* z11 = zc + static_cast<size_t>(rhi[y] * w0 + chi[x]) * d;
    int k = active_count[c];
    double s = 0;
    for (int i = 0; i < k; i++) {
        double v = w00 * z00[i] + w01 * z01[i] + w10 * z10[i] + w11 * z11[i];
        s += v * v;
    }
    double sa = sqrt(s);
    if (sa_map) sa_map[p] = static_cast<float>(sa);
    atomicAdd(class_pixels + c, 1ULL);
    atomicAdd(class_sums + c, sa);
}

struct CudaWs {
    int *rlo, *rhi, *clo, *chi, *touched;
    double *rwlo, *rwhi, *cwlo, *cwhi, *z;
};

size_t carve(unsigned char* base, CudaWs& w, int d, int h0, int w0, int H, int W, int C, int n = 1) {
    DevCarver cv(base);
    size_t cells = static_cast<size_t>(h0) * w0 * n;
    w.rlo = cv.take<int>(H);
    w.rhi = cv.take<int>(H);
    w.clo = cv.take<int>(W);
    w.chi = cv.take<int>(W);
    w.touched = cv.take<int>(static_cast<size_t>(C) * cells);  // cells counts the n frames
    w.rwlo = cv.take<double>(H);
    w.rwhi = cv.take<double>(H);
    w.cwlo = cv.take<double>(W);
    w.cwhi = cv.take<double>(W);
    w.z = cv.take<double>(cells * d * static_cast<size_t>(C));
    return cv.used();
}

unsigned char* align256(void* p) { return static_cast<unsigned char*>(segsa::align_up<256>(p)); }

// ================================================================ shared by LSA and accumulation

constexpr int kMaxBatch = 65535;   // frames per batched call (gridDim.z)
constexpr int kThreads = 256;      // 1-D kernels; a multiple of 32 (the warp aggregation needs whole warps)
constexpr int kMaxGridYZ = 65535;  // gridDim.y / gridDim.z limit; class loops stride by gridDim
constexpr int kTile = 64;          // GEMM block tile (64 x 64 outputs, 256 threads with 4 x 4 each)
constexpr int kTileK = 16;         // GEMM reduction step
constexpr int kRefChunk = 128;     // LSA references per chunk (a row of D is 1 KiB)
constexpr int kPairs = 5;          // canonical neighbour offsets (0,0) (0,1) (1,-1) (1,0) (1,1)
constexpr int kAccRows = 2048;     // pair entries per split of the comoment GEMM

// Frame geometry and the two interpolation axes (device arrays of the workspace).
struct Geom {
    long long npix;
    int W, w0, cells;
    const int* rlo;
    const int* clo;
    const double* rwlo;
    const double* rwhi;
    const double* cwlo;
    const double* cwhi;
};

// The <= 4 low-resolution cells of output pixel p and their weights, as native/lsa.cpp and
// native/accumulate.cpp: w = (wy0 wx0, wy0 wx1, wy1 wx0, wy1 wx1); a zero-weight neighbour is
// replaced by cell[0] (never read out of the frame or from an untouched cell).
__device__ __forceinline__ void pixel_cells(const Geom& g, long long p, int* cell, double* w) {
    const int y = static_cast<int>(p / g.W), x = static_cast<int>(p - static_cast<long long>(y) * g.W);
    const double wy0 = g.rwlo[y], wy1 = g.rwhi[y], wx0 = g.cwlo[x], wx1 = g.cwhi[x];
    const int q = g.rlo[y] * g.w0 + g.clo[x];
    w[0] = wy0 * wx0;
    w[1] = wy0 * wx1;
    w[2] = wy1 * wx0;
    w[3] = wy1 * wx1;
    cell[0] = q;
    cell[1] = w[1] != 0 ? q + 1 : q;
    cell[2] = w[2] != 0 ? q + g.w0 : q;
    cell[3] = w[3] != 0 ? q + g.w0 + 1 : q;
}

// Warp-aggregated per-class count (and sum): lanes with the same key >= 0 are added by one atomic
// each. Every lane of the warp must call it (no early return before); key < 0 adds nothing.
__device__ __forceinline__ void warp_class_add(int key, double value, unsigned long long* counts, double* sums) {
    const unsigned peers = __match_any_sync(0xffffffffu, key);
    double total = 0;
    if (sums != nullptr) {
        for (int l = 0; l < 32; l++) {
            double v = __shfl_sync(0xffffffffu, value, l);
            if ((peers >> l) & 1u) total += v;
        }
    }
    const int lane = static_cast<int>(threadIdx.x & 31u);
    if (key >= 0 && lane == __ffs(peers) - 1) {
        atomicAdd(counts + key, static_cast<unsigned long long>(__popc(peers)));
        if (sums != nullptr) atomicAdd(sums + key, total);
    }
}

// Sum over the block (blockDim.x a multiple of 32, <= 1024); the result is valid in thread 0.
// red: 32 doubles of shared memory. Ends with a barrier, so red can be reused at once.
__device__ __forceinline__ double block_sum(double v, double* red) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    if (lane == 0) red[warp] = v;
    __syncthreads();
    double t = 0;
    if (threadIdx.x == 0)
        for (unsigned i = 0; i < (blockDim.x >> 5); i++) t += red[i];
    __syncthreads();
    return t;
}

// Writes the indices i in [0, n) with pred(i) true to out, ascending; returns their number (in every
// thread). The whole block calls it; warp_total: 32 ints of shared memory.
template <typename Pred>
__device__ int block_compact(int n, Pred pred, int32_t* out, int* warp_total) {
    const int lane = static_cast<int>(threadIdx.x & 31u), warp = static_cast<int>(threadIdx.x >> 5);
    const int warps = static_cast<int>(blockDim.x >> 5);
    int base = 0;
    for (int i0 = 0; i0 < n; i0 += static_cast<int>(blockDim.x)) {
        const int i = i0 + static_cast<int>(threadIdx.x);
        const bool t = i < n && pred(i);
        const unsigned ballot = __ballot_sync(0xffffffffu, t);
        if (lane == 0) warp_total[warp] = __popc(ballot);
        __syncthreads();
        int off = base, total = 0;
        for (int w = 0; w < warps; w++) {
            int v = warp_total[w];
            if (w < warp) off += v;
            total += v;
        }
        if (t) out[off + __popc(ballot & ((1u << lane) - 1u))] = i;
        __syncthreads();
        base += total;
    }
    return base;
}

// ================================================================ LSA

// 0: class c has no model (active_count 0); 1: usable model; 2: malformed model that cannot be
// reported without a host round trip (active_count < 0 or > d, ref_count < 1 or > max_references):
// its pixels are counted with a NaN score, so class_sums[c] is NaN.
__device__ __forceinline__ int lsa_state(const segsa_lsa_models& m, int c, int d, int max_refs) {
    const int k = m.active_count[c];
    if (k == 0) return 0;
    const int n = m.ref_count[c];
    return (k > 0 && k <= d && n >= 1 && n <= max_refs) ? 1 : 2;
}

// touched[c][cell] = 1 for the cells (with non-zero weight) of the pixels of each scored class.
__global__ void lsa_touch_kernel(Geom g, const int32_t* predicted, int C, int d, segsa_lsa_models m, int max_refs,
                                 uint8_t* touched) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= g.npix) return;
    const int c = predicted[p];
    if (c < 0 || c >= C || lsa_state(m, c, d, max_refs) != 1) return;
    int cell[4];
    double w[4];
    pixel_cells(g, p, cell, w);
    uint8_t* t = touched + static_cast<size_t>(c) * g.cells;
    t[cell[0]] = 1;
    t[cell[1]] = 1;
    t[cell[2]] = 1;
    t[cell[3]] = 1;
}

// z[c][cell][0..k) = L_c^-1 (f[active][cell] - centre_c) for the touched cells. One thread per cell,
// classes strided over gridDim.y.
__global__ void lsa_whiten_kernel(const float* features, int d, int cells, int C, segsa_lsa_models m,
                                  const uint8_t* touched, double* z) {
    const int cell = blockIdx.x * blockDim.x + threadIdx.x;
    if (cell >= cells) return;
    for (int c = blockIdx.y; c < C; c += gridDim.y) {
        if (!touched[static_cast<size_t>(c) * cells + cell]) continue;  // touched implies a usable model
        whiten_cell(features, cells, cell, m.active_count[c], m.active_index + m.offset[c], m.centre + m.offset[c],
                    m.chol + m.chol_offset[c], z + (static_cast<size_t>(c) * cells + cell) * d);
    }
}

// Per scored pixel: ||y_p||^2 = || sum_a w_a z_a ||^2 and an empty log-sum-exp state.
__global__ void lsa_prep_kernel(Geom g, const int32_t* predicted, int C, int d, segsa_lsa_models m, int max_refs,
                                const double* z, double* pnorm, double* smax, double* ssum) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= g.npix) return;
    const int c = predicted[p];
    if (c < 0 || c >= C || lsa_state(m, c, d, max_refs) != 1) return;
    int cell[4];
    double w[4];
    pixel_cells(g, p, cell, w);
    const double* zc = z + static_cast<size_t>(c) * g.cells * d;
    const double* z0 = zc + static_cast<size_t>(cell[0]) * d;
    const double* z1 = zc + static_cast<size_t>(cell[1]) * d;
    const double* z2 = zc + static_cast<size_t>(cell[2]) * d;
    const double* z3 = zc + static_cast<size_t>(cell[3]) * d;
    const int k = m.active_count[c];
    double s = 0;
    for (int i = 0; i < k; i++) {
        double v = w[0] * z0[i] + w[1] * z1[i] + w[2] * z2[i] + w[3] * z3[i];
        s += v * v;
    }
    pnorm[p] = s;
    smax[p] = 0;
    ssum[p] = 0;
}

// D[c][cell][r] = <z_c(cell), y_(j0+r)> for r < min(kRefChunk, n_c - j0), touched cells of usable
// classes. Block: 64 cells x 64 references (blockIdx.x, blockIdx.y), classes strided over gridDim.z;
// tiles without a touched cell are skipped.
// One reduction step of a 64 x 64 block tile (256 threads, 4 x 4 outputs each):
// acc[s][t] += sum_kk As[kk][ty + 16 s] * Bs[kk][tx + 16 t]. Shared by the two GEMM kernels.
__device__ __forceinline__ void tile_fma(const double (&As)[kTileK][kTile + 1], const double (&Bs)[kTileK][kTile + 1],
                                         int tx, int ty, double (&acc)[4][4]) {
#pragma unroll
    for (int kk = 0; kk < kTileK; kk++) {
        double a[4], b[4];
#pragma unroll
        for (int t = 0; t < 4; t++) {
            a[t] = As[kk][ty + 16 * t];
            b[t] = Bs[kk][tx + 16 * t];
        }
#pragma unroll
        for (int s = 0; s < 4; s++)
#pragma unroll
            for (int t = 0; t < 4; t++) acc[s][t] += a[s] * b[t];
    }
}

__global__ void __launch_bounds__(kThreads) lsa_dots_kernel(int d, int cells, int C, segsa_lsa_models m, int max_refs,
                                                            const uint8_t* touched, const double* z, int j0, double* D) {
    __shared__ double As[kTileK][kTile + 1];  // z, [reduction][cell]
    __shared__ double Bs[kTileK][kTile + 1];  // y, [reduction][reference]
    __shared__ uint8_t tmask[kTile];
    const int tid = static_cast<int>(threadIdx.x), tx = tid & 15, ty = tid >> 4;
    const int cell0 = blockIdx.x * kTile;
    const int rr0 = blockIdx.y * kTile;  // first reference of the tile within the chunk
    for (int c = blockIdx.z; c < C; c += gridDim.z) {
        // every condition below is uniform over the block
        if (lsa_state(m, c, d, max_refs) != 1) continue;
        const int n = m.ref_count[c];
        const int jb = j0 + rr0;
        if (jb >= n) continue;
        const int nr = min(kTile, n - jb);
        int mine = 0;
        if (tid < kTile) {
            mine = cell0 + tid < cells ? touched[static_cast<size_t>(c) * cells + cell0 + tid] : 0;
            tmask[tid] = static_cast<uint8_t>(mine);
        }
        if (!__syncthreads_or(mine)) continue;
        const int k = m.active_count[c];
        const double* Y = m.refs_t + m.refs_t_offset[c] + jb;  // y_(jb+r)[i] at Y[i*n + r]
        const double* zc = z + (static_cast<size_t>(c) * cells + cell0) * d;
        double acc[4][4] = {};
        for (int i0 = 0; i0 < k; i0 += kTileK) {
            for (int q = 0; q < 4; q++) {
                const int kk = tid & 15, cc = (tid >> 4) + 16 * q;
                double v = 0;
                if (i0 + kk < k && tmask[cc]) v = zc[static_cast<size_t>(cc) * d + i0 + kk];
                As[kk][cc] = v;
            }
            for (int q = 0; q < 4; q++) {
                const int rr = tid & 63, kk = (tid >> 6) + 4 * q;
                double v = 0;
                if (i0 + kk < k && rr < nr) v = Y[static_cast<size_t>(i0 + kk) * n + rr];
                Bs[kk][rr] = v;
            }
            __syncthreads();
            tile_fma(As, Bs, tx, ty, acc);
            __syncthreads();
        }
#pragma unroll
        for (int s = 0; s < 4; s++) {
            const int cell = cell0 + ty + 16 * s;
            if (cell >= cells) continue;
            double* row = D + (static_cast<size_t>(c) * cells + cell) * kRefChunk + rr0;
#pragma unroll
            for (int t = 0; t < 4; t++)
                if (tx + 16 * t < nr) row[tx + 16 * t] = acc[s][t];
        }
    }
}

// One chunk of references for every scored pixel: q_j = ||y_p||^2 + ||y_j||^2 - 2 sum_a w_a D[a][j],
// the log-sum-exp of -q_j/2 over the chunk (minimum first, then the sum), merged into (smax, ssum)
// exactly as pixel_chunk in native/lsa.cpp.
__global__ void lsa_chunk_kernel(Geom g, const int32_t* predicted, int C, int d, segsa_lsa_models m, int max_refs,
                                 const double* D, int j0, const double* pnorm, double* smax, double* ssum) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= g.npix) return;
    const int c = predicted[p];
    if (c < 0 || c >= C || lsa_state(m, c, d, max_refs) != 1) return;
    const int n = m.ref_count[c];
    if (j0 >= n) return;
    const int nc = min(kRefChunk, n - j0);
    int cell[4];
    double w[4];
    pixel_cells(g, p, cell, w);
    const double* Dc = D + static_cast<size_t>(c) * g.cells * kRefChunk;
    const double* d0 = Dc + static_cast<size_t>(cell[0]) * kRefChunk;
    const double* d1 = Dc + static_cast<size_t>(cell[1]) * kRefChunk;
    const double* d2 = Dc + static_cast<size_t>(cell[2]) * kRefChunk;
    const double* d3 = Dc + static_cast<size_t>(cell[3]) * kRefChunk;
    const double* rn = m.ref_norm2 + m.ref_offset[c] + j0;
    const double pn = pnorm[p];
    double qmin = CUDART_INF;
    for (int j = 0; j < nc; j++) {
        double dot = w[0] * d0[j] + w[1] * d1[j] + w[2] * d2[j] + w[3] * d3[j];
        double q = pn + rn[j] - 2.0 * dot;
        qmin = q < qmin ? q : qmin;
    }
    double s = 0;
    for (int j = 0; j < nc; j++) {
        double dot = w[0] * d0[j] + w[1] * d1[j] + w[2] * d2[j] + w[3] * d3[j];
        double q = pn + rn[j] - 2.0 * dot;
        s += exp(-0.5 * (q - qmin));
    }
    const double mx = -0.5 * qmin;
    double state_max = smax[p], state_sum = ssum[p];
    if (state_sum == 0) {
        state_max = mx;
        state_sum = s;
    } else if (mx > state_max) {
        state_sum = state_sum * exp(state_max - mx) + s;
        state_max = mx;
    } else {
        state_sum += s * exp(mx - state_max);
    }
    smax[p] = state_max;
    ssum[p] = state_sum;
}

// LSA = -(max + log(sum) + log_norm[c]) per scored pixel, the map (NaN where not scored) and the
// per-class pixel counts and sums (warp-aggregated atomics).
__global__ void lsa_final_kernel(long long npix, const int32_t* predicted, int C, int d, segsa_lsa_models m,
                                 int max_refs, const double* smax, const double* ssum, float* sa_map,
                                 unsigned long long* class_pixels, double* class_sums) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    int key = -1;
    double sa = 0;
    if (p < npix) {
        const int c = predicted[p];
        const int st = (c >= 0 && c < C) ? lsa_state(m, c, d, max_refs) : 0;
        if (st == 1) {
            sa = -(smax[p] + log(ssum[p]) + m.log_norm[c]);
            key = c;
        } else if (st == 2) {
            sa = CUDART_NAN;
            key = c;
        }
        if (sa_map) sa_map[p] = st != 0 ? static_cast<float>(sa) : CUDART_NAN_F;
    }
    warp_class_add(key, sa, class_pixels, class_sums);
}

// ================================================================ fit accumulation

// Per labelled pixel: the class count (warp-aggregated), and atomics into cellw[c][cell] (sum of the
// pixel weights) and pairw[c][cell][off] (W_ab = sum_p w_pa w_pb, b = a + offset off), as the
// weights loop of native/accumulate.cpp.
__global__ void acc_pixel_kernel(Geom g, const int32_t* labels, int C, unsigned long long* counts, double* cellw,
                                 double* pairw) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    int c = p < g.npix ? labels[p] : -1;
    if (c >= C) c = -1;
    warp_class_add(c < 0 ? -1 : c, 0.0, counts, nullptr);
    if (c < 0) return;
    int cell[4];
    double w[4];
    pixel_cells(g, p, cell, w);
    double* cw = cellw + static_cast<size_t>(c) * g.cells;
    double* pw = pairw + static_cast<size_t>(c) * g.cells * kPairs;
    const int a00 = cell[0], a01 = cell[1], a10 = cell[2], a11 = cell[3];
    const double v00 = w[0], v01 = w[1], v10 = w[2], v11 = w[3];
    atomicAdd(cw + a00, v00);
    atomicAdd(pw + static_cast<size_t>(a00) * kPairs + 0, v00 * v00);
    if (v01 != 0) {
        atomicAdd(cw + a01, v01);
        atomicAdd(pw + static_cast<size_t>(a01) * kPairs + 0, v01 * v01);
        atomicAdd(pw + static_cast<size_t>(a00) * kPairs + 1, v00 * v01);  // (0,1)
    }
    if (v10 != 0) {
        atomicAdd(cw + a10, v10);
        atomicAdd(pw + static_cast<size_t>(a10) * kPairs + 0, v10 * v10);
        atomicAdd(pw + static_cast<size_t>(a00) * kPairs + 3, v00 * v10);  // (1,0)
    }
    if (v11 != 0) {  // implies v01 != 0 and v10 != 0
        atomicAdd(cw + a11, v11);
        atomicAdd(pw + static_cast<size_t>(a11) * kPairs + 0, v11 * v11);
        atomicAdd(pw + static_cast<size_t>(a00) * kPairs + 4, v00 * v11);  // (1,1)
        atomicAdd(pw + static_cast<size_t>(a01) * kPairs + 3, v01 * v11);  // (1,0)
        atomicAdd(pw + static_cast<size_t>(a01) * kPairs + 2, v01 * v10);  // (1,-1)
        atomicAdd(pw + static_cast<size_t>(a10) * kPairs + 1, v10 * v11);  // (0,1)
    }
}

// Per class (one block, classes strided over gridDim.x): the touched cells (cellw != 0) and the
// non-zero pair entries (cell * kPairs + off), ascending.
__global__ void acc_compact_kernel(int C, int cells, const double* cellw, const double* pairw, int32_t* cell_list,
                                   int* ncell, int32_t* pair_list, int* npair) {
    __shared__ int warp_total[32];
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        const double* cw = cellw + static_cast<size_t>(c) * cells;
        const double* pw = pairw + static_cast<size_t>(c) * cells * kPairs;
        const int nc = block_compact(
            cells, [cw](int i) { return cw[i] != 0; }, cell_list + static_cast<size_t>(c) * cells, warp_total);
        const int np = block_compact(
            cells * kPairs, [pw](int i) { return pw[i] != 0; }, pair_list + static_cast<size_t>(c) * cells * kPairs,
            warp_total);
        if (threadIdx.x == 0) {
            ncell[c] = nc;
            npair[c] = np;
        }
    }
}

// means[c][i] = (sum over touched cells of cellw * f_i) * (1 / count), 0 for absent classes.
// Block per feature (blockIdx.x), classes strided over gridDim.y.
__global__ void acc_mean_kernel(const float* features, int d, int cells, int C, const unsigned long long* counts,
                                const double* cellw, const int32_t* cell_list, const int* ncell, double* means) {
    __shared__ double red[32];
    const int i = blockIdx.x;
    const float* fi = features + static_cast<size_t>(i) * cells;
    for (int c = blockIdx.y; c < C; c += gridDim.y) {
        const double* cw = cellw + static_cast<size_t>(c) * cells;
        const int32_t* list = cell_list + static_cast<size_t>(c) * cells;
        const int nt = ncell[c];
        double s = 0;
        for (int t = threadIdx.x; t < nt; t += blockDim.x) {
            const int a = list[t];
            s += cw[a] * static_cast<double>(fi[a]);
        }
        s = block_sum(s, red);
        if (threadIdx.x == 0) {
            const unsigned long long n = counts[c];
            means[static_cast<size_t>(c) * d + i] = n == 0 ? 0.0 : s * (1.0 / static_cast<double>(n));
        }
    }
}

// S[c] += sum over pair entries e in [split begin, end) of W'_e g(a_e) g(b_e)^T, g = f - mean_c,
// W' = W/2 for the (0,0) offset. Block: 64 x 64 outputs (blockIdx.x), one split of the class's
// entries (blockIdx.y), classes strided over gridDim.z; atomics into S (= comoments, zeroed).
__global__ void __launch_bounds__(kThreads) acc_comoment_kernel(const float* features, int d, int w0, int cells, int C,
                                                                const double* means, const double* pairw,
                                                                const int32_t* pair_list, const int* npair,
                                                                int rows_per_split, double* S) {
    __shared__ double As[kTileK][kTile + 1];  // W' g_i(a), [entry][i]
    __shared__ double Bs[kTileK][kTile + 1];  // g_j(b), [entry][j]
    __shared__ int sa[kTileK], sb[kTileK];
    __shared__ double sw[kTileK];
    const int tid = static_cast<int>(threadIdx.x), tx = tid & 15, ty = tid >> 4;
    const int tiles = (d + kTile - 1) / kTile;
    const int i0 = (blockIdx.x / tiles) * kTile, j0 = (blockIdx.x % tiles) * kTile;
    for (int c = blockIdx.z; c < C; c += gridDim.z) {
        const int np = npair[c];
        const long long e_begin = static_cast<long long>(blockIdx.y) * rows_per_split;
        if (e_begin >= np) continue;  // uniform over the block
        const int e_end = static_cast<int>(min(static_cast<long long>(np), e_begin + rows_per_split));
        const int32_t* list = pair_list + static_cast<size_t>(c) * cells * kPairs;
        const double* pw = pairw + static_cast<size_t>(c) * cells * kPairs;
        const double* mean = means + static_cast<size_t>(c) * d;
        double acc[4][4] = {};
        for (int e0 = static_cast<int>(e_begin); e0 < e_end; e0 += kTileK) {
            if (tid < kTileK) {
                int a = -1, b = -1;  // -1: padding row, contributes exact zeros (features not read)
                double wt = 0;
                if (e0 + tid < e_end) {
                    const int entry = list[e0 + tid];
                    const int off = entry % kPairs;
                    a = entry / kPairs;
                    b = a + (off == 0 ? 0 : off == 1 ? 1 : w0 + off - 3);  // (0,0) (0,1) (1,-1) (1,0) (1,1)
                    wt = pw[entry];
                    if (off == 0) wt *= 0.5;
                }
                sa[tid] = a;
                sb[tid] = b;
                sw[tid] = wt;
            }
            __syncthreads();
            for (int q = 0; q < 4; q++) {
                const int kk = tid & 15, x = (tid >> 4) + 16 * q;
                double va = 0, vb = 0;
                if (sa[kk] >= 0) {
                    if (i0 + x < d)
                        va = sw[kk] * (static_cast<double>(features[static_cast<size_t>(i0 + x) * cells + sa[kk]]) -
                                       mean[i0 + x]);
                    if (j0 + x < d)
                        vb = static_cast<double>(features[static_cast<size_t>(j0 + x) * cells + sb[kk]]) -
                             mean[j0 + x];
                }
                As[kk][x] = va;
                Bs[kk][x] = vb;
            }
            __syncthreads();
            tile_fma(As, Bs, tx, ty, acc);
            __syncthreads();
        }
        double* Sc = S + static_cast<size_t>(c) * d * d;
#pragma unroll
        for (int s = 0; s < 4; s++) {
            const int i = i0 + ty + 16 * s;
            if (i >= d) continue;
#pragma unroll
            for (int t = 0; t < 4; t++) {
                const int j = j0 + tx + 16 * t;
                if (j < d) atomicAdd(Sc + static_cast<size_t>(i) * d + j, acc[s][t]);
            }
        }
    }
}

// comoment = S + S^T in place (i <= j threads write both entries); exactly 0 when count <= 1, as the
// CPU kernel. Elements over blockIdx.x, classes strided over gridDim.y.
__global__ void acc_symmetrize_kernel(int d, int C, const unsigned long long* counts, double* com) {
    const long long idx = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (idx >= static_cast<long long>(d) * d) return;
    const int i = static_cast<int>(idx / d), j = static_cast<int>(idx - static_cast<long long>(i) * d);
    if (i > j) return;
    for (int c = blockIdx.y; c < C; c += gridDim.y) {
        double* S = com + static_cast<size_t>(c) * d * d;
        const size_t ij = static_cast<size_t>(i) * d + j, ji = static_cast<size_t>(j) * d + i;
        if (counts[c] <= 1) {
            S[ij] = 0;
            S[ji] = 0;
        } else if (i == j) {
            S[ij] = 2.0 * S[ij];
        } else {
            const double v = S[ij] + S[ji];
            S[ij] = v;
            S[ji] = v;
        }
    }
}

// ================================================================ host helpers

// Bump allocator over a device workspace (null base: size query), 256-byte aligned slices.

struct AxisWs {
    int *rlo, *rhi, *clo, *chi;
    double *rwlo, *rwhi, *cwlo, *cwhi;
};

void carve_axes(DevCarver& cv, AxisWs& a, int H, int W) {
    a.rlo = cv.take<int>(H);
    a.rhi = cv.take<int>(H);
    a.clo = cv.take<int>(W);
    a.chi = cv.take<int>(W);
    a.rwlo = cv.take<double>(H);
    a.rwhi = cv.take<double>(H);
    a.cwlo = cv.take<double>(W);
    a.cwhi = cv.take<double>(W);
}

Geom make_geom(const AxisWs& a, int h0, int w0, int H, int W) {
    Geom g;
    g.npix = static_cast<long long>(H) * W;
    g.W = W;
    g.w0 = w0;
    g.cells = h0 * w0;
    g.rlo = a.rlo;
    g.clo = a.clo;
    g.rwlo = a.rwlo;
    g.rwhi = a.rwhi;
    g.cwlo = a.cwlo;
    g.cwhi = a.cwhi;
    return g;
}

struct LsaWs {
    AxisWs ax;
    uint8_t* touched;  // [C * cells]
    double* z;         // [C * cells * d] whitened touched cells
    double* D;         // [C * cells * kRefChunk] dot products of one chunk
    double* pnorm;     // [H*W] ||y_p||^2
    double* smax;      // [H*W] log-sum-exp state
    double* ssum;      // [H*W]
};

size_t carve_lsa(unsigned char* base, LsaWs& w, int d, int h0, int w0, int H, int W, int C) {
    DevCarver cv(base);
    const size_t cells = static_cast<size_t>(h0) * w0, npix = static_cast<size_t>(H) * W;
    carve_axes(cv, w.ax, H, W);
    w.touched = cv.take<uint8_t>(static_cast<size_t>(C) * cells);
    w.z = cv.take<double>(static_cast<size_t>(C) * cells * d);
    w.D = cv.take<double>(static_cast<size_t>(C) * cells * kRefChunk);
    w.pnorm = cv.take<double>(npix);
    w.smax = cv.take<double>(npix);
    w.ssum = cv.take<double>(npix);
    return cv.used();
}

struct AccWs {
    AxisWs ax;
    double* cellw;      // [C * cells]
    double* pairw;      // [C * cells * kPairs]
    int32_t* cell_list; // [C * cells]
    int32_t* pair_list; // [C * cells * kPairs]
    int* ncell;         // [C]
    int* npair;         // [C]
};

size_t carve_acc(unsigned char* base, AccWs& w, int h0, int w0, int H, int W, int C) {
    DevCarver cv(base);
    const size_t cells = static_cast<size_t>(h0) * w0;
    carve_axes(cv, w.ax, H, W);
    w.cellw = cv.take<double>(static_cast<size_t>(C) * cells);
    w.pairw = cv.take<double>(static_cast<size_t>(C) * cells * kPairs);
    w.cell_list = cv.take<int32_t>(static_cast<size_t>(C) * cells);
    w.pair_list = cv.take<int32_t>(static_cast<size_t>(C) * cells * kPairs);
    w.ncell = cv.take<int>(C);
    w.npair = cv.take<int>(C);
    return cv.used();
}

// The shape checks of the CPU library (native/segsa_internal.hpp), same messages.
int check_frame(const char* fn, const float* features, int d, int h0, int w0, int H, int W, int mode,
                const int32_t* per_pixel, int num_classes) {
    return segsa::check_frame_shape(&fail, fn, features, d, h0, w0, H, W, mode, per_pixel, num_classes);
}

// Workspace size arguments: positive, and small enough that the byte count cannot overflow.
int check_sizes(const char* fn, int d, int h0, int w0, int H, int W, int num_classes, size_t* bytes) {
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: bytes is null", fn);
    if (d <= 0 || h0 <= 0 || w0 <= 0 || H <= 0 || W <= 0 || num_classes <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT,
                    "%s: sizes must be positive (d=%d, h0=%d, w0=%d, H=%d, W=%d, num_classes=%d)", fn, d, h0, w0, H, W,
                    num_classes);
    const double cells = static_cast<double>(h0) * w0;
    const double largest = static_cast<double>(num_classes) * cells * (d + kRefChunk + kPairs * 12.0) * 8.0 +
                           static_cast<double>(num_classes) * d * d * 8.0 + static_cast<double>(H) * W * 24.0;
    if (static_cast<int64_t>(H) * W > INT32_MAX || cells > INT32_MAX / 16 || largest > 4.0e18)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: frame too large (d=%d, h0=%d, w0=%d, H=%d, W=%d, num_classes=%d)",
                    fn, d, h0, w0, H, W, num_classes);
    return SEGSA_OK;
}

// Number of blocks for 1-D pixel kernels.
unsigned grid_pixels(long long npix) { return static_cast<unsigned>((npix + kThreads - 1) / kThreads); }

unsigned grid_classes(int C) { return static_cast<unsigned>(C < kMaxGridYZ ? C : kMaxGridYZ); }

}  // namespace

extern "C" {

SEGSA_API int segsa_cuda_last_error(char* buf, size_t len) {
    if (buf == nullptr || len == 0) return SEGSA_ERR_INVALID_ARGUMENT;
    size_t n = std::strlen(g_error);
    if (n + 1 > len) n = len - 1;
    std::memcpy(buf, g_error, n);
    buf[n] = '\0';
    return SEGSA_OK;
}

SEGSA_API int segsa_cuda_version(int* major, int* minor, int* patch) {
    if (!major || !minor || !patch) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_cuda_version: null out-parameter");
    *major = SEGSA_VERSION_MAJOR;
    *minor = SEGSA_VERSION_MINOR;
    *patch = SEGSA_VERSION_PATCH;
    return SEGSA_OK;
}

SEGSA_API int segsa_cuda_device_count(int* count) {
    if (count == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_cuda_device_count: count is null");
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) {
        cudaGetLastError();  // clear the sticky-free error state
        fail(SEGSA_OK, "segsa_cuda_device_count: cudaGetDeviceCount: %s", cudaGetErrorString(err));
        *count = 0;
        return SEGSA_OK;
    }
    if (err != cudaSuccess) return cuda_fail(err, "segsa_cuda_device_count", "cudaGetDeviceCount(&n)", __FILE__, __LINE__);
    *count = n;
    return SEGSA_OK;
}

SEGSA_API int segsa_cuda_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes, size_t* bytes) {
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_cuda_workspace_bytes: bytes is null");
    if (d <= 0 || h0 <= 0 || w0 <= 0 || H <= 0 || W <= 0 || num_classes <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT,
                    "segsa_cuda_workspace_bytes: sizes must be positive (d=%d, h0=%d, w0=%d, H=%d, W=%d, num_classes=%d)", d,
                    h0, w0, H, W, num_classes);
    CudaWs w;
    *bytes = carve(nullptr, w, d, h0, w0, H, W, num_classes);
    return SEGSA_OK;
}

}  // extern "C"

namespace {

// segsa_cuda_mdsa_frame (n = 1) and segsa_cuda_mdsa_batch: one launch of each kernel for the n
// frames (the frame is blockIdx.z), all enqueued on the stream, no synchronisation.
int mdsa_batch(const char* fn, const float* features, int n, int d, int h0, int w0, int H, int W, int upsample_mode,
               const int32_t* predicted, int num_classes, const segsa_mdsa_models* models, void* workspace,
               size_t workspace_bytes, float* sa_map, int64_t* class_pixels, double* class_sums, void* stream_ptr) {
    if (!features || !predicted || !models || !class_pixels || !class_sums)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: features, predicted, models, class_pixels or class_sums is null", fn);
    if (d <= 0 || h0 <= 0 || w0 <= 0 || H <= 0 || W <= 0 || num_classes <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: sizes must be positive (d=%d, h0=%d, w0=%d, H=%d, W=%d, num_classes=%d)",
                    fn, d, h0, w0, H, W, num_classes);
    if (n <= 0 || n > kMaxBatch) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: batch of %d frames, expected 1..%d", fn, n, kMaxBatch);
    if (upsample_mode < 0 || upsample_mode > 2)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: upsample_mode=%d, expected 0, 1 or 2", fn, upsample_mode);
    if (models->num_classes != num_classes || models->dim != d)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models are for %d classes of dimension %d, call has %d classes, d=%d", fn,
                    models->num_classes, models->dim, num_classes, d);
    if (!models->active_count || !models->offset || !models->active_index || !models->mean || !models->chol_offset ||
        !models->chol)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: a models array pointer is null", fn);
    CudaWs w;
    size_t need = carve(nullptr, w, d, h0, w0, H, W, num_classes, n);
    if (workspace == nullptr || workspace_bytes < need)
        return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes, need %zu (%s)", fn, workspace_bytes, need,
                    n == 1 ? "segsa_cuda_workspace_bytes" : "segsa_cuda_mdsa_batch_workspace_bytes");
    carve(align256(workspace), w, d, h0, w0, H, W, num_classes, n);
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    const int cells = h0 * w0;
    const long long npix = static_cast<long long>(H) * W;
    const int threads = 256;

    const size_t nc = static_cast<size_t>(num_classes) * n;
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(w.touched, 0, sizeof(int) * nc * h0 * w0, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(class_pixels, 0, sizeof(int64_t) * nc, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(class_sums, 0, sizeof(double) * nc, stream));
    axis_kernel<<<(H + threads - 1) / threads, threads, 0, stream>>>(upsample_mode, h0, H, w.rlo, w.rhi, w.rwlo, w.rwhi);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    axis_kernel<<<(W + threads - 1) / threads, threads, 0, stream>>>(upsample_mode, w0, W, w.clo, w.chi, w.cwlo, w.cwhi);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    dim3 pixel_blocks(static_cast<unsigned>((npix + threads - 1) / threads), 1, static_cast<unsigned>(n));
    touch_kernel<<<pixel_blocks, threads, 0, stream>>>(predicted, H, W, w0, cells, num_classes, models->active_count, w.rlo,
                                                       w.rhi, w.clo, w.chi, w.touched);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    dim3 wgrid((cells + 127) / 128, num_classes, static_cast<unsigned>(n));
    whiten_kernel<<<wgrid, 128, 0, stream>>>(features, d, cells, num_classes, *models, w.touched, w.z);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    pixel_kernel<<<pixel_blocks, threads, 0, stream>>>(d, w0, cells, H, W, w.rlo, w.rhi, w.rwlo, w.rwhi, w.clo, w.chi,
                                                       w.cwlo, w.cwhi, predicted, num_classes, models->active_count, w.z,
                                                       sa_map, reinterpret_cast<unsigned long long*>(class_pixels),
                                                       class_sums);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    return SEGSA_OK;
}

}  // namespace

extern "C" {

SEGSA_API int segsa_cuda_mdsa_batch_workspace_bytes(int n, int d, int h0, int w0, int H, int W, int num_classes,
                                                   size_t* bytes) {
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_cuda_mdsa_batch_workspace_bytes: bytes is null");
    if (n <= 0 || n > kMaxBatch || d <= 0 || h0 <= 0 || w0 <= 0 || H <= 0 || W <= 0 || num_classes <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT,
                    "segsa_cuda_mdsa_batch_workspace_bytes: sizes must be positive and n <= %d (n=%d, d=%d, h0=%d, w0=%d, "
                    "H=%d, W=%d, num_classes=%d)",
                    kMaxBatch, n, d, h0, w0, H, W, num_classes);
    CudaWs w;
    *bytes = carve(nullptr, w, d, h0, w0, H, W, num_classes, n);
    return SEGSA_OK;
}

SEGSA_API int segsa_cuda_mdsa_batch(const float* features, int n, int d, int h0, int w0, int H, int W, int upsample_mode,
                                    const int32_t* predicted, int num_classes, const segsa_mdsa_models* models,
                                    void* workspace, size_t workspace_bytes, float* sa_map, int64_t* class_pixels,
                                    double* class_sums, void* stream_ptr) {
    return mdsa_batch("segsa_cuda_mdsa_batch", features, n, d, h0, w0, H, W, upsample_mode, predicted, num_classes, models,
                      workspace, workspace_bytes, sa_map, class_pixels, class_sums, stream_ptr);
}

SEGSA_API int segsa_cuda_mdsa_frame(const float* features, int d, int h0, int w0, int H, int W, int upsample_mode,
                                    const int32_t* predicted, int num_classes, const segsa_mdsa_models* models,
                                    void* workspace, size_t workspace_bytes, float* sa_map, int64_t* class_pixels,
                                    double* class_sums, void* stream_ptr) {
    return mdsa_batch("segsa_cuda_mdsa_frame", features, 1, d, h0, w0, H, W, upsample_mode, predicted, num_classes, models,
                      workspace, workspace_bytes, sa_map, class_pixels, class_sums, stream_ptr);
}

SEGSA_API int segsa_cuda_lsa_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes, size_t* bytes) {
    int st = check_sizes("segsa_cuda_lsa_workspace_bytes", d, h0, w0, H, W, num_classes, bytes);
    if (st) return st;
    LsaWs w;
    *bytes = carve_lsa(nullptr, w, d, h0, w0, H, W, num_classes);
    return SEGSA_OK;
}

SEGSA_API int segsa_cuda_lsa_frame(const float* features, int d, int h0, int w0, int H, int W, int upsample_mode,
                                   const int32_t* predicted, int num_classes, const segsa_lsa_models* models,
                                   int max_references, void* workspace, size_t workspace_bytes, float* sa_map,
                                   int64_t* class_pixels, double* class_sums, void* stream_ptr) {
    static const char* fn = "segsa_cuda_lsa_frame";
    int st = check_frame(fn, features, d, h0, w0, H, W, upsample_mode, predicted, num_classes);
    if (st) return st;
    if (models == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models is null", fn);
    if (models->num_classes != num_classes || models->dim != d)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models are for %d classes of dimension %d, call has %d classes, d=%d",
                    fn, models->num_classes, models->dim, num_classes, d);
    if (!models->active_count || !models->offset || !models->active_index || !models->centre || !models->chol_offset ||
        !models->chol || !models->ref_count || !models->refs_t_offset || !models->refs_t || !models->ref_offset ||
        !models->ref_norm2 || !models->log_norm)
        return fail(SEGSA_ERR_INVALID_ARGUMENT,
                    "%s: a models array pointer (active_count/offset/active_index/centre/chol_offset/chol/ref_count/"
                    "refs_t_offset/refs_t/ref_offset/ref_norm2/log_norm) is null",
                    fn);
    if (max_references < 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: max_references=%d must be >= 0 (the largest ref_count)", fn,
                    max_references);
    if (class_pixels == nullptr || class_sums == nullptr)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: class_pixels or class_sums is null", fn);
    size_t need = 0;
    if ((st = check_sizes(fn, d, h0, w0, H, W, num_classes, &need))) return st;
    LsaWs w;
    need = carve_lsa(nullptr, w, d, h0, w0, H, W, num_classes);
    if (workspace == nullptr || workspace_bytes < need)
        return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL,
                    "%s: workspace of %zu bytes%s, need %zu (segsa_cuda_lsa_workspace_bytes)", fn, workspace_bytes,
                    workspace == nullptr ? " (null)" : "", need);
    carve_lsa(align256(workspace), w, d, h0, w0, H, W, num_classes);
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    const int C = num_classes;
    const Geom g = make_geom(w.ax, h0, w0, H, W);
    const segsa_lsa_models m = *models;
    const unsigned pblocks = grid_pixels(g.npix);

    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(class_pixels, 0, sizeof(int64_t) * C, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(class_sums, 0, sizeof(double) * C, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(w.touched, 0, static_cast<size_t>(C) * g.cells, stream));
    axis_kernel<<<(H + kThreads - 1) / kThreads, kThreads, 0, stream>>>(upsample_mode, h0, H, w.ax.rlo, w.ax.rhi,
                                                                         w.ax.rwlo, w.ax.rwhi);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    axis_kernel<<<(W + kThreads - 1) / kThreads, kThreads, 0, stream>>>(upsample_mode, w0, W, w.ax.clo, w.ax.chi,
                                                                         w.ax.cwlo, w.ax.cwhi);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    lsa_touch_kernel<<<pblocks, kThreads, 0, stream>>>(g, predicted, C, d, m, max_references, w.touched);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    dim3 wgrid((g.cells + 127) / 128, grid_classes(C));
    lsa_whiten_kernel<<<wgrid, 128, 0, stream>>>(features, d, g.cells, C, m, w.touched, w.z);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    lsa_prep_kernel<<<pblocks, kThreads, 0, stream>>>(g, predicted, C, d, m, max_references, w.z, w.pnorm, w.smax,
                                                      w.ssum);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    dim3 dgrid((g.cells + kTile - 1) / kTile, kRefChunk / kTile, grid_classes(C));
    for (int j0 = 0; j0 < max_references; j0 += kRefChunk) {
        lsa_dots_kernel<<<dgrid, kThreads, 0, stream>>>(d, g.cells, C, m, max_references, w.touched, w.z, j0, w.D);
        SEGSA_CUDA_CHECK(fn, cudaGetLastError());
        lsa_chunk_kernel<<<pblocks, kThreads, 0, stream>>>(g, predicted, C, d, m, max_references, w.D, j0, w.pnorm,
                                                           w.smax, w.ssum);
        SEGSA_CUDA_CHECK(fn, cudaGetLastError());
        if (max_references - j0 <= kRefChunk) break;  // j0 + kRefChunk would pass max_references (no int overflow)
    }
    lsa_final_kernel<<<pblocks, kThreads, 0, stream>>>(g.npix, predicted, C, d, m, max_references, w.smax, w.ssum,
                                                       sa_map, reinterpret_cast<unsigned long long*>(class_pixels),
                                                       class_sums);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    return SEGSA_OK;
}

SEGSA_API int segsa_cuda_accumulate_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes,
                                                    size_t* bytes) {
    int st = check_sizes("segsa_cuda_accumulate_workspace_bytes", d, h0, w0, H, W, num_classes, bytes);
    if (st) return st;
    AccWs w;
    *bytes = carve_acc(nullptr, w, h0, w0, H, W, num_classes);
    return SEGSA_OK;
}

SEGSA_API int segsa_cuda_accumulate_frame(const float* features, int d, int h0, int w0, int H, int W,
                                          int upsample_mode, const int32_t* labels, int num_classes, void* workspace,
                                          size_t workspace_bytes, int64_t* counts, double* means, double* comoments,
                                          void* stream_ptr) {
    static const char* fn = "segsa_cuda_accumulate_frame";
    int st = check_frame(fn, features, d, h0, w0, H, W, upsample_mode, labels, num_classes);
    if (st) return st;
    if (counts == nullptr || means == nullptr || comoments == nullptr)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: counts, means or comoments is null", fn);
    size_t need = 0;
    if ((st = check_sizes(fn, d, h0, w0, H, W, num_classes, &need))) return st;
    AccWs w;
    need = carve_acc(nullptr, w, h0, w0, H, W, num_classes);
    if (workspace == nullptr || workspace_bytes < need)
        return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL,
                    "%s: workspace of %zu bytes%s, need %zu (segsa_cuda_accumulate_workspace_bytes)", fn,
                    workspace_bytes, workspace == nullptr ? " (null)" : "", need);
    carve_acc(align256(workspace), w, h0, w0, H, W, num_classes);
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    const int C = num_classes;
    const Geom g = make_geom(w.ax, h0, w0, H, W);
    const size_t cells = static_cast<size_t>(g.cells);
    unsigned long long* ucounts = reinterpret_cast<unsigned long long*>(counts);

    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(counts, 0, sizeof(int64_t) * C, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(w.cellw, 0, sizeof(double) * C * cells, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(w.pairw, 0, sizeof(double) * C * cells * kPairs, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(comoments, 0, sizeof(double) * C * static_cast<size_t>(d) * d, stream));
    axis_kernel<<<(H + kThreads - 1) / kThreads, kThreads, 0, stream>>>(upsample_mode, h0, H, w.ax.rlo, w.ax.rhi,
                                                                         w.ax.rwlo, w.ax.rwhi);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    axis_kernel<<<(W + kThreads - 1) / kThreads, kThreads, 0, stream>>>(upsample_mode, w0, W, w.ax.clo, w.ax.chi,
                                                                         w.ax.cwlo, w.ax.cwhi);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    acc_pixel_kernel<<<grid_pixels(g.npix), kThreads, 0, stream>>>(g, labels, C, ucounts, w.cellw, w.pairw);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    acc_compact_kernel<<<grid_classes(C), kThreads, 0, stream>>>(C, g.cells, w.cellw, w.pairw, w.cell_list, w.ncell,
                                                                 w.pair_list, w.npair);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    acc_mean_kernel<<<dim3(static_cast<unsigned>(d), grid_classes(C)), kThreads, 0, stream>>>(
        features, d, g.cells, C, ucounts, w.cellw, w.cell_list, w.ncell, means);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    // split-K over the pair entries: at most cells * kPairs per class, at most kMaxGridYZ splits
    const long long entries = static_cast<long long>(cells) * kPairs;
    long long rows = kAccRows;
    if ((entries + rows - 1) / rows > kMaxGridYZ) rows = ((entries + kMaxGridYZ - 1) / kMaxGridYZ + kTileK - 1) / kTileK * kTileK;
    const unsigned splits = static_cast<unsigned>((entries + rows - 1) / rows);
    const unsigned tiles = static_cast<unsigned>((d + kTile - 1) / kTile);
    acc_comoment_kernel<<<dim3(tiles * tiles, splits, grid_classes(C)), kThreads, 0, stream>>>(
        features, d, w0, g.cells, C, means, w.pairw, w.pair_list, w.npair, static_cast<int>(rows), comoments);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    const long long dd = static_cast<long long>(d) * d;
    acc_symmetrize_kernel<<<dim3(static_cast<unsigned>((dd + kThreads - 1) / kThreads), grid_classes(C)), kThreads, 0,
                            stream>>>(d, C, ucounts, comoments);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    return SEGSA_OK;
}

}  // extern "C"

// ------------------------------------------------------------------ the logits pass (segsa_cuda_logits_frame)
//
// The device counterpart of native/logits.cpp: one thread per output pixel reads the C logits
// (interpolating low-resolution ones with ATen's float32 arithmetic as the CPU pass does: explicit
// fused multiply-adds, every other operation rounded on its own, so nvcc's contraction cannot
// change it), takes the argmax with torch.argmax semantics, counts non-finite values, and adds
// its class to a per-block histogram in shared memory (num_classes <= kLogitsSharedClasses) or
// straight to global memory. With uncertainty_sums, the softmax measures per pixel in float64
// (double atomics: the sums' last bits may differ from run to run and from the CPU pass).
namespace {

constexpr int kLogitsThreads = 256;
constexpr int kLogitsSharedClasses = 1024;

__device__ __forceinline__ bool logits_not_finite(float v) { return !(fabsf(v) <= 3.402823466e38f); }

struct LogitsAxis {
    const int* lo;
    const int* hi;
    const float* wlo;
    const float* whi;
};

// ATen's float32 axis (see native/logits.cpp axis32_init, fused = true on the CPUs LibTorch's
// GPU builds run beside; the device has FMA)
__global__ void logits_axis_kernel(int mode, int in, int out, int* lo, int* hi, float* wlo, float* whi) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= out) return;
    if (mode == 2) {
        float scale = __fdiv_rn(static_cast<float>(in), static_cast<float>(out));
        int idx;
        if (out == in) idx = i;
        else if (out == 2 * in) idx = i >> 1;
        else {
            int f = static_cast<int>(floorf(__fmul_rn(static_cast<float>(i), scale)));
            idx = f < in - 1 ? f : in - 1;
        }
        lo[i] = idx;
        hi[i] = idx;
        wlo[i] = 1.0f;
        whi[i] = 0.0f;
        return;
    }
    if (out == in) {
        lo[i] = i;
        hi[i] = i;
        wlo[i] = 1.0f;
        whi[i] = 0.0f;
        return;
    }
    bool aligned = mode == 1;
    float src;
    if (aligned) {
        float scale = out > 1 ? __fdiv_rn(static_cast<float>(in - 1), static_cast<float>(out - 1)) : 0.0f;
        src = __fmul_rn(scale, static_cast<float>(i));
    } else {
        float scale = __fdiv_rn(static_cast<float>(in), static_cast<float>(out));
        src = __fmaf_rn(scale, __fadd_rn(static_cast<float>(i), 0.5f), -0.5f);
        if (src < 0.0f) src = 0.0f;
    }
    int i0 = static_cast<int>(floorf(src));
    if (i0 > in - 1) i0 = in - 1;
    float l1 = __fsub_rn(src, static_cast<float>(i0));
    l1 = fminf(fmaxf(l1, 0.0f), 1.0f);
    lo[i] = i0;
    hi[i] = i0 < in - 1 ? i0 + 1 : i0;
    wlo[i] = __fsub_rn(1.0f, l1);
    whi[i] = l1;
}

__device__ __forceinline__ float logits_value(const float* logits, int c, int h, int w, int H, int W, bool full, int mode,
                                              LogitsAxis rows, LogitsAxis cols, int y, int x, long long p) {
    if (full) return logits[static_cast<size_t>(c) * H * W + p];
    const float* plane = logits + static_cast<size_t>(c) * h * w;
    const float* r0 = plane + static_cast<size_t>(rows.lo[y]) * w;
    if (mode == 2) return r0[cols.lo[x]];
    const float* r1 = plane + static_cast<size_t>(rows.hi[y]) * w;
    float wx0 = cols.wlo[x], wx1 = cols.whi[x];
    float t0 = __fmaf_rn(r0[cols.lo[x]], wx0, __fmul_rn(r0[cols.hi[x]], wx1));
    float t1 = __fmaf_rn(r1[cols.lo[x]], wx0, __fmul_rn(r1[cols.hi[x]], wx1));
    return __fmaf_rn(t0, rows.wlo[y], __fmul_rn(t1, rows.whi[y]));
}

__global__ void __launch_bounds__(kLogitsThreads) logits_kernel(const float* logits, int C, int h, int w, int H, int W,
                                                                int mode, LogitsAxis rows, LogitsAxis cols,
                                                                int32_t* predicted, unsigned long long* class_pixels,
                                                                unsigned long long* non_finite, double* usums) {
    __shared__ unsigned int hist[kLogitsSharedClasses];
    __shared__ unsigned long long block_bad;
    const bool shared_hist = C <= kLogitsSharedClasses;
    if (shared_hist)
        for (int c = threadIdx.x; c < C; c += blockDim.x) hist[c] = 0;
    if (threadIdx.x == 0) block_bad = 0;
    __syncthreads();
    const long long npix = static_cast<long long>(H) * W;
    const long long p = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    const bool full = h == H && w == W;
    if (p < npix) {
        const int y = static_cast<int>(p / W), x = static_cast<int>(p % W);
        float best = logits_value(logits, 0, h, w, H, W, full, mode, rows, cols, y, x, p);
        int idx = 0;
        unsigned long long bad = logits_not_finite(best);
        for (int c = 1; c < C; c++) {
            float v = logits_value(logits, c, h, w, H, W, full, mode, rows, cols, y, x, p);
            bool take = v > best || (v != v && best == best);
            if (take) {
                best = v;
                idx = c;
            }
            bad += logits_not_finite(v);
        }
        predicted[p] = idx;
        if (bad) atomicAdd(&block_bad, bad);
        if (shared_hist) atomicAdd(&hist[idx], 1u);
        else atomicAdd(&class_pixels[idx], 1ull);
        if (usums != nullptr) {
            const double m = best;
            double s = 0, t = 0, q = 0, second = -CUDART_INF;
            for (int c = 0; c < C; c++) {
                float v = logits_value(logits, c, h, w, H, W, full, mode, rows, cols, y, x, p);
                double d = static_cast<double>(v) - m;
                double e = exp(d);
                s += e;
                t += d == 0 ? 0.0 : e * d;
                q += e * e;
                if (c != idx && v > second) second = v;
            }
            const double p1 = 1.0 / s;
            const double p2 = C >= 2 ? exp(second - m) / s : 0.0;
            double entropy = log(s) - t / s;
            if (entropy < 0) entropy = 0;
            atomicAdd(&usums[idx], static_cast<double>(static_cast<float>(entropy)));
            atomicAdd(&usums[C + idx], static_cast<double>(static_cast<float>(C >= 2 ? 1.0 - (p1 - p2) : 0.0)));
            atomicAdd(&usums[2 * C + idx], static_cast<double>(static_cast<float>(1.0 - p1)));
            atomicAdd(&usums[3 * C + idx], static_cast<double>(static_cast<float>(1.0 - q / (s * s))));
        }
    }
    __syncthreads();
    if (shared_hist)
        for (int c = threadIdx.x; c < C; c += blockDim.x)
            if (hist[c]) atomicAdd(&class_pixels[c], static_cast<unsigned long long>(hist[c]));
    if (threadIdx.x == 0 && block_bad) atomicAdd(non_finite, block_bad);
}

__global__ void count_nonfinite_kernel(const float* v, long long n, unsigned long long* bad) {
    unsigned long long mine = 0;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
         i += static_cast<long long>(gridDim.x) * blockDim.x)
        mine += logits_not_finite(v[i]);
    if (mine) atomicAdd(bad, mine);
}

size_t carve_logits_axes(void* base, int H, int W, int** rlo, int** rhi, float** rwlo, float** rwhi, int** clo, int** chi,
                         float** cwlo, float** cwhi) {
    DevCarver cv(base);
    *rlo = cv.take<int>(H);
    *rhi = cv.take<int>(H);
    *rwlo = cv.take<float>(H);
    *rwhi = cv.take<float>(H);
    *clo = cv.take<int>(W);
    *chi = cv.take<int>(W);
    *cwlo = cv.take<float>(W);
    *cwhi = cv.take<float>(W);
    return cv.used();
}

}  // namespace

extern "C" {

SEGSA_API int segsa_cuda_logits_workspace_bytes(int num_classes, int H, int W, size_t* bytes) {
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_cuda_logits_workspace_bytes: bytes is null");
    if (num_classes <= 0 || H <= 0 || W <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT,
                    "segsa_cuda_logits_workspace_bytes: sizes must be positive (num_classes=%d, H=%d, W=%d)", num_classes, H, W);
    int *a, *b, *c, *d;
    float *e, *f, *g, *h;
    *bytes = carve_logits_axes(nullptr, H, W, &a, &b, &e, &f, &c, &d, &g, &h);
    return SEGSA_OK;
}

/*
 * segsa_logits_frame on the current device: every array argument is a device pointer, work is
 * enqueued on `stream` and the call returns without synchronising. The same predicted classes and
 * counts as the CPU pass; the uncertainty sums equal up to the order of the double atomics.
 */
SEGSA_API int segsa_cuda_logits_frame(const float* logits, int num_classes, int h, int w, int H, int W, int upsample_mode,
                                      void* workspace, size_t workspace_bytes, int32_t* predicted, int64_t* class_pixels,
                                      int64_t* non_finite_logits, double* uncertainty_sums, const float* features,
                                      int64_t feature_values, int64_t* non_finite_features, void* stream_ptr) {
    static const char* fn = "segsa_cuda_logits_frame";
    if (logits == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: logits is null", fn);
    if (num_classes <= 0 || num_classes > 65535)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: num_classes=%d, expected 1..65535", fn, num_classes);
    if (h <= 0 || w <= 0 || H <= 0 || W <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: sizes must be positive (h=%d, w=%d, H=%d, W=%d)", fn, h, w, H, W);
    if (static_cast<int64_t>(H) * W > INT32_MAX) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: frame too large (H=%d, W=%d)", fn, H, W);
    if (upsample_mode < 0 || upsample_mode > 2)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: upsample_mode=%d, expected 0, 1 or 2", fn, upsample_mode);
    if (predicted == nullptr || class_pixels == nullptr || non_finite_logits == nullptr)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: predicted, class_pixels or non_finite_logits is null", fn);
    if (features != nullptr && (feature_values < 0 || non_finite_features == nullptr))
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: features given without a count or an output", fn);
    int *rlo, *rhi, *clo, *chi;
    float *rwlo, *rwhi, *cwlo, *cwhi;
    size_t need = carve_logits_axes(nullptr, H, W, &rlo, &rhi, &rwlo, &rwhi, &clo, &chi, &cwlo, &cwhi);
    if (workspace == nullptr || workspace_bytes < need)
        return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes%s, need %zu (segsa_cuda_logits_workspace_bytes)",
                    fn, workspace_bytes, workspace == nullptr ? " (null)" : "", need);
    carve_logits_axes(align256(workspace), H, W, &rlo, &rhi, &rwlo, &rwhi, &clo, &chi, &cwlo, &cwhi);
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    const int C = num_classes;
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(class_pixels, 0, sizeof(int64_t) * C, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(non_finite_logits, 0, sizeof(int64_t), stream));
    if (uncertainty_sums) SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(uncertainty_sums, 0, sizeof(double) * 4 * C, stream));
    const bool full = h == H && w == W;
    if (!full) {
        logits_axis_kernel<<<(H + 127) / 128, 128, 0, stream>>>(upsample_mode, h, H, rlo, rhi, rwlo, rwhi);
        SEGSA_CUDA_CHECK(fn, cudaGetLastError());
        logits_axis_kernel<<<(W + 127) / 128, 128, 0, stream>>>(upsample_mode, w, W, clo, chi, cwlo, cwhi);
        SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    }
    const long long npix = static_cast<long long>(H) * W;
    const unsigned blocks = static_cast<unsigned>((npix + kLogitsThreads - 1) / kLogitsThreads);
    logits_kernel<<<blocks, kLogitsThreads, 0, stream>>>(logits, C, h, w, H, W, upsample_mode, LogitsAxis{rlo, rhi, rwlo, rwhi},
                                                        LogitsAxis{clo, chi, cwlo, cwhi}, predicted,
                                                        reinterpret_cast<unsigned long long*>(class_pixels),
                                                        reinterpret_cast<unsigned long long*>(non_finite_logits), uncertainty_sums);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    if (features != nullptr) {
        SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(non_finite_features, 0, sizeof(int64_t), stream));
        if (feature_values > 0) {
            long long want = (feature_values + 255) / 256;
            unsigned fb = static_cast<unsigned>(want < 1024 ? want : 1024);
            count_nonfinite_kernel<<<fb, 256, 0, stream>>>(features, feature_values,
                                                           reinterpret_cast<unsigned long long*>(non_finite_features));
            SEGSA_CUDA_CHECK(fn, cudaGetLastError());
        }
    }
    return SEGSA_OK;
}

}  // extern "C"
