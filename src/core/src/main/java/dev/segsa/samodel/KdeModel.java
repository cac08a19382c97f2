package dev.segsa.samodel;

/**
 * LSA model of one class: a Gaussian KDE of reference activation traces with
 * {@code scipy.stats.gaussian_kde} defaults (bandwidth matrix = Scott factor^2 times the ddof-1
 * covariance of the references, Scott factor = n^(-1/(d+4))), and {@code LSA(x) = -logpdf(x)}
 * computed with log-sum-exp. Features with zero variance among the references are dropped (d is
 * then the number kept), because scipy's KDE is undefined for a singular covariance.
 */
public final class KdeModel {
    private final int classId;
    private final int n;
    private final int d;
    private final double[] references;
    private final Whitening bandwidth;
    private final double[] whitenedReferences;
    private final double logNormaliser;

    public KdeModel(int classId, double[] references, int n, int d, Whitening bandwidth) {
        this.classId = classId;
        this.n = n;
        this.d = d;
        this.references = references;
        this.bandwidth = bandwidth;
        int k = bandwidth.activeDimension();
        int[] active = bandwidth.active();
        double[] cholesky = bandwidth.cholesky();
        this.whitenedReferences = new double[n * k];
        double[] z = new double[k];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < k; i++) z[i] = references[j * d + active[i]];
            Cholesky.forwardSolve(cholesky, k, z);
            System.arraycopy(z, 0, whitenedReferences, j * k, k);
        }
        this.logNormaliser = -Math.log(n) - 0.5 * k * Math.log(2 * Math.PI) - bandwidth.logDiagonalSum();
    }

    /** Fits the bandwidth to {@code references} [n x d] row-major. */
    public static KdeModel fit(int classId, String className, double[] references, int n, int d) {
        String what = "class " + classId + " (" + className + ") LSA references";
        if (n < 2) throw new FitException(what + ": " + n + " references, the KDE needs at least 2");
        ClassStatistics stats = new ClassStatistics(d);
        double[] row = new double[d];
        for (int j = 0; j < n; j++) {
            System.arraycopy(references, j * d, row, 0, d);
            stats.add(row);
        }
        double[] cov = stats.covariance();
        // scipy: covariance = data_covariance * factor^2, factor = neff^(-1/(d+4)); d counts the kept features
        int kept = 0;
        double maxVar = 0;
        for (int i = 0; i < d; i++) maxVar = Math.max(maxVar, cov[i * d + i]);
        for (int i = 0; i < d; i++) {
            double v = cov[i * d + i];
            if (v > 0 && v > Whitening.ZERO_VARIANCE_RELATIVE * maxVar) kept++;
        }
        double factor = Math.pow(n, -1.0 / (kept + 4));
        double f2 = factor * factor;
        for (int i = 0; i < cov.length; i++) cov[i] *= f2;
        Whitening w = Whitening.fit(cov, new double[d], d, what);
        return new KdeModel(classId, references, n, d, w);
    }

    public int classId() {
        return classId;
    }

    public int referenceCount() {
        return n;
    }

    public int dimension() {
        return d;
    }

    /** The reference activation traces, [n x d] row-major (not a copy: do not modify). */
    public double[] references() {
        return references;
    }

    public Whitening bandwidth() {
        return bandwidth;
    }

    /** LSA = -log f(x); {@code scratch} has length at least the active dimension. */
    public double lsa(double[] x, double[] scratch) {
        bandwidth.whiten(x, scratch); // mean is zero: z = L^-1 x[active]
        int k = bandwidth.activeDimension();
        // online log-sum-exp over the references
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = 0; j < n; j++) {
            double q = 0;
            int base = j * k;
            for (int i = 0; i < k; i++) {
                double t = scratch[i] - whitenedReferences[base + i];
                q += t * t;
            }
            double e = -0.5 * q;
            if (e <= max) {
                sum += Math.exp(e - max);
            } else {
                sum = sum * Math.exp(max - e) + 1.0;
                max = e;
            }
        }
        return -(max + Math.log(sum) + logNormaliser);
    }
}
