package dev.segsa.model;

import dev.segsa.features.FeatureMap;

import java.util.List;

/**
 * What the model produced for one frame: the low-resolution feature map (a view of LibTorch
 * memory, valid while the frame's PointerScope is open), the number of classes, the predicted
 * class of every output pixel (argmax of the upsampled logits) and, when asked for, the per-pixel
 * softmax uncertainty of the upsampled logits (null otherwise), and the count of NaN or infinite
 * logits (their frame gets no SA: the predicted classes are not meaningful). {@code predicted} is a buffer the
 * model reuses for every frame of the same size (steady-state scoring allocates no per-pixel
 * array): valid until the model's next {@code infer}; copy it to keep it.
 */
public record FrameOutput(FeatureMap features, int classes, int height, int width, int[] predicted,
                          SoftmaxUncertainty uncertainty, long nonFiniteLogits) {

    public FrameOutput(FeatureMap features, int classes, int height, int width, int[] predicted) {
        this(features, classes, height, width, predicted, null, 0);
    }

    /**
     * Per-pixel uncertainty of the softmax p = softmax(upsampled logits) over the classes, each a
     * row-major float[height * width] on the Java heap. Every measure is oriented so that higher
     * means more uncertain:
     * <ul>
     *   <li>{@code entropy} = -sum_c p_c ln p_c (nats; 0 .. ln C);</li>
     *   <li>{@code margin} = 1 - (p_top1 - p_top2), one minus the gap between the two largest
     *       probabilities (0 .. 1; 0 with a single class);</li>
     *   <li>{@code leastConfidence} = 1 - max_c p_c;</li>
     *   <li>{@code deepGini} = 1 - sum_c p_c^2 (Feng et al., DeepGini).</li>
     * </ul>
     */
    public record SoftmaxUncertainty(float[] entropy, float[] margin, float[] leastConfidence, float[] deepGini) {
        /** Measure names in the order of {@link #measures()}; also the scores.csv column names. */
        public static final List<String> NAMES = List.of("entropy", "margin", "least_confidence", "deepgini");

        /** The four per-pixel maps in the order of {@link #NAMES}. */
        public float[][] measures() {
            return new float[][] {entropy, margin, leastConfidence, deepGini};
        }
    }
}
