package dev.segsa.score;

import dev.segsa.kernel.Backend;
import dev.segsa.kernel.FrameScores;

import dev.segsa.error.SegsaException;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.samodel.SaModel;
import dev.segsa.model.FrameOutput;
import dev.segsa.model.SegmentationModel;
import org.bytedeco.javacpp.PointerScope;

import java.util.Arrays;
import java.util.List;

/**
 * Scores one frame at a time: runs the model, then every pixel's MDSA (and LSA when enabled)
 * against the model of its predicted class. The entry point for embedding segsa in a recorder.
 * Holds per-frame buffers that it reuses; not thread-safe (one per thread).
 */
public final class FrameScorer {
    private final SegmentationModel model;
    private final SaModel sa;
    private final Backend backend;
    private final MahalanobisModel[] mdsaModels;
    private final KdeModel[] lsaModels;
    private final FrameScores mdsaScores;
    private final FrameScores lsaScores;
    private final boolean withUncertainty;

    /**
     * Per-class results of one frame; class SA is NaN where no pixel was scored. {@code uncertainty}
     * is null unless asked for, else [measure][class]: the mean over the pixels predicted as the
     * class of each softmax uncertainty measure, in the order of
     * {@link FrameOutput.SoftmaxUncertainty#NAMES} (NaN where no pixel is predicted as the class).
     * {@code predicted} is the model's reused buffer (see {@link FrameOutput}): valid until the next
     * {@code score}; the per-class arrays and {@code mdsaMap} are the caller's to keep.
     */
    public record Result(int[] predicted, long[] predictedPixels, double[] mdsa, double[] lsa, long nonFiniteFeatures,
                         float[] mdsaMap, double[][] uncertainty) {
        public Result(int[] predicted, long[] predictedPixels, double[] mdsa, double[] lsa, long nonFiniteFeatures,
                      float[] mdsaMap) {
            this(predicted, predictedPixels, mdsa, lsa, nonFiniteFeatures, mdsaMap, null);
        }
    }

    /**
     * @param withLsa  compute LSA too (needs references in the SA model)
     * @param notes    receives model-derivation notes (dropped features, ridges, unfitted classes)
     */
    public FrameScorer(SegmentationModel model, SaModel sa, Backend backend, boolean withLsa, List<String> notes) {
        this(model, sa, backend, withLsa, false, notes);
    }

    /**
     * @param withLsa         compute LSA too (needs references in the SA model)
     * @param withUncertainty also aggregate the softmax uncertainty baselines per class, like SA
     * @param notes           receives model-derivation notes (dropped features, ridges, unfitted classes)
     */
    public FrameScorer(SegmentationModel model, SaModel sa, Backend backend, boolean withLsa, boolean withUncertainty,
                       List<String> notes) {
        this.model = model;
        this.withUncertainty = withUncertainty;
        this.sa = sa;
        this.backend = backend;
        this.mdsaModels = sa.mahalanobisModels(notes);
        if (withLsa && sa.references() == null) {
            throw new SegsaException("LSA was asked for but the SA model was fitted with --lsa-references 0");
        }
        this.lsaModels = withLsa ? sa.kdeModels(notes) : null;
        this.mdsaScores = new FrameScores(sa.classes());
        this.lsaScores = new FrameScores(sa.classes());
    }

    private long inferenceNanos;
    private long saNanos;
    private long frames;

    public int classes() {
        return sa.classes();
    }

    /**
     * @param chw    normalised frame, channel-major [3, height, width]
     * @param withMap keep the per-pixel MDSA map in the result
     */
    public Result score(float[] chw, int height, int width, String what, boolean withMap) {
        try (PointerScope scope = new PointerScope()) {
            long t0 = System.nanoTime();
            FrameOutput out = model.infer(chw, height, width, what, withUncertainty);
            long t1 = System.nanoTime();
            inferenceNanos += t1 - t0;
            if (out.classes() != sa.classes() || out.features().d() != sa.settings().featureDimension()) {
                throw new SegsaException(what + ": model returned " + out.classes() + " classes and " + out.features().d()
                        + " features, the SA model was fitted with " + sa.classes() + " and " + sa.settings().featureDimension());
            }
            int[] predicted = out.predicted();
            long[] pixels = new long[sa.classes()];
            for (int p : predicted) pixels[p]++;
            double[] mdsa = new double[sa.classes()];
            double[] lsa = new double[sa.classes()];
            Arrays.fill(mdsa, Double.NaN);
            Arrays.fill(lsa, Double.NaN);
            long bad = out.features().countNonFinite();
            double[][] uncertainty = out.uncertainty() == null ? null : classMeans(out.uncertainty(), predicted, pixels);
            if (bad > 0) return new Result(predicted, pixels, mdsa, lsa, bad, null, uncertainty);
            mdsaScores.reset(withMap ? height * width : 0);
            backend.mdsa(out.features(), sa.settings().upsample(), height, width, predicted, mdsaModels, mdsaScores);
            for (int c = 0; c < sa.classes(); c++) mdsa[c] = mdsaScores.mean(c);
            if (lsaModels != null) {
                lsaScores.reset(0);
                backend.lsa(out.features(), sa.settings().upsample(), height, width, predicted, lsaModels, lsaScores);
                for (int c = 0; c < sa.classes(); c++) lsa[c] = lsaScores.mean(c);
            }
            saNanos += System.nanoTime() - t1;
            frames++;
            return new Result(predicted, pixels, mdsa, lsa, 0, withMap ? mdsaScores.map().clone() : null, uncertainty);
        }
    }

    /** Seconds spent so far in the model (inference, logit upsampling, argmax) and in the SA kernels, over {@code frames} frames. */
    public record StageSeconds(long frames, double inference, double sa) {}

    public StageSeconds stageSeconds() {
        return new StageSeconds(frames, inferenceNanos / 1e9, saNanos / 1e9);
    }

    /** [measure][class]: mean of each per-pixel measure over the pixels predicted as the class (NaN where none). */
    private static double[][] classMeans(FrameOutput.SoftmaxUncertainty u, int[] predicted, long[] pixels) {
        float[][] maps = u.measures();
        double[][] out = new double[maps.length][pixels.length];
        for (int m = 0; m < maps.length; m++) {
            double[] sums = out[m];
            float[] map = maps[m];
            for (int i = 0; i < predicted.length; i++) sums[predicted[i]] += map[i];
            for (int c = 0; c < pixels.length; c++) sums[c] = pixels[c] == 0 ? Double.NaN : sums[c] / pixels[c];
        }
        return out;
    }
}
