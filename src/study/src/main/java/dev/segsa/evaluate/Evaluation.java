package dev.segsa.evaluate;

import dev.segsa.scores.ClassGroups;

import dev.segsa.error.SegsaException;
import dev.segsa.scores.ScoresCsv;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code segsa evaluate}: RQ1 (Spearman rho of image score vs image IoU, paper Table 3) and RQ2
 * (savings vs inaccuracy, paper Figure 9) per target (class or class group) of a scores file, for
 * every score column present (mdsa, lsa, the softmax uncertainty baselines) and the two reference
 * orders: oracle (skips the images with the highest IoU first: the best any score could do) and
 * random (mean over seeded shuffles).
 *
 * <p>Rows used: for each target, the rows with an IoU and a value in every score column present;
 * rows with an empty IoU (no labels) or an empty score (class not predicted in the image, or no
 * SA model for it) are skipped and counted. All scores and baselines of a target are evaluated
 * on the same images.
 */
public final class Evaluation {
    public static final String ORACLE = "oracle";
    public static final String RANDOM = "random";
    public static final int EXTREMES = 5;

    /**
     * @param fusion score columns to fuse into one more order (empty: none): per target, each
     *               image's mean over these columns of its rank among the target's images (ties
     *               averaged, scaled to 0..1), e.g. SA with an uncertainty baseline
     */
    public record Settings(double[] thresholds, int randomRepeats, long seed, ClassGroups groups, List<String> fusion) {
        public Settings(double[] thresholds, int randomRepeats, long seed, ClassGroups groups) {
            this(thresholds, randomRepeats, seed, groups, List.of());
        }

        /** The fused order's name, e.g. "rank(mdsa+entropy)"; null without fusion. */
        public String fusionName() {
            return fusion.isEmpty() ? null : "rank(" + String.join("+", fusion) + ")";
        }

        public Settings {
            fusion = List.copyOf(fusion);
            if (fusion.size() == 1) throw new IllegalArgumentException("fusing needs at least two score columns, got " + fusion);
            if (thresholds.length == 0) throw new IllegalArgumentException("no IoU thresholds");
            for (double t : thresholds) {
                if (!(t > 0 && t <= 1)) throw new IllegalArgumentException("IoU threshold " + t + " is outside (0, 1]");
            }
            if (randomRepeats < 1) throw new IllegalArgumentException("random repeats must be at least 1, got " + randomRepeats);
        }
    }

    /** A class or group of the scores file and how many of its rows were used. */
    public record Target(String name, boolean group, int rows, int rowsWithoutIou, int rowsWithoutScore, int images) {}

    public record Rq1Row(Target target, String score, SpearmanCorrelation correlation) {}

    /** order: a score column, {@link #ORACLE} or {@link #RANDOM}. */
    public record Rq2Series(Target target, String order, SavingsCurve curve) {}

    /** One of the {@link #EXTREMES} highest or lowest frames of a target by the primary score. */
    public record Extreme(Target target, String score, boolean highest, int rank, String image, double value, double iou,
                          long pixels) {}

    public record Result(ScoresCsv.Contents scores, Settings settings, List<Target> targets, List<Rq1Row> rq1,
                         List<Rq2Series> rq2, String primaryScore, List<Extreme> extremes) {
        /** The score columns, then the fused order when there is one. */
        public List<String> columns() {
            List<String> o = new ArrayList<>(scores.scoreColumns());
            if (settings.fusionName() != null) o.add(settings.fusionName());
            return o;
        }

        /** The orders drawn in RQ2: the score columns (and the fused order), then oracle and random. */
        public List<String> orders() {
            List<String> o = columns();
            o.add(ORACLE);
            o.add(RANDOM);
            return o;
        }
    }

    private Evaluation() {}

    public static Result run(ScoresCsv.Contents scores, Settings settings) {
        List<String> columns = scores.scoreColumns();
        if (columns.isEmpty()) throw new SegsaException(scores.file() + ": no score column holds any value");
        Map<String, List<ScoresCsv.Row>> byTarget = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        for (ScoresCsv.Row r : scores.rows()) {
            if (!seen.add(r.className() + "\u0000" + r.image())) {
                throw new SegsaException(scores.file() + ": image " + r.image() + " has two rows for class '" + r.className()
                        + "' (were two score files concatenated?)");
            }
            byTarget.computeIfAbsent(r.className(), k -> new ArrayList<>()).add(r);
        }
        Set<String> groupNames = new HashSet<>();
        for (ClassGroups.Group g : settings.groups().groups()) {
            if (!byTarget.containsKey(g.name())) {
                throw new SegsaException(scores.file() + ": no rows for group '" + g.name() + "'; group rows are written by "
                        + "segsa score --groups (they cannot be rebuilt from class rows: group IoU needs the pixels)");
            }
            groupNames.add(g.name());
        }
        groupNames.addAll(scores.markedGroups()); // the rows the file marks as groups are groups without --groups too
        for (String f : settings.fusion()) {
            if (!columns.contains(f)) {
                throw new SegsaException(scores.file() + ": cannot fuse '" + f + "': the scores have " + String.join(", ", columns));
            }
        }
        String primary = columns.get(0);
        List<Target> targets = new ArrayList<>();
        List<Rq1Row> rq1 = new ArrayList<>();
        List<Rq2Series> rq2 = new ArrayList<>();
        List<Extreme> extremes = new ArrayList<>();
        for (Map.Entry<String, List<ScoresCsv.Row>> e : byTarget.entrySet()) {
            List<ScoresCsv.Row> used = new ArrayList<>();
            int noIou = 0, noScore = 0;
            for (ScoresCsv.Row r : e.getValue()) {
                if (Double.isNaN(r.iou())) { noIou++; continue; }
                boolean all = true;
                for (String c : columns) all &= !Double.isNaN(r.score(c));
                if (!all) { noScore++; continue; }
                used.add(r);
            }
            Target target = new Target(e.getKey(), groupNames.contains(e.getKey()), e.getValue().size(), noIou, noScore, used.size());
            targets.add(target);
            int n = used.size();
            double[] iou = new double[n];
            for (int i = 0; i < n; i++) iou[i] = used.get(i).iou();
            for (String c : columns) {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) v[i] = used.get(i).score(c);
                rq1.add(new Rq1Row(target, c, SpearmanCorrelation.of(v, iou)));
                List<ScoresCsv.Row> order = new ArrayList<>(used);
                order.sort(Comparator.comparingDouble((ScoresCsv.Row r) -> r.score(c)).thenComparing(ScoresCsv.Row::image));
                rq2.add(new Rq2Series(target, c, SavingsCurve.of(iouOf(order), settings.thresholds())));
            }
            if (settings.fusionName() != null) {
                double[] fused = new double[n];
                for (String c : settings.fusion()) {
                    double[] v = new double[n];
                    for (int i = 0; i < n; i++) v[i] = used.get(i).score(c);
                    double[] rank = SpearmanCorrelation.ranks(v);
                    for (int i = 0; i < n; i++) fused[i] += (n > 1 ? (rank[i] - 1) / (n - 1) : 0.5) / settings.fusion().size();
                }
                rq1.add(new Rq1Row(target, settings.fusionName(), SpearmanCorrelation.of(fused, iou)));
                Integer[] idx = new Integer[n];
                for (int i = 0; i < n; i++) idx[i] = i;
                java.util.Arrays.sort(idx, Comparator.comparingDouble((Integer i) -> fused[i]).thenComparing(i -> used.get(i).image()));
                List<ScoresCsv.Row> order = new ArrayList<>();
                for (Integer i : idx) order.add(used.get(i));
                rq2.add(new Rq2Series(target, settings.fusionName(), SavingsCurve.of(iouOf(order), settings.thresholds())));
            }
            List<ScoresCsv.Row> oracle = new ArrayList<>(used);
            oracle.sort(Comparator.comparingDouble((ScoresCsv.Row r) -> -r.iou()).thenComparing(ScoresCsv.Row::image));
            rq2.add(new Rq2Series(target, ORACLE, SavingsCurve.of(iouOf(oracle), settings.thresholds())));
            rq2.add(new Rq2Series(target, RANDOM, randomCurve(used, target.name(), settings)));

            List<ScoresCsv.Row> byPrimary = new ArrayList<>(used);
            byPrimary.sort(Comparator.comparingDouble((ScoresCsv.Row r) -> -r.score(primary)).thenComparing(ScoresCsv.Row::image));
            int k = Math.min(EXTREMES, n);
            for (int i = 0; i < k; i++) {
                ScoresCsv.Row r = byPrimary.get(i);
                extremes.add(new Extreme(target, primary, true, i + 1, r.image(), r.score(primary), r.iou(), r.pixels()));
            }
            for (int i = 0; i < k; i++) {
                ScoresCsv.Row r = byPrimary.get(n - 1 - i);
                extremes.add(new Extreme(target, primary, false, i + 1, r.image(), r.score(primary), r.iou(), r.pixels()));
            }
        }
        return new Result(scores, settings, List.copyOf(targets), List.copyOf(rq1), List.copyOf(rq2), primary, List.copyOf(extremes));
    }

    private static double[] iouOf(List<ScoresCsv.Row> rows) {
        double[] out = new double[rows.size()];
        for (int i = 0; i < out.length; i++) out[i] = rows.get(i).iou();
        return out;
    }

    /** Mean curve over {@code randomRepeats} uniform shuffles (Fisher-Yates), seeded by the seed and the target name. */
    static SavingsCurve randomCurve(List<ScoresCsv.Row> rows, String target, Settings settings) {
        double[] base = iouOf(rows.stream().sorted(Comparator.comparing(ScoresCsv.Row::image)).toList());
        SplittableRandom random = new SplittableRandom(settings.seed() * 1_000_003L + target.hashCode());
        List<SavingsCurve> curves = new ArrayList<>(settings.randomRepeats());
        double[] order = base.clone();
        for (int rep = 0; rep < settings.randomRepeats(); rep++) {
            for (int i = order.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                double t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            curves.add(SavingsCurve.of(order, settings.thresholds()));
        }
        return SavingsCurve.mean(curves);
    }
}
