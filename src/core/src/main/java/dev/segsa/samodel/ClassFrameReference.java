package dev.segsa.samodel;

import dev.segsa.error.SegsaException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where a frame's class MDSA sits among the fit frames': per class, the distribution (quantiles)
 * of frame-level class MDSA (the mean MDSA of the pixels predicted as the class) over the fit
 * frames in which the class covers at least {@link #minShare()} of the frame. {@code segsa fit}
 * records it in the SA file after scoring its own frames once with the fitted models.
 *
 * <p>A frame's <em>class percentile</em> of class c is the share of those fit frames whose class
 * MDSA is at most the frame's, interpolated linearly between the stored quantiles; past the
 * fitted range it goes on with the slope of the outer decile (so a frame above every fit frame
 * scores above 1, and two such frames still rank by their MDSA). The <em>class-aware frame
 * score</em> is the highest class percentile among the frame's classes that cover at least
 * {@link #minShare()} of it, each multiplied by its class weight (1 unless set). It needs no
 * labels on the new frames and no risk model, and it does not average road, sky and buildings
 * over the small classes where the errors are.
 *
 * @param minShare  a class counts in a frame when it covers at least this share of the frame's pixels
 * @param quantiles per class, {@link #QUANTILES} + 1 increasing values (the 0th, 1st, ..., 100th
 *                  percentile of the fit frames' class MDSA), or null where fewer than
 *                  {@link #MIN_FRAMES} fit frames had the class
 * @param frames    per class, the fit frames the quantiles come from
 * @param weights   per class weight of the class-aware score (1 by default, 0 leaves the class out)
 */
public record ClassFrameReference(double minShare, double[][] quantiles, int[] frames, double[] weights) {
    /** Quantile steps stored per class: the 0th to the 100th percentile. */
    public static final int QUANTILES = 100;
    /** Fit frames a class needs for its distribution. */
    public static final int MIN_FRAMES = 5;
    /** The default share of a frame a class must cover: 500 pixels of a 480 x 360 frame. */
    public static final double DEFAULT_MIN_SHARE = 500.0 / (480 * 360);

    public ClassFrameReference {
        if (!(minShare >= 0 && minShare <= 1)) throw new SegsaException("class frame reference: minShare " + minShare + " is outside [0, 1]");
        if (quantiles.length != frames.length || weights.length != frames.length) {
            throw new SegsaException("class frame reference: " + quantiles.length + " quantile rows, " + frames.length + " frame counts and "
                    + weights.length + " weights for one set of classes");
        }
        for (int c = 0; c < quantiles.length; c++) {
            double[] q = quantiles[c];
            if (!(weights[c] >= 0 && weights[c] <= 1e6)) {
                throw new SegsaException("class frame reference: class " + c + " weight " + weights[c] + " is not a finite number >= 0");
            }
            if (frames[c] < 0) throw new SegsaException("class frame reference: class " + c + " has a negative frame count");
            if (q == null) continue;
            if (q.length != QUANTILES + 1) {
                throw new SegsaException("class frame reference: class " + c + " has " + q.length + " quantiles, expected " + (QUANTILES + 1));
            }
            for (int i = 0; i < q.length; i++) {
                if (!Double.isFinite(q[i]) || (i > 0 && q[i] < q[i - 1])) {
                    throw new SegsaException("class frame reference: class " + c + " quantile " + i + " (" + q[i]
                            + ") is not finite or not increasing");
                }
            }
        }
    }

    public int classes() {
        return frames.length;
    }

    /** Whether class c has a distribution. */
    public boolean has(int c) {
        return c >= 0 && c < quantiles.length && quantiles[c] != null;
    }

    /**
     * The class percentile (0..1 inside the fit frames' range, extended linearly past it) of a
     * frame-level class MDSA; NaN when the class has no distribution or the value is not finite.
     */
    public double percentile(int c, double classMdsa) {
        if (!has(c) || !Double.isFinite(classMdsa)) return Double.NaN;
        double[] q = quantiles[c];
        int last = QUANTILES;
        if (classMdsa <= q[0]) {
            double slope = (q[10] - q[0]) / 0.10;
            return slope > 0 ? (classMdsa - q[0]) / slope : 0;
        }
        if (classMdsa >= q[last]) {
            double slope = (q[last] - q[last - 10]) / 0.10;
            return slope > 0 ? 1 + (classMdsa - q[last]) / slope : 1;
        }
        // the largest i with q[i] <= v (q[0] <= v < q[last])
        int lo = 0, hi = last;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (q[mid] <= classMdsa) lo = mid; else hi = mid;
        }
        // ties: the share of fit frames at most v is the last index holding q[lo]
        double span = q[hi] - q[lo];
        double frac = span > 0 ? (classMdsa - q[lo]) / span : 1;
        return (lo + frac) / QUANTILES;
    }

    /** Whether class c, with {@code classPixels} of a frame's {@code framePixels}, counts in the frame. */
    public boolean counts(int c, long classPixels, long framePixels) {
        return has(c) && weights[c] > 0 && classPixels > 0 && classPixels >= minShare * framePixels;
    }

    /**
     * The class-aware frame score: the highest weighted class percentile among the classes that
     * count in the frame; NaN when none does.
     *
     * @param classPixels predicted pixels per class
     * @param classMdsa   mean MDSA per class (NaN where not scored)
     */
    public double frameScore(long[] classPixels, double[] classMdsa) {
        long total = 0;
        for (long p : classPixels) total += p;
        double best = Double.NaN;
        for (int c = 0; c < Math.min(classPixels.length, classes()); c++) {
            if (!counts(c, classPixels[c], total)) continue;
            double p = percentile(c, classMdsa[c]);
            if (Double.isNaN(p)) continue;
            double v = weights[c] * p;
            if (Double.isNaN(best) || v > best) best = v;
        }
        return best;
    }

    /** The same reference with other class weights (validated). */
    public ClassFrameReference withWeights(double[] w) {
        return new ClassFrameReference(minShare, quantiles, frames, w.clone());
    }

    /** Collects the fit frames' class MDSA and turns it into a reference. */
    public static final class Builder {
        private final double minShare;
        private final List<List<Double>> values = new ArrayList<>();

        public Builder(int classes, double minShare) {
            if (!(minShare >= 0 && minShare <= 1)) throw new IllegalArgumentException("minShare must be in [0, 1], got " + minShare);
            this.minShare = minShare;
            for (int c = 0; c < classes; c++) values.add(new ArrayList<>());
        }

        /** Adds one frame: predicted pixels and mean MDSA per class. */
        public void add(long[] classPixels, double[] classMdsa) {
            long total = 0;
            for (long p : classPixels) total += p;
            for (int c = 0; c < values.size(); c++) {
                if (classPixels[c] > 0 && classPixels[c] >= minShare * total && Double.isFinite(classMdsa[c])) {
                    values.get(c).add(classMdsa[c]);
                }
            }
        }

        public ClassFrameReference build() {
            int classes = values.size();
            double[][] q = new double[classes][];
            int[] n = new int[classes];
            double[] w = new double[classes];
            Arrays.fill(w, 1);
            for (int c = 0; c < classes; c++) {
                double[] v = values.get(c).stream().mapToDouble(Double::doubleValue).sorted().toArray();
                n[c] = v.length;
                if (v.length < MIN_FRAMES) continue;
                q[c] = new double[QUANTILES + 1];
                for (int i = 0; i <= QUANTILES; i++) q[c][i] = quantile(v, i / (double) QUANTILES);
            }
            return new ClassFrameReference(minShare, q, n, w);
        }

        /** numpy's linear quantile of sorted values. */
        static double quantile(double[] sorted, double p) {
            double pos = p * (sorted.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(lo + 1, sorted.length - 1);
            return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
        }
    }
}
