package dev.segsa.evaluate;

import java.util.Arrays;
import java.util.List;

/**
 * RQ2 trade-off (paper Figure 9) for one target (class or group) and one skip order: for savings
 * x = 0, 5, ..., 100 % the first k = floor(n * x / 100) images of the order are not labelled
 * ("skipped"); over the skipped images, the IoU inaccuracy is mean(1 - IoU) and the
 * classification inaccuracy at threshold t is the share with IoU below t. With nothing skipped
 * (k = 0) nothing is missed: both are reported as 0.
 *
 * @param skipped                  k per savings step
 * @param iouInaccuracy            per savings step
 * @param classificationInaccuracy [threshold][savings step]
 */
public record SavingsCurve(int images, double[] thresholds, int[] savingsPercent, int[] skipped, double[] iouInaccuracy,
                           double[][] classificationInaccuracy) {
    /** Savings in percent: 0, 5, ..., 100, as in the paper. */
    public static final int[] SAVINGS_PERCENT;

    static {
        SAVINGS_PERCENT = new int[21];
        for (int i = 0; i <= 20; i++) SAVINGS_PERCENT[i] = 5 * i;
    }

    /** Number of images skipped at x percent savings of n images. */
    public static int skippedAt(int n, int percent) {
        return (int) ((long) n * percent / 100);
    }

    /** @param iouInSkipOrder the images' IoU, first-skipped first */
    public static SavingsCurve of(double[] iouInSkipOrder, double[] thresholds) {
        int n = iouInSkipOrder.length;
        int steps = SAVINGS_PERCENT.length;
        int[] skipped = new int[steps];
        double[] iou = new double[steps];
        double[][] cls = new double[thresholds.length][steps];
        // prefix sums over the skip order
        double[] oneMinusIou = new double[n + 1];
        int[][] below = new int[thresholds.length][n + 1];
        for (int i = 0; i < n; i++) {
            double v = iouInSkipOrder[i];
            if (!(v >= 0 && v <= 1)) throw new IllegalArgumentException("IoU " + v + " at position " + i + " is outside [0, 1]");
            oneMinusIou[i + 1] = oneMinusIou[i] + (1.0 - v);
            for (int t = 0; t < thresholds.length; t++) below[t][i + 1] = below[t][i] + (v < thresholds[t] ? 1 : 0);
        }
        for (int s = 0; s < steps; s++) {
            int k = skippedAt(n, SAVINGS_PERCENT[s]);
            skipped[s] = k;
            iou[s] = k == 0 ? 0.0 : oneMinusIou[k] / k;
            for (int t = 0; t < thresholds.length; t++) cls[t][s] = k == 0 ? 0.0 : (double) below[t][k] / k;
        }
        return new SavingsCurve(n, thresholds.clone(), SAVINGS_PERCENT.clone(), skipped, iou, cls);
    }

    /** Point-wise mean of curves over the same images (the random baseline's repeats). */
    public static SavingsCurve mean(List<SavingsCurve> curves) {
        if (curves.isEmpty()) throw new IllegalArgumentException("no curves to average");
        SavingsCurve first = curves.get(0);
        int steps = first.savingsPercent.length;
        double[] iou = new double[steps];
        double[][] cls = new double[first.thresholds.length][steps];
        for (SavingsCurve c : curves) {
            if (c.images != first.images || !Arrays.equals(c.thresholds, first.thresholds)) {
                throw new IllegalArgumentException("curves over different images or thresholds");
            }
            for (int s = 0; s < steps; s++) {
                iou[s] += c.iouInaccuracy[s] / curves.size();
                for (int t = 0; t < cls.length; t++) cls[t][s] += c.classificationInaccuracy[t][s] / curves.size();
            }
        }
        return new SavingsCurve(first.images, first.thresholds, first.savingsPercent, first.skipped, iou, cls);
    }

    /**
     * The largest savings percent at which the classification inaccuracy at threshold index
     * {@code t} is at most {@code tolerance}, scanning from 0 and stopping at the first step above
     * it (so every smaller saving also stays within the tolerance).
     */
    public int maxSavingsWithin(int t, double tolerance) {
        int best = 0;
        for (int s = 0; s < savingsPercent.length; s++) {
            if (classificationInaccuracy[t][s] > tolerance + 1e-12) break;
            best = savingsPercent[s];
        }
        return best;
    }

    /** Mean of a curve over the savings steps x = 5..100 (x = 0 excluded): a normalised area under it. */
    public static double meanOverSavings(double[] curve) {
        double sum = 0;
        for (int s = 1; s < curve.length; s++) sum += curve[s];
        return sum / (curve.length - 1);
    }
}
