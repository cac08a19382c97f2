// libsegsa_cuda: the segments pass of native/segments.cpp on device pointers (segsa.h,
// segsa_cuda_segments_*).
//
// Labelling (segsa_cuda_segments_label): label equivalence with a union-find over pixel indices
// (Komura 2015; Playne & Hawick 2018): every pixel starts with a parent among its earlier
// 8-neighbours of the same class, preferably in the previous row (or itself); a flattening pass
// (path halving) shortens the chains; one thread per pixel then makes the at most one further
// union its neighbourhood needs (uf_init_kernel's edge set spans the 8-connectivity), the union
// keeping the smaller index as the root (atomicMin); after a second flattening every pixel points
// at the smallest raster index of its segment, its first pixel. Roots are numbered in raster order
// by an exclusive prefix sum of the root flags (own tiled scan, no CUB), so the ids equal the CPU's
// exactly. The count (and the first invalid pixel, if any) comes back to the host: that call
// synchronises the stream.
//
// Features (segsa_cuda_segments_features), no synchronisation: one thread per pixel; within a
// warp, runs of consecutive lanes with the same segment are reduced by a segmented shuffle sum and
// their head lane adds each column with one double atomic into the zeroed output row (sizes,
// coordinates, counts: integers, exact; heat-map and probability sums: equal to the CPU's up to
// rounding, and the order of the atomics varies from run to run). IoU_adj: the set A = {label in
// [0, C), label != predicted} is labelled by the same union-find (equal labels, 8-connected; the
// component id is its root's pixel index), component sizes by warp-aggregated atomics, then each A
// pixel offers the (component, segment) pairs of the class-label segments in its 3x3 window to a
// hash set (open addressing over 64-bit keys); the first insertion of a pair adds the component's
// size to the segment's |R| (held in the row's S/S_bd slot until the last kernel). Ids are not
// validated on the host (that would need a round trip): an invalid pixel makes every row NaN
// (see segsa.h).
#include "segsa.h"
#include "segsa_internal.hpp"

#include <cuda_runtime.h>
#include <math_constants.h>

#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>

// The library's thread-local error message (segsa_cuda_last_error) lives in segsa_cuda.cu. It is
// reached through this hook once segsa_cuda.cu defines it; until then (weak, unresolved: null) the
// message is kept in a buffer of this file and only the status code reaches the caller.
namespace segsa_cuda_internal {
int vset_error(int code, const char* fmt, va_list ap) __attribute__((weak));
}

namespace {

thread_local char g_segments_error[1024];

__attribute__((format(printf, 2, 3))) int fail(int code, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (segsa_cuda_internal::vset_error != nullptr) {
        segsa_cuda_internal::vset_error(code, fmt, ap);
    } else {
        std::vsnprintf(g_segments_error, sizeof g_segments_error, fmt, ap);
    }
    va_end(ap);
    return code;
}

int cuda_fail(cudaError_t err, const char* fn, const char* call, const char* file, int line) {
    return fail(err == cudaErrorMemoryAllocation ? SEGSA_ERR_OUT_OF_MEMORY : SEGSA_ERR_CUDA,
                "%s: %s failed: %s (%s, cudaError %d) at %s:%d", fn, call, cudaGetErrorString(err), cudaGetErrorName(err),
                static_cast<int>(err), file, line);
}

#define SEGSA_SEG_CUDA_CHECK(fn, call)                                                              \
    do {                                                                                            \
        cudaError_t segsa_err_ = (call);                                                            \
        if (segsa_err_ != cudaSuccess) return cuda_fail(segsa_err_, fn, #call, __FILE__, __LINE__); \
    } while (0)

using DevCarver = segsa::AlignedCarver<256>;

constexpr int kThreads = 256;      // pixel kernels; a multiple of 32 (the warp reductions need whole warps)
constexpr int kScanThreads = 256;  // prefix sum: kScanPer consecutive items per thread
constexpr int kScanPer = 8;
constexpr int kScanTile = kScanThreads * kScanPer;
constexpr int kScanLevels = 4;     // tiles of 2048: 2^31 items need 3 levels of tile sums
constexpr unsigned kFull = 0xffffffffu;
constexpr unsigned long long kEmpty = ~0ull;  // hash slot: no key (keys have a < 2^31 in the high half)

// Workspace, carved from the caller's block (256-byte slices). comp doubles as the rank array of
// the labelling (rank of each root in raster order) and the union-find of the truth components A.
struct SegCudaWs {
    unsigned* misc;       // [4] 0: first invalid pixel (label), 1: segment count (label), 2: invalid-input flag (features)
    int32_t* comp;        // [HW] label: exclusive prefix sum of the root flags; features: union-find over A
    int32_t* levels[kScanLevels];  // tile sums of the prefix sum, level by level
    int32_t* csize;       // [HW] size of each A component, at its root's index
    int32_t* cls;         // [HW] class of each segment (-1: not seen yet)
    unsigned long long* table;  // [cap] hash set of (A component, segment) pairs
    unsigned long long cap;
};

size_t carve_segments(unsigned char* base, SegCudaWs& w, int H, int W) {
    DevCarver cv(base);
    const size_t hw = static_cast<size_t>(H) * static_cast<size_t>(W);
    w.misc = cv.take<unsigned>(4);
    w.comp = cv.take<int32_t>(hw);
    size_t n = hw;
    for (int l = 0; l < kScanLevels; l++) {
        n = (n + kScanTile - 1) / kScanTile;
        w.levels[l] = cv.take<int32_t>(n);
    }
    w.csize = cv.take<int32_t>(hw);
    w.cls = cv.take<int32_t>(hw);
    // An A pixel offers at most 4 distinct segments (the class-c pixels of its 8-ring form at most 4
    // runs, each within one segment), so there are at most 4 * HW distinct pairs: with one slot more,
    // linear probing always ends.
    w.cap = 4ull * hw + 1;
    w.table = cv.take<unsigned long long>(w.cap);
    return cv.used();
}

unsigned char* align256(void* p) { return static_cast<unsigned char*>(segsa::align_up<256>(p)); }

unsigned grid_pixels(long long npix) { return static_cast<unsigned>((npix + kThreads - 1) / kThreads); }

// ---------------------------------------------------------------- union-find over pixel indices

// The root of x: follow parents (always to smaller indices) through L2, where the atomics of other
// threads land; a stale parent is still an ancestor, so the walk is correct in any case.
__device__ __forceinline__ int uf_find(const int32_t* L, int x) {
    int y;
    while ((y = __ldcg(L + x)) != x) x = y;
    return x;
}

// Unites the sets of a and b; the root of the union is the smaller root (Playne & Hawick).
__device__ __forceinline__ void uf_union(int32_t* L, int a, int b) {
    bool done;
    do {
        a = uf_find(L, a);
        b = uf_find(L, b);
        if (a < b) {
            const int old = atomicMin(L + b, a);
            done = old == b;
            b = old;
        } else if (b < a) {
            const int old = atomicMin(L + a, b);
            done = old == a;
            a = old;
        } else {
            done = true;
        }
    } while (!done);
}

// Value of a pixel for the segments: its predicted class, -1 when outside [0, C) (own set).
struct PredVal {
    const int32_t* pred;
    int C;
    __device__ __forceinline__ int operator()(long long p) const {
        const int v = pred[p];
        return static_cast<unsigned>(v) < static_cast<unsigned>(C) ? v : -1;
    }
};

// Value of a pixel for the truth components A: its label where the label is in [0, C) and differs
// from the prediction, else -1 (not in A).
struct TruthVal {
    const int32_t* labels;
    const int32_t* pred;
    int C;
    __device__ __forceinline__ int operator()(long long p) const {
        const int l = labels[p];
        return static_cast<unsigned>(l) < static_cast<unsigned>(C) && l != pred[p] ? l : -1;
    }
};

// The 8-connectivity of the pixels with equal value >= 0, one edge set that spans it (by
// induction over the raster: two adjacent earlier pixels are already connected), at most one
// union per pixel beyond the initial parent:
//   N equal:      parent N (NW and NE are N's row neighbours); W too when NW is not equal
//                 (else W is joined through NW);
//   N not equal:  NW or else W (adjacent to each other), and NE (adjacent to neither).
// The initial parent is in the previous row where possible, so that the chains leave a block at
// once. Pixels with value < 0 are their own root; with bad != null, the smallest such index is
// recorded there (invalid predicted class).
template <class Val>
__global__ void uf_init_kernel(Val val, int H, int W, int32_t* L, unsigned* bad) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= static_cast<long long>(H) * W) return;
    const int v = val(p);
    long long parent = p;
    if (v < 0) {
        if (bad != nullptr) atomicMin(bad, static_cast<unsigned>(p));
    } else {
        const int y = static_cast<int>(p / W), x = static_cast<int>(p - static_cast<long long>(y) * W);
        const long long q = p - W;
        const bool w = x > 0 && val(p - 1) == v;
        if (y > 0 && val(q) == v) parent = q;
        else if (y > 0 && x > 0 && val(q - 1) == v) parent = q - 1;
        else if (w) parent = p - 1;
        else if (y > 0 && x + 1 < W && val(q + 1) == v) parent = q + 1;
    }
    L[p] = static_cast<int32_t>(parent);
}

// The union of uf_init_kernel's edge set beyond the initial parent (at most one per pixel).
template <class Val>
__global__ void uf_merge_kernel(Val val, int H, int W, int32_t* L) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= static_cast<long long>(H) * W) return;
    const int y = static_cast<int>(p / W), x = static_cast<int>(p - static_cast<long long>(y) * W);
    if (y == 0) return;
    const int v = val(p);
    if (v < 0) return;
    const long long q = p - W;
    const bool w = x > 0 && val(p - 1) == v;
    const bool nw = x > 0 && val(q - 1) == v;
    if (val(q) == v) {
        if (w && !nw) uf_union(L, static_cast<int>(p), static_cast<int>(p - 1));
    } else if ((w || nw) && x + 1 < W && val(q + 1) == v) {
        uf_union(L, static_cast<int>(p), static_cast<int>(q + 1));
    }
}

// Every pixel points at its root (the smallest index of its set). Path halving: a thread also
// shortens the chain for the others (any ancestor is a valid parent; no union runs meanwhile).
__global__ void uf_flatten_kernel(int32_t* L, long long n) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= n) return;
    int x = static_cast<int>(p);
    for (;;) {
        const int y = __ldcg(L + x);  // parent
        if (y == x) break;
        const int g = __ldcg(L + y);  // grandparent (== y when y is the root)
        if (g != y) L[x] = g;
        x = g;
    }
    L[p] = x;
}

// ---------------------------------------------------------------- exclusive prefix sum

// Exclusive sum within tiles of kScanTile items, tile totals to tile_sums[tile]. Roots = true: the
// items are the root flags (in[i] == i) of a flattened union-find. in == out is allowed (each
// thread reads its items before it writes them).
template <bool Roots>
__global__ void scan_tile_kernel(const int32_t* in, int32_t* out, int32_t* tile_sums, long long n) {
    __shared__ int warp_sums[kScanThreads / 32];
    const long long base = blockIdx.x * static_cast<long long>(kScanTile) + threadIdx.x * static_cast<long long>(kScanPer);
    int v[kScanPer];
    int t = 0;
#pragma unroll
    for (int i = 0; i < kScanPer; i++) {
        const long long idx = base + i;
        int x = 0;
        if (idx < n) x = Roots ? (in[idx] == idx ? 1 : 0) : in[idx];
        v[i] = t;
        t += x;
    }
    const int lane = static_cast<int>(threadIdx.x & 31u), warp = static_cast<int>(threadIdx.x >> 5);
    int incl = t;
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
        const int y = __shfl_up_sync(kFull, incl, off);
        if (lane >= off) incl += y;
    }
    if (lane == 31) warp_sums[warp] = incl;
    __syncthreads();
    if (warp == 0) {
        int s = lane < kScanThreads / 32 ? warp_sums[lane] : 0;
#pragma unroll
        for (int off = 1; off < 32; off <<= 1) {
            const int y = __shfl_up_sync(kFull, s, off);
            if (lane >= off) s += y;
        }
        if (lane < kScanThreads / 32) warp_sums[lane] = s;  // inclusive over warps
    }
    __syncthreads();
    const int warp_off = warp > 0 ? warp_sums[warp - 1] : 0;
    const int off = warp_off + incl - t;
#pragma unroll
    for (int i = 0; i < kScanPer; i++) {
        const long long idx = base + i;
        if (idx < n) out[idx] = v[i] + off;
    }
    if (threadIdx.x == kScanThreads - 1) tile_sums[blockIdx.x] = warp_off + incl;
}

// out[i] += tile_offsets[i / kScanTile] (the scanned tile sums).
__global__ void scan_add_kernel(int32_t* out, const int32_t* tile_offsets, long long n) {
    const long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    out[i] += tile_offsets[i / kScanTile];
}

int exclusive_scan(const char* fn, bool roots, const int32_t* in, int32_t* out, long long n, int32_t* const* levels,
                   int depth, cudaStream_t stream) {
    if (depth >= kScanLevels) return fail(SEGSA_ERR_INTERNAL, "%s: prefix sum of %lld items too deep", fn, n);
    const long long tiles = (n + kScanTile - 1) / kScanTile;
    if (roots) scan_tile_kernel<true><<<static_cast<unsigned>(tiles), kScanThreads, 0, stream>>>(in, out, levels[0], n);
    else scan_tile_kernel<false><<<static_cast<unsigned>(tiles), kScanThreads, 0, stream>>>(in, out, levels[0], n);
    SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    if (tiles > 1) {
        if (int st = exclusive_scan(fn, false, levels[0], levels[0], tiles, levels + 1, depth + 1, stream)) return st;
        scan_add_kernel<<<grid_pixels(n), kThreads, 0, stream>>>(out, levels[0], n);
        SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    }
    return SEGSA_OK;
}

// misc[1] = number of roots = rank[n-1] + (L[n-1] is a root).
__global__ void count_kernel(const int32_t* L, const int32_t* rank, long long n, unsigned* misc) {
    if (blockIdx.x == 0 && threadIdx.x == 0) misc[1] = static_cast<unsigned>(rank[n - 1] + (L[n - 1] == n - 1 ? 1 : 0));
}

// ids[p] = rank of its root (ids holds the flattened union-find on entry).
__global__ void relabel_kernel(int32_t* ids, const int32_t* rank, long long n) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= n) return;
    ids[p] = rank[ids[p]];
}

// ---------------------------------------------------------------- features

// Sum of v over the lanes lane..tail of one run (consecutive lanes with the same segment); valid
// in the run's head lane. Every lane of the warp calls it.
__device__ __forceinline__ double run_sum(double v, int lane, int tail) {
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
        const double t = __shfl_down_sync(kFull, v, off);
        if (lane + off <= tail) v += t;
    }
    return v;
}

// The per-pixel pass into the zeroed rows (the CPU's accumulators): [1] S, [2] S_in, [3] pixels
// with a label in [0, C), [6] sum y, [7] sum x, heat map k: [8+5k+1] interior sum, [8+5k+2]
// boundary sum, [prob0+c] probability sums, [iou] pixels whose label is the predicted class; the
// class of each segment goes to cls. A pixel whose id or class is invalid, or whose class differs
// from its segment's, sets *flag.
__global__ void accumulate_kernel(const int32_t* pred, const int32_t* ids, int count, int H, int W, int C,
                                  const float* heat, int K, const float* probs, const int32_t* labels, int F, double* out,
                                  int32_t* cls, unsigned* flag) {
    const long long hw = static_cast<long long>(H) * W;
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    const bool valid = p < hw;
    int s = -1, c = -1;
    if (valid) {
        s = ids[p];
        c = pred[p];
        if (static_cast<unsigned>(s) >= static_cast<unsigned>(count) || static_cast<unsigned>(c) >= static_cast<unsigned>(C)) {
            *flag = 1u;
            s = -1;
        }
    }
    const int lane = static_cast<int>(threadIdx.x & 31u);
    const int prev = __shfl_up_sync(kFull, s, 1);
    const bool head = lane == 0 || prev != s;
    const unsigned heads = __ballot_sync(kFull, head);
    const unsigned later = heads & ~((2u << lane) - 1u);  // heads after this lane (lane 31: 2u << 31 == 0)
    const int tail = later ? __ffs(later) - 2 : 31;
    const int head_lane = 31 - __clz(heads & ((2u << lane) - 1u));
    const int head_class = __shfl_sync(kFull, c, head_lane);
    if (s >= 0 && c != head_class) *flag = 1u;
    const bool leader = head && s >= 0;
    if (leader) {
        const int old = atomicCAS(cls + s, -1, c);
        if (old != -1 && old != c) *flag = 1u;
    }
    double* r = leader ? out + static_cast<long long>(s) * F : nullptr;
    const bool in_seg = s >= 0;
    int y = 0, x = 0;
    if (valid) {
        y = static_cast<int>(p / W);
        x = static_cast<int>(p - static_cast<long long>(y) * W);
    }
    bool inner = false;
    if (in_seg && y > 0 && y < H - 1 && x > 0 && x < W - 1) {
        const int32_t* up = pred + p - W;
        const int32_t* dn = pred + p + W;
        inner = up[-1] == c && up[0] == c && up[1] == c && pred[p - 1] == c && pred[p + 1] == c && dn[-1] == c &&
                dn[0] == c && dn[1] == c;
    }
    auto add = [&](double v, int col) {
        const double t = run_sum(v, lane, tail);
        if (leader && t != 0) atomicAdd(r + col, t);
    };
    add(in_seg ? 1.0 : 0.0, 1);
    add(inner ? 1.0 : 0.0, 2);
    add(in_seg ? static_cast<double>(y) : 0.0, 6);
    add(in_seg ? static_cast<double>(x) : 0.0, 7);
    for (int k = 0; k < K; k++) {
        const double h = in_seg ? static_cast<double>(heat[static_cast<long long>(k) * hw + p]) : 0.0;
        add(inner ? h : 0.0, 8 + 5 * k + 1);
        add(inner ? 0.0 : h, 8 + 5 * k + 2);
    }
    const int prob0 = 8 + 5 * K, iou = 8 + 5 * K + C;
    if (probs != nullptr) {
        for (int cc = 0; cc < C; cc++)
            add(in_seg ? static_cast<double>(probs[static_cast<long long>(cc) * hw + p]) : 0.0, prob0 + cc);
    }
    if (labels != nullptr) {
        const int l = in_seg ? labels[p] : -1;
        add(in_seg && l == c ? 1.0 : 0.0, iou);
        add(in_seg && static_cast<unsigned>(l) < static_cast<unsigned>(C) ? 1.0 : 0.0, 3);
    }
}

// csize[root] += pixels of each A component (warp-aggregated). csize zeroed before.
__global__ void truth_size_kernel(TruthVal val, const int32_t* comp, long long hw, int32_t* csize) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    const int key = p < hw && val(p) >= 0 ? comp[p] : -1;
    const unsigned peers = __match_any_sync(kFull, key);
    const int lane = static_cast<int>(threadIdx.x & 31u);
    if (key >= 0 && lane == __ffs(peers) - 1) atomicAdd(csize + key, __popc(peers));
}

__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Each A pixel (label c, component a) offers the pairs (a, s) of the class-c segments s in its 3x3
// window; the first insertion of a pair into the hash set adds |a| to the segment's |R| (column
// col of its row). With the left pixel in the same component (in A with the same label), the
// columns x-1 and x of the window are the left pixel's too: only column x+1 is offered.
__global__ void truth_pairs_kernel(TruthVal val, const int32_t* comp, const int32_t* csize, const int32_t* pred,
                                   const int32_t* ids, int count, int H, int W, int F, int col, unsigned long long* table,
                                   unsigned long long cap, double* out, unsigned* flag) {
    const long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= static_cast<long long>(H) * W) return;
    const int c = val(p);
    if (c < 0) return;
    const int a = comp[p];
    const double size = static_cast<double>(csize[a]);
    const int y = static_cast<int>(p / W), x = static_cast<int>(p - static_cast<long long>(y) * W);
    const bool left_same = x > 0 && val(p - 1) == c;
    int seen[8];
    int nseen = 0;
    for (int yy = y > 0 ? y - 1 : 0; yy <= y + 1 && yy < H; yy++) {
        for (int xx = left_same ? x + 1 : (x > 0 ? x - 1 : 0); xx <= x + 1 && xx < W; xx++) {
            const long long q = static_cast<long long>(yy) * W + xx;
            if (pred[q] != c) continue;
            const int s = ids[q];
            if (static_cast<unsigned>(s) >= static_cast<unsigned>(count)) continue;  // flagged by accumulate_kernel
            bool dup = false;
            for (int i = 0; i < nseen; i++) dup |= seen[i] == s;
            if (dup) continue;
            seen[nseen++] = s;
            const unsigned long long key = (static_cast<unsigned long long>(a) << 32) | static_cast<unsigned>(s);
            unsigned long long slot = __umul64hi(mix64(key), cap);
            for (unsigned long long probe = 0;; probe++) {
                if (probe >= cap) {  // full: only with ids that are not the components of pred
                    *flag = 1u;
                    break;
                }
                const unsigned long long old = atomicCAS(table + slot, kEmpty, key);
                if (old == kEmpty) {
                    atomicAdd(out + static_cast<long long>(s) * F + col, size);
                    break;
                }
                if (old == key) break;
                slot = slot + 1 == cap ? 0 : slot + 1;
            }
        }
    }
}

// The rows from the accumulators, as the CPU's last loop; |R| in [4]. Every row NaN when *flag
// (invalid input); a segment without pixels gets a NaN row.
__global__ void finalize_kernel(int count, int K, int C, int F, bool with_probs, bool with_labels, const int32_t* cls,
                                const unsigned* flag, double* out) {
    const long long s = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (s >= count) return;
    double* r = out + s * F;
    const double nan = CUDART_NAN;
    const double S = r[1];
    if (*flag != 0u || S == 0) {
        for (int i = 0; i < F; i++) r[i] = nan;
        return;
    }
    const double known = r[3], uni = r[4];
    r[0] = cls[s];
    segsa::finish_segment_row(r, K, C, with_probs, with_labels, known, uni, nan);
}

int check_shape(const char* fn, int H, int W, int num_classes) {
    if (H <= 0 || W <= 0) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: frame size H=%d x W=%d must be positive", fn, H, W);
    if (static_cast<int64_t>(H) * W >= INT32_MAX)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: frame too large (H=%d, W=%d)", fn, H, W);
    if (num_classes <= 0) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: num_classes=%d must be positive", fn, num_classes);
    return SEGSA_OK;
}

int check_workspace(const char* fn, void* workspace, size_t workspace_bytes, int H, int W, SegCudaWs& w) {
    const size_t need = carve_segments(nullptr, w, H, W);
    if (workspace == nullptr || workspace_bytes < need)
        return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes%s, need %zu (segsa_cuda_segments_workspace_bytes)",
                    fn, workspace_bytes, workspace == nullptr ? " (null)" : "", need);
    carve_segments(align256(workspace), w, H, W);
    return SEGSA_OK;
}

}  // namespace

extern "C" {

SEGSA_API int segsa_cuda_segments_workspace_bytes(int H, int W, int num_classes, size_t* bytes) {
    static const char* fn = "segsa_cuda_segments_workspace_bytes";
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: bytes is null", fn);
    if (int st = check_shape(fn, H, W, num_classes)) return st;
    SegCudaWs w;
    *bytes = carve_segments(nullptr, w, H, W);
    return SEGSA_OK;
}

SEGSA_API int segsa_cuda_segments_label(const int32_t* predicted, int H, int W, int num_classes, void* workspace,
                                        size_t workspace_bytes, int32_t* segment_ids, int32_t* segment_count_host,
                                        void* stream_ptr) {
    static const char* fn = "segsa_cuda_segments_label";
    if (predicted == nullptr || segment_ids == nullptr || segment_count_host == nullptr)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: predicted, segment_ids or segment_count_host is null", fn);
    if (int st = check_shape(fn, H, W, num_classes)) return st;
    SegCudaWs w;
    if (int st = check_workspace(fn, workspace, workspace_bytes, H, W, w)) return st;
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    const long long hw = static_cast<long long>(H) * W;
    const unsigned blocks = grid_pixels(hw);
    const PredVal val{predicted, num_classes};
    int32_t* L = segment_ids;  // the union-find runs in the output, relabelled in place at the end
    SEGSA_SEG_CUDA_CHECK(fn, cudaMemsetAsync(w.misc, 0xff, sizeof(unsigned) * 2, stream));
    uf_init_kernel<<<blocks, kThreads, 0, stream>>>(val, H, W, L, w.misc);
    SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    uf_flatten_kernel<<<blocks, kThreads, 0, stream>>>(L, hw);  // short chains for the unions' finds
    SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    uf_merge_kernel<<<blocks, kThreads, 0, stream>>>(val, H, W, L);
    SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    uf_flatten_kernel<<<blocks, kThreads, 0, stream>>>(L, hw);
    SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    if (int st = exclusive_scan(fn, true, L, w.comp, hw, w.levels, 0, stream)) return st;
    count_kernel<<<1, 32, 0, stream>>>(L, w.comp, hw, w.misc);
    SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    relabel_kernel<<<blocks, kThreads, 0, stream>>>(segment_ids, w.comp, hw);
    SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    unsigned host[2];
    SEGSA_SEG_CUDA_CHECK(fn, cudaMemcpyAsync(host, w.misc, sizeof host, cudaMemcpyDeviceToHost, stream));
    SEGSA_SEG_CUDA_CHECK(fn, cudaStreamSynchronize(stream));
    if (host[0] != ~0u) {
        const long long bad = host[0];
        int32_t v = 0;
        SEGSA_SEG_CUDA_CHECK(fn, cudaMemcpy(&v, predicted + bad, sizeof v, cudaMemcpyDeviceToHost));
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: pixel %lld (row %lld, column %lld) has predicted class %d, outside [0, %d)",
                    fn, bad, bad / W, bad % W, v, num_classes);
    }
    if (host[1] < 1u || host[1] > static_cast<unsigned long long>(hw))
        return fail(SEGSA_ERR_INTERNAL, "%s: %u segments in a frame of %lld pixels", fn, host[1], hw);
    *segment_count_host = static_cast<int32_t>(host[1]);
    return SEGSA_OK;
}

SEGSA_API int segsa_cuda_segments_features(const int32_t* predicted, const int32_t* segment_ids, int32_t segment_count, int H,
                                           int W, int num_classes, const float* heat_maps, int K,
                                           const float* probabilities_or_null, const int32_t* labels_or_null, void* workspace,
                                           size_t workspace_bytes, double* out, int64_t out_rows_capacity, void* stream_ptr) {
    static const char* fn = "segsa_cuda_segments_features";
    if (predicted == nullptr || segment_ids == nullptr || out == nullptr)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: predicted, segment_ids or out is null", fn);
    if (int st = check_shape(fn, H, W, num_classes)) return st;
    if (K < 0) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: K=%d heat maps, must be >= 0", fn, K);
    if (K > 0 && heat_maps == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: heat_maps is null with K=%d", fn, K);
    const long long hw = static_cast<long long>(H) * W;
    if (segment_count <= 0 || segment_count > hw)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: segment_count=%d, expected 1 .. H*W=%lld", fn, segment_count, hw);
    if (out_rows_capacity < segment_count)
        return fail(SEGSA_ERR_BUFFER_TOO_SMALL, "%s: out holds %lld rows, %d segments", fn,
                    static_cast<long long>(out_rows_capacity), segment_count);
    const int C = num_classes;
    const long long F64 = SEGSA_SEGMENT_COLUMNS(static_cast<long long>(K), static_cast<long long>(C));
    if (F64 > INT32_MAX / 2) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: too many columns (K=%d, num_classes=%d)", fn, K, C);
    const int F = static_cast<int>(F64);
    SegCudaWs w;
    if (int st = check_workspace(fn, workspace, workspace_bytes, H, W, w)) return st;
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    const unsigned blocks = grid_pixels(hw);
    const bool with_labels = labels_or_null != nullptr;
    unsigned* flag = w.misc + 2;

    SEGSA_SEG_CUDA_CHECK(fn, cudaMemsetAsync(out, 0, sizeof(double) * static_cast<size_t>(segment_count) * F, stream));
    SEGSA_SEG_CUDA_CHECK(fn, cudaMemsetAsync(w.cls, 0xff, sizeof(int32_t) * static_cast<size_t>(segment_count), stream));
    SEGSA_SEG_CUDA_CHECK(fn, cudaMemsetAsync(flag, 0, sizeof(unsigned), stream));
    accumulate_kernel<<<blocks, kThreads, 0, stream>>>(predicted, segment_ids, segment_count, H, W, C, heat_maps, K,
                                                       probabilities_or_null, labels_or_null, F, out, w.cls, flag);
    SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());

    if (with_labels) {
        // R: components of A (8-connected, equal labels), each added once to the |R| of every
        // segment of its class that it touches.
        const TruthVal val{labels_or_null, predicted, C};
        SEGSA_SEG_CUDA_CHECK(fn, cudaMemsetAsync(w.csize, 0, sizeof(int32_t) * static_cast<size_t>(hw), stream));
        SEGSA_SEG_CUDA_CHECK(fn, cudaMemsetAsync(w.table, 0xff, sizeof(unsigned long long) * w.cap, stream));
        uf_init_kernel<<<blocks, kThreads, 0, stream>>>(val, H, W, w.comp, nullptr);
        SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
        uf_flatten_kernel<<<blocks, kThreads, 0, stream>>>(w.comp, hw);
        SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
        uf_merge_kernel<<<blocks, kThreads, 0, stream>>>(val, H, W, w.comp);
        SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
        uf_flatten_kernel<<<blocks, kThreads, 0, stream>>>(w.comp, hw);
        SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
        truth_size_kernel<<<blocks, kThreads, 0, stream>>>(val, w.comp, hw, w.csize);
        SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
        truth_pairs_kernel<<<blocks, kThreads, 0, stream>>>(val, w.comp, w.csize, predicted, segment_ids, segment_count, H, W, F,
                                                            4, w.table, w.cap, out, flag);
        SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    }
    finalize_kernel<<<static_cast<unsigned>((segment_count + 127) / 128), 128, 0, stream>>>(
        segment_count, K, C, F, probabilities_or_null != nullptr, with_labels, w.cls, flag, out);
    SEGSA_SEG_CUDA_CHECK(fn, cudaGetLastError());
    return SEGSA_OK;
}

}  // extern "C"
