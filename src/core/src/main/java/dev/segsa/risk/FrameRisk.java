package dev.segsa.risk;

import dev.segsa.segments.SegmentFeatures;

import java.util.Arrays;

/**
 * Frame risk from one frame's segment rows and a {@link RiskModel}: per class the mean predicted
 * IoU_adj of its segments that have an interior (of all its segments when none has), the frame's
 * predicted mIoU (the mean over predicted classes) and its risk (one minus that), and the expected
 * failed area: the sum over segments of size x P(IoU_adj = 0) x class weight, as a share of the
 * frame. Reuses its arrays: steady state allocates nothing. Not thread-safe.
 */
public final class FrameRisk {
    private final RiskModel model;
    private final int classes;
    private final double[] input;
    private final double[] sum;
    private final int[] count;
    private final double[] sumAll;
    private final int[] countAll;
    private final double[] classIou;
    private double risk = Double.NaN;
    private double failedArea = Double.NaN;

    public FrameRisk(RiskModel model) {
        this.model = model;
        this.classes = model.classNames().size();
        this.input = new double[model.inputs()];
        this.sum = new double[classes];
        this.count = new int[classes];
        this.sumAll = new double[classes];
        this.countAll = new int[classes];
        this.classIou = new double[classes];
    }

    public RiskModel model() {
        return model;
    }

    /**
     * Computes the frame's risk.
     *
     * @param rows     segment rows ({@link SegmentFeatures} with {@link RiskModel#HEAT_MAPS}), row-major
     * @param segments the number of rows
     * @param pixels   the frame's pixels
     */
    public void compute(double[] rows, int segments, long pixels) {
        int f = SegmentFeatures.columns(RiskModel.HEAT_MAPS.size(), classes);
        Arrays.fill(sum, 0);
        Arrays.fill(count, 0);
        Arrays.fill(sumAll, 0);
        Arrays.fill(countAll, 0);
        double failed = 0;
        for (int s = 0; s < segments; s++) {
            int o = s * f;
            RiskModel.input(rows, o, classes, model.withSa(), model.withProbabilities(), input);
            double iou = model.predictedIou(input);
            int c = (int) rows[o + SegmentFeatures.CLASS];
            sumAll[c] += iou;
            countAll[c]++;
            if (rows[o + SegmentFeatures.SIZE_IN] > 0) {
                sum[c] += iou;
                count[c]++;
            }
            failed += rows[o + SegmentFeatures.SIZE] * model.probabilityZero(input) * model.classWeights()[c];
        }
        double total = 0;
        int present = 0;
        for (int c = 0; c < classes; c++) {
            classIou[c] = count[c] > 0 ? sum[c] / count[c] : countAll[c] > 0 ? sumAll[c] / countAll[c] : Double.NaN;
            if (!Double.isNaN(classIou[c])) {
                total += classIou[c];
                present++;
            }
        }
        risk = present == 0 ? Double.NaN : 1 - total / present;
        failedArea = pixels > 0 ? failed / pixels : Double.NaN;
    }

    /** One minus the predicted frame mIoU; NaN when the frame had no segment. */
    public double risk() {
        return risk;
    }

    /** The expected failed share of the frame (weighted by class). */
    public double failedArea() {
        return failedArea;
    }

    /** The predicted IoU of class c (NaN when not predicted). Valid until the next compute. */
    public double classIou(int c) {
        return classIou[c];
    }
}
