package dev.segsa.demo;

import dev.segsa.cli.SegsaCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The demo on a few frames with the committed default model: every output is there and readable. */
class DemoTest {
    @TempDir
    Path dir;

    @Test
    void smallDemoWritesScoresHeatmapsAndSummary() throws Exception {
        Path model = Path.of("models/synthetic-day.pt");
        assumeTrue(Files.isRegularFile(model), "models/synthetic-day.pt not present");
        Path out = dir.resolve("demo");
        int status = SegsaCommand.commandLine().execute("demo", "--model", model.toString(), "--out", out.toString(),
                "--fit-frames", "12", "--test-frames", "16", "--heatmaps", "2");
        assertEquals(0, status);
        List<String> scores = Files.readAllLines(out.resolve("scores.csv"));
        assertEquals("image,class,pixels,mdsa,lsa,iou,row_kind", scores.get(0));
        assertTrue(scores.size() > 16, "rows for every test frame");
        String summary = Files.readString(out.resolve("summary.txt"));
        assertTrue(summary.contains("lanes") && summary.contains("markers"), summary);
        assertTrue(summary.contains("in-distribution"), summary);
        try (Stream<Path> s = Files.list(out.resolve("heatmaps"))) {
            List<Path> maps = s.sorted().toList();
            assertEquals(4, maps.size(), maps.toString());
            assertTrue(maps.get(0).getFileName().toString().startsWith("high-1-"));
            BufferedImage img = ImageIO.read(maps.get(0).toFile());
            assertTrue(img.getWidth() > 2 * 512 && img.getHeight() > 336, img.getWidth() + "x" + img.getHeight());
        }
        assertTrue(Files.isRegularFile(out.resolve("synthetic-day.sa")));
        // the evidence video of the 16 test frames, its still and the timeline
        try (dev.segsa.video.VideoSource v = dev.segsa.video.VideoSource.open(out.resolve(Demo.EVIDENCE),
                new dev.segsa.video.VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, 0))) {
            int n = 0;
            for (var f : v) n++;
            assertEquals(16, n, "one video frame per test frame");
            assertEquals(960, v.width());
        }
        assertEquals(960, ImageIO.read(out.resolve(Demo.EVIDENCE_STILL).toFile()).getWidth());
        assertTrue(Files.size(out.resolve(Demo.TIMELINE)) > 1000);
    }
}
