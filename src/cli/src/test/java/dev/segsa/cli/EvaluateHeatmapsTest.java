package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.segsa.model.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** evaluate --model --sa --images draws heatmaps of the highest- and lowest-SA frames into the report. */
class EvaluateHeatmapsTest {
    @TempDir
    Path dir;

    @Test
    void reportShowsHeatmapsOfExtremeFrames() throws Exception {
        Path fixture = Path.of(getClass().getResource("/e2e").toURI());
        JsonNode m = EndToEndTest.JSON.readTree(fixture.resolve("model.json").toFile());
        Path model = dir.resolve("fixture.pt");
        TestModels.saveFixtureModel(model, EndToEndTest.floats(m.get("w1")), EndToEndTest.floats(m.get("b1")),
                EndToEndTest.floats(m.get("w2")), EndToEndTest.floats(m.get("b2")), 4);
        Path sa = dir.resolve("m.sa"), scores = dir.resolve("scores.csv"), out = dir.resolve("report");
        Path images = fixture.resolve("train/images"), labels = fixture.resolve("train/labels");
        assertEquals(0, EndToEndTest.run("fit", "--model", model.toString(), "--images", images.toString(), "--labels", labels.toString(),
                "--out", sa.toString(), "--lsa-references", "0"));
        assertEquals(0, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--images", images.toString(),
                "--labels", labels.toString(), "--out", scores.toString()));
        assertEquals(0, EndToEndTest.run("evaluate", "--scores", scores.toString(), "--out", out.toString(), "--model", model.toString(),
                "--sa", sa.toString(), "--images", images.toString(), "--heatmaps", "2"));
        List<Path> maps;
        try (Stream<Path> s = Files.list(out)) {
            maps = s.filter(p -> p.getFileName().toString().startsWith("heatmap_")).sorted().toList();
        }
        assertEquals(4, maps.size(), maps.toString());
        BufferedImage img = ImageIO.read(maps.get(0).toFile());
        assertTrue(img.getWidth() > 64, "frame and heatmap side by side");
        String html = Files.readString(out.resolve("index.html"));
        for (Path p : maps) assertTrue(html.contains(p.getFileName().toString()), p + " not in the report");
        assertEquals(1, EndToEndTest.run("evaluate", "--scores", scores.toString(), "--out", dir.resolve("r2").toString(), "--model",
                model.toString()), "--model alone is refused");
    }
}
