#include <atomic>
// Errors, version, ISA, workspace size and axis interpolation for libsegsa_cpu.
#include "segsa_internal.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace segsa {

static thread_local char g_error[1024];

int fail(int code, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(g_error, sizeof g_error, fmt, ap);
    va_end(ap);
    return code;
}

void clear_error() { g_error[0] = '\0'; }

int copy_string(const char* src, char* buf, size_t len, const char* function) {
    if (buf == nullptr || len == 0) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: buf is null or len is 0", function);
    size_t n = std::strlen(src);
    if (n + 1 > len) {
        std::memcpy(buf, src, len - 1);
        buf[len - 1] = '\0';
        return fail(SEGSA_ERR_BUFFER_TOO_SMALL, "%s: buffer of %zu bytes too small for %zu", function, len, n + 1);
    }
    std::memcpy(buf, src, n + 1);
    return SEGSA_OK;
}

void axis_init(int mode, int in, int out, Axis& a) {
    if (mode == 2) {
        // aten/src/ATen/native/UpSample.h nearest_idx, float32 scale
        float scale = static_cast<float>(in) / static_cast<float>(out);
        for (int i = 0; i < out; i++) {
            int idx;
            if (out == in) idx = i;
            else if (out == 2 * in) idx = i >> 1;
            else {
                volatile float prod = static_cast<float>(i) * scale;  // float32 product, as Java
                int f = static_cast<int>(std::floor(static_cast<float>(prod)));
                idx = f < in - 1 ? f : in - 1;
            }
            a.lo[i] = idx;
            a.hi[i] = idx;
            a.wlo[i] = 1.0;
            a.whi[i] = 0.0;
        }
        return;
    }
    bool aligned = mode == 1;
    double scale = aligned ? (out > 1 ? static_cast<double>(in - 1) / (out - 1) : 0.0)
                           : static_cast<double>(in) / out;
    for (int i = 0; i < out; i++) {
        double src = aligned ? scale * i : scale * (i + 0.5) - 0.5;  // this file: -ffp-contract=off
        if (src < 0) src = 0;
        int i0 = static_cast<int>(src);
        if (i0 > in - 1) i0 = in - 1;
        int i1 = i0 < in - 1 ? i0 + 1 : i0;
        double l1 = src - i0;
        if (i1 == i0) l1 = 0.0;
        a.lo[i] = i0;
        a.hi[i] = i1;
        a.wlo[i] = 1.0 - l1;
        a.whi[i] = l1;
    }
}

int check_frame_args(const char* fn, const float* features, int d, int h0, int w0, int H, int W, int mode,
                     const int32_t* per_pixel, int num_classes) {
    return check_frame_shape(&fail, fn, features, d, h0, w0, H, W, mode, per_pixel, num_classes);
}

}  // namespace segsa

namespace segsa {
std::atomic<int> g_threads{0};

int kernel_threads() {
    int n = g_threads.load(std::memory_order_relaxed);
#ifdef _OPENMP
    return n > 0 ? n : omp_get_max_threads();
#else
    (void) n;
    return 1;
#endif
}
}  // namespace segsa

using namespace segsa;

extern "C" {

SEGSA_API int segsa_last_error(char* buf, size_t len) {
    if (buf == nullptr || len == 0) return SEGSA_ERR_INVALID_ARGUMENT;
    size_t n = std::strlen(g_error);
    if (n + 1 > len) n = len - 1;
    std::memcpy(buf, g_error, n);
    buf[n] = '\0';
    return SEGSA_OK;
}

SEGSA_API int segsa_version(int* major, int* minor, int* patch) {
    if (major == nullptr || minor == nullptr || patch == nullptr)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_version: null out-parameter");
    *major = SEGSA_VERSION_MAJOR;
    *minor = SEGSA_VERSION_MINOR;
    *patch = SEGSA_VERSION_PATCH;
    return SEGSA_OK;
}

SEGSA_API int segsa_cpu_isa(char* buf, size_t len) {
    __builtin_cpu_init();
    const char* isa = "scalar";
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq"))
        isa = "avx512";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        isa = "avx2";
    return copy_string(isa, buf, len, "segsa_cpu_isa");
}



SEGSA_API int segsa_max_threads(int* threads) {
    if (threads == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_max_threads: threads is null");
    *threads = segsa::kernel_threads();
    return SEGSA_OK;
}

SEGSA_API int segsa_set_threads(int threads) {
    if (threads < 0 || threads > 4096) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_set_threads: threads %d is outside 0..4096", threads);
    segsa::g_threads.store(threads, std::memory_order_relaxed);
    return SEGSA_OK;
}

SEGSA_API int segsa_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes, size_t* bytes) {
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_workspace_bytes: bytes is null");
    if (d <= 0 || h0 <= 0 || w0 <= 0 || H <= 0 || W <= 0 || num_classes <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT,
                    "segsa_workspace_bytes: sizes must be positive (d=%d, h0=%d, w0=%d, H=%d, W=%d, num_classes=%d)",
                    d, h0, w0, H, W, num_classes);
    size_t a = mdsa_workspace_bytes(d, h0, w0, H, W, num_classes);
    size_t b = accumulate_workspace_bytes(d, h0, w0, H, W, num_classes);
    *bytes = a > b ? a : b;
    return SEGSA_OK;
}

}  // extern "C"
