package dev.segsa.fit;

import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link PartialFit#fromBytes} on crafted input, as {@code SaModelFileFuzzTest} does for SA files:
 * a real partial fit's bytes with field values overwritten (seeded; counts and sizes set to 0, -1,
 * huge, or random; single bytes flipped; the array cut short). Every outcome is either a partial fit
 * or one {@link SegsaException} naming the field, never another exception, and never an
 * allocation larger than the bytes justify.
 */
class PartialFitFuzzTest {
    static byte[] valid() {
        PartialFit.Settings s = new PartialFit.Settings("m.pt", "abc", UpsampleMode.BILINEAR, new double[] {0.5, 0.5, 0.5},
                new double[] {0.2, 0.2, 0.2}, new int[] {64, 48}, 255, List.of("a", "b", "c"), 16, 7);
        PartialFit p = new PartialFit(s);
        int d = 6, classes = 3;
        p.shape(classes, d, "test");
        SplittableRandom r = new SplittableRandom(3);
        double[] x = new double[d];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < 40; i++) {
                for (int k = 0; k < d; k++) x[k] = r.nextGaussian() + c;
                p.statistics()[c].add(x);
                p.samples()[c].offer(r.nextLong(), i, i, x, 0);
            }
        }
        p.note("a note");
        return p.toBytes();
    }

    @Test
    void theValidBytesRoundTrip() {
        byte[] b = valid();
        assertArrayEquals(b, PartialFit.fromBytes(b).toBytes());
    }

    @Test
    void craftedFieldValuesAreOneClearError() {
        byte[] base = valid();
        SplittableRandom r = new SplittableRandom(11);
        int errors = 0, parsed = 0;
        List<String> messages = new ArrayList<>();
        long[] extremes = {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1 << 30, 65536, 4097, Long.MAX_VALUE, Long.MIN_VALUE};
        for (int trial = 0; trial < 3000; trial++) {
            byte[] b = base.clone();
            int kind = r.nextInt(4);
            int at = r.nextInt(b.length);
            ByteBuffer buf = ByteBuffer.wrap(b);
            long v = r.nextInt(3) == 0 ? r.nextLong() : extremes[r.nextInt(extremes.length)];
            switch (kind) {
                case 0 -> { if (at + 4 <= b.length) buf.putInt(at, (int) v); }
                case 1 -> { if (at + 8 <= b.length) buf.putLong(at, v); }
                case 2 -> b[at] ^= (byte) (1 << r.nextInt(8));
                default -> b = java.util.Arrays.copyOf(b, at);
            }
            try {
                PartialFit.fromBytes(b);
                parsed++;
            } catch (SegsaException e) {
                errors++;
                assertTrue(e.getMessage().startsWith("corrupt partial fit: "), e.getMessage());
                if (messages.size() < 5) messages.add(e.getMessage());
            } catch (Throwable t) {
                fail("trial " + trial + " (kind " + kind + " at " + at + "): " + t, t);
            }
        }
        assertTrue(errors > 500 && parsed > 500, errors + " errors, " + parsed + " parsed: " + messages);
    }

    @Test
    void theErrorNamesTheField() {
        byte[] b = valid();
        // the class count: find it by its position after the notes (written as int classes, int d)
        ByteBuffer buf = ByteBuffer.wrap(b);
        int at = -1;
        for (int i = 0; i + 8 <= b.length; i++) if (buf.getInt(i) == 3 && buf.getInt(i + 4) == 6) at = i;
        assertTrue(at > 0);
        buf.putInt(at, 60000);
        SegsaException e = assertThrows(SegsaException.class, () -> PartialFit.fromBytes(b));
        assertTrue(e.getMessage().contains("classes and features") && e.getMessage().contains("60000 classes of 6 features need at least"),
                e.getMessage());
    }
}
