package dev.segsa.example;

import dev.segsa.FrameFiles;
import dev.segsa.SegsaFit;
import dev.segsa.features.FrameReader;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs the README's embedding example with models/camvid.pt on a real CamVid frame (SA fitted
 * here on four CamVid training frames), and checks that the README shows the example's code.
 */
class EmbeddingExampleTest {
    @TempDir
    Path dir;

    @Test
    void readmeShowsTheExampleVerbatim() throws Exception {
        ReadmeExample.assertShownVerbatim("embedding-example", Path.of("src/core/src/test/java/dev/segsa/example/RecorderExample.java"));
    }

    @Test
    void exampleRunsOnACamVidFrame() throws Exception {
        Path camvid = Path.of(System.getProperty("segsa.camvid", "../shared/data/camvid"));
        assumeTrue(Files.isDirectory(camvid.resolve("train")), "CamVid not found at " + camvid);
        Path model = Path.of("models/camvid.pt");
        Path sa = dir.resolve("camvid.sa");
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open()) {
            for (Path f : FrameReader.listFrames(camvid.resolve("train")).subList(0, 4)) {
                FrameFiles.Decoded d = FrameFiles.read(f, camvid.resolve("trainannot"));
                fit.add(d.name(), d.image(), d.labels());
            }
            SaModelFile.write(fit.finish(), sa);
        }
        Path frame = FrameReader.listFrames(camvid.resolve("val")).get(0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FrameResult[] r = RecorderExample.run(model, sa, frame, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String printed = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(printed);
        // the same pixels as an image and as a BGR camera buffer give the same scores
        assertArrayEquals(r[0].mdsaMean(), r[1].mdsaMean(), 0.0);
        assertArrayEquals(r[0].predictedPixels(), r[1].predictedPixels());
        assertEquals(480 * 360, r[1].width() * r[1].height());
        assertTrue(Double.isFinite(r[1].imageMdsa()) && r[1].imageMdsa() > 0);
        List<String> lines = printed.lines().toList();
        assertTrue(lines.get(0).startsWith("camera-0/000001: image MDSA "), lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.strip().startsWith("Road")), printed);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("frame ")), "latency table printed: " + printed);
    }
}
