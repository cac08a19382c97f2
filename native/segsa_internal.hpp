// Internal helpers of libsegsa_cpu: error reporting, argument checks, axis interpolation,
// workspace carving. Not part of the ABI.
#pragma once

#include "segsa.h"

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <exception>

namespace segsa {

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

// Bump allocator over a caller workspace (or a null base for size queries).
class Carver {
public:
    explicit Carver(void* base) : base_(static_cast<unsigned char*>(base)) {}
    template <typename T>
    T* take(size_t count) {
        used_ = (used_ + 63) & ~static_cast<size_t>(63);
        T* p = base_ ? reinterpret_cast<T*>(base_ + used_) : nullptr;
        used_ += count * sizeof(T);
        return p;
    }
    size_t used() const { return used_ + 64; }  // + slack for aligning an unaligned base

private:
    unsigned char* base_;
    size_t used_ = 0;
};

// Aligns a workspace pointer to 64 bytes (Carver::used() reserves the slack).
inline void* align64(void* p) {
    uintptr_t u = reinterpret_cast<uintptr_t>(p);
    return reinterpret_cast<void*>((u + 63) & ~static_cast<uintptr_t>(63));
}

int check_frame_args(const char* fn, const float* features, int d, int h0, int w0, int H, int W, int mode,
                     const int32_t* per_pixel, int num_classes);

size_t mdsa_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes);
size_t accumulate_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes);

}  // namespace segsa
