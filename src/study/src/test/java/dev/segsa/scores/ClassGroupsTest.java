package dev.segsa.scores;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ClassGroupsTest {
    static final List<String> NAMES = List.of("void", "white", "blue", "yellow", "arrow");

    @Test
    void parsesIdsAndNames() {
        ClassGroups g = ClassGroups.parse("lanes=1,blue,3; markers = arrow", NAMES);
        assertEquals(2, g.groups().size());
        assertEquals("lanes", g.groups().get(0).name());
        assertArrayEquals(new int[] {1, 2, 3}, g.groups().get(0).classes());
        assertArrayEquals(new int[] {4}, g.groups().get(1).classes());
    }

    @Test
    void refusesBadSpecs() {
        assertThrows(IllegalArgumentException.class, () -> ClassGroups.parse("lanes", NAMES));
        assertThrows(IllegalArgumentException.class, () -> ClassGroups.parse("lanes=9", NAMES));
        assertThrows(IllegalArgumentException.class, () -> ClassGroups.parse("lanes=red", NAMES));
        assertThrows(IllegalArgumentException.class, () -> ClassGroups.parse("blue=1", NAMES));
        assertThrows(IllegalArgumentException.class, () -> ClassGroups.parse("a=1;a=2", NAMES));
    }

    @Test
    void overlapByHand() {
        // 2x3 frame, classes 0..2, ignore 9; group {1,2}
        int[] pred = {0, 1, 1, 2, 2, 0};
        int[] label = {0, 1, 2, 2, 9, 1};
        ClassGroups g = ClassGroups.parse("g=1,2", List.of("a", "b", "c"));
        FrameOverlap o = FrameOverlap.of(pred, label, 9, 3, g);
        assertEquals(1.0 / 2, o.iou(0), 0.0);     // pred0 {0,5}, label0 {0}
        assertEquals(1.0 / 3, o.iou(1), 0.0);     // pred1 {1,2}, label1 {1,5}
        assertEquals(1.0 / 2, o.iou(2), 0.0);     // pred2 {3} (4 ignored), label2 {2,3}
        assertEquals(3.0 / 4, o.iou(3), 0.0);     // group: pred {1,2,3}, label {1,2,3,5}
        assertTrue(o.inLabel(3));
        FrameOverlap none = FrameOverlap.of(new int[] {0}, new int[] {9}, 9, 3, ClassGroups.none());
        assertTrue(Double.isNaN(none.iou(0)));
    }
}
