package dev.segsa.scores;

import dev.segsa.score.FrameResult;

import dev.segsa.error.SegsaException;
import dev.segsa.samodel.SaModel;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code segsa score} over a directory: class SA of every image (and, with labels, class IoU),
 * then class-group SA: the mean over the group's classes present in the image of the class SA
 * z-scored with that class's mean and standard deviation (ddof 1) over the scored images.
 * Classes with fewer than two scored images, or zero spread, are left out of group means. The
 * softmax uncertainty baselines, when the scorer computes them, are aggregated the same way.
 */
public final class ScoringJob {
    private final SaModel sa;
    private final ClassGroups groups;
    private final List<ImageResult> results = new ArrayList<>();
    private int scoredFrames;

    /** Frames added. */
    public int frames() {
        return results.size();
    }

    /** Frames added whose features and logits were finite (they have SA). */
    public int scoredFrames() {
        return scoredFrames;
    }

    /** uncertainty: [measure][class] as in FrameResult, or null when not computed. */
    private record ImageResult(String image, long[] pixels, double[] mdsa, double[] lsa, double[][] uncertainty,
                               FrameOverlap overlap, double[] percentile, double[] risk) {}

    public ScoringJob(SaModel sa, ClassGroups groups) {
        this.sa = sa;
        this.groups = groups;
    }

    /**
     * Adds a scored frame.
     *
     * @param labels    true class ids at the output size (the engine's {@code labelsAtOutputSize}), or null
     * @param labelFile names the labels in error messages
     * @param warnings  receives a line when the frame had non-finite features
     */
    public void add(FrameResult r, int[] labels, Object labelFile, List<String> warnings) {
        int classes = sa.classes();
        int ignore = sa.settings().ignoreLabel();
        if (labels != null) {
            for (int i = 0; i < labels.length; i++) {
                int c = labels[i];
                if (c != ignore && c >= classes) {
                    throw new SegsaException(labelFile + ": pixel (" + (i % r.width()) + "," + (i / r.width()) + ") has label "
                            + c + " but the model has " + classes + " classes and the ignore label is " + ignore);
                }
            }
        }
        if (r.nonFiniteFeatures() > 0) {
            warnings.add(r.frame() + ": " + r.nonFiniteFeatures() + " NaN/Inf feature values; no SA for this frame");
        } else if (r.nonFiniteLogits() > 0) {
            warnings.add(r.frame() + ": " + r.nonFiniteLogits() + " NaN/Inf logits; no SA for this frame");
        }
        FrameOverlap overlap = labels == null ? null : FrameOverlap.of(r.predictedView(), labels, ignore, classes, groups);
        double[] lsa = r.lsaMean();
        if (lsa == null) {
            lsa = new double[classes];
            java.util.Arrays.fill(lsa, Double.NaN);
        }
        if (r.scored()) scoredFrames++;
        double[] percentile = new double[classes];
        for (int c = 0; c < classes; c++) percentile[c] = r.scored() ? r.classPercentile(c) : Double.NaN;
        double[] risk = r.segments() == null ? null : r.segments().classRisk();
        results.add(new ImageResult(r.frame(), r.predictedPixels(), r.mdsaMean(), lsa, r.uncertainty(), overlap, percentile, risk));
    }

    /** The rows of every frame added: per image its classes, then its groups (z-scored over the images). */
    public List<ScoresCsv.Row> rows() {
        return rows(results);
    }

    private List<ScoresCsv.Row> rows(List<ImageResult> results) {
        int classes = sa.classes();
        double[][] mdsaZ = zStats(results, ImageResult::mdsa);
        double[][] lsaZ = zStats(results, ImageResult::lsa);
        boolean withUncertainty = !results.isEmpty() && results.get(0).uncertainty != null;
        int measures = withUncertainty ? results.get(0).uncertainty.length : 0;
        double[][][] uncertaintyZ = new double[measures][][];
        for (int m = 0; m < measures; m++) {
            int measure = m;
            uncertaintyZ[m] = zStats(results, r -> r.uncertainty[measure]);
        }
        List<String> names = sa.settings().classNames();
        List<ScoresCsv.Row> rows = new ArrayList<>();
        for (ImageResult r : results) {
            for (int c = 0; c < classes; c++) {
                boolean inLabel = r.overlap != null && r.overlap.inLabel(c);
                if (r.pixels[c] == 0 && !inLabel) continue;
                double[] uncertainty = null;
                if (withUncertainty) {
                    uncertainty = new double[measures];
                    for (int m = 0; m < measures; m++) uncertainty[m] = r.uncertainty[m][c];
                }
                rows.add(new ScoresCsv.Row(r.image, names.get(c), r.pixels[c], r.mdsa[c], r.lsa[c],
                        r.overlap == null ? Double.NaN : r.overlap.iou(c), uncertainty, r.percentile[c],
                        r.risk == null ? Double.NaN : r.risk[c]));
            }
            for (int g = 0; g < groups.groups().size(); g++) {
                ClassGroups.Group group = groups.groups().get(g);
                long pixels = 0;
                boolean present = r.overlap != null && r.overlap.inLabel(classes + g);
                for (int c : group.classes()) {
                    pixels += r.pixels[c];
                    present |= r.pixels[c] > 0;
                }
                if (!present) continue;
                double[] uncertainty = null;
                if (withUncertainty) {
                    uncertainty = new double[measures];
                    for (int m = 0; m < measures; m++) uncertainty[m] = groupSa(r.uncertainty[m], group, uncertaintyZ[m]);
                }
                // marked as a group row in the file, so that no reader pools it with the class rows
                rows.add(new ScoresCsv.Row(r.image, group.name(), pixels, groupSa(r.mdsa, group, mdsaZ),
                        groupSa(r.lsa, group, lsaZ), r.overlap == null ? Double.NaN : r.overlap.iou(classes + g), uncertainty,
                        Double.NaN, Double.NaN, true));
            }
        }
        return rows;
    }

    /**
     * Per class {mean, std (ddof 1)} of a per-class image score (SA, or an uncertainty measure)
     * over the images where it is defined; NaN when undefined.
     */
    private double[][] zStats(List<ImageResult> results, java.util.function.Function<ImageResult, double[]> score) {
        int classes = sa.classes();
        double[][] out = new double[classes][];
        for (int c = 0; c < classes; c++) {
            double sum = 0;
            int n = 0;
            for (ImageResult r : results) {
                double v = score.apply(r)[c];
                if (Double.isFinite(v)) { sum += v; n++; }
            }
            double mean = n > 0 ? sum / n : Double.NaN;
            double ss = 0;
            for (ImageResult r : results) {
                double v = score.apply(r)[c];
                if (Double.isFinite(v)) ss += (v - mean) * (v - mean);
            }
            double std = n >= 2 ? Math.sqrt(ss / (n - 1)) : Double.NaN;
            out[c] = new double[] {mean, std > 0 ? std : Double.NaN};
        }
        return out;
    }

    private static double groupSa(double[] classSa, ClassGroups.Group group, double[][] z) {
        double sum = 0;
        int n = 0;
        for (int c : group.classes()) {
            double v = classSa[c];
            if (!Double.isFinite(v) || !Double.isFinite(z[c][1])) continue;
            sum += (v - z[c][0]) / z[c][1];
            n++;
        }
        return n == 0 ? Double.NaN : sum / n;
    }
}
