package dev.segsa;

import dev.segsa.features.FrameReader;
import dev.segsa.kernel.Backends;
import dev.segsa.model.LibTorch;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The SA kernels and the fit give the same bits whatever the thread count: models/camvid.pt on
 * real CamVid frames (480x360, large enough that every kernel runs its parallel paths), fitted and
 * scored with 1, 2 and 7 threads. Class MDSA, class LSA, the per-pixel maps, the fitted moments and
 * the references must be identical, as must the SA files.
 */
class DeterminismTest {
    @TempDir
    static Path dir;

    @AfterAll
    static void restoreThreads() {
        Backends.setKernelThreads(0);
        LibTorch.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void fitAndScoreAreIdenticalFor1And2And7Threads() throws Exception {
        Path camvid = Path.of(System.getProperty("segsa.camvid", "../shared/data/camvid"));
        assumeTrue(Files.isDirectory(camvid.resolve("train")), "CamVid not found at " + camvid);
        Path model = Path.of("models/camvid.pt");
        List<Path> train = FrameReader.listFrames(camvid.resolve("train")).subList(0, 3);
        List<BufferedImage> val = new ArrayList<>();
        for (Path p : FrameReader.listFrames(camvid.resolve("val")).subList(0, 2)) val.add(FrameReader.readImage(p));
        byte[] firstSa = null;
        List<FrameResult> first = null;
        List<float[]> firstMaps = null;
        for (int threads : new int[] {1, 2, 7}) {
            Path sa = dir.resolve("t" + threads + ".sa");
            try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(500).seed(3).threads(threads).open()) {
                for (Path f : train) {
                    FrameFiles.Decoded d = FrameFiles.read(f, camvid.resolve("trainannot"));
                    fit.add(d.name(), d.image(), d.labels());
                }
                SaModel m = fit.finish();
                SaModelFile.write(m, sa);
            }
            byte[] bytes = Files.readAllBytes(sa);
            List<FrameResult> results = new ArrayList<>();
            List<float[]> maps = new ArrayList<>();
            try (Segsa engine = Segsa.builder(model, sa).lsa(true).threads(threads).open()) {
                for (int i = 0; i < val.size(); i++) {
                    FrameResult r = engine.score(val.get(i), "val" + i);
                    results.add(r);
                    maps.add(r.copyMdsaMap());
                }
            }
            if (first == null) {
                firstSa = bytes;
                first = results;
                firstMaps = maps;
                continue;
            }
            assertArrayEquals(firstSa, bytes, "SA file with " + threads + " threads differs from 1 thread");
            for (int i = 0; i < val.size(); i++) {
                assertArrayEquals(first.get(i).mdsaMean(), results.get(i).mdsaMean(), 0.0, threads + " threads, frame " + i);
                assertArrayEquals(first.get(i).lsaMean(), results.get(i).lsaMean(), 0.0, threads + " threads, frame " + i);
                assertArrayEquals(first.get(i).mdsaP95(), results.get(i).mdsaP95(), 0.0, threads + " threads, frame " + i);
                assertArrayEquals(firstMaps.get(i), maps.get(i), 0.0f, threads + " threads, map of frame " + i);
            }
        }
    }
}
