package dev.segsa.kernel;

import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.nativelib.NativeLibrary;
import dev.segsa.samodel.KdeModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The LSA kernel's pruning bound (native/lsa.cpp): a reference is skipped for a quad's pixels only
 * when its kernel provably cannot reach e^-40 of the pixel's largest. In verify mode the kernel
 * also evaluates every skipped reference and counts those that came within e^-40 of the pixel's
 * best; on adversarial inputs (references in tight clusters far apart, duplicates, pixels far from
 * every reference, pixels between clusters, features that jump between neighbouring cells) that
 * count must be zero, the results must match the unpruned float64 reference
 * ({@link ReferenceBackend#lsa}) within {@link NativeLsaTest#TOLERANCE}, and the bound must
 * actually skip references where the geometry allows it.
 */
class LsaPruningTest {
    static NativeCpuBackend backend;
    static final ReferenceBackend reference = new ReferenceBackend();

    @BeforeAll
    static void open() {
        backend = new NativeCpuBackend();
        NativeLibrary.Cpu.setLsaPruning(NativeLibrary.Cpu.LsaPruningMode.PRUNE_VERIFY);
    }

    @AfterAll
    static void close() {
        NativeLibrary.Cpu.setLsaPruning(NativeLibrary.Cpu.LsaPruningMode.PRUNE);
        backend.close();
    }

    enum Scene {
        /** Gaussian references, features near them (the ordinary case). */
        ORDINARY,
        /** References in 5 tight clusters far apart; each cell sits in one cluster, neighbours in different ones. */
        CLUSTERS,
        /** Half the references are one point repeated; the features are at that point or near it. */
        DUPLICATES,
        /** Features hundreds of bandwidths away from every reference. */
        FAR_FROM_ALL,
        /** Features half way between two clusters, where many references tie. */
        BETWEEN_CLUSTERS
    }

    static double[] references(Scene scene, int n, int d, SplittableRandom r) {
        double[] refs = new double[n * d];
        double[][] centres = new double[5][d];
        for (double[] c : centres) for (int i = 0; i < d; i++) c[i] = r.nextDouble(-30, 30);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < d; i++) {
                refs[j * d + i] = switch (scene) {
                    case ORDINARY, FAR_FROM_ALL -> r.nextGaussian();
                    case CLUSTERS, BETWEEN_CLUSTERS -> centres[j % 5][i] + 0.05 * r.nextGaussian();
                    case DUPLICATES -> j % 2 == 0 ? 0.5 : r.nextGaussian() * 3;
                };
            }
        }
        return refs;
    }

    static float[] features(Scene scene, double[] refs, int n, int d, int h0, int w0, SplittableRandom r) {
        float[] f = new float[d * h0 * w0];
        int cells = h0 * w0;
        for (int cell = 0; cell < cells; cell++) {
            int a = r.nextInt(n), b = r.nextInt(n);
            for (int i = 0; i < d; i++) {
                double v = switch (scene) {
                    case ORDINARY -> r.nextGaussian();
                    case CLUSTERS -> refs[a * d + i] + 0.1 * r.nextGaussian();
                    case DUPLICATES -> cell % 3 == 0 ? 0.5 : 0.5 + 0.2 * r.nextGaussian();
                    case FAR_FROM_ALL -> 400 + 50 * cell + r.nextGaussian();
                    case BETWEEN_CLUSTERS -> 0.5 * (refs[(a / 5 * 5) * d + i] + refs[(b / 5 * 5 + 1) % n * d + i]);
                };
                f[i * cells + cell] = (float) v;
            }
        }
        return f;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Scene.class)
    void boundIsNeverViolated(Scene scene) {
        int d = 16, n = 1200, h0 = 6, w0 = 8, height = 48, width = 64;
        SplittableRandom r = new SplittableRandom(7919L * scene.ordinal() + 5);
        double[] refs = references(scene, n, d, r);
        KdeModel[] models = {KdeModel.fit(0, "c0", refs, n, d), KdeModel.fit(1, "c1", references(Scene.ORDINARY, 300, d, r), 300, d)};
        FeatureMap f = FeatureMap.ofArray(features(scene, refs, n, d, h0, w0, r), d, h0, w0);
        for (UpsampleMode mode : UpsampleMode.values()) {
            int[] predicted = new int[height * width];
            for (int p = 0; p < predicted.length; p++) predicted[p] = (p / width) % 7 == 3 ? 1 : 0;
            NativeLibrary.Cpu.lsaPruning(true);
            FrameScores got = new FrameScores(2);
            got.reset(height * width);
            backend.lsa(f, mode, height, width, predicted, models, got);
            NativeLibrary.Cpu.LsaPruning stats = NativeLibrary.Cpu.lsaPruning(true);
            FrameScores want = new FrameScores(2);
            want.reset(height * width);
            reference.lsa(f, mode, height, width, predicted, models, want);
            NativeLsaTest.compare(want, got, scene + " " + mode);
            assertEquals(0, stats.violations(), scene + " " + mode + ": references skipped that came within e^-40 of a pixel's best");
            assertTrue(stats.evaluated() > 0, "something was evaluated");
            if (scene == Scene.FAR_FROM_ALL) {
                assertTrue(stats.prunedFraction() > 0.5,
                        scene + " " + mode + ": the bound should skip most references here, skipped " + stats.prunedFraction());
            }
            System.err.printf("LSA pruning %s %s: %.1f%% of pairs skipped, 0 violations%n", scene, mode, 100 * stats.prunedFraction());
        }
    }

    /**
     * A real model's feature maps (models/camvid.pt on CamVid val frames, LSA fitted on a few
     * train frames): no violation, and the bound skips a good share of the pairs (55% measured
     * on 4 val frames with 10,000 references per class; at least 20% asserted here with 3,000).
     */
    @Test
    void realFeatureMapsNoViolation(@TempDir Path dir) throws Exception {
        Path camvid = Path.of(System.getProperty("segsa.camvid", "../shared/data/camvid"));
        assumeTrue(Files.isDirectory(camvid.resolve("train")), "CamVid not found at " + camvid);
        Path model = Path.of("models/camvid.pt");
        Path sa = dir.resolve("camvid.sa");
        try (dev.segsa.SegsaFit fit = dev.segsa.SegsaFit.builder(model).lsaReferences(3000).seed(5).open()) {
            for (Path f : dev.segsa.features.FrameReader.listFrames(camvid.resolve("train")).subList(0, 6)) {
                dev.segsa.FrameFiles.Decoded d = dev.segsa.FrameFiles.read(f, camvid.resolve("trainannot"));
                fit.add(d.name(), d.image(), d.labels());
            }
            dev.segsa.samodel.SaModelFile.write(fit.finish(), sa);
        }
        List<Path> val = dev.segsa.features.FrameReader.listFrames(camvid.resolve("val")).subList(0, 2);
        try (dev.segsa.Segsa engine = dev.segsa.Segsa.builder(model, sa).lsa(true).open()) {
            NativeLibrary.Cpu.lsaPruning(true);
            for (Path p : val) {
                BufferedImage img = dev.segsa.features.FrameReader.readImage(p);
                engine.score(img, p.getFileName().toString());
            }
        }
        NativeLibrary.Cpu.LsaPruning stats = NativeLibrary.Cpu.lsaPruning(true);
        assertEquals(0, stats.violations(), "references skipped that came within e^-40 of a pixel's best");
        assertTrue(stats.prunedFraction() > 0.2, "share of pairs skipped on real feature maps: " + stats.prunedFraction());
        System.err.printf("LSA pruning on CamVid val (3,000 references per class): %.1f%% of pairs skipped, 0 violations%n",
                100 * stats.prunedFraction());
    }
}
