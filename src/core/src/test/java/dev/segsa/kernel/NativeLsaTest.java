package dev.segsa.kernel;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.KdeModel;
import dev.segsa.nativelib.NativeLibrary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Differential tests of the native LSA kernel ({@code segsa_lsa_frame} through
 * {@link NativeCpuBackend#lsa}) against {@link ReferenceBackend#lsa} (i.e. {@link KdeModel#lsa},
 * scipy {@code gaussian_kde.logpdf} semantics) on seeded random feature maps: every upsample mode,
 * d in {1, 3, 16, 64}, 2 to 700 references per class (several GEMM chunks of 256), 1x1 to 42x64
 * low resolution, output equal to, 2x, odd non-integer factors and 8x; classes: a class without a
 * model, a class whose references have a zero-variance feature (dropped), a class covering exactly
 * one pixel, an absent class, out-of-range labels.
 *
 * <p>Stated tolerance: per-pixel LSA and per-class sums agree to
 * {@code |native - reference| <= 1e-6 * max(|reference|, 1)} (relative 1e-6; the floor of 1
 * because LSA = -log f crosses zero when the density exceeds 1); the per-pixel map is float32 on
 * both sides; NaN exactly where the reference has NaN; per-class pixel counts exact. Both sides
 * compute in float64; the maximum error seen is printed at the end (about 1e-12 relative).
 */
class NativeLsaTest {
    static final double TOLERANCE = 1e-6;
    static double maxMapError, maxSumError;
    static String worst = "";

    static NativeCpuBackend backend;
    static final ReferenceBackend reference = new ReferenceBackend();

    @BeforeAll
    static void open() {
        backend = new NativeCpuBackend();
    }

    @AfterAll
    static void report() {
        backend.close();
        System.err.printf("native-cpu LSA max error (relative, floor 1): map %.3g, class sums %.3g; worst: %s%n",
                maxMapError, maxSumError, worst);
    }

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        int[] dims = {1, 3, 16, 64};
        int[][] low = {{1, 1}, {3, 5}, {6, 8}};
        for (int d : dims) {
            for (int[] hw : low) {
                int h0 = hw[0], w0 = hw[1];
                List<int[]> outs = new ArrayList<>();
                outs.add(new int[]{h0, w0});
                outs.add(new int[]{2 * h0 + 3, 3 * w0 + 2});
                if (h0 > 1) outs.add(new int[]{h0 - 1 + h0 / 2, w0 + 1});
                if (h0 == 6 && d <= 16) outs.add(new int[]{8 * h0, 8 * w0});
                for (int[] o : outs) {
                    for (UpsampleMode m : UpsampleMode.values()) {
                        int refs = switch ((h0 + o[1] + m.code()) % 4) {
                            case 0 -> 2;
                            case 1 -> 37;
                            case 2 -> 300;
                            default -> 700;
                        };
                        cases.add(Arguments.of(d, h0, w0, o[0], o[1], m, refs));
                    }
                }
            }
        }
        cases.add(Arguments.of(16, 42, 64, 84, 128, UpsampleMode.BILINEAR, 257));
        cases.add(Arguments.of(64, 21, 32, 60, 90, UpsampleMode.BILINEAR_ALIGNED, 513));
        return cases.stream();
    }

    /** KDE models fitted to random correlated references near the features; class 1 has none, class 2 a constant feature. */
    static KdeModel[] fitModels(int d, int classes, int refs, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        KdeModel[] models = new KdeModel[classes];
        for (int c = 0; c < classes; c++) {
            if (c == 1) continue;
            double[] mix = new double[d * d];
            for (int i = 0; i < mix.length; i++) mix[i] = r.nextDouble(-0.4, 0.4);
            for (int i = 0; i < d; i++) mix[i * d + i] += 1.2;
            double[] offset = new double[d];
            for (int i = 0; i < d; i++) offset[i] = 0.2 + r.nextDouble(-0.5, 0.5) + 0.2 * c;
            double[] data = new double[refs * d];
            double[] g = new double[d];
            for (int j = 0; j < refs; j++) {
                for (int i = 0; i < d; i++) g[i] = r.nextGaussian();
                for (int i = 0; i < d; i++) {
                    double v = offset[i];
                    for (int k = 0; k < d; k++) v += mix[i * d + k] * g[k];
                    data[j * d + i] = v;
                }
                if (c == 2 && d >= 3) data[j * d + 1] = 0.75;
            }
            models[c] = KdeModel.fit(c, "class" + c, data, refs, d);
        }
        if (d >= 3 && classes > 2) assertEquals(d - 1, models[2].bandwidth().activeDimension(), "class 2 drops one feature");
        return models;
    }

    @ParameterizedTest(name = "d={0} {1}x{2} -> {3}x{4} {5} refs={6}")
    @MethodSource("shapes")
    void lsaMatchesReference(int d, int h0, int w0, int height, int width, UpsampleMode mode, int refs) {
        int classes = 6;
        long seed = 4099L * d + 31L * h0 + 7L * w0 + 3L * height + width + mode.code() + refs;
        SplittableRandom r = new SplittableRandom(seed);
        KdeModel[] models = fitModels(d, classes, refs, seed);
        FeatureMap f = FeatureMap.ofArray(NativeCpuBackendTest.randomFeatures(d, h0, w0, r), d, h0, w0);
        int[] predicted = NativeCpuBackendTest.randomPredicted(height, width, classes, r);
        String what = "d=" + d + " " + h0 + "x" + w0 + "->" + height + "x" + width + " " + mode + " refs=" + refs;

        FrameScores want = new FrameScores(classes);
        want.reset(height * width);
        reference.lsa(f, mode, height, width, predicted, models, want);
        FrameScores got = new FrameScores(classes);
        got.reset(height * width);
        backend.lsa(f, mode, height, width, predicted, models, got);
        compare(want, got, what);
        assertEquals(0, got.pixels()[4], "absent class");
        assertEquals(0, got.pixels()[1], "class without model");
        if (height * width > 1) assertEquals(1, got.pixels()[3], "class with one pixel");

        // second frame: packed models and workspace reused, no map
        FeatureMap f2 = FeatureMap.ofArray(NativeCpuBackendTest.randomFeatures(d, h0, w0, r), d, h0, w0);
        want = new FrameScores(classes);
        want.reset(0);
        got = new FrameScores(classes);
        got.reset(0);
        reference.lsa(f2, mode, height, width, predicted, models, want);
        backend.lsa(f2, mode, height, width, predicted, models, got);
        compare(want, got, what + " second frame");
    }

    /** Pixels lying exactly on a reference (density dominated by one kernel) and far from all of them. */
    @Test
    void extremesOnAndFarFromReferences() {
        int d = 8, h0 = 4, w0 = 4, classes = 1, refs = 50;
        KdeModel[] models = fitModels(d, 1, refs, 17);
        double[] ref = models[0].references();
        float[] values = new float[d * h0 * w0];
        for (int cell = 0; cell < h0 * w0; cell++) {
            for (int i = 0; i < d; i++) {
                double v = cell < 8 ? ref[(cell % refs) * d + i] : ref[i] + 40.0 * (cell - 7); // on / far away
                values[i * h0 * w0 + cell] = (float) v;
            }
        }
        FeatureMap f = FeatureMap.ofArray(values, d, h0, w0);
        for (UpsampleMode mode : new UpsampleMode[]{UpsampleMode.NEAREST, UpsampleMode.BILINEAR}) {
            int height = mode == UpsampleMode.NEAREST ? h0 : 9, width = mode == UpsampleMode.NEAREST ? w0 : 11;
            int[] predicted = new int[height * width];
            FrameScores want = new FrameScores(classes);
            want.reset(height * width);
            reference.lsa(f, mode, height, width, predicted, models, want);
            FrameScores got = new FrameScores(classes);
            got.reset(height * width);
            backend.lsa(f, mode, height, width, predicted, models, got);
            compare(want, got, "extremes " + mode);
        }
    }

    @Test
    void zeroCopyNativeFeaturesAndErrors() {
        int d = 5, h0 = 3, w0 = 4, height = 7, width = 9, classes = 6;
        SplittableRandom r = new SplittableRandom(3);
        KdeModel[] models = fitModels(d, classes, 40, 3);
        float[] values = NativeCpuBackendTest.randomFeatures(d, h0, w0, r);
        int[] predicted = NativeCpuBackendTest.randomPredicted(height, width, classes, r);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_FLOAT, values);
            FrameScores want = new FrameScores(classes);
            want.reset(height * width);
            reference.lsa(FeatureMap.ofArray(values, d, h0, w0), UpsampleMode.BILINEAR, height, width, predicted, models, want);
            FrameScores got = new FrameScores(classes);
            got.reset(height * width);
            backend.lsa(new FeatureMap(seg, d, h0, w0), UpsampleMode.BILINEAR, height, width, predicted, models, got);
            compare(want, got, "native segment");
        }
        // models of dimension 5 against a map of dimension 4: a SegsaException naming the function
        FeatureMap wrong = FeatureMap.ofArray(new float[4 * 2 * 2], 4, 2, 2);
        FrameScores out = new FrameScores(classes);
        out.reset(0);
        SegsaException e = assertThrows(SegsaException.class,
                () -> backend.lsa(wrong, UpsampleMode.BILINEAR, 4, 4, new int[16], models, out));
        assertEquals(NativeLibrary.ERR_INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("segsa_lsa_frame") && e.getMessage().contains("d=4"), e.getMessage());
    }

    static void compare(FrameScores want, FrameScores got, String what) {
        for (int c = 0; c < want.classes(); c++) {
            assertEquals(want.pixels()[c], got.pixels()[c], what + ": pixels of class " + c);
            // a sum over m pixels: floor m (each pixel's floor is 1)
            double err = Math.abs(got.sums()[c] - want.sums()[c])
                    / Math.max(Math.abs(want.sums()[c]), Math.max(1, want.pixels()[c]));
            maxSumError = Math.max(maxSumError, err);
            assertTrue(err <= TOLERANCE, what + ": sum of class " + c + " " + got.sums()[c] + " vs " + want.sums()[c]);
        }
        float[] wm = want.map(), gm = got.map();
        assertEquals(wm == null, gm == null);
        if (wm == null) return;
        for (int p = 0; p < wm.length; p++) {
            if (Float.isNaN(wm[p])) {
                assertTrue(Float.isNaN(gm[p]), what + ": pixel " + p + " expected NaN, got " + gm[p]);
                continue;
            }
            double err = error(gm[p], wm[p]);
            if (err > maxMapError) {
                maxMapError = err;
                worst = what + " pixel " + p + ": " + gm[p] + " vs " + wm[p];
            }
            assertTrue(err <= TOLERANCE, what + ": pixel " + p + " " + gm[p] + " vs " + wm[p]);
        }
    }

    static double error(double got, double want) {
        return Math.abs(got - want) / Math.max(Math.abs(want), 1.0);
    }
}
