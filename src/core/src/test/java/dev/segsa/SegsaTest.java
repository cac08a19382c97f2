package dev.segsa;

import dev.segsa.error.SegsaException;
import dev.segsa.features.PixelFormat;
import dev.segsa.model.TestModels;
import dev.segsa.samodel.SaModel;
import dev.segsa.score.FrameResult;
import dev.segsa.score.StageLatency;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The front door: one engine, frames in every form a recorder has, the per-class result, threads,
 * allocation and native memory in steady state, the LSA budget, and refusals. A small random
 * conv net (stride 8) fitted on the e2e fixture's training frames; frames are seeded noise and
 * blobs so that several classes are predicted.
 */
class SegsaTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path saFile;
    static Segsa engine;
    static final int W = 64, H = 48;

    @BeforeAll
    static void setUp() throws Exception {
        Path fixture = Path.of(SegsaTest.class.getResource("/e2e").toURI());
        model = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(model, 8, 4, 21);
        saFile = dir.resolve("net.sa");
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(500).seed(1).open()) {
            fit.addFolder(fixture.resolve("train/images"), fixture.resolve("train/labels"), 1, () -> {});
            dev.segsa.samodel.SaModelFile.write(fit.finish(), saFile);
        }
        engine = Segsa.builder(model, saFile).lsa(true).uncertainty(true).saThreshold(2.0).open();
    }

    @AfterAll
    static void tearDown() {
        if (engine != null) engine.close();
    }

    /** Seeded smooth blobs plus noise, as packed RGB bytes. */
    static byte[] frameRgb(long seed, int w, int h) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] px = new byte[w * h * 3];
        double[][] blobs = new double[4][5];
        for (double[] b : blobs) {
            b[0] = r.nextDouble(w); b[1] = r.nextDouble(h); b[2] = r.nextDouble(4, 16);
            b[3] = r.nextDouble(256); b[4] = r.nextDouble(256);
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double cr = 60, cg = 90, cb = 120;
                for (double[] b : blobs) {
                    double k = Math.exp(-((x - b[0]) * (x - b[0]) + (y - b[1]) * (y - b[1])) / (2 * b[2] * b[2]));
                    cr += k * (b[3] - cr); cg += k * (b[4] - cg); cb += k * (255 - b[3] - cb);
                }
                int i = 3 * (y * w + x);
                px[i] = (byte) clamp(cr + r.nextInt(-10, 11));
                px[i + 1] = (byte) clamp(cg + r.nextInt(-10, 11));
                px[i + 2] = (byte) clamp(cb + r.nextInt(-10, 11));
            }
        }
        return px;
    }

    static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }

    static BufferedImage image(byte[] rgb, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < w * h; i++) {
            img.setRGB(i % w, i / w, ((rgb[3 * i] & 0xff) << 16) | ((rgb[3 * i + 1] & 0xff) << 8) | (rgb[3 * i + 2] & 0xff));
        }
        return img;
    }

    static void assertSame(FrameResult a, FrameResult b) {
        assertArrayEquals(a.predictedPixels(), b.predictedPixels());
        assertArrayEquals(a.mdsaMean(), b.mdsaMean(), 0.0);
        assertArrayEquals(a.mdsaMax(), b.mdsaMax(), 0.0);
        assertArrayEquals(a.mdsaP95(), b.mdsaP95(), 0.0);
        assertArrayEquals(a.shareAboveThreshold(), b.shareAboveThreshold(), 0.0);
        assertEquals(a.lsa(), b.lsa());
        if (a.lsaMean() != null) assertArrayEquals(a.lsaMean(), b.lsaMean(), 0.0);
        for (int m = 0; a.uncertainty() != null && m < a.uncertainty().length; m++) {
            assertArrayEquals(a.uncertainty()[m], b.uncertainty()[m], 0.0);
        }
        assertArrayEquals(a.copyMdsaMap(), b.copyMdsaMap(), 0.0f);
        assertArrayEquals(a.copyPredictedMap(), b.copyPredictedMap());
    }

    /** One frame, every form: BufferedImage, RGB, BGR, BGRA with a padded stride, a heap ByteBuffer, normalised CHW. */
    @Test
    void everyFrameFormGivesTheSameResult() {
        byte[] rgb = frameRgb(5, W, H);
        FrameResult fromImage = engine.score(image(rgb, W, H), "img");
        FrameResult r = engine.score(MemorySegment.ofArray(rgb), W, H, 3L * W, PixelFormat.RGB, "rgb");
        assertSame(fromImage, r);
        int stride = 4 * W + 12;
        byte[] bgr = new byte[3 * W * H];
        byte[] bgra = new byte[stride * H];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                int i = 3 * (y * W + x), o = y * stride + 4 * x;
                bgr[i] = rgb[i + 2]; bgr[i + 1] = rgb[i + 1]; bgr[i + 2] = rgb[i];
                bgra[o] = rgb[i + 2]; bgra[o + 1] = rgb[i + 1]; bgra[o + 2] = rgb[i]; bgra[o + 3] = (byte) 0x7f;
            }
        }
        assertSame(fromImage, engine.score(MemorySegment.ofArray(bgr), W, H, 3L * W, PixelFormat.BGR, "bgr"));
        assertSame(fromImage, engine.score(ByteBuffer.wrap(bgra), W, H, stride, PixelFormat.BGRA, "bgra"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nativeRgb = arena.allocate(rgb.length);
            MemorySegment.copy(rgb, 0, nativeRgb, ValueLayout.JAVA_BYTE, 0, rgb.length);
            assertSame(fromImage, engine.score(nativeRgb, W, H, 3L * W, PixelFormat.RGB, "native"));
        }
        double[] mean = engine.saModel().settings().mean(), std = engine.saModel().settings().std();
        float[] chw = new float[3 * W * H];
        for (int i = 0; i < W * H; i++) {
            for (int c = 0; c < 3; c++) chw[c * W * H + i] = (float) (((rgb[3 * i + c] & 0xff) / 255.0 - mean[c]) / std[c]);
        }
        assertSame(fromImage, engine.scoreNormalized(chw, W, H, "chw"));
    }

    /** The per-class summaries against the per-pixel map, computed here independently (sort, numpy's linear percentile). */
    @Test
    void perClassSummariesMatchTheMap() {
        FrameResult r = engine.score(MemorySegment.ofArray(frameRgb(8, W, H)), W, H, 3L * W, PixelFormat.RGB, "f");
        assertEquals(FrameResult.LsaState.COMPUTED, r.lsa());
        float[] map = r.copyMdsaMap();
        int[] pred = r.copyPredictedMap();
        int present = 0;
        for (int c = 0; c < r.classes(); c++) {
            List<Double> v = new ArrayList<>();
            for (int i = 0; i < map.length; i++) if (pred[i] == c && !Float.isNaN(map[i])) v.add((double) map[i]);
            int cls = c;
            long predicted = Arrays.stream(pred).filter(p -> p == cls).count();
            assertEquals(predicted, r.predictedPixels()[c], "pixels of class " + c);
            if (v.isEmpty()) {
                assertTrue(Double.isNaN(r.mdsaMean()[c]) && Double.isNaN(r.mdsaMax()[c]) && Double.isNaN(r.mdsaP95()[c]));
                continue;
            }
            present++;
            double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double mean = Arrays.stream(s).sum() / s.length;
            double pos = 0.95 * (s.length - 1);
            int k = (int) Math.floor(pos);
            double p95 = k + 1 < s.length ? s[k] + (pos - k) * (s[k + 1] - s[k]) : s[k];
            long above = Arrays.stream(s).filter(x -> x > 2.0).count();
            assertEquals(mean, r.mdsaMean()[c], 1e-5 * Math.max(1, mean), "mean of class " + c);
            assertEquals(s[s.length - 1], r.mdsaMax()[c], 0.0, "max of class " + c);
            assertEquals(p95, r.mdsaP95()[c], 1e-9 * Math.max(1, p95), "p95 of class " + c);
            assertEquals((double) above / s.length, r.shareAboveThreshold()[c], 0.0, "share of class " + c);
            assertEquals(predicted, s.length, "every predicted pixel of a fitted class is scored, class " + c);
        }
        assertTrue(present >= 2, "the frame should predict at least two classes, got " + present);
        assertTrue(r.mdsaMap().isReadOnly());
        assertThrows(java.nio.ReadOnlyBufferException.class, () -> r.mdsaMap().put(0, 1f));
    }

    /** One engine shared by four threads gives byte-identical results to one thread, frame by frame. */
    @Test
    void sharedByFourThreadsSameAsOne() throws Exception {
        int frames = 24;
        List<byte[]> px = new ArrayList<>();
        for (int i = 0; i < frames; i++) px.add(frameRgb(100 + i, W, H));
        List<FrameResult> serial = new ArrayList<>();
        List<float[]> serialMaps = new ArrayList<>();
        for (int i = 0; i < frames; i++) {
            FrameResult r = engine.score(MemorySegment.ofArray(px.get(i)), W, H, 3L * W, PixelFormat.RGB, "f" + i);
            serial.add(r);
            serialMaps.add(r.copyMdsaMap());
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<Object[]>>> parts = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int first = t;
                parts.add(pool.submit(() -> {
                    List<Object[]> out = new ArrayList<>();
                    // each thread scores every 4th frame, twice round
                    for (int round = 0; round < 2; round++) {
                        for (int i = first; i < frames; i += 4) {
                            FrameResult r = engine.score(MemorySegment.ofArray(px.get(i)), W, H, 3L * W, PixelFormat.RGB, "f" + i);
                            out.add(new Object[] {i, r, r.copyMdsaMap()});
                        }
                    }
                    return out;
                }));
            }
            int checked = 0;
            for (Future<List<Object[]>> f : parts) {
                for (Object[] o : f.get()) {
                    int i = (Integer) o[0];
                    FrameResult a = serial.get(i), b = (FrameResult) o[1];
                    assertArrayEquals(a.mdsaMean(), b.mdsaMean(), 0.0, "frame " + i);
                    assertArrayEquals(a.mdsaP95(), b.mdsaP95(), 0.0, "frame " + i);
                    assertArrayEquals(a.lsaMean(), b.lsaMean(), 0.0, "frame " + i);
                    assertArrayEquals(a.uncertainty()[0], b.uncertainty()[0], 0.0, "frame " + i);
                    assertArrayEquals(serialMaps.get(i), (float[]) o[2], 0.0f, "map of frame " + i);
                    checked++;
                }
            }
            assertEquals(2 * frames, checked);
        } finally {
            pool.shutdown();
        }
        StageLatency l = engine.latency();
        assertTrue(l.stages().stream().anyMatch(s -> s.name().equals(StageLatency.FRAME) && s.count() >= 3L * frames));
    }

    /**
     * Steady state: after warm-up the scoring thread allocates at most 24 KiB per frame on the Java
     * heap (the result's per-class arrays and LibTorch's Java wrappers; the frame itself is
     * 64 x 48 x 3 floats = 36 KiB of input and 12 KiB of map, none of it allocated), and the
     * process's resident memory stays flat over 2,000 frames.
     */
    @Test
    void steadyStateAllocatesLittleAndNativeMemoryStaysFlat() throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Segsa mdsaOnly = Segsa.builder(model, saFile).saThreshold(2.0).open()) {
            MemorySegment frame = MemorySegment.ofArray(frameRgb(9, W, H));
            for (int i = 0; i < 300; i++) mdsaOnly.score(frame, W, H, 3L * W, PixelFormat.RGB, "warm");
            long tid = Thread.currentThread().threadId();
            System.gc();
            long rss0 = residentBytes();
            long javacpp0 = org.bytedeco.javacpp.Pointer.totalBytes();
            long before = mx.getThreadAllocatedBytes(tid);
            int n = 2000;
            for (int i = 0; i < n; i++) mdsaOnly.score(frame, W, H, 3L * W, PixelFormat.RGB, "steady");
            long perFrame = (mx.getThreadAllocatedBytes(tid) - before) / n;
            System.gc();
            long rss1 = residentBytes();
            long javacpp1 = org.bytedeco.javacpp.Pointer.totalBytes();
            System.out.println("front door steady state: " + perFrame + " bytes allocated per frame on the scoring thread; RSS "
                    + rss0 / 1024 + " KiB -> " + rss1 / 1024 + " KiB, JavaCPP native " + javacpp0 + " -> " + javacpp1 + " bytes over "
                    + n + " frames");
            assertTrue(perFrame <= 24 * 1024, perFrame + " bytes per frame");
            // one leaked output tensor per frame would be >= 60 KB a frame here, 120 MB over the run
            assertTrue(rss1 - rss0 < 32L * 1024 * 1024, "RSS grew by " + (rss1 - rss0) / 1024 + " KiB over " + n + " frames");
            assertTrue(javacpp1 - javacpp0 < 1024 * 1024, "JavaCPP native memory grew by " + (javacpp1 - javacpp0) + " bytes");
        }
    }

    static long residentBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
        throw new IllegalStateException("no VmRSS");
    }

    @Test
    void lsaBudgetGivesMdsaOnlyFramesThatSayso() {
        try (Segsa budgeted = Segsa.builder(model, saFile).lsa(true).lsaBudget(Duration.ofNanos(1)).open()) {
            MemorySegment frame = MemorySegment.ofArray(frameRgb(10, W, H));
            FrameResult first = budgeted.score(frame, W, H, 3L * W, PixelFormat.RGB, "first");
            assertEquals(FrameResult.LsaState.COMPUTED, first.lsa(), "no estimate yet: LSA runs and is timed");
            FrameResult second = budgeted.score(frame, W, H, 3L * W, PixelFormat.RGB, "second");
            assertEquals(FrameResult.LsaState.SKIPPED_FOR_BUDGET, second.lsa());
            assertNull(second.lsaMean());
            assertArrayEquals(first.mdsaMean(), second.mdsaMean(), 0.0, "MDSA is still computed");
            // LSA is its own stage: timed on the frame that got it, absent from the one that did not
            FrameResult.StageTimes t1 = first.timings(), t2 = second.timings();
            assertTrue(t1.lsaNanos() > 0, t1.toString());
            assertEquals(0, t2.lsaNanos(), t2.toString());
            assertEquals(t1.decodeNanos() + t1.forwardNanos() + t1.postForwardNanos() + t1.saNanos() + t1.lsaNanos(), t1.totalNanos());
            StageLatency.Stage lsa = budgeted.latency().stages().stream().filter(st -> st.name().equals(StageLatency.LSA))
                    .findFirst().orElseThrow();
            assertEquals(1, lsa.count(), "one frame got LSA");
        }
    }

    @Test
    void refusesBadFramesWithTheirName() {
        byte[] rgb = frameRgb(1, W, H);
        SegsaException short_ = assertThrows(SegsaException.class,
                () -> engine.score(MemorySegment.ofArray(Arrays.copyOf(rgb, rgb.length - 1)), W, H, 3L * W, PixelFormat.RGB, "cam0/17"));
        assertTrue(short_.getMessage().startsWith("cam0/17: pixel buffer holds"), short_.getMessage());
        SegsaException stride = assertThrows(SegsaException.class,
                () -> engine.score(MemorySegment.ofArray(rgb), W, H, 3L * W - 1, PixelFormat.RGB, "cam0/18"));
        assertTrue(stride.getMessage().contains("row stride"), stride.getMessage());
        SegsaException huge = assertThrows(SegsaException.class,
                () -> engine.score(MemorySegment.ofArray(rgb), 100_000, 100_000, 300_000L, PixelFormat.RGB, "cam0/19"));
        assertTrue(huge.getMessage().contains("outside 1..16384"), huge.getMessage());
    }

    @Test
    void refusesAnotherModelUnlessAllowed() throws Exception {
        Path other = dir.resolve("other.pt");
        TestModels.saveRandomConvNet(other, 8, 4, 22);
        SegsaException e = assertThrows(SegsaException.class, () -> Segsa.open(other, saFile));
        assertTrue(e.getMessage().contains("fitted with model net.pt"), e.getMessage());
        try (Segsa s = Segsa.builder(other, saFile).allowModelMismatch(true).open()) {
            assertEquals(4, s.score(MemorySegment.ofArray(frameRgb(2, W, H)), W, H, 3L * W, PixelFormat.RGB, "x").classes());
        }
    }

    @Test
    void closeIsIdempotentAndScoringAfterCloseIsRefused() {
        Segsa s = Segsa.open(model, saFile);
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, () -> s.score(image(frameRgb(3, W, H), W, H)));
    }

    @Test
    void lsaNeedsReferences() throws Exception {
        Path noRefs = dir.resolve("norefs.sa");
        Path fixture = Path.of(SegsaTest.class.getResource("/e2e").toURI());
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open()) {
            fit.addFolder(fixture.resolve("train/images"), fixture.resolve("train/labels"), 0, () -> {});
            SaModel sa = fit.finish();
            assertNull(sa.references());
            dev.segsa.samodel.SaModelFile.write(sa, noRefs);
        }
        SegsaException e = assertThrows(SegsaException.class, () -> Segsa.builder(model, noRefs).lsa(true).open());
        assertTrue(e.getMessage().contains("--lsa-references 0"), e.getMessage());
    }

    @Test
    void aRawFrameIsCheckedBeforeAnythingIsAllocatedForIt() {
        // 16384 x 16384 RGB claimed over a 1 MiB buffer: refused by its length (and pixel limit), never an OutOfMemoryError
        ByteBuffer small = ByteBuffer.allocate(1 << 20);
        SegsaException e = assertThrows(SegsaException.class, () -> engine.score(small, 16384, 16384, 16384 * 3, PixelFormat.RGB, "huge"));
        assertEquals(SegsaException.Kind.FRAME, e.kind());
        assertTrue(e.getMessage().startsWith("huge: "), e.getMessage());
        // a stride whose product with the height overflows a long
        SegsaException o = assertThrows(SegsaException.class, () -> engine.score(java.lang.foreign.MemorySegment.ofArray(new byte[64]), 4, 4,
                Long.MAX_VALUE / 2, PixelFormat.RGB, "stride"));
        assertEquals(SegsaException.Kind.FRAME, o.kind());
        SegsaException n = assertThrows(SegsaException.class, () -> engine.scoreNormalized(new float[12], 16, 16, "chw"));
        assertTrue(n.getMessage().contains("normalised buffer holds 48 bytes"), n.getMessage());
    }
}
