package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code segsa decide}: which frames of a class to label and which to skip, learned from a small
 * labelled pilot (past the paper's fixed "skip the lowest x%").
 *
 * <ol>
 *   <li><b>Pilot.</b> {@link #drawPilot} draws a stratified sample over a score: the frames sorted
 *       by the score are cut into as many equal strata as the pilot has frames and one frame is
 *       drawn from each, so both tails are present and every frame has the same chance to be drawn
 *       (proportional allocation: the pilot's rates estimate the pool's without weights).</li>
 *   <li><b>Meta-model.</b> A {@link MetaModel} is fitted on every labelled frame (the pilot and any
 *       later labelled batch) to predict how safe each frame is to skip.</li>
 *   <li><b>Calibration.</b> The pilot frames get out-of-fold safeties (grouped folds,
 *       {@link FrameGroups}: a pilot frame is never scored by a model fitted on it or on its
 *       neighbours). Sorted safest first, the skip count k of the pilot is certified in a fixed
 *       sequence from the smallest k that could ever be certified (k0, the
 *       {@link FrameSelection.PilotChoice#minimumPilotForZeroEvents}) upward, stopping at the first k
 *       whose one-sided Clopper-Pearson upper bound, at {@code confidence}, on the share of skipped
 *       pilot frames below {@code iouThreshold} exceeds {@code tolerance}. Testing in a fixed order
 *       and stopping at the first failure keeps the bound's confidence for the k chosen (the
 *       "largest k anywhere" rule would pick the luckiest of many tests).</li>
 *   <li><b>Decision.</b> The frames not labelled are ranked by the meta-model fitted on all labelled
 *       frames; the safest fraction k/pilot of them is skipped, the rest labelled, riskiest first.</li>
 * </ol>
 * Only the pilot calibrates: later batches are chosen by risk, not at random, so they feed the
 * meta-model but not the bound. The bound covers the pilot's skipped share under the out-of-fold
 * models; it carries to the rest because the pilot is a proportional sample of the same frames
 * (checked by simulation in the tests).
 */
public final class LabellingDecision {
    private LabellingDecision() {}

    public record Settings(MetaModel.Learner learner, double iouThreshold, double tolerance, double confidence, int folds,
                           int blockSize, int purge, long seed) {
        public Settings {
            if (!(tolerance > 0 && tolerance < 1)) throw new IllegalArgumentException("tolerance " + tolerance + " is outside (0, 1)");
            if (!(confidence > 0 && confidence < 1)) throw new IllegalArgumentException("confidence " + confidence + " is outside (0, 1)");
            if (!(iouThreshold > 0 && iouThreshold <= 1)) {
                throw new IllegalArgumentException("IoU threshold " + iouThreshold + " is outside (0, 1]");
            }
            if (folds < 2) throw new IllegalArgumentException("need at least 2 folds, got " + folds);
        }

        /** The smallest skipped pilot share with no frame below the threshold whose bound is within the tolerance. */
        public int minimumCertifiable() {
            return (int) Math.ceil(Math.log(1 - confidence) / Math.log(1 - tolerance) - 1e-12);
        }
    }

    /** The pilot's calibration: of {@code pilot} frames, {@code skipped} certified, {@code below} of them under the threshold. */
    public record Certificate(int pilot, int skipped, int below, double upperBound, int minimumSkipped) {
        public double skipFraction() {
            return pilot == 0 ? 0 : (double) skipped / pilot;
        }

        /** The point estimate of the skipped frames' share below the threshold (NaN when nothing is skipped). */
        public double predictedInaccuracy() {
            return skipped == 0 ? Double.NaN : (double) below / skipped;
        }
    }

    /** One frame not yet labelled: its safety, its rank in the labelling order (1 = label first), skip or label. */
    public record FrameDecision(String frame, double safety, int rank, boolean skip) {}

    public record Outcome(String target, Settings settings, int labelled, int pilot, Certificate certificate,
                          List<FrameDecision> decisions) {
        public int skipped() {
            return (int) decisions.stream().filter(FrameDecision::skip).count();
        }
    }

    /** {@code segsa decide}'s default pilot: {@link #DEFAULT_PILOT_FRACTION} of the frames, at least {@link #MIN_PILOT}. */
    public static final double DEFAULT_PILOT_FRACTION = 0.15;
    public static final int MIN_PILOT = 20;

    /**
     * The pilot {@code segsa decide} draws from {@code frames} frames without {@code --pilot-size}:
     * {@code fraction} of them, at least {@link #MIN_PILOT}, at most all of them. The one rule of
     * decide, its study's simulation and the evaluate report.
     */
    public static int defaultPilotSize(int frames, double fraction) {
        return Math.min(frames, Math.max(MIN_PILOT, (int) Math.ceil(fraction * frames)));
    }

    /**
     * A stratified pilot of {@code size} of the frames: sorted by {@code score} (ties by index),
     * cut into {@code size} strata of equal count (to one frame), one frame drawn uniformly from
     * each. Returns indices, ascending.
     */
    public static int[] drawPilot(double[] score, int size, long seed) {
        int n = score.length;
        if (size < 1 || size > n) throw new IllegalArgumentException("pilot size " + size + " is outside 1.." + n);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> Double.isNaN(score[i]) ? Double.NEGATIVE_INFINITY : score[i])
                .thenComparingInt(i -> i));
        SplittableRandom random = new SplittableRandom(seed);
        int[] out = new int[size];
        for (int s = 0; s < size; s++) {
            int from = (int) ((long) s * n / size), to = (int) ((long) (s + 1) * n / size);
            out[s] = order[from + random.nextInt(to - from)];
        }
        Arrays.sort(out);
        return out;
    }

    /**
     * Certifies a skip count on frames with an IoU and a safety (see the class comment):
     * fixed-sequence Clopper-Pearson from the smallest certifiable count upward.
     */
    public static Certificate certify(double[] safety, double[] iou, List<String> names, Settings s) {
        int n = safety.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -safety[i]).thenComparing(names::get));
        int k0 = s.minimumCertifiable();
        int below = 0, best = 0, bestBelow = 0;
        double bestBound = Double.NaN;
        for (int k = 1; k <= n; k++) {
            if (iou[order[k - 1]] < s.iouThreshold()) below++;
            if (k < k0) continue;
            double ub = ClopperPearson.upperBound(below, k, s.confidence());
            if (ub > s.tolerance() + 1e-12) break;
            best = k;
            bestBelow = below;
            bestBound = ub;
        }
        return new Certificate(n, best, bestBelow, bestBound, k0);
    }

    /**
     * Decides the frames of {@code table} that have no IoU and are not in {@code exclude}.
     *
     * @param pilot the frames (names) that were drawn as the random pilot; each must have an IoU
     */
    public static Outcome decide(DecisionFeatures table, Set<String> pilot, Set<String> exclude, Settings s) {
        List<Integer> labelled = new ArrayList<>(), pilotRows = new ArrayList<>(), rest = new ArrayList<>();
        for (int i = 0; i < table.size(); i++) {
            String f = table.frames().get(i);
            boolean hasIou = !Double.isNaN(table.iou()[i]);
            if (pilot.contains(f) && !hasIou) {
                throw new SegsaException("pilot frame " + f + " has no IoU for class " + table.target() + " in the labelled scores");
            }
            if (hasIou) {
                labelled.add(i);
                if (pilot.contains(f)) pilotRows.add(i);
            } else if (!exclude.contains(f)) {
                rest.add(i);
            }
        }
        if (pilotRows.isEmpty()) {
            throw new SegsaException("class " + table.target() + ": no labelled pilot frame predicts the class; label a pilot first");
        }
        int[] labelledIdx = labelled.stream().mapToInt(Integer::intValue).toArray();
        boolean[] isPilot = new boolean[table.size()];
        for (int i : pilotRows) isPilot[i] = true;
        // out-of-fold safety of the pilot frames
        FrameGroups groups = new FrameGroups(table.frames(), s.blockSize(), s.purge());
        double[] oof = new double[table.size()];
        Arrays.fill(oof, Double.NaN);
        for (FrameGroups.Fold fold : groups.folds(labelledIdx, s.folds(), s.seed())) {
            int[] test = Arrays.stream(fold.test()).filter(i -> isPilot[i]).toArray();
            if (test.length == 0) continue;
            MetaModel m = MetaModel.fit(s.learner(), table, fold.fit(), s.iouThreshold(), s.seed());
            double[] p = m.safety(table, test);
            for (int j = 0; j < test.length; j++) oof[test[j]] = p[j];
        }
        double[] ps = new double[pilotRows.size()], py = new double[pilotRows.size()];
        List<String> pn = new ArrayList<>();
        for (int j = 0; j < ps.length; j++) {
            ps[j] = oof[pilotRows.get(j)];
            py[j] = table.iou()[pilotRows.get(j)];
            pn.add(table.frames().get(pilotRows.get(j)));
        }
        Certificate certificate = certify(ps, py, pn, s);
        int[] restIdx = rest.stream().mapToInt(Integer::intValue).toArray();
        double[] safety = new double[restIdx.length];
        if (restIdx.length > 0) {
            MetaModel m = MetaModel.fit(s.learner(), table, labelledIdx, s.iouThreshold(), s.seed());
            safety = m.safety(table, restIdx);
        }
        Integer[] order = new Integer[restIdx.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        double[] sf = safety;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> sf[i]).thenComparing(i -> table.frames().get(restIdx[i])));
        int skip = (int) Math.floor(restIdx.length * certificate.skipFraction() + 1e-9);
        List<FrameDecision> decisions = new ArrayList<>();
        for (int r = 0; r < order.length; r++) {
            int i = order[r];
            decisions.add(new FrameDecision(table.frames().get(restIdx[i]), safety[i], r + 1, r >= order.length - skip));
        }
        return new Outcome(table.target(), s, labelledIdx.length, pilotRows.size(), certificate, List.copyOf(decisions));
    }
}
