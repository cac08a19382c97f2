package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.segsa.model.TestModels;
import dev.segsa.video.VideoSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The video commands end to end on a recording the test makes: encode a folder of frames, score
 * the video (video,frame,pts rows that select reads), render the evidence video (checked by
 * decoding it: frame count, size, duration) with its timeline, and the same from the folder.
 */
class VideoCommandsTest {
    @TempDir
    static Path dir;
    static Path model, sa, frames, labels, video;
    static final int N = 30;

    @BeforeAll
    static void setUp() throws Exception {
        Path fixture = Path.of(VideoCommandsTest.class.getResource("/e2e").toURI());
        JsonNode m = EndToEndTest.JSON.readTree(fixture.resolve("model.json").toFile());
        model = dir.resolve("fixture.pt");
        TestModels.saveFixtureModel(model, EndToEndTest.floats(m.get("w1")), EndToEndTest.floats(m.get("b1")),
                EndToEndTest.floats(m.get("w2")), EndToEndTest.floats(m.get("b2")), m.get("classes").asInt());
        Files.writeString(dir.resolve("fixture.segsa.json"), "{\"mean\": " + m.get("mean") + ", \"std\": " + m.get("std") + "}");
        sa = dir.resolve("fixture.sa");
        assertEquals(0, EndToEndTest.run("fit", "--model", model.toString(), "--images", fixture.resolve("train/images").toString(),
                "--labels", fixture.resolve("train/labels").toString(), "--out", sa.toString()));
        // a 30-frame sequence: the fixture's 7 frames, shifted a pixel a frame
        frames = Files.createDirectories(dir.resolve("seq"));
        labels = Files.createDirectories(dir.resolve("seqannot"));
        List<BufferedImage> src = new ArrayList<>();
        List<BufferedImage> lab = new ArrayList<>();
        for (String part : List.of("train", "val")) {
            try (var s = Files.list(fixture.resolve(part + "/images"))) {
                for (Path p : s.sorted().toList()) {
                    src.add(ImageIO.read(p.toFile()));
                    lab.add(ImageIO.read(fixture.resolve(part + "/labels").resolve(p.getFileName()).toFile()));
                }
            }
        }
        for (int i = 0; i < N; i++) {
            BufferedImage a = src.get(i % src.size()), l = lab.get(i % lab.size());
            BufferedImage f = new BufferedImage(a.getWidth(), a.getHeight(), BufferedImage.TYPE_INT_RGB);
            BufferedImage g = new BufferedImage(a.getWidth(), a.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < a.getHeight(); y++) {
                for (int x = 0; x < a.getWidth(); x++) {
                    int sx = Math.floorMod(x - i, a.getWidth());
                    f.setRGB(x, y, a.getRGB(sx, y));
                    g.getRaster().setSample(x, y, 0, l.getRaster().getSample(sx, y, 0));
                }
            }
            ImageIO.write(f, "png", frames.resolve(String.format("s%03d.png", i)).toFile());
            ImageIO.write(g, "png", labels.resolve(String.format("s%03d.png", i)).toFile());
        }
        video = dir.resolve("drive.mp4");
        assertEquals(0, EndToEndTest.run("encode", "--images", frames.toString(), "--fps", "15", "--out", video.toString()));
    }

    @Test
    void scoreAVideoEveryOtherFrameAndSelectFromIt() throws Exception {
        Path scores = dir.resolve("video-scores.csv");
        assertEquals(0, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--video", video.toString(),
                "--every", "2", "--out", scores.toString()));
        List<String> lines = Files.readAllLines(scores);
        assertEquals("video,frame,pts,class,pixels,mdsa,lsa,iou", lines.get(0));
        List<String> frameCells = lines.subList(1, lines.size()).stream().map(l -> l.split(",")[1]).distinct().toList();
        assertEquals(N / 2, frameCells.size(), "every other frame");
        assertEquals("0", frameCells.get(0));
        assertEquals("2", frameCells.get(1));
        String[] first = lines.get(1).split(",", -1);
        assertEquals("drive.mp4", first[0]);
        assertEquals(0.0, Double.parseDouble(first[2]), 1e-9);
        String later = lines.stream().filter(l -> l.startsWith("drive.mp4,4,")).findFirst().orElseThrow();
        assertEquals(4 / 15.0, Double.parseDouble(later.split(",")[2]), 1e-3, "pts of frame 4 at 15 fps");
        Path chosen = dir.resolve("to-label.csv");
        assertEquals(0, EndToEndTest.run("select", "--scores", scores.toString(), "--out", chosen.toString(), "--skip-fraction", "0.3",
                "--class", "0"));
        assertTrue(Files.readString(chosen).contains("drive.mp4#"), "select names video frames as video#frame");
        Path timeline = dir.resolve("timeline.png");
        assertEquals(0, EndToEndTest.run("timeline", "--scores", scores.toString(), "--out", timeline.toString()));
        assertEquals(1200, ImageIO.read(timeline.toFile()).getWidth());
    }

    @Test
    void renderAVideoAndCheckTheOutputByDecodingIt() throws Exception {
        Path out = dir.resolve("evidence.mp4"), still = dir.resolve("still.png"), timeline = dir.resolve("render-timeline.png");
        assertEquals(0, EndToEndTest.run("render", "--model", model.toString(), "--sa", sa.toString(), "--video", video.toString(),
                "--out", out.toString(), "--panel-width", "128", "--still", "5", "--still-out", still.toString(), "--timeline",
                timeline.toString()));
        // panels of 128 x 96 (the 32x24 frames scaled), caption 30 and strip 96: 384 x 318
        checkVideo(out, N, 384, 30 + 2 * 96 + 96, 15.0);
        BufferedImage s = ImageIO.read(still.toFile());
        assertEquals(384, s.getWidth());
        assertTrue(Files.size(timeline) > 1000);
    }

    @Test
    void renderAFolderWithLabelsAtAChosenRate() throws Exception {
        Path out = dir.resolve("folder-evidence.mp4");
        assertEquals(0, EndToEndTest.run("render", "--model", model.toString(), "--sa", sa.toString(), "--images", frames.toString(),
                "--labels", labels.toString(), "--fps", "6", "--panel-width", "96", "--out", out.toString()));
        checkVideo(out, N, 288, 30 + 2 * 72 + 96, 6.0);
    }

    @Test
    void aCorruptVideoIsOneClearLine() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.mp4"), "no video here, only words");
        Path out = dir.resolve("bad-scores.csv");
        var err = new java.io.StringWriter();
        var cl = SegsaCommand.commandLine();
        cl.setErr(new java.io.PrintWriter(err, true));
        assertEquals(1, cl.execute("score", "--model", model.toString(), "--sa", sa.toString(), "--video", bad.toString(), "--out",
                out.toString()));
        assertTrue(err.toString().contains(bad + ": cannot open video"), err.toString());
        assertFalse(Files.exists(out));
    }

    static void checkVideo(Path file, int frames, int width, int height, double fps) {
        long last = -1;
        int n = 0;
        try (VideoSource v = VideoSource.open(file, new VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, 0))) {
            assertEquals(width, v.width(), "width");
            assertEquals(height, v.height(), "height");
            assertEquals(fps, v.frameRate(), 1e-6, "frame rate");
            for (VideoSource.VideoFrame f : v) {
                n++;
                last = f.ptsMicros();
            }
        }
        assertEquals(frames, n, "frame count");
        assertEquals((frames - 1) / fps, last / 1e6, 1.0 / fps, "duration: the last frame's time");
    }
}
