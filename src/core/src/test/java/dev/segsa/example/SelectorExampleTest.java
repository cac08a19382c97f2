package dev.segsa.example;

import dev.segsa.FrameFiles;
import dev.segsa.Segsa;
import dev.segsa.SegsaFit;
import dev.segsa.features.FrameReader;
import dev.segsa.samodel.SaModelFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs the README's selector example on CamVid frames and checks the README shows its code verbatim. */
class SelectorExampleTest {
    @TempDir
    Path dir;

    @Test
    void readmeShowsTheExampleVerbatim() throws Exception {
        ReadmeExample.assertShownVerbatim("selector-example", Path.of("src/core/src/test/java/dev/segsa/example/SelectorExample.java"));
    }

    @Test
    void exampleKeepsTenPercentWithTheirClips() throws Exception {
        Path camvid = Path.of(System.getProperty("segsa.camvid", "../shared/data/camvid"));
        assumeTrue(Files.isDirectory(camvid.resolve("train")), "CamVid not found at " + camvid);
        Path model = Path.of("models/camvid.pt");
        Path sa = dir.resolve("camvid.sa");
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open()) {
            for (Path f : FrameReader.listFrames(camvid.resolve("train")).subList(0, 12)) {
                FrameFiles.Decoded d = FrameFiles.read(f, camvid.resolve("trainannot"));
                fit.add(d.name(), d.image(), d.labels());
            }
            SaModelFile.write(fit.finish(), sa);
        }
        List<BufferedImage> frames = new ArrayList<>();
        for (Path f : FrameReader.listFrames(camvid.resolve("val")).subList(0, 30)) frames.add(FrameReader.readImage(f));
        List<String> written;
        try (Segsa segsa = Segsa.builder(model, sa).open()) {
            written = SelectorExample.run(segsa, frames, 10);
        }
        long kept = written.stream().filter(w -> w.startsWith("kept ")).count();
        assertTrue(kept >= 3, "the kept frames and their clips: " + written);
        assertEquals(written.size(), written.stream().distinct().count(), "every frame written once: " + written);
    }
}
