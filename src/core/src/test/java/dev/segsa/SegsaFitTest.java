package dev.segsa;

import dev.segsa.features.FrameReader;
import dev.segsa.fit.PartialFit;
import dev.segsa.model.TestModels;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.SaModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The streaming fit through the front door: the mergeable reference sample (keys that depend on
 * seed, frame name and pixel only) and exact merging of partial fits, on the e2e fixture frames
 * plus jittered copies of them (so that classes have more traces than the sample keeps).
 */
class SegsaFitTest {
    @TempDir
    static Path dir;
    static Path model;
    static final List<String> names = new ArrayList<>();
    static final List<BufferedImage> images = new ArrayList<>();
    static final List<int[]> labels = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        Path fixture = Path.of(SegsaFitTest.class.getResource("/e2e").toURI());
        model = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(model, 6, 4, 9);
        SplittableRandom rng = new SplittableRandom(3);
        for (Path f : FrameReader.listFrames(fixture.resolve("train/images"))) {
            FrameFiles.Decoded d = FrameFiles.read(f, fixture.resolve("train/labels"));
            for (int copy = 0; copy < 3; copy++) {
                BufferedImage img = new BufferedImage(d.image().getWidth(), d.image().getHeight(), BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < img.getHeight(); y++) {
                    for (int x = 0; x < img.getWidth(); x++) {
                        int p = d.image().getRGB(x, y);
                        int j = copy == 0 ? 0 : rng.nextInt(-12, 13);
                        int r = clamp(((p >> 16) & 0xff) + j), g = clamp(((p >> 8) & 0xff) - j), b = clamp((p & 0xff) + j / 2);
                        img.setRGB(x, y, (r << 16) | (g << 8) | b);
                    }
                }
                names.add(d.name() + "#" + copy);
                images.add(img);
                labels.add(d.labels());
            }
        }
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    @org.junit.jupiter.api.Test
    void aFrameNameAddedTwiceIsRefusedAndNotCounted() {
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).backend("native-cpu").open()) {
            fit.add(names.get(0), images.get(0), labels.get(0));
            org.junit.jupiter.api.Assertions.assertEquals(1, fit.partial().frames());
            dev.segsa.error.SegsaException e = org.junit.jupiter.api.Assertions.assertThrows(dev.segsa.error.SegsaException.class,
                    () -> fit.add(names.get(0), images.get(1), labels.get(1)));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("'" + names.get(0) + "' was added to this fit before"),
                    e.getMessage());
            org.junit.jupiter.api.Assertions.assertEquals(1, fit.partial().frames(), "the refused frame counts nowhere");
            fit.add(names.get(1), images.get(1), labels.get(1));
            org.junit.jupiter.api.Assertions.assertEquals(2, fit.partial().frames());
        }
    }

    private static PartialFit partial(int refs, long seed, List<Integer> frames) {
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(refs).seed(seed).backend("native-cpu").open()) {
            for (int i : frames) fit.add(names.get(i), images.get(i), labels.get(i));
            return fit.partial();
        }
    }

    private static List<Integer> all() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) out.add(i);
        return out;
    }

    private static Set<String> rows(double[] refs, int d) {
        Set<String> out = new HashSet<>();
        for (int i = 0; i < refs.length / d; i++) out.add(Arrays.toString(Arrays.copyOfRange(refs, i * d, (i + 1) * d)));
        return out;
    }

    @Test
    void keepsAllTracesOfSmallClassesAndSamplesLargeOnesBySeed() {
        SaModel everything = partial(1_000_000, 1, all()).finish();
        SaModel a = partial(300, 1, all()).finish(), b = partial(300, 1, all()).finish(), c = partial(300, 2, all()).finish();
        int d = a.settings().featureDimension();
        boolean sampled = false;
        for (int k = 0; k < a.classes(); k++) {
            long count = everything.statistics()[k].count();
            assertEquals(count, everything.references()[k].length / d, "all traces kept when fewer than requested");
            assertEquals(Math.min(300, count), a.references()[k].length / d);
            assertArrayEquals(a.references()[k], b.references()[k], 0.0, "same seed, same sample");
            assertTrue(rows(everything.references()[k], d).containsAll(rows(a.references()[k], d)), "drawn from the class's traces");
            if (count > 300) {
                sampled = true;
                assertFalse(Arrays.equals(a.references()[k], c.references()[k]), "another seed, another sample");
            }
        }
        assertTrue(sampled, "the fixture must have a class with more traces than the sample keeps");
        assertArrayEquals(everything.statistics()[0].mean(), a.statistics()[0].mean(), 0.0, "moments do not depend on sampling");
    }

    @Test
    void fourPartsMergedEqualTheOnePassFit() {
        SaModel one = partial(300, 5, all()).finish();
        // four parts of uneven size, frames shuffled between and within them, merged in two orders
        List<Integer> order = all();
        java.util.Collections.shuffle(order, new java.util.Random(11));
        List<PartialFit> parts = new ArrayList<>();
        int[] cuts = {0, 2, 5, 9, order.size()};
        for (int p = 0; p < 4; p++) parts.add(partial(300, 5, order.subList(cuts[p], cuts[p + 1])));
        SaModel leftFold = parts.get(0).merge(parts.get(1)).merge(parts.get(2)).merge(parts.get(3)).finish();
        SaModel tree = parts.get(3).merge(parts.get(1)).merge(parts.get(2).merge(parts.get(0))).finish();
        for (SaModel merged : List.of(leftFold, tree)) {
            assertEquals(one.settings().frames(), merged.settings().frames());
            for (int c = 0; c < one.classes(); c++) {
                ClassStatistics x = one.statistics()[c], y = merged.statistics()[c];
                assertEquals(x.count(), y.count());
                assertClose(x.mean(), y.mean(), "mean of class " + c);
                assertClose(x.comoment(), y.comoment(), "co-moment of class " + c);
                assertArrayEquals(one.references()[c], merged.references()[c], 0.0, "identical reference set, same order, class " + c);
            }
        }
    }

    /** toBytes/fromBytes is exact (the Spark jobs ship partial fits as bytes), and a corrupt array is refused. */
    @Test
    void partialFitsRoundTripThroughBytesExactly() {
        PartialFit a = partial(300, 5, List.of(0, 1, 2, 3)), b = partial(300, 5, List.of(4, 5, 6));
        PartialFit a2 = PartialFit.fromBytes(a.toBytes());
        assertArrayEquals(a.toBytes(), a2.toBytes(), "bytes of the round trip");
        assertEquals(a.frames(), a2.frames());
        SaModel direct = a.merge(b).finish(), shipped = PartialFit.fromBytes(a.toBytes()).merge(PartialFit.fromBytes(b.toBytes())).finish();
        for (int c = 0; c < direct.classes(); c++) {
            assertEquals(direct.statistics()[c].count(), shipped.statistics()[c].count());
            assertArrayEquals(direct.statistics()[c].mean(), shipped.statistics()[c].mean(), 0.0);
            assertArrayEquals(direct.statistics()[c].comoment(), shipped.statistics()[c].comoment(), 0.0);
            assertArrayEquals(direct.references()[c], shipped.references()[c], 0.0);
        }
        PartialFit empty = new PartialFit(a.settings());
        assertEquals(0, PartialFit.fromBytes(empty.toBytes()).frames());
        byte[] bytes = a.toBytes();
        byte[] cut = Arrays.copyOf(bytes, bytes.length / 2);
        assertThrows(dev.segsa.error.SegsaException.class, () -> PartialFit.fromBytes(cut));
        byte[] junk = bytes.clone();
        junk[0] ^= 0x5a;
        dev.segsa.error.SegsaException e = assertThrows(dev.segsa.error.SegsaException.class, () -> PartialFit.fromBytes(junk));
        assertTrue(e.getMessage().contains("not a segsa partial fit"), e.getMessage());
    }

    @Test
    void mergingRefusesAnotherSeed() {
        PartialFit a = partial(50, 1, List.of(0)), b = partial(50, 2, List.of(1));
        assertThrows(dev.segsa.error.SegsaException.class, () -> a.merge(b));
    }

    /** Relative 1e-12 of the largest magnitude. */
    private static void assertClose(double[] expected, double[] actual, String what) {
        double scale = 0;
        for (double v : expected) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Math.abs(expected[i] - actual[i]) <= 1e-12 * scale,
                    what + "[" + i + "]: " + expected[i] + " vs " + actual[i] + " (scale " + scale + ")");
        }
    }
}
