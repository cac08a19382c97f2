package dev.segsa.model;

import dev.segsa.features.FeatureMap;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * What the model produced for one frame: the low-resolution feature map (a view of LibTorch
 * memory, valid while the frame's PointerScope is open), the number of classes, the predicted
 * class of every output pixel (argmax of the upsampled logits, int32 [H*W] row-major in native
 * memory: the buffer the SA kernels read in place), the pixels per predicted class, when asked
 * for the per-class means of the softmax uncertainty (null otherwise), and the counts of NaN or
 * infinite logits and features (a frame with any gets no SA: its predicted classes or its traces
 * are not meaningful). {@code predicted} is a buffer the model reuses for every frame (steady-state
 * scoring allocates no per-pixel array): valid until the model's next {@code infer} or its close;
 * copy it ({@link #predictedArray()}) to keep it.
 *
 * <p>When the maps were asked for ({@code SegmentationModel.infer(..., maps = true)}), the per-pixel
 * softmax maps of the (upsampled) logits, read-only float32 native memory with the lifetime of
 * {@code predicted} (null otherwise): {@link #entropyMap()} [H*W] (nats) and {@link #marginMap()}
 * [H*W] (1 - (p1 - p2)), the float32 values whose per-class means are {@link #uncertainty()}'s
 * entropy and margin, and {@link #probabilities()} [classes, H*W] channel-major. Their values at a
 * pixel with a non-finite logit are NaN or infinite (such a frame has {@code nonFiniteLogits > 0}).
 */
public record FrameOutput(FeatureMap features, int classes, int height, int width, MemorySegment predicted,
                          long[] classPixels, SoftmaxUncertainty uncertainty, long nonFiniteLogits, long nonFiniteFeatures,
                          MemorySegment entropyMap, MemorySegment marginMap, MemorySegment probabilities) {

    /** Without the per-pixel maps. */
    public FrameOutput(FeatureMap features, int classes, int height, int width, MemorySegment predicted, long[] classPixels,
                       SoftmaxUncertainty uncertainty, long nonFiniteLogits, long nonFiniteFeatures) {
        this(features, classes, height, width, predicted, classPixels, uncertainty, nonFiniteLogits, nonFiniteFeatures, null, null,
                null);
    }

    /** Whether the per-pixel softmax maps are present. */
    public boolean hasMaps() {
        return entropyMap != null;
    }

    /** A copy of the predicted classes on the Java heap. */
    public int[] predictedArray() {
        return predicted.asSlice(0, 4L * height * width).toArray(ValueLayout.JAVA_INT);
    }

    /**
     * Per predicted class, the mean over its pixels of four measures of the uncertainty of the
     * pixel's softmax p = softmax(upsampled logits) (NaN for a class without pixels). Every measure
     * is oriented so that higher means more uncertain:
     * <ul>
     *   <li>{@code entropy} = -sum_c p_c ln p_c (nats; 0 .. ln C);</li>
     *   <li>{@code margin} = 1 - (p_top1 - p_top2), one minus the gap between the two largest
     *       probabilities (0 .. 1; 0 with a single class);</li>
     *   <li>{@code leastConfidence} = 1 - max_c p_c;</li>
     *   <li>{@code deepGini} = 1 - sum_c p_c^2 (Feng et al., DeepGini).</li>
     * </ul>
     * Each pixel's measures are computed in float64 and rounded to float32; the means are float64.
     */
    public record SoftmaxUncertainty(double[] entropy, double[] margin, double[] leastConfidence, double[] deepGini) {
        /** Measure names in the order of {@link #measures()}; also the scores.csv column names. */
        public static final List<String> NAMES = List.of("entropy", "margin", "least_confidence", "deepgini");

        /** The four per-class means in the order of {@link #NAMES}: [measure][class]. */
        public double[][] measures() {
            return new double[][] {entropy, margin, leastConfidence, deepGini};
        }

        static SoftmaxUncertainty of(double[][] means) {
            return new SoftmaxUncertainty(means[0], means[1], means[2], means[3]);
        }
    }
}
