package dev.segsa.kernel;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA backend against the float64 reference, the same differential tests as the CPU backend
 * (seeded random feature maps, every upsample mode, a class without a model, an absent class):
 * MDSA and LSA maps within 1e-5 relative (floor 1; the maps are float32), class sums within 1e-9
 * relative, counts exact; the accumulated statistics within 1e-9. Runs only where a device is
 * (mvn -Pcuda test on a GPU machine); without one, only the refusal is checked.
 */
class CudaBackendTest {
    static final double MAP_TOLERANCE = 1e-5, SUM_TOLERANCE = 1e-9;

    @Test
    void withoutADeviceConstructionSaysWhy() {
        assumeTrue(!Backends.cudaUsable(), "a device is present");
        SegsaException e = assertThrows(SegsaException.class, () -> Backends.select("cuda"));
        assertTrue(e.getMessage().startsWith("backend cuda is unavailable: "), e.getMessage());
    }

    @ParameterizedTest(name = "d={0} {1}x{2} -> {3}x{4} mode {5}")
    @CsvSource({"8,6,8,48,64,0", "64,42,64,336,512,0", "16,5,7,11,23,1", "32,6,8,6,8,2", "256,21,32,168,256,0"})
    void mdsaLsaAndAccumulateMatchTheReference(int d, int h0, int w0, int height, int width, int modeCode) {
        assumeTrue(Backends.cudaUsable(), "no CUDA device (or a CPU-only build)");
        UpsampleMode mode = UpsampleMode.values()[modeCode];
        int classes = 6;
        SplittableRandom r = new SplittableRandom(31L * d + h0 + modeCode);
        FeatureMap f = FeatureMap.ofArray(NativeCpuBackendTest.randomFeatures(d, h0, w0, r), d, h0, w0);
        int[] predicted = NativeCpuBackendTest.randomPredicted(height, width, classes, r);
        ReferenceBackend reference = new ReferenceBackend();
        try (CudaBackend cuda = new CudaBackend()) {
            MahalanobisModel[] mdsa = NativeCpuBackendTest.fitModels(d, classes, 5);
            FrameScores want = new FrameScores(classes), got = new FrameScores(classes);
            want.reset(height * width);
            got.reset(height * width);
            reference.mdsa(f, mode, height, width, predicted, mdsa, want);
            cuda.mdsa(f, mode, height, width, predicted, mdsa, got);
            compare(want, got, "MDSA d=" + d);

            if (d <= 64) {
                KdeModel[] kde = NativeLsaTest.fitModels(d, classes, 700, 9);
                want = new FrameScores(classes);
                got = new FrameScores(classes);
                want.reset(height * width);
                got.reset(height * width);
                reference.lsa(f, mode, height, width, predicted, kde, want);
                cuda.lsa(f, mode, height, width, predicted, kde, got);
                compare(want, got, "LSA d=" + d);
            }

            ClassStatistics[] a = new ClassStatistics[classes], b = new ClassStatistics[classes];
            for (int c = 0; c < classes; c++) {
                a[c] = new ClassStatistics(d);
                b[c] = new ClassStatistics(d);
            }
            reference.accumulate(f, mode, height, width, predicted, a);
            cuda.accumulate(f, mode, height, width, predicted, b);
            for (int c = 0; c < classes; c++) {
                assertEquals(a[c].count(), b[c].count(), "count of class " + c);
                double[] ma = a[c].mean(), mb = b[c].mean(), ca = a[c].comoment(), cb = b[c].comoment();
                for (int i = 0; i < ma.length; i++) assertEquals(ma[i], mb[i], SUM_TOLERANCE * Math.max(1, Math.abs(ma[i])), "mean");
                double scale = 1;
                for (double v : ca) scale = Math.max(scale, Math.abs(v));
                for (int i = 0; i < ca.length; i++) assertEquals(ca[i], cb[i], SUM_TOLERANCE * scale, "comoment");
            }
        }
    }

    static void compare(FrameScores want, FrameScores got, String what) {
        for (int c = 0; c < want.classes(); c++) {
            assertEquals(want.pixels()[c], got.pixels()[c], what + ": pixels of class " + c);
            double w = want.sums()[c], g = got.sums()[c];
            assertEquals(w, g, SUM_TOLERANCE * Math.max(Math.abs(w), Math.max(1, want.pixels()[c])), what + ": sum of class " + c);
        }
        float[] wm = want.map(), gm = got.map();
        for (int p = 0; p < wm.length; p++) {
            if (Float.isNaN(wm[p])) {
                assertTrue(Float.isNaN(gm[p]), what + ": pixel " + p + " should be NaN");
                continue;
            }
            assertEquals(wm[p], gm[p], MAP_TOLERANCE * Math.max(1, Math.abs(wm[p])), what + ": pixel " + p);
        }
    }
}
