package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.model.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * fit then score through the command line on the fixture of tools/golden/e2e.py, compared with
 * the values that script computed independently in numpy/scipy. The model runs in float32, so
 * statistics and SA agree to a relative 1e-4 (absolute 1e-4 near zero; a few float32 ulps of difference in the forward pass move SA by up to 6e-6 relative); pixel counts and IoU
 * exactly (the fixture keeps every top-1/top-2 logit margin above 1e-3).
 */
class EndToEndTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Path fixture;

    @TempDir
    static Path work;

    static Path model;

    @BeforeAll
    static void buildModel() throws Exception {
        fixture = Path.of(EndToEndTest.class.getResource("/e2e").toURI());
        JsonNode m = JSON.readTree(fixture.resolve("model.json").toFile());
        model = work.resolve("fixture.pt");
        TestModels.saveFixtureModel(model, floats(m.get("w1")), floats(m.get("b1")), floats(m.get("w2")), floats(m.get("b2")),
                m.get("classes").asInt());
        // normalisation comes from the sidecar metadata, not from flags
        Files.writeString(work.resolve("fixture.segsa.json"),
                "{\"mean\": " + m.get("mean") + ", \"std\": " + m.get("std") + ", \"upsample\": \"bilinear\"}");
    }

    static float[] floats(JsonNode n) {
        List<Float> out = new ArrayList<>();
        flatten(n, out);
        float[] a = new float[out.size()];
        for (int i = 0; i < a.length; i++) a[i] = out.get(i);
        return a;
    }

    private static void flatten(JsonNode n, List<Float> out) {
        if (n.isArray()) n.forEach(x -> flatten(x, out));
        else out.add((float) n.asDouble());
    }

    static int run(String... args) {
        return SegsaCommand.commandLine().execute(args);
    }

    /**
     * The e2e fixture's model saved in {@code dir} (fixture.pt with its sidecar metadata) and an SA
     * model fitted on the fixture's train frames (fixture.sa): {model, sa}.
     */
    static Path[] fittedFixture(Path dir) throws Exception {
        Path fixture = Path.of(EndToEndTest.class.getResource("/e2e").toURI());
        JsonNode m = JSON.readTree(fixture.resolve("model.json").toFile());
        Path model = dir.resolve("fixture.pt");
        TestModels.saveFixtureModel(model, floats(m.get("w1")), floats(m.get("b1")), floats(m.get("w2")), floats(m.get("b2")),
                m.get("classes").asInt());
        Files.writeString(dir.resolve("fixture.segsa.json"), "{\"mean\": " + m.get("mean") + ", \"std\": " + m.get("std") + "}");
        Path sa = dir.resolve("fixture.sa");
        org.junit.jupiter.api.Assertions.assertEquals(0, run("fit", "--model", model.toString(), "--images",
                fixture.resolve("train/images").toString(), "--labels", fixture.resolve("train/labels").toString(), "--out", sa.toString()));
        return new Path[] {model, sa};
    }

    static void close(double expected, double actual, String what) {
        double tol = 1e-4 * Math.max(1.0, Math.abs(expected));
        assertTrue(Math.abs(expected - actual) <= tol, what + ": expected " + expected + " got " + actual);
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "native-cpu"})
    void fitThenScoreMatchesIndependentComputation(String backend) throws Exception {
        Path sa = work.resolve("fixture-" + backend + ".sa");
        assertEquals(0, run("fit", "--model", model.toString(), "--images", fixture.resolve("train/images").toString(),
                "--labels", fixture.resolve("train/labels").toString(), "--out", sa.toString(), "--backend", backend));
        SaModel fitted = SaModelFile.read(sa);
        JsonNode stats = JSON.readTree(fixture.resolve("expected_stats.json").toFile());
        int d = stats.get("d").asInt();
        assertEquals(d, fitted.settings().featureDimension());
        for (JsonNode c : stats.get("classes")) {
            int id = c.get("class").asInt();
            assertEquals(c.get("count").asLong(), fitted.statistics()[id].count(), "count of class " + id);
            double[] mean = fitted.statistics()[id].mean();
            double[] cov = fitted.statistics()[id].covariance();
            for (int i = 0; i < d; i++) close(c.get("mean").get(i).asDouble(), mean[i], "mean[" + i + "] of class " + id);
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    close(c.get("cov").get(i).get(j).asDouble(), cov[i * d + j], "cov[" + i + "," + j + "] of class " + id);
                }
            }
        }

        Path scores = work.resolve("scores-" + backend + ".csv");
        assertEquals(0, run("score", "--model", model.toString(), "--sa", sa.toString(), "--images",
                fixture.resolve("val/images").toString(), "--labels", fixture.resolve("val/labels").toString(), "--lsa",
                "--groups", "pair=0,1;rest=2,3", "--out", scores.toString(), "--backend", backend));
        List<String> expected = Files.readAllLines(fixture.resolve("expected_scores.csv"));
        List<String> actual = Files.readAllLines(scores);
        // decoding ahead on a background thread (the default) and one frame after the other give the same bytes
        Path serial = work.resolve("scores-" + backend + "-serial.csv");
        assertEquals(0, run("score", "--model", model.toString(), "--sa", sa.toString(), "--images",
                fixture.resolve("val/images").toString(), "--labels", fixture.resolve("val/labels").toString(), "--lsa",
                "--groups", "pair=0,1;rest=2,3", "--out", serial.toString(), "--backend", backend, "--decode-ahead", "0"));
        assertArrayEquals(Files.readAllBytes(scores), Files.readAllBytes(serial), "overlapped decode changed the output");
        assertEquals(expected.get(0), actual.get(0));
        assertEquals(expected.size(), actual.size(), "row count");
        for (int r = 1; r < expected.size(); r++) {
            String[] e = expected.get(r).split(",", -1), a = actual.get(r).split(",", -1);
            assertEquals(e[0], a[0], "image of row " + r);
            assertEquals(e[1], a[1], "class of row " + r);
            assertEquals(e[2], a[2], "pixels of row " + r);
            assertEquals(e[6], a[6], "row_kind of row " + r);
            for (int k = 3; k < 6; k++) {
                assertEquals(e[k].isEmpty(), a[k].isEmpty(), "emptiness of column " + k + " in row " + r + ": " + actual.get(r));
                if (!e[k].isEmpty()) close(Double.parseDouble(e[k]), Double.parseDouble(a[k]), "column " + k + " of row " + r);
            }
        }
    }
}
