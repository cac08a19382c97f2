package dev.segsa.score;

import dev.segsa.kernel.Backends;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The native per-class statistics against their Java reference (ClassPixelStatistics) on seeded
 * maps: equal to the last bit (the same selection and the same float64 interpolation), with NaN
 * pixels, coarse values (many ties), classes of one pixel and absent classes, with and without a
 * threshold, at 1, 2 and 7 threads.
 */
class NativeClassStatisticsTest {
    @Test
    void equalsTheJavaReference() {
        try (Arena arena = Arena.ofConfined(); NativeClassStatistics nat = new NativeClassStatistics()) {
            ClassPixelStatistics ref = new ClassPixelStatistics();
            for (int seed = 1; seed <= 12; seed++) {
                SplittableRandom r = new SplittableRandom(seed);
                int classes = 1 + r.nextInt(20);
                int pixels = seed % 4 == 0 ? 1 + r.nextInt(50) : 60_000 + r.nextInt(150_000);
                float[] map = new float[pixels];
                int[] pred = new int[pixels];
                boolean coarse = seed % 3 == 0;
                for (int i = 0; i < pixels; i++) {
                    // class 0 holds one pixel, the last class none
                    pred[i] = i == 0 || classes < 3 ? 0 : 1 + r.nextInt(classes - 2 > 0 ? classes - 2 : 1);
                    map[i] = coarse ? r.nextInt(8) * 0.5f : (float) (r.nextDouble() * 20);
                    if (r.nextInt(50) == 0) map[i] = Float.NaN;
                }
                MemorySegment seg = arena.allocate(4L * pixels, 64);
                MemorySegment.copy(pred, 0, seg, ValueLayout.JAVA_INT, 0, pixels);
                double threshold = seed % 2 == 0 ? Double.NaN : 7.5;
                for (int threads : new int[] {1, 2, 7}) {
                    Backends.setKernelThreads(threads);
                    double[][] a = run(ref, null, map.clone(), seg, pixels, classes, threshold);
                    double[][] b = run(null, nat, map.clone(), seg, pixels, classes, threshold);
                    for (int k = 0; k < 3; k++) assertArrayEquals(a[k], b[k], 0.0, "seed " + seed + " threads " + threads + " output " + k);
                }
            }
        } finally {
            Backends.setKernelThreads(0);
        }
    }

    private static double[][] run(ClassPixelStatistics ref, NativeClassStatistics nat, float[] map, MemorySegment pred, int pixels,
                                  int classes, double threshold) {
        double[] max = new double[classes], p95 = new double[classes];
        double[] share = Double.isNaN(threshold) ? null : new double[classes];
        Arrays.fill(max, Double.NaN);
        Arrays.fill(p95, Double.NaN);
        if (share != null) Arrays.fill(share, Double.NaN);
        if (ref != null) ref.compute(map, pred, pixels, classes, max, p95, threshold, share);
        else nat.compute(map, pred, pixels, classes, max, p95, threshold, share);
        return new double[][] {max, p95, share == null ? new double[0] : share};
    }
}
