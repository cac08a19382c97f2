package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.segsa.mcap.McapReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code segsa score --mcap} on ROS 2 logs written by the official MCAP TypeScript library
 * (src/testdata/mcap): the channel list, scores as rows, and the MCAP it writes read back by
 * segsa's reader and, where node is present, by the official reader (tools/mcap/check.mjs,
 * McapStreamReader with CRCs validated).
 */
class McapCommandTest {
    @TempDir
    static Path dir;
    static Path model, sa;

    @BeforeAll
    static void setUp() throws Exception {
        Path[] f = EndToEndTest.fittedFixture(dir);
        model = f[0];
        sa = f[1];
    }

    static Path fixture(String name) throws Exception {
        return Path.of(McapCommandTest.class.getResource("/mcap/" + name).toURI());
    }

    static String stdout(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(0, EndToEndTest.run(args));
        } finally {
            System.setOut(old);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void listsTheChannels() throws Exception {
        String table = stdout("score", "--mcap", fixture("ros2-compressed-zstd.mcap").toString(), "--list");
        assertTrue(table.contains("/camera/image_raw/compressed") && table.contains("sensor_msgs/msg/CompressedImage")
                && table.contains("96x72") && table.contains("camera"), table);
        assertTrue(table.contains("/rosout_text") && table.contains("std_msgs/msg/String"), table);
    }

    @Test
    void scoresEveryFixtureAndWritesAnMcapTheOfficialReaderReads() throws Exception {
        for (String f : List.of("ros2-image-zstd.mcap", "ros2-image-lz4.mcap", "ros2-image-none.mcap", "ros2-mono8-none.mcap",
                "ros2-compressed-zstd.mcap")) {
            Path csv = dir.resolve(f + ".csv"), out = dir.resolve(f + ".out.mcap");
            assertEquals(0, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--mcap", fixture(f).toString(),
                    "--out", csv.toString(), "--mcap-out", out.toString()), f);
            List<String> lines = Files.readAllLines(csv);
            assertEquals("video,frame,pts,time_ns,class,pixels,mdsa,lsa,iou,row_kind", lines.get(0));
            assertEquals(8, lines.subList(1, lines.size()).stream().map(l -> l.split(",")[1]).distinct().count(), f);
            for (String l : lines.subList(1, lines.size())) {
                // time_ns is the camera message's log time, exactly; pts the same in seconds, a plain decimal
                String[] cells = l.split(",", -1);
                long logTime = 1_700_000_000_000_000_000L + Long.parseLong(cells[1]) * 66_666_667L;
                assertEquals(Long.toString(logTime), cells[3], l);
                assertEquals(new java.math.BigDecimal(cells[2]).movePointRight(9).longValueExact(), logTime, l);
                assertTrue(cells[2].matches("\\d+\\.\\d{9}"), "pts without E-notation: " + l);
            }
            assertTrue(lines.get(1).startsWith(f + ":"), lines.get(1));
            assertTrue(lines.get(1).contains(",0,1700000000.000000000,1700000000000000000,"), lines.get(1));
            dev.segsa.scores.ScoresCsv.Contents back = dev.segsa.scores.ScoresCsv.read(csv);
            assertEquals(1_700_000_000_000_000_000L, back.timeNs().get(back.rows().getFirst().image()), "time_ns read back");
            assertEquals(1_700_000_000.0, back.ptsSeconds().get(back.rows().getFirst().image()), 1e-6, "pts read back");
            try (McapReader r = new McapReader(out)) {
                int scores = 0, heat = 0;
                for (McapReader.Message m; (m = r.next()) != null; ) {
                    if (m.channel().topic().equals("/segsa/scores")) scores++;
                    if (m.channel().topic().equals("/segsa/heatmap")) heat++;
                    assertEquals(1_700_000_000_000_000_000L + (m.channel().topic().equals("/segsa/scores") ? scores - 1 : heat - 1)
                            * 66_666_667L, m.logTime(), "at the camera message's log time");
                }
                assertEquals(8, scores);
                assertEquals(8, heat);
                assertTrue(r.complete());
            }
        }
        Path out = dir.resolve("ros2-image-zstd.mcap.out.mcap");
        JsonNode check = officialReader(out);
        assertEquals(2, check.get("channels").size(), check.toString());
        JsonNode scores = check.get("channels").get(0);
        assertEquals("/segsa/scores", scores.get("topic").asText());
        assertEquals("jsonschema", scores.get("schemaEncoding").asText());
        assertEquals(8, scores.get("messages").asInt());
        assertTrue(scores.get("first").get("imageMdsa").asDouble() > 0, scores.toString());
        JsonNode heat = check.get("channels").get(1);
        assertEquals("foxglove.RawImage", heat.get("schema").asText());
        assertEquals(8, heat.get("messages").asInt());
        assertTrue(check.get("footer").asBoolean() && check.get("chunkIndexes").asInt() >= 1, check.toString());
    }

    @Test
    void theCameraCanBeCopiedThroughIntoOneFile() throws Exception {
        Path csv = dir.resolve("copy.csv"), out = dir.resolve("copy.mcap");
        assertEquals(0, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--mcap",
                fixture("ros2-image-lz4.mcap").toString(), "--out", csv.toString(), "--mcap-out", out.toString(), "--mcap-copy-input"));
        JsonNode check = officialReader(out);
        assertEquals(3, check.get("channels").size(), check.toString());
        JsonNode cam = null;
        for (JsonNode c : check.get("channels")) if (c.get("topic").asText().equals("/camera/image_raw")) cam = c;
        assertNotNull(cam, check.toString());
        assertEquals("sensor_msgs/msg/Image", cam.get("schema").asText());
        assertEquals("ros2msg", cam.get("schemaEncoding").asText());
        assertEquals("cdr", cam.get("messageEncoding").asText());
        assertEquals(8, cam.get("messages").asInt());
        // and segsa reads the copied camera back as the same frames
        List<dev.segsa.mcap.McapSource.Frame> a = new java.util.ArrayList<>(), b = new java.util.ArrayList<>();
        try (var s = new dev.segsa.mcap.McapSource(fixture("ros2-image-lz4.mcap"), null, 0, Double.POSITIVE_INFINITY)) { s.forEach(a::add); }
        try (var s = new dev.segsa.mcap.McapSource(out, "/camera/image_raw", 0, Double.POSITIVE_INFINITY)) { s.forEach(b::add); }
        assertEquals(8, b.size());
        for (int i = 0; i < 8; i++) assertEquals(a.get(i).logTime(), b.get(i).logTime());
    }

    @Test
    void watchAnMcapLog() throws Exception {
        Path out = dir.resolve("watch-mcap");
        assertEquals(0, EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--mcap",
                fixture("ros2-compressed-zstd.mcap").toString(), "--share", "0.5", "--out", out.toString()));
        List<String> d = Files.readAllLines(out.resolve("decisions.jsonl"));
        assertEquals(8, d.size());
        assertTrue(d.get(0).contains("\"name\":\"/camera/image_raw/compressed#0\"") && d.get(0).contains("\"seconds\":1700000000.000000")
                && d.get(0).contains("\"timeNs\":1700000000000000000"), d.get(0));
    }

    @Test
    void aRunThatScoresNothingLeavesTheOutputsAsTheyWere() throws Exception {
        Path csv = dir.resolve("keep.csv"), out = dir.resolve("keep.mcap");
        Files.writeString(csv, "earlier");
        Files.writeString(out, "earlier");
        assertEquals(1, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--mcap",
                fixture("ros2-image-zstd.mcap").toString(), "--topic", "/rosout_text", "--out", csv.toString(), "--mcap-out", out.toString()));
        assertEquals("earlier", Files.readString(csv));
        assertEquals("earlier", Files.readString(out));
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".segsa-tmp-")), "no temporary left");
        }
    }

    @Test
    void aTopicTheLogLacksIsNamedWithTheLogsCameraTopics() throws Exception {
        Path csv = dir.resolve("nope.csv");
        RiskWorkflowTest.Run r = RiskWorkflowTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--mcap",
                fixture("ros2-image-zstd.mcap").toString(), "--topic", "/camera/rear", "--out", csv.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("no camera frame in topic /camera/rear; the log's camera topics: /camera/image_raw"), r.err());
        assertFalse(Files.exists(csv));
    }

    /** tools/mcap/check.mjs on a file; skipped where node (or the npm packages, installed on first use) is missing. */
    static JsonNode officialReader(Path file) throws Exception {
        Path tool = Path.of("tools/mcap");
        assumeTrue(run(tool, 20, "node", "--version"), "node is not installed: the official-reader check is skipped");
        if (!Files.isDirectory(tool.resolve("node_modules/@mcap/core"))) {
            assumeTrue(run(tool, 180, "npm", "ci", "--no-audit", "--no-fund"), "npm ci failed (no registry?): the official-reader check is skipped");
        }
        Process p = new ProcessBuilder("node", "check.mjs", file.toAbsolutePath().toString()).directory(tool.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "the official reader refused " + file + ": " + out);
        return EndToEndTest.JSON.readTree(out);
    }

    private static boolean run(Path dir, int seconds, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(seconds, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void aLogStoredOutOfTimeOrderIsScoredWholeInTimeOrder() throws Exception {
        Path log = dir.resolve("shuffled.mcap");
        long[] times = {1_700_000_000_300_000_000L, 1_700_000_000_000_000_000L, 1_700_000_000_500_000_000L, 1_700_000_000_100_000_000L,
                1_700_000_000_400_000_000L, 1_700_000_000_200_000_000L};
        java.util.Random r = new java.util.Random(5);
        try (dev.segsa.mcap.McapWriter w = new dev.segsa.mcap.McapWriter(log, "", "test")) {
            int ch = w.jsonChannel("/cam", "foxglove.CompressedImage", "{\"type\":\"object\"}");
            for (long t : times) {
                java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(32, 24, java.awt.image.BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 24; y++) for (int x = 0; x < 32; x++) img.setRGB(x, y, r.nextInt(1 << 24));
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                javax.imageio.ImageIO.write(img, "png", png);
                String json = "{\"frame_id\":\"cam\",\"format\":\"png\",\"data\":\""
                        + java.util.Base64.getEncoder().encodeToString(png.toByteArray()) + "\"}";
                w.message(ch, t, json.getBytes(StandardCharsets.UTF_8));
            }
        }
        Path csv = dir.resolve("shuffled.csv");
        assertEquals(0, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--mcap", log.toString(),
                "--out", csv.toString()));
        List<String> rows = Files.readAllLines(csv);
        List<String> frames = rows.subList(1, rows.size()).stream().map(l -> l.split(",")[1]).distinct().toList();
        assertEquals(6, frames.size(), "every frame scored: " + frames);
        List<Double> pts = rows.subList(1, rows.size()).stream().map(l -> Double.parseDouble(l.split(",")[2])).distinct().toList();
        for (int i = 1; i < pts.size(); i++) assertTrue(pts.get(i) > pts.get(i - 1), "in log-time order: " + pts);
    }

    @Test
    void theMcapOutputCarriesTheCameraFrameIdAMetadataRecordAPngHeatmapAndTheUsersFileMode() throws Exception {
        Path out = dir.resolve("polish.mcap");
        assertEquals(0, EndToEndTest.run("score", "--model", model.toString(), "--sa", sa.toString(), "--mcap",
                fixture("ros2-image-zstd.mcap").toString(), "--out", dir.resolve("polish.csv").toString(), "--mcap-out", out.toString(),
                "--mcap-heatmap", "png", "--mcap-copy-input"));
        String cameraFrameId = null, heatFrameId = null, heatSchema = null, metadata = null;
        String profile;
        try (McapReader r = new McapReader(out)) {
            profile = r.profile();
            for (McapReader.Message m; (m = r.next()) != null; ) {
                String topic = m.channel().topic();
                if (topic.equals("/segsa/heatmap") && heatFrameId == null) {
                    JsonNode h = EndToEndTest.JSON.readTree(m.data());
                    heatFrameId = h.get("frame_id").asText();
                    assertEquals("png", h.get("format").asText());
                    byte[] png = java.util.Base64.getDecoder().decode(h.get("data").asText());
                    assertNotNull(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png)), "a PNG");
                    heatSchema = r.schemas().get(m.channel().schemaId()).name();
                } else if (!topic.startsWith("/segsa/") && cameraFrameId == null) {
                    cameraFrameId = dev.segsa.mcap.McapImages.decode(m, r.schemas().get(m.channel().schemaId()), out.toString()).frameId();
                }
            }
        }
        assertEquals("foxglove.CompressedImage", heatSchema);
        assertNotNull(cameraFrameId);
        assertEquals(cameraFrameId, heatFrameId, "the heatmap carries the camera's frame_id");
        assertEquals("ros2", profile, "the copied ROS 2 messages keep the profile");
        byte[] bytes = Files.readAllBytes(out);
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("saFileSha256") && text.contains(ScoreCommand.sha256(sa)) && text.contains("segsaVersion"),
                "a Metadata record with the SA file's hash and segsa's version");
        var perms = Files.getPosixFilePermissions(out);
        assertTrue(perms.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)
                || perms.contains(java.nio.file.attribute.PosixFilePermission.GROUP_READ), "the user's umask, not 0600: " + perms);
    }
}
