package dev.segsa.kernel;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.nativelib.NativeLibrary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Differential tests of {@link NativeCpuBackend} against {@link ReferenceBackend} on seeded random
 * feature maps, every upsample mode, several feature dimensions and low-/high-resolution sizes
 * (1x1, odd sizes, output equal to the low resolution, 2x, 8x).
 *
 * <p>Stated tolerance: per-pixel MDSA map and per-class SA sums agree to a relative error of at
 * most 1e-5 ({@code |native - reference| <= 1e-5 * |reference|}; NaN exactly where the reference
 * has NaN); per-class pixel counts agree exactly. For accumulation, counts are exact, means agree
 * within 1e-5 of (|mean| + standard deviation) and co-moments within 1e-5 of
 * sqrt(M_ii * M_jj). Both sides compute in float64, so the errors seen are far smaller (the
 * maximum is printed at the end).
 */
class NativeCpuBackendTest {
    static final double TOLERANCE = 1e-5;
    static double maxMapError, maxSumError, maxMeanError, maxComomentError;
    static String worstMap = "", worstComoment = "";

    static NativeCpuBackend backend;
    static final ReferenceBackend reference = new ReferenceBackend();

    @BeforeAll
    static void open() {
        backend = new NativeCpuBackend();
        System.err.println("native-cpu: " + NativeLibrary.cpuPath() + " isa=" + backend.isa() + " threads="
                + NativeLibrary.Cpu.maxThreads() + " version=" + NativeLibrary.Cpu.version());
    }

    @AfterAll
    static void closeAndReport() {
        backend.close();
        backend.close(); // idempotent
        System.err.printf("native-cpu max relative error: map %.3g, class sums %.3g, means %.3g, co-moments %.3g%n",
                maxMapError, maxSumError, maxMeanError, maxComomentError);
        System.err.println("worst map pixel: " + worstMap + "; worst co-moment: " + worstComoment);
    }

    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        int[] dims = {1, 3, 16, 64};
        int[][] low = {{1, 1}, {3, 5}, {6, 8}, {42, 64}};
        for (int d : dims) {
            for (int[] hw : low) {
                int h0 = hw[0], w0 = hw[1];
                List<int[]> outs = new ArrayList<>();
                outs.add(new int[]{h0, w0});            // equal to low resolution
                outs.add(new int[]{2 * h0, 2 * w0});    // 2x
                outs.add(new int[]{2 * h0 + 3, 3 * w0 + 2}); // odd, non-integer factor
                if (h0 > 1) outs.add(new int[]{h0 - 1 + h0 / 2, w0 + 1}); // barely larger / smaller
                if (d <= 16 && h0 == 6) outs.add(new int[]{8 * h0, 8 * w0}); // 8x
                for (int[] o : outs) {
                    for (UpsampleMode m : UpsampleMode.values()) cases.add(Arguments.of(d, h0, w0, o[0], o[1], m));
                }
            }
        }
        // the paper's geometry once, at moderate d
        cases.add(Arguments.of(16, 42, 64, 336, 512, UpsampleMode.BILINEAR));
        return cases.stream();
    }

    /** Random correlated class data around class-specific offsets; class 2 has a constant feature. */
    static MahalanobisModel[] fitModels(int d, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        MahalanobisModel[] models = new MahalanobisModel[classes];
        for (int c = 0; c < classes; c++) {
            if (c == 1) continue; // class 1 has no model
            ClassStatistics s = new ClassStatistics(d);
            double[] mix = new double[d * d];
            for (int i = 0; i < mix.length; i++) mix[i] = r.nextDouble(-0.5, 0.5);
            for (int i = 0; i < d; i++) mix[i * d + i] += 1.0;
            double[] offset = new double[d];
            for (int i = 0; i < d; i++) offset[i] = r.nextDouble(-1, 1) + 0.3 * c;
            int n = 3 * d + 30;
            double[] g = new double[d];
            double[] x = new double[d];
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < d; i++) g[i] = r.nextGaussian();
                for (int i = 0; i < d; i++) {
                    double v = offset[i];
                    for (int k = 0; k < d; k++) v += mix[i * d + k] * g[k];
                    x[i] = v;
                }
                if (c == 2 && d >= 3) x[1] = 0.75; // zero variance: dropped for this class
                s.add(x);
            }
            models[c] = MahalanobisModel.fit(c, "class" + c, s);
        }
        if (d >= 3) assertEquals(d - 1, models[2].whitening().activeDimension(), "class 2 drops one feature");
        return models;
    }

    static float[] randomFeatures(int d, int h0, int w0, SplittableRandom r) {
        float[] f = new float[d * h0 * w0];
        for (int i = 0; i < f.length; i++) f[i] = (float) (r.nextGaussian() * 1.5 + 0.2);
        return f;
    }

    /** Classes: 0, 1 (no model), 2 (dropped feature), 3 (exactly one pixel), 4 absent, 5; plus -1 and 6 (out of range). */
    static int[] randomPredicted(int height, int width, int classes, SplittableRandom r) {
        int[] p = new int[height * width];
        int[] pool = {0, 0, 0, 1, 2, 2, 5, 5, -1, classes};
        // blocky labels, like a segmentation
        int bs = Math.max(1, Math.min(height, width) / 4);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                long h = (y / bs) * 7919L + (x / bs) * 104729L + r.nextInt(3);
                p[y * width + x] = pool[(int) Math.floorMod(h * 2654435761L, pool.length)];
            }
        }
        if (p.length > 1) p[r.nextInt(p.length)] = 3;
        return p;
    }

    @ParameterizedTest(name = "d={0} {1}x{2} -> {3}x{4} {5}")
    @MethodSource("shapes")
    void mdsaMatchesReference(int d, int h0, int w0, int height, int width, UpsampleMode mode) {
        int classes = 6;
        long seed = 1000L * d + 31L * h0 + 7L * w0 + 3L * height + width + mode.code();
        SplittableRandom r = new SplittableRandom(seed);
        MahalanobisModel[] models = fitModels(d, classes, seed);
        FeatureMap f = FeatureMap.ofArray(randomFeatures(d, h0, w0, r), d, h0, w0);
        int[] predicted = randomPredicted(height, width, classes, r);

        FrameScores want = new FrameScores(classes);
        want.reset(height * width);
        reference.mdsa(f, mode, height, width, predicted, models, want);
        FrameScores got = new FrameScores(classes);
        got.reset(height * width);
        backend.mdsa(f, mode, height, width, predicted, models, got);

        compareScores(want, got, "d=" + d + " " + h0 + "x" + w0 + "->" + height + "x" + width + " " + mode);
        assertEquals(0, got.pixels()[4], "absent class");
        assertEquals(0, got.pixels()[1], "class without model");

        // second frame reuses the packed models and the workspace; without a map this time
        float[] values = randomFeatures(d, h0, w0, r);
        FeatureMap f2 = FeatureMap.ofArray(values, d, h0, w0);
        want.reset(0);
        got.reset(0);
        reference.mdsa(f2, mode, height, width, predicted, models, want);
        backend.mdsa(f2, mode, height, width, predicted, models, got);
        compareScores(want, got, "second frame");
    }

    @ParameterizedTest(name = "d={0} {1}x{2} -> {3}x{4} {5}")
    @MethodSource("shapes")
    void accumulateMatchesReference(int d, int h0, int w0, int height, int width, UpsampleMode mode) {
        int classes = 6;
        long seed = 77L * d + 13L * h0 + w0 + 5L * height + 11L * width + mode.code();
        SplittableRandom r = new SplittableRandom(seed);
        ClassStatistics[] want = new ClassStatistics[classes];
        ClassStatistics[] got = new ClassStatistics[classes];
        for (int c = 0; c < classes; c++) {
            want[c] = new ClassStatistics(d);
            got[c] = new ClassStatistics(d);
        }
        for (int frame = 0; frame < 2; frame++) {
            FeatureMap f = FeatureMap.ofArray(randomFeatures(d, h0, w0, r), d, h0, w0);
            int[] labels = randomPredicted(height, width, classes, r);
            reference.accumulate(f, mode, height, width, labels, want);
            backend.accumulate(f, mode, height, width, labels, got);
        }
        for (int c = 0; c < classes; c++) {
            compareStats(want[c], got[c], "d=" + d + " " + h0 + "x" + w0 + "->" + height + "x" + width + " " + mode + " class " + c);
        }
        assertEquals(0, got[4].count(), "absent class");
    }

    /** A feature map in native memory is passed without copying and gives the same result. */
    @Test
    void nativeFeatureSegment() {
        int d = 16, h0 = 6, w0 = 8, height = 13, width = 21, classes = 6;
        SplittableRandom r = new SplittableRandom(5);
        MahalanobisModel[] models = fitModels(d, classes, 5);
        float[] values = randomFeatures(d, h0, w0, r);
        int[] predicted = randomPredicted(height, width, classes, r);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(ValueLayout.JAVA_FLOAT, values.length);
            MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT, 0, values.length);
            FrameScores want = new FrameScores(classes);
            want.reset(height * width);
            reference.mdsa(FeatureMap.ofArray(values, d, h0, w0), UpsampleMode.BILINEAR, height, width, predicted, models, want);
            FrameScores got = new FrameScores(classes);
            got.reset(height * width);
            backend.mdsa(new FeatureMap(seg, d, h0, w0), UpsampleMode.BILINEAR, height, width, predicted, models, got);
            compareScores(want, got, "native segment");
        }
    }

    @Test
    void statusCodeBecomesSegsaException() throws Throwable {
        // d = 0 straight into the C ABI
        int st;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dummy = a.allocate(64);
            st = (int) NativeLibrary.Cpu.MDSA_FRAME.invokeExact(dummy, 0, 1, 1, 1, 1, 0, dummy, 1, dummy, dummy, 64L,
                    MemorySegment.NULL, dummy, dummy);
        }
        assertEquals(NativeLibrary.ERR_INVALID_ARGUMENT, st);
        int code = st;
        SegsaException e = assertThrows(SegsaException.class, () -> NativeLibrary.check(code, "segsa_mdsa_frame"));
        assertEquals(NativeLibrary.ERR_INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("segsa_mdsa_frame") && e.getMessage().contains("d=0"), e.getMessage());

        e = assertThrows(SegsaException.class, () -> NativeLibrary.Cpu.workspaceBytes(4, 0, 3, 5, 5, 2));
        assertEquals(NativeLibrary.ERR_INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("h0=0"), e.getMessage());

        // models of dimension 3 against a feature map of dimension 4, through the backend
        MahalanobisModel[] models = fitModels(3, 6, 9);
        FeatureMap f = FeatureMap.ofArray(new float[4 * 2 * 2], 4, 2, 2);
        FrameScores out = new FrameScores(6);
        out.reset(0);
        e = assertThrows(SegsaException.class,
                () -> backend.mdsa(f, UpsampleMode.BILINEAR, 4, 4, new int[16], models, out));
        assertEquals(NativeLibrary.ERR_INVALID_ARGUMENT, e.code());
        assertTrue(e.getMessage().contains("dimension 3") && e.getMessage().contains("d=4"), e.getMessage());
    }

    @Test
    void loaderListsTriedPaths(@TempDir Path dir) throws IOException {
        List<String> tried = new ArrayList<>();
        SegsaException e = assertThrows(SegsaException.class,
                () -> NativeLibrary.locate("libsegsa_missing.so", "/nonexistent/segsa-dir", tried));
        assertTrue(e.getMessage().contains("/nonexistent/segsa-dir"), e.getMessage());
        assertTrue(e.getMessage().contains("no such file"), e.getMessage());
        assertTrue(e.getMessage().contains("/native/linux-x86_64/libsegsa_missing.so"), e.getMessage());
        assertEquals(2, tried.size(), tried.toString());

        Path bad = dir.resolve("libsegsa_bad.so");
        Files.writeString(bad, "this is not an ELF file, it is text of some length to pass the size checks");
        e = assertThrows(SegsaException.class, () -> NativeLibrary.locate("libsegsa_bad.so", dir.toString(), new ArrayList<>()));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not an ELF"), e.getMessage());

        // an ELF file that is not a loadable library for this process: dlerror's text is reported
        Path wrong = dir.resolve("libsegsa_wrong.so");
        byte[] elf = new byte[64];
        elf[0] = 0x7f; elf[1] = 'E'; elf[2] = 'L'; elf[3] = 'F';
        Files.write(wrong, elf);
        e = assertThrows(SegsaException.class, () -> NativeLibrary.locate("libsegsa_wrong.so", wrong.toString(), new ArrayList<>()));
        assertTrue(e.getMessage().contains(wrong.toString()) && e.getMessage().contains("libsegsa_wrong.so:"), e.getMessage());
        System.err.println("loader message for a broken ELF: " + e.getMessage());

        // a bad override falls back to the classpath library
        List<String> tried2 = new ArrayList<>();
        NativeLibrary.locate(NativeLibrary.CPU_LIBRARY, "/nonexistent/segsa-dir", tried2);
        assertEquals(2, tried2.size(), tried2.toString());
    }

    @Test
    void backendSelection() {
        try (Backend b = Backends.select("auto")) {
            assertEquals("native-cpu", b.name());
        }
        try (Backend b = Backends.select("reference")) {
            assertEquals("reference", b.name());
        }
        try (Backend b = Backends.select("native-cpu")) {
            assertEquals("native-cpu", b.name());
        }
        SegsaException e = assertThrows(SegsaException.class, () -> Backends.select("tpu"));
        assertTrue(e.getMessage().contains("tpu"), e.getMessage());
        if (!NativeLibrary.cudaAvailable()) {
            e = assertThrows(SegsaException.class, () -> Backends.select("cuda"));
            assertTrue(e.getMessage().contains("cuda"), e.getMessage());
        }
    }

    static void compareScores(FrameScores want, FrameScores got, String what) {
        for (int c = 0; c < want.classes(); c++) {
            assertEquals(want.pixels()[c], got.pixels()[c], what + ": pixels of class " + c);
            double rel = relative(got.sums()[c], want.sums()[c]);
            maxSumError = Math.max(maxSumError, rel);
            assertTrue(rel <= TOLERANCE, what + ": sum of class " + c + " " + got.sums()[c] + " vs " + want.sums()[c]);
        }
        float[] wm = want.map(), gm = got.map();
        assertEquals(wm == null, gm == null);
        if (wm == null) return;
        for (int p = 0; p < wm.length; p++) {
            if (Float.isNaN(wm[p])) {
                assertTrue(Float.isNaN(gm[p]), what + ": pixel " + p + " expected NaN, got " + gm[p]);
                continue;
            }
            double rel = relative(gm[p], wm[p]);
            if (rel > maxMapError) worstMap = what + " pixel " + p + ": " + gm[p] + " vs " + wm[p];
            maxMapError = Math.max(maxMapError, rel);
            assertTrue(rel <= TOLERANCE, what + ": pixel " + p + " " + gm[p] + " vs " + wm[p]);
        }
    }

    static void compareStats(ClassStatistics want, ClassStatistics got, String what) {
        assertEquals(want.count(), got.count(), what + ": count");
        if (want.count() == 0) return;
        int d = want.dimension();
        double[] wc = want.comoment(), gc = got.comoment();
        double[] wm = want.mean(), gm = got.mean();
        for (int i = 0; i < d; i++) {
            double sd = Math.sqrt(Math.max(wc[i * d + i], 0) / want.count());
            double err = Math.abs(gm[i] - wm[i]) / (Math.abs(wm[i]) + sd + 1e-300);
            maxMeanError = Math.max(maxMeanError, err);
            assertTrue(err <= TOLERANCE, what + ": mean[" + i + "] " + gm[i] + " vs " + wm[i]);
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double scale = Math.sqrt(Math.abs(wc[i * d + i] * wc[j * d + j]));
                double err = Math.abs(gc[i * d + j] - wc[i * d + j]) / (scale + 1e-300);
                if (scale == 0) err = Math.abs(gc[i * d + j]) > 1e-12 ? 1 : 0;
                if (err > maxComomentError) {
                    worstComoment = what + " [" + i + "," + j + "] " + gc[i * d + j] + " vs " + wc[i * d + j] + " scale " + scale;
                }
                maxComomentError = Math.max(maxComomentError, err);
                assertTrue(err <= TOLERANCE, what + ": comoment[" + i + "," + j + "] " + gc[i * d + j] + " vs " + wc[i * d + j]);
            }
        }
    }

    static double relative(double got, double want) {
        double diff = Math.abs(got - want);
        if (diff == 0) return 0;
        return diff / Math.max(Math.abs(want), 1e-300);
    }
}
