package dev.segsa.samodel;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The class-aware frame score's reference: quantiles, percentiles past the range, the frame score, the SA file round trip. */
class ClassFrameReferenceTest {
    @TempDir
    Path dir;

    /** Class 0: fit frames with class MDSA 1, 2, ..., 101 (its 101 quantiles are exactly 1..101); class 1: 3 frames only. */
    static ClassFrameReference sample() {
        ClassFrameReference.Builder b = new ClassFrameReference.Builder(3, 0.01);
        for (int i = 1; i <= 101; i++) b.add(new long[] {500, i <= 3 ? 500 : 0, 0}, new double[] {i, i <= 3 ? 7 : Double.NaN, Double.NaN});
        b.add(new long[] {5, 995, 0}, new double[] {1000, 7, Double.NaN}); // class 0 covers 0.5% < 1%: not a fit frame of class 0
        return b.build();
    }

    @Test
    void quantilesAndPercentilesAreExact() {
        ClassFrameReference r = sample();
        assertArrayEquals(new int[] {101, 4, 0}, r.frames());
        assertTrue(r.has(0));
        assertFalse(r.has(1), "4 frames < MIN_FRAMES: no distribution");
        assertFalse(r.has(2));
        for (int i = 0; i <= 100; i++) assertEquals(i + 1, r.quantiles()[0][i], 1e-12);
        assertEquals(0.5, r.percentile(0, 51), 1e-12);
        assertEquals(0.505, r.percentile(0, 51.5), 1e-12);
        assertEquals(0.0, r.percentile(0, 1), 1e-12);
        assertEquals(1.0, r.percentile(0, 101), 1e-12);
        // past the range: the outer decile's slope (10 MDSA per 0.1), so 111 -> 1.1 and -9 -> -0.1
        assertEquals(1.1, r.percentile(0, 111), 1e-12);
        assertEquals(-0.1, r.percentile(0, -9), 1e-12);
        assertTrue(r.percentile(0, 300) > r.percentile(0, 200), "frames above every fit frame still rank");
        assertTrue(Double.isNaN(r.percentile(1, 5)));
        assertTrue(Double.isNaN(r.percentile(0, Double.NaN)));
    }

    @Test
    void frameScoreIsTheHighestWeightedPercentileOfClassesCoveringEnough() {
        double[][] q = new double[3][];
        q[0] = ramp(0, 10);   // percentile = v / 10
        q[1] = ramp(0, 100);  // percentile = v / 100
        ClassFrameReference r = new ClassFrameReference(0.05, q, new int[] {50, 50, 0}, new double[] {1, 1, 1});
        // class 0 at 0.5, class 1 at 0.9: 0.9
        assertEquals(0.9, r.frameScore(new long[] {500, 500, 0}, new double[] {5, 90, Double.NaN}), 1e-12);
        // class 1 covers 4% < 5%: left out
        assertEquals(0.5, r.frameScore(new long[] {960, 40, 0}, new double[] {5, 90, Double.NaN}), 1e-12);
        // a weight of 0.5 on class 1
        assertEquals(0.5, r.withWeights(new double[] {1, 0.5, 1}).frameScore(new long[] {500, 500, 0}, new double[] {5, 90, 0}), 1e-12);
        // class 2 has no distribution; no class counts -> NaN
        assertTrue(Double.isNaN(r.frameScore(new long[] {0, 0, 100}, new double[] {Double.NaN, Double.NaN, 3})));
    }

    static double[] ramp(double lo, double hi) {
        double[] q = new double[ClassFrameReference.QUANTILES + 1];
        for (int i = 0; i < q.length; i++) q[i] = lo + (hi - lo) * i / ClassFrameReference.QUANTILES;
        return q;
    }

    @Test
    void refusesMalformedReferences() {
        double[][] q = {ramp(0, 1)};
        q[0][5] = Double.NaN;
        assertThrows(SegsaException.class, () -> new ClassFrameReference(0.01, q, new int[] {9}, new double[] {1}));
        double[][] dec = {ramp(1, 0)};
        assertThrows(SegsaException.class, () -> new ClassFrameReference(0.01, dec, new int[] {9}, new double[] {1}));
        assertThrows(SegsaException.class, () -> new ClassFrameReference(0.01, new double[][] {new double[7]}, new int[] {9}, new double[] {1}));
        assertThrows(SegsaException.class, () -> new ClassFrameReference(2, new double[][] {null}, new int[] {0}, new double[] {1}));
        assertThrows(SegsaException.class, () -> new ClassFrameReference(0.1, new double[][] {null}, new int[] {0}, new double[] {Double.NaN}));
    }

    @Test
    void roundTripsThroughTheSaFileAndOldFilesHaveNone() {
        SaModel plain = SaModelFileTest.sample(false);
        Path old = dir.resolve("old.sa");
        SaModelFile.write(plain, old);
        assertNull(SaModelFile.read(old).frameReference());

        double[][] q = {ramp(1, 2), null, ramp(3, 5)};
        ClassFrameReference ref = new ClassFrameReference(0.002, q, new int[] {40, 2, 17}, new double[] {1, 0, 0.5});
        Path f = dir.resolve("new.sa");
        SaModelFile.write(plain.withFrameReference(ref), f);
        ClassFrameReference back = SaModelFile.read(f).frameReference();
        assertNotNull(back);
        assertEquals(0.002, back.minShare());
        assertArrayEquals(ref.frames(), back.frames());
        assertArrayEquals(ref.weights(), back.weights());
        assertArrayEquals(q[0], back.quantiles()[0]);
        assertNull(back.quantiles()[1]);
        assertArrayEquals(q[2], back.quantiles()[2]);
    }

    @Test
    void aCorruptReferenceIsRefusedNamingTheFile() throws Exception {
        double[][] q = {ramp(1, 2), null, ramp(3, 5)};
        SaModel m = SaModelFileTest.sample(false).withFrameReference(
                new ClassFrameReference(0.002, q, new int[] {40, 2, 17}, new double[] {1, 1, 1}));
        Path f = dir.resolve("m.sa");
        SaModelFile.write(m, f);
        byte[] b = Files.readAllBytes(f);
        String all = new String(b, StandardCharsets.ISO_8859_1);
        int at = all.indexOf("\"weights\"");
        assertTrue(at > 0);
        // any byte changed is a checksum mismatch: the file is refused, never read with a damaged reference
        b[at + 1] ^= 1;
        Files.write(f, b);
        SegsaException e = assertThrows(SegsaException.class, () -> SaModelFile.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    }

    @Test
    void builderMatchesNumpyQuantiles() {
        // numpy.quantile([3, 1, 4, 1, 5, 9, 2, 6], [0.25, 0.5, 0.9]) = [1.75, 3.5, 6.9]
        double[] sorted = {1, 1, 2, 3, 4, 5, 6, 9};
        assertEquals(1.75, ClassFrameReference.Builder.quantile(sorted, 0.25), 1e-12);
        assertEquals(3.5, ClassFrameReference.Builder.quantile(sorted, 0.5), 1e-12);
        assertEquals(6.9, ClassFrameReference.Builder.quantile(sorted, 0.9), 1e-12);
        SplittableRandom r = new SplittableRandom(3);
        ClassFrameReference.Builder b = new ClassFrameReference.Builder(1, 0);
        for (int i = 0; i < 1000; i++) b.add(new long[] {10}, new double[] {r.nextDouble()});
        ClassFrameReference ref = b.build();
        for (double v = 0.05; v < 1; v += 0.1) assertEquals(v, ref.percentile(0, v), 0.05, "uniform values: percentile ~ value");
    }
}
