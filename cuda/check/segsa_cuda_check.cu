// segsa_cuda_check: every CUDA kernel of libsegsa_cuda against the CPU kernel of libsegsa_cpu on
// seeded random inputs, with timings. Built by CMake only when CUDA is available; run through
// cuda/check.sh on a GPU machine. Exit status: 0 all kernels agree, 1 a kernel disagrees or fails,
// 2 no usable CUDA device.
//
// Kernels covered, on the same random frames (features, predicted/label map with classes of very
// different sizes, one without a model, one with a dropped feature, one covering a single pixel,
// one absent, out-of-range labels):
//  - mdsa_frame: segsa_cuda_mdsa_frame vs segsa_mdsa_frame;
//  - lsa_frame: segsa_cuda_lsa_frame vs segsa_lsa_frame, KDE models with 257 to 10000 random
//    references per class whitened by segsa_lsa_prepare_references;
//    for both: "map err" = max |cuda - cpu| / max(|cpu|, 1) over the float32 map (NaN where one
//    side is NaN and the other is not = inf), "sum err" = max over classes of
//    |cuda - cpu| / max(|cpu|, pixels) of the float64 class sums; class pixel counts must be equal;
//  - logits_frame: segsa_cuda_logits_frame vs segsa_logits_frame (run_logits_checks);
//  - segments: segsa_cuda_segments_label + segsa_cuda_segments_features vs segsa_segments_label +
//    segsa_segments_features on per-pixel noise, blocky, blob, single-class and checkerboard maps
//    (run_segments_checks): segment counts and ids equal, the exact columns (class, sizes, ratios,
//    mean coordinates, IoU_adj) bit for bit, heat-map means and mean probabilities within 1e-9 of
//    max(|cpu|, 1); an invalid class must be refused and an invalid id must give NaN rows;
//  - accumulate_frame: segsa_cuda_accumulate_frame vs segsa_accumulate_frame; "map err" = the
//    means, max |cuda - cpu| / max(|cpu|, 1); "sum err" = the comoments, per class
//    max |cuda - cpu| / max(max |cpu|, 1); counts must be equal.
// Both sides compute in float64 (the CUDA kernels sum in another order). Thresholds: 1e-5 for the
// float32 maps and the MDSA sums (the CPU test tolerance), 1e-9 for the float64 LSA sums, means
// and comoments (expected agreement: about 1e-7 for the maps, 1e-13 or better for the rest).
#include "segsa.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr double kThreshold = 1e-5;     // float32 maps, MDSA sums
constexpr double kThresholdF64 = 1e-9;  // float64 LSA sums, means, comoments

#define CHECK_CUDA(call)                                                                               \
    do {                                                                                               \
        cudaError_t e_ = (call);                                                                       \
        if (e_ != cudaSuccess) {                                                                       \
            std::fprintf(stderr, "segsa_cuda_check: %s failed: %s at %s:%d\n", #call, cudaGetErrorString(e_), \
                         __FILE__, __LINE__);                                                          \
            std::exit(1);                                                                              \
        }                                                                                              \
    } while (0)

std::string cpu_error() {
    char buf[1024];
    segsa_last_error(buf, sizeof buf);
    return buf;
}
std::string cuda_error() {
    char buf[1024];
    segsa_cuda_last_error(buf, sizeof buf);
    return buf;
}

// Device allocations of one case, freed together.
class DeviceMemory {
public:
    DeviceMemory() = default;
    DeviceMemory(const DeviceMemory&) = delete;
    DeviceMemory& operator=(const DeviceMemory&) = delete;
    ~DeviceMemory() {
        for (void* p : ptrs_) cudaFree(p);
    }
    template <typename T>
    T* alloc(size_t count) {
        void* p = nullptr;
        CHECK_CUDA(cudaMalloc(&p, std::max<size_t>(1, count) * sizeof(T)));
        ptrs_.push_back(p);
        return static_cast<T*>(p);
    }
    template <typename T>
    T* put(const std::vector<T>& h) {
        T* d = alloc<T>(h.size());
        if (!h.empty()) CHECK_CUDA(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
        return d;
    }

private:
    std::vector<void*> ptrs_;
};

template <typename T>
std::vector<T> get(const T* d, size_t count) {
    std::vector<T> h(count);
    if (count) CHECK_CUDA(cudaMemcpy(h.data(), d, count * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}

// Mean milliseconds of `iterations` calls of f (after one warm-up call done by the caller).
template <typename F>
double time_cpu(int iterations, F f) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; i++) f();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iterations;
}

// Mean milliseconds of `iterations` enqueued calls of f on stream (CUDA events).
template <typename F>
double time_cuda(cudaStream_t stream, int iterations, F f) {
    cudaEvent_t e0, e1;
    CHECK_CUDA(cudaEventCreate(&e0));
    CHECK_CUDA(cudaEventCreate(&e1));
    CHECK_CUDA(cudaEventRecord(e0, stream));
    for (int i = 0; i < iterations; i++) f();
    CHECK_CUDA(cudaEventRecord(e1, stream));
    CHECK_CUDA(cudaEventSynchronize(e1));
    float ms = 0;
    CHECK_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    return static_cast<double>(ms) / iterations;
}

struct Case {
    int d, h0, w0, H, W, mode, classes;
};

// One random frame: features [d, h0, w0] and a per-pixel class map of blocks drawn from a pool
// (classes 0 and 2 large, 1 and 5 % C smaller, -1 and C out of range), plus one pixel of class
// 3 % C; class 4 stays absent.
struct Frame {
    std::vector<float> feat;
    std::vector<int32_t> pred;
};

Frame random_frame(const Case& k, std::mt19937_64& rng) {
    Frame f;
    const size_t cells = static_cast<size_t>(k.h0) * k.w0, npix = static_cast<size_t>(k.H) * k.W;
    std::normal_distribution<float> g(0.2f, 1.5f);
    f.feat.resize(static_cast<size_t>(k.d) * cells);
    for (auto& v : f.feat) v = g(rng);
    f.pred.resize(npix);
    const int pool[] = {0, 0, 0, 1, 2, 2, 5 % k.classes, -1, k.classes};
    int bs = std::max(1, std::min(k.H, k.W) / 4);
    for (int y = 0; y < k.H; y++)
        for (int x = 0; x < k.W; x++)
            f.pred[static_cast<size_t>(y) * k.W + x] = pool[((y / bs) * 7919u + (x / bs) * 104729u + rng() % 3) % 9];
    f.pred[rng() % npix] = 3 % k.classes;
    return f;
}

// A lower-triangular Cholesky factor, well conditioned (diagonal in [0.5, 1.5], off-diagonal small).
void random_chol(int k, std::mt19937_64& rng, std::vector<double>& out) {
    std::uniform_real_distribution<double> u(-1, 1);
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            out.push_back(j < i ? 0.3 * u(rng) / std::sqrt(static_cast<double>(k)) : j == i ? 1.0 + 0.5 * u(rng) : 0.0);
}

// Random MDSA models: class 1 without a model, class 2 drops feature 0 (if d > 1).
struct Models {
    std::vector<int32_t> count, active;
    std::vector<int64_t> offset, chol_offset;
    std::vector<double> mean, chol;
};

Models random_models(int d, int C, std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(-1, 1);
    Models m;
    m.count.assign(C, 0);
    m.offset.assign(C, 0);
    m.chol_offset.assign(C, 0);
    for (int c = 0; c < C; c++) {
        m.offset[c] = static_cast<int64_t>(m.active.size());
        m.chol_offset[c] = static_cast<int64_t>(m.chol.size());
        if (c == 1) continue;
        int first = (c == 2 && d > 1) ? 1 : 0;
        int k = d - first;
        m.count[c] = k;
        for (int i = first; i < d; i++) m.active.push_back(i);
        for (int i = 0; i < k; i++) m.mean.push_back(0.3 * u(rng) + 0.1 * c);
        random_chol(k, rng, m.chol);
    }
    return m;
}

// Random KDE models: class 1 without a model, class 2 drops feature 0 (if d > 1); n_c references
// r_j ~ N(0.1 c, 1) (10000 for class 0, 257 to 3000 for the others), centre = their mean over the
// active features, whitened by segsa_lsa_prepare_references.
struct LsaModels {
    std::vector<int32_t> count, active, ref_count;
    std::vector<int64_t> offset, chol_offset, refs_t_offset, ref_offset;
    std::vector<double> centre, chol, refs_t, ref_norm2, log_norm;
    int max_refs = 0;
    std::string error;
};

LsaModels random_lsa_models(int d, int C, std::mt19937_64& rng) {
    static const int kRefs[] = {10000, 0, 700, 257, 300, 3000};
    std::normal_distribution<double> g(0.0, 1.0);
    LsaModels m;
    m.count.assign(C, 0);
    m.ref_count.assign(C, 0);
    m.offset.assign(C, 0);
    m.chol_offset.assign(C, 0);
    m.refs_t_offset.assign(C, 0);
    m.ref_offset.assign(C, 0);
    m.log_norm.assign(C, 0.0);
    for (int c = 0; c < C; c++) {
        m.offset[c] = static_cast<int64_t>(m.active.size());
        m.chol_offset[c] = static_cast<int64_t>(m.chol.size());
        m.refs_t_offset[c] = static_cast<int64_t>(m.refs_t.size());
        m.ref_offset[c] = static_cast<int64_t>(m.ref_norm2.size());
        if (c == 1) continue;
        const int first = (c == 2 && d > 1) ? 1 : 0;
        const int k = d - first;
        const int n = c < 6 ? kRefs[c] : 129 + 61 * c;
        m.count[c] = k;
        m.ref_count[c] = n;
        m.max_refs = std::max(m.max_refs, n);
        std::vector<int32_t> act;
        for (int i = first; i < d; i++) act.push_back(i);
        m.active.insert(m.active.end(), act.begin(), act.end());
        std::vector<double> refs(static_cast<size_t>(n) * d);
        for (auto& v : refs) v = 0.1 * c + g(rng);
        std::vector<double> centre(k, 0.0);
        for (int j = 0; j < n; j++)
            for (int i = 0; i < k; i++) centre[i] += refs[static_cast<size_t>(j) * d + act[i]];
        for (auto& v : centre) v /= n;
        m.centre.insert(m.centre.end(), centre.begin(), centre.end());
        std::vector<double> L;
        random_chol(k, rng, L);
        m.chol.insert(m.chol.end(), L.begin(), L.end());
        std::vector<double> yt(static_cast<size_t>(k) * n), rn(n);
        if (segsa_lsa_prepare_references(refs.data(), n, d, k, act.data(), centre.data(), L.data(), yt.data(),
                                         rn.data()) != SEGSA_OK) {
            m.error = "segsa_lsa_prepare_references: " + cpu_error();
            return m;
        }
        m.refs_t.insert(m.refs_t.end(), yt.begin(), yt.end());
        m.ref_norm2.insert(m.ref_norm2.end(), rn.begin(), rn.end());
        double log_diag = 0;
        for (int i = 0; i < k; i++) log_diag += std::log(L[static_cast<size_t>(i) * k + i]);
        const double two_pi = 6.283185307179586;
        m.log_norm[c] = -std::log(static_cast<double>(n)) - 0.5 * k * std::log(two_pi) - log_diag;
    }
    return m;
}

struct Result {
    double map_err = 0, sum_err = 0;
    bool counts_equal = true;
    double cpu_ms = 0, cuda_ms = 0;
    bool ok = true;
    std::string why;
};

Result failed(const std::string& why) {
    Result r;
    r.ok = false;
    r.why = why;
    return r;
}

// map err (float32 maps, NaN must match) and sum err / counts of the per-class results.
void compare_scores(const std::vector<float>& cpu_map, const std::vector<float>& gpu_map,
                    const std::vector<int64_t>& cpu_px, const std::vector<int64_t>& gpu_px,
                    const std::vector<double>& cpu_sums, const std::vector<double>& gpu_sums, double sum_threshold,
                    Result& r) {
    for (size_t p = 0; p < cpu_map.size(); p++) {
        bool a = std::isnan(cpu_map[p]), b = std::isnan(gpu_map[p]);
        if (a != b) {
            r.map_err = INFINITY;
            continue;
        }
        if (a) continue;
        r.map_err = std::max(r.map_err, std::fabs(static_cast<double>(gpu_map[p]) - cpu_map[p]) /
                                            std::max(1.0, std::fabs(static_cast<double>(cpu_map[p]))));
    }
    for (size_t c = 0; c < cpu_px.size(); c++) {
        if (gpu_px[c] != cpu_px[c]) r.counts_equal = false;
        double e = std::fabs(gpu_sums[c] - cpu_sums[c]) / std::max(std::fabs(cpu_sums[c]), std::max<double>(1, cpu_px[c]));
        if (std::isnan(e)) e = INFINITY;
        r.sum_err = std::max(r.sum_err, e);
    }
    r.ok = r.counts_equal && r.map_err <= kThreshold && r.sum_err <= sum_threshold;
    if (!r.ok) r.why = r.counts_equal ? "error above threshold" : "class pixel counts differ";
}

Result run_mdsa(const Case& k, const Frame& f, int iterations, std::mt19937_64& rng) {
    Result r;
    const size_t npix = static_cast<size_t>(k.H) * k.W;
    Models m = random_models(k.d, k.classes, rng);
    segsa_mdsa_models hm{k.classes, k.d, m.count.data(), m.offset.data(), m.active.data(),
                         m.mean.data(), m.chol_offset.data(), m.chol.data()};

    // CPU
    size_t ws_bytes = 0;
    if (segsa_workspace_bytes(k.d, k.h0, k.w0, k.H, k.W, k.classes, &ws_bytes))
        return failed("segsa_workspace_bytes: " + cpu_error());
    std::vector<unsigned char> ws(ws_bytes);
    std::vector<float> cpu_map(npix);
    std::vector<int64_t> cpu_px(k.classes);
    std::vector<double> cpu_sums(k.classes);
    auto cpu_call = [&] {
        return segsa_mdsa_frame(f.feat.data(), k.d, k.h0, k.w0, k.H, k.W, k.mode, f.pred.data(), k.classes, &hm,
                                ws.data(), ws_bytes, cpu_map.data(), cpu_px.data(), cpu_sums.data());
    };
    if (cpu_call()) return failed("segsa_mdsa_frame: " + cpu_error());
    r.cpu_ms = time_cpu(iterations, cpu_call);

    // CUDA, device pointers on a stream
    DeviceMemory dev;
    const float* d_feat = dev.put(f.feat);
    const int32_t* d_pred = dev.put(f.pred);
    segsa_mdsa_models dm{k.classes, k.d, dev.put(m.count), dev.put(m.offset), dev.put(m.active),
                         dev.put(m.mean), dev.put(m.chol_offset), dev.put(m.chol)};
    size_t dws_bytes = 0;
    if (segsa_cuda_workspace_bytes(k.d, k.h0, k.w0, k.H, k.W, k.classes, &dws_bytes))
        return failed("segsa_cuda_workspace_bytes: " + cuda_error());
    void* d_ws = dev.alloc<unsigned char>(dws_bytes);
    float* d_map = dev.alloc<float>(npix);
    int64_t* d_px = dev.alloc<int64_t>(k.classes);
    double* d_sums = dev.alloc<double>(k.classes);
    cudaStream_t stream;
    CHECK_CUDA(cudaStreamCreate(&stream));
    auto cuda_call = [&] {
        return segsa_cuda_mdsa_frame(d_feat, k.d, k.h0, k.w0, k.H, k.W, k.mode, d_pred, k.classes, &dm, d_ws, dws_bytes,
                                     d_map, d_px, d_sums, stream);
    };
    if (cuda_call()) {
        cudaStreamDestroy(stream);
        return failed("segsa_cuda_mdsa_frame: " + cuda_error());
    }
    CHECK_CUDA(cudaStreamSynchronize(stream));
    r.cuda_ms = time_cuda(stream, iterations * 10, cuda_call);
    cudaStreamDestroy(stream);

    compare_scores(cpu_map, get(d_map, npix), cpu_px, get(d_px, k.classes), cpu_sums, get(d_sums, k.classes),
                   kThreshold, r);
    return r;
}

Result run_lsa(const Case& k, const Frame& f, int iterations, std::mt19937_64& rng) {
    Result r;
    const size_t npix = static_cast<size_t>(k.H) * k.W;
    LsaModels m = random_lsa_models(k.d, k.classes, rng);
    if (!m.error.empty()) return failed(m.error);
    segsa_lsa_models hm{k.classes,          k.d,
                        m.count.data(),     m.offset.data(),
                        m.active.data(),    m.centre.data(),
                        m.chol_offset.data(), m.chol.data(),
                        m.ref_count.data(), m.refs_t_offset.data(),
                        m.refs_t.data(),    m.ref_offset.data(),
                        m.ref_norm2.data(), m.log_norm.data()};

    // CPU
    size_t ws_bytes = 0;
    if (segsa_lsa_workspace_bytes(k.d, k.h0, k.w0, k.H, k.W, k.classes, &ws_bytes))
        return failed("segsa_lsa_workspace_bytes: " + cpu_error());
    std::vector<unsigned char> ws(ws_bytes);
    std::vector<float> cpu_map(npix);
    std::vector<int64_t> cpu_px(k.classes);
    std::vector<double> cpu_sums(k.classes);
    auto cpu_call = [&] {
        return segsa_lsa_frame(f.feat.data(), k.d, k.h0, k.w0, k.H, k.W, k.mode, f.pred.data(), k.classes, &hm,
                               ws.data(), ws_bytes, cpu_map.data(), cpu_px.data(), cpu_sums.data());
    };
    if (cpu_call()) return failed("segsa_lsa_frame: " + cpu_error());
    r.cpu_ms = time_cpu(iterations, cpu_call);

    // CUDA
    DeviceMemory dev;
    const float* d_feat = dev.put(f.feat);
    const int32_t* d_pred = dev.put(f.pred);
    segsa_lsa_models dm{k.classes,
                        k.d,
                        dev.put(m.count),
                        dev.put(m.offset),
                        dev.put(m.active),
                        dev.put(m.centre),
                        dev.put(m.chol_offset),
                        dev.put(m.chol),
                        dev.put(m.ref_count),
                        dev.put(m.refs_t_offset),
                        dev.put(m.refs_t),
                        dev.put(m.ref_offset),
                        dev.put(m.ref_norm2),
                        dev.put(m.log_norm)};
    size_t dws_bytes = 0;
    if (segsa_cuda_lsa_workspace_bytes(k.d, k.h0, k.w0, k.H, k.W, k.classes, &dws_bytes))
        return failed("segsa_cuda_lsa_workspace_bytes: " + cuda_error());
    void* d_ws = dev.alloc<unsigned char>(dws_bytes);
    float* d_map = dev.alloc<float>(npix);
    int64_t* d_px = dev.alloc<int64_t>(k.classes);
    double* d_sums = dev.alloc<double>(k.classes);
    cudaStream_t stream;
    CHECK_CUDA(cudaStreamCreate(&stream));
    auto cuda_call = [&] {
        return segsa_cuda_lsa_frame(d_feat, k.d, k.h0, k.w0, k.H, k.W, k.mode, d_pred, k.classes, &dm, m.max_refs, d_ws,
                                    dws_bytes, d_map, d_px, d_sums, stream);
    };
    if (cuda_call()) {
        cudaStreamDestroy(stream);
        return failed("segsa_cuda_lsa_frame: " + cuda_error());
    }
    CHECK_CUDA(cudaStreamSynchronize(stream));
    r.cuda_ms = time_cuda(stream, iterations * 10, cuda_call);
    cudaStreamDestroy(stream);

    compare_scores(cpu_map, get(d_map, npix), cpu_px, get(d_px, k.classes), cpu_sums, get(d_sums, k.classes),
                   kThresholdF64, r);
    return r;
}

Result run_accumulate(const Case& k, const Frame& f, int iterations) {
    Result r;
    const size_t C = static_cast<size_t>(k.classes), d = static_cast<size_t>(k.d);

    // CPU
    size_t ws_bytes = 0;
    if (segsa_workspace_bytes(k.d, k.h0, k.w0, k.H, k.W, k.classes, &ws_bytes))
        return failed("segsa_workspace_bytes: " + cpu_error());
    std::vector<unsigned char> ws(ws_bytes);
    std::vector<int64_t> cpu_counts(C);
    std::vector<double> cpu_means(C * d), cpu_com(C * d * d);
    auto cpu_call = [&] {
        return segsa_accumulate_frame(f.feat.data(), k.d, k.h0, k.w0, k.H, k.W, k.mode, f.pred.data(), k.classes,
                                      ws.data(), ws_bytes, cpu_counts.data(), cpu_means.data(), cpu_com.data());
    };
    if (cpu_call()) return failed("segsa_accumulate_frame: " + cpu_error());
    r.cpu_ms = time_cpu(iterations, cpu_call);

    // CUDA
    DeviceMemory dev;
    const float* d_feat = dev.put(f.feat);
    const int32_t* d_labels = dev.put(f.pred);
    size_t dws_bytes = 0;
    if (segsa_cuda_accumulate_workspace_bytes(k.d, k.h0, k.w0, k.H, k.W, k.classes, &dws_bytes))
        return failed("segsa_cuda_accumulate_workspace_bytes: " + cuda_error());
    void* d_ws = dev.alloc<unsigned char>(dws_bytes);
    int64_t* d_counts = dev.alloc<int64_t>(C);
    double* d_means = dev.alloc<double>(C * d);
    double* d_com = dev.alloc<double>(C * d * d);
    cudaStream_t stream;
    CHECK_CUDA(cudaStreamCreate(&stream));
    auto cuda_call = [&] {
        return segsa_cuda_accumulate_frame(d_feat, k.d, k.h0, k.w0, k.H, k.W, k.mode, d_labels, k.classes, d_ws,
                                           dws_bytes, d_counts, d_means, d_com, stream);
    };
    if (cuda_call()) {
        cudaStreamDestroy(stream);
        return failed("segsa_cuda_accumulate_frame: " + cuda_error());
    }
    CHECK_CUDA(cudaStreamSynchronize(stream));
    r.cuda_ms = time_cuda(stream, iterations * 10, cuda_call);
    cudaStreamDestroy(stream);

    std::vector<int64_t> gpu_counts = get(d_counts, C);
    std::vector<double> gpu_means = get(d_means, C * d), gpu_com = get(d_com, C * d * d);
    for (size_t c = 0; c < C; c++) {
        if (gpu_counts[c] != cpu_counts[c]) r.counts_equal = false;
        for (size_t i = 0; i < d; i++) {
            double a = cpu_means[c * d + i], b = gpu_means[c * d + i];
            double e = std::fabs(b - a) / std::max(1.0, std::fabs(a));
            r.map_err = std::max(r.map_err, std::isnan(e) ? INFINITY : e);
        }
        double scale = 1, diff = 0;
        for (size_t t = 0; t < d * d; t++) {
            double a = cpu_com[c * d * d + t], b = gpu_com[c * d * d + t];
            scale = std::max(scale, std::fabs(a));
            double e = std::fabs(b - a);
            diff = std::max(diff, std::isnan(e) ? INFINITY : e);
        }
        r.sum_err = std::max(r.sum_err, diff / scale);
    }
    r.ok = r.counts_equal && r.map_err <= kThresholdF64 && r.sum_err <= kThresholdF64;
    if (!r.ok) r.why = r.counts_equal ? "error above threshold" : "class counts differ";
    return r;
}

void print_row(const char* kernel, const Case& k, const Result& r) {
    static const char* modes[] = {"bilinear", "aligned", "nearest"};
    char low[32], out[32];
    std::snprintf(low, sizeof low, "%dx%d", k.w0, k.h0);
    std::snprintf(out, sizeof out, "%dx%d", k.W, k.H);
    std::printf("%-16s %4d %-9s %-11s %-9s %6d %10.2e %10.2e %11.3f %11.4f %8.1fx %s%s%s\n", kernel, k.d, low, out,
                modes[k.mode], k.classes, r.map_err, r.sum_err, r.cpu_ms, r.cuda_ms,
                r.cuda_ms > 0 ? r.cpu_ms / r.cuda_ms : 0.0, r.ok ? "ok" : "FAIL", r.ok ? "" : ": ",
                r.ok ? "" : r.why.c_str());
    std::fflush(stdout);
}

}  // namespace

// The logits pass: segsa_cuda_logits_frame vs segsa_logits_frame on seeded logits (values on a coarse
// grid, so exact ties are common, and a few NaN/Inf in the "bad" rows): predicted classes, class
// pixel counts and non-finite counts must be equal; the uncertainty sums within 1e-9 relative
// (double atomics on the device). Returns the number of failures.
int run_logits_checks(std::mt19937_64& rng, int iterations) {
    struct LCase { int C, h, w, H, W, mode, bad; };
    const LCase cases[] = {
        {11, 360, 480, 360, 480, 0, 0}, {11, 90, 120, 360, 480, 0, 0}, {11, 90, 120, 360, 480, 1, 0},
        {11, 90, 120, 360, 480, 2, 0},  {19, 270, 480, 1080, 1920, 0, 0}, {19, 1080, 1920, 1080, 1920, 0, 0},
        {11, 90, 120, 360, 480, 0, 5},
    };
    int failures = 0;
    std::printf("\n%-16s %4s %-11s %-11s %-5s %4s %10s %10s %11s %11s %9s %s\n", "kernel", "C", "logits", "out", "mode", "bad",
                "class err", "unc err", "cpu ms", "cuda ms", "speedup", "result");
    for (const LCase& k : cases) {
        const size_t nl = static_cast<size_t>(k.C) * k.h * k.w, np = static_cast<size_t>(k.H) * k.W;
        std::vector<float> logits(nl);
        std::uniform_int_distribution<int> grid(0, 7);
        for (auto& v : logits) v = 0.5f * grid(rng);
        for (int b = 0; b < k.bad; b++) logits[rng() % nl] = b % 2 ? INFINITY : NAN;
        std::vector<int32_t> pc(np), pg(np);
        std::vector<int64_t> cc(k.C), cg(k.C);
        std::vector<double> uc(4 * k.C), ug(4 * k.C);
        int64_t badc = 0, badg = 0;
        size_t wsc = 0, wsg = 0;
        segsa_logits_workspace_bytes(k.C, k.H, k.W, &wsc);
        segsa_cuda_logits_workspace_bytes(k.C, k.H, k.W, &wsg);
        std::vector<unsigned char> ws(wsc);
        auto t0 = std::chrono::steady_clock::now();
        int st = SEGSA_OK;
        for (int it = 0; it < iterations && st == SEGSA_OK; it++)
            st = segsa_logits_frame(logits.data(), k.C, k.h, k.w, k.H, k.W, k.mode, ws.data(), wsc, pc.data(), cc.data(), &badc,
                                    uc.data(), nullptr, 0, nullptr);
        double cpu_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iterations;
        if (st != SEGSA_OK) {
            std::printf("logits_frame: CPU failed: %s\n", cpu_error().c_str());
            failures++;
            continue;
        }
        float* dl;
        int32_t* dp;
        int64_t *dc, *dbad;
        double* du;
        void* dws;
        CHECK_CUDA(cudaMalloc(&dl, nl * sizeof(float)));
        CHECK_CUDA(cudaMalloc(&dp, np * sizeof(int32_t)));
        CHECK_CUDA(cudaMalloc(&dc, k.C * sizeof(int64_t)));
        CHECK_CUDA(cudaMalloc(&dbad, sizeof(int64_t)));
        CHECK_CUDA(cudaMalloc(&du, 4 * k.C * sizeof(double)));
        CHECK_CUDA(cudaMalloc(&dws, wsg));
        CHECK_CUDA(cudaMemcpy(dl, logits.data(), nl * sizeof(float), cudaMemcpyHostToDevice));
        st = segsa_cuda_logits_frame(dl, k.C, k.h, k.w, k.H, k.W, k.mode, dws, wsg, dp, dc, dbad, du, nullptr, 0, nullptr, nullptr);
        CHECK_CUDA(cudaDeviceSynchronize());
        cudaEvent_t e0, e1;
        CHECK_CUDA(cudaEventCreate(&e0));
        CHECK_CUDA(cudaEventCreate(&e1));
        CHECK_CUDA(cudaEventRecord(e0));
        for (int it = 0; it < iterations * 10 && st == SEGSA_OK; it++)
            st = segsa_cuda_logits_frame(dl, k.C, k.h, k.w, k.H, k.W, k.mode, dws, wsg, dp, dc, dbad, du, nullptr, 0, nullptr, nullptr);
        CHECK_CUDA(cudaEventRecord(e1));
        CHECK_CUDA(cudaEventSynchronize(e1));
        float cuda_ms = 0;
        CHECK_CUDA(cudaEventElapsedTime(&cuda_ms, e0, e1));
        cuda_ms /= iterations * 10;
        bool ok = st == SEGSA_OK;
        if (!ok) std::printf("logits_frame: CUDA failed: %s\n", cuda_error().c_str());
        CHECK_CUDA(cudaMemcpy(pg.data(), dp, np * sizeof(int32_t), cudaMemcpyDeviceToHost));
        CHECK_CUDA(cudaMemcpy(cg.data(), dc, k.C * sizeof(int64_t), cudaMemcpyDeviceToHost));
        CHECK_CUDA(cudaMemcpy(&badg, dbad, sizeof(int64_t), cudaMemcpyDeviceToHost));
        CHECK_CUDA(cudaMemcpy(ug.data(), du, 4 * k.C * sizeof(double), cudaMemcpyDeviceToHost));
        size_t differ = 0;
        for (size_t i = 0; i < np; i++) differ += pc[i] != pg[i];
        for (int c = 0; c < k.C; c++) differ += cc[c] != cg[c];
        double uerr = 0;
        if (k.bad == 0)
            for (int i = 0; i < 4 * k.C; i++) uerr = std::max(uerr, std::fabs(uc[i] - ug[i]) / std::max(std::fabs(uc[i]), 1.0));
        ok = ok && differ == 0 && badc == badg && uerr <= kThresholdF64;
        char lo[32], out[32];
        std::snprintf(lo, sizeof lo, "%dx%d", k.h, k.w);
        std::snprintf(out, sizeof out, "%dx%d", k.H, k.W);
        std::printf("%-16s %4d %-11s %-11s %-5d %4d %10zu %10.2e %11.3f %11.4f %8.1fx %s\n", "logits_frame", k.C, lo, out, k.mode,
                    k.bad, differ, uerr, cpu_ms, cuda_ms, cpu_ms / cuda_ms, ok ? "ok" : "FAIL");
        failures += !ok;
        cudaFree(dl);
        cudaFree(dp);
        cudaFree(dc);
        cudaFree(dbad);
        cudaFree(du);
        cudaFree(dws);
        cudaEventDestroy(e0);
        cudaEventDestroy(e1);
    }
    std::printf("logits_frame: class err = pixels whose class differs + classes whose count differs (must be 0); "
                "unc err = uncertainty sums, max |cuda - cpu| / max(|cpu|, 1)\n");
    return failures;
}

// The segments pass: segsa_cuda_segments_label/_features vs segsa_segments_label/_features.
// Maps: 0 per-pixel noise, 1 blocks with noise, 2 blobs (discs, rings, thin diagonal lines),
// 3 one class, 4 checkerboard (each class one 8-connected segment). Labels: the prediction shifted
// by (2, 3), 5 % random classes, 3 % ignore pixels (-1 or C). Segment ids and counts must be
// equal; the columns that are integer counts or their ratios (class, S, S_in, S_bd, S/S_bd,
// S_in/S_bd, mean row and column, IoU_adj) bit for bit (NaN matching NaN); heat-map means and
// mean probabilities within 1e-9 of max(|cpu|, 1) (double atomics on the device). Then an
// invalid predicted class must be refused by the label call and an invalid id must make the
// feature rows NaN. Returns the number of failures.
int run_segments_checks(std::mt19937_64& rng, int iterations, bool small) {
    struct SCase { int H, W, C, K, kind; bool probs, labels; };
    static const char* kinds[] = {"noise", "blocks", "blobs", "single", "checker"};
    const SCase cases[] = {
        {1, 1, 3, 1, 0, true, true},        {9, 17, 3, 2, 0, true, true},     {1, 50, 2, 1, 0, true, true},
        {50, 1, 2, 1, 0, true, true},       {48, 64, 6, 2, 2, true, true},    {33, 47, 4, 2, 4, true, true},
        {20, 30, 5, 0, 0, false, false},
        {360, 480, 11, 2, 0, true, true},   {336, 512, 12, 2, 1, true, true}, {512, 1024, 19, 2, 2, true, true},
        {1088, 1920, 19, 2, 2, true, true}, {1088, 1920, 3, 2, 0, true, true}, {1024, 2048, 19, 1, 3, true, true},
        {1088, 1920, 19, 1, 1, false, true},
    };
    const size_t ncases = small ? 7 : sizeof cases / sizeof cases[0];
    int failures = 0;
    std::printf("\n%-16s %-11s %4s %2s %-8s %8s %9s %10s %10s %11s %11s %9s %s\n", "kernel", "out", "C", "K", "map",
                "segments", "id diff", "exact diff", "mean err", "cpu ms", "cuda ms", "speedup", "result");
    for (size_t ci = 0; ci < ncases; ci++) {
        const SCase& k = cases[ci];
        const int H = k.H, W = k.W, C = k.C, K = k.K;
        const size_t np = static_cast<size_t>(H) * W;
        std::vector<int32_t> pred(np), labels(np);
        std::uniform_int_distribution<int> cls(0, C - 1);
        std::uniform_real_distribution<double> u(0, 1);
        if (k.kind == 0) {
            for (auto& v : pred) v = cls(rng);
        } else if (k.kind == 1) {
            const int bs = std::max(2, std::min(H, W) / 12);
            const int bw = (W + bs - 1) / bs;
            std::vector<int32_t> block(static_cast<size_t>((H + bs - 1) / bs) * bw);
            for (auto& v : block) v = cls(rng);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    pred[static_cast<size_t>(y) * W + x] = u(rng) < 0.02 ? cls(rng) : block[static_cast<size_t>(y / bs) * bw + x / bs];
        } else if (k.kind == 2) {
            std::fill(pred.begin(), pred.end(), 0);
            const int blobs = std::max(3, static_cast<int>(np / 4000));
            for (int b = 0; b < blobs; b++) {
                const double cy = u(rng) * H, cx = u(rng) * W, r = 1 + u(rng) * std::max(2.0, std::min(H, W) / 6.0);
                const int c = cls(rng);
                const bool ring = b % 3 == 1;
                for (int y = std::max(0, static_cast<int>(cy - r)); y <= std::min(H - 1, static_cast<int>(cy + r)); y++)
                    for (int x = std::max(0, static_cast<int>(cx - r)); x <= std::min(W - 1, static_cast<int>(cx + r)); x++) {
                        const double d = std::hypot(y - cy, x - cx);
                        if (d <= r && (!ring || d >= 0.6 * r)) pred[static_cast<size_t>(y) * W + x] = c;
                    }
            }
            for (int l = 0; l < std::max(2, blobs / 4); l++) {  // thin diagonal lines: 8- but not 4-connected
                int y = static_cast<int>(u(rng) * H), x = static_cast<int>(u(rng) * W);
                const int c = cls(rng), dx = l % 2 ? 1 : -1;
                for (int i = 0; i < std::min(H, W) / 2 && y < H && x >= 0 && x < W; i++, y++, x += dx)
                    pred[static_cast<size_t>(y) * W + x] = c;
            }
        } else if (k.kind == 3) {
            std::fill(pred.begin(), pred.end(), C - 1);
        } else {
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) pred[static_cast<size_t>(y) * W + x] = (x + y) % 2 ? 1 % C : 0;
        }
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                const int sy = std::min(H - 1, y + 2), sx = std::min(W - 1, x + 3);
                const double r = u(rng);
                int32_t l = pred[static_cast<size_t>(sy) * W + sx];
                if (r < 0.05) l = cls(rng);
                else if (r < 0.065) l = -1;
                else if (r < 0.08) l = C;
                labels[static_cast<size_t>(y) * W + x] = l;
            }
        std::vector<float> heat(static_cast<size_t>(K) * np), probs(static_cast<size_t>(C) * np);
        for (auto& v : heat) v = static_cast<float>(u(rng) * 4.0 - 1.0);
        for (size_t p = 0; p < np; p++) {
            double total = 0;
            for (int c = 0; c < C; c++) total += probs[c * np + p] = static_cast<float>(u(rng) + 0.01);
            for (int c = 0; c < C; c++) probs[c * np + p] = static_cast<float>(probs[c * np + p] / total);
        }
        const float* hp = K > 0 ? heat.data() : nullptr;
        const float* pp = k.probs ? probs.data() : nullptr;
        const int32_t* lp = k.labels ? labels.data() : nullptr;
        const int F = SEGSA_SEGMENT_COLUMNS(K, C);
        char out[32];
        std::snprintf(out, sizeof out, "%dx%d", H, W);
        auto fail_row = [&](const std::string& why) {
            std::printf("%-16s %-11s %4d %2d %-8s FAIL: %s\n", "segments", out, C, K, kinds[k.kind], why.c_str());
            failures++;
        };

        // CPU
        size_t wsc = 0;
        if (segsa_segments_workspace_bytes(H, W, &wsc)) { fail_row("segsa_segments_workspace_bytes: " + cpu_error()); continue; }
        std::vector<unsigned char> ws(wsc);
        std::vector<int32_t> ids_c(np);
        int32_t count_c = 0;
        std::vector<double> rows_c;
        auto cpu_call = [&] {
            int st = segsa_segments_label(pred.data(), H, W, C, ws.data(), wsc, ids_c.data(), &count_c);
            if (st) return st;
            rows_c.assign(static_cast<size_t>(count_c) * F, 0.0);
            return segsa_segments_features(pred.data(), ids_c.data(), count_c, H, W, C, hp, K, pp, lp, ws.data(), wsc,
                                           rows_c.data(), count_c);
        };
        if (cpu_call()) { fail_row("CPU segments: " + cpu_error()); continue; }
        const double cpu_ms = time_cpu(iterations, cpu_call);

        // CUDA
        DeviceMemory dev;
        const int32_t* d_pred = dev.put(pred);
        const int32_t* d_labels = k.labels ? dev.put(labels) : nullptr;
        const float* d_heat = K > 0 ? dev.put(heat) : nullptr;
        const float* d_probs = k.probs ? dev.put(probs) : nullptr;
        int32_t* d_ids = dev.alloc<int32_t>(np);
        size_t wsg = 0;
        if (segsa_cuda_segments_workspace_bytes(H, W, C, &wsg)) { fail_row("segsa_cuda_segments_workspace_bytes: " + cuda_error()); continue; }
        void* d_ws = dev.alloc<unsigned char>(wsg);
        cudaStream_t stream;
        CHECK_CUDA(cudaStreamCreate(&stream));
        int32_t count_g = 0;
        if (segsa_cuda_segments_label(d_pred, H, W, C, d_ws, wsg, d_ids, &count_g, stream)) {
            cudaStreamDestroy(stream);
            fail_row("segsa_cuda_segments_label: " + cuda_error());
            continue;
        }
        const int32_t rows_cap = count_g;  // the label call returned the count: rows for exactly that many
        double* d_rows = dev.alloc<double>(static_cast<size_t>(rows_cap) * F);
        auto cuda_call = [&] {
            int st = segsa_cuda_segments_label(d_pred, H, W, C, d_ws, wsg, d_ids, &count_g, stream);
            if (st) return st;
            if (count_g > rows_cap) return static_cast<int>(SEGSA_ERR_BUFFER_TOO_SMALL);
            return segsa_cuda_segments_features(d_pred, d_ids, count_g, H, W, C, d_heat, K, d_probs, d_labels, d_ws, wsg, d_rows,
                                                rows_cap, stream);
        };
        if (cuda_call()) {
            cudaStreamDestroy(stream);
            fail_row("CUDA segments: " + cuda_error());
            continue;
        }
        CHECK_CUDA(cudaStreamSynchronize(stream));
        const std::vector<int32_t> ids_g = get(d_ids, np);
        const std::vector<double> rows_g = get(d_rows, static_cast<size_t>(std::max(count_g, 0)) * F);
        const double cuda_ms = time_cuda(stream, iterations * 10, cuda_call);

        // compare
        size_t id_diff = 0, exact_diff = 0;
        double mean_err = 0;
        for (size_t p = 0; p < np; p++) id_diff += ids_c[p] != ids_g[p];
        const bool counts_equal = count_c == count_g;
        if (counts_equal) {
            const int iou = 8 + 5 * K + C;
            for (int32_t s = 0; s < count_c; s++) {
                for (int col = 0; col < F; col++) {
                    const double a = rows_c[static_cast<size_t>(s) * F + col], b = rows_g[static_cast<size_t>(s) * F + col];
                    const bool exact = col < 8 || col == iou;
                    if (std::isnan(a) || std::isnan(b)) {
                        if (std::isnan(a) != std::isnan(b)) {
                            if (exact) exact_diff++;
                            else mean_err = INFINITY;
                        }
                        continue;
                    }
                    if (exact) exact_diff += std::memcmp(&a, &b, sizeof a) != 0;
                    else mean_err = std::max(mean_err, std::fabs(b - a) / std::max(1.0, std::fabs(a)));
                }
            }
        }

        // invalid inputs, after the timed calls: a pixel of class C (refused by the label call) and
        // an id equal to the count (every feature row NaN)
        std::string why;
        if (counts_equal && id_diff == 0) {
            std::vector<int32_t> bad = pred;
            const size_t bp = np / 2;
            bad[bp] = C;
            int32_t* d_bad = dev.put(bad);
            int32_t dummy = 0;
            int st = segsa_cuda_segments_label(d_bad, H, W, C, d_ws, wsg, d_ids, &dummy, stream);
            if (st != SEGSA_ERR_INVALID_ARGUMENT) why = "label accepted a pixel of class C (status " + std::to_string(st) + ")";
            std::vector<int32_t> bad_ids = ids_c;
            bad_ids[bp] = count_c;
            CHECK_CUDA(cudaMemcpy(d_ids, bad_ids.data(), np * sizeof(int32_t), cudaMemcpyHostToDevice));
            st = segsa_cuda_segments_features(d_pred, d_ids, count_c, H, W, C, d_heat, K, d_probs, d_labels, d_ws, wsg, d_rows,
                                              rows_cap, stream);
            CHECK_CUDA(cudaStreamSynchronize(stream));
            if (st != SEGSA_OK) {
                why = "features failed on an invalid id: " + cuda_error();
            } else {
                const std::vector<double> nan_rows = get(d_rows, static_cast<size_t>(count_c) * F);
                size_t finite = 0;
                for (double v : nan_rows) finite += !std::isnan(v);
                if (finite) why = std::to_string(finite) + " values not NaN with an invalid id";
            }
        }
        cudaStreamDestroy(stream);

        const bool ok = counts_equal && id_diff == 0 && exact_diff == 0 && mean_err <= kThresholdF64 && why.empty();
        if (!ok && why.empty())
            why = !counts_equal ? "segment counts differ (cpu " + std::to_string(count_c) + ", cuda " + std::to_string(count_g) + ")"
                                : "ids, exact columns or means differ";
        std::printf("%-16s %-11s %4d %2d %-8s %8d %9zu %10zu %10.2e %11.3f %11.4f %8.1fx %s%s%s\n", "segments", out, C, K,
                    kinds[k.kind], count_c, id_diff, exact_diff, mean_err, cpu_ms, cuda_ms, cpu_ms / cuda_ms, ok ? "ok" : "FAIL",
                    ok ? "" : ": ", ok ? "" : why.c_str());
        std::fflush(stdout);
        failures += !ok;
    }
    std::printf("segments: id diff = pixels whose segment id differs; exact diff = values of class, sizes, ratios, mean "
                "coordinates and IoU_adj not bit-equal (both must be 0, counts equal); mean err = heat-map means and mean "
                "probabilities, max |cuda - cpu| / max(|cpu|, 1); cuda ms includes the label call's stream synchronisation\n");
    return failures;
}

int main(int argc, char** argv) {
    int iterations = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
    int devices = 0;
    if (segsa_cuda_device_count(&devices) != SEGSA_OK || devices == 0) {
        std::fprintf(stderr, "segsa_cuda_check: no usable CUDA device (%s); nothing to check\n", cuda_error().c_str());
        return 2;
    }
    cudaDeviceProp prop;
    CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
    char isa[32] = "?";
    segsa_cpu_isa(isa, sizeof isa);
    int threads = 0;
    segsa_max_threads(&threads);
    std::printf("device 0: %s (sm_%d%d, %d SMs, %.1f GiB); CPU kernels: %s, %d OpenMP threads; %d CPU iterations, %d CUDA\n",
                prop.name, prop.major, prop.minor, prop.multiProcessorCount,
                prop.totalGlobalMem / 1073741824.0, isa, threads, iterations, iterations * 10);
    const Case cases[] = {
        {1, 1, 1, 1, 1, 0, 6},        {3, 3, 5, 9, 17, 0, 6},        {3, 3, 5, 9, 17, 1, 6},
        {3, 3, 5, 9, 17, 2, 6},       {16, 6, 8, 48, 64, 0, 6},      {16, 6, 8, 15, 9, 1, 6},
        {64, 42, 64, 336, 512, 0, 12}, {64, 42, 64, 336, 512, 1, 12}, {64, 42, 64, 336, 512, 2, 12},
        {256, 42, 64, 336, 512, 0, 12}, {64, 64, 128, 512, 1024, 0, 12}, {256, 64, 128, 512, 1024, 0, 12},
        {64, 136, 240, 1088, 1920, 0, 12}, {256, 136, 240, 1088, 1920, 0, 12},
    };
    // "small": the first cases only (for compute-sanitizer, which runs kernels 10-100x slower)
    const bool small = argc > 2 && std::strcmp(argv[2], "small") == 0;
    const size_t ncases = small ? 6 : sizeof cases / sizeof cases[0];
    std::printf("\n%-16s %4s %-9s %-11s %-9s %6s %10s %10s %11s %11s %9s %s\n", "kernel", "d", "low", "out", "mode", "C",
                "map err", "sum err", "cpu ms", "cuda ms", "speedup", "result");
    std::mt19937_64 rng(20240611);
    int failures = 0;
    for (size_t ci = 0; ci < ncases; ci++) {
        const Case& k = cases[ci];
        Frame f = random_frame(k, rng);
        Result r = run_mdsa(k, f, iterations, rng);
        print_row("mdsa_frame", k, r);
        failures += !r.ok;
        r = run_lsa(k, f, iterations, rng);
        print_row("lsa_frame", k, r);
        failures += !r.ok;
        r = run_accumulate(k, f, iterations);
        print_row("accumulate_frame", k, r);
        failures += !r.ok;
    }
    if (!small) failures += run_logits_checks(rng, iterations);
    failures += run_segments_checks(rng, iterations, small);
    std::printf("\nmdsa_frame, lsa_frame: map err = max |cuda - cpu| / max(|cpu|, 1) over the float32 map, sum err over "
                "the float64 class sums (/ max(|cpu|, pixels)); pixel counts exact\n");
    std::printf("accumulate_frame: map err = means (/ max(|cpu|, 1)), sum err = comoments (per class / max(max |cpu|, "
                "1)); counts exact\n");
    std::printf("thresholds %.0e (float32 maps, MDSA sums), %.0e (LSA sums, means, comoments, segment means); %d failure(s)\n",
                kThreshold, kThresholdF64, failures);
    return failures ? 1 : 0;
}
