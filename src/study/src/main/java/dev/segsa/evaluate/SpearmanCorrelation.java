package dev.segsa.evaluate;

import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;
import org.apache.commons.math3.stat.ranking.NaNStrategy;
import org.apache.commons.math3.stat.ranking.NaturalRanking;
import org.apache.commons.math3.stat.ranking.TiesStrategy;

/**
 * Spearman rank correlation with its two-sided p-value, as {@code scipy.stats.spearmanr}
 * computes them: rho = Pearson correlation of the ranks (ties get the average rank); p from
 * t = rho * sqrt((n - 2) / (1 - rho^2)) with Student's t distribution of n - 2 degrees of
 * freedom (commons-math3). |rho| = 1 gives p = 0. Undefined (NaN) with fewer than 3 pairs or a
 * constant sample.
 */
public record SpearmanCorrelation(int n, double rho, double pValue) {

    /** Ranks 1..n, ties averaged (as the correlation uses them). */
    public static double[] ranks(double[] v) {
        return new NaturalRanking(NaNStrategy.FAILED, TiesStrategy.AVERAGE).rank(v);
    }

    public static SpearmanCorrelation of(double[] x, double[] y) {
        if (x.length != y.length) throw new IllegalArgumentException("samples differ in length: " + x.length + " and " + y.length);
        int n = x.length;
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) {
                throw new IllegalArgumentException("non-finite value at index " + i + " (" + x[i] + ", " + y[i] + ")");
            }
        }
        if (n < 3 || constant(x) || constant(y)) return new SpearmanCorrelation(n, Double.NaN, Double.NaN);
        double rho = new SpearmansCorrelation(new NaturalRanking(NaNStrategy.FAILED, TiesStrategy.AVERAGE)).correlation(x, y);
        rho = Math.max(-1.0, Math.min(1.0, rho));
        double p;
        if (Math.abs(rho) >= 1.0) {
            p = 0.0;
        } else {
            int dof = n - 2;
            double t = rho * Math.sqrt(dof / ((1.0 - rho) * (1.0 + rho)));
            p = 2.0 * new TDistribution(null, dof).cumulativeProbability(-Math.abs(t));
            p = Math.min(1.0, p);
        }
        return new SpearmanCorrelation(n, rho, p);
    }

    private static boolean constant(double[] v) {
        for (double a : v) if (a != v[0]) return false;
        return true;
    }
}
