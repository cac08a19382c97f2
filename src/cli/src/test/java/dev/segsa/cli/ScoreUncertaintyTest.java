package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.segsa.model.TestModels;
import dev.segsa.scores.ScoresCsv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * segsa score --uncertainty on the e2e fixture against softmax statistics computed independently
 * in numpy from the fixture's logits (tools/golden/evaluate.py -> golden/evaluate.json). LibTorch
 * computes them in float32, the golden values in float64: agreement to 1e-4 (relative above 1).
 */
class ScoreUncertaintyTest {
    @TempDir
    Path work;

    @Test
    void uncertaintyColumnsMatchNumpyAndComeAfterIou() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path fixture = Path.of(getClass().getResource("/e2e").toURI());
        JsonNode m = json.readTree(fixture.resolve("model.json").toFile());
        Path model = work.resolve("fixture.pt");
        TestModels.saveFixtureModel(model, EndToEndTest.floats(m.get("w1")), EndToEndTest.floats(m.get("b1")),
                EndToEndTest.floats(m.get("w2")), EndToEndTest.floats(m.get("b2")), m.get("classes").asInt());
        Files.writeString(work.resolve("fixture.segsa.json"),
                "{\"mean\": " + m.get("mean") + ", \"std\": " + m.get("std") + ", \"upsample\": \"bilinear\"}");
        Path sa = work.resolve("fixture.sa");
        assertEquals(0, EndToEndTest.run("fit", "--model", model.toString(), "--images", fixture.resolve("train/images").toString(),
                "--labels", fixture.resolve("train/labels").toString(), "--out", sa.toString(), "--backend", "reference"));
        JsonNode golden;
        try (var in = getClass().getResourceAsStream("/golden/evaluate.json")) {
            golden = json.readTree(in);
        }
        Path scores = work.resolve("scores.csv");
        assertEquals(0, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--images",
                fixture.resolve("val/images").toString(), "--labels", fixture.resolve("val/labels").toString(), "--uncertainty",
                "--groups", golden.get("uncertainty_groups").asText(), "--out", scores.toString(), "--backend", "reference"));
        List<String> lines = Files.readAllLines(scores);
        assertEquals("image,class,pixels,mdsa,lsa,iou,entropy,margin,least_confidence,deepgini,row_kind", lines.get(0));
        List<String> expectedBase = Files.readAllLines(fixture.resolve("expected_scores.csv"));
        assertEquals(expectedBase.size(), lines.size(), "same rows as without --uncertainty");
        JsonNode values = golden.get("uncertainty");
        int compared = 0;
        for (int r = 1; r < lines.size(); r++) {
            String[] a = lines.get(r).split(",", -1);
            String[] e = expectedBase.get(r).split(",", -1);
            assertEquals(11, a.length, lines.get(r));
            for (int k : new int[] {0, 1, 2}) assertEquals(e[k], a[k], "column " + k + " of row " + r);
            assertEquals(e[6], a[10], "row_kind of row " + r);
            JsonNode g = values.get(a[0] + "/" + a[1]);
            assertNotNull(g, "no golden values for " + a[0] + "/" + a[1]);
            for (int k = 0; k < 4; k++) {
                String cell = a[6 + k];
                if (g.get(k).isNull()) {
                    assertEquals("", cell, "empty " + golden.get("uncertainty_columns").get(k).asText() + " in row " + r);
                } else {
                    EndToEndTest.close(g.get(k).asDouble(), Double.parseDouble(cell),
                            golden.get("uncertainty_columns").get(k).asText() + " of " + a[0] + "/" + a[1]);
                    compared++;
                }
            }
        }
        assertEquals(values.size(), lines.size() - 1, "golden rows");
        assertTrue(compared >= 56, "compared " + compared + " values");
        // read back: the uncertainty columns are score columns
        ScoresCsv.Contents c = ScoresCsv.read(scores);
        assertEquals(List.of("mdsa", "entropy", "margin", "least_confidence", "deepgini"), c.scoreColumns());
    }
}
