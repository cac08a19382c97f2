package dev.segsa.segments;

import dev.segsa.error.SegsaException;
import dev.segsa.kernel.Backends;
import dev.segsa.nativelib.NativeLibrary;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native segment features ({@link NativeSegments}, native/segments.cpp) against the plain-Java
 * reference ({@link SegmentReference}) and against hand-worked cases.
 *
 * <p>Tolerances: segment ids, counts, class, sizes, size ratios, mean row and column and IoU_adj
 * exactly (integer counts, the same float64 divisions); heat-map and probability means within
 * 1e-9 relative (the native code sums each run with four accumulators, the reference pixel by
 * pixel; both in float64).
 */
class SegmentsTest {
    private static final double REL = 1e-9;

    // ------------------------------------------------------------------ hand-worked cases

    /**
     * H = 5, W = 6, C = 3, predicted:
     * <pre>
     *        x: 0 1 2 3 4 5
     *   y=0     0 0 0 0 1 1
     *   y=1     0 0 0 0 1 1
     *   y=2     0 0 0 0 1 2
     *   y=3     0 0 0 0 1 2
     *   y=4     1 1 0 0 1 2
     * </pre>
     * Segments in raster order of their first pixel: 0 = class 0 at (0,0), 18 pixels; 1 = class 1
     * at (0,4): (0,4) (0,5) (1,4) (1,5) (2,4) (3,4) (4,4), 7 pixels; 2 = class 2 at (2,5), 3
     * pixels; 3 = class 1 at (4,0): (4,0) (4,1), 2 pixels (not 8-adjacent to segment 1).
     * Interior of segment 0: only (1,1) (1,2) (2,1) (2,2) (every other candidate off the border
     * sees column 4 or row 4's class 1); segments 1, 2, 3 have none (each pixel is on the border
     * or next to another class). Heat map = pixel index y*6+x: segment 0's indices sum to
     * 6+30+54+78 (rows 0..3, columns 0..3) + 26+27 = 221, its interior 7+8+13+14 = 42.
     * Labels (9 = ignore):
     * <pre>
     *        x: 0 1 2 3 4 5
     *   y=0     0 0 0 1 1 1
     *   y=1     0 0 0 1 1 1
     *   y=2     0 0 0 0 1 9
     *   y=3     0 0 0 0 1 2
     *   y=4     0 0 0 0 1 2
     * </pre>
     * IoU_adj: segment 0: I = 16 (all but (0,3) (1,3)); R = {(4,0), (4,1)} (labelled 0, predicted
     * 1, next to segment 0) so U = 18 + 2, IoU 0.8. Segment 1: I = 7, R = {(0,3), (1,3)}, U = 9,
     * 7/9. Segment 2: (2,5) is ignore, I = 2, U = 2, 1. Segment 3: I = 0, so 0.
     */
    @Test
    void handWorkedFiveBySix() {
        int h = 5, w = 6, c = 3;
        int[] pred = {
                0, 0, 0, 0, 1, 1,
                0, 0, 0, 0, 1, 1,
                0, 0, 0, 0, 1, 2,
                0, 0, 0, 0, 1, 2,
                1, 1, 0, 0, 1, 2};
        int[] labels = {
                0, 0, 0, 1, 1, 1,
                0, 0, 0, 1, 1, 1,
                0, 0, 0, 0, 1, 9,
                0, 0, 0, 0, 1, 2,
                0, 0, 0, 0, 1, 2};
        float[] heat = new float[h * w];
        for (int p = 0; p < heat.length; p++) heat[p] = p;
        float[] prob = new float[c * h * w];
        for (int p = 0; p < h * w; p++) {
            prob[pred[p] * h * w + p] = 0.75f;
            prob[((pred[p] + 1) % c) * h * w + p] = 0.25f;
        }
        double[][] expected = {
                // class, S, S_in, S_bd, S/S_bd, S_in/S_bd, row, col
                {0, 18, 4, 14, 18.0 / 14, 4.0 / 14, 32.0 / 18, 29.0 / 18,
                        // E, E_in, E_bd, E_rel, E_rel_in
                        221.0 / 18, 42.0 / 4, 179.0 / 14, 221.0 / 18 * (18.0 / 14), 10.5 * (4.0 / 14),
                        0.75, 0.25, 0, 0.8},
                {1, 7, 0, 7, 1, 0, 11.0 / 7, 30.0 / 7,
                        (4 + 5 + 10 + 11 + 16 + 22 + 28) / 7.0, 0, 96.0 / 7, 96.0 / 7, 0,
                        0, 0.75, 0.25, 7.0 / 9},
                {2, 3, 0, 3, 1, 0, 3, 5, (17 + 23 + 29) / 3.0, 0, 23, 23, 0, 0.25, 0, 0.75, 1},
                {1, 2, 0, 2, 1, 0, 4, 0.5, 24.5, 0, 24.5, 24.5, 0, 0, 0.75, 0.25, 0}};
        assertArrayEquals(new int[] {
                0, 0, 0, 0, 1, 1,
                0, 0, 0, 0, 1, 1,
                0, 0, 0, 0, 1, 2,
                0, 0, 0, 0, 1, 2,
                3, 3, 0, 0, 1, 2}, SegmentReference.label(pred, h, w));
        double[][] ref = SegmentReference.compute(pred, h, w, c, new float[][] {heat},
                new float[][] {Arrays.copyOfRange(prob, 0, 30), Arrays.copyOfRange(prob, 30, 60), Arrays.copyOfRange(prob, 60, 90)},
                labels);
        assertRows(expected, ref, "reference, hand-worked");
        try (Arena arena = Arena.ofConfined(); NativeSegments nat = new NativeSegments()) {
            assertEquals(4, nat.compute(segment(arena, pred), h, w, c, heat, 1, prob, labels));
            assertArrayEquals(SegmentReference.label(pred, h, w), nat.copySegmentIds());
            assertRows(expected, rows(nat), "native, hand-worked");
            // without probabilities and labels: NaN there, the rest unchanged
            nat.compute(segment(arena, pred), h, w, c, heat, 1, null, null);
            for (int s = 0; s < 4; s++) {
                for (int col = 0; col < 13; col++) assertEquals(expected[s][col], nat.value(s, col), 1e-12);
                for (int col = 13; col < 17; col++) assertTrue(Double.isNaN(nat.value(s, col)), "column " + col);
            }
            // every label ignore: IoU_adj NaN
            int[] ignore = new int[h * w];
            Arrays.fill(ignore, -1);
            nat.compute(segment(arena, pred), h, w, c, heat, 1, prob, ignore);
            for (int s = 0; s < 4; s++) assertTrue(Double.isNaN(nat.value(s, SegmentFeatures.iouAdj(1, c))));
        }
    }

    /**
     * An object split into two predicted segments of its class. H = 4, W = 8, C = 2; ground truth
     * class 1 on rows 1..2, columns 1..6 (12 pixels), the rest 0; predicted class 1 on rows 1..2,
     * columns 1..2 (segment 1) and 5..6 (segment 2), the rest 0 (segment 0, one ring through the
     * missed columns 3..4). Each part: I = 4; the missed middle (4 pixels labelled 1, predicted 0)
     * touches it, the other part is predicted class 1 and is left out: U = 4 + 4, IoU_adj = 0.5
     * (the plain IoU of either part with the object would be 4 / 12). Segment 0: I = 32 - 12 +
     * 4 = 20 (its pixels labelled 0: all but the missed middle), U = its 24 pixels + 0 (no pixel
     * labelled 0 is predicted 1), 20/24.
     */
    @Test
    void splitObjectIsNotPunishedPerPart() {
        int h = 4, w = 8, c = 2;
        int[] pred = new int[h * w], labels = new int[h * w];
        for (int y = 1; y <= 2; y++) {
            for (int x = 1; x <= 6; x++) {
                labels[y * w + x] = 1;
                if (x <= 2 || x >= 5) pred[y * w + x] = 1;
            }
        }
        try (Arena arena = Arena.ofConfined(); NativeSegments nat = new NativeSegments()) {
            assertEquals(3, nat.compute(segment(arena, pred), h, w, c, null, 0, null, labels));
            int iou = SegmentFeatures.iouAdj(0, c);
            assertEquals(20.0 / 24, nat.value(0, iou));
            assertEquals(0.5, nat.value(1, iou));
            assertEquals(0.5, nat.value(2, iou));
            double[][] ref = SegmentReference.compute(pred, h, w, c, new float[0][], null, labels);
            assertRows(ref, rows(nat), "split object");
        }
    }

    /**
     * MetaSeg follows the ground truth only through pixels not predicted as the segment's class:
     * H = 3, W = 7, C = 2, ground truth class 1 on row 1, columns 0..5; predicted class 1 on row
     * 1, columns 0..1 (segment 1) and 3..4 (segment 2). Segment 1: I = 2; the missed pixel (1,2)
     * touches it, the missed (1,5) is reached only through segment 2: U = 2 + 1, IoU_adj = 2/3
     * (the "GT component minus other class-1 segments" reading would give 2/4). Segment 2: both
     * missed pixels touch it: 2/4.
     */
    @Test
    void groundTruthIsFollowedOnlyOutsideThePrediction() {
        int h = 3, w = 7, c = 2;
        int[] pred = new int[h * w], labels = new int[h * w];
        for (int x = 0; x <= 5; x++) labels[w + x] = 1;
        for (int x : new int[] {0, 1, 3, 4}) pred[w + x] = 1;
        try (Arena arena = Arena.ofConfined(); NativeSegments nat = new NativeSegments()) {
            assertEquals(3, nat.compute(segment(arena, pred), h, w, c, null, 0, null, labels));
            int iou = SegmentFeatures.iouAdj(0, c);
            // segment 0 (class 0, 17 pixels): labelled 0 all but (1,2) and (1,5): I = 15, nothing labelled 0 is predicted 1
            assertEquals(15.0 / 17, nat.value(0, iou));
            assertEquals(2.0 / 3, nat.value(1, iou));
            assertEquals(0.5, nat.value(2, iou));
            assertRows(SegmentReference.compute(pred, h, w, c, new float[0][], null, labels), rows(nat), "outside prediction");
        }
    }

    @Test
    void columnNamesMatchTheLayout() {
        List<String> names = SegmentFeatures.columnNames(List.of("mdsa", "entropy"), List.of("Sky", "Road", "Car"));
        assertEquals(SegmentFeatures.columns(2, 3), names.size());
        assertEquals(List.of("class", "size", "size_in", "size_bd", "size_rel", "size_rel_in", "row", "col",
                "mdsa", "mdsa_in", "mdsa_bd", "mdsa_rel", "mdsa_rel_in",
                "entropy", "entropy_in", "entropy_bd", "entropy_rel", "entropy_rel_in",
                "prob_Sky", "prob_Road", "prob_Car", "iou_adj"), names);
        assertEquals("entropy_bd", names.get(SegmentFeatures.heat(1, SegmentFeatures.MEAN_BD)));
        assertEquals("prob_Road", names.get(SegmentFeatures.probability(2, 1)));
        assertEquals("iou_adj", names.get(SegmentFeatures.iouAdj(2, 3)));
    }

    // ------------------------------------------------------------------ bad input

    @Test
    void badInputGivesTheNativeMessage() {
        int h = 3, w = 4, c = 3;
        int[] pred = new int[h * w];
        pred[5] = 3;
        try (Arena arena = Arena.ofConfined(); NativeSegments nat = new NativeSegments()) {
            SegsaException e = assertThrows(SegsaException.class,
                    () -> nat.compute(segment(arena, pred), h, w, c, null, 0, null, null));
            assertEquals(NativeLibrary.ERR_INVALID_ARGUMENT, e.code());
            assertTrue(e.getMessage().contains("pixel 5 (row 1, column 1) has predicted class 3, outside [0, 3)"), e.getMessage());
            pred[5] = -2;
            e = assertThrows(SegsaException.class, () -> nat.compute(segment(arena, pred), h, w, c, null, 0, null, null));
            assertTrue(e.getMessage().contains("pixel 5 (row 1, column 1) has predicted class -2"), e.getMessage());
            pred[5] = 1;
            assertEquals(2, nat.compute(segment(arena, pred), h, w, c, null, 0, null, null));
        }
        // the raw ABI: capacity below the segment count, an id out of range, a short workspace
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = segment(arena, pred);
            MemorySegment bytes = arena.allocate(ValueLayout.JAVA_LONG);
            NativeLibrary.check(invokeInt(() -> (int) NativeLibrary.Cpu.SEGMENTS_WORKSPACE_BYTES.invokeExact(h, w, bytes)), "ws");
            long wsBytes = bytes.get(ValueLayout.JAVA_LONG, 0);
            MemorySegment ws = arena.allocate(wsBytes, 64);
            MemorySegment ids = arena.allocate(4L * h * w, 64);
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            NativeLibrary.check(invokeInt(() -> (int) NativeLibrary.Cpu.SEGMENTS_LABEL.invokeExact(p, h, w, c, ws, wsBytes, ids, count)),
                    "segsa_segments_label");
            int n = count.get(ValueLayout.JAVA_INT, 0);
            assertEquals(2, n);
            int f = SegmentFeatures.columns(0, c);
            MemorySegment out = arena.allocate(8L * n * f, 64);
            int st = invokeInt(() -> (int) NativeLibrary.Cpu.SEGMENTS_FEATURES.invokeExact(p, ids, n, h, w, c, MemorySegment.NULL, 0,
                    MemorySegment.NULL, MemorySegment.NULL, ws, wsBytes, out, (long) n - 1));
            assertEquals(NativeLibrary.ERR_BUFFER_TOO_SMALL, st);
            SegsaException e = assertThrows(SegsaException.class, () -> NativeLibrary.check(st, "segsa_segments_features"));
            assertTrue(e.getMessage().contains("out holds 1 rows, 2 segments"), e.getMessage());
            int st2 = invokeInt(() -> (int) NativeLibrary.Cpu.SEGMENTS_FEATURES.invokeExact(p, ids, n, h, w, c, MemorySegment.NULL, 0,
                    MemorySegment.NULL, MemorySegment.NULL, ws, wsBytes - 100, out, (long) n));
            assertEquals(NativeLibrary.ERR_WORKSPACE_TOO_SMALL, st2);
            ids.setAtIndex(ValueLayout.JAVA_INT, 7, 2);
            int st3 = invokeInt(() -> (int) NativeLibrary.Cpu.SEGMENTS_FEATURES.invokeExact(p, ids, n, h, w, c, MemorySegment.NULL, 0,
                    MemorySegment.NULL, MemorySegment.NULL, ws, wsBytes, out, (long) n));
            assertEquals(NativeLibrary.ERR_INVALID_ARGUMENT, st3);
            e = assertThrows(SegsaException.class, () -> NativeLibrary.check(st3, "segsa_segments_features"));
            assertTrue(e.getMessage().contains("pixel 7 (row 1, column 3) has segment id 2, outside [0, 2)"), e.getMessage());
        }
    }

    // ------------------------------------------------------------------ random maps against the reference

    @Test
    void randomMapsMatchTheReference() {
        int[][] sizes = {{1, 1}, {1, 37}, {41, 1}, {2, 2}, {3, 5}, {7, 9}, {16, 16}, {33, 47}, {64, 80}, {90, 120}};
        String[] kinds = {"blobs", "one-class", "tiles", "stripes", "noise"};
        try (Arena arena = Arena.ofConfined(); NativeSegments nat = new NativeSegments()) {
            int seed = 0;
            for (int[] size : sizes) {
                for (String kind : kinds) {
                    seed++;
                    SplittableRandom r = new SplittableRandom(1000 + seed);
                    int h = size[0], w = size[1];
                    int c = kind.equals("tiles") ? 4 + r.nextInt(3) : 2 + r.nextInt(11);
                    int k = r.nextInt(4);
                    int[] pred = predicted(kind, h, w, c, r);
                    float[][] heat = new float[k][h * w];
                    for (float[] m : heat) for (int p = 0; p < m.length; p++) m[p] = (float) (r.nextDouble() * 10);
                    if (seed % 7 == 0 && k > 0) heat[0][r.nextInt(h * w)] = Float.NaN;
                    float[][] prob = seed % 5 == 1 ? null : probabilities(c, h * w, r);
                    int[] labels = seed % 6 == 2 ? null : labels(pred, c, r);
                    check(nat, arena, kind + " " + h + "x" + w + " C=" + c + " K=" + k + " seed " + seed, pred, h, w, c, heat, prob, labels);
                }
            }
        }
    }

    /** The tile pattern puts every pixel in its own segment: H*W segments, the worst case. */
    @Test
    void everyPixelItsOwnSegment() {
        int h = 57, w = 63, c = 4;
        int[] pred = predicted("tiles", h, w, c, new SplittableRandom(3));
        SplittableRandom r = new SplittableRandom(4);
        try (Arena arena = Arena.ofConfined(); NativeSegments nat = new NativeSegments()) {
            float[][] heat = {new float[h * w]};
            for (int p = 0; p < h * w; p++) heat[0][p] = (float) r.nextDouble();
            check(nat, arena, "tiles", pred, h, w, c, heat, probabilities(c, h * w, r), labels(pred, c, r));
            assertEquals(h * w, nat.count());
            // a smaller frame after it reuses the buffers
            check(nat, arena, "tiles small", predicted("blobs", 20, 30, c, r), 20, 30, c, heat(1, 600, r), null, null);
        }
    }

    /** Results do not depend on the kernel thread count (the segment code runs on the calling thread). */
    @Test
    void independentOfThreadCount() {
        int h = 90, w = 120, c = 8;
        SplittableRandom r = new SplittableRandom(77);
        int[] pred = predicted("blobs", h, w, c, r);
        float[][] heat = heat(2, h * w, r);
        float[][] prob = probabilities(c, h * w, r);
        int[] labels = labels(pred, c, r);
        double[] first = null;
        try (Arena arena = Arena.ofConfined(); NativeSegments nat = new NativeSegments()) {
            for (int threads : new int[] {1, 2, 7}) {
                Backends.setKernelThreads(threads);
                nat.compute(segment(arena, pred), h, w, c, flat(heat), 2, flat(prob), labels);
                double[] rows = nat.copyRows();
                if (first == null) first = rows;
                else assertArrayEquals(first, rows, 0.0, "threads " + threads);
            }
        } finally {
            Backends.setKernelThreads(0);
        }
    }

    // ------------------------------------------------------------------ a real map

    /**
     * A CamVid val label mask as the predicted map (C = 12: the 11 classes and Unlabelled), the
     * mask shifted by (2 rows, 3 columns) as labels (Unlabelled and the uncovered margin as
     * ignore), 3 random heat maps and random probabilities: native = reference. Prints the native
     * time per frame (one core) with and without labels.
     */
    @Test
    void realCamVidMask() throws Exception {
        Path camvid = Path.of(System.getProperty("segsa.camvid", "../shared/data/camvid"));
        assumeTrue(Files.isDirectory(camvid.resolve("valannot")), "CamVid not found at " + camvid);
        List<Path> masks;
        try (Stream<Path> s = Files.list(camvid.resolve("valannot"))) {
            masks = s.filter(p -> p.toString().endsWith(".png")).sorted().limit(3).toList();
        }
        assumeTrue(!masks.isEmpty(), "no masks in " + camvid.resolve("valannot"));
        int c = 12, k = 3;
        SplittableRandom r = new SplittableRandom(11);
        try (Arena arena = Arena.ofConfined(); NativeSegments nat = new NativeSegments()) {
            for (Path file : masks) {
                BufferedImage img = ImageIO.read(file.toFile());
                int h = img.getHeight(), w = img.getWidth();
                int[] pred = img.getRaster().getSamples(0, 0, w, h, 0, (int[]) null);
                int[] labels = new int[h * w];
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int v = y >= 2 && x >= 3 ? pred[(y - 2) * w + x - 3] : 255;
                        labels[y * w + x] = v == 11 ? 255 : v;
                    }
                }
                float[][] heat = heat(k, h * w, r);
                float[][] prob = probabilities(c, h * w, r);
                check(nat, arena, file.getFileName().toString(), pred, h, w, c, heat, prob, labels);
                int iouCol = SegmentFeatures.iouAdj(k, c);
                int zero = 0;
                for (int s = 0; s < nat.count(); s++) if (nat.value(s, iouCol) == 0) zero++;
                System.err.printf("segments %s (%dx%d): %d segments, %d with IoU_adj = 0%n", file.getFileName(), w, h, nat.count(), zero);

                MemorySegment p = segment(arena, pred);
                float[] heatFlat = flat(heat), probFlat = flat(prob);
                Backends.setKernelThreads(1);
                double withoutLabels = time(() -> nat.compute(p, h, w, c, heatFlat, k, probFlat, null));
                double withLabels = time(() -> nat.compute(p, h, w, c, heatFlat, k, probFlat, labels));
                double labelOnly = time(() -> nat.compute(p, h, w, c, null, 0, null, null));
                Backends.setKernelThreads(0);
                System.err.printf("segments native timing %s: label + features (K=%d, C=%d, probabilities) %.3f ms, "
                                + "+ IoU_adj %.3f ms, label + sizes only %.3f ms (median of 200)%n",
                        file.getFileName(), k, c, withoutLabels, withLabels, labelOnly);
            }
        } finally {
            Backends.setKernelThreads(0);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static double time(Runnable run) {
        for (int i = 0; i < 50; i++) run.run();
        double[] t = new double[200];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            run.run();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }

    private static void check(NativeSegments nat, Arena arena, String what, int[] pred, int h, int w, int c, float[][] heat,
                              float[][] prob, int[] labels) {
        int[] ids = SegmentReference.label(pred, h, w);
        double[][] ref = SegmentReference.compute(pred, h, w, c, heat, prob, labels);
        int n = nat.compute(segment(arena, pred), h, w, c, flat(heat), heat.length, prob == null ? null : flat(prob), labels);
        assertEquals(ref.length, n, what + ": segment count");
        assertArrayEquals(ids, nat.copySegmentIds(), what + ": segment ids");
        assertEquals(SegmentFeatures.columns(heat.length, c), nat.columns(), what + ": columns");
        assertRows(ref, rows(nat), what);
    }

    private static double[][] rows(NativeSegments nat) {
        double[][] rows = new double[nat.count()][nat.columns()];
        for (int s = 0; s < rows.length; s++) nat.copyRow(s, rows[s], 0);
        return rows;
    }

    /** Exact for the counts, positions and IoU_adj; 1e-9 relative for the heat-map and probability means. */
    private static void assertRows(double[][] expected, double[][] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": rows");
        for (int s = 0; s < expected.length; s++) {
            int f = expected[s].length;
            assertEquals(f, actual[s].length, what + ": columns");
            for (int col = 0; col < f; col++) {
                double e = expected[s][col], a = actual[s][col];
                boolean exact = col < SegmentFeatures.HEAT || col == f - 1;
                String m = what + ": segment " + s + " column " + col + " expected " + e + " got " + a;
                if (Double.isNaN(e) || Double.isNaN(a)) {
                    assertTrue(Double.isNaN(e) && Double.isNaN(a), m);
                } else if (exact) {
                    assertEquals(e, a, 0.0, m);
                } else {
                    assertEquals(e, a, REL * Math.max(1.0, Math.abs(e)), m);
                }
            }
        }
    }

    private static int[] predicted(String kind, int h, int w, int c, SplittableRandom r) {
        int[] pred = new int[h * w];
        switch (kind) {
            case "one-class" -> Arrays.fill(pred, r.nextInt(c));
            // classes on a 2x2 tiling: equal classes two pixels apart, never 8-adjacent
            case "tiles" -> {
                for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) pred[y * w + x] = ((y & 1) << 1) | (x & 1);
            }
            case "stripes" -> {
                int width = 1 + r.nextInt(3);
                for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) pred[y * w + x] = ((x + y / 2) / width) % c;
            }
            case "noise" -> {
                for (int p = 0; p < pred.length; p++) pred[p] = r.nextInt(c);
            }
            default -> {
                // blobs: a coarse random grid, upsampled, with 4% of the pixels flipped
                int cell = 1 + r.nextInt(8);
                int gh = (h + cell - 1) / cell, gw = (w + cell - 1) / cell;
                int[] grid = new int[gh * gw];
                for (int i = 0; i < grid.length; i++) grid[i] = r.nextInt(c);
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        pred[y * w + x] = r.nextInt(25) == 0 ? r.nextInt(c) : grid[(y / cell) * gw + x / cell];
                    }
                }
            }
        }
        return pred;
    }

    /** The prediction with 25% of the pixels relabelled: a random class, or an ignore value (-1, C, 255). */
    private static int[] labels(int[] pred, int c, SplittableRandom r) {
        int[] labels = pred.clone();
        for (int p = 0; p < labels.length; p++) {
            int u = r.nextInt(20);
            if (u < 4) labels[p] = r.nextInt(c);
            else if (u == 4) labels[p] = new int[] {-1, c, 255}[r.nextInt(3)];
        }
        return labels;
    }

    private static float[][] heat(int k, int n, SplittableRandom r) {
        float[][] heat = new float[k][n];
        for (float[] m : heat) for (int p = 0; p < n; p++) m[p] = (float) (r.nextDouble() * 5);
        return heat;
    }

    private static float[][] probabilities(int c, int n, SplittableRandom r) {
        float[][] prob = new float[c][n];
        for (int p = 0; p < n; p++) {
            double sum = 0;
            double[] v = new double[c];
            for (int i = 0; i < c; i++) sum += v[i] = r.nextDouble();
            for (int i = 0; i < c; i++) prob[i][p] = (float) (v[i] / sum);
        }
        return prob;
    }

    private static float[] flat(float[][] maps) {
        int n = maps.length == 0 ? 0 : maps[0].length;
        float[] out = new float[maps.length * n];
        for (int i = 0; i < maps.length; i++) System.arraycopy(maps[i], 0, out, i * n, n);
        return out;
    }

    private static MemorySegment segment(Arena arena, int[] values) {
        MemorySegment s = arena.allocate(4L * Math.max(1, values.length), 64);
        MemorySegment.copy(values, 0, s, ValueLayout.JAVA_INT, 0, values.length);
        return s;
    }

    @FunctionalInterface
    private interface IntCall {
        int call() throws Throwable;
    }

    private static int invokeInt(IntCall call) {
        try {
            return call.call();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
