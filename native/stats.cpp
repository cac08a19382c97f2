// Per-class order statistics of a per-pixel SA map for libsegsa_cpu (segsa.h,
// segsa_class_statistics): the max, the 95th percentile (numpy's linear definition) and the share
// above a threshold of the scored (non-NaN) pixels of each predicted class. The values are
// gathered by class in pixel order, then the classes are processed in parallel, each by one
// thread with std::nth_element: exact order statistics, the same at any thread count.
#include "segsa_internal.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace segsa {
namespace {

struct StatsWs {
    float* values;   // [pixels] gathered by class
    int64_t* start;  // [C+1]
    int64_t* fill;   // [C]
};

size_t carve_stats(Carver& cv, StatsWs& w, int64_t pixels, int C) {
    w.values = cv.take<float>(static_cast<size_t>(pixels));
    w.start = cv.take<int64_t>(static_cast<size_t>(C) + 1);
    w.fill = cv.take<int64_t>(static_cast<size_t>(C));
    return cv.used();
}

}  // namespace
}  // namespace segsa

using namespace segsa;

extern "C" SEGSA_API int segsa_class_statistics_workspace_bytes(int64_t pixels, int num_classes, size_t* bytes) {
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_class_statistics_workspace_bytes: bytes is null");
    if (pixels < 0 || num_classes <= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "segsa_class_statistics_workspace_bytes: pixels=%lld, num_classes=%d",
                    static_cast<long long>(pixels), num_classes);
    Carver cv(nullptr);
    StatsWs w;
    *bytes = carve_stats(cv, w, pixels, num_classes);
    return SEGSA_OK;
}

extern "C" SEGSA_API int segsa_class_statistics(const float* sa_map, const int32_t* predicted, int64_t pixels, int num_classes,
                                                double threshold, void* workspace, size_t workspace_bytes, double* max,
                                                double* p95, double* share) {
    static const char* fn = "segsa_class_statistics";
    try {
        if (sa_map == nullptr || predicted == nullptr || max == nullptr || p95 == nullptr)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: sa_map, predicted, max or p95 is null", fn);
        if (pixels < 0 || num_classes <= 0)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: pixels=%lld, num_classes=%d", fn, static_cast<long long>(pixels),
                        num_classes);
        const int C = num_classes;
        Carver probe(nullptr);
        StatsWs w;
        size_t need = carve_stats(probe, w, pixels, C);
        if (workspace == nullptr || workspace_bytes < need)
            return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes%s, need %zu", fn, workspace_bytes,
                        workspace == nullptr ? " (null)" : "", need);
        Carver cv(align64(workspace));
        carve_stats(cv, w, pixels, C);
        for (int c = 0; c <= C; c++) w.start[c] = 0;
        for (int64_t i = 0; i < pixels; i++) {
            int32_t c = predicted[i];
            if (c < 0 || c >= C) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: pixel %lld has class %d, outside [0, %d)", fn,
                                             static_cast<long long>(i), c, C);
            if (!std::isnan(sa_map[i])) w.start[c + 1]++;
        }
        for (int c = 0; c < C; c++) w.start[c + 1] += w.start[c];
        for (int c = 0; c < C; c++) w.fill[c] = w.start[c];
        for (int64_t i = 0; i < pixels; i++) {
            float v = sa_map[i];
            if (!std::isnan(v)) w.values[w.fill[predicted[i]]++] = v;
        }
        const bool with_share = share != nullptr;
#pragma omp parallel for num_threads(kernel_threads()) schedule(dynamic, 1) if (pixels > 50000)
        for (int c = 0; c < C; c++) {
            const int64_t lo = w.start[c], n = w.start[c + 1] - lo;
            if (n == 0) continue;
            float* a = w.values + lo;
            float m = -INFINITY;
            int64_t above = 0;
            for (int64_t i = 0; i < n; i++) {
                if (a[i] > m) m = a[i];
                if (with_share && a[i] > threshold) above++;
            }
            max[c] = m;
            if (with_share) share[c] = static_cast<double>(above) / n;
            // numpy's default (linear) percentile, as ClassPixelStatistics.percentile
            const double pos = 0.95 * static_cast<double>(n - 1);
            const int64_t k = static_cast<int64_t>(std::floor(pos));
            const double frac = pos - static_cast<double>(k);
            std::nth_element(a, a + k, a + n);
            const float vk = a[k];
            if (frac == 0 || k + 1 >= n) {
                p95[c] = vk;
            } else {
                const float next = *std::min_element(a + k + 1, a + n);
                p95[c] = vk + frac * (static_cast<double>(next) - vk);
            }
        }
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}
