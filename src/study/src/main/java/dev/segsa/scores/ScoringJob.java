package dev.segsa.scores;

import dev.segsa.score.FrameScorer;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.samodel.SaModel;
import dev.segsa.io.Progress;

import java.nio.file.Path;
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
    private final FrameScorer scorer;
    private final SaModel sa;
    private final ClassGroups groups;

    /** uncertainty: [measure][class] as in FrameScorer.Result, or null when not computed. */
    private record ImageResult(String image, long[] pixels, double[] mdsa, double[] lsa, double[][] uncertainty,
                               FrameOverlap overlap) {}

    private long decodeNanos;

    /** Seconds spent decoding frames and labels (including resizing and normalisation). */
    public double decodeSeconds() {
        return decodeNanos / 1e9;
    }

    public ScoringJob(FrameScorer scorer, SaModel sa, ClassGroups groups) {
        this.scorer = scorer;
        this.sa = sa;
        this.groups = groups;
    }

    public List<ScoresCsv.Row> run(Path imageDir, Path labelDir, Progress progress, List<String> warnings) {
        List<Path> frames = FrameReader.listFrames(imageDir);
        SaModel.FitSettings s = sa.settings();
        FrameReader reader = new FrameReader(s.mean(), s.std(), s.resize());
        int classes = sa.classes();
        List<ImageResult> results = new ArrayList<>();
        float[] input = null;
        for (Path frame : frames) {
            long t0 = System.nanoTime();
            Path labelFile = labelDir == null ? null : FrameReader.labelFor(frame, labelDir);
            FrameReader.Frame f = reader.readFrame(frame, input);
            input = f.chw();
            int[] labels = null;
            if (labelFile != null) {
                labels = reader.readLabels(labelFile, frame, f.sourceWidth(), f.sourceHeight(), f.width(), f.height());
                for (int i = 0; i < labels.length; i++) {
                    int c = labels[i];
                    if (c != s.ignoreLabel() && c >= classes) {
                        throw new SegsaException(labelFile + ": pixel (" + (i % f.width()) + "," + (i / f.width()) + ") has label "
                                + c + " but the model has " + classes + " classes and the ignore label is " + s.ignoreLabel());
                    }
                }
            }
            decodeNanos += System.nanoTime() - t0;
            String name = frame.getFileName().toString();
            FrameScorer.Result r = scorer.score(f.chw(), f.height(), f.width(), name, false);
            if (r.nonFiniteFeatures() > 0) {
                warnings.add(name + ": " + r.nonFiniteFeatures() + " NaN/Inf feature values; no SA for this frame");
            }
            FrameOverlap overlap = labels == null ? null : FrameOverlap.of(r.predicted(), labels, s.ignoreLabel(), classes, groups);
            results.add(new ImageResult(name, r.predictedPixels(), r.mdsa(), r.lsa(), r.uncertainty(), overlap));
            progress.step();
        }
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
                        r.overlap == null ? Double.NaN : r.overlap.iou(c), uncertainty));
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
                rows.add(new ScoresCsv.Row(r.image, group.name(), pixels, groupSa(r.mdsa, group, mdsaZ),
                        groupSa(r.lsa, group, lsaZ), r.overlap == null ? Double.NaN : r.overlap.iou(classes + g), uncertainty));
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
