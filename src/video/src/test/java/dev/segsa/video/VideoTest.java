package dev.segsa.video;

import dev.segsa.videoscore.SegsaVideo;
import dev.segsa.Segsa;
import dev.segsa.SegsaFit;
import dev.segsa.error.SegsaException;
import dev.segsa.features.PixelFormat;
import dev.segsa.model.TestModels;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Video in and out with FFmpeg (LGPL build, H.264 by libopenh264): the test makes its own short
 * recording of smooth moving synthetic frames, decodes it back (frame count, timestamps, size),
 * and scores it through the front door: the decoded frames score exactly as the same pixels given
 * as images, and within the codec's loss of the original frames (stated below).
 */
class VideoTest {
    @TempDir
    static Path dir;
    static Path model, saFile, video;
    static final int W = 96, H = 64, N = 36;
    static final double FPS = 24;
    static final List<BufferedImage> originals = new ArrayList<>();

    static BufferedImage frame(int t) {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                double cx = 20 + t * 1.5, cy = 30;
                double blob = Math.exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 120.0);
                int r = (int) (40 + 180 * blob), g = (int) (90 + 1.2 * y), b = (int) (160 - 60 * blob + 0.5 * x);
                img.setRGB(x, y, (Math.min(255, r) << 16) | (Math.min(255, g) << 8) | Math.min(255, Math.max(0, b)));
            }
        }
        return img;
    }

    @BeforeAll
    static void setUp() throws Exception {
        Path fixture = Path.of(VideoTest.class.getResource("/e2e").toURI());
        model = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(model, 8, 4, 31);
        saFile = dir.resolve("net.sa");
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open()) {
            fit.addFolder(fixture.resolve("train/images"), fixture.resolve("train/labels"), 0, () -> {});
            SaModelFile.write(fit.finish(), saFile);
        }
        video = dir.resolve("clip.mp4");
        try (VideoWriter w = VideoWriter.open(video, W, H, FPS, 6_000_000)) {
            for (int t = 0; t < N; t++) {
                originals.add(frame(t));
                w.write(originals.get(t));
            }
        }
    }

    @Test
    void decodesEveryFrameWithItsTimestamp() {
        List<Long> pts = new ArrayList<>();
        try (VideoSource s = VideoSource.open(video, new VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, 2))) {
            assertEquals(W, s.width());
            assertEquals(H, s.height());
            assertEquals(FPS, s.frameRate(), 1e-6);
            int i = 0;
            for (VideoSource.VideoFrame f : s) {
                assertEquals(i++, f.index());
                assertEquals(W * 3, f.stride());
                assertEquals("clip.mp4#" + f.index(), f.name());
                pts.add(f.ptsMicros());
            }
        }
        assertEquals(N, pts.size(), "frame count");
        for (int i = 0; i < N; i++) assertEquals(i * 1e6 / FPS, pts.get(i), 1000, "timestamp of frame " + i + " (us)");
    }

    @Test
    void everyKthFrameAndATimeWindow() {
        List<Integer> idx = new ArrayList<>();
        try (VideoSource s = VideoSource.open(video, new VideoSource.Options(3, 0.5, 1.2, 0))) {
            for (VideoSource.VideoFrame f : s) idx.add(f.index());
        }
        // frames at 0.5 .. 1.2 s are 12 .. 28; every 3rd of those
        assertEquals(List.of(12, 15, 18, 21, 24, 27), idx);
    }

    @Test
    void decodedFramesScoreAsTheSamePixelsGivenAsImagesAndNearTheOriginals() {
        try (Segsa engine = Segsa.open(model, saFile)) {
            List<FrameResult> fromVideo = new ArrayList<>();
            List<BufferedImage> decoded = new ArrayList<>();
            SegsaVideo.scoreVideo(engine, video, new VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, 2), false, (f, r) -> {
                fromVideo.add(r);
                BufferedImage img = new BufferedImage(f.width(), f.height(), BufferedImage.TYPE_INT_RGB);
                ByteBuffer p = f.pixels();
                for (int y = 0; y < f.height(); y++) {
                    for (int x = 0; x < f.width(); x++) {
                        int o = y * f.stride() + 3 * x;
                        img.setRGB(x, y, ((p.get(o) & 0xff) << 16) | ((p.get(o + 1) & 0xff) << 8) | (p.get(o + 2) & 0xff));
                    }
                }
                decoded.add(img);
            });
            assertEquals(N, fromVideo.size());
            double worst = 0;
            for (int i = 0; i < N; i++) {
                FrameResult again = engine.score(decoded.get(i), "png " + i);
                assertArrayEquals(fromVideo.get(i).mdsaMean(), again.mdsaMean(), 0.0, "frame " + i + " scored as an image");
                double a = fromVideo.get(i).imageMdsa(), b = engine.score(originals.get(i), "orig " + i).imageMdsa();
                worst = Math.max(worst, Math.abs(a - b) / b);
            }
            System.out.printf("video vs original frames: image MDSA differs by at most %.4f relative (H.264 at 6 Mbit/s, yuv420p)%n", worst);
            // the codec's loss: yuv420p halves the chroma resolution; 5% relative on image MDSA is the stated tolerance
            assertTrue(worst < 0.05, "image MDSA of decoded vs original frames differs by " + worst);
        }
    }

    @Test
    void corruptAndTruncatedStreamsAreRefusedWithTheFileName() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.mp4"), "not a video at all, just text that is long enough");
        SegsaException e = assertThrows(SegsaException.class, () -> VideoSource.open(junk, VideoSource.Options.ALL));
        assertTrue(e.getMessage().startsWith(junk + ": cannot open video"), e.getMessage());
        byte[] whole = Files.readAllBytes(video);
        Path cut = dir.resolve("cut.mp4");
        Files.write(cut, Arrays.copyOf(whole, whole.length / 2));
        // a cut MP4 loses its index (moov at the end): refused at open, or decoding stops with a message
        try (VideoSource s = VideoSource.open(cut, VideoSource.Options.ALL)) {
            int n = 0;
            for (VideoSource.VideoFrame f : s) n++;
            assertTrue(n < N, "a truncated file cannot give every frame");
        } catch (SegsaException expected) {
            assertTrue(expected.getMessage().startsWith(cut.toString()), expected.getMessage());
        }
    }

    @Test
    void anMp4OnStandardInputSaysThatItsIndexIsAtItsEnd() throws Exception {
        // the writer's MP4 keeps its index (moov) after the frames: a pipe passes the frames before FFmpeg knows them.
        // Noise at a high bit rate, so that the frames outgrow what FFmpeg buffers while probing (5 MB) and can go back to
        Path big = dir.resolve("noise.mp4");
        java.util.Random rnd = new java.util.Random(7);
        try (VideoWriter w = VideoWriter.open(big, 640, 480, FPS, 50_000_000)) {
            BufferedImage img = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
            for (int t = 0; t < 60; t++) {
                for (int y = 0; y < 480; y++) for (int x = 0; x < 640; x++) img.setRGB(x, y, (x / 4 + y / 4 + t) % 7 == 0 ? rnd.nextInt(1 << 24) : (x * 13 + y * 7 + t * 5) * 0x010101 & 0xffffff);
                w.write(img);
            }
        }
        assertTrue(Files.size(big) > 6_000_000, "the noise clip is only " + Files.size(big) + " bytes");
        java.io.InputStream old = System.in;
        try (java.io.InputStream in = Files.newInputStream(big)) {
            System.setIn(in);
            try (VideoSource s = VideoSource.openSource("-", new VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, 0))) {
                SegsaException e = assertThrows(SegsaException.class, () -> s.iterator().hasNext());
                assertTrue(e.getMessage().startsWith("standard input: an MP4 or MOV whose index (moov) is at its end cannot be read "
                        + "from a pipe"), e.getMessage());
                assertTrue(e.getMessage().contains("Give the file's path instead"), e.getMessage());
                assertNotEquals(SegsaException.Kind.FRAME, e.kind(), "not a damaged frame: the input's form");
            }
        } finally {
            System.setIn(old);
        }
    }

    @Test
    void packedRgbFromTheDecoderGoesToTheEngineInPlace() {
        try (Segsa engine = Segsa.open(model, saFile);
             VideoSource s = VideoSource.open(video, new VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, 0))) {
            for (VideoSource.VideoFrame f : s) {
                assertTrue(f.pixels().isDirect(), "FFmpeg's own buffer, no copy with ahead = 0");
                FrameResult r = engine.score(MemorySegment.ofBuffer(f.pixels()), f.width(), f.height(), f.stride(), PixelFormat.RGB, f.name());
                assertTrue(r.scored());
                break;
            }
        }
    }

    @Test
    void writerOutputIsRenamedIntoPlaceAndAbortLeavesNothing() throws Exception {
        Path out = dir.resolve("aborted.mp4");
        VideoWriter w = VideoWriter.open(out, W, H, FPS, 1_000_000);
        w.write(frame(0));
        w.abort();
        assertFalse(Files.exists(out));
        try (var l = Files.list(dir)) {
            assertTrue(l.noneMatch(p -> p.getFileName().toString().contains(".segsa-tmp-")), "no temporary left");
        }
    }

    @Test
    void encoderErrorsCarryFfmpegsOwnWords() {
        String m = VideoWriter.ffmpegMessage("avcodec_send_frame() error -1313558101: Could not send frame.");
        assertTrue(m.startsWith("FFmpeg: Unknown error occurred (avcodec_send_frame() error -1313558101"), m);
        assertEquals("no code here", VideoWriter.ffmpegMessage("no code here"));
    }
}
