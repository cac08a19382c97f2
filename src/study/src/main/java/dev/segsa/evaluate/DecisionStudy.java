package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;
import dev.segsa.scores.ScoresCsv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code segsa decide --study}: how much labelling each way of deciding saves, per class, within a
 * tolerated classification inaccuracy, measured honestly on labelled scores.
 *
 * <ul>
 *   <li><b>Single scores</b> (every score column present) and <b>rank fusion</b> (each frame's mean,
 *       over those columns, of its rank among the class's frames): skip the lowest first; no fitting,
 *       so they are measured on all frames.</li>
 *   <li><b>The meta-model</b> (each {@link MetaModel.Learner}): repeated grouped cross-validation.
 *       Each repeat deals the frames' blocks ({@link FrameGroups}: consecutive frames of one sequence,
 *       neighbours purged from the fitting side) into folds; every frame is ranked by a model that never
 *       saw it or its neighbours; the out-of-fold ranking gives one savings curve per repeat. The
 *       saving reported is the mean over repeats of each repeat's largest saving within the
 *       tolerance (min and max beside it).</li>
 *   <li><b>Oracle</b> (skip the highest IoU first) and <b>random</b> (mean curve of seeded shuffles),
 *       as {@code evaluate} draws them.</li>
 *   <li><b>What the meta-model leans on</b>: permutation importance on the first repeat's folds: the
 *       drop in Spearman rho between out-of-fold safety and IoU when one feature is shuffled among a
 *       fold's test frames.</li>
 *   <li><b>The pilot workflow, simulated</b>: repeatedly draw a stratified pilot, hide the other
 *       frames' IoU, run {@link LabellingDecision#decide} and measure the skipped frames' true
 *       inaccuracy: the share of the pool skipped and the share of repeats whose inaccuracy stayed
 *       within the tolerance (the bound's coverage).</li>
 * </ul>
 */
public final class DecisionStudy {
    public static final String ORACLE = "oracle";
    public static final String RANDOM = "random";
    public static final String FUSION = "rank(all)";

    public record Settings(double iouThreshold, double tolerance, double confidence, int folds, int repeats, int blockSize,
                           int purge, List<MetaModel.Learner> learners, Set<String> groupNames, int randomRepeats,
                           double pilotFraction, int pilotRepeats, long seed) {
        public Settings {
            learners = List.copyOf(learners);
            groupNames = Set.copyOf(groupNames);
            if (repeats < 1) throw new IllegalArgumentException("repeats must be at least 1, got " + repeats);
            if (!(pilotFraction > 0 && pilotFraction < 1)) {
                throw new IllegalArgumentException("pilot fraction " + pilotFraction + " is outside (0, 1)");
            }
        }

        LabellingDecision.Settings decision(MetaModel.Learner learner, long seed) {
            return new LabellingDecision.Settings(learner, iouThreshold, tolerance, confidence, folds, blockSize, purge, seed);
        }
    }

    /** One order's saving within the tolerance: mean over repeats (min, max), and the curve drawn (the mean curve). */
    public record Saving(String order, double mean, int min, int max, SavingsCurve curve, String note) {}

    public record Importance(String feature, double drop) {}

    /** The pilot workflow simulated: mean share of the non-pilot frames skipped, mean true inaccuracy of the skipped ones, coverage. */
    public record PilotSimulation(String learner, int pilotSize, int repeats, double meanSkipped, double meanInaccuracy,
                                  double worstInaccuracy, double coverage, int minimumCertifiable) {}

    public record ClassResult(String target, int frames, int below, long sequences, int blocks, List<Saving> savings,
                              List<Importance> importance, PilotSimulation pilot) {
        public Saving saving(String order) {
            for (Saving s : savings) if (s.order.equals(order)) return s;
            return null;
        }
    }

    public record Result(String scores, Settings settings, List<String> columns, List<ClassResult> classes) {}

    /** Learner name in the savings table: "meta(forest)". */
    public static String metaName(MetaModel.Learner l) {
        return "meta(" + l.cliName() + ")";
    }

    private DecisionStudy() {}

    public static Result run(ScoresCsv.Contents scores, List<String> targets, Settings s, java.util.function.Consumer<String> progress) {
        List<ClassResult> out = new ArrayList<>();
        for (String target : targets) {
            progress.accept(target);
            DecisionFeatures table = DecisionFeatures.of(scores, target, s.groupNames(), null);
            int[] labelled = java.util.stream.IntStream.range(0, table.size()).filter(i -> !Double.isNaN(table.iou()[i])).toArray();
            if (labelled.length < 10) continue;
            out.add(runClass(table.subset(labelled), s));
        }
        if (out.isEmpty()) throw new SegsaException(scores.file() + ": no class has 10 or more labelled frames with every score");
        return new Result(scores.file().toString(), s, scores.scoreColumns(), List.copyOf(out));
    }

    static ClassResult runClass(DecisionFeatures t, Settings s) {
        int n = t.size();
        double[] thr = {s.iouThreshold()};
        int below = 0;
        for (double v : t.iou()) if (v < s.iouThreshold()) below++;
        List<Saving> savings = new ArrayList<>();
        for (String c : t.columns()) savings.add(fixed(c, ascending(t, t.values(c)), thr, s));
        if (t.columns().size() >= 2) {
            double[] fused = new double[n];
            for (String c : t.columns()) {
                double[] r = SpearmanCorrelation.ranks(t.values(c));
                for (int i = 0; i < n; i++) fused[i] += (n > 1 ? (r[i] - 1) / (n - 1) : 0.5) / t.columns().size();
            }
            savings.add(fixed(FUSION, ascending(t, fused), thr, s));
        }
        FrameGroups groups = new FrameGroups(t.frames(), s.blockSize(), s.purge());
        int[] all = java.util.stream.IntStream.range(0, n).toArray();
        List<Importance> importance = List.of();
        for (MetaModel.Learner learner : s.learners()) {
            List<SavingsCurve> curves = new ArrayList<>();
            int[] per = new int[s.repeats()];
            String note = "";
            try {
                for (int r = 0; r < s.repeats(); r++) {
                    List<FrameGroups.Fold> folds = groups.folds(all, s.folds(), s.seed() + 7919L * r);
                    double[] oof = new double[n];
                    List<MetaModel> models = new ArrayList<>();
                    for (FrameGroups.Fold f : folds) {
                        MetaModel m = MetaModel.fit(learner, t, f.fit(), s.iouThreshold(), s.seed() + r);
                        models.add(m);
                        double[] p = m.safety(t, f.test());
                        for (int j = 0; j < p.length; j++) oof[f.test()[j]] = p[j];
                    }
                    double[] negated = new double[n];
                    for (int i = 0; i < n; i++) negated[i] = -oof[i];
                    SavingsCurve curve = SavingsCurve.of(ascending(t, negated), thr);
                    curves.add(curve);
                    per[r] = curve.maxSavingsWithin(0, s.tolerance());
                    if (r == 0 && learner == s.learners().get(0)) importance = importance(t, folds, models, oof, s.seed());
                }
            } catch (SegsaException e) {
                note = e.getMessage();
            }
            if (curves.size() < s.repeats()) {
                savings.add(new Saving(metaName(learner), Double.NaN, 0, 0, null, note));
            } else {
                savings.add(new Saving(metaName(learner), Arrays.stream(per).average().orElse(0), Arrays.stream(per).min().orElse(0),
                        Arrays.stream(per).max().orElse(0), SavingsCurve.mean(curves), ""));
            }
        }
        double[] negIou = new double[n];
        for (int i = 0; i < n; i++) negIou[i] = -t.iou()[i];
        savings.add(fixed(ORACLE, ascending(t, negIou), thr, s));
        savings.add(random(t, thr, s));
        PilotSimulation pilot = s.pilotRepeats() > 0 && !s.learners().isEmpty() ? simulatePilot(t, s, s.learners().get(0)) : null;
        return new ClassResult(t.target(), n, below, groups.sequences(), groups.blocks(), List.copyOf(savings), importance, pilot);
    }

    private static Saving fixed(String name, double[] iouInOrder, double[] thr, Settings s) {
        SavingsCurve c = SavingsCurve.of(iouInOrder, thr);
        int v = c.maxSavingsWithin(0, s.tolerance());
        return new Saving(name, v, v, v, c, "");
    }

    private static Saving random(DecisionFeatures t, double[] thr, Settings s) {
        double[] base = t.iou().clone();
        SplittableRandom random = new SplittableRandom(s.seed() * 1_000_003L + t.target().hashCode());
        List<SavingsCurve> curves = new ArrayList<>();
        for (int rep = 0; rep < s.randomRepeats(); rep++) {
            for (int i = base.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                double x = base[i];
                base[i] = base[j];
                base[j] = x;
            }
            curves.add(SavingsCurve.of(base.clone(), thr));
        }
        SavingsCurve mean = SavingsCurve.mean(curves);
        int v = mean.maxSavingsWithin(0, s.tolerance());
        return new Saving(RANDOM, v, v, v, mean, "");
    }

    /** The IoU of the frames in ascending order of {@code key} (ties by frame name): the skip order. */
    static double[] ascending(DecisionFeatures t, double[] key) {
        Integer[] idx = new Integer[t.size()];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, Comparator.comparingDouble((Integer i) -> key[i]).thenComparing(i -> t.frames().get(i)));
        double[] out = new double[idx.length];
        for (int i = 0; i < idx.length; i++) out[i] = t.iou()[idx[i]];
        return out;
    }

    private static List<Importance> importance(DecisionFeatures t, List<FrameGroups.Fold> folds, List<MetaModel> models,
                                               double[] oof, long seed) {
        double base = SpearmanCorrelation.of(oof, t.iou()).rho();
        List<Importance> out = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(seed ^ 0x5EED);
        for (int j = 0; j < t.names().size(); j++) {
            double[] permuted = new double[t.size()];
            for (int f = 0; f < folds.size(); f++) {
                int[] test = folds.get(f).test();
                double[][] x = new double[test.length][];
                for (int i = 0; i < test.length; i++) x[i] = t.x()[test[i]].clone();
                for (int i = test.length - 1; i > 0; i--) {
                    int k = random.nextInt(i + 1);
                    double v = x[i][j];
                    x[i][j] = x[k][j];
                    x[k][j] = v;
                }
                double[] p = models.get(f).safety(x);
                for (int i = 0; i < test.length; i++) permuted[test[i]] = p[i];
            }
            double rho = SpearmanCorrelation.of(permuted, t.iou()).rho();
            out.add(new Importance(t.names().get(j), (Double.isNaN(base) ? 0 : base) - (Double.isNaN(rho) ? 0 : rho)));
        }
        out.sort(Comparator.comparingDouble(Importance::drop).reversed());
        return List.copyOf(out);
    }

    /** Repeats the pilot workflow on frames whose IoU is known, hiding the non-pilot IoU from the decision. */
    static PilotSimulation simulatePilot(DecisionFeatures t, Settings s, MetaModel.Learner learner) {
        int n = t.size();
        // decide's own pilot (at least 20 frames): a class it would pilot whole has nothing left to decide
        int size = LabellingDecision.defaultPilotSize(n, s.pilotFraction());
        if (size >= n) return null;
        String stratifyBy = t.columns().get(0);
        double[] score = t.values(stratifyBy);
        double sumSkipped = 0, sumInacc = 0, worst = 0;
        int covered = 0, runs = 0, inaccRuns = 0;
        int k0 = s.decision(learner, s.seed()).minimumCertifiable();
        Map<String, Integer> index = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) index.put(t.frames().get(i), i);
        for (int r = 0; r < s.pilotRepeats(); r++) {
            int[] pilot = LabellingDecision.drawPilot(score, size, s.seed() + 104_729L * r);
            Set<String> pilotNames = new HashSet<>();
            double[] hidden = new double[n];
            Arrays.fill(hidden, Double.NaN);
            for (int i : pilot) {
                pilotNames.add(t.frames().get(i));
                hidden[i] = t.iou()[i];
            }
            DecisionFeatures view = new DecisionFeatures(t.target(), t.frames(), t.names(), t.x(), hidden, t.columns(), t.pixels());
            LabellingDecision.Outcome o;
            try {
                o = LabellingDecision.decide(view, pilotNames, Set.of(), s.decision(learner, s.seed() + r));
            } catch (SegsaException | IllegalArgumentException e) {
                runs++; // e.g. a pilot of one block: a repeat that certified nothing, so skipped nothing (and stayed within)
                covered++;
                continue;
            }
            runs++;
            int skipped = 0, bad = 0;
            for (LabellingDecision.FrameDecision d : o.decisions()) {
                if (!d.skip()) continue;
                skipped++;
                if (t.iou()[index.get(d.frame())] < s.iouThreshold()) bad++;
            }
            sumSkipped += o.decisions().isEmpty() ? 0 : (double) skipped / o.decisions().size();
            double inacc = skipped == 0 ? 0 : (double) bad / skipped;
            if (skipped > 0) {
                sumInacc += inacc;
                inaccRuns++;
                worst = Math.max(worst, inacc);
            }
            if (inacc <= s.tolerance() + 1e-12) covered++;
        }
        if (runs == 0) return null;
        return new PilotSimulation(learner.cliName(), size, runs, sumSkipped / runs, inaccRuns == 0 ? Double.NaN : sumInacc / inaccRuns,
                worst, (double) covered / runs, k0);
    }

    /** The study as Markdown: the savings table, the importance table and the pilot simulation. */
    public static String markdown(Result r) {
        Settings s = r.settings();
        StringBuilder b = new StringBuilder();
        List<String> orders = new ArrayList<>();
        for (Saving v : r.classes().get(0).savings()) orders.add(v.order());
        b.append(String.format(Locale.ROOT, "Largest labelling saving (%%) whose classification inaccuracy (IoU < %s) stays within %s; "
                + "meta-models: mean over %d repeats of %d-fold grouped cross-validation (blocks of %d frames, purge %d), [min-max]; "
                + "%% of oracle = best meta-model / oracle.%n%n", trim(s.iouThreshold()), trim(s.tolerance()), s.repeats(), s.folds(),
                s.blockSize(), s.purge()));
        b.append("| class | frames (below) | ").append(String.join(" | ", orders)).append(" | % of oracle |\n");
        b.append("|---|---|").append("---|".repeat(orders.size())).append("---|\n");
        for (ClassResult c : r.classes()) {
            b.append("| ").append(c.target()).append(" | ").append(c.frames()).append(" (").append(c.below()).append(") |");
            double bestMeta = Double.NaN;
            for (Saving v : c.savings()) {
                b.append(' ');
                if (Double.isNaN(v.mean())) b.append("n/a");
                else if (v.min() != v.max()) b.append(String.format(Locale.ROOT, "%.1f [%d-%d]", v.mean(), v.min(), v.max()));
                else b.append(String.format(Locale.ROOT, "%.0f", v.mean()));
                b.append(" |");
                if (v.order().startsWith("meta(") && !Double.isNaN(v.mean())) bestMeta = Double.isNaN(bestMeta) ? v.mean() : Math.max(bestMeta, v.mean());
            }
            double oracle = c.saving(ORACLE).mean();
            b.append(' ').append(oracle > 0 && !Double.isNaN(bestMeta) ? String.format(Locale.ROOT, "%.0f%%", 100 * bestMeta / oracle) : "-")
                    .append(" |\n");
        }
        if (!r.classes().isEmpty() && !r.classes().get(0).importance().isEmpty()) {
            b.append(String.format(Locale.ROOT, "%nWhat %s leans on (permutation importance: drop in Spearman rho of out-of-fold "
                    + "safety vs IoU when the feature is shuffled; top 4):%n%n", metaName(s.learners().get(0))));
            b.append("| class | features |\n|---|---|\n");
            for (ClassResult c : r.classes()) {
                b.append("| ").append(c.target()).append(" | ");
                List<String> top = new ArrayList<>();
                for (Importance i : c.importance().subList(0, Math.min(4, c.importance().size()))) {
                    top.add(String.format(Locale.ROOT, "%s %.3f", i.feature(), i.drop()));
                }
                b.append(String.join(", ", top)).append(" |\n");
            }
        }
        boolean anyPilot = r.classes().stream().anyMatch(c -> c.pilot() != null);
        if (anyPilot) {
            ClassResult first = r.classes().stream().filter(c -> c.pilot() != null).findFirst().orElseThrow();
            b.append(String.format(Locale.ROOT, "%nThe pilot workflow simulated (%s): %d repeats of a stratified pilot of %.0f%% of the "
                    + "frames (at least " + LabellingDecision.MIN_PILOT + ", as decide draws), the rest decided with their IoU hidden; tolerance %s at %.0f%% confidence (certifying needs at least %d "
                    + "skipped pilot frames with none below the threshold):%n%n", first.pilot().learner(), first.pilot().repeats(),
                    100 * s.pilotFraction(), trim(s.tolerance()), 100 * s.confidence(), first.pilot().minimumCertifiable()));
            b.append("| class | pilot frames | rest skipped (mean) | true inaccuracy of the skipped (mean / worst) | repeats within tolerance |\n");
            b.append("|---|---|---|---|---|\n");
            for (ClassResult c : r.classes()) {
                PilotSimulation p = c.pilot();
                if (p == null) continue;
                b.append(String.format(Locale.ROOT, "| %s | %d | %.1f%% | %s / %s | %.0f%% |%n", c.target(), p.pilotSize(), 100 * p.meanSkipped(),
                        Double.isNaN(p.meanInaccuracy()) ? "-" : String.format(Locale.ROOT, "%.3f", p.meanInaccuracy()),
                        Double.isNaN(p.meanInaccuracy()) ? "-" : String.format(Locale.ROOT, "%.3f", p.worstInaccuracy()), 100 * p.coverage()));
            }
        }
        return b.toString();
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
