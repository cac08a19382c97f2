package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;
import dev.segsa.scores.ScoresCsv;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the labelling meta-model sees of a frame, for one class: everything {@code segsa score}
 * already wrote for that frame, nothing recomputed.
 *
 * <ul>
 *   <li>the class's own row: {@code log_pixels} (log(1 + predicted pixels)), {@code share} (its share
 *       of the frame's predicted pixels) and every score column present (mdsa, lsa, entropy, margin,
 *       least_confidence, deepgini: class means over the predicted pixels);</li>
 *   <li>the frame: {@code frame_<score>} (the pixel-weighted mean of each score column over the
 *       frame's class rows: the frame-level score) and {@code frame_classes} (how many classes the
 *       model predicts in it); when the file has them, {@code frame_class_aware} (the class-aware
 *       frame score) and {@code frame_risk} with the class's own {@code risk} (a risk model's).</li>
 * </ul>
 * Group rows ({@code segsa score --groups}) are neither a target's features nor part of the frame
 * totals: pass their names. A row with an empty score is left out (the class was not predicted, or
 * has no SA model), as {@code evaluate} does.
 *
 * @param frames   frame names, one per row of {@code x}
 * @param names    feature names, one per column of {@code x}
 * @param x        features [frame][feature]
 * @param iou      the class IoU per frame, NaN when the frame is not labelled
 * @param columns  the score columns used (a subset of the names)
 */
public record DecisionFeatures(String target, List<String> frames, List<String> names, double[][] x, double[] iou,
                               List<String> columns, long[] pixels) {

    public int size() {
        return frames.size();
    }

    public int column(String name) {
        int i = names.indexOf(name);
        if (i < 0) throw new IllegalArgumentException("no feature '" + name + "' (have " + names + ")");
        return i;
    }

    /** One feature (or score column) over all frames. */
    public double[] values(String name) {
        int c = column(name);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i][c];
        return out;
    }

    /**
     * The features of {@code target} in a scores file. {@code iouFrom}: labelled scores (a pilot,
     * earlier rounds) whose IoU of the target replaces the pool's, by frame name (null: none).
     */
    public static DecisionFeatures of(ScoresCsv.Contents scores, String target, Set<String> groupNames,
                                      Map<String, Double> iouFrom) {
        List<String> columns = scores.scoreColumns();
        if (columns.isEmpty()) throw new SegsaException(scores.file() + ": no score column holds any value");
        Map<String, List<ScoresCsv.Row>> byFrame = new LinkedHashMap<>();
        boolean found = false;
        for (ScoresCsv.Row r : scores.rows()) {
            if (r.className() == null) continue;
            byFrame.computeIfAbsent(r.image(), k -> new ArrayList<>()).add(r);
            found |= r.className().equals(target);
        }
        if (!found) throw new SegsaException(scores.file() + ": no rows for class '" + target + "'");
        List<String> names = new ArrayList<>(List.of("log_pixels", "share"));
        names.addAll(columns);
        for (String c : columns) names.add("frame_" + c);
        names.add("frame_classes");
        // the frame scores that need no pixel weighting: class-aware (fit-frame percentiles) and risk (a risk model)
        boolean classAware = scores.hasClassPercentiles(), risk = scores.hasRisk();
        Map<String, ScoresCsv.Contents.FrameScore> aware = classAware ? scores.frameScores(ScoresCsv.CLASS_AWARE, groupNames) : Map.of();
        Map<String, ScoresCsv.Contents.FrameScore> frameRisk = risk ? scores.frameScores(ScoresCsv.RISK, groupNames) : Map.of();
        if (classAware) names.add("frame_class_aware");
        if (risk) {
            names.add("frame_risk");
            names.add("risk");
        }
        List<String> frames = new ArrayList<>();
        List<double[]> x = new ArrayList<>();
        List<Double> iou = new ArrayList<>();
        List<Long> pixels = new ArrayList<>();
        for (Map.Entry<String, List<ScoresCsv.Row>> e : byFrame.entrySet()) {
            ScoresCsv.Row own = null;
            long total = 0;
            int classes = 0;
            for (ScoresCsv.Row r : e.getValue()) {
                // group rows (marked in the file or named in groupNames) are not classes of the frame; a group can still be the target
                if (r.className().equals(target)) own = r;
                if (ScoresCsv.Contents.isGroup(r, groupNames)) continue;
                total += r.pixels();
                if (r.pixels() > 0) classes++;
            }
            if (own == null) continue;
            boolean complete = true;
            for (String c : columns) complete &= Double.isFinite(own.score(c));
            if (!complete) continue;
            double[] v = new double[names.size()];
            int k = 0;
            v[k++] = Math.log1p(own.pixels());
            v[k++] = total > 0 ? (double) own.pixels() / total : 0;
            for (String c : columns) v[k++] = own.score(c);
            for (String c : columns) {
                double sum = 0, weight = 0;
                for (ScoresCsv.Row r : e.getValue()) {
                    if (ScoresCsv.Contents.isGroup(r, groupNames)) continue;
                    double s = r.score(c);
                    if (Double.isFinite(s) && r.pixels() > 0) {
                        sum += s * r.pixels();
                        weight += r.pixels();
                    }
                }
                v[k++] = weight > 0 ? sum / weight : own.score(c);
            }
            v[k++] = classes;
            // a frame where no class covers enough of it, or with no segment, reads 0 (the lowest risk)
            if (classAware) v[k++] = finiteOr(aware.get(e.getKey()).score(), 0);
            if (risk) {
                v[k++] = finiteOr(frameRisk.get(e.getKey()).score(), 0);
                v[k++] = finiteOr(own.risk(), 0);
            }
            frames.add(e.getKey());
            x.add(v);
            double label = own.iou();
            if (iouFrom != null && iouFrom.containsKey(e.getKey())) label = iouFrom.get(e.getKey());
            iou.add(label);
            pixels.add(own.pixels());
        }
        if (frames.isEmpty()) {
            throw new SegsaException(scores.file() + ": class '" + target + "' has no frame with a value in every score column ("
                    + String.join(", ", columns) + ")");
        }
        double[] iouArray = new double[iou.size()];
        long[] px = new long[pixels.size()];
        for (int i = 0; i < iouArray.length; i++) {
            iouArray[i] = iou.get(i);
            px[i] = pixels.get(i);
        }
        return new DecisionFeatures(target, List.copyOf(frames), List.copyOf(names), x.toArray(double[][]::new), iouArray,
                List.copyOf(columns), px);
    }

    private static double finiteOr(double v, double otherwise) {
        return Double.isFinite(v) ? v : otherwise;
    }

    /**
     * Frames with a row for {@code target} that {@link #of} leaves out because a score column
     * present in the file is empty in it (e.g. LSA skipped for its time budget): the decision cannot
     * rank them, so they are labelled.
     */
    public static List<String> incomplete(ScoresCsv.Contents scores, String target, Set<String> groupNames) {
        List<String> out = new ArrayList<>();
        for (ScoresCsv.Row r : scores.rows()) {
            if (!target.equals(r.className())) continue;
            for (String c : scores.scoreColumns()) {
                if (!Double.isFinite(r.score(c))) {
                    out.add(r.image());
                    break;
                }
            }
        }
        return out;
    }

    /** The rows {@code idx} of this table. */
    public DecisionFeatures subset(int[] idx) {
        List<String> f = new ArrayList<>(idx.length);
        double[][] xs = new double[idx.length][];
        double[] y = new double[idx.length];
        long[] px = new long[idx.length];
        for (int i = 0; i < idx.length; i++) {
            f.add(frames.get(idx[i]));
            xs[i] = x[idx[i]];
            y[i] = iou[idx[i]];
            px[i] = pixels[idx[i]];
        }
        return new DecisionFeatures(target, List.copyOf(f), names, xs, y, columns, px);
    }
}
