package dev.segsa.model;

import dev.segsa.features.UpsampleMode;
import dev.segsa.kernel.Backends;
import dev.segsa.nativelib.NativeLibrary;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-pixel softmax maps of {@code segsa_logits_maps_frame} ({@link LogitsPass#run} with
 * {@code maps}) against a plain float64 Java softmax of the (upsampled) logits: entropy, margin
 * and every class probability within {@value #TOL} absolute (float32 outputs of a float64
 * softmax whose exp differs from {@link Math#exp} in the last bits); probabilities sum to 1 per
 * pixel within 1e-5; the predicted map, counts and uncertainty sums are bit for bit those of
 * {@code segsa_logits_frame} (a run without maps); and the per-class means of the entropy and
 * margin maps over the predicted pixels equal the uncertainty means to float64 summation-order
 * rounding (1e-12 relative). Low-resolution logits are upsampled for the reference by LibTorch,
 * whose generic kernel the pass reproduces bit for bit (outputs with H + W &gt; 128, C != 3).
 * Pixels with a non-finite (upsampled) logit have unspecified map values and are not compared.
 */
class LogitsMapsTest {
    private static final double TOL = 1e-5;

    @AfterAll
    static void restoreThreads() {
        Backends.setKernelThreads(0);
    }

    /** Seeded logits: gaussian or, with {@code ties}, integers 0..3 (many exact ties); then NaN / -inf at random places. */
    private static float[] logits(int classes, int h, int w, long seed, boolean ties, int nan, int negInf) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[classes * h * w];
        for (int i = 0; i < v.length; i++) v[i] = ties ? r.nextInt(4) : (float) (r.nextGaussian() * 4);
        for (int k = 0; k < nan; k++) v[r.nextInt(v.length)] = Float.NaN;
        for (int k = 0; k < negInf; k++) v[r.nextInt(v.length)] = Float.NEGATIVE_INFINITY;
        return v;
    }

    /** The logits at the output size [C, H*W]: as given, or upsampled by LibTorch. */
    private static float[] upsampled(float[] v, int classes, int h, int w, int height, int width, UpsampleMode mode) {
        if (h == height && w == width) return v;
        LibTorch.ensureLoaded();
        try (PointerScope scope = new PointerScope()) {
            Tensor t = TestModels.tensor(v, 1, classes, h, w);
            long[] size = {height, width};
            t = switch (mode) {
                case BILINEAR -> torch.upsample_bilinear2d(t, size, false);
                case BILINEAR_ALIGNED -> torch.upsample_bilinear2d(t, size, true);
                case NEAREST -> torch.upsample_nearest2d(t, size);
            };
            t = t.contiguous();
            long n = (long) classes * height * width;
            return MemorySegment.ofAddress(t.data_ptr().address()).reinterpret(4L * n).toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** The float64 reference softmax of one pixel: {entropy, margin, p_0 .. p_C-1}; null when a logit is not finite. */
    static double[] reference(float[] l, int classes, int n, int i) {
        double m = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            float x = l[c * n + i];
            if (!Float.isFinite(x)) return null;
            m = Math.max(m, x);
        }
        double[] e = new double[classes];
        double s = 0;
        for (int c = 0; c < classes; c++) {
            e[c] = Math.exp(l[c * n + i] - m);
            s += e[c];
        }
        double[] out = new double[2 + classes];
        double entropy = 0, p1 = -1, p2 = -1;
        for (int c = 0; c < classes; c++) {
            double p = e[c] / s;
            out[2 + c] = p;
            if (p > 0) entropy -= p * Math.log(p);
            if (p > p1) {
                p2 = p1;
                p1 = p;
            } else if (p > p2) {
                p2 = p;
            }
        }
        out[0] = entropy;
        out[1] = classes >= 2 ? 1 - (p1 - p2) : 0;
        return out;
    }

    private static void check(int classes, int h, int w, int height, int width, UpsampleMode mode, long seed, boolean ties,
                              int nan, int negInf) {
        float[] v = logits(classes, h, w, seed, ties, nan, negInf);
        float[] full = upsampled(v, classes, h, w, height, width, mode);
        int n = height * width;
        String what = classes + "x" + h + "x" + w + " -> " + height + "x" + width + " " + mode + " seed " + seed
                + (ties ? " ties" : "") + (nan + negInf > 0 ? " nan " + nan + " -inf " + negInf : "");
        try (Arena a = Arena.ofConfined(); LogitsPass plain = new LogitsPass(); LogitsPass pass = new LogitsPass()) {
            MemorySegment seg = a.allocate(4L * v.length, 64);
            MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT, 0, v.length);
            LogitsPass.Result p = plain.run(seg, classes, h, w, height, width, mode, null, true);
            assertNull(p.entropyMap(), what);
            assertNull(p.probabilities(), what);
            int[] plainPredicted = p.predicted().toArray(ValueLayout.JAVA_INT);

            // maps without the uncertainty sums: the softmax still runs
            LogitsPass.Result r0 = pass.run(seg, classes, h, w, height, width, mode, null, false, true);
            float[] entropy0 = r0.entropyMap().toArray(ValueLayout.JAVA_FLOAT);
            float[] margin0 = r0.marginMap().toArray(ValueLayout.JAVA_FLOAT);
            float[] probs0 = r0.probabilities().toArray(ValueLayout.JAVA_FLOAT);
            assertNull(r0.uncertaintyMeans(), what);
            assertArrayEquals(plainPredicted, r0.predicted().toArray(ValueLayout.JAVA_INT), what);

            LogitsPass.Result r = pass.run(seg, classes, h, w, height, width, mode, null, true, true);
            assertTrue(r.entropyMap().isReadOnly() && r.marginMap().isReadOnly() && r.probabilities().isReadOnly(), what);
            assertEquals(4L * n, r.entropyMap().byteSize(), what);
            assertEquals(4L * n, r.marginMap().byteSize(), what);
            assertEquals(4L * classes * n, r.probabilities().byteSize(), what);
            int[] pred = r.predicted().toArray(ValueLayout.JAVA_INT);
            assertArrayEquals(plainPredicted, pred, what + ": predicted");
            assertArrayEquals(p.classPixels(), r.classPixels(), what);
            assertEquals(p.nonFiniteLogits(), r.nonFiniteLogits(), what);
            for (int m = 0; m < 4; m++) assertArrayEquals(p.uncertaintyMeans()[m], r.uncertaintyMeans()[m], 0.0, what + ": measure " + m);
            float[] entropy = r.entropyMap().toArray(ValueLayout.JAVA_FLOAT);
            float[] margin = r.marginMap().toArray(ValueLayout.JAVA_FLOAT);
            float[] probs = r.probabilities().toArray(ValueLayout.JAVA_FLOAT);
            assertArrayEquals(entropy0, entropy, 0f, what);
            assertArrayEquals(margin0, margin, 0f, what);
            assertArrayEquals(probs0, probs, 0f, what);

            int compared = 0;
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double[] ref = reference(full, classes, n, i);
                if (ref == null) continue;
                compared++;
                String at = what + " pixel " + i;
                assertEquals(ref[0], entropy[i], TOL, at + " entropy");
                assertEquals(ref[1], margin[i], TOL, at + " margin");
                worst = Math.max(worst, Math.max(Math.abs(ref[0] - entropy[i]), Math.abs(ref[1] - margin[i])));
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    float q = probs[c * n + i];
                    assertEquals(ref[2 + c], q, TOL, at + " p_" + c);
                    worst = Math.max(worst, Math.abs(ref[2 + c] - q));
                    sum += q;
                }
                assertEquals(1.0, sum, 1e-5, at + " sum of probabilities");
                assertTrue(entropy[i] >= 0 && margin[i] >= 0 && margin[i] <= 1, at);
            }
            if (nan + negInf == 0) assertEquals(n, compared, what);
            assertTrue(compared > n / 2, what + ": " + compared + " finite pixels");

            // per-class means of the maps over the predicted pixels = uncertainty sums / pixels
            double[][] sums = new double[2][classes];
            for (int i = 0; i < n; i++) {
                sums[0][pred[i]] += entropy[i];
                sums[1][pred[i]] += margin[i];
            }
            for (int m = 0; m < 2; m++) {
                for (int c = 0; c < classes; c++) {
                    long px = r.classPixels()[c];
                    double mean = px == 0 ? Double.NaN : sums[m][c] / px;
                    double expected = r.uncertaintyMeans()[m][c];
                    String at = what + ": mean of map " + m + " over class " + c;
                    if (Double.isNaN(expected) || Double.isInfinite(expected)) assertEquals(expected, mean, at);
                    else assertEquals(expected, mean, 1e-12 * Math.max(1, Math.abs(expected)), at);
                }
            }
            assertTrue(worst <= TOL, what + ": worst " + worst);
        }
    }

    @ParameterizedTest(name = "C={0} {1}x{2} -> {3}x{4} {5}")
    @CsvSource({
            "12, 97, 131, 97, 131, BILINEAR",
            "2, 97, 131, 97, 131, BILINEAR",
            "1, 40, 50, 40, 50, BILINEAR",
            "12, 30, 40, 120, 160, BILINEAR",
            "12, 30, 40, 120, 160, BILINEAR_ALIGNED",
            "12, 30, 40, 120, 160, NEAREST",
            "2, 17, 31, 135, 241, BILINEAR",
            "2, 17, 31, 135, 241, BILINEAR_ALIGNED",
            "2, 17, 31, 135, 241, NEAREST",
            "1, 9, 12, 70, 90, BILINEAR",
            "1, 9, 12, 70, 90, BILINEAR_ALIGNED",
            "1, 9, 12, 70, 90, NEAREST",
            // C * tile pixels over the native e_c cache: the probabilities recompute e_c
            "17, 97, 131, 97, 131, BILINEAR",
            "17, 30, 60, 135, 300, BILINEAR",
            "17, 30, 60, 135, 300, NEAREST",
    })
    void mapsEqualJavaSoftmax(int classes, int h, int w, int height, int width, UpsampleMode mode) {
        check(classes, h, w, height, width, mode, 1, false, 0, 0);
        check(classes, h, w, height, width, mode, 2, false, 0, 0);
        check(classes, h, w, height, width, mode, 11, true, 0, 0);
        check(classes, h, w, height, width, mode, 12, false, 0, 3);
        check(classes, h, w, height, width, mode, 13, true, 2, 2);
    }

    @Test
    void buffersReusedAndGrown() {
        int classes = 5;
        float[] small = logits(classes, 40, 60, 3, false, 0, 0);
        float[] large = logits(7, 50, 70, 4, false, 0, 0);
        try (Arena a = Arena.ofConfined(); LogitsPass pass = new LogitsPass()) {
            MemorySegment s = a.allocate(4L * small.length, 64);
            MemorySegment.copy(small, 0, s, ValueLayout.JAVA_FLOAT, 0, small.length);
            MemorySegment l = a.allocate(4L * large.length, 64);
            MemorySegment.copy(large, 0, l, ValueLayout.JAVA_FLOAT, 0, large.length);
            LogitsPass.Result r1 = pass.run(s, classes, 40, 60, 40, 60, UpsampleMode.BILINEAR, null, false, true);
            long e1 = r1.entropyMap().address(), p1 = r1.probabilities().address();
            LogitsPass.Result r2 = pass.run(s, classes, 40, 60, 40, 60, UpsampleMode.BILINEAR, null, false, true);
            assertEquals(e1, r2.entropyMap().address(), "steady state reuses the maps");
            assertEquals(p1, r2.probabilities().address(), "steady state reuses the maps");
            LogitsPass.Result r3 = pass.run(l, 7, 50, 70, 50, 70, UpsampleMode.BILINEAR, null, false, true);
            assertEquals(4L * 7 * 50 * 70, r3.probabilities().byteSize());
            float[] probs = r3.probabilities().toArray(ValueLayout.JAVA_FLOAT);
            int n = 50 * 70;
            for (int i = 0; i < n; i += 97) {
                double[] ref = reference(large, 7, n, i);
                for (int c = 0; c < 7; c++) assertEquals(ref[2 + c], probs[c * n + i], TOL);
            }
            // back to the smaller frame: the grown buffers are kept
            LogitsPass.Result r4 = pass.run(s, classes, 40, 60, 40, 60, UpsampleMode.BILINEAR, null, false, true);
            assertEquals(r3.probabilities().address(), r4.probabilities().address());
            assertEquals(4L * classes * 40 * 60, r4.probabilities().byteSize());
            assertThrows(IllegalArgumentException.class, () -> r4.entropyMap().set(ValueLayout.JAVA_FLOAT, 0, 1f));
        }
    }

    @Test
    void mapsSameAtAnyThreadCount() {
        int classes = 12, h = 90, w = 120, height = 360, width = 480;
        float[] v = logits(classes, h, w, 5, false, 0, 0);
        float[][] first = null;
        try (Arena a = Arena.ofConfined(); LogitsPass pass = new LogitsPass()) {
            MemorySegment seg = a.allocate(4L * v.length, 64);
            MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT, 0, v.length);
            for (int threads : new int[] {1, 2, 7}) {
                Backends.setKernelThreads(threads);
                LogitsPass.Result r = pass.run(seg, classes, h, w, height, width, UpsampleMode.BILINEAR, null, true, true);
                float[][] maps = {r.entropyMap().toArray(ValueLayout.JAVA_FLOAT), r.marginMap().toArray(ValueLayout.JAVA_FLOAT),
                        r.probabilities().toArray(ValueLayout.JAVA_FLOAT)};
                if (first == null) first = maps;
                else for (int m = 0; m < 3; m++) assertArrayEquals(first[m], maps[m], 0f, threads + " threads, map " + m);
            }
        } finally {
            Backends.setKernelThreads(0);
        }
    }

    /**
     * Prints (no assertion) the time per frame of segsa_logits_frame with the uncertainty sums
     * against segsa_logits_maps_frame (entropy + margin maps; all three maps) at 480x360, C = 12,
     * logits at full resolution, one thread.
     */
    @Test
    void timing() throws Throwable {
        int classes = 12, height = 360, width = 480, n = height * width;
        float[] v = logits(classes, height, width, 9, false, 0, 0);
        Backends.setKernelThreads(1);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment seg = a.allocate(4L * v.length, 64);
            MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT, 0, v.length);
            MemorySegment bytes = a.allocate(8, 8);
            int st = (int) NativeLibrary.Cpu.LOGITS_WORKSPACE_BYTES.invokeExact(classes, height, width, bytes);
            NativeLibrary.check(st, "segsa_logits_workspace_bytes");
            long wsBytes = bytes.get(ValueLayout.JAVA_LONG, 0);
            MemorySegment ws = a.allocate(wsBytes + 64, 64);
            MemorySegment pred = a.allocate(4L * n, 64), pixels = a.allocate(8L * classes, 8), bad = a.allocate(8, 8);
            MemorySegment sums = a.allocate(8L * 4 * classes, 8);
            MemorySegment em = a.allocate(4L * n, 64), mm = a.allocate(4L * n, 64), pm = a.allocate(4L * classes * n, 64);
            MemorySegment nul = MemorySegment.NULL;
            String[] names = {"segsa_logits_frame + uncertainty", "segsa_logits_maps_frame + uncertainty, entropy + margin",
                    "segsa_logits_maps_frame + uncertainty, all three maps"};
            double[] best = new double[3];
            java.util.Arrays.fill(best, Double.MAX_VALUE);
            for (int round = 0; round < 3; round++) {
                for (int k = 0; k < 3; k++) {
                    for (int it = 0; it < 10; it++) {
                        long t0 = System.nanoTime();
                        if (k == 0) {
                            st = (int) NativeLibrary.Cpu.LOGITS_FRAME.invokeExact(seg, classes, height, width, height, width, 0, ws,
                                    wsBytes + 64, pred, pixels, bad, sums, nul, 0L, nul);
                        } else {
                            st = (int) NativeLibrary.Cpu.LOGITS_MAPS_FRAME.invokeExact(seg, classes, height, width, height, width, 0,
                                    ws, wsBytes + 64, pred, pixels, bad, sums, nul, 0L, nul, em, mm, (MemorySegment) (k == 2 ? pm : nul));
                        }
                        long t1 = System.nanoTime();
                        NativeLibrary.check(st, names[k]);
                        best[k] = Math.min(best[k], (t1 - t0) / 1e6);
                    }
                }
            }
            for (int k = 0; k < 3; k++) {
                System.out.println(String.format(Locale.ROOT, "LogitsMapsTest timing 480x360 C=12 full-res 1 thread: %-58s %.2f ms (best of 30)",
                        names[k], best[k]));
            }
        } finally {
            Backends.setKernelThreads(0);
        }
    }
}
