// Internal helpers of libsegsa_cpu: error reporting, argument checks, axis interpolation,
// workspace carving. Not part of the ABI.
#pragma once

#include "segsa.h"

#include <cstdarg>
#include <cstddef>
#include <climits>
#include <cstdint>
#include <exception>

namespace segsa {

// Threads the kernels use (segsa_set_threads, else OpenMP's default).
int kernel_threads();


// Sets the thread-local error message (printf format) and returns code.
int fail(int code, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void clear_error();
int copy_string(const char* src, char* buf, size_t len, const char* function);

// Axis interpolation exactly as dev.segsa.features.AxisInterpolation.
struct Axis {
    int32_t* lo;
    int32_t* hi;
    double* wlo;
    double* whi;
};
void axis_init(int mode, int in, int out, Axis& a);

// Bump allocator over a caller workspace (or a null base for size queries), slices aligned to
// Align bytes. Shared by libsegsa_cpu (64) and libsegsa_cuda (256).
template <size_t Align>
class AlignedCarver {
    static_assert((Align & (Align - 1)) == 0, "Align must be a power of two");

public:
    explicit AlignedCarver(void* base) : base_(static_cast<unsigned char*>(base)) {}
    template <typename T>
    T* take(size_t count) {
        used_ = (used_ + Align - 1) & ~static_cast<size_t>(Align - 1);
        T* p = base_ ? reinterpret_cast<T*>(base_ + used_) : nullptr;
        used_ += count * sizeof(T);
        return p;
    }
    size_t used() const { return used_ + Align; }  // + slack for aligning an unaligned base

private:
    unsigned char* base_;
    size_t used_ = 0;
};

using Carver = AlignedCarver<64>;

// Aligns a workspace pointer up to Align bytes (AlignedCarver<Align>::used() reserves the slack).
template <size_t Align>
inline void* align_up(void* p) {
    uintptr_t u = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<void*>((u + Align - 1) & ~static_cast<uintptr_t>(Align - 1));
}

inline void* align64(void* p) { return align_up<64>(p); }

// The frame-argument checks of every frame kernel, CPU and CUDA alike (same messages); `fail`
// is the calling library's error setter.
using FailFunction = int (*)(int code, const char* fmt, ...);
inline int check_frame_shape(FailFunction fail, const char* fn, const float* features, int d, int h0, int w0, int H,
                             int W, int mode, const int32_t* per_pixel, int num_classes) {
    if (features == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: features is null", fn);
    if (d <= 0 || h0 <= 0 || w0 <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: feature shape [d=%d, h0=%d, w0=%d] must be positive", fn, d, h0, w0);
    if (H <= 0 || W <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: output size H=%d x W=%d must be positive", fn, H, W);
    if (static_cast<int64_t>(H) * W > INT32_MAX || static_cast<int64_t>(h0) * w0 > INT32_MAX / 16)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: frame too large (H=%d, W=%d, h0=%d, w0=%d)", fn, H, W, h0, w0);
    if (mode < 0 || mode > 2)
        return fail(SEGSA_ERR_INVALID_ARGUMENT,
                    "%s: upsample_mode=%d, expected 0 (bilinear), 1 (bilinear aligned) or 2 (nearest)", fn, mode);
    if (per_pixel == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: per-pixel class array is null", fn);
    if (num_classes <= 0) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: num_classes=%d must be positive", fn, num_classes);
    return SEGSA_OK;
}

int check_frame_args(const char* fn, const float* features, int d, int h0, int w0, int H, int W, int mode,
                     const int32_t* per_pixel, int num_classes);

// exp(x) for x <= 0, accurate to a few ulp; e^-708 below -708. Branch-free so that it vectorises
// (the LSA kernel's log-sum-exp and the logits pass's softmax).
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

#if defined(__CUDACC__)
#define SEGSA_HOST_DEVICE __host__ __device__
#else
#define SEGSA_HOST_DEVICE
#endif

// Turns one segment's accumulated row (segsa.h, segsa_segments_features) into its features, the
// same on the CPU (native/segments.cpp) and the device (cuda/segments.cu). On entry: [1] S (> 0),
// [2] S_in, [6] / [7] the sums of y and x, heat map k: [8+5k+1] interior and [8+5k+2] boundary
// sums, [8+5K+c] probability sums, [8+5K+C] I; known = the non-ignore pixels, uni = |R|.
SEGSA_HOST_DEVICE inline void finish_segment_row(double* r, int K, int C, bool with_probs, bool with_labels, double known,
                                                 double uni, double nan) {
    const int heat0 = 8, prob0 = 8 + 5 * K, iou = 8 + 5 * K + C;
    const double S = r[1], Sin = r[2], Sbd = S - Sin;
    const double rel = S / Sbd, rel_in = Sin / Sbd;
    r[3] = Sbd;
    r[4] = rel;
    r[5] = rel_in;
    r[6] /= S;
    r[7] /= S;
    for (int k = 0; k < K; k++) {
        double* h = r + heat0 + 5 * k;
        const double in = h[1], bd = h[2];
        const double e = (in + bd) / S, e_in = Sin > 0 ? in / Sin : 0.0, e_bd = bd / Sbd;
        h[0] = e;
        h[1] = e_in;
        h[2] = e_bd;
        h[3] = e * rel;
        h[4] = e_in * rel_in;
    }
    for (int cc = 0; cc < C; cc++) r[prob0 + cc] = with_probs ? r[prob0 + cc] / S : nan;
    if (!with_labels) {
        r[iou] = nan;
    } else {
        const double hit = r[iou];
        r[iou] = known == 0 ? nan : hit == 0 ? 0.0 : hit / (known + uni);
    }
}

size_t mdsa_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes);
size_t accumulate_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes);

}  // namespace segsa
