package dev.segsa.samodel;

/**
 * MDSA model of one class: {@code MDSA(x) = sqrt((x - mu)^T S^-1 (x - mu))} with S the ddof-1
 * covariance of the class's training activation traces, evaluated as {@code ||L^-1 (x - mu)||}.
 */
public final class MahalanobisModel {
    private final int classId;
    private final long count;
    private final Whitening whitening;

    public MahalanobisModel(int classId, long count, Whitening whitening) {
        this.classId = classId;
        this.count = count;
        this.whitening = whitening;
    }

    public static MahalanobisModel fit(int classId, String className, ClassStatistics stats) {
        String what = "class " + classId + " (" + className + ")";
        if (stats.count() < 2) {
            throw new FitException(what + ": " + stats.count() + " training pixels, MDSA needs at least 2");
        }
        return new MahalanobisModel(classId, stats.count(),
                Whitening.fit(stats.covariance(), stats.mean(), stats.dimension(), what));
    }

    public int classId() {
        return classId;
    }

    public long count() {
        return count;
    }

    public Whitening whitening() {
        return whitening;
    }

    /** MDSA of one activation trace; {@code scratch} has length at least the active dimension. */
    public double mdsa(double[] x, double[] scratch) {
        whitening.whiten(x, scratch);
        double s = 0;
        for (int i = 0; i < whitening.activeDimension(); i++) s += scratch[i] * scratch[i];
        return Math.sqrt(s);
    }
}
