package dev.segsa.evaluate;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class FrameGroupsTest {
    @Test
    void sequencesComeFromTheNamePrefix() {
        assertEquals("0016E5_*.png", FrameGroups.sequenceOf("0016E5_08097.png"));
        assertEquals(FrameGroups.sequenceOf("0016E5_08097.png"), FrameGroups.sequenceOf("0016E5_08099.png"));
        assertEquals("Seq05VD_f*.png", FrameGroups.sequenceOf("Seq05VD_f00120.png"));
        assertEquals("drive.mp4#*", FrameGroups.sequenceOf("drive.mp4#120"));
        assertEquals("seq01/*.png", FrameGroups.sequenceOf("seq01/000123.png"));
        assertEquals("run_3/*.png", FrameGroups.sequenceOf("run_3/0001.png"), "digits in a folder name are not the frame number");
        assertEquals("*.png", FrameGroups.sequenceOf("000123.png"));
        assertEquals("aachen_000000_*_leftImg8bit.png", FrameGroups.sequenceOf("aachen_000000_000019_leftImg8bit.png"));
        assertEquals("single.png", FrameGroups.sequenceOf("single.png"));
        assertEquals(19, FrameGroups.frameNumber("aachen_000000_000019_leftImg8bit.png"));
        assertEquals(1, FrameGroups.frameNumber("run_3/0001.png"));
        assertEquals(8097, FrameGroups.frameNumber("0016E5_08097.png"));
        assertEquals(120, FrameGroups.frameNumber("Seq05VD_f00120.png"));
        assertEquals(120, FrameGroups.frameNumber("drive.mp4#120"));
    }

    /** Three sequences of uneven length, names shuffled: folds hold whole blocks and never fit on a test frame or its neighbours. */
    @Test
    void foldsNeverLeakATestFrameOrItsNeighbours() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 57; i++) names.add(String.format("seqA_%05d.png", 30 * i));
        for (int i = 0; i < 23; i++) names.add(String.format("seqB_f%04d.png", i));
        for (int i = 0; i < 41; i++) names.add("clip.mp4#" + (i * 3));
        java.util.Collections.shuffle(names, new java.util.Random(7));
        for (int purge : new int[]{0, 1, 3}) {
            FrameGroups g = new FrameGroups(names, 10, purge);
            assertEquals(3, g.sequences());
            assertEquals(6 + 3 + 5, g.blocks());
            int[] all = IntStream.range(0, names.size()).toArray();
            for (long seed = 0; seed < 5; seed++) {
                List<FrameGroups.Fold> folds = g.folds(all, 5, seed);
                assertEquals(5, folds.size());
                int[] tested = new int[names.size()];
                for (FrameGroups.Fold f : folds) {
                    Set<Integer> test = new HashSet<>();
                    for (int t : f.test()) { test.add(t); tested[t]++; }
                    for (int i : f.fit()) {
                        assertFalse(test.contains(i), "a test frame is fitted on");
                        for (int t : f.test()) {
                            if (g.sequence(t).equals(g.sequence(i))) {
                                assertTrue(Math.abs(g.position(t) - g.position(i)) > purge,
                                        names.get(i) + " is fitted on next to the test frame " + names.get(t));
                            }
                        }
                    }
                    // without purge the fit side is everything else
                    if (purge == 0) assertEquals(names.size(), f.fit().length + f.test().length);
                }
                for (int c : tested) assertEquals(1, c, "every frame is tested exactly once");
            }
        }
    }

    @Test
    void positionsFollowTheFrameNumberNotTheNameOrder() {
        FrameGroups g = new FrameGroups(List.of("s_10.png", "s_9.png", "s_100.png"), 1, 1);
        assertEquals(1, g.position(0));
        assertEquals(0, g.position(1));
        assertEquals(2, g.position(2));
    }

    @Test
    void subsetFoldsAndTooFewBlocks() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 40; i++) names.add("s_" + i);
        FrameGroups g = new FrameGroups(names, 10, 1);
        int[] subset = {0, 5, 12, 25, 31, 39};
        for (FrameGroups.Fold f : g.folds(subset, 5, 3)) {
            for (int i : f.fit()) assertTrue(IntStream.of(subset).anyMatch(s -> s == i));
            for (int i : f.test()) assertTrue(IntStream.of(subset).anyMatch(s -> s == i));
        }
        assertEquals(4, g.folds(subset, 5, 3).size(), "one fold per block when there are fewer blocks than folds");
        var e = assertThrows(IllegalArgumentException.class, () -> g.folds(new int[]{1, 2, 3}, 5, 1));
        assertTrue(e.getMessage().contains("1 block"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FrameGroups(names, 0, 0));
    }
}
