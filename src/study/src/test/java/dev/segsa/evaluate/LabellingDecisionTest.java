package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class LabellingDecisionTest {
    /**
     * Seeded frames in sequences: a latent quality q drifts along each sequence (neighbours are
     * alike); two noisy scores fall as q rises (like MDSA and entropy), a third feature is noise;
     * the class IoU is a noisy logistic of q.
     */
    static DecisionFeatures synthetic(int sequences, int perSequence, double noise, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> frames = new ArrayList<>();
        List<double[]> x = new ArrayList<>();
        List<Double> iou = new ArrayList<>();
        for (int s = 0; s < sequences; s++) {
            double q = r.nextGaussian();
            for (int i = 0; i < perSequence; i++) {
                q = 0.9 * q + 0.45 * r.nextGaussian();
                frames.add(String.format("seq%02d_%05d.png", s, i));
                x.add(new double[]{-q + noise * r.nextGaussian(), -0.8 * q + noise * r.nextGaussian(), r.nextGaussian()});
                double y = 1 / (1 + Math.exp(-(2.5 * q + 1.0 + 0.6 * r.nextGaussian())));
                iou.add(Math.min(1, Math.max(0, y)));
            }
        }
        long[] px = new long[frames.size()];
        Arrays.fill(px, 1000);
        return new DecisionFeatures("car", frames, List.of("mdsa", "entropy", "noise"), x.toArray(double[][]::new),
                iou.stream().mapToDouble(Double::doubleValue).toArray(), List.of("mdsa", "entropy"), px);
    }

    @Test
    void pilotIsStratifiedOverTheScoreAndSeeded() {
        double[] score = new double[100];
        for (int i = 0; i < 100; i++) score[i] = (i * 37) % 100; // a permutation of 0..99
        int[] pilot = LabellingDecision.drawPilot(score, 10, 5);
        assertEquals(10, pilot.length);
        assertArrayEquals(pilot, LabellingDecision.drawPilot(score, 10, 5));
        // one frame per decile of the score: both tails present
        boolean[] decile = new boolean[10];
        for (int i : pilot) decile[(int) score[i] / 10] = true;
        for (boolean d : decile) assertTrue(d);
        assertEquals(100, LabellingDecision.drawPilot(score, 100, 1).length);
        assertThrows(IllegalArgumentException.class, () -> LabellingDecision.drawPilot(score, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> LabellingDecision.drawPilot(score, 101, 1));
        // every frame is equally likely: over many draws each is picked about size/n of the time
        int[] hits = new int[100];
        for (int s = 0; s < 4000; s++) for (int i : LabellingDecision.drawPilot(score, 10, s)) hits[i]++;
        for (int h : hits) assertEquals(400, h, 90);
    }

    /** Hand-worked certificates: k0 = 59 at 5% / 95%; the sequence stops at the first bound above the tolerance. */
    @Test
    void certifyTestsInAFixedSequenceFromTheSmallestCertifiableCount() {
        var s = new LabellingDecision.Settings(MetaModel.Learner.FOREST, 0.5, 0.05, 0.95, 5, 10, 1, 1);
        assertEquals(59, s.minimumCertifiable());
        int n = 200;
        double[] safety = new double[n], iou = new double[n];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            safety[i] = n - i; // frame 0 safest
            iou[i] = 0.9;
            names.add("f" + i);
        }
        // no miss among the 59 safest, a miss at 60: 0 of 59 -> bound 1 - 0.05^(1/59) = 0.0495; 1 of 60 -> above 0.05: stop at 59
        iou[59] = 0.2;
        var c = LabellingDecision.certify(safety, iou, names, s);
        assertEquals(0, c.below());
        assertEquals(59, c.skipped());
        assertEquals(1 - Math.pow(0.05, 1.0 / 59), c.upperBound(), 1e-9);
        assertTrue(ClopperPearson.upperBound(1, 60, 0.95) > 0.05);
        iou[59] = 0.9;
        // no miss at all: every k passes
        assertEquals(200, LabellingDecision.certify(safety, iou, names, s).skipped());
        // a miss among the first 59: nothing can be certified, even though a larger k would pass on its own
        iou[3] = 0.1;
        var c2 = LabellingDecision.certify(safety, iou, names, s);
        assertEquals(0, c2.skipped());
        assertTrue(ClopperPearson.upperBound(1, 200, 0.95) <= 0.05, "the 'largest k anywhere' rule would have skipped 200");
        // too small a pilot: nothing
        var c3 = LabellingDecision.certify(Arrays.copyOf(safety, 40), Arrays.copyOf(iou, 40), names.subList(0, 40), s);
        assertEquals(0, c3.skipped());
        assertTrue(Double.isNaN(c3.predictedInaccuracy()));
    }

    /**
     * The bound holds on the frames actually skipped: over many seeded pools, the true share of
     * skipped frames below the threshold exceeds the tolerance in at most about 1 - confidence of
     * the runs (95%: at least 90 of 100 runs within, with slack for the finite count), and the
     * decision does skip (the check is not vacuous).
     */
    @Test
    void boundCoverageBySimulation() {
        var settings = new LabellingDecision.Settings(MetaModel.Learner.LOGISTIC, 0.5, 0.05, 0.95, 5, 10, 1, 3);
        int runs = 100, within = 0;
        double skippedShare = 0;
        for (int run = 0; run < runs; run++) {
            DecisionFeatures pool = synthetic(20, 50, 0.5, 1000 + run);
            int[] pilotIdx = LabellingDecision.drawPilot(pool.values("mdsa"), 300, run);
            double[] hidden = new double[pool.size()];
            Arrays.fill(hidden, Double.NaN);
            Set<String> pilot = new HashSet<>();
            for (int i : pilotIdx) {
                hidden[i] = pool.iou()[i];
                pilot.add(pool.frames().get(i));
            }
            var view = new DecisionFeatures("car", pool.frames(), pool.names(), pool.x(), hidden, pool.columns(), pool.pixels());
            var o = LabellingDecision.decide(view, pilot, Set.of(), settings);
            Map<String, Integer> index = new HashMap<>();
            for (int i = 0; i < pool.size(); i++) index.put(pool.frames().get(i), i);
            int skipped = 0, below = 0;
            for (var d : o.decisions()) {
                assertFalse(pilot.contains(d.frame()), "pilot frames are labelled, not decided");
                if (!d.skip()) continue;
                skipped++;
                if (pool.iou()[index.get(d.frame())] < 0.5) below++;
            }
            assertEquals(700, o.decisions().size());
            skippedShare += skipped / 700.0;
            if (skipped == 0 || (double) below / skipped <= 0.05) within++;
        }
        assertTrue(within >= 90, within + " of " + runs + " runs kept the skipped frames within the tolerance");
        assertTrue(skippedShare / runs > 0.15, "mean share skipped " + skippedShare / runs);
    }

    @Test
    void forestDecisionRanksRiskiestFirstAndIsDeterministic() {
        DecisionFeatures pool = synthetic(10, 60, 0.3, 42);
        int[] pilotIdx = LabellingDecision.drawPilot(pool.values("mdsa"), 200, 9);
        double[] hidden = new double[pool.size()];
        Arrays.fill(hidden, Double.NaN);
        Set<String> pilot = new HashSet<>();
        for (int i : pilotIdx) {
            hidden[i] = pool.iou()[i];
            pilot.add(pool.frames().get(i));
        }
        var view = new DecisionFeatures("car", pool.frames(), pool.names(), pool.x(), hidden, pool.columns(), pool.pixels());
        var settings = new LabellingDecision.Settings(MetaModel.Learner.FOREST, 0.5, 0.1, 0.9, 5, 10, 1, 3);
        var a = LabellingDecision.decide(view, pilot, Set.of(pool.frames().get(0), pool.frames().get(1)), settings);
        var b = LabellingDecision.decide(view, pilot, Set.of(pool.frames().get(0), pool.frames().get(1)), settings);
        assertEquals(a, b, "same seed, same decision");
        assertEquals(pool.size() - 200 - (int) IntStream.of(0, 1).filter(i -> !pilot.contains(pool.frames().get(i))).count(),
                a.decisions().size(), "pilot and excluded frames are not decided");
        assertTrue(a.skipped() > 0, "certified " + a.certificate());
        for (int i = 1; i < a.decisions().size(); i++) {
            assertTrue(a.decisions().get(i - 1).safety() <= a.decisions().get(i).safety(), "riskiest first");
            assertEquals(i, a.decisions().get(i - 1).rank());
        }
        // skips are the safest tail
        int firstSkip = IntStream.range(0, a.decisions().size()).filter(i -> a.decisions().get(i).skip()).findFirst().orElseThrow();
        for (int i = firstSkip; i < a.decisions().size(); i++) assertTrue(a.decisions().get(i).skip());
        // the safety ranks the hidden truth well (Spearman of safety vs true IoU over the decided frames)
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < pool.size(); i++) index.put(pool.frames().get(i), i);
        double[] s = a.decisions().stream().mapToDouble(LabellingDecision.FrameDecision::safety).toArray();
        double[] y = a.decisions().stream().mapToDouble(d -> pool.iou()[index.get(d.frame())]).toArray();
        assertTrue(SpearmanCorrelation.of(s, y).rho() > 0.6, "rho " + SpearmanCorrelation.of(s, y).rho());
    }

    @Test
    void clearErrors() {
        DecisionFeatures pool = synthetic(2, 20, 0.3, 1);
        var settings = new LabellingDecision.Settings(MetaModel.Learner.FOREST, 0.5, 0.05, 0.95, 5, 10, 1, 1);
        var e = assertThrows(SegsaException.class, () -> LabellingDecision.decide(
                new DecisionFeatures("car", pool.frames(), pool.names(), pool.x(), new double[40], pool.columns(), pool.pixels()),
                Set.of(), Set.of(), settings));
        assertTrue(e.getMessage().contains("pilot"), e.getMessage());
        double[] hidden = new double[40];
        Arrays.fill(hidden, Double.NaN);
        var view = new DecisionFeatures("car", pool.frames(), pool.names(), pool.x(), hidden, pool.columns(), pool.pixels());
        e = assertThrows(SegsaException.class, () -> LabellingDecision.decide(view, Set.of(pool.frames().get(3)), Set.of(), settings));
        assertTrue(e.getMessage().contains("has no IoU"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LabellingDecision.Settings(MetaModel.Learner.FOREST, 0.5, 0, 0.95, 5, 10, 1, 1));
    }
}
