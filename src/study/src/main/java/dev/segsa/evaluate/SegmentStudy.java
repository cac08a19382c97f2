package dev.segsa.evaluate;

import dev.segsa.risk.FrameRisk;
import dev.segsa.risk.RiskModel;
import dev.segsa.segments.SegmentFeatures;
import dev.segsa.scores.SegmentTable;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * MetaSeg's table with SA as one more heat map: how well a segment's IoU_adj is predicted from
 * its features, softmax-only (entropy, margin, probabilities, sizes, class) against the same
 * features with MDSA, and with MDSA but without the class probabilities (the cheaper model), in grouped cross-validation ({@link FrameGroups}: folds of blocks of
 * consecutive frames of one recording, neighbours of test frames purged from fitting; both feature
 * sets on the same folds). Per feature set: AUROC of IoU_adj = 0 for the L1-logistic classifier
 * and for the boosted (by its predicted IoU, low first), R^2 of IoU_adj for the linear regressor
 * and for the boosted; and, per frame, the out-of-fold frame risk ({@link FrameRisk}) for the
 * frame-failure study.
 */
public final class SegmentStudy {
    /** One feature set's out-of-fold figures over the segments with an interior and an IoU_adj. */
    public record Row(String features, int segments, int zeros, double aurocLogistic, double aurocBoosted, double r2Linear,
                      double r2Boosted) {}

    /** The table and, per feature set, each frame's out-of-fold risk. */
    public record Result(List<Row> rows, Map<String, Map<String, Double>> frameRisk, int folds, int blockSize) {}

    /** Frames per block when recordings are too few to hold out whole. */
    public static final int DEFAULT_BLOCK = 10;

    private SegmentStudy() {}

    /**
     * @param blockSize frames per block of the folds; 0: whole recordings when there are at least
     *                  {@code folds} recordings (the honest test of a model meant for recordings it has
     *                  not seen), else blocks of {@link #DEFAULT_BLOCK} consecutive frames
     */
    public static Result run(SegmentTable t, int folds, int blockSize, int purge, RiskModelFit.Settings settings) {
        List<String> frames = new ArrayList<>(new java.util.LinkedHashSet<>(t.images()));
        if (blockSize <= 0) {
            long recordings = frames.stream().map(FrameGroups::sequenceOf).distinct().count();
            blockSize = recordings >= folds ? Integer.MAX_VALUE / 2 : DEFAULT_BLOCK;
        }
        Map<String, Integer> frameIndex = new java.util.HashMap<>();
        for (int i = 0; i < frames.size(); i++) frameIndex.put(frames.get(i), i);
        FrameGroups groups = new FrameGroups(frames, blockSize, purge);
        int[] all = new int[frames.size()];
        for (int i = 0; i < all.length; i++) all[i] = i;
        List<FrameGroups.Fold> split = groups.folds(all, Math.min(folds, Math.max(2, groups.blocks())), settings.seed());
        int f = t.columns();
        int[] trainable = RiskModelFit.trainable(t);
        List<Row> rows = new ArrayList<>();
        Map<String, Map<String, Double>> frameRisk = new LinkedHashMap<>();
        // {with MDSA, with class probabilities}: MetaSeg's softmax features, with MDSA, and with MDSA but without the
        // class probabilities (the cheaper model: no probability planes a frame)
        for (boolean[] set : new boolean[][] {{false, true}, {true, true}, {true, false}}) {
            boolean withSa = set[0], withProbabilities = set[1];
            String name = !withSa ? "softmax only" : withProbabilities ? "softmax + MDSA" : "softmax + MDSA, no class probabilities";
            double[] pZero = new double[t.rows().size()], iouBoosted = new double[t.rows().size()], iouLinear = new double[t.rows().size()];
            java.util.Arrays.fill(pZero, Double.NaN);
            Map<String, Double> risks = new LinkedHashMap<>();
            for (FrameGroups.Fold fold : split) {
                java.util.Set<Integer> fit = new java.util.HashSet<>();
                for (int i : fold.fit()) fit.add(i);
                java.util.Set<Integer> test = new java.util.HashSet<>();
                for (int i : fold.test()) test.add(i);
                int[] fitRows = java.util.Arrays.stream(trainable).filter(r -> fit.contains(frameIndex.get(t.images().get(r)))).toArray();
                RiskModel m = RiskModelFit.fit(t, fitRows, withSa, withProbabilities, settings, "cv", "cv", null);
                double[] x = new double[m.inputs()];
                // every segment of the test frames (the frame risk uses them all), scored out of fold
                Map<String, List<Integer>> testSegments = new LinkedHashMap<>();
                for (int r = 0; r < t.rows().size(); r++) {
                    String img = t.images().get(r);
                    if (!test.contains(frameIndex.get(img))) continue;
                    testSegments.computeIfAbsent(img, k -> new ArrayList<>()).add(r);
                    RiskModel.input(t.rows().get(r), 0, t.classNames().size(), withSa, withProbabilities, x);
                    pZero[r] = m.probabilityZero(x);
                    iouBoosted[r] = m.predictedIou(x);
                    iouLinear[r] = m.linearIou(x);
                }
                FrameRisk fr = new FrameRisk(m);
                for (var e : testSegments.entrySet()) {
                    double[] flat = new double[e.getValue().size() * f];
                    long pixels = 0;
                    for (int k = 0; k < e.getValue().size(); k++) {
                        double[] row = t.rows().get(e.getValue().get(k));
                        System.arraycopy(row, 0, flat, k * f, f);
                        pixels += (long) row[SegmentFeatures.SIZE];
                    }
                    fr.compute(flat, e.getValue().size(), pixels);
                    risks.put(e.getKey(), fr.risk());
                }
            }
            int n = trainable.length, zeros = 0;
            double[] p = new double[n], boostedScore = new double[n], yl = new double[n], yf = new double[n], y = new double[n];
            boolean[] zero = new boolean[n];
            for (int k = 0; k < n; k++) {
                int r = trainable[k];
                y[k] = t.rows().get(r)[f - 1];
                zero[k] = y[k] == 0;
                if (zero[k]) zeros++;
                p[k] = pZero[r];
                boostedScore[k] = -iouBoosted[r];
                yf[k] = iouBoosted[r];
                yl[k] = iouLinear[r];
            }
            rows.add(new Row(name, n, zeros, AucStatistics.auroc(p, zero), AucStatistics.auroc(boostedScore, zero), r2(y, yl), r2(y, yf)));
            frameRisk.put(!withSa ? "risk_softmax" : withProbabilities ? "risk" : "risk_noprob", risks);
        }
        return new Result(rows, frameRisk, split.size(), blockSize);
    }

    static double r2(double[] y, double[] pred) {
        double mean = 0;
        for (double v : y) mean += v;
        mean /= y.length;
        double ssRes = 0, ssTot = 0;
        for (int i = 0; i < y.length; i++) {
            ssRes += (y[i] - pred[i]) * (y[i] - pred[i]);
            ssTot += (y[i] - mean) * (y[i] - mean);
        }
        return ssTot == 0 ? Double.NaN : 1 - ssRes / ssTot;
    }

    public static String markdown(Result r) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "Segments with an interior, out of fold (%d grouped folds, %s):%n", r.folds(),
                r.blockSize() >= Integer.MAX_VALUE / 2 ? "whole recordings held out" : "blocks of " + r.blockSize() + " consecutive frames"));
        b.append("| features | segments (IoU_adj = 0) | AUROC L1-logistic | AUROC boosted trees | R^2 linear | R^2 boosted trees |\n");
        b.append("|---|---|---|---|---|---|\n");
        for (Row x : r.rows()) {
            b.append(String.format(Locale.ROOT, "| %s | %d (%d) | %.3f | %.3f | %.3f | %.3f |%n", x.features(), x.segments(), x.zeros(),
                    x.aurocLogistic(), x.aurocBoosted(), x.r2Linear(), x.r2Boosted()));
        }
        return b.toString();
    }
}
