package dev.segsa.fit;

import dev.segsa.error.SegsaException;
import dev.segsa.features.AxisInterpolation;
import dev.segsa.features.UpsampleMode;
import dev.segsa.model.SegmentationModel;
import dev.segsa.samodel.Cholesky;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Does the model honour the activation-trace contract? SA measures surprise in the space of the
 * returned features upsampled to each pixel (the AT); the paper's method assumes the class scores
 * are a per-pixel function of exactly those features (Lc computed from Lf pixel by pixel, then
 * upsampled). When the logits also see something the features do not (a skip path from a higher
 * resolution, say), SA describes a space the classifier only partly uses.
 *
 * <p>The check: on sampled pixels of a few frames, fit the logits by least squares as an affine
 * function of the AT (the best linear 1x1 head: [AT, 1] W), and report how much of the logits'
 * variance it explains (R^2 pooled over the classes, each class centred) and how often its argmax
 * agrees with the model's. A model whose head is a 1x1 convolution of the returned features (or
 * any linear per-pixel head) scores R^2 = 1 and 100% agreement, up to float32 rounding; a
 * non-linear per-pixel head scores below 1 without breaking the contract, so the verdict is a
 * warning, not an error.
 */
public final class ActivationTraceCheck {
    /** Below either of these the contract looks broken. */
    public static final double MIN_R2 = 0.99, MIN_AGREEMENT = 0.99;

    private final int d, classes, capacity;
    private final double[] x; // [n, d + 1]
    private final double[] y; // [n, classes]
    private final int[] argmax;
    private int n, frames;
    private final SplittableRandom random;
    private final int pixelsPerFrame;

    public record Result(double rSquared, double argmaxAgreement, int pixels, int frames) {
        public boolean looksBroken() {
            return rSquared < MIN_R2 || argmaxAgreement < MIN_AGREEMENT;
        }

        public String line() {
            String what = String.format(Locale.ROOT,
                    "activation-trace check: a linear per-pixel head on the features explains R^2 = %.4f of the logits and agrees "
                            + "with the model's class on %.2f%% of %d sampled pixels (%d frames)", rSquared, 100 * argmaxAgreement,
                    pixels, frames);
            return looksBroken() ? what + ": WARNING, the logits are not a per-pixel function of the returned features, so SA "
                    + "measures surprise in a space the classifier only partly uses (README, \"Bring your own model\")" : what + ": ok";
        }
    }

    public ActivationTraceCheck(int d, int classes, int frames, int pixelsPerFrame, long seed) {
        this.d = d;
        this.classes = classes;
        this.pixelsPerFrame = pixelsPerFrame;
        this.capacity = frames * pixelsPerFrame;
        this.x = new double[capacity * (d + 1)];
        this.y = new double[capacity * classes];
        this.argmax = new int[capacity];
        this.random = new SplittableRandom(seed);
    }

    /** Adds sampled pixels of one frame's outputs (features and full-resolution logits). */
    public void add(SegmentationModel.HostOutputs o, UpsampleMode mode) {
        if (o.d() != d || o.classes() != classes) {
            throw new SegsaException("activation-trace check: frame with " + o.classes() + " classes and d=" + o.d() + ", expected "
                    + classes + " and " + d);
        }
        AxisInterpolation rows = AxisInterpolation.of(mode, o.h0(), o.height()), cols = AxisInterpolation.of(mode, o.w0(), o.width());
        int cells = o.h0() * o.w0(), pixels = o.height() * o.width();
        for (int s = 0; s < pixelsPerFrame && n < capacity; s++) {
            int p = random.nextInt(pixels);
            int yy = p / o.width(), xx = p % o.width();
            int r0 = rows.lo[yy], r1 = rows.hi[yy], c0 = cols.lo[xx], c1 = cols.hi[xx];
            double a = rows.weightLo[yy] * cols.weightLo[xx], b = rows.weightLo[yy] * cols.weightHi[xx];
            double c = rows.weightHi[yy] * cols.weightLo[xx], e = rows.weightHi[yy] * cols.weightHi[xx];
            int row = n * (d + 1);
            for (int k = 0; k < d; k++) {
                int base = k * cells;
                x[row + k] = a * o.features()[base + r0 * o.w0() + c0] + b * o.features()[base + r0 * o.w0() + c1]
                        + c * o.features()[base + r1 * o.w0() + c0] + e * o.features()[base + r1 * o.w0() + c1];
            }
            x[row + d] = 1;
            int best = 0;
            for (int k = 0; k < classes; k++) {
                double v = o.logits()[k * pixels + p];
                y[n * classes + k] = v;
                if (v > y[n * classes + best]) best = k;
            }
            argmax[n] = best;
            n++;
        }
        frames++;
    }

    /** Least squares [AT, 1] W = logits (normal equations, float64, a tiny ridge for rank-deficient features). */
    public Result result() {
        if (n == 0) throw new SegsaException("activation-trace check: no pixels sampled");
        int m = d + 1;
        double[] xtx = new double[m * m];
        double[] xty = new double[m * classes];
        for (int i = 0; i < n; i++) {
            int row = i * m;
            for (int a = 0; a < m; a++) {
                double xa = x[row + a];
                for (int b = 0; b <= a; b++) xtx[a * m + b] += xa * x[row + b];
                for (int k = 0; k < classes; k++) xty[a * classes + k] += xa * y[i * classes + k];
            }
        }
        double trace = 0;
        for (int a = 0; a < m; a++) trace += xtx[a * m + a];
        for (int a = 0; a < m; a++) xtx[a * m + a] += 1e-10 * trace / m;
        double[] l = Cholesky.factor(xtx, m);
        if (l == null) throw new SegsaException("activation-trace check: the features' normal matrix is not positive definite");
        double[][] w = new double[classes][];
        for (int k = 0; k < classes; k++) {
            double[] rhs = new double[m];
            for (int a = 0; a < m; a++) rhs[a] = xty[a * classes + k];
            Cholesky.forwardSolve(l, m, rhs);
            backSolve(l, m, rhs);
            w[k] = rhs;
        }
        double[] mean = new double[classes];
        for (int i = 0; i < n; i++) for (int k = 0; k < classes; k++) mean[k] += y[i * classes + k];
        for (int k = 0; k < classes; k++) mean[k] /= n;
        double ssRes = 0, ssTot = 0;
        int agree = 0;
        for (int i = 0; i < n; i++) {
            int row = i * m, best = 0;
            double bestV = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < classes; k++) {
                double pred = 0;
                for (int a = 0; a < m; a++) pred += x[row + a] * w[k][a];
                double t = y[i * classes + k];
                ssRes += (t - pred) * (t - pred);
                ssTot += (t - mean[k]) * (t - mean[k]);
                if (pred > bestV) {
                    bestV = pred;
                    best = k;
                }
            }
            if (best == argmax[i]) agree++;
        }
        double r2 = ssTot > 0 ? 1 - ssRes / ssTot : 1;
        return new Result(r2, (double) agree / n, n, frames);
    }

    /** Solves L^T x = b in place. */
    private static void backSolve(double[] l, int m, double[] b) {
        for (int i = m - 1; i >= 0; i--) {
            double s = b[i];
            for (int k = i + 1; k < m; k++) s -= l[k * m + i] * b[k];
            b[i] = s / l[i * m + i];
        }
    }
}
