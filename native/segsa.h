/*
 * segsa native C ABI, shared by libsegsa_cpu (native/) and libsegsa_cuda (cuda/).
 *
 * Conventions
 *  - Every function returns an int status: SEGSA_OK (0) or one of the SEGSA_ERR_* codes below.
 *    Results come back through out-parameters. Nothing aborts, exits or returns sentinels.
 *  - On error a thread-local message naming the failing function and argument (for CUDA: the
 *    failing runtime call, file and line) is kept; read it with segsa_last_error (CPU library)
 *    or segsa_cuda_last_error (CUDA library) from the same thread.
 *  - Feature maps are float32 channel-major [d, h0, w0]. Per-pixel arrays are row-major [H*W].
 *  - Upsample modes (dev.segsa.features.UpsampleMode.code()): 0 bilinear align_corners=false,
 *    1 bilinear align_corners=true, 2 nearest; PyTorch F.interpolate index arithmetic with an
 *    explicit output size (float64; nearest with PyTorch's float32 scale).
 *  - Frame kernels allocate nothing: the caller passes a workspace of at least
 *    segsa_workspace_bytes(...) bytes (any alignment >= 8; 64 recommended), reused across frames.
 *    Kernels are thread-safe as long as concurrent calls use different workspaces.
 */
#ifndef SEGSA_H
#define SEGSA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SEGSA_API __declspec(dllexport)
#else
#define SEGSA_API __attribute__((visibility("default")))
#endif

#define SEGSA_VERSION_MAJOR 0
#define SEGSA_VERSION_MINOR 1
#define SEGSA_VERSION_PATCH 0

/* Status codes. Stable: Java maps them in dev.segsa.nativelib.NativeLibrary. */
#define SEGSA_OK 0
#define SEGSA_ERR_INVALID_ARGUMENT 1   /* null pointer, non-positive size, bad mode, bad model */
#define SEGSA_ERR_OUT_OF_MEMORY 2      /* an allocation failed (host or device) */
#define SEGSA_ERR_WORKSPACE_TOO_SMALL 3/* workspace smaller than segsa_workspace_bytes */
#define SEGSA_ERR_BUFFER_TOO_SMALL 4   /* a string or output buffer was too small (output truncated) */
#define SEGSA_ERR_CUDA 5               /* a CUDA runtime call or kernel launch failed */
#define SEGSA_ERR_NO_DEVICE 6          /* no usable CUDA device */
#define SEGSA_ERR_INTERNAL 7           /* unexpected exception inside the library */

/*
 * Per-class MDSA models, packed once by the caller and reused for every frame. Class c has a
 * model when active_count[c] > 0; then, with o = offset[c], k = active_count[c]:
 *   active_index[o .. o+k)  the feature indices kept for class c (each in [0, dim)),
 *   mean[o .. o+k)          the class mean over those features (float64),
 *   chol[chol_offset[c] ..] the lower Cholesky factor L_c of the active covariance, k x k
 *                           row-major float64 (only the lower triangle is read; diagonal > 0).
 * MDSA(x) = || L_c^-1 (x[active] - mean) ||. Pixels predicted as a class without a model (or
 * outside [0, num_classes)) are not counted and get NaN in the map.
 * For the CUDA library all pointers inside the struct are device pointers (the struct itself
 * lives in host memory).
 */
typedef struct segsa_mdsa_models {
    int32_t num_classes;
    int32_t dim;
    const int32_t* active_count; /* [num_classes] */
    const int64_t* offset;       /* [num_classes] into active_index and mean */
    const int32_t* active_index; /* packed */
    const double* mean;          /* packed */
    const int64_t* chol_offset;  /* [num_classes] into chol */
    const double* chol;          /* packed */
    /* Optional (may be null): the inverse of each Cholesky factor, packed like chol, lower
       triangular with explicit zeros above the diagonal. With it the CPU kernel whitens by a
       register-blocked product instead of a forward substitution. */
    const double* chol_inv;
} segsa_mdsa_models;

/* ---------------------------------------------------------------- CPU library: libsegsa_cpu */

/* Copies the calling thread's last error message (NUL-terminated, truncated to len). */
SEGSA_API int segsa_last_error(char* buf, size_t len);

SEGSA_API int segsa_version(int* major, int* minor, int* patch);

/* The SIMD level the kernels dispatch to on this CPU: "avx512", "avx2" or "scalar". */
SEGSA_API int segsa_cpu_isa(char* buf, size_t len);

/* Maximum number of OpenMP threads the kernels use. */
SEGSA_API int segsa_max_threads(int* threads);

/* Threads every kernel uses from now on, process-wide (0: OpenMP's default, all cores).
   Results do not depend on it: every reduction has a fixed order. */
SEGSA_API int segsa_set_threads(int threads);

/* Workspace bytes needed by segsa_mdsa_frame and segsa_accumulate_frame for this frame shape. */
SEGSA_API int segsa_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes, size_t* bytes);

/*
 * Fused whole-frame MDSA (design.md section 2): per class present, whitens only the
 * low-resolution cells its pixels touch, forms the Gram matrices of the 2x2 neighbourhoods,
 * and evaluates MDSA(p) = sqrt(w_p^T G w_p) per output pixel. float64 throughout.
 *   features       [d, h0, w0] float32
 *   predicted      [H*W] predicted class per pixel
 *   models         num_classes models (models->num_classes must equal num_classes, dim == d)
 *   sa_map_or_null [H*W] per-pixel MDSA as float32, NaN where the pixel is not scored; may be NULL
 *   class_pixels   [num_classes] out: pixels scored per class (overwritten)
 *   class_sums     [num_classes] out: sum of their MDSA (overwritten)
 */
SEGSA_API int segsa_mdsa_frame(const float* features, int d, int h0, int w0, int H, int W, int upsample_mode,
                               const int32_t* predicted, int num_classes, const segsa_mdsa_models* models,
                               void* workspace, size_t workspace_bytes,
                               float* sa_map_or_null, int64_t* class_pixels, double* class_sums);

/*
 * Per-class statistics of the upsampled activation traces of the labelled pixels of one frame,
 * float64: counts [C], means [C*d], comoments [C*d*d] (full symmetric sum of centred outer
 * products), all overwritten (zero for classes absent from the frame). Labels outside
 * [0, num_classes) are ignored. Computed at low resolution: with g_a = f_a - mean and W_ab the
 * sum over pixels of w_pa w_pb, comoment = sum_ab W_ab g_a g_b^T (exact, the ATs being convex
 * combinations of at most four cells).
 */
SEGSA_API int segsa_accumulate_frame(const float* features, int d, int h0, int w0, int H, int W, int upsample_mode,
                                     const int32_t* labels, int num_classes,
                                     void* workspace, size_t workspace_bytes,
                                     int64_t* counts, double* means, double* comoments);

/*
 * Per-class LSA (Gaussian KDE) models, packed once by the caller and reused for every frame.
 * KDE of class c with scipy gaussian_kde semantics: bandwidth matrix B_c = L_c L_c^T over the
 * active features, n_c references r_j. Class c has a model when active_count[c] > 0; then, with
 * k = active_count[c], o = offset[c], n = ref_count[c], to = refs_t_offset[c], ro = ref_offset[c]:
 *   active_index[o .. o+k)  the feature indices kept (each in [0, dim)),
 *   centre[o .. o+k)        any point in feature space (the reference mean is best: it keeps the
 *                           whitened numbers small); it cancels out of the result,
 *   chol[chol_offset[c] ..] L_c, k x k row-major float64 lower triangle, diagonal > 0,
 *   refs_t[to .. to+k*n)    whitened centred references y_j = L_c^-1 (r_j[active] - centre),
 *                           TRANSPOSED: [k x n] row-major (y_j[i] at refs_t[to + i*n + j]);
 *                           segsa_lsa_prepare_references fills it,
 *   ref_norm2[ro .. ro+n)   ||y_j||^2,
 *   log_norm[c]             -log(n) - k/2 log(2 pi) - sum_i log L_c[i][i].
 * LSA(x) = -log f(x) = -(logsumexp_j(-||L^-1 (x[active] - r_j[active])||^2 / 2) + log_norm[c]).
 * Pixels predicted as a class without a model (or outside [0, num_classes)) are not counted and
 * get NaN in the map. For segsa_cuda_lsa_frame all array pointers inside the struct are device
 * pointers (the struct itself lives in host memory).
 */
typedef struct segsa_lsa_models {
    int32_t num_classes;
    int32_t dim;
    const int32_t* active_count; /* [num_classes] */
    const int64_t* offset;       /* [num_classes] into active_index and centre */
    const int32_t* active_index; /* packed */
    const double* centre;        /* packed */
    const int64_t* chol_offset;  /* [num_classes] into chol */
    const double* chol;          /* packed */
    const int32_t* ref_count;    /* [num_classes] n_c (>= 1 when the class has a model) */
    const int64_t* refs_t_offset;/* [num_classes] into refs_t (in doubles) */
    const double* refs_t;        /* packed [k_c x n_c] blocks */
    const int64_t* ref_offset;   /* [num_classes] into ref_norm2 */
    const double* ref_norm2;     /* packed [n_c] blocks */
    const double* log_norm;      /* [num_classes] */
} segsa_lsa_models;

/* How segsa_lsa_frame treats references, process-wide:
   SEGSA_LSA_PRUNE (the default) skips the references that a proved bound puts below e^-40 of the
   pixel's largest kernel (native/lsa.cpp); SEGSA_LSA_PRUNE_VERIFY also evaluates every skipped
   reference and counts those that came within e^-40 (for tests; always 0 unless the bound is
   wrong); SEGSA_LSA_EXHAUSTIVE evaluates every (pixel, reference) pair (the peer of benchmarks). */
#define SEGSA_LSA_PRUNE 0
#define SEGSA_LSA_PRUNE_VERIFY 1
#define SEGSA_LSA_EXHAUSTIVE 2
SEGSA_API int segsa_lsa_set_pruning(int mode);

/* Process-wide counters of segsa_lsa_frame since the last reset: (pixel, reference) pairs
   evaluated and skipped by the bound, and bound violations seen in verify mode (always 0 unless
   the bound is wrong). reset != 0 returns the counts and sets them to 0. */
SEGSA_API int segsa_lsa_pruning_stats(int64_t* evaluated, int64_t* pruned, int64_t* violations, int reset);

/* Workspace bytes needed by segsa_lsa_frame for this frame shape (independent of the reference counts). */
SEGSA_API int segsa_lsa_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes, size_t* bytes);

/*
 * Model preparation (once per model, may allocate): whitens n references [n x d] row-major
 * float64 into refs_t [k x n] (y_j = L^-1 (r_j[active] - centre), transposed) and ref_norm2 [n].
 */
SEGSA_API int segsa_lsa_prepare_references(const double* references, int n, int d, int k,
                                           const int32_t* active_index, const double* centre, const double* chol,
                                           double* refs_t, double* ref_norm2);

/*
 * Fused whole-frame LSA: per class present, whitens the low-resolution cells its pixels touch
 * (z = L^-1 (f[active] - centre)), forms <z_k, y_j> with one GEMM at low resolution (in chunks of
 * references), and per output pixel interpolates the dot products with its bilinear/nearest
 * weights, ||y_p - y_j||^2 = ||y_p||^2 - 2 y_p.y_j + ||y_j||^2, and an online log-sum-exp over the
 * references. float64 throughout. Arguments as segsa_mdsa_frame; workspace of at least
 * segsa_lsa_workspace_bytes.
 */
SEGSA_API int segsa_lsa_frame(const float* features, int d, int h0, int w0, int H, int W, int upsample_mode,
                              const int32_t* predicted, int num_classes, const segsa_lsa_models* models,
                              void* workspace, size_t workspace_bytes,
                              float* sa_map_or_null, int64_t* class_pixels, double* class_sums);

/*
 * The pass over one frame's class scores that replaces LibTorch's argmax, non-finite check and
 * softmax ops after the forward: one read of the logits, one OpenMP region.
 *   logits            float32 [num_classes, h, w] channel-major. h == H and w == W: at the output
 *                     size; otherwise upsampled on the fly to H x W with upsample_mode, rounding as
 *                     PyTorch's CPU kernels do in float32 (the upsampled logits are never stored)
 *   predicted         [H*W] out: argmax over the classes, torch.argmax semantics (the first
 *                     maximum; a NaN counts as the maximum, the first NaN wins)
 *   class_pixels      [num_classes] out: pixels per predicted class
 *   non_finite_logits out: NaN or infinite (upsampled) logits
 *   uncertainty_sums  [4 * num_classes] out, or NULL to skip: per predicted class, the sums over
 *                     its pixels of entropy, margin (1 - (p1 - p2)), least confidence (1 - p1) and
 *                     DeepGini (1 - sum p^2) of the pixel's softmax, computed in float64 and
 *                     rounded to float32 per pixel; blocks of num_classes in that order
 *   features          float32 values to check (the frame's feature map), or NULL; then
 *   feature_values    their number, and non_finite_features (out) the NaN/Inf count among them
 * Counts and sums are reduced over fixed chunks in one order: the results do not depend on the
 * thread count. Workspace: segsa_logits_workspace_bytes.
 */
SEGSA_API int segsa_logits_workspace_bytes(int num_classes, int H, int W, size_t* bytes);
SEGSA_API int segsa_logits_frame(const float* logits, int num_classes, int h, int w, int H, int W, int upsample_mode,
                                 void* workspace, size_t workspace_bytes,
                                 int32_t* predicted, int64_t* class_pixels, int64_t* non_finite_logits,
                                 double* uncertainty_sums, const float* features, int64_t feature_values,
                                 int64_t* non_finite_features);

/*
 * segsa_logits_frame plus per-pixel softmax maps, in the same pass and with the same arguments
 * and workspace (segsa_logits_workspace_bytes); its predicted map, counts and sums are bit for bit
 * segsa_logits_frame's. Each map is optional (NULL: not written); when any is given the softmax
 * runs even if uncertainty_sums is NULL:
 *   entropy_map     float32 [H*W] out: the pixel's softmax entropy (nats), the float32 value that
 *                   segsa_logits_frame adds to the entropy sums
 *   margin_map      float32 [H*W] out: 1 - (p1 - p2) (0 with one class), the value added to the
 *                   margin sums
 *   probabilities   float32 [num_classes, H*W] out, channel-major: p_c = e_c / s of the float64
 *                   softmax (e_c = exp(l_c - max l), s = sum e_c), rounded to float32
 * so the per-class means of the entropy and margin maps over the predicted pixels are
 * uncertainty_sums / class_pixels (up to the order of the float64 additions). At a pixel with a
 * non-finite logit the maps' values are unspecified: NaN or infinite (e.g. a -inf logit gives an
 * infinite entropy), not meaningful; such a frame counts in non_finite_logits. Every map value
 * depends on its pixel alone: the maps do not depend on the thread count.
 */
SEGSA_API int segsa_logits_maps_frame(const float* logits, int num_classes, int h, int w, int H, int W, int upsample_mode,
                                      void* workspace, size_t workspace_bytes, int32_t* predicted, int64_t* class_pixels,
                                      int64_t* non_finite_logits, double* uncertainty_sums, const float* features,
                                      int64_t feature_values, int64_t* non_finite_features,
                                      float* entropy_map, float* margin_map, float* probabilities);

/*
 * Per predicted class, over its scored pixels (sa_map not NaN): max, the 95th percentile (numpy's
 * linear definition: at position 0.95 (n - 1), interpolated between the two order statistics
 * around it) and, when share is not NULL, the share of values > threshold. Classes without a
 * scored pixel are left untouched. Every predicted class must be in [0, num_classes). Exact order
 * statistics (selection), the same at any thread count. Workspace:
 * segsa_class_statistics_workspace_bytes.
 */
SEGSA_API int segsa_class_statistics_workspace_bytes(int64_t pixels, int num_classes, size_t* bytes);
SEGSA_API int segsa_class_statistics(const float* sa_map, const int32_t* predicted, int64_t pixels, int num_classes,
                                     double threshold, void* workspace, size_t workspace_bytes, double* max,
                                     double* p95, double* share);

/*
 * Per-segment features in the manner of MetaSeg (Rottmann et al., github mrottmann/MetaSeg,
 * metrics.pyx), native/segments.cpp; dev.segsa.segments.SegmentReference is the plain-Java
 * reference and dev.segsa.segments.SegmentFeatures names the columns. Two calls per frame: label,
 * then features, with one workspace of segsa_segments_workspace_bytes(H, W) bytes (about
 * 33 * H*W bytes) for both. Labelling runs on the calling thread; the features' heat-map and
 * probability sums run one map per OpenMP thread (segsa_set_threads), each sum in raster order:
 * results never depend on the thread count.
 *
 * Segments: the connected components of the predicted class map (8-neighbourhood, pixels of equal
 * class). Segment ids 0, 1, 2, ... follow the raster order (row-major) of each segment's first
 * pixel. Interior of a segment: its pixels whose 8 neighbours all exist (inside the image) and are
 * in the segment; boundary: the rest, so pixels on the image border are boundary and S_bd >= 1.
 * (MetaSeg counts a border pixel as interior when its in-image neighbours are all in the segment;
 * this library does not, which keeps S / S_bd finite for a segment that fills the frame.)
 *
 * Feature row of a segment: F = 8 + 5*K + C + 1 float64 values (SEGSA_SEGMENT_COLUMNS):
 *   [0] class  [1] S  [2] S_in  [3] S_bd  [4] S / S_bd  [5] S_in / S_bd
 *   [6] mean row (y) of its pixels  [7] mean column (x)
 *   [8 + 5k + 0..4] for heat map k: E (mean over the segment), E_in (mean over the interior, 0
 *       when S_in = 0), E_bd (mean over the boundary), E_rel = E * (S / S_bd),
 *       E_rel_in = E_in * (S_in / S_bd). Sums are float64 in raster order within runs; a NaN (or
 *       infinite) heat-map value makes every mean that covers its pixel NaN (or infinite): the
 *       caller passes finite maps for scored frames.
 *   [8 + 5K + c] mean softmax probability of class c over the segment (NaN without probabilities)
 *   [8 + 5K + C] IoU_adj (NaN without labels, or when every pixel of the segment is an ignore pixel)
 *
 * IoU_adj, exactly as MetaSeg's segment_search ("iou" with the "# IoU_adj" line): for a segment k
 * of class c, with labels outside [0, C) ignore pixels,
 *   I = |{p in k : label p = c}|,
 *   R = the pixels p with label c and predicted class != c that are 8-connected, through such
 *       pixels, to a pixel 8-adjacent to k (so ground truth of class c is followed only outside
 *       every predicted class-c segment: an object split into several predicted segments does not
 *       count the other parts against each part),
 *   U = |{p in k : label p not ignore}| + |R|,
 *   IoU_adj = I / U, and 0 when I = 0.
 * MetaSeg removes ignore pixels from the prediction before segmenting; here the segments stay as
 * predicted and their ignore pixels are left out of I and U.
 */
#define SEGSA_SEGMENT_COLUMNS(K, C) (8 + 5 * (K) + (C) + 1)

/* Workspace bytes for segsa_segments_label and segsa_segments_features at H x W. */
SEGSA_API int segsa_segments_workspace_bytes(int H, int W, size_t* bytes);

/*
 * Labels the segments of predicted [H*W] (every class in [0, num_classes), else
 * SEGSA_ERR_INVALID_ARGUMENT naming the pixel): writes segment_ids [H*W] (int32, ids in raster
 * order of first pixels) and *segment_count (1 .. H*W). Two-pass union-find over the raster.
 */
SEGSA_API int segsa_segments_label(const int32_t* predicted, int H, int W, int num_classes, void* workspace,
                                   size_t workspace_bytes, int32_t* segment_ids, int32_t* segment_count);

/*
 * Feature rows of the segment_count segments of segment_ids (as segsa_segments_label wrote them
 * for the same predicted map; a pixel whose id is outside [0, segment_count), whose class differs
 * from its segment's, or a segment without pixels is SEGSA_ERR_INVALID_ARGUMENT).
 *   heat_maps               float32 [K][H*W] (K >= 0; may be NULL when K = 0)
 *   probabilities_or_null   float32 [num_classes][H*W] channel-major softmax, or NULL
 *   labels_or_null          int32 [H*W] ground truth (outside [0, num_classes): ignore), or NULL
 *   out                     float64 [segment_count * F] row-major, F = SEGSA_SEGMENT_COLUMNS(K, C)
 *   out_rows_capacity       rows out can hold; < segment_count is SEGSA_ERR_BUFFER_TOO_SMALL
 */
SEGSA_API int segsa_segments_features(const int32_t* predicted, const int32_t* segment_ids, int32_t segment_count, int H,
                                      int W, int num_classes, const float* heat_maps, int K,
                                      const float* probabilities_or_null, const int32_t* labels_or_null,
                                      void* workspace, size_t workspace_bytes, double* out, int64_t out_rows_capacity);

/* -------------------------------------------------------------- CUDA library: libsegsa_cuda */

SEGSA_API int segsa_cuda_last_error(char* buf, size_t len);
SEGSA_API int segsa_cuda_version(int* major, int* minor, int* patch);
/* Number of CUDA devices; 0 (and SEGSA_OK) when there is no driver or no device. */
SEGSA_API int segsa_cuda_device_count(int* count);
/* Device workspace bytes for segsa_cuda_mdsa_frame. */
SEGSA_API int segsa_cuda_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes, size_t* bytes);
/*
 * segsa_mdsa_frame on the current device: every array argument is a device pointer (models: a
 * host struct of device pointers), work is enqueued on `stream` (a cudaStream_t, NULL = default
 * stream) and the call returns without synchronising; results are valid after the stream
 * completes.
 */
SEGSA_API int segsa_cuda_mdsa_frame(const float* features, int d, int h0, int w0, int H, int W, int upsample_mode,
                                    const int32_t* predicted, int num_classes, const segsa_mdsa_models* models,
                                    void* workspace, size_t workspace_bytes,
                                    float* sa_map_or_null, int64_t* class_pixels, double* class_sums,
                                    void* stream);

/* Device workspace bytes for segsa_cuda_mdsa_batch of n frames (n = 1: segsa_cuda_workspace_bytes). */
SEGSA_API int segsa_cuda_mdsa_batch_workspace_bytes(int n, int d, int h0, int w0, int H, int W, int num_classes,
                                                   size_t* bytes);
/*
 * segsa_cuda_mdsa_frame for a batch of n frames (1 <= n <= 65535) of one shape in one launch per
 * kernel: features [n, d, h0, w0], predicted and sa_map_or_null [n, H*W], class_pixels and
 * class_sums [n, num_classes] (frame-major), all device pointers; enqueued on `stream`, no
 * synchronisation.
 */
SEGSA_API int segsa_cuda_mdsa_batch(const float* features, int n, int d, int h0, int w0, int H, int W, int upsample_mode,
                                    const int32_t* predicted, int num_classes, const segsa_mdsa_models* models,
                                    void* workspace, size_t workspace_bytes,
                                    float* sa_map_or_null, int64_t* class_pixels, double* class_sums, void* stream);

/* Device workspace bytes for segsa_cuda_lsa_frame (independent of the reference counts): about
 * num_classes * h0*w0 * (d + 128) * 8 + H*W * 24 bytes. */
SEGSA_API int segsa_cuda_lsa_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes, size_t* bytes);
/*
 * segsa_lsa_frame on the current device, same results (float64 throughout; the log-sum-exp runs
 * over chunks of 128 references, so the last bits differ): every array argument is a device
 * pointer (models: a host struct of device pointers), work is enqueued on `stream` (a
 * cudaStream_t, NULL = default stream) and the call returns without synchronising; results are
 * valid after the stream completes.
 *   max_references  a host value >= every models->ref_count[c] of a class with a model (the
 *                   largest one is best): it sizes the chunk loop without reading device memory.
 * The models' device arrays are not validated (that would need a host round trip): the pixels of
 * a class whose model is malformed (active_count < 0 or > d, ref_count < 1 or > max_references)
 * are counted with a NaN score, so class_sums[c] is NaN; the other checks of segsa_lsa_frame
 * (offsets, Cholesky diagonal, log_norm) are the caller's job.
 */
SEGSA_API int segsa_cuda_lsa_frame(const float* features, int d, int h0, int w0, int H, int W, int upsample_mode,
                                   const int32_t* predicted, int num_classes, const segsa_lsa_models* models,
                                   int max_references, void* workspace, size_t workspace_bytes,
                                   float* sa_map_or_null, int64_t* class_pixels, double* class_sums, void* stream);

/* Device workspace bytes for segsa_cuda_accumulate_frame: about num_classes * h0*w0 * 72 bytes. */
SEGSA_API int segsa_cuda_accumulate_workspace_bytes(int d, int h0, int w0, int H, int W, int num_classes,
                                                    size_t* bytes);
/*
 * segsa_accumulate_frame on the current device, same outputs (counts equal; means and comoments in
 * float64, equal up to rounding: the device sums in another order, with atomics, so the last bits
 * may also differ from run to run): every array argument is a device pointer, work is enqueued on
 * `stream` (a cudaStream_t, NULL = default stream) and the call returns without synchronising;
 * results are valid after the stream completes. comoments [num_classes*d*d] also serves as
 * scratch while the call runs.
 */
SEGSA_API int segsa_cuda_accumulate_frame(const float* features, int d, int h0, int w0, int H, int W,
                                          int upsample_mode, const int32_t* labels, int num_classes,
                                          void* workspace, size_t workspace_bytes,
                                          int64_t* counts, double* means, double* comoments, void* stream);

/* Device workspace bytes for segsa_cuda_logits_frame. */
SEGSA_API int segsa_cuda_logits_workspace_bytes(int num_classes, int H, int W, size_t* bytes);
/*
 * segsa_logits_frame on the current device: every array argument is a device pointer, work is
 * enqueued on `stream` and the call returns without synchronising. Predicted classes and counts
 * as the CPU pass; the uncertainty sums are accumulated with double atomics (equal up to their
 * order). Low-resolution logits are interpolated with the CPU pass's float32 arithmetic.
 */
SEGSA_API int segsa_cuda_logits_frame(const float* logits, int num_classes, int h, int w, int H, int W, int upsample_mode,
                                      void* workspace, size_t workspace_bytes, int32_t* predicted, int64_t* class_pixels,
                                      int64_t* non_finite_logits, double* uncertainty_sums, const float* features,
                                      int64_t feature_values, int64_t* non_finite_features, void* stream);

/*
 * The segments pass (segsa_segments_*) on the current device, cuda/segments.cu: every array
 * argument is a device pointer, work is enqueued on `stream` (a cudaStream_t, NULL = default
 * stream). One workspace of segsa_cuda_segments_workspace_bytes(H, W, C) bytes serves both calls
 * (about 44 * H*W bytes, 32 of them a hash set of the pairs IoU_adj counts; it depends on H and
 * W only, num_classes is validated); calls that share a workspace must be ordered (one stream).
 */
SEGSA_API int segsa_cuda_segments_workspace_bytes(int H, int W, int num_classes, size_t* bytes);
/*
 * segsa_segments_label on the device: the same segment ids [H*W] as the CPU, exactly (union-find
 * over pixel indices whose roots are each segment's first pixel, numbered in raster order by a
 * prefix sum). The count is a host value, so this call SYNCHRONISES `stream` (it returns after
 * the labelling finished): *segment_count_host (1 .. H*W) is set on success. A predicted class
 * outside [0, num_classes) is SEGSA_ERR_INVALID_ARGUMENT naming the first such pixel (found on the
 * device; segment_ids are then undefined).
 */
SEGSA_API int segsa_cuda_segments_label(const int32_t* predicted, int H, int W, int num_classes, void* workspace,
                                        size_t workspace_bytes, int32_t* segment_ids, int32_t* segment_count_host,
                                        void* stream);
/*
 * segsa_segments_features on the device, the same table (F = SEGSA_SEGMENT_COLUMNS(K, C) columns,
 * out [segment_count * F] float64 on the device): enqueued on `stream`, no synchronisation;
 * results are valid after the stream completes. segment_count is the host value of
 * segsa_cuda_segments_label for the same predicted map. Class, sizes, S/S_bd ratios, mean
 * coordinates and IoU_adj are equal to the CPU's exactly (integer counts); the heat-map means and
 * mean probabilities equal up to rounding (per-segment sums by double atomics, in another order
 * than the CPU's and varying from run to run). Argument errors on the host side (null pointers,
 * sizes, segment_count outside 1 .. H*W, out_rows_capacity < segment_count: BUFFER_TOO_SMALL,
 * workspace) come back as status codes; the device data is not validated on the host (that would
 * need a round trip): if any pixel has a class outside [0, num_classes), an id outside
 * [0, segment_count) or a class other than its segment's, every row is NaN, and a segment without
 * pixels has a NaN row (ids that are not the connected components of predicted may also give NaN
 * rows).
 */
SEGSA_API int segsa_cuda_segments_features(const int32_t* predicted, const int32_t* segment_ids, int32_t segment_count,
                                           int H, int W, int num_classes, const float* heat_maps, int K,
                                           const float* probabilities_or_null, const int32_t* labels_or_null,
                                           void* workspace, size_t workspace_bytes, double* out,
                                           int64_t out_rows_capacity, void* stream);

#ifdef __cplusplus
}
#endif

#endif /* SEGSA_H */
