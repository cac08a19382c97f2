package dev.segsa.kernel;

import dev.segsa.features.AxisInterpolation;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;

/**
 * Plain-Java float64 reference: for every pixel, build its activation trace by interpolating the
 * low-resolution features, then apply the definition. Simple and obviously right; every other
 * backend is tested against it. Never delete it.
 */
public final class ReferenceBackend implements Backend {
    @Override
    public String name() {
        return "reference";
    }

    @Override
    public void accumulate(FeatureMap f, UpsampleMode mode, int height, int width, int[] labels, ClassStatistics[] stats) {
        checkSize(labels, height, width);
        AxisInterpolation rows = AxisInterpolation.of(mode, f.h0(), height);
        AxisInterpolation cols = AxisInterpolation.of(mode, f.w0(), width);
        double[] x = new double[f.d()];
        for (int y = 0; y < height; y++) {
            for (int xx = 0; xx < width; xx++) {
                int c = labels[y * width + xx];
                if (c < 0 || c >= stats.length) continue;
                f.activationTrace(rows, cols, y, xx, x);
                stats[c].add(x);
            }
        }
    }

    @Override
    public void mdsa(FeatureMap f, UpsampleMode mode, int height, int width, int[] predicted,
                     MahalanobisModel[] models, FrameScores out) {
        scorePixels(f, mode, height, width, predicted, models, MahalanobisModel::mdsa, out);
    }

    @Override
    public void lsa(FeatureMap f, UpsampleMode mode, int height, int width, int[] predicted,
                    KdeModel[] models, FrameScores out) {
        scorePixels(f, mode, height, width, predicted, models, KdeModel::lsa, out);
    }

    /** SA of one activation trace under one class model; {@code scratch} has the trace's length. */
    @FunctionalInterface
    private interface PixelScore<M> {
        double score(M model, double[] trace, double[] scratch);
    }

    /** Every pixel whose predicted class has a model: its trace, then its SA, into the class sums and the map. */
    private static <M> void scorePixels(FeatureMap f, UpsampleMode mode, int height, int width, int[] predicted, M[] models,
                                        PixelScore<M> sa, FrameScores out) {
        checkSize(predicted, height, width);
        AxisInterpolation rows = AxisInterpolation.of(mode, f.h0(), height);
        AxisInterpolation cols = AxisInterpolation.of(mode, f.w0(), width);
        double[] x = new double[f.d()];
        double[] z = new double[f.d()];
        float[] map = out.map();
        for (int y = 0; y < height; y++) {
            for (int xx = 0; xx < width; xx++) {
                int p = y * width + xx;
                int c = predicted[p];
                M m = c >= 0 && c < models.length ? models[c] : null;
                if (m == null) {
                    if (map != null) map[p] = Float.NaN;
                    continue;
                }
                f.activationTrace(rows, cols, y, xx, x);
                double v = sa.score(m, x, z);
                out.pixels()[c]++;
                out.sums()[c] += v;
                if (map != null) map[p] = (float) v;
            }
        }
    }

    static void checkSize(int[] perPixel, int height, int width) {
        if (perPixel.length != height * width) {
            throw new IllegalArgumentException("per-pixel array has " + perPixel.length + " entries, frame is "
                    + width + "x" + height);
        }
    }
}
