package dev.segsa.evaluate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class FrameSelectionTest {
    @Test
    void skipFractionSkipsTheLowestScoredAndAlwaysLabelsUnscored() {
        List<FrameSelection.Candidate> c = List.of(
                new FrameSelection.Candidate("a", 0.5, Double.NaN, 10), new FrameSelection.Candidate("b", 3.0, Double.NaN, 10),
                new FrameSelection.Candidate("c", 1.0, Double.NaN, 10), new FrameSelection.Candidate("d", Double.NaN, Double.NaN, 0),
                new FrameSelection.Candidate("e", 2.0, Double.NaN, 10));
        List<FrameSelection.Decision> d = FrameSelection.skipLowest(c, 0.5); // floor(4 * 0.5) = 2 of the 4 scored
        assertEquals(List.of("b", "e", "c", "a", "d"), d.stream().map(x -> x.candidate().image()).toList());
        assertEquals(List.of(false, false, true, true, false), d.stream().map(FrameSelection.Decision::skip).toList());
        assertEquals(List.of(1, 2, 3, 4, 5), d.stream().map(FrameSelection.Decision::rank).toList());
    }

    /**
     * 12 pilot frames, scores 1..12; the 10 lowest have IoU >= 0.5, the two highest below.
     * Clopper-Pearson 95 % upper bounds (scipy beta.ppf(0.95, x+1, k-x)): 0 of 8: 0.3123, 0 of 9:
     * 0.2831, 0 of 10: 0.2589, 1 of 11: 0.3644, 2 of 12: 0.4381. With tolerance 0.3 the largest k
     * within it is 10: skip fraction 10/12.
     */
    @Test
    void pilotChoosesTheLargestFractionWhoseUpperBoundIsWithinTolerance() {
        List<FrameSelection.Candidate> pilot = new ArrayList<>();
        for (int i = 1; i <= 12; i++) pilot.add(new FrameSelection.Candidate(String.format("p%02d", i), i, i <= 10 ? 0.5 + i * 0.01 : 0.3, 50));
        pilot.add(new FrameSelection.Candidate("unlabelled", 0.1, Double.NaN, 50));
        FrameSelection.PilotChoice ch = FrameSelection.choose(pilot, 0.5, 0.3, 0.95);
        assertEquals(12, ch.pilotImages());
        assertEquals(10, ch.skippedPilot());
        assertEquals(0, ch.belowPilot());
        assertEquals(0.2588655508930522, ch.upperBound(), 1e-10);
        assertEquals(10.0, ch.scoreCutoff());
        assertEquals(10.0 / 12, ch.skipFraction(), 1e-15);
        assertEquals(9, ch.minimumPilotForZeroEvents());
        FrameSelection.PilotChoice none = FrameSelection.choose(pilot.subList(0, 8), 0.5, 0.3, 0.95);
        assertEquals(0, none.skippedPilot());
    }

    @Test
    void retrainSubsetsFollowThePaperSampling() {
        List<FrameSelection.Candidate> c = new ArrayList<>();
        for (int i = 0; i < 200; i++) c.add(new FrameSelection.Candidate("f" + i, i, Double.NaN, i % 4 == 0 ? 500 : 2000));
        // pool: 150 frames with more than 1000 pixels; top/bottom 30 % = 45; base 100 -> 10/20/30 frames
        List<FrameSelection.RetrainSubset> s = FrameSelection.retrainSubsets(c, 1000, 100, 3);
        assertEquals(9, s.size());
        for (FrameSelection.RetrainSubset sub : s) {
            int expected = switch (sub.size()) { case "Small" -> 10; case "Medium" -> 20; default -> 30; };
            assertEquals(expected, sub.frames().size(), sub.level() + " " + sub.size());
            assertEquals(expected, new HashSet<>(sub.frames()).size(), "sampled without replacement");
            for (FrameSelection.Candidate f : sub.frames()) {
                assertTrue(f.pixels() > 1000);
                // pool sorted by score: 150 frames, scores 1..199 without multiples of 4; the 45th highest is 139, 45th lowest 59
                if (sub.level().equals("High")) assertTrue(f.score() >= 139, "High from the top 30%: " + f);
                if (sub.level().equals("Low")) assertTrue(f.score() <= 59, "Low from the bottom 30%: " + f);
            }
        }
        Set<FrameSelection.Candidate> small = new HashSet<>(s.get(0).frames());
        assertTrue(s.get(1).frames().containsAll(small), "Small is a prefix of Medium");
        var e = assertThrows(dev.segsa.error.SegsaException.class, () -> FrameSelection.retrainSubsets(c, 1000, 1000, 3));
        assertTrue(e.getMessage().contains("Large subset needs 300 images"), e.getMessage());
    }

    /** A pool too small for Large still gives Small and Medium, the very subsets all three sizes draw. */
    @Test
    void retrainSubsetsOfChosenSizesAreThoseOfAllSizes() {
        List<FrameSelection.Candidate> c = new ArrayList<>();
        for (int i = 0; i < 200; i++) c.add(new FrameSelection.Candidate("f" + i, i, Double.NaN, i % 4 == 0 ? 500 : 2000));
        List<FrameSelection.RetrainSubset> all = FrameSelection.retrainSubsets(c, 1000, 100, 3);
        List<FrameSelection.RetrainSubset> two = FrameSelection.retrainSubsets(c, 1000, 100, 3, List.of("medium", "Small"));
        assertEquals(6, two.size());
        for (FrameSelection.RetrainSubset t : two) {
            assertNotEquals("Large", t.size());
            FrameSelection.RetrainSubset same = all.stream().filter(a -> a.level().equals(t.level()) && a.size().equals(t.size()))
                    .findFirst().orElseThrow();
            assertEquals(same.frames(), t.frames(), t.level() + " " + t.size());
        }
        // base 160: Large 48 > 45 in the top 30%, Medium 32 fits
        var e = assertThrows(dev.segsa.error.SegsaException.class, () -> FrameSelection.retrainSubsets(c, 1000, 160, 3));
        assertTrue(e.getMessage().contains("Large subset needs 48 images") && e.getMessage().contains("--sizes"), e.getMessage());
        assertEquals(6, FrameSelection.retrainSubsets(c, 1000, 160, 3, List.of("small", "medium")).size());
        var d = FrameSelection.diverseSubsets(c, java.util.Map.of(), List.of(), 1000, 160, List.of("small", "medium"));
        assertEquals(List.of("Small", "Medium"), d.stream().map(FrameSelection.RetrainSubset::size).toList());
        assertEquals(d.get(0).frames(), d.get(1).frames().subList(0, 16), "Small is a prefix of Medium");
        assertThrows(dev.segsa.error.SegsaException.class, () -> FrameSelection.diverseSubsets(c, java.util.Map.of(), List.of(), 1000, 160));
        var bad = assertThrows(IllegalArgumentException.class, () -> FrameSelection.retrainSubsets(c, 1000, 100, 3, List.of("huge")));
        assertTrue(bad.getMessage().contains("'huge'"), bad.getMessage());
    }
}
