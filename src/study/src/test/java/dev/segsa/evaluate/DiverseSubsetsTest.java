package dev.segsa.evaluate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The diversity-aware subsets: greedy k-centre on score profiles among the top 30% by score,
 * starting from the seen frames. Three clusters of profiles; the seen frames sit in cluster A, so
 * the first picks come from B and C, never two from one cluster before every cluster has one;
 * seen frames are never picked; Small is a prefix of Large.
 */
class DiverseSubsetsTest {
    @Test
    void picksFarFromTheSeenFramesAndFromEachOther() {
        List<FrameSelection.Candidate> candidates = new ArrayList<>();
        Map<String, double[]> profiles = new LinkedHashMap<>();
        // 60 high-scored candidates in three clusters (A, B, C), 140 low-scored ones
        for (int i = 0; i < 200; i++) {
            String name = String.format("f%03d.png", i);
            double score = i < 60 ? 100 - i : 10 - i * 0.01;
            candidates.add(new FrameSelection.Candidate(name, score, Double.NaN, 5000));
            char cluster = "ABC".charAt(i % 3);
            double cx = cluster == 'A' ? 0 : cluster == 'B' ? 10 : -10;
            profiles.put(name, new double[] {cx + 0.01 * (i % 7), (cluster == 'C' ? 10 : 0) + 0.01 * (i % 5)});
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            seen.add("seen" + i);
            profiles.put("seen" + i, new double[] {0, 0});
        }
        List<FrameSelection.RetrainSubset> s = FrameSelection.diverseSubsets(candidates, profiles, seen, 1000, 100);
        assertEquals(3, s.size());
        assertEquals("Diverse", s.get(0).level());
        List<FrameSelection.Candidate> large = s.get(2).frames();
        assertEquals(30, large.size());
        assertEquals(s.get(0).frames(), large.subList(0, 10), "Small is a prefix of Large");
        char first = "ABC".charAt(Integer.parseInt(large.get(0).image().substring(1, 4)) % 3);
        char second = "ABC".charAt(Integer.parseInt(large.get(1).image().substring(1, 4)) % 3);
        assertTrue(first != 'A' && second != 'A' && first != second, "first two picks from B and C: " + first + second);
        for (FrameSelection.Candidate c : large) {
            assertFalse(c.image().startsWith("seen"));
            assertTrue(c.score() > 40, "drawn from the top 30% by score: " + c);
        }
    }
}
