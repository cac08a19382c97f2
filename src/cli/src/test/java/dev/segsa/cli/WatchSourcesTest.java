package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.segsa.video.VideoSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code segsa watch} over several named cameras with one budget, its log and status schema, MP4
 * clips, a dead network camera and a stop request, on the fixture of {@link VideoCommandsTest}.
 */
class WatchSourcesTest {
    @TempDir
    static Path tmp;
    static Path dir, model, sa, frames, video;

    @BeforeAll
    static void setUp() throws Exception {
        VideoCommandsTest.dir = tmp;
        VideoCommandsTest.setUp();
        dir = VideoCommandsTest.dir;
        model = VideoCommandsTest.model;
        sa = VideoCommandsTest.sa;
        frames = VideoCommandsTest.frames;
        video = VideoCommandsTest.video;
    }

    @Test
    void twoCamerasShareOneBudgetAndEveryFrameIsLogged() throws Exception {
        Path cfg = dir.resolve("two.json");
        Files.writeString(cfg, """
                {"budget": {"share": 0.2, "windowSeconds": 1, "warmupFrames": 5, "minSharePerSource": 0.05},
                 "triggers": [{"name": "image", "score": "image-mdsa"}],
                 "clip": {"preSeconds": 0.1, "postSeconds": 0.1}}
                """);
        Path out = dir.resolve("watch-two");
        assertEquals(0, EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--source",
                "front=video:" + video, "--source", "side=folder:" + frames, "--fps", "15", "--score-all", "--idle-seconds", "1",
                "--poll-ms", "50", "--settle-ms", "0", "--config", cfg.toString(), "--clip-format", "mp4", "--out", out.toString()));
        List<String> lines = Files.readAllLines(out.resolve("decisions.jsonl"));
        int n = VideoCommandsTest.N;
        assertEquals(2 * n, lines.size(), "a line per frame of each camera");
        long kept = 0;
        int[] perSource = new int[2];
        for (String l : lines) {
            JsonNode d = EndToEndTest.JSON.readTree(l);
            assertEquals(2, d.get("schemaVersion").asInt(), l);
            assertTrue(d.get("timeNs").isIntegralNumber(), l);
            assertTrue(d.get("seconds").isNumber() && !l.matches(".*\"seconds\":[0-9.]+[eE].*"), "plain decimal seconds: " + l);
            assertEquals(d.get("timeNs").asLong() / 1e9, d.get("seconds").asDouble(), 1e-6, l);
            String src = d.get("source").asText();
            assertTrue(src.equals("front") || src.equals("side"), l);
            if (d.get("keep").asBoolean()) {
                kept++;
                perSource[src.equals("front") ? 0 : 1]++;
            }
        }
        assertEquals(0.2 * 2 * n, kept, 2, "one budget of 20% over both cameras: " + kept);
        assertTrue(perSource[0] >= 1 && perSource[1] >= 1, "each camera is owed its minimum: " + perSource[0] + ", " + perSource[1]);
        JsonNode st = EndToEndTest.JSON.readTree(out.resolve("status.json").toFile());
        assertEquals(2, st.get("schemaVersion").asInt());
        assertFalse(st.get("running").asBoolean());
        assertEquals("every source ended", st.get("reason").asText());
        assertEquals(ProcessHandle.current().pid(), st.get("pid").asLong());
        assertTrue(st.get("updatedAt").asText().endsWith("Z"), st.toString());
        assertEquals(2, st.get("sources").size());
        for (JsonNode s : st.get("sources")) {
            assertEquals(n, s.get("framesRead").asInt(), s.toString());
            assertEquals(n, s.get("framesScored").asInt(), s.toString());
            assertTrue(s.get("p99LatencyMs").asDouble() > 0, s.toString());
        }
        List<Path> clips;
        try (var f = Files.list(out)) {
            clips = f.filter(p -> p.getFileName().toString().endsWith("-clip.mp4")).sorted().toList();
        }
        assertFalse(clips.isEmpty(), "MP4 clips written");
        assertEquals(clips.size(), st.get("clipsWritten").asInt());
        int clipFrames = 0;
        for (Path c : clips) {
            try (VideoSource v = VideoSource.open(c, new VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, 0))) {
                for (VideoSource.VideoFrame ignored : v) clipFrames++;
            }
        }
        assertTrue(clipFrames >= kept, clipFrames + " clip frames for " + kept + " kept frames");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aDeadNetworkCameraFailsWithinItsTimeoutsAndTheStatusSaysSo() throws Exception {
        List<Socket> held = new ArrayList<>();
        try (ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread accept = Thread.ofPlatform().daemon().start(() -> {
                try {
                    while (true) held.add(server.accept());  // accepts and never sends a byte
                } catch (Exception ignored) {
                    // closed
                }
            });
            Path out = dir.resolve("watch-dead");
            long t0 = System.nanoTime();
            int st = EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--video",
                    "tcp://127.0.0.1:" + server.getLocalPort(), "--open-timeout", "1", "--read-timeout", "1", "--reconnects", "1",
                    "--share", "0.1", "--out", out.toString());
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertEquals(1, st);
            // two opens of 1 s and a backoff of 1 s, with room for the engine's start
            assertTrue(seconds < 20, "took " + seconds + " s");
            JsonNode status = EndToEndTest.JSON.readTree(out.resolve("status.json").toFile());
            assertFalse(status.get("running").asBoolean());
            assertTrue(status.get("reason").asText().startsWith("error:"), status.toString());
            JsonNode cam = status.get("sources").get(0);
            assertEquals("failed", cam.get("state").asText(), cam.toString());
            assertEquals(1, cam.get("reconnects").asInt(), cam.toString());
            accept.interrupt();
        } finally {
            for (Socket s : held) s.close();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aStopSignalEndsTheRunWithAFinalStatus() throws Exception {
        Path live = Files.createDirectories(dir.resolve("live-stop"));
        for (int i = 0; i < 5; i++) Files.copy(frames.resolve(String.format("s%03d.png", i)), live.resolve(String.format("f%03d.png", i)));
        Path out = dir.resolve("watch-stop");
        int[] status = {-1};
        Thread t = Thread.ofPlatform().start(() -> status[0] = EndToEndTest.run("watch", "--model", model.toString(), "--sa",
                sa.toString(), "--folder", live.toString(), "--share", "0.2", "--poll-ms", "50", "--settle-ms", "0", "--out", out.toString()));
        Path statusFile = out.resolve("status.json");
        awaitFramesSeen(statusFile, 5);
        long t0 = System.nanoTime();
        Process kill = new ProcessBuilder("kill", "-TERM", Long.toString(ProcessHandle.current().pid())).start();
        assertEquals(0, kill.waitFor());
        t.join(30_000);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, status[0]);
        assertTrue(seconds < 5, "the run ended " + seconds + " s after SIGTERM");
        JsonNode st = EndToEndTest.JSON.readTree(statusFile.toFile());
        assertFalse(st.get("running").asBoolean());
        assertEquals("stopped by SIGTERM", st.get("reason").asText());
        assertEquals(5, Files.readAllLines(out.resolve("decisions.jsonl")).size(), "the frames still waiting were decided");
        // every frame read was scored: none left in the source's queue
        assertEquals(0, st.get("framesNotScored").asLong(), st.toString());
        assertEquals(0, st.get("sources").get(0).get("framesNotScored").asLong(), st.toString());
        assertEquals(st.get("sources").get(0).get("framesRead").asLong(), st.get("framesSeen").asLong(), st.toString());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aFolderThatDisappearsEndsTheRunWithAnErrorAndAFinalStatus() throws Exception {
        Path live = Files.createDirectories(dir.resolve("live-gone"));
        for (int i = 0; i < 3; i++) Files.copy(frames.resolve(String.format("s%03d.png", i)), live.resolve(String.format("g%03d.png", i)));
        Path out = dir.resolve("watch-gone");
        int[] status = {-1};
        Thread t = Thread.ofPlatform().start(() -> status[0] = EndToEndTest.run("watch", "--model", model.toString(), "--sa",
                sa.toString(), "--folder", live.toString(), "--share", "0.2", "--poll-ms", "50", "--settle-ms", "0", "--out", out.toString()));
        Path statusFile = out.resolve("status.json");
        awaitFramesSeen(statusFile, 3);
        try (var files = Files.list(live)) {
            for (Path p : files.toList()) Files.delete(p);
        }
        Files.delete(live);
        t.join(30_000);
        assertEquals(1, status[0]);
        JsonNode st = EndToEndTest.JSON.readTree(statusFile.toFile());
        assertFalse(st.get("running").asBoolean());
        assertTrue(st.get("reason").asText().startsWith("error:") && st.get("reason").asText().contains("gone"), st.toString());
        assertEquals(3, Files.readAllLines(out.resolve("decisions.jsonl")).size(), "the frames seen were decided and logged");
    }

    @Test
    void aLogOfTwoSessionsIsWatchedWhole() throws Exception {
        // a log of two recorder sessions: log times restart after the third frame
        Path log = dir.resolve("restarted.mcap");
        long[] times = {5_000_000_000L, 5_100_000_000L, 5_200_000_000L, 1_000_000_000L, 1_100_000_000L, 1_200_000_000L};
        try (dev.segsa.mcap.McapWriter w = new dev.segsa.mcap.McapWriter(log, "", "test")) {
            int ch = w.jsonChannel("/cam", "foxglove.CompressedImage", "{\"type\":\"object\"}");
            for (int i = 0; i < times.length; i++) {
                byte[] png = Files.readAllBytes(frames.resolve(String.format("s%03d.png", i)));
                String json = "{\"frame_id\":\"cam\",\"format\":\"png\",\"data\":\"" + java.util.Base64.getEncoder().encodeToString(png) + "\"}";
                w.message(ch, times[i], json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        Path out = dir.resolve("watch-restarted");
        assertEquals(0, EndToEndTest.run("watch", "--model", model.toString(), "--sa", sa.toString(), "--mcap", log.toString(),
                "--share", "0.5", "--out", out.toString()));
        List<String> lines = Files.readAllLines(out.resolve("decisions.jsonl"));
        assertEquals(times.length, lines.size(), "every frame decided: " + lines);
        double last = -1;
        for (String l : lines) {
            JsonNode d = EndToEndTest.JSON.readTree(l);
            assertTrue(d.get("streamSeconds").asDouble() > last, "the stream time never goes back: " + l);
            last = d.get("streamSeconds").asDouble();
        }
        // the log's chunk indexes give the frames in log-time order: the restarted session's frames come first
        assertEquals(1_000_000_000L, EndToEndTest.JSON.readTree(lines.get(0)).get("timeNs").asLong(), lines.get(0));
        JsonNode st = EndToEndTest.JSON.readTree(out.resolve("status.json").toFile());
        assertEquals("every source ended", st.get("reason").asText());
    }

    @Test
    void aSourceClockThatGoesBackContinuesInANewSegment() {
        WatchSource.TimeBase t = new WatchSource.TimeBase();
        assertEquals(0.0, t.seconds(5_000_000_000L));
        assertEquals(0.1, t.seconds(5_100_000_000L), 1e-12);
        assertEquals(0.2, t.seconds(1_000_000_000L), 1e-12, "a jump back continues one step after the last time");
        assertEquals(1, t.segment());
        assertEquals(0.3, t.seconds(1_100_000_000L), 1e-12);
        assertEquals(0.3, t.seconds(1_100_000_000L), 1e-12, "a repeated time stays");
        assertEquals(1, t.segment());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aFolderForgetsFilesThatLeaveAndGivesUpOnAnEmptyOne() throws Exception {
        Path live = Files.createDirectories(dir.resolve("live-pending"));
        Files.copy(frames.resolve("s000.png"), live.resolve("a000.png"));
        Files.createFile(live.resolve("a001.png"));  // stays empty
        Files.write(live.resolve("a002.png"), new byte[] {1, 2, 3});  // deleted before it settles
        Path out = dir.resolve("watch-pending");
        int[] status = {-1};
        Thread t = Thread.ofPlatform().start(() -> status[0] = EndToEndTest.run("watch", "--model", model.toString(), "--sa",
                sa.toString(), "--folder", live.toString(), "--share", "0.5", "--score-all", "--poll-ms", "50", "--settle-ms", "3000",
                "--idle-seconds", "15", "--out", out.toString()));
        Thread.sleep(500);
        Files.delete(live.resolve("a002.png"));
        t.join(90_000);
        assertEquals(0, status[0], "idle-seconds fired although an empty file was pending");
        JsonNode st = EndToEndTest.JSON.readTree(out.resolve("status.json").toFile());
        JsonNode cam = st.get("sources").get(0);
        assertEquals(1, cam.get("framesRead").asInt(), cam.toString());
        assertEquals(1, cam.get("badFramesSkipped").asInt(), "the empty file was given up: " + cam);
    }

    /** Waits (at most 90 s) until the running watch's status.json counts {@code n} frames seen. */
    private static void awaitFramesSeen(Path statusFile, int n) throws Exception {
        long until = System.nanoTime() + 90_000_000_000L;
        while (System.nanoTime() < until) {
            if (Files.exists(statusFile) && EndToEndTest.JSON.readTree(statusFile.toFile()).get("framesSeen").asInt() >= n) return;
            Thread.sleep(100);
        }
    }
}
