package dev.segsa.stream;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Pre- and post-roll windows: merging, each frame written once, the ring's bounds. */
class ClipBufferTest {
    private static List<Long> run(ClipBuffer<String> b, int frames, double fps, long... keeps) {
        List<Long> written = new ArrayList<>();
        for (int i = 0; i < frames; i++) {
            double t = i / fps;
            for (ClipBuffer.Timed<String> f : b.push("f" + i, i, t, 100)) written.add(f.index());
            for (long k : keeps) {
                if (k == i) for (ClipBuffer.Timed<String> f : b.keep(i, t)) written.add(f.index());
            }
        }
        return written;
    }

    @Test
    void overlappingWindowsMergeAndFramesAreWrittenOnce() {
        // 10 fps, pre 0.3 s, post 0.2 s: keeps at 10 and 12 overlap -> 7..14 once, in order
        List<Long> w = run(new ClipBuffer<>(0.3, 0.2, 100, 1 << 20), 40, 10, 10, 12, 30);
        assertEquals(List.of(7L, 8L, 9L, 10L, 11L, 12L, 13L, 14L, 27L, 28L, 29L, 30L, 31L, 32L), w);
    }

    @Test
    void theRingIsBoundedAndSaysWhenAPreRollWasCutShort() {
        ClipBuffer<String> b = new ClipBuffer<>(1.0, 0, 4, 1 << 20);
        List<Long> w = run(b, 30, 10, 20);
        assertEquals(List.of(17L, 18L, 19L, 20L), w, "the ring held 4 frames of the 11 the pre-roll wanted");
        assertTrue(b.size() <= 4);
        assertEquals(7, b.cutShort(), "frames 10..16 were evicted before the keep at 20");
        ClipBuffer<String> bytes = new ClipBuffer<>(1.0, 0, 100, 250);
        assertEquals(List.of(19L, 20L), run(bytes, 30, 10, 20), "250 bytes hold two frames of 100");
    }
}
