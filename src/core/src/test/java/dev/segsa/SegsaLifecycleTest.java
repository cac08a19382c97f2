package dev.segsa;

import dev.segsa.error.SegsaException;
import dev.segsa.features.PixelFormat;
import dev.segsa.model.TestModels;
import dev.segsa.score.FrameResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The front door under misuse: failed frames leave the engine usable, close() while other threads
 * score never crashes the JVM (repeated), and threads that come and go do not pile up scorers.
 */
class SegsaLifecycleTest {
    @TempDir
    static Path dir;
    static Path model, saFile;
    static final int W = SegsaTest.W, H = SegsaTest.H;

    @BeforeAll
    static void setUp() throws Exception {
        Path fixture = Path.of(SegsaLifecycleTest.class.getResource("/e2e").toURI());
        model = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(model, 8, 4, 21);
        saFile = dir.resolve("net.sa");
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(200).seed(1).open()) {
            fit.addFolder(fixture.resolve("train/images"), fixture.resolve("train/labels"), 1, () -> {});
            dev.segsa.samodel.SaModelFile.write(fit.finish(), saFile);
        }
    }

    static FrameResult score(Segsa s, long seed) {
        return s.score(MemorySegment.ofArray(SegsaTest.frameRgb(seed, W, H)), W, H, 3L * W, PixelFormat.RGB, "f" + seed);
    }

    @Test
    void failedFramesLeaveTheEngineUsable() {
        try (Segsa s = Segsa.builder(model, saFile).uncertainty(true).open()) {
            FrameResult before = score(s, 7);
            float[] map = before.copyMdsaMap();
            double[] mean = before.mdsaMean().clone();
            byte[] rgb = SegsaTest.frameRgb(7, W, H);
            for (int i = 0; i < 3; i++) {
                assertThrows(SegsaException.class, () -> s.score(MemorySegment.ofArray(Arrays.copyOf(rgb, 10)), W, H, 3L * W, PixelFormat.RGB, "short"));
                assertThrows(SegsaException.class, () -> s.score(MemorySegment.ofArray(rgb), 100_000, 100_000, 300_000L, PixelFormat.RGB, "huge"));
                float[] nan = new float[3 * W * H];
                Arrays.fill(nan, Float.NaN);
                FrameResult r = s.scoreNormalized(nan, W, H, "nan");
                assertTrue(r.nonFiniteFeatures() > 0 || r.nonFiniteLogits() > 0, "a NaN frame is flagged, not scored");
            }
            FrameResult after = score(s, 7);
            assertArrayEquals(map, after.copyMdsaMap(), 0f, "the next frame scores exactly as before");
            assertArrayEquals(mean, after.mdsaMean(), 0.0);
        }
    }

    /** close() while three threads score: each thread's frames complete or fail with IllegalStateException; 25 repetitions. */
    @Test
    void closeWhileOthersScoreNeverCrashes() throws Exception {
        SplittableRandom random = new SplittableRandom(3);
        for (int rep = 0; rep < 25; rep++) {
            Segsa s = Segsa.open(model, saFile);
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            AtomicInteger frames = new AtomicInteger(), refused = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int id = t;
                threads.add(Thread.ofPlatform().start(() -> {
                    for (int i = 0; ; i++) {
                        try {
                            FrameResult r = score(s, id * 1000L + i);
                            assertEquals(4, r.classes());
                            frames.incrementAndGet();
                        } catch (IllegalStateException e) {
                            if (!e.getMessage().contains("closed")) unexpected.add(e);
                            refused.incrementAndGet();
                            return;
                        } catch (Throwable e) {
                            unexpected.add(e);
                            return;
                        }
                    }
                }));
            }
            Thread.sleep(random.nextInt(1, 40));
            s.close();
            for (Thread t : threads) t.join(30_000);
            assertTrue(unexpected.isEmpty(), "repetition " + rep + ": " + unexpected);
            assertEquals(3, refused.get(), "every thread ends on the closed engine");
            s.close();
        }
    }

    /** 60 threads that each score and end, then virtual threads 4 at a time: scorers are reused, not piled up; results identical. */
    @Test
    void threadsThatComeAndGoReuseScorers() throws Exception {
        try (Segsa s = Segsa.open(model, saFile)) {
            float[] reference = score(s, 11).copyMdsaMap();
            ConcurrentLinkedQueue<String> differences = new ConcurrentLinkedQueue<>();
            for (int i = 0; i < 60; i++) {
                Thread t = Thread.ofPlatform().start(() -> {
                    if (!Arrays.equals(reference, score(s, 11).copyMdsaMap())) differences.add(Thread.currentThread().getName());
                });
                t.join();
            }
            assertTrue(s.scorerCount() <= 1 + 1 + Segsa.SPARE_SCORERS, "scorers held: " + s.scorerCount());
            for (int round = 0; round < 10; round++) {
                List<Thread> batch = new ArrayList<>();
                for (int k = 0; k < 4; k++) {
                    batch.add(Thread.ofVirtual().start(() -> {
                        if (!Arrays.equals(reference, score(s, 11).copyMdsaMap())) differences.add("virtual");
                    }));
                }
                for (Thread t : batch) t.join();
            }
            assertTrue(differences.isEmpty(), "results differ on " + differences);
            assertTrue(s.scorerCount() <= 1 + 4 + Segsa.SPARE_SCORERS, "scorers held: " + s.scorerCount());
            long counted = s.latency().stages().stream().filter(x -> x.name().equals(dev.segsa.score.StageLatency.FRAME))
                    .mapToLong(dev.segsa.score.StageLatency.Stage::count).sum();
            assertEquals(1 + 60 + 40, counted, "the latency of retired scorers is kept");
        }
    }

    /** Errors a caller handles differently are told apart by kind (bad frame, bad model, bad SA file) or type (closed engine). */
    @Test
    void errorsSayWhatKindOfInputWasAtFault() throws Exception {
        Segsa s = Segsa.open(model, saFile);
        byte[] rgb = SegsaTest.frameRgb(1, W, H);
        SegsaException frame = assertThrows(SegsaException.class,
                () -> s.score(MemorySegment.ofArray(Arrays.copyOf(rgb, 10)), W, H, 3L * W, PixelFormat.RGB, "short"));
        assertEquals(SegsaException.Kind.FRAME, frame.kind());
        s.close();
        assertThrows(IllegalStateException.class, () -> score(s, 1));
        java.nio.file.Path notSa = dir.resolve("not.sa");
        java.nio.file.Files.writeString(notSa, "not an SA model");
        assertEquals(SegsaException.Kind.SA_FILE, assertThrows(SegsaException.class, () -> Segsa.open(model, notSa)).kind());
        java.nio.file.Path notModel = dir.resolve("not.pt");
        java.nio.file.Files.writeString(notModel, "not a model");
        assertEquals(SegsaException.Kind.MODEL, assertThrows(SegsaException.class,
                () -> Segsa.builder(notModel, saFile).allowModelMismatch(true).open()).kind());
    }
}
