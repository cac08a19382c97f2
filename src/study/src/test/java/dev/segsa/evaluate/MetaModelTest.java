package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class MetaModelTest {
    @Test
    void bothLearnersRankUnseenFramesByTheirIoU() {
        DecisionFeatures t = LabellingDecisionTest.synthetic(8, 50, 0.3, 11);
        int[] fit = IntStream.range(0, t.size()).filter(i -> i % 2 == 0).toArray();
        int[] test = IntStream.range(0, t.size()).filter(i -> i % 2 == 1).toArray();
        double[] truth = IntStream.of(test).mapToDouble(i -> t.iou()[i]).toArray();
        for (MetaModel.Learner l : MetaModel.Learner.values()) {
            MetaModel m = MetaModel.fit(l, t, fit, 0.5, 3);
            double[] s = m.safety(t, test);
            double rho = SpearmanCorrelation.of(s, truth).rho();
            assertTrue(rho > 0.7, l + ": rho " + rho);
            assertArrayEquals(s, MetaModel.fit(l, t, fit, 0.5, 3).safety(t, test), 0.0, l + " is deterministic for a seed");
            if (l == MetaModel.Learner.LOGISTIC) for (double v : s) assertTrue(v >= 0 && v <= 1, "a probability: " + v);
        }
    }

    @Test
    void theForestLeansOnTheInformativeFeatures() {
        DecisionFeatures t = LabellingDecisionTest.synthetic(8, 50, 0.3, 12);
        int[] all = IntStream.range(0, t.size()).toArray();
        MetaModel m = MetaModel.fit(MetaModel.Learner.FOREST, t, all, 0.5, 1);
        // moving the noise feature changes predictions far less than moving mdsa and entropy; higher scores predict lower IoU
        double[][] noise = new double[t.size()][], scores = new double[t.size()][];
        for (int i = 0; i < t.size(); i++) {
            noise[i] = t.x()[i].clone();
            noise[i][2] += 2;
            scores[i] = t.x()[i].clone();
            scores[i][0] += 2;
            scores[i][1] += 2;
        }
        double[] b = m.safety(t.x()), n = m.safety(noise), s = m.safety(scores);
        double dn = 0, ds = 0;
        for (int i = 0; i < b.length; i++) {
            dn += Math.abs(n[i] - b[i]) / b.length;
            ds += (s[i] - b[i]) / b.length;
        }
        assertTrue(ds < -5 * dn, "mean change by the scores " + ds + ", by noise " + dn);
    }

    @Test
    void refusesWhatCannotBeFitted() {
        DecisionFeatures t = LabellingDecisionTest.synthetic(1, 30, 0.3, 13);
        var e = assertThrows(SegsaException.class, () -> MetaModel.fit(MetaModel.Learner.FOREST, t, new int[]{0, 1, 2}, 0.5, 1));
        assertTrue(e.getMessage().contains("label at least 4"), e.getMessage());
        // every frame above the threshold: logistic regression has one class
        e = assertThrows(SegsaException.class, () -> MetaModel.fit(MetaModel.Learner.LOGISTIC, t, IntStream.range(0, 30).toArray(), 0.0001, 1));
        assertTrue(e.getMessage().contains("--learner forest"), e.getMessage());
        assertEquals(MetaModel.Learner.LOGISTIC, MetaModel.Learner.parse("Logistic"));
        assertThrows(IllegalArgumentException.class, () -> MetaModel.Learner.parse("boost"));
    }
}
