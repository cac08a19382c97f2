package dev.segsa.kernel;

import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The SA kernels over whole frames. Every implementation computes exactly what
 * {@link ReferenceBackend} computes (per-pixel activation traces = the feature map upsampled to
 * H x W with {@code mode}), within a tolerance its tests state. Implementations may keep scratch
 * memory between calls and are not thread-safe; use one per thread.
 */
public interface Backend extends AutoCloseable {
    /** Short name: "reference", "native-cpu", "cuda". */
    String name();

    /**
     * Accumulates the statistics of the activation traces of labelled pixels.
     *
     * @param labels per-pixel true class [H*W]; values outside [0, stats.length) are ignored
     * @param stats  one accumulator per class, updated in place
     */
    void accumulate(FeatureMap features, UpsampleMode mode, int height, int width, int[] labels, ClassStatistics[] stats);

    /**
     * Per-pixel MDSA of every pixel against the model of its predicted class.
     *
     * @param predicted per-pixel predicted class [H*W]; pixels whose class has no model (null) are
     *                  not scored and count nowhere
     * @param out       reset by the caller; receives per-class pixel counts and SA sums, and the
     *                  per-pixel map when it has one
     */
    void mdsa(FeatureMap features, UpsampleMode mode, int height, int width, int[] predicted,
              MahalanobisModel[] models, FrameScores out);

    /** Per-pixel LSA, as {@link #mdsa} with the KDE models. */
    void lsa(FeatureMap features, UpsampleMode mode, int height, int width, int[] predicted,
             KdeModel[] models, FrameScores out);

    /**
     * {@link #mdsa(FeatureMap, UpsampleMode, int, int, int[], MahalanobisModel[], FrameScores)} with the
     * predicted classes as int32 [H*W] in a segment, e.g. the model's native buffer
     * ({@code FrameOutput.predicted()}): native backends read it in place; the default copies it.
     */
    default void mdsa(FeatureMap features, UpsampleMode mode, int height, int width, MemorySegment predicted,
                      MahalanobisModel[] models, FrameScores out) {
        mdsa(features, mode, height, width, perPixelArray(predicted, height, width), models, out);
    }

    /** {@link #lsa(FeatureMap, UpsampleMode, int, int, int[], KdeModel[], FrameScores)} on a segment, as the MDSA overload. */
    default void lsa(FeatureMap features, UpsampleMode mode, int height, int width, MemorySegment predicted,
                     KdeModel[] models, FrameScores out) {
        lsa(features, mode, height, width, perPixelArray(predicted, height, width), models, out);
    }

    /** The int32 [H*W] of a per-pixel segment on the heap; refuses a segment of another size. */
    static int[] perPixelArray(MemorySegment perPixel, int height, int width) {
        checkPerPixel(perPixel, height, width);
        return perPixel.toArray(ValueLayout.JAVA_INT);
    }

    static void checkPerPixel(MemorySegment perPixel, int height, int width) {
        if (perPixel.byteSize() != 4L * height * width) {
            throw new IllegalArgumentException("per-pixel segment has " + perPixel.byteSize() + " bytes, frame is " + width + "x"
                    + height + " (" + 4L * height * width + " bytes of int32)");
        }
    }

    @Override
    default void close() {}
}
