package dev.segsa.samodel;

/**
 * Streaming float64 count, mean and co-moment matrix (sum of centred outer products) of the
 * activation traces of one class. Welford updates per vector, Chan et al. merge between
 * accumulators, so partial statistics from frames, threads or cluster nodes combine exactly.
 * Only the lower triangle of the co-moment matrix is maintained until {@link #covariance()}.
 */
public final class ClassStatistics {
    private final int d;
    private long count;
    private final double[] mean;
    private final double[] comoment;
    private final double[] delta;

    public ClassStatistics(int d) {
        this.d = d;
        this.mean = new double[d];
        this.comoment = new double[d * d];
        this.delta = new double[d];
    }

    /** Restores statistics from their stored form (count, mean, full symmetric co-moment). */
    public static ClassStatistics of(int d, long count, double[] mean, double[] comoment) {
        ClassStatistics s = new ClassStatistics(d);
        s.count = count;
        System.arraycopy(mean, 0, s.mean, 0, d);
        System.arraycopy(comoment, 0, s.comoment, 0, d * d);
        return s;
    }

    public int dimension() {
        return d;
    }

    public long count() {
        return count;
    }

    public double[] mean() {
        return mean.clone();
    }

    /** Adds one activation trace. */
    public void add(double[] x) {
        count++;
        double inv = 1.0 / count;
        for (int i = 0; i < d; i++) {
            delta[i] = x[i] - mean[i];
            mean[i] += delta[i] * inv;
        }
        // M2 += delta_old * (x - mean_new)^T, lower triangle
        for (int i = 0; i < d; i++) {
            double r = x[i] - mean[i];
            int row = i * d;
            for (int j = 0; j <= i; j++) comoment[row + j] += r * delta[j];
        }
    }

    /** Merges {@code other} into this accumulator (Chan, Golub, LeVeque). */
    public void merge(ClassStatistics other) {
        if (other.d != d) throw new IllegalArgumentException("dimension mismatch " + other.d + " vs " + d);
        if (other.count == 0) return;
        if (count == 0) {
            count = other.count;
            System.arraycopy(other.mean, 0, mean, 0, d);
            System.arraycopy(other.comoment, 0, comoment, 0, d * d);
            return;
        }
        long n = count + other.count;
        double f = (double) count * other.count / n;
        for (int i = 0; i < d; i++) delta[i] = other.mean[i] - mean[i];
        for (int i = 0; i < d; i++) {
            int row = i * d;
            for (int j = 0; j <= i; j++) comoment[row + j] += other.comoment[row + j] + delta[i] * delta[j] * f;
        }
        for (int i = 0; i < d; i++) mean[i] += delta[i] * other.count / n;
        count = n;
    }

    /** The full symmetric co-moment matrix (sum of centred outer products), row-major. */
    public double[] comoment() {
        double[] m = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                m[i * d + j] = comoment[i * d + j];
                m[j * d + i] = comoment[i * d + j];
            }
        }
        return m;
    }

    /** Sample covariance (ddof 1), full symmetric row-major; requires at least two vectors. */
    public double[] covariance() {
        if (count < 2) throw new IllegalStateException("covariance needs at least 2 vectors, have " + count);
        double[] m = comoment();
        double inv = 1.0 / (count - 1);
        for (int i = 0; i < m.length; i++) m[i] *= inv;
        return m;
    }
}
