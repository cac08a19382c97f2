package dev.segsa.fit;

import dev.segsa.samodel.SaModel;

import dev.segsa.features.UpsampleMode;
import dev.segsa.model.ModelMetadata;
import dev.segsa.model.ModelSettings;
import dev.segsa.model.SegmentationModel;
import dev.segsa.model.TestModels;
import dev.segsa.io.Progress;
import dev.segsa.kernel.ReferenceBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Reservoir sampling of LSA references during the fit, on the e2e fixture frames. */
class FitterTest {
    @TempDir
    static Path dir;
    static Path images, labels, model;

    @BeforeAll
    static void setUp() throws Exception {
        Path fixture = Path.of(FitterTest.class.getResource("/e2e").toURI());
        images = fixture.resolve("train/images");
        labels = fixture.resolve("train/labels");
        model = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(model, 6, 4, 9);
    }

    private SaModel fit(int refs, long seed) {
        ModelSettings s = ModelSettings.resolve(ModelMetadata.empty(), ModelMetadata.empty());
        try (SegmentationModel m = SegmentationModel.load(model, UpsampleMode.BILINEAR)) {
            Progress quiet = new Progress("fit", 4, new PrintStream(OutputStream.nullOutputStream()), false);
            return new Fitter(m, s, new ReferenceBackend(), refs, seed).fit(images, labels, quiet);
        }
    }

    private static Set<String> rows(double[] refs, int d) {
        Set<String> out = new HashSet<>();
        for (int i = 0; i < refs.length / d; i++) out.add(Arrays.toString(Arrays.copyOfRange(refs, i * d, (i + 1) * d)));
        return out;
    }

    @Test
    void keepsAllTracesOfSmallClassesAndSamplesLargeOnesBySeed() {
        SaModel all = fit(100_000, 1);
        SaModel a = fit(100, 1), b = fit(100, 1), c = fit(100, 2);
        int d = a.settings().featureDimension();
        for (int k = 0; k < a.classes(); k++) {
            long count = all.statistics()[k].count();
            assertEquals(count, all.references()[k].length / d, "all traces kept when fewer than requested");
            assertEquals(Math.min(100, count), a.references()[k].length / d);
            assertArrayEquals(a.references()[k], b.references()[k], 0.0, "same seed, same sample");
            Set<String> population = rows(all.references()[k], d);
            assertTrue(population.containsAll(rows(a.references()[k], d)), "the sample is drawn from the class's traces");
            if (count > 100) assertFalse(Arrays.equals(a.references()[k], c.references()[k]), "another seed, another sample");
        }
        // the statistics do not depend on the sampling
        assertArrayEquals(all.statistics()[0].mean(), a.statistics()[0].mean(), 0.0);
    }
}
