package dev.segsa.score;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.List;

/**
 * What scoring one frame gives, per class c (index = class id). Class SA values are NaN where
 * no pixel of the class was scored: none predicted, no fitted model for the class, or non-finite
 * features or logits (then {@link #nonFiniteFeatures()} or {@link #nonFiniteLogits()} &gt; 0 and no
 * pixel is scored at all).
 *
 * <p>The per-class arrays belong to the caller. {@link #mdsaMap()} and {@link #predictedMap()} are
 * read-only views of buffers the scorer reuses: valid until the next frame is scored on the same
 * thread (or the engine is closed); {@link #copyMdsaMap()} and {@link #copyPredictedMap()} copy
 * them to keep.
 *
 * @param frame             the frame's name as given (file name, stream and index, ...)
 * @param width             output width (after the SA model's resize)
 * @param height            output height
 * @param classNames        class names in id order
 * @param predictedPixels   pixels predicted as the class
 * @param mdsaMean          mean MDSA over the class's scored pixels (the paper's class SA)
 * @param mdsaMax           largest MDSA of the class's pixels
 * @param mdsaP95           95th percentile (linear interpolation between order statistics, numpy's default)
 * @param saThreshold       the threshold of {@code shareAboveThreshold}, NaN when none was set
 * @param shareAboveThreshold share of the class's scored pixels with MDSA above {@code saThreshold};
 *                          null when no threshold was set
 * @param lsa               LSA state of this frame
 * @param lsaMean           mean LSA over the class's pixels; null unless {@code lsa} is COMPUTED
 * @param uncertainty       [measure][class] means of the softmax uncertainty baselines over the
 *                          class's predicted pixels ({@code SoftmaxUncertainty.NAMES} order); null unless asked
 * @param nonFiniteFeatures NaN or infinite values in the frame's feature map
 * @param nonFiniteLogits   NaN or infinite class scores (after upsampling); with any, the frame gets no SA
 * @param timings           where the frame's time went
 * @param frameReference    the SA file's class MDSA distributions over its fit frames (the reference of
 *                          {@link #classPercentile} and {@link #classAwareScore}), or null when it has none
 * @param segments          the frame's segments and, with a risk model, its risk; null unless asked for
 *                          ({@code Segsa.Builder.segments} or {@code riskModel}) and the frame was scored
 */
public record FrameResult(String frame, int width, int height, List<String> classNames, long[] predictedPixels,
                          double[] mdsaMean, double[] mdsaMax, double[] mdsaP95, double saThreshold,
                          double[] shareAboveThreshold, LsaState lsa, double[] lsaMean, double[][] uncertainty,
                          long nonFiniteFeatures, long nonFiniteLogits, StageTimes timings, FloatBuffer mdsaMapView, IntBuffer predictedView,
                          dev.segsa.samodel.ClassFrameReference frameReference, FrameSegments segments) {

    /**
     * The frame's risk: one minus its predicted mIoU, from its segments and the engine's risk model
     * ({@code segsa fit-risk}); NaN without a risk model or for an unscored frame.
     */
    public double risk() {
        return segments == null ? Double.NaN : segments.risk();
    }

    /** Whether LSA was computed for the frame. */
    public enum LsaState {
        /** LSA was not asked for. */
        NOT_ASKED,
        /** Computed for every scored pixel. */
        COMPUTED,
        /** Asked for, but it would have pushed the frame past the per-frame budget: MDSA only. */
        SKIPPED_FOR_BUDGET,
        /** Asked for, but the features were not finite. */
        SKIPPED_NON_FINITE
    }

    /**
     * Nanoseconds spent on the frame, in stages that do not overlap: decode (conversion, resize,
     * normalisation), the model's forward, the post-forward pass over its outputs (argmax, non-finite
     * checks, uncertainty), SA (the MDSA kernel, the frame's statistics and, when asked for, the
     * segments and risk) and LSA (the KDE kernel alone; 0 when the frame got no LSA).
     */
    public record StageTimes(long decodeNanos, long forwardNanos, long postForwardNanos, long saNanos, long lsaNanos) {
        /** Stage times of a frame without LSA. */
        public StageTimes(long decodeNanos, long forwardNanos, long postForwardNanos, long saNanos) {
            this(decodeNanos, forwardNanos, postForwardNanos, saNanos, 0);
        }

        public long totalNanos() {
            return decodeNanos + forwardNanos + postForwardNanos + saNanos + lsaNanos;
        }

        /** The model's forward and segsa's pass over its outputs together. */
        public long inferenceNanos() {
            return forwardNanos + postForwardNanos;
        }
    }

    /** Whether the frame was scored at all (its features and logits were finite). */
    public boolean scored() {
        return nonFiniteFeatures == 0 && nonFiniteLogits == 0;
    }

    public int classes() {
        return predictedPixels.length;
    }

    /** Per-pixel MDSA, row-major [height * width], NaN where not scored. Valid until the next frame on this thread. */
    public FloatBuffer mdsaMap() {
        return mdsaMapView.duplicate();
    }

    /** Per-pixel predicted class, row-major [height * width]. Valid until the next frame on this thread. */
    public IntBuffer predictedMap() {
        return predictedView.duplicate();
    }

    public float[] copyMdsaMap() {
        float[] out = new float[width * height];
        mdsaMapView.get(0, out);
        return out;
    }

    public int[] copyPredictedMap() {
        int[] out = new int[width * height];
        predictedView.get(0, out);
        return out;
    }

    /**
     * Where the frame's class MDSA of class c sits among the fit frames' (0..1, extended past the
     * fitted range; see {@link dev.segsa.samodel.ClassFrameReference}); NaN when the class does not
     * cover enough of the frame, was not scored, or the SA file has no reference for it.
     */
    public double classPercentile(int c) {
        if (frameReference == null || c < 0 || c >= classes()) return Double.NaN;
        long total = (long) width * height;
        if (!frameReference.counts(c, predictedPixels[c], total)) return Double.NaN;
        return frameReference.percentile(c, mdsaMean[c]);
    }

    /**
     * The class-aware frame score: the highest (weighted) class percentile among the classes that
     * cover enough of the frame. Unlike {@link #imageMdsa()} it is not dominated by road, sky and
     * buildings, and it compares frames of different recordings on the fit frames' scale. NaN
     * when the SA file has no class reference (fitted before it was recorded) or no class counts.
     * Allocates nothing.
     */
    public double classAwareScore() {
        return frameReference == null ? Double.NaN : frameReference.frameScore(predictedPixels, mdsaMean);
    }

    /** Image MDSA: the pixel-weighted mean of the class means, i.e. the mean MDSA of every scored pixel; NaN when none. */
    public double imageMdsa() {
        double sum = 0;
        long n = 0;
        for (int c = 0; c < classes(); c++) {
            if (Double.isFinite(mdsaMean[c])) {
                sum += mdsaMean[c] * predictedPixels[c];
                n += predictedPixels[c];
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
