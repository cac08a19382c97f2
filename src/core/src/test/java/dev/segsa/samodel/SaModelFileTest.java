package dev.segsa.samodel;

import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class SaModelFileTest {
    @TempDir
    Path dir;

    static SaModel sample(boolean withRefs) {
        int d = 3, classes = 3;
        SplittableRandom r = new SplittableRandom(5);
        ClassStatistics[] stats = new ClassStatistics[classes];
        double[][] refs = withRefs ? new double[classes][] : null;
        for (int c = 0; c < classes; c++) {
            stats[c] = new ClassStatistics(d);
            int n = c == 2 ? 0 : 20 + c;
            for (int i = 0; i < n; i++) stats[c].add(new double[] {r.nextGaussian(), r.nextGaussian() + c, r.nextDouble()});
            if (withRefs && n > 0) {
                refs[c] = new double[5 * d];
                for (int i = 0; i < refs[c].length; i++) refs[c][i] = r.nextGaussian();
            }
        }
        SaModel.FitSettings s = new SaModel.FitSettings("m.pt", "ab".repeat(32), UpsampleMode.BILINEAR_ALIGNED,
                new double[] {0.1, 0.2, 0.3}, new double[] {1, 2, 3}, new int[] {64, 48}, 11, List.of("a", "b", "c"), d,
                withRefs ? 5 : 0, 42, 7, List.of("note one"));
        return new SaModel(s, stats, refs);
    }

    @Test
    void roundTripsExactly() {
        SaModel m = sample(true);
        Path f = dir.resolve("m.sa");
        SaModelFile.write(m, f);
        SaModel back = SaModelFile.read(f);
        assertEquals(m.settings().modelSha256(), back.settings().modelSha256());
        assertEquals(UpsampleMode.BILINEAR_ALIGNED, back.settings().upsample());
        assertArrayEquals(new int[] {64, 48}, back.settings().resize());
        assertEquals(List.of("a", "b", "c"), back.settings().classNames());
        assertEquals(List.of("note one"), back.settings().notes());
        assertEquals(11, back.settings().ignoreLabel());
        for (int c = 0; c < 3; c++) {
            assertEquals(m.statistics()[c].count(), back.statistics()[c].count());
            assertArrayEquals(m.statistics()[c].mean(), back.statistics()[c].mean(), 0.0);
            assertArrayEquals(m.statistics()[c].comoment(), back.statistics()[c].comoment(), 0.0);
        }
        assertArrayEquals(m.references()[0], back.references()[0], 0.0);
        assertNull(back.references()[2]);
    }

    @Test
    void withoutReferencesHasNoLsa() {
        Path f = dir.resolve("m.sa");
        SaModelFile.write(sample(false), f);
        assertNull(SaModelFile.read(f).references());
    }

    @Test
    void everyTruncationIsRefused() throws Exception {
        Path f = dir.resolve("m.sa");
        SaModelFile.write(sample(true), f);
        byte[] bytes = Files.readAllBytes(f);
        for (int len : new int[] {0, 7, 20, bytes.length / 2, bytes.length - 1}) {
            Path cut = dir.resolve("cut" + len + ".sa");
            Files.write(cut, java.util.Arrays.copyOf(bytes, len));
            SegsaException e = assertThrows(SegsaException.class, () -> SaModelFile.read(cut));
            assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        }
    }

    @Test
    void flippedByteIsRefused() throws Exception {
        Path f = dir.resolve("m.sa");
        SaModelFile.write(sample(true), f);
        byte[] bytes = Files.readAllBytes(f);
        bytes[bytes.length / 2] ^= 1;
        Files.write(f, bytes);
        SegsaException e = assertThrows(SegsaException.class, () -> SaModelFile.read(f));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    }

    @Test
    void classWithoutPixelsHasNoModelAndIsReported() {
        List<String> notes = new java.util.ArrayList<>();
        MahalanobisModel[] models = sample(true).mahalanobisModels(notes);
        assertNotNull(models[0]);
        assertNull(models[2]);
        assertTrue(notes.stream().anyMatch(n -> n.contains("class 2 (c): 0 training pixels")), notes.toString());
    }
}
