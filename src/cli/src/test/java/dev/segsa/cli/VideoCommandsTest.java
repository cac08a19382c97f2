package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
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
        Path[] fitted = EndToEndTest.fittedFixture(dir);
        model = fitted[0];
        sa = fitted[1];
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
        assertEquals("video,frame,pts,time_ns,class,pixels,mdsa,lsa,iou,row_kind", lines.get(0));
        List<String> frameCells = lines.subList(1, lines.size()).stream().map(l -> l.split(",")[1]).distinct().toList();
        assertEquals(N / 2, frameCells.size(), "every other frame");
        assertEquals("0", frameCells.get(0));
        assertEquals("2", frameCells.get(1));
        String[] first = lines.get(1).split(",", -1);
        assertEquals("drive.mp4", first[0]);
        assertEquals(0.0, Double.parseDouble(first[2]), 1e-9);
        String later = lines.stream().filter(l -> l.startsWith("drive.mp4,4,")).findFirst().orElseThrow();
        assertEquals(4 / 15.0, Double.parseDouble(later.split(",")[2]), 1e-3, "pts of frame 4 at 15 fps");
        for (String l : lines.subList(1, lines.size())) {
            // time_ns: the presentation time in integer nanoseconds (whole microseconds); pts the same in seconds, plain
            String[] cells = l.split(",", -1);
            assertTrue(cells[2].matches("\\d+\\.\\d{9}"), "pts without E-notation: " + l);
            long ns = Long.parseLong(cells[3]);
            assertEquals(0, ns % 1000, l);
            assertEquals(new java.math.BigDecimal(cells[2]).movePointRight(9).longValueExact(), ns, l);
            assertEquals("class", cells[cells.length - 1], l);
        }
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

    /** render takes what FFmpeg opens too: a stream on standard input, opened once. */
    @Test
    void renderAStreamOnStandardInput() throws Exception {
        Path out = dir.resolve("stdin-evidence.mp4");
        java.io.InputStream old = System.in;
        int st;
        try (java.io.InputStream in = Files.newInputStream(transportStream())) {
            System.setIn(in);
            st = EndToEndTest.run("render", "--model", model.toString(), "--sa", sa.toString(), "--video", "-", "--out", out.toString());
        } finally {
            System.setIn(old);
        }
        assertEquals(0, st);
        try (dev.segsa.video.VideoSource v = dev.segsa.video.VideoSource.open(out, dev.segsa.video.VideoSource.Options.ALL)) {
            int frames = 0;
            for (var f : v) frames++;
            assertEquals(N, frames);
        }
    }

    /** Corrupted stream bytes: refused naming the damaged frame; with --skip-bad-frames the damaged range is listed and the exit is 5. */
    @Test
    void damagedStreamBytesAreNamedNotHidden() throws Exception {
        byte[] bytes = Files.readAllBytes(video);
        java.util.SplittableRandom r = new java.util.SplittableRandom(4);
        for (int i = (int) (bytes.length * 0.45); i < (int) (bytes.length * 0.45) + 1500; i++) bytes[i] = (byte) r.nextInt(256);
        Path damaged = Files.write(dir.resolve("damaged.mp4"), bytes);
        Path out = dir.resolve("damaged-scores.csv");
        var err = new java.io.StringWriter();
        var cl = SegsaCommand.commandLine();
        cl.setErr(new java.io.PrintWriter(err, true));
        assertEquals(1, cl.execute("score", "--model", model.toString(), "--sa", sa.toString(), "--video", damaged.toString(), "--out",
                out.toString()), err.toString());
        assertTrue(err.toString().contains("is damaged (FFmpeg: h264: ") && err.toString().contains("--skip-bad-frames"), err.toString());
        assertFalse(Files.exists(out));
        var skipErr = new java.io.StringWriter();
        var cl2 = SegsaCommand.commandLine();
        cl2.setErr(new java.io.PrintWriter(skipErr, true));
        java.io.ByteArrayOutputStream stdout = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.err;
        System.setErr(new java.io.PrintStream(stdout, true));
        int code;
        try {
            code = cl2.execute("score", "--model", model.toString(), "--sa", sa.toString(), "--video", damaged.toString(), "--out",
                    out.toString(), "--skip-bad-frames");
        } finally {
            System.setErr(old);
        }
        assertEquals(5, code, skipErr + stdout.toString());
        assertTrue(stdout.toString().contains("damaged.mp4#") && stdout.toString().contains("damaged (FFmpeg:"), stdout.toString());
        assertTrue(Files.exists(out));
        long rows = Files.readAllLines(out).stream().skip(1).map(l -> l.split(",")[1]).distinct().count();
        assertTrue(rows > 0 && rows < N, rows + " frames scored of " + N);
    }

    /** A folder of videos with --skip-bad-frames goes on past files that cannot be opened at all, lists them and exits 5. */
    @Test
    void aFolderOfVideosGoesOnPastFilesThatCannotBeOpened() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("fleet"));
        Files.copy(video, folder.resolve("a-good.mp4"));
        Files.write(folder.resolve("b-empty.mp4"), new byte[0]);
        Files.writeString(folder.resolve("c-text.mp4"), "not a video");
        Path out = dir.resolve("fleet.csv");
        java.io.ByteArrayOutputStream errs = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.err;
        System.setErr(new java.io.PrintStream(errs, true));
        int code;
        try {
            code = EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--video", folder.toString(), "--out",
                    out.toString(), "--skip-bad-frames");
        } finally {
            System.setErr(old);
        }
        assertEquals(5, code, errs.toString());
        assertTrue(errs.toString().contains("b-empty.mp4: cannot open video") && errs.toString().contains("c-text.mp4: cannot open video"),
                errs.toString());
        assertEquals(N, Files.readAllLines(out).stream().skip(1).map(l -> l.split(",")[1]).distinct().count());
        // without --skip-bad-frames the first one that cannot be opened ends the run before any work
        assertEquals(1, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--video", folder.toString(), "--out",
                dir.resolve("fleet2.csv").toString()));
        assertFalse(Files.exists(dir.resolve("fleet2.csv")));
    }

    /** The selector configuration of the README's "On the vehicle" section, as it is printed there. */
    static String readmeConfig() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int at = readme.indexOf("## On the vehicle: keep what matters");
        assertTrue(at >= 0, "README section missing");
        int start = readme.indexOf("```json", at), end = readme.indexOf("```", start + 7);
        return readme.substring(start + 7, end);
    }

    private static List<String> decisionsWithoutTimes(Path out) throws Exception {
        List<String> lines = new ArrayList<>();
        for (String l : Files.readAllLines(out.resolve("decisions.jsonl"))) lines.add(l.replaceAll(",\"latencyMs\":[0-9.eE-]+", ""));
        return lines;
    }

    @Test
    void watchAVideoWithTheReadmeConfigurationTwiceTheSame() throws Exception {
        Path cfg = dir.resolve("keep.json");
        // the README's configuration, on this fixture's classes (the README's model is CamVid's); the fixture's 7 fit frames are
        // too few for a class reference, so the class-aware trigger reads image MDSA here
        Files.writeString(cfg, readmeConfig().replace("\"Pedestrian\"", "\"1\"").replace("\"warmupFrames\": 30", "\"warmupFrames\": 5")
                .replace("\"class-aware\"", "\"image-mdsa\""));
        String[] classes = null;
        Path out1 = dir.resolve("watch1"), out2 = dir.resolve("watch2");
        int st = EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--video", video.toString(),
                "--config", cfg.toString(), "--out", out1.toString(), "--heatmap");
        if (st != 0) {
            // the fixture's class names are its ids: retry with the first class name the SA model reports
            fail("watch exited " + st);
        }
        assertEquals(0, EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--video", video.toString(),
                "--config", cfg.toString(), "--out", out2.toString()));
        List<String> d1 = decisionsWithoutTimes(out1), d2 = decisionsWithoutTimes(out2);
        assertEquals(N, d1.size(), "one decision per frame");
        assertEquals(d1, d2, "the same stream and configuration give the same decisions");
        JsonNode status = EndToEndTest.JSON.readTree(out1.resolve("status.json").toFile());
        assertFalse(status.get("running").asBoolean());
        assertEquals(N, status.get("framesSeen").asInt());
        long kept = d1.stream().filter(l -> l.contains("\"keep\":true")).count();
        assertEquals(kept, status.get("framesKept").asLong());
        assertTrue(kept >= 1, "something was kept: " + d1);
        try (var files = Files.list(out1)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertTrue(names.stream().anyMatch(n -> n.endsWith("-heatmap.png")), names.toString());
            long pngs = names.stream().filter(n -> n.endsWith(".png") && !n.endsWith("-heatmap.png")).count();
            assertTrue(pngs >= kept, names.toString());
            assertTrue(names.stream().noneMatch(n -> n.contains(".segsa-tmp-")), names.toString());
            for (String n : names) if (n.endsWith(".png")) assertNotNull(ImageIO.read(out1.resolve(n).toFile()), n);
        }
        // an output folder with files in it is refused before any work
        assertEquals(1, EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--video", video.toString(),
                "--share", "0.1", "--out", out1.toString()));
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"budget\": {\"share\": 0.1}, \"triggers\": [{\"score\": \"image-mdsa\", \"when\": 3}]}");
        assertEquals(1, EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--video", video.toString(),
                "--config", bad.toString(), "--out", dir.resolve("watch3").toString()));
        assertFalse(Files.exists(dir.resolve("watch3")), "nothing written for a refused configuration");
    }

    @Test
    void watchAFolderThatIsFilledWhileItRuns() throws Exception {
        Path live = Files.createDirectories(dir.resolve("live"));
        Path out = dir.resolve("watch-live");
        int[] status = {-1};
        Thread t = Thread.ofPlatform().start(() -> status[0] = EndToEndTest.run("watch", "--model", model.toString(), "--sa",
                sa.toString(), "--folder", live.toString(), "--share", "0.2", "--fps", "15", "--score-all", "--idle-seconds", "3",
                "--poll-ms", "50", "--out", out.toString()));
        int n = 12;
        for (int i = 0; i < n; i++) {
            byte[] png = Files.readAllBytes(frames.resolve(String.format("s%03d.png", i)));
            Path f = live.resolve(String.format("live%03d.png", i));
            // written in two halves, 120 ms apart: the watcher must wait for the file to stop growing
            Files.write(f, java.util.Arrays.copyOf(png, png.length / 2));
            Thread.sleep(120);
            Files.write(f, png);
            Thread.sleep(60);
        }
        t.join(120_000);
        assertEquals(0, status[0]);
        List<String> d = Files.readAllLines(out.resolve("decisions.jsonl"));
        assertEquals(n, d.size(), "every frame once, none half-written: " + d);
        for (int i = 0; i < n; i++) assertTrue(d.get(i).contains(String.format("live%03d.png", i)), d.get(i));
        JsonNode st = EndToEndTest.JSON.readTree(out.resolve("status.json").toFile());
        assertEquals(n, st.get("framesScored").asInt());
    }

    /** The 30 frames as an MPEG-TS stream (an MP4 keeps its index at the end, which a pipe cannot seek to). */
    static Path transportStream() throws Exception {
        Path ts = dir.resolve("stream.ts");
        if (Files.exists(ts)) return ts;
        try (org.bytedeco.javacv.FFmpegFrameRecorder r = new org.bytedeco.javacv.FFmpegFrameRecorder(ts.toFile(), 32, 24, 0);
             org.bytedeco.javacv.Java2DFrameConverter conv = new org.bytedeco.javacv.Java2DFrameConverter()) {
            r.setFormat("mpegts");
            r.setVideoCodecName("libopenh264");
            r.setPixelFormat(org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_YUV420P);
            r.setFrameRate(15);
            r.setVideoBitrate(2_000_000);
            r.start();
            for (int i = 0; i < N; i++) {
                BufferedImage img = ImageIO.read(frames.resolve(String.format("s%03d.png", i)).toFile());
                BufferedImage bgr = new BufferedImage(32, 24, BufferedImage.TYPE_3BYTE_BGR);
                bgr.getGraphics().drawImage(img, 0, 0, 32, 24, null);
                r.record(conv.convert(bgr));
            }
        }
        return ts;
    }

    @Test
    void scoreAStreamOnStandardInputAndRefuseAnUnreachableUrlByItsName() throws Exception {
        Path csv = dir.resolve("stdin-scores.csv");
        java.io.InputStream old = System.in;
        int st;
        try (java.io.InputStream in = Files.newInputStream(transportStream())) {
            System.setIn(in);
            st = EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--video", "-", "--out", csv.toString());
        } finally {
            System.setIn(old);
        }
        assertEquals(0, st);
        List<String> lines = Files.readAllLines(csv);
        assertEquals(N, lines.subList(1, lines.size()).stream().map(l -> l.split(",")[1]).distinct().count());
        assertTrue(lines.get(1).startsWith("stdin,"), lines.get(1));
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream oldErr = System.err;
        try {
            System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            assertEquals(1, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--video",
                    "http://127.0.0.1:9/drive.mp4", "--out", dir.resolve("url.csv").toString()));
        } finally {
            System.setErr(oldErr);
        }
        assertTrue(err.toString().contains("http://127.0.0.1:9/drive.mp4: cannot open video"), err.toString());
        assertFalse(Files.exists(dir.resolve("url.csv")));
    }

    @Test
    void watchAStreamOnStandardInput() throws Exception {
        Path out = dir.resolve("watch-stdin");
        java.io.InputStream old = System.in;
        int st;
        Path mkv = transportStream();
        try (java.io.InputStream in = Files.newInputStream(mkv)) {
            System.setIn(in);
            st = EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--video", "-", "--score-all",
                    "--share", "0.2", "--out", out.toString());
        } finally {
            System.setIn(old);
        }
        assertEquals(0, st);
        List<String> d = Files.readAllLines(out.resolve("decisions.jsonl"));
        assertEquals(N, d.size(), "every frame of the piped stream, in order");
        assertTrue(d.get(0).contains("\"name\":\"stdin#0\"") || d.get(0).contains("stdin"), d.get(0));
    }

    @Test
    void aScorerSlowerThanTheCameraSkipsFramesAndSaysSo() throws Exception {
        // the same 30 frames at 1000 frames/s, delivered at their times: scoring cannot keep up
        Path fast = dir.resolve("fast.mp4");
        assertEquals(0, EndToEndTest.run("encode", "--images", frames.toString(), "--fps", "1000", "--out", fast.toString()));
        Path out = dir.resolve("watch-fast");
        assertEquals(0, EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--video", fast.toString(),
                "--realtime", "--share", "0.5", "--out", out.toString()));
        JsonNode st = EndToEndTest.JSON.readTree(out.resolve("status.json").toFile());
        long scored = st.get("framesScored").asLong(), skipped = st.get("framesSkipped").asLong();
        assertTrue(skipped > 0, "frames were skipped: " + st);
        assertEquals(N, scored + skipped, "every frame is scored or skipped, and counted: " + st);
        List<String> lines = Files.readAllLines(out.resolve("decisions.jsonl"));
        assertEquals(N, lines.size(), "a line per frame seen, skipped ones included");
        assertEquals(skipped, lines.stream().filter(l -> l.contains("\"skipped\":true")).count(), "skipped frames are marked");
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
