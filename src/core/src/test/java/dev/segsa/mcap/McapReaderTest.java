package dev.segsa.mcap;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The MCAP reader on files written by the official TypeScript library (src/testdata/mcap, made by
 * tools/mcap/generate.mjs from 8 CamVid frames at 96x72): every encoding and compression, the
 * channel list, and hostile variants (cut short, a wrong CRC, an unknown opcode, a chunk that
 * claims too much, a step that disagrees with the data).
 */
class McapReaderTest {
    @TempDir
    Path dir;

    static Path fixture(String name) throws Exception {
        return Path.of(McapReaderTest.class.getResource("/mcap/" + name).toURI());
    }

    static List<McapSource.Frame> frames(Path file) {
        List<McapSource.Frame> out = new ArrayList<>();
        try (McapSource s = new McapSource(file, null, 0, Double.POSITIVE_INFINITY)) {
            for (McapSource.Frame f : s) out.add(f);
        }
        return out;
    }

    @Test
    void everyEncodingAndCompressionGivesTheSameFrames() throws Exception {
        List<McapSource.Frame> rgb = frames(fixture("ros2-image-zstd.mcap"));
        assertEquals(8, rgb.size());
        for (int i = 0; i < 8; i++) {
            McapSource.Frame f = rgb.get(i);
            assertEquals("/camera/image_raw", f.topic());
            assertEquals(i, f.index());
            assertEquals(1_700_000_000_000_000_000L + i * 66_666_667L, f.logTime());
            assertEquals(96, f.image().getWidth());
            assertEquals(72, f.image().getHeight());
            assertEquals("rgb8", f.encoding());
        }
        List<McapSource.Frame> bgr = frames(fixture("ros2-image-lz4.mcap"));
        List<McapSource.Frame> none = frames(fixture("ros2-image-none.mcap"));
        List<McapSource.Frame> png = frames(fixture("ros2-compressed-zstd.mcap"));
        List<McapSource.Frame> mono = frames(fixture("ros2-mono8-none.mcap"));
        List<List<McapSource.Frame>> foxglove = List.of(frames(fixture("foxglove-raw-protobuf.mcap")),
                frames(fixture("foxglove-compressed-protobuf.mcap")), frames(fixture("foxglove-raw-json.mcap")),
                frames(fixture("foxglove-compressed-json.mcap")));
        for (List<McapSource.Frame> fx : foxglove) {
            assertEquals(8, fx.size());
            for (int i = 0; i < 8; i++) {
                assertEquals(rgb.get(i).logTime(), fx.get(i).logTime());
                assertSameImage(rgb.get(i).image(), fx.get(i).image(), "foxglove " + fx.get(i).topic() + " frame " + i);
            }
        }
        assertEquals("bgr8", bgr.get(0).encoding());
        assertEquals("png", png.get(0).encoding());
        assertEquals("/camera/image_raw/compressed", png.get(0).topic());
        for (int i = 0; i < 8; i++) {
            assertSameImage(rgb.get(i).image(), bgr.get(i).image(), "bgr8/lz4 frame " + i);
            assertSameImage(rgb.get(i).image(), none.get(i).image(), "uncompressed frame " + i);
            assertSameImage(rgb.get(i).image(), png.get(i).image(), "CompressedImage png frame " + i);
            int p = rgb.get(i).image().getRGB(10, 10), g = mono.get(i).image().getRGB(10, 10) & 255;
            int expect = (int) Math.round(0.299 * ((p >> 16) & 255) + 0.587 * ((p >> 8) & 255) + 0.114 * (p & 255));
            assertEquals(expect, g, 1, "mono8 frame " + i);
        }
    }

    static void assertSameImage(BufferedImage a, BufferedImage b, String what) {
        assertEquals(a.getWidth(), b.getWidth(), what);
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                assertEquals(a.getRGB(x, y) & 0xffffff, b.getRGB(x, y) & 0xffffff, what + " at " + x + "," + y);
            }
        }
    }

    @Test
    void fromSeeksByTheChunkIndexes() throws Exception {
        Path f = fixture("ros2-image-zstd.mcap");  // 3 chunks of the official writer's 64 KiB
        List<McapSource.Frame> all = frames(f);
        try (McapSource s = new McapSource(f, null, 0.3, Double.POSITIVE_INFINITY)) {
            List<McapSource.Frame> late = new ArrayList<>();
            for (McapSource.Frame x : s) late.add(x);
            assertEquals(3, late.size(), "frames 5, 6, 7 are at 0.333 s and after");
            for (int k = 0; k < 3; k++) {
                assertEquals(all.get(5 + k).logTime(), late.get(k).logTime());
                McapReaderTest.assertSameImage(all.get(5 + k).image(), late.get(k).image(), "frame " + (5 + k));
            }
            assertTrue(s.reader().chunksLoaded < 3, "reading started at a later chunk, not at the first");
            // the frames keep the indexes they have without the window (the unread chunk's frames counted)
            for (int k = 0; k < 3; k++) assertEquals(all.get(5 + k).index(), late.get(k).index());
        }
    }

    @Test
    void listShowsChannelsCountsAndResolution() throws Exception {
        List<McapSource.ChannelInfo> list = McapSource.list(fixture("ros2-image-zstd.mcap"));
        assertEquals(2, list.size());
        McapSource.ChannelInfo cam = list.get(0), text = list.get(1);
        assertEquals("/camera/image_raw", cam.topic());
        assertEquals("sensor_msgs/msg/Image", cam.schema());
        assertEquals("cdr", cam.messageEncoding());
        assertEquals(8, cam.messages());
        assertEquals("96x72", cam.resolution());
        assertTrue(cam.image());
        assertEquals("std_msgs/msg/String", text.schema());
        assertFalse(text.image());
        assertEquals(8, text.messages());
    }

    @Test
    void aFileCutShortIsReadToItsLastCompleteRecord() throws Exception {
        byte[] all = Files.readAllBytes(fixture("ros2-image-none.mcap"));
        for (int keep : new int[] {all.length - 40, all.length / 2, 200}) {
            Path cut = dir.resolve("cut" + keep + ".mcap");
            Files.write(cut, java.util.Arrays.copyOf(all, keep));
            try (McapSource s = new McapSource(cut, "/camera/image_raw", 0, Double.POSITIVE_INFINITY)) {
                int n = 0;
                for (McapSource.Frame f : s) n++;
                assertTrue(n <= 8, cut.toString());
                if (keep < all.length - 200) {
                    assertTrue(s.reader().truncatedAt() >= 0, "cut at " + keep + " must be reported");
                    assertTrue(n < 8);
                }
            }
        }
    }

    /** The offset of the first record with this opcode after the magic (top level). */
    static long recordAt(byte[] file, int opcode) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long at = 8;
        while (at + 9 <= file.length) {
            int op = file[(int) at] & 0xff;
            long len = b.getLong((int) at + 1);
            if (op == opcode) return at;
            at += 9 + len;
        }
        return -1;
    }

    @Test
    void aWrongChunkCrcIsOneClearError() throws Exception {
        byte[] all = Files.readAllBytes(fixture("ros2-image-none.mcap"));
        long chunk = recordAt(all, McapReader.OP_CHUNK);
        assertTrue(chunk > 0);
        all[(int) chunk + 9 + 200] ^= 0x40;  // a byte of the chunk's records
        Path bad = dir.resolve("crc.mcap");
        Files.write(bad, all);
        SegsaException e = assertThrows(SegsaException.class, () -> frames(bad));
        assertTrue(e.getMessage().contains("crc.mcap") && e.getMessage().contains("offset " + chunk)
                && e.getMessage().contains("CRC mismatch"), e.getMessage());
    }

    @Test
    void unknownOpcodesAreSkipped() throws Exception {
        byte[] all = Files.readAllBytes(fixture("ros2-image-zstd.mcap"));
        long header = recordAt(all, McapReader.OP_HEADER);
        long headerLen = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong((int) header + 1);
        int insertAt = (int) (header + 9 + headerLen);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(all, 0, insertAt);
        b.writeBytes(new byte[] {(byte) 0x80, 3, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3});
        b.write(all, insertAt, all.length - insertAt);
        Path f = dir.resolve("unknown.mcap");
        Files.write(f, b.toByteArray());
        try (McapSource s = new McapSource(f, "/camera/image_raw", 0, Double.POSITIVE_INFINITY)) {
            int n = 0;
            for (McapSource.Frame x : s) n++;
            assertEquals(8, n);
            assertEquals(1, s.reader().skippedRecords());
        }
    }

    @Test
    void aChunkThatClaimsTooMuchIsRefusedBeforeAllocating() throws Exception {
        byte[] all = Files.readAllBytes(fixture("ros2-image-zstd.mcap"));
        long chunk = recordAt(all, McapReader.OP_CHUNK);
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putLong((int) chunk + 9 + 16, 1L << 40);  // uncompressed_size
        Path bad = dir.resolve("bomb.mcap");
        Files.write(bad, all);
        SegsaException e = assertThrows(SegsaException.class, () -> frames(bad));
        assertTrue(e.getMessage().contains("offset " + chunk) && e.getMessage().contains("above the limit"), e.getMessage());
        byte[] notMcap = "hello".getBytes(StandardCharsets.UTF_8);
        Path text = dir.resolve("text.mcap");
        Files.write(text, notMcap);
        e = assertThrows(SegsaException.class, () -> frames(text));
        assertTrue(e.getMessage().contains("not an MCAP file"), e.getMessage());
    }

    @Test
    void aStepThatDisagreesWithTheDataIsRefused() {
        SegsaException e = assertThrows(SegsaException.class, () -> McapImages.raw(new byte[100], 10, 10, 30, "rgb8", "x.mcap: message"));
        assertTrue(e.getMessage().contains("step x height = 30 x 10 = 300 bytes, but the message holds 100"), e.getMessage());
        e = assertThrows(SegsaException.class, () -> McapImages.raw(new byte[200], 10, 10, 20, "yuv422", "x.mcap: message"));
        assertTrue(e.getMessage().contains("encoding 'yuv422' is not read"), e.getMessage());
    }

    @Test
    void writtenFilesReadBack() throws Exception {
        Path f = dir.resolve("out.mcap");
        try (McapWriter w = new McapWriter(f, "", "segsa test")) {
            int scores = w.jsonChannel("/segsa/scores", "segsa.FrameScores", "{\"type\":\"object\"}");
            for (int i = 0; i < 3000; i++) {
                w.message(scores, 1000L + i, ("{\"i\":" + i + ",\"pad\":\"" + "x".repeat(500) + "\"}").getBytes(StandardCharsets.UTF_8));
            }
        }
        try (McapReader r = new McapReader(f)) {
            int n = 0;
            for (McapReader.Message m; (m = r.next()) != null; n++) {
                assertEquals("/segsa/scores", m.channel().topic());
                assertEquals(1000L + n, m.logTime());
                assertTrue(new String(m.data(), StandardCharsets.UTF_8).startsWith("{\"i\":" + n + ","));
            }
            assertEquals(3000, n);
            assertTrue(r.complete());
        }
        List<McapSource.ChannelInfo> list = McapSource.list(f);
        assertEquals(3000, list.get(0).messages(), "from the summary's statistics");
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".segsa-tmp-")), "no temporary left");
        }
    }
}
