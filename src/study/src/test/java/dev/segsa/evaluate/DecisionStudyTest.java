package dev.segsa.evaluate;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class DecisionStudyTest {
    @Test
    void everyOrderIsMeasuredAndNoneBeatsTheOracle() {
        DecisionFeatures t = LabellingDecisionTest.synthetic(6, 50, 0.3, 21);
        var s = new DecisionStudy.Settings(0.5, 0.05, 0.9, 5, 2, 10, 1, List.of(MetaModel.Learner.FOREST, MetaModel.Learner.LOGISTIC),
                Set.of(), 50, 0.3, 3, 1);
        DecisionStudy.ClassResult r = DecisionStudy.runClass(t, s);
        List<String> orders = r.savings().stream().map(DecisionStudy.Saving::order).toList();
        assertEquals(List.of("mdsa", "entropy", DecisionStudy.FUSION, "meta(forest)", "meta(logistic)", DecisionStudy.ORACLE,
                DecisionStudy.RANDOM), orders);
        double oracle = r.saving(DecisionStudy.ORACLE).mean();
        assertTrue(oracle > 20, "oracle " + oracle);
        for (DecisionStudy.Saving v : r.savings()) {
            assertTrue(v.mean() <= oracle + 1e-9, v.order() + " " + v.mean() + " beats the oracle " + oracle);
            assertTrue(v.min() <= v.mean() && v.mean() <= v.max());
        }
        assertTrue(r.saving("meta(forest)").mean() > r.saving(DecisionStudy.RANDOM).mean());
        assertEquals(3, r.importance().size());
        assertNotEquals("noise", r.importance().get(0).feature(), "the noise feature is not what the model leans on most");
        assertNotNull(r.pilot());
        assertEquals(90, r.pilot().pilotSize());
        String md = DecisionStudy.markdown(new DecisionStudy.Result("x.csv", s, t.columns(), List.of(r)));
        assertTrue(md.contains("| car | 300 ("), md);
        assertTrue(md.contains("What meta(forest) leans on"), md);
    }

    /** decide's default pilot, the one its study simulates and the report quotes: 15 % of the frames, at least 20, at most all. */
    @Test
    void theDefaultPilotIsDecidesOwn() {
        assertEquals(20, LabellingDecision.defaultPilotSize(34, 0.15), "5.1 -> at least 20");
        assertEquals(20, LabellingDecision.defaultPilotSize(101, 0.15), "15.15 -> 16 -> at least 20");
        assertEquals(45, LabellingDecision.defaultPilotSize(300, 0.15));
        assertEquals(10, LabellingDecision.defaultPilotSize(10, 0.15), "at most every frame");
    }
}
