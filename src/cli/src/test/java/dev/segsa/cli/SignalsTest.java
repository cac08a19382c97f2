package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.segsa.model.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * In a separate JVM: SIGINT and SIGTERM while frames are being scored (the run stops after the
 * frame in hand with 130 / 143 and one line, no JVM crash file, the earlier output untouched and
 * no temporary left), and a file size limit hit while a video is finished (as a full disk).
 */
class SignalsTest {
    @TempDir
    static Path dir;
    static Path model, sa, frames;

    @BeforeAll
    static void setUp() throws Exception {
        Path fixture = Path.of(SignalsTest.class.getResource("/e2e").toURI());
        JsonNode m = new ObjectMapper().readTree(fixture.resolve("model.json").toFile());
        model = dir.resolve("model.pt");
        TestModels.saveFixtureModel(model, EndToEndTest.floats(m.get("w1")), EndToEndTest.floats(m.get("b1")),
                EndToEndTest.floats(m.get("w2")), EndToEndTest.floats(m.get("b2")), m.get("classes").asInt());
        sa = dir.resolve("fixture.sa");
        assertEquals(0, EndToEndTest.run("fit", "--model", model.toString(), "--images", fixture.resolve("train/images").toString(),
                "--labels", fixture.resolve("train/labels").toString(), "--out", sa.toString(), "--lsa-references", "50"));
        // 3000 frames: hard links to one 960x720 frame of seeded noise (minutes of work; the test stops it after seconds)
        BufferedImage img = new BufferedImage(960, 720, BufferedImage.TYPE_INT_RGB);
        SplittableRandom r = new SplittableRandom(1);
        for (int y = 0; y < 720; y++) for (int x = 0; x < 960; x++) img.setRGB(x, y, r.nextInt(1 << 24));
        frames = dir.resolve("frames");
        Files.createDirectories(frames);
        Path first = frames.resolve("f00000.png");
        ImageIO.write(img, "png", first.toFile());
        for (int i = 1; i < 3000; i++) Files.createLink(frames.resolve(String.format("f%05d.png", i)), first);
    }

    @Test
    void sigtermStopsBetweenFrames() throws Exception {
        stopWith("TERM", 143);
    }

    @Test
    void sigintStopsBetweenFrames() throws Exception {
        stopWith("INT", 130);
    }

    void stopWith(String signal, int status) throws Exception {
        Path work = Files.createDirectories(dir.resolve("run-" + signal));
        Path out = work.resolve("scores.csv");
        Files.writeString(out, "an earlier run's scores\n");
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.segsa.cli.SegsaCommand", "score", "--model", model.toString(), "--sa", sa.toString(), "--images", frames.toString(),
                "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(work.resolve("log.txt").toFile()).start();
        // the JVM starts, loads LibTorch and the model, and scores for a while
        Thread.sleep(6000);
        assertTrue(p.isAlive(), "the run ended before the signal: " + Files.readString(work.resolve("log.txt")));
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the run did not stop within 60 s of SIG" + signal);
        String log = Files.readString(work.resolve("log.txt"), StandardCharsets.UTF_8);
        assertEquals(status, p.exitValue(), log);
        assertTrue(log.contains("stopped by SIG" + signal), log);
        assertFalse(log.contains("\tat "), log);
        assertEquals("an earlier run's scores\n", Files.readString(out), "the earlier output is untouched");
        try (Stream<Path> s = Files.list(work)) {
            List<String> names = s.map(q -> q.getFileName().toString()).toList();
            assertTrue(names.stream().noneMatch(n -> n.startsWith("hs_err") || n.startsWith("core")), "a JVM crash file: " + names);
            assertTrue(names.stream().noneMatch(n -> n.contains(".segsa-tmp-")), "a temporary was left: " + names);
        }
    }

    /** A file size limit (ulimit -f, as a full disk) hit while render finishes its video: exit 1, the earlier file intact, no temporary. */
    @Test
    void aFullDiskWhileTheVideoIsFinishedLosesNothing() throws Exception {
        Path fixture = Path.of(SignalsTest.class.getResource("/e2e").toURI());
        Path work = Files.createDirectories(dir.resolve("disk-full"));
        Path video = work.resolve("in.mp4");
        assertEquals(0, EndToEndTest.run("encode", "--images", fixture.resolve("train/images").toString(), "--fps", "15", "--out",
                video.toString()));
        Path full = dir.resolve("full.mp4");
        assertEquals(0, EndToEndTest.run("render", "--model", model.toString(), "--sa", sa.toString(), "--video", video.toString(),
                "--out", full.toString()));
        long size = Files.size(full);
        Path out = work.resolve("evidence.mp4");
        Files.writeString(out, "an earlier video\n");
        Path nativeDir = Path.of(System.getProperty("segsa.home", "../.."), "target", "segsa-core", "classes", "native", "linux-x86_64")
                .normalize();
        assertTrue(Files.isDirectory(nativeDir), nativeDir.toString());
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // the limit leaves the video's last 2-3 KB (the MP4 index) unwritten
        long limitKb = (size - 2500) / 1024;
        String cmd = "ulimit -f " + limitKb + " && exec '" + java + "' -XX:-UsePerfData --enable-native-access=ALL-UNNAMED -Dsegsa.native.path='"
                + nativeDir + "' -cp '" + System.getProperty("java.class.path") + "' dev.segsa.cli.SegsaCommand render --model '" + model
                + "' --sa '" + sa + "' --video '" + video + "' --out '" + out + "'";
        Process p = new ProcessBuilder("bash", "-c", cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("disk-full.log").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        String log = Files.readString(dir.resolve("disk-full.log"));
        assertEquals(1, p.exitValue(), log);
        assertTrue(log.contains("cannot finish the video") || log.contains("File too large"), log);
        assertFalse(log.contains("\tat "), log);
        assertEquals("an earlier video\n", Files.readString(out));
        try (Stream<Path> s = Files.list(work)) {
            List<String> names = s.map(q -> q.getFileName().toString()).toList();
            assertTrue(names.stream().noneMatch(n -> n.startsWith("hs_err") || n.contains(".segsa-tmp-")), names.toString());
        }
    }
}
