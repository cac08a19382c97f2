package dev.segsa.mcap;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Logs whose file order is not log-time order (legal MCAP), a time window that counts what it
 * passes over, a corrupt length in a finished log (an error, or with skipBadChunks the next chunk)
 * against a log cut short (read to the cut), and JSON image messages read strictly. The files are
 * written here by {@link McapWriter} with small chunks: 6 frames of 4x2 mono8 (foxglove.RawImage in
 * JSON) whose pixel value is the frame's rank in log time, beside a text channel.
 */
class McapOrderAndDamageTest {
    static final long BASE = 1_700_000_000_000_000_000L, STEP = 100_000_000L;

    @TempDir
    Path dir;

    static String rawImage(int value, String widthJson) {
        byte[] px = new byte[8];
        Arrays.fill(px, (byte) value);
        return "{\"timestamp\":{\"sec\":1700000000,\"nsec\":0},\"frame_id\":\"cam\",\"width\":" + widthJson + ",\"height\":2,"
                + "\"encoding\":\"mono8\",\"step\":4,\"data\":\"" + Base64.getEncoder().encodeToString(px) + "\"}";
    }

    /** Frames at BASE + rank x 100 ms in the order given, {@code perChunk} frames (and their text messages) a chunk. */
    Path write(String name, int[] ranks, int perChunk) {
        Path f = dir.resolve(name);
        try (McapWriter w = new McapWriter(f, "", "test", Integer.MAX_VALUE)) {
            int cam = w.channel("/cam", "json", "foxglove.RawImage", "jsonschema", "{}".getBytes(StandardCharsets.UTF_8));
            int log = w.jsonChannel("/log", "segsa.Log", "{}");
            for (int i = 0; i < ranks.length; i++) {
                long t = BASE + ranks[i] * STEP;
                w.message(cam, t, rawImage(ranks[i] * 10, "4").getBytes(StandardCharsets.UTF_8));
                w.message(log, t, ("{\"i\":" + i + "}").getBytes(StandardCharsets.UTF_8));
                if ((i + 1) % perChunk == 0) w.endChunk();
            }
        }
        return f;
    }

    record Read(List<McapSource.Frame> frames, McapSource source) {}

    static Read read(Path f, double from, double to, boolean skip) {
        List<McapSource.Frame> out = new ArrayList<>();
        McapSource s = new McapSource(f, null, from, to, skip);
        try (s) {
            for (McapSource.Frame x : s) out.add(x);
        }
        return new Read(out, s);
    }

    static int value(McapSource.Frame f) {
        return f.image().getRGB(0, 0) & 255;
    }

    /** Top-level records of this opcode, in file order. */
    static List<Long> recordsAt(byte[] file, int opcode) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        List<Long> out = new ArrayList<>();
        long at = 8;
        while (at + 9 <= file.length) {
            int op = file[(int) at] & 0xff;
            long len = b.getLong((int) at + 1);
            if (op == opcode) out.add(at);
            if (op == McapReader.OP_DATA_END) break;
            at += 9 + len;
        }
        return out;
    }

    static long lengthAt(byte[] file, long at) {
        return ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong((int) at + 1);
    }

    /** The same log without its summary: the data section, then a footer that points at no summary, and the magic. */
    static byte[] withoutSummary(byte[] all) {
        long end = recordsAt(all, McapReader.OP_DATA_END).get(0);
        int keep = (int) (end + 9 + lengthAt(all, end));
        ByteBuffer b = ByteBuffer.allocate(keep + 9 + 20 + 8).order(ByteOrder.LITTLE_ENDIAN);
        b.put(all, 0, keep).put((byte) McapReader.OP_FOOTER).putLong(20).putLong(0).putLong(0).putInt(0).put(McapReader.MAGIC);
        return b.array();
    }

    @Test
    void framesStoredOutOfLogTimeOrderAllComeOutInLogTimeOrderThroughTheIndexes() throws Exception {
        // chunks {5, 0}, {3, 1}, {4, 2}: each chunk out of order and the chunks too; then chunks {0, 5}, {1, 3}, {2, 4}: overlapping
        for (int[] ranks : new int[][] {{5, 0, 3, 1, 4, 2}, {0, 5, 1, 3, 2, 4}}) {
            Read r = read(write("shuffled.mcap", ranks, 2), 0, Double.POSITIVE_INFINITY, false);
            assertEquals(6, r.frames().size(), Arrays.toString(ranks));
            assertTrue(r.source().inLogTimeOrder());
            assertNull(r.source().fileOrderReason());
            for (int k = 0; k < 6; k++) {
                assertEquals(BASE + k * STEP, r.frames().get(k).logTime(), "frame " + k + " of " + Arrays.toString(ranks));
                assertEquals(k * 10, value(r.frames().get(k)));
                assertEquals(k, r.frames().get(k).index());
            }
            assertEquals(0, r.source().skippedBeforeWindow());
            assertEquals(0, r.source().outOfOrderFrames());
        }
        // the official writer's files go the same way
        Read official = read(McapReaderTest.fixture("ros2-image-zstd.mcap"), 0, Double.POSITIVE_INFINITY, false);
        assertTrue(official.source().inLogTimeOrder());
        assertEquals(8, official.frames().size());
    }

    @Test
    void withoutIndexesEveryFrameComesOutInFileOrderNoneDroppedForBeingEarlier() throws Exception {
        int[] ranks = {5, 0, 3, 1, 4, 2};
        byte[] all = Files.readAllBytes(write("shuffled.mcap", ranks, 2));
        Path noSummary = dir.resolve("no-summary.mcap");
        Files.write(noSummary, withoutSummary(all));
        Path noFooter = dir.resolve("no-footer.mcap");
        byte[] noSummaryBytes = withoutSummary(all);
        Files.write(noFooter, Arrays.copyOf(noSummaryBytes, noSummaryBytes.length - 37));
        for (Path f : List.of(noSummary, noFooter)) {
            Read r = read(f, 0, Double.POSITIVE_INFINITY, false);
            assertEquals(6, r.frames().size(), f.toString());  // was 1 of 6: all but the first read were "before --from"
            assertFalse(r.source().inLogTimeOrder());
            assertEquals("the file has no summary section", r.source().fileOrderReason());
            for (int k = 0; k < 6; k++) assertEquals(BASE + ranks[k] * STEP, r.frames().get(k).logTime());
            assertEquals(5, r.source().outOfOrderFrames(), "0, 3, 1, 4, 2 come after 5");
            assertEquals(0, r.source().skippedBeforeWindow());
        }
        // only the end given: the start is not a bound, the end counts from the first message read (rank 5)
        Read r = read(noSummary, 0, 0.05, false);
        assertEquals(6, r.frames().size());
        assertEquals(0, r.source().skippedAfterWindow());
    }

    @Test
    void aWindowCountsTheFramesItPassesOver() {
        Path f = write("shuffled.mcap", new int[] {5, 0, 3, 1, 4, 2}, 2);
        Read r = read(f, 0.25, 0.45, false);
        assertEquals(List.of(BASE + 3 * STEP, BASE + 4 * STEP), r.frames().stream().map(McapSource.Frame::logTime).toList());
        assertEquals(3, r.source().skippedBeforeWindow(), "ranks 0, 1, 2");
        assertEquals(1, r.source().skippedAfterWindow(), "rank 5");
        assertEquals(2, r.source().reader().chunksLoaded, "the chunk {5, 0} is counted by its message index, not read");
        Read late = read(f, 0.45, Double.POSITIVE_INFINITY, false);
        assertEquals(1, late.frames().size());
        assertEquals(5, late.source().skippedBeforeWindow());
        assertEquals(0, late.source().skippedAfterWindow());
        // a frame keeps its index (its rank among the topic's messages) with or without a window, the unread chunk's
        // frames counted: rank 3 is frame 3, not frame 1
        assertEquals(List.of(3L, 4L), r.frames().stream().map(McapSource.Frame::index).toList());
        assertEquals(5L, late.frames().getFirst().index());
        Path ordered = write("ordered.mcap", new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 2);
        Read all = read(ordered, 0, Double.POSITIVE_INFINITY, false), window = read(ordered, 0.55, 0.75, false);
        assertEquals(1, window.source().reader().chunksLoaded, "only chunk {6,7} is read; the others are counted by their indexes");
        for (McapSource.Frame w : window.frames()) {
            McapSource.Frame same = all.frames().stream().filter(a -> a.logTime() == w.logTime()).findFirst().orElseThrow();
            assertEquals(same.index(), w.index(), "the frame at " + w.logTime());
        }
        assertEquals(List.of(6L, 7L), window.frames().stream().map(McapSource.Frame::index).toList());
    }

    /** A log of 3 chunks with the middle chunk's record length corrupted; returns {file, chunk offsets..., middle chunk length}. */
    Object[] corruptMiddle(String name) throws Exception {
        byte[] all = Files.readAllBytes(write("good.mcap", new int[] {0, 1, 2, 3, 4, 5}, 2));
        List<Long> chunks = recordsAt(all, McapReader.OP_CHUNK);
        assertEquals(3, chunks.size());
        long middle = chunks.get(1), middleLength = 9 + lengthAt(all, middle);
        assertTrue(all.length < 9_999_999);
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putLong((int) middle + 1, 9_999_999L);
        Path f = dir.resolve(name);
        Files.write(f, all);
        return new Object[] {f, chunks, middleLength};
    }

    @Test
    void aCorruptLengthInAFinishedLogIsAnErrorNamingTheOffsetNotACut() throws Exception {
        Object[] c = corruptMiddle("corrupt.mcap");
        Path f = (Path) c[0];
        @SuppressWarnings("unchecked") long middle = ((List<Long>) c[1]).get(1);
        String expected = "corrupt.mcap: record at offset " + middle + " declares length 9999999 beyond the end of the file "
                + "(the log is corrupt, not cut short)";
        // through the chunk indexes (McapSource) and in file order (McapReader alone)
        SegsaException e = assertThrows(SegsaException.class, () -> read(f, 0, Double.POSITIVE_INFINITY, false));
        assertTrue(e.getMessage().endsWith(expected), e.getMessage());
        try (McapReader r = new McapReader(f)) {
            assertTrue(r.hasFooter());
            e = assertThrows(SegsaException.class, () -> {
                while (r.next() != null) {
                    // read on
                }
            });
            assertTrue(e.getMessage().endsWith(expected), e.getMessage());
            assertEquals(-1, r.truncatedAt());
        }
        // without a summary there is no chunk index to go on at, even when asked to skip
        Path bare = dir.resolve("corrupt-bare.mcap");
        byte[] noSummary = withoutSummary(Files.readAllBytes(write("good.mcap", new int[] {0, 1, 2, 3, 4, 5}, 2)));
        ByteBuffer.wrap(noSummary).order(ByteOrder.LITTLE_ENDIAN).putLong((int) middle + 1, 9_999_999L);
        Files.write(bare, noSummary);
        e = assertThrows(SegsaException.class, () -> read(bare, 0, Double.POSITIVE_INFINITY, true));
        assertTrue(e.getMessage().contains("record at offset " + middle + " declares length 9999999")
                && e.getMessage().contains("no chunk index to resume from"), e.getMessage());
    }

    @Test
    void skippingBadChunksGoesOnAtTheNextChunkAndListsTheRange() throws Exception {
        Object[] c = corruptMiddle("corrupt.mcap");
        Path f = (Path) c[0];
        @SuppressWarnings("unchecked") List<Long> chunks = (List<Long>) c[1];
        long middle = chunks.get(1), middleLength = (long) c[2];
        Read r = read(f, 0, Double.POSITIVE_INFINITY, true);
        assertEquals(List.of(0, 10, 40, 50), r.frames().stream().map(McapOrderAndDamageTest::value).toList());
        List<McapReader.SkippedRange> skipped = r.source().skippedRanges();
        assertEquals(1, skipped.size());
        assertEquals(middle, skipped.get(0).start());
        assertEquals(middle + middleLength, skipped.get(0).end());
        assertEquals(2, skipped.get(0).messages(), "two frames, by the message index");
        assertTrue(skipped.get(0).reason().contains("declares length 9999999 beyond the end of the file"), skipped.get(0).reason());
        // in file order: the range runs to the next chunk of the chunk indexes (the middle chunk's message indexes with it)
        try (McapReader reader = new McapReader(f, true)) {
            List<Long> times = new ArrayList<>();
            for (McapReader.Message m; (m = reader.next()) != null; ) if (m.channel().topic().equals("/cam")) times.add(m.logTime());
            assertEquals(List.of(BASE, BASE + STEP, BASE + 4 * STEP, BASE + 5 * STEP), times);
            assertTrue(reader.complete());
            assertEquals(List.of(new McapReader.SkippedRange(middle, chunks.get(2), skipped.get(0).reason(), -1)), reader.skippedRanges());
        }
        // a chunk whose data is damaged (CRC) is skipped the same way
        byte[] all = Files.readAllBytes(write("good.mcap", new int[] {0, 1, 2, 3, 4, 5}, 2));
        all[(int) (chunks.get(1) + middleLength - 3)] ^= 0x55;
        Path crc = dir.resolve("crc.mcap");
        Files.write(crc, all);
        SegsaException e = assertThrows(SegsaException.class, () -> read(crc, 0, Double.POSITIVE_INFINITY, false));
        assertTrue(e.getMessage().contains("record at offset " + middle), e.getMessage());
        Read rc = read(crc, 0, Double.POSITIVE_INFINITY, true);
        assertEquals(4, rc.frames().size());
        assertEquals(middle, rc.source().skippedRanges().get(0).start());
    }

    @Test
    void aLogCutShortIsStillReadToTheCut() throws Exception {
        byte[] all = Files.readAllBytes(write("good.mcap", new int[] {0, 1, 2, 3, 4, 5}, 2));
        long third = recordsAt(all, McapReader.OP_CHUNK).get(2);
        Path cut = dir.resolve("cut.mcap");
        Files.write(cut, Arrays.copyOf(all, (int) third + 20));
        Read r = read(cut, 0, Double.POSITIVE_INFINITY, false);
        assertEquals(List.of(0, 10, 20, 30), r.frames().stream().map(McapOrderAndDamageTest::value).toList());
        assertFalse(r.source().reader().hasFooter());
        assertEquals(third, r.source().reader().truncatedAt());
        assertTrue(r.source().skippedRanges().isEmpty());
    }

    static McapReader.Message jsonMessage(String json, long logTime) {
        McapReader.Channel ch = new McapReader.Channel(1, 1, "/cam", "json", Map.of());
        return new McapReader.Message(ch, 0, logTime, logTime, json.getBytes(StandardCharsets.UTF_8), 1234);
    }

    static final McapReader.Schema RAW = new McapReader.Schema(1, "foxglove.RawImage", "jsonschema", new byte[0]);

    static String refusal(String json) {
        return assertThrows(SegsaException.class, () -> McapImages.decode(jsonMessage(json, BASE + 7), RAW, "drive.mcap", 3)).getMessage();
    }

    @Test
    void jsonImagesAreReadStrictly() throws Exception {
        assertEquals(40, McapImages.decode(jsonMessage(rawImage(40, "4"), BASE), RAW, "drive.mcap", 0).image().getRGB(3, 1) & 255);
        String m = refusal(rawImage(40, "4294967456"));  // 2^32 + 160: read as 160 by a reader that casts
        assertTrue(m.startsWith("drive.mcap: /cam message #3 (log time 1700000000.000000007 s, record at offset 1234): "), m);
        assertTrue(m.contains("width must be an integer in [1, 16384], got 4294967456"), m);
        assertTrue(refusal(rawImage(40, "4.5")).contains("width must be an integer"));
        assertTrue(refusal(rawImage(40, "\"4\"")).contains("width must be an integer"));
        assertTrue(refusal(rawImage(40, "4").replace("\"step\":4", "\"step\":-4")).contains("step must be an integer in [1, 4294967295]"));
        String duplicate = refusal(rawImage(40, "4").replace("\"height\":2", "\"height\":2,\"height\":3"));
        // the wording is StrictJson's (shared): the key named, and that it comes twice
        assertTrue(duplicate.contains("height") && duplicate.toLowerCase(java.util.Locale.ROOT).matches(".*(twice|duplicate).*"), duplicate);
        String trailing = refusal(rawImage(40, "4") + " {}");
        assertTrue(trailing.contains("not valid JSON") && trailing.contains("after"), trailing);
        assertTrue(refusal(rawImage(40, "4").replace("\"nsec\":0", "\"nsec\":1000000000")).contains("timestamp.nsec must be an integer"));
        assertTrue(refusal(rawImage(40, "4").replace(",\"encoding\":\"mono8\"", "")).contains("encoding is missing"));
        // through a log: the frame's index and log time named
        Path f = dir.resolve("wide.mcap");
        try (McapWriter w = new McapWriter(f, "", "test")) {
            int cam = w.channel("/cam", "json", "foxglove.RawImage", "jsonschema", "{}".getBytes(StandardCharsets.UTF_8));
            w.message(cam, BASE, rawImage(1, "4").getBytes(StandardCharsets.UTF_8));
            w.message(cam, BASE + STEP, rawImage(2, "4294967456").getBytes(StandardCharsets.UTF_8));
        }
        SegsaException e = assertThrows(SegsaException.class, () -> read(f, 0, Double.POSITIVE_INFINITY, false));
        assertTrue(e.getMessage().contains("wide.mcap: /cam message #1 (log time 1700000000.100000000 s")
                && e.getMessage().contains("width must be an integer in [1, 16384], got 4294967456"), e.getMessage());
    }
}
