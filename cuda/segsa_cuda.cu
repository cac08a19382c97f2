// libsegsa_cuda: device count and the MDSA frame kernel on device pointers (see native/segsa.h).
// Straightforward version: whiten every cell for every class that has a model and appears in the
// frame (low resolution), then one thread per output pixel evaluates || sum_k w_k z_k ||.
#include "segsa.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace {

thread_local char g_error[1024];

int fail(int code, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(g_error, sizeof g_error, fmt, ap);
    va_end(ap);
    return code;
}

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

// Marks the classes present among scored pixels.
__global__ void presence_kernel(const int32_t* predicted, long long npix, int C, const int32_t* active_count,
                                int* present) {
    long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= npix) return;
    int c = predicted[p];
    if (c >= 0 && c < C && active_count[c] > 0 && present[c] == 0) present[c] = 1;
}

// z[c][cell][0..k) = L_c^-1 (f[active][cell] - mu_c) for present classes. One thread per (cell, class).
__global__ void whiten_kernel(const float* features, int d, int cells, int C, segsa_mdsa_models m, const int* present,
                              double* z) {
    int cell = blockIdx.x * blockDim.x + threadIdx.x;
    int c = blockIdx.y;
    if (cell >= cells || c >= C || !present[c]) return;
    int k = m.active_count[c];
    const int32_t* act = m.active_index + m.offset[c];
    const double* mu = m.mean + m.offset[c];
    const double* L = m.chol + m.chol_offset[c];
    double* zc = z + (static_cast<size_t>(c) * cells + cell) * d;
    for (int i = 0; i < k; i++) {
        double s = static_cast<double>(features[static_cast<size_t>(act[i]) * cells + cell]) - mu[i];
        const double* row = L + static_cast<size_t>(i) * k;
        for (int j = 0; j < i; j++) s -= row[j] * zc[j];
        zc[i] = s / row[i];
    }
}

__global__ void pixel_kernel(int d, int w0, int cells, int H, int W, const int* rlo, const int* rhi, const double* rwlo,
                             const double* rwhi, const int* clo, const int* chi, const double* cwlo, const double* cwhi,
                             const int32_t* predicted, int C, const int32_t* active_count, const double* z,
                             float* sa_map, unsigned long long* class_pixels, double* class_sums) {
    long long p = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x;
    if (p >= static_cast<long long>(H) * W) return;
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
    int *rlo, *rhi, *clo, *chi, *present;
    double *rwlo, *rwhi, *cwlo, *cwhi, *z;
};

size_t carve(unsigned char* base, CudaWs& w, int d, int h0, int w0, int H, int W, int C) {
    size_t used = 0;
    auto take = [&](size_t bytes) -> void* {
        used = (used + 255) & ~static_cast<size_t>(255);
        void* p = base ? base + used : nullptr;
        used += bytes;
        return p;
    };
    size_t cells = static_cast<size_t>(h0) * w0;
    w.rlo = static_cast<int*>(take(sizeof(int) * H));
    w.rhi = static_cast<int*>(take(sizeof(int) * H));
    w.clo = static_cast<int*>(take(sizeof(int) * W));
    w.chi = static_cast<int*>(take(sizeof(int) * W));
    w.present = static_cast<int*>(take(sizeof(int) * C));
    w.rwlo = static_cast<double*>(take(sizeof(double) * H));
    w.rwhi = static_cast<double*>(take(sizeof(double) * H));
    w.cwlo = static_cast<double*>(take(sizeof(double) * W));
    w.cwhi = static_cast<double*>(take(sizeof(double) * W));
    w.z = static_cast<double*>(take(sizeof(double) * cells * d * static_cast<size_t>(C)));
    return used + 256;
}

unsigned char* align256(void* p) {
    uintptr_t u = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<unsigned char*>((u + 255) & ~static_cast<uintptr_t>(255));
}

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

SEGSA_API int segsa_cuda_mdsa_frame(const float* features, int d, int h0, int w0, int H, int W, int upsample_mode,
                                    const int32_t* predicted, int num_classes, const segsa_mdsa_models* models,
                                    void* workspace, size_t workspace_bytes, float* sa_map, int64_t* class_pixels,
                                    double* class_sums, void* stream_ptr) {
    static const char* fn = "segsa_cuda_mdsa_frame";
    if (!features || !predicted || !models || !class_pixels || !class_sums)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: features, predicted, models, class_pixels or class_sums is null", fn);
    if (d <= 0 || h0 <= 0 || w0 <= 0 || H <= 0 || W <= 0 || num_classes <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: sizes must be positive (d=%d, h0=%d, w0=%d, H=%d, W=%d, num_classes=%d)",
                    fn, d, h0, w0, H, W, num_classes);
    if (upsample_mode < 0 || upsample_mode > 2)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: upsample_mode=%d, expected 0, 1 or 2", fn, upsample_mode);
    if (models->num_classes != num_classes || models->dim != d)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: models are for %d classes of dimension %d, call has %d classes, d=%d", fn,
                    models->num_classes, models->dim, num_classes, d);
    if (!models->active_count || !models->offset || !models->active_index || !models->mean || !models->chol_offset ||
        !models->chol)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: a models array pointer is null", fn);
    CudaWs w;
    size_t need = carve(nullptr, w, d, h0, w0, H, W, num_classes);
    if (workspace == nullptr || workspace_bytes < need)
        return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes, need %zu (segsa_cuda_workspace_bytes)", fn,
                    workspace_bytes, need);
    carve(align256(workspace), w, d, h0, w0, H, W, num_classes);
    cudaStream_t stream = static_cast<cudaStream_t>(stream_ptr);
    const int cells = h0 * w0;
    const long long npix = static_cast<long long>(H) * W;
    const int threads = 256;

    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(w.present, 0, sizeof(int) * num_classes, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(class_pixels, 0, sizeof(int64_t) * num_classes, stream));
    SEGSA_CUDA_CHECK(fn, cudaMemsetAsync(class_sums, 0, sizeof(double) * num_classes, stream));
    axis_kernel<<<(H + threads - 1) / threads, threads, 0, stream>>>(upsample_mode, h0, H, w.rlo, w.rhi, w.rwlo, w.rwhi);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    axis_kernel<<<(W + threads - 1) / threads, threads, 0, stream>>>(upsample_mode, w0, W, w.clo, w.chi, w.cwlo, w.cwhi);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    unsigned pixel_blocks = static_cast<unsigned>((npix + threads - 1) / threads);
    presence_kernel<<<pixel_blocks, threads, 0, stream>>>(predicted, npix, num_classes, models->active_count, w.present);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    dim3 wgrid((cells + 127) / 128, num_classes);
    whiten_kernel<<<wgrid, 128, 0, stream>>>(features, d, cells, num_classes, *models, w.present, w.z);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    pixel_kernel<<<pixel_blocks, threads, 0, stream>>>(d, w0, cells, H, W, w.rlo, w.rhi, w.rwlo, w.rwhi, w.clo, w.chi,
                                                       w.cwlo, w.cwhi, predicted, num_classes, models->active_count, w.z,
                                                       sa_map, reinterpret_cast<unsigned long long*>(class_pixels),
                                                       class_sums);
    SEGSA_CUDA_CHECK(fn, cudaGetLastError());
    return SEGSA_OK;
}

}  // extern "C"
