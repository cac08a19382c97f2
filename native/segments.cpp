// Per-segment features in the manner of MetaSeg for libsegsa_cpu (segsa.h, segsa_segments_*):
// connected components of the predicted class map (8-neighbourhood) by a two-pass union-find over
// the raster, then one pass over the rows, run by run (a run: consecutive pixels of one segment in
// a row), accumulating sizes, interior counts, coordinates, heat-map sums split into interior and
// boundary, probability sums and the label counts of IoU_adj; the ground truth that IoU_adj
// follows outside the prediction is labelled by the same union-find. The heat-map and probability
// sums run one map per OpenMP thread; everything else on the calling thread; every sum in a fixed
// order: the results never depend on the thread count. The plain-Java reference is
// dev.segsa.segments.SegmentReference.
#include "segsa_internal.hpp"

#include <cmath>
#include <cstring>
#include <limits>

namespace segsa {
namespace {

struct SegWs {
    int32_t* parent;  // [HW + 1] union-find over provisional labels; later the offsets of the R components
    int32_t* comp;    // [HW] component ids of the set A = {label in [0, C), label != predicted}
    int32_t* list;    // [HW] pixels of A grouped by component
    int32_t* stamp;   // [HW] per segment: the last A component counted into its union
    int32_t* uni;     // [HW] per segment: |R|, the pixels of its union outside the prediction
    uint8_t* inner;   // [HW] interior flags
    int32_t* runs;    // [3 * HW] the runs of the frame: first pixel, length, segment
};

size_t carve_segments(Carver& cv, SegWs& w, int H, int W) {
    const size_t hw = static_cast<size_t>(H) * static_cast<size_t>(W);
    w.parent = cv.take<int32_t>(hw + 1);
    w.comp = cv.take<int32_t>(hw);
    w.list = cv.take<int32_t>(hw);
    w.stamp = cv.take<int32_t>(hw);
    w.uni = cv.take<int32_t>(hw);
    w.inner = cv.take<uint8_t>(hw);
    w.runs = cv.take<int32_t>(3 * hw);
    return cv.used();
}

inline int32_t find_root(int32_t* parent, int32_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];  // path halving; parents always point to smaller labels
        x = parent[x];
    }
    return x;
}

// Unites the sets of a and b; the root is the smaller label (the set's first provisional label).
inline int32_t unite(int32_t* parent, int32_t a, int32_t b) {
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a < b) {
        parent[b] = a;
        return a;
    }
    if (b < a) parent[a] = b;
    return b;
}

// Connected components (8-neighbourhood) of the pixels with equal val(p) >= 0; pixels with
// val(p) < 0 get -1. Ids follow the raster order of each component's first pixel (its first
// provisional label is the smallest of its set, so the roots in label order are in that order).
// Returns the number of components.
template <class Val>
int32_t label_components(const Val& val, int H, int W, int32_t* parent, int32_t* out) {
    int32_t n = 0;
    for (int y = 0; y < H; y++) {
        const int64_t row = static_cast<int64_t>(y) * W;
        for (int x = 0; x < W; x++) {
            const int64_t p = row + x;
            const int32_t v = val(p);
            if (v < 0) {
                out[p] = -1;
                continue;
            }
            int32_t l = -1;
            const bool left = x > 0 && val(p - 1) == v;
            if (left) l = out[p - 1];
            if (y > 0) {
                const int64_t q = p - W;
                // NW is the left pixel's N: already in l's set when both equal v
                const bool nw = x > 0 && val(q - 1) == v;
                if (val(q) == v) {
                    // N: NW and NE are its row neighbours, in its set when equal to v. With the
                    // left pixel and NW equal too, N is already in l's set (the common case).
                    if (!left) l = out[q];
                    else if (!nw) l = unite(parent, l, out[q]);
                } else {
                    if (!left && nw) l = out[q - 1];
                    if (x + 1 < W && val(q + 1) == v) l = l < 0 ? out[q + 1] : unite(parent, l, out[q + 1]);
                }
            }
            if (l < 0) {
                l = n;
                parent[n] = n;
                n++;
            }
            out[p] = l;
        }
    }
    // Final ids: parent[i] <= i, so one increasing sweep replaces each label by its root's rank.
    int32_t count = 0;
    for (int32_t i = 0; i < n; i++) parent[i] = parent[i] == i ? count++ : parent[parent[i]];
    const int64_t hw = static_cast<int64_t>(H) * W;
    for (int64_t p = 0; p < hw; p++) {
        if (out[p] >= 0) out[p] = parent[out[p]];
    }
    return count;
}

int check_shape(const char* fn, int H, int W, int num_classes) {
    if (H <= 0 || W <= 0) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: frame size H=%d x W=%d must be positive", fn, H, W);
    if (static_cast<int64_t>(H) * W >= INT32_MAX)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: frame too large (H=%d, W=%d)", fn, H, W);
    if (num_classes <= 0) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: num_classes=%d must be positive", fn, num_classes);
    return SEGSA_OK;
}

int check_predicted(const char* fn, const int32_t* predicted, int64_t hw, int W, int C) {
    int64_t bad = -1;
    for (int64_t p = 0; p < hw; p++) {
        if (static_cast<uint32_t>(predicted[p]) >= static_cast<uint32_t>(C)) {
            bad = p;
            break;
        }
    }
    if (bad >= 0)
        return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: pixel %lld (row %lld, column %lld) has predicted class %d, outside [0, %d)",
                    fn, static_cast<long long>(bad), static_cast<long long>(bad / W), static_cast<long long>(bad % W),
                    predicted[bad], C);
    return SEGSA_OK;
}

int check_workspace(const char* fn, void* workspace, size_t workspace_bytes, int H, int W, SegWs& w) {
    Carver probe(nullptr);
    size_t need = carve_segments(probe, w, H, W);
    if (workspace == nullptr || workspace_bytes < need)
        return fail(SEGSA_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes%s, need %zu", fn, workspace_bytes,
                    workspace == nullptr ? " (null)" : "", need);
    Carver cv(align64(workspace));
    carve_segments(cv, w, H, W);
    return SEGSA_OK;
}

// Sum of a[0..n) in float64 with four accumulators (a fixed order).
inline double sum_run(const float* a, int n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
    }
    for (; i < n; i++) s0 += a[i];
    return (s0 + s1) + (s2 + s3);
}

// Sums of a[0..n) over the interior (inner[i] != 0) and the boundary, four accumulators each.
inline void sum_run_split(const float* a, const uint8_t* inner, int n, double& in, double& bd) {
    double i0 = 0, i1 = 0, i2 = 0, i3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        const double v0 = a[i], v1 = a[i + 1], v2 = a[i + 2], v3 = a[i + 3];
        i0 += inner[i] ? v0 : 0.0;
        b0 += inner[i] ? 0.0 : v0;
        i1 += inner[i + 1] ? v1 : 0.0;
        b1 += inner[i + 1] ? 0.0 : v1;
        i2 += inner[i + 2] ? v2 : 0.0;
        b2 += inner[i + 2] ? 0.0 : v2;
        i3 += inner[i + 3] ? v3 : 0.0;
        b3 += inner[i + 3] ? 0.0 : v3;
    }
    for (; i < n; i++) {
        const double v = a[i];
        i0 += inner[i] ? v : 0.0;
        b0 += inner[i] ? 0.0 : v;
    }
    in += (i0 + i1) + (i2 + i3);
    bd += (b0 + b1) + (b2 + b3);
}

// The pass over the rows of segsa_segments_features, run by run, into the zeroed rows of out:
// sizes, interior counts, coordinates and label counts on the calling thread, recording the runs;
// then the heat-map and probability sums, one map per OpenMP task (each column of out is summed
// by one thread in run order, so the results do not depend on the thread count). Baseline x86-64
// code: the sums are bound by memory bandwidth (K + C float maps per frame), and per-ISA clones
// measured no faster.
int accumulate_rows(const int32_t* predicted, const int32_t* segment_ids, int H, int W, int C, const float* heat_maps,
                    int K, const float* probabilities_or_null, const int32_t* labels_or_null, uint8_t* inner_all,
                    int32_t* runs, double* out, int F) {
    static const char* fn = "segsa_segments_features";
    const int64_t hw = static_cast<int64_t>(H) * W;
    const int heat0 = 8, prob0 = 8 + 5 * K, iou = 8 + 5 * K + C;
    const bool with_probs = probabilities_or_null != nullptr;
    const bool with_labels = labels_or_null != nullptr;
    int64_t nruns = 0;
    for (int y = 0; y < H; y++) {
        const int64_t row = static_cast<int64_t>(y) * W;
        const int32_t* pr = predicted + row;
        const int32_t* sg = segment_ids + row;
        uint8_t* inner = inner_all + row;
        if (y == 0 || y == H - 1) {
            std::memset(inner, 0, static_cast<size_t>(W));
        } else {
            const int32_t* up = pr - W;
            const int32_t* dn = pr + W;
            inner[0] = 0;
            inner[W - 1] = 0;
            for (int x = 1; x < W - 1; x++) {
                const int32_t c = pr[x];
                inner[x] = static_cast<uint8_t>((up[x - 1] == c) & (up[x] == c) & (up[x + 1] == c) & (pr[x - 1] == c) &
                                                (pr[x + 1] == c) & (dn[x - 1] == c) & (dn[x] == c) & (dn[x + 1] == c));
            }
        }
        int x = 0;
        while (x < W) {
            const int32_t s = sg[x];
            const int32_t c = pr[x];
            int x1 = x + 1;
            while (x1 < W && sg[x1] == s) {
                if (pr[x1] != c)
                    return fail(SEGSA_ERR_INVALID_ARGUMENT,
                                "%s: pixel %lld (row %d, column %d) of segment %d has class %d, the segment's pixel to its left %d",
                                fn, static_cast<long long>(row + x1), y, x1, s, pr[x1], c);
                x1++;
            }
            const int n = x1 - x;
            double* r = out + static_cast<int64_t>(s) * F;
            if (r[1] == 0) {
                r[0] = c;
            } else if (r[0] != c) {
                return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: pixel %lld (row %d, column %d) of segment %d has class %d, the segment's first pixel %g",
                            fn, static_cast<long long>(row + x), y, x, s, c, r[0]);
            }
            int nin = 0;
            for (int i = x; i < x1; i++) nin += inner[i];
            r[1] += n;
            r[2] += nin;
            r[6] += static_cast<double>(y) * n;
            r[7] += 0.5 * (static_cast<double>(x) + static_cast<double>(x1 - 1)) * n;
            if (with_labels) {
                const int32_t* lb = labels_or_null + row;
                int hit = 0, known = 0;
                for (int i = x; i < x1; i++) {
                    hit += lb[i] == c;
                    known += static_cast<uint32_t>(lb[i]) < static_cast<uint32_t>(C);
                }
                r[iou] += hit;
                r[3] += known;  // S_bd's slot holds the non-ignore count until the end
            }
            runs[3 * nruns] = static_cast<int32_t>(row + x);
            runs[3 * nruns + 1] = n;
            runs[3 * nruns + 2] = s;
            nruns++;
            x = x1;
        }
    }
    const int planes = K + (with_probs ? C : 0);
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        if (p < K) {
            const float* h = heat_maps + static_cast<int64_t>(p) * hw;
            for (int64_t j = 0; j < nruns; j++) {
                const int32_t* run = runs + 3 * j;
                double* r = out + static_cast<int64_t>(run[2]) * F + heat0 + 5 * p;
                sum_run_split(h + run[0], inner_all + run[0], run[1], r[1], r[2]);
            }
        } else {
            const int cc = p - K;
            const float* pl = probabilities_or_null + static_cast<int64_t>(cc) * hw;
            for (int64_t j = 0; j < nruns; j++) {
                const int32_t* run = runs + 3 * j;
                out[static_cast<int64_t>(run[2]) * F + prob0 + cc] += sum_run(pl + run[0], run[1]);
            }
        }
    }
    return SEGSA_OK;
}

}  // namespace
}  // namespace segsa

using namespace segsa;

extern "C" SEGSA_API int segsa_segments_workspace_bytes(int H, int W, size_t* bytes) {
    static const char* fn = "segsa_segments_workspace_bytes";
    if (bytes == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: bytes is null", fn);
    if (int st = check_shape(fn, H, W, 1)) return st;
    Carver cv(nullptr);
    SegWs w;
    *bytes = carve_segments(cv, w, H, W);
    return SEGSA_OK;
}

extern "C" SEGSA_API int segsa_segments_label(const int32_t* predicted, int H, int W, int num_classes, void* workspace,
                                              size_t workspace_bytes, int32_t* segment_ids, int32_t* segment_count) {
    static const char* fn = "segsa_segments_label";
    try {
        if (predicted == nullptr || segment_ids == nullptr || segment_count == nullptr)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: predicted, segment_ids or segment_count is null", fn);
        if (int st = check_shape(fn, H, W, num_classes)) return st;
        SegWs w;
        if (int st = check_workspace(fn, workspace, workspace_bytes, H, W, w)) return st;
        const int64_t hw = static_cast<int64_t>(H) * W;
        if (int st = check_predicted(fn, predicted, hw, W, num_classes)) return st;
        auto val = [predicted](int64_t p) { return predicted[p]; };
        *segment_count = label_components(val, H, W, w.parent, segment_ids);
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}

extern "C" SEGSA_API int segsa_segments_features(const int32_t* predicted, const int32_t* segment_ids, int32_t segment_count,
                                                 int H, int W, int num_classes, const float* heat_maps, int K,
                                                 const float* probabilities_or_null, const int32_t* labels_or_null,
                                                 void* workspace, size_t workspace_bytes, double* out,
                                                 int64_t out_rows_capacity) {
    static const char* fn = "segsa_segments_features";
    try {
        if (predicted == nullptr || segment_ids == nullptr || out == nullptr)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: predicted, segment_ids or out is null", fn);
        if (int st = check_shape(fn, H, W, num_classes)) return st;
        if (K < 0) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: K=%d heat maps, must be >= 0", fn, K);
        if (K > 0 && heat_maps == nullptr) return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: heat_maps is null with K=%d", fn, K);
        const int64_t hw = static_cast<int64_t>(H) * W;
        if (segment_count <= 0 || segment_count > hw)
            return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: segment_count=%d, expected 1 .. H*W=%lld", fn, segment_count,
                        static_cast<long long>(hw));
        if (out_rows_capacity < segment_count)
            return fail(SEGSA_ERR_BUFFER_TOO_SMALL, "%s: out holds %lld rows, %d segments", fn,
                        static_cast<long long>(out_rows_capacity), segment_count);
        SegWs w;
        if (int st = check_workspace(fn, workspace, workspace_bytes, H, W, w)) return st;
        const int C = num_classes;
        if (int st = check_predicted(fn, predicted, hw, W, C)) return st;
        for (int64_t p = 0; p < hw; p++) {
            if (static_cast<uint32_t>(segment_ids[p]) >= static_cast<uint32_t>(segment_count))
                return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: pixel %lld (row %lld, column %lld) has segment id %d, outside [0, %d)",
                            fn, static_cast<long long>(p), static_cast<long long>(p / W), static_cast<long long>(p % W),
                            segment_ids[p], segment_count);
        }

        const int F = SEGSA_SEGMENT_COLUMNS(K, C);
        const bool with_probs = probabilities_or_null != nullptr;
        const bool with_labels = labels_or_null != nullptr;
        std::memset(out, 0, sizeof(double) * static_cast<size_t>(segment_count) * F);
        if (with_labels) std::memset(w.uni, 0, sizeof(int32_t) * static_cast<size_t>(segment_count));

        // One pass over the rows, run by run. Row accumulators: [1] S, [2] S_in, [6] sum y,
        // [7] sum x, heat map k: [8+5k+1] interior sum, [8+5k+2] boundary sum, [prob0+c] sums,
        // [iou] I, [3] non-ignore pixels.
        if (int st = accumulate_rows(predicted, segment_ids, H, W, C, heat_maps, K, probabilities_or_null, labels_or_null,
                                     w.inner, w.runs, out, F))
            return st;

        if (with_labels) {
            // R: components of A = {label in [0, C), label != predicted} (8-connected, equal labels),
            // each added once to the union of every segment of its class that it touches.
            const int32_t* lb = labels_or_null;
            auto val = [lb, predicted, C](int64_t p) {
                const int32_t l = lb[p];
                return static_cast<uint32_t>(l) < static_cast<uint32_t>(C) && l != predicted[p] ? l : -1;
            };
            const int32_t na = label_components(val, H, W, w.parent, w.comp);
            if (na > 0) {
                int32_t* off = w.parent;  // [na + 1]
                std::memset(off, 0, sizeof(int32_t) * (static_cast<size_t>(na) + 1));
                for (int64_t p = 0; p < hw; p++) {
                    if (w.comp[p] >= 0) off[w.comp[p] + 1]++;
                }
                for (int32_t a = 0; a < na; a++) off[a + 1] += off[a];
                // fill with stamp as the cursor, then reset stamp
                for (int32_t a = 0; a < na; a++) w.stamp[a] = off[a];
                for (int64_t p = 0; p < hw; p++) {
                    if (w.comp[p] >= 0) w.list[w.stamp[w.comp[p]]++] = static_cast<int32_t>(p);
                }
                for (int32_t s = 0; s < segment_count; s++) w.stamp[s] = -1;
                for (int32_t a = 0; a < na; a++) {
                    const int32_t size = off[a + 1] - off[a];
                    const int32_t c = lb[w.list[off[a]]];
                    for (int32_t j = off[a]; j < off[a + 1]; j++) {
                        const int32_t p = w.list[j];
                        const int y = p / W, x = p % W;
                        for (int yy = y > 0 ? y - 1 : 0; yy <= y + 1 && yy < H; yy++) {
                            for (int xx = x > 0 ? x - 1 : 0; xx <= x + 1 && xx < W; xx++) {
                                const int64_t q = static_cast<int64_t>(yy) * W + xx;
                                if (predicted[q] != c) continue;
                                const int32_t s = segment_ids[q];
                                if (w.stamp[s] != a) {
                                    w.stamp[s] = a;
                                    w.uni[s] += size;
                                }
                            }
                        }
                    }
                }
            }
        }

        const double nan = std::numeric_limits<double>::quiet_NaN();
        for (int32_t s = 0; s < segment_count; s++) {
            double* r = out + static_cast<int64_t>(s) * F;
            const double S = r[1];
            if (S == 0)
                return fail(SEGSA_ERR_INVALID_ARGUMENT, "%s: segment %d of %d has no pixel (segment_count or ids not from segsa_segments_label?)",
                            fn, s, segment_count);
            finish_segment_row(r, K, C, with_probs, with_labels, r[3], with_labels ? w.uni[s] : 0.0, nan);
        }
        return SEGSA_OK;
    } catch (const std::exception& e) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception: %s", fn, e.what());
    } catch (...) {
        return fail(SEGSA_ERR_INTERNAL, "%s: unexpected exception", fn);
    }
}
