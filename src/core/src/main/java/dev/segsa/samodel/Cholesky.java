package dev.segsa.samodel;

/** Dense float64 Cholesky factorisation and triangular solves on row-major square matrices. */
public final class Cholesky {
    private Cholesky() {}

    /**
     * Lower-triangular L with {@code a = L L^T}, or null when {@code a} is not (numerically)
     * positive definite. Only the lower triangle of {@code a} is read.
     */
    public static double[] factor(double[] a, int n) {
        double[] l = new double[n * n];
        for (int j = 0; j < n; j++) {
            double s = a[j * n + j];
            for (int k = 0; k < j; k++) s -= l[j * n + k] * l[j * n + k];
            if (!(s > 0) || !Double.isFinite(s)) return null;
            double ljj = Math.sqrt(s);
            l[j * n + j] = ljj;
            for (int i = j + 1; i < n; i++) {
                double t = a[i * n + j];
                for (int k = 0; k < j; k++) t -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = t / ljj;
            }
        }
        return l;
    }

    /** Solves {@code L y = b} in place (forward substitution), L lower triangular row-major. */
    public static void forwardSolve(double[] l, int n, double[] b) {
        for (int i = 0; i < n; i++) {
            double s = b[i];
            int row = i * n;
            for (int k = 0; k < i; k++) s -= l[row + k] * b[k];
            b[i] = s / l[row + i];
        }
    }

    /** Sum of log of the diagonal of L: half the log-determinant of L L^T. */
    public static double logDiagonalSum(double[] l, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.log(l[i * n + i]);
        return s;
    }

    /** Ratio of largest to smallest diagonal entry of L, squared: a cheap lower bound on cond(L L^T). */
    public static double diagonalConditionBound(double[] l, int n) {
        double max = 0, min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            double v = l[i * n + i];
            max = Math.max(max, v);
            min = Math.min(min, v);
        }
        return (max / min) * (max / min);
    }
}
