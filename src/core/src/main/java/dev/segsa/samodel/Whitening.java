package dev.segsa.samodel;

import java.util.ArrayList;
import java.util.List;

/**
 * A Gaussian whitening transform {@code z = L^-1 (x[active] - mean[active])} with {@code L L^T}
 * the covariance restricted to the features that vary. Zero-variance features are dropped and
 * reported; when the Cholesky factorisation fails or is ill-conditioned, a ridge relative to the
 * matrix scale ({@code alpha * trace / d}) is added, the smallest alpha that works, and reported.
 */
public final class Whitening {
    /** Condition bound above which a ridge is added although the factorisation succeeded. */
    static final double MAX_CONDITION = 1e14;
    static final double ZERO_VARIANCE_RELATIVE = 1e-12;

    private final int dimension;
    private final int[] active;
    private final double[] activeMean;
    private final double[] cholesky;
    private final double ridge;
    private final List<String> notes;

    public Whitening(int dimension, int[] active, double[] activeMean, double[] cholesky, double ridge, List<String> notes) {
        this.dimension = dimension;
        this.active = active;
        this.activeMean = activeMean;
        this.cholesky = cholesky;
        this.ridge = ridge;
        this.notes = List.copyOf(notes);
    }

    /**
     * Fits the transform to a full covariance [d x d] (row-major) and mean [d].
     *
     * @param what names the statistics in reports, e.g. "class 3 (Road)"
     * @throws FitException when no feature varies at all
     */
    public static Whitening fit(double[] covariance, double[] mean, int d, String what) {
        List<String> notes = new ArrayList<>();
        double maxVar = 0;
        for (int i = 0; i < d; i++) maxVar = Math.max(maxVar, covariance[i * d + i]);
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < d; i++) {
            double v = covariance[i * d + i];
            if (Double.isFinite(v) && v > 0 && v > ZERO_VARIANCE_RELATIVE * maxVar) keep.add(i);
        }
        if (keep.isEmpty()) {
            throw new FitException(what + ": every feature has zero variance; cannot fit a Gaussian model");
        }
        if (keep.size() < d) {
            notes.add(what + ": dropped " + (d - keep.size()) + " of " + d + " features with zero variance");
        }
        int n = keep.size();
        int[] active = keep.stream().mapToInt(Integer::intValue).toArray();
        double[] sub = new double[n * n];
        double[] subMean = new double[n];
        double trace = 0;
        for (int i = 0; i < n; i++) {
            subMean[i] = mean[active[i]];
            for (int j = 0; j < n; j++) sub[i * n + j] = covariance[active[i] * d + active[j]];
            trace += sub[i * n + i];
        }
        double[] l = Cholesky.factor(sub, n);
        double ridge = 0;
        if (l == null || Cholesky.diagonalConditionBound(l, n) > MAX_CONDITION) {
            String why = l == null ? "not positive definite" : "ill-conditioned";
            double scale = trace / n;
            for (double alpha = 1e-12; alpha <= 1.0; alpha *= 10) {
                double[] reg = sub.clone();
                for (int i = 0; i < n; i++) reg[i * n + i] += alpha * scale;
                double[] lr = Cholesky.factor(reg, n);
                if (lr != null && Cholesky.diagonalConditionBound(lr, n) <= MAX_CONDITION) {
                    l = lr;
                    ridge = alpha * scale;
                    notes.add(String.format("%s: covariance %s, added ridge %.3g (alpha %.0e x trace/d)", what, why, ridge, alpha));
                    break;
                }
            }
            if (ridge == 0) {
                throw new FitException(what + ": covariance is " + why + " and no ridge up to trace/d made it factorisable");
            }
        }
        return new Whitening(d, active, subMean, l, ridge, notes);
    }

    public int dimension() {
        return dimension;
    }

    public int activeDimension() {
        return active.length;
    }

    public int[] active() {
        return active.clone();
    }

    public double[] activeMean() {
        return activeMean.clone();
    }

    /** Lower Cholesky factor of the (ridged) active covariance, row-major [n x n]. */
    public double[] cholesky() {
        return cholesky.clone();
    }

    /**
     * The inverse of the lower Cholesky factor, row-major [n x n], lower triangular with exact
     * zeros above the diagonal (for products that whiten many vectors at once).
     */
    public double[] inverseCholesky() {
        int n = active.length;
        double[] inv = new double[n * n];
        for (int col = 0; col < n; col++) {
            inv[col * n + col] = 1.0 / cholesky[col * n + col];
            for (int i = col + 1; i < n; i++) {
                double s = 0;
                for (int j = col; j < i; j++) s -= cholesky[i * n + j] * inv[j * n + col];
                inv[i * n + col] = s / cholesky[i * n + i];
            }
        }
        return inv;
    }

    public double ridge() {
        return ridge;
    }

    public List<String> notes() {
        return notes;
    }

    /** Writes {@code L^-1 (x[active] - mean)} into {@code z} (length activeDimension). */
    public void whiten(double[] x, double[] z) {
        for (int i = 0; i < active.length; i++) z[i] = x[active[i]] - activeMean[i];
        Cholesky.forwardSolve(cholesky, active.length, z);
    }

    double logDiagonalSum() {
        return Cholesky.logDiagonalSum(cholesky, active.length);
    }
}
