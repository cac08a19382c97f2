package dev.segsa.model;

import dev.segsa.features.UpsampleMode;
import dev.segsa.kernel.Backends;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native logits pass against the LibTorch ops it replaces, on the same seeded tensors: the
 * predicted classes equal {@code torch.argmax} of the (upsampled) logits exactly, ties and NaN
 * included; the non-finite counts equal {@code isfinite().logical_not().sum()}; the uncertainty
 * means equal LibTorch's softmax measures within 2e-6 absolute (float32 rounding of LibTorch's
 * per-pixel values; the pass computes each pixel in float64). Outputs with H + W &lt;= 128 and 3-class
 * bilinear logits take ATen's channels-last kernel, which {@link SegmentationModel} keeps on LibTorch:
 * {@link #modelPredictionsEqualTorchArgmax} checks those through the model.
 */
class LogitsPassTest {
    @AfterAll
    static void restoreThreads() {
        Backends.setKernelThreads(0);
    }

    /** LibTorch's result on [1, C, h, w] logits: predicted [H*W], class pixels [C], non-finite count. */
    private record Expected(int[] predicted, long[] pixels, long nonFinite, double[][] means) {}

    private static Expected torchExpected(float[] values, int classes, int h, int w, int height, int width, UpsampleMode mode) {
        LibTorch.ensureLoaded();
        try (PointerScope scope = new PointerScope()) {
            Tensor t = TestModels.tensor(values, 1, classes, h, w);
            if (h != height || w != width) {
                long[] size = {height, width};
                t = switch (mode) {
                    case BILINEAR -> torch.upsample_bilinear2d(t, size, false);
                    case BILINEAR_ALIGNED -> torch.upsample_bilinear2d(t, size, true);
                    case NEAREST -> torch.upsample_nearest2d(t, size);
                };
            }
            long bad = t.isfinite().logical_not().sum().item_long();
            Tensor am = t.argmax(new LongOptional(1), false).to(torch.ScalarType.Int).contiguous();
            int n = height * width;
            int[] pred = MemorySegment.ofAddress(am.data_ptr().address()).reinterpret(4L * n).toArray(ValueLayout.JAVA_INT);
            long[] pixels = new long[classes];
            for (int c : pred) pixels[c]++;
            double[][] means = new double[4][classes];
            if (bad == 0) {
                Tensor logp = t.log_softmax(1);
                Tensor p = logp.exp();
                Tensor[] maps = new Tensor[4];
                maps[0] = p.mul(logp).sum(1).neg();
                Tensor top1;
                if (classes >= 2) {
                    Tensor top = p.topk(2, 1, true, true).get0();
                    top1 = top.select(1, 0);
                    maps[1] = top1.sub(top.select(1, 1)).neg().add(new Scalar(1.0));
                } else {
                    top1 = p.select(1, 0);
                    maps[1] = top1.mul(new Scalar(0.0));
                }
                maps[2] = top1.neg().add(new Scalar(1.0));
                maps[3] = p.square().sum(1).neg().add(new Scalar(1.0));
                for (int m = 0; m < 4; m++) {
                    Tensor c = maps[m].contiguous();
                    float[] v = MemorySegment.ofAddress(c.data_ptr().address()).reinterpret(4L * n).toArray(ValueLayout.JAVA_FLOAT);
                    for (int i = 0; i < n; i++) means[m][pred[i]] += v[i];
                    for (int k = 0; k < classes; k++) means[m][k] = pixels[k] == 0 ? Double.NaN : means[m][k] / pixels[k];
                }
            }
            return new Expected(pred, pixels, bad, means);
        }
    }

    /** Seeded logits: smooth values, exact ties (values on a coarse grid where {@code ties}), optional NaN and Inf. */
    private static float[] logits(int classes, int h, int w, long seed, boolean ties, int nonFinite) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[classes * h * w];
        for (int i = 0; i < v.length; i++) {
            v[i] = ties ? r.nextInt(4) : (float) (r.nextGaussian() * 3);
        }
        for (int k = 0; k < nonFinite; k++) {
            int i = r.nextInt(v.length);
            v[i] = switch (k % 3) {
                case 0 -> Float.NaN;
                case 1 -> Float.POSITIVE_INFINITY;
                default -> Float.NEGATIVE_INFINITY;
            };
        }
        return v;
    }

    private static void check(int classes, int h, int w, int height, int width, UpsampleMode mode, long seed, boolean ties,
                              int nonFinite, boolean uncertainty) {
        float[] v = logits(classes, h, w, seed, ties, nonFinite);
        Expected e = torchExpected(v, classes, h, w, height, width, mode);
        try (Arena a = Arena.ofConfined(); LogitsPass pass = new LogitsPass()) {
            MemorySegment seg = a.allocate(4L * v.length, 64);
            MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT, 0, v.length);
            float[] feats = {1, 2, Float.NaN, 4, Float.POSITIVE_INFINITY, 0};
            MemorySegment fseg = a.allocate(4L * feats.length, 64);
            MemorySegment.copy(feats, 0, fseg, ValueLayout.JAVA_FLOAT, 0, feats.length);
            LogitsPass.Result r = pass.run(seg, classes, h, w, height, width, mode, fseg, uncertainty);
            String what = classes + "x" + h + "x" + w + " -> " + height + "x" + width + " " + mode + " seed " + seed;
            int[] got = r.predicted().toArray(ValueLayout.JAVA_INT);
            int mismatches = 0, first = -1;
            for (int i = 0; i < got.length; i++) {
                if (got[i] != e.predicted()[i]) {
                    if (first < 0) first = i;
                    mismatches++;
                }
            }
            assertEquals(0, mismatches, what + ": " + mismatches + " pixels differ from torch.argmax, first at " + first);
            assertArrayEquals(e.pixels(), r.classPixels(), what);
            assertEquals(e.nonFinite(), r.nonFiniteLogits(), what);
            assertEquals(2, r.nonFiniteFeatures(), what);
            if (uncertainty && e.nonFinite() == 0) {
                for (int m = 0; m < 4; m++) {
                    for (int c = 0; c < classes; c++) {
                        double x = e.means()[m][c], y = r.uncertaintyMeans()[m][c];
                        if (Double.isNaN(x)) assertTrue(Double.isNaN(y), what);
                        else assertEquals(x, y, 2e-6, what + ": measure " + m + " class " + c);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "C={0} {1}x{2} -> {3}x{4} {5}")
    @CsvSource({
            "11, 360, 480, 360, 480, BILINEAR",
            "19, 37, 53, 37, 53, BILINEAR",
            "1, 20, 30, 20, 30, BILINEAR",
            "11, 90, 120, 360, 480, BILINEAR",
            "11, 90, 120, 360, 480, BILINEAR_ALIGNED",
            "11, 90, 120, 360, 480, NEAREST",
            "19, 17, 31, 135, 241, BILINEAR",
            "19, 17, 31, 135, 241, BILINEAR_ALIGNED",
            "19, 17, 31, 135, 241, NEAREST",
            "5, 9, 12, 37, 50, BILINEAR",
            "5, 9, 12, 70, 90, BILINEAR",
            "5, 9, 12, 70, 90, BILINEAR_ALIGNED",
            "4, 1, 1, 63, 77, BILINEAR",
            "2, 3, 2, 40, 60, NEAREST",
            "4, 45, 60, 360, 480, BILINEAR",
    })
    void equalsLibTorch(int classes, int h, int w, int height, int width, UpsampleMode mode) {
        for (long seed = 1; seed <= 3; seed++) check(classes, h, w, height, width, mode, seed, false, 0, true);
        check(classes, h, w, height, width, mode, 11, true, 0, true);
        check(classes, h, w, height, width, mode, 12, false, 5, false);
        check(classes, h, w, height, width, mode, 13, true, 7, true);
    }

    /**
     * Through {@link SegmentationModel#infer}: a model with low-resolution logits (with exact ties and
     * NaN) gives the predicted classes and counts of LibTorch's upsample + argmax, for frames on both
     * sides of ATen's small-output rule and for 3 classes.
     */
    @ParameterizedTest(name = "{0} classes, {1}x{2}, {3}")
    @CsvSource({"5, 24, 32, BILINEAR", "5, 72, 96, BILINEAR", "3, 72, 96, BILINEAR", "5, 72, 96, BILINEAR_ALIGNED",
            "5, 24, 32, NEAREST", "6, 40, 56, BILINEAR"})
    void modelPredictionsEqualTorchArgmax(int classes, int height, int width, UpsampleMode mode, @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        java.nio.file.Path p = dir.resolve("lowres.pt");
        // logits on a coarse grid: many exact ties
        TestModels.saveScript(p, "f = torch.avg_pool2d(x, [4, 4])\n"
                + "l = torch.floor(torch.cat([f[:, 0:1] * " + classes + ".0 + float(i) for i in range(" + classes + ")], 1) * 2.0) % 5.0\n"
                + "return (f, l)");
        SplittableRandom r = new SplittableRandom(height * 31L + width);
        float[] frame = new float[3 * height * width];
        for (int i = 0; i < frame.length; i++) frame[i] = (float) r.nextDouble(-1, 1);
        try (SegmentationModel m = SegmentationModel.load(p, mode)) {
            int[] got;
            long[] pixels;
            try (PointerScope scope = new PointerScope()) {
                FrameOutput out = m.infer(frame, height, width, "frame");
                got = out.predictedArray();
                pixels = out.classPixels();
            }
            SegmentationModel.HostOutputs h = m.hostOutputs(height, width, "frame");
            int n = height * width;
            long[] expectedPixels = new long[classes];
            for (int i = 0; i < n; i++) {
                int best = 0;
                float b = h.logits()[i];
                for (int c = 1; c < classes; c++) {
                    float v = h.logits()[c * n + i];
                    if (v > b || (v != v && b == b)) {
                        b = v;
                        best = c;
                    }
                }
                assertEquals(best, got[i], "pixel " + i);
                expectedPixels[best]++;
            }
            assertArrayEquals(expectedPixels, pixels);
        }
    }

    @Test
    void sameAtAnyThreadCount() {
        int classes = 11, h = 90, w = 120, height = 360, width = 480;
        float[] v = logits(classes, h, w, 5, false, 0);
        int[] first = null;
        double[][] firstMeans = null;
        try (Arena a = Arena.ofConfined(); LogitsPass pass = new LogitsPass()) {
            MemorySegment seg = a.allocate(4L * v.length, 64);
            MemorySegment.copy(v, 0, seg, ValueLayout.JAVA_FLOAT, 0, v.length);
            for (int threads : new int[] {1, 2, 7}) {
                Backends.setKernelThreads(threads);
                LogitsPass.Result r = pass.run(seg, classes, h, w, height, width, UpsampleMode.BILINEAR, null, true);
                int[] p = r.predicted().toArray(ValueLayout.JAVA_INT);
                if (first == null) {
                    first = p;
                    firstMeans = r.uncertaintyMeans();
                } else {
                    assertArrayEquals(first, p, threads + " threads");
                    for (int m = 0; m < 4; m++) assertArrayEquals(firstMeans[m], r.uncertaintyMeans()[m], 0.0, threads + " threads");
                }
            }
        } finally {
            Backends.setKernelThreads(0);
        }
    }

    @Test
    void refusesBadArgumentsWithTheNativeMessage() {
        try (Arena a = Arena.ofConfined(); LogitsPass pass = new LogitsPass()) {
            MemorySegment seg = a.allocate(4L * 2 * 4 * 4, 64);
            IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                    () -> pass.run(seg, 3, 4, 4, 8, 8, UpsampleMode.BILINEAR, null, false));
            assertTrue(small.getMessage().contains("needs 192"), small.getMessage());
            var e = assertThrows(dev.segsa.error.SegsaException.class,
                    () -> pass.run(seg, 2, 4, 4, 0, 8, UpsampleMode.BILINEAR, null, false));
            assertTrue(e.getMessage().contains("segsa_logits") && e.getMessage().contains("H=0"), e.getMessage());
        }
        LogitsPass closed = new LogitsPass();
        closed.close();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.run(MemorySegment.NULL, 1, 1, 1, 1, 1, UpsampleMode.BILINEAR, null, false));
    }
}
