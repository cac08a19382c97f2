package dev.segsa.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A stop signal that no frame loop takes (a forward that never returns) ends the process after the
 * grace period with one line and 143 / 130, through _exit: no shutdown hook runs (so no native
 * teardown under the forward), no crash file is written; a second signal ends it at once.
 */
class ForcedExitTest {
    @TempDir
    Path dir;

    private Process start() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-Dsegsa.stopGraceMs=800", "-cp",
                System.getProperty("java.class.path"), StopGraceProbe.class.getName()).directory(dir.toFile());
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("ready", out.readLine());
        return p;
    }

    private static void signal(Process p, String name) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + name, Long.toString(p.pid())).start().waitFor());
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aStopNoLoopTakesEndsAfterTheGraceWithoutNativeTeardown() throws Exception {
        Process p = start();
        long t0 = System.nanoTime();
        signal(p, "TERM");
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "ended");
        double seconds = (System.nanoTime() - t0) / 1e9;
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(143, p.exitValue(), err);
        assertTrue(seconds >= 0.7, "waited for the grace: " + seconds);
        assertTrue(err.contains("SIGTERM: stopped at once (no frame loop took the stop request"), err);
        assertFalse(err.contains("shutdown hook ran"), "no shutdown hook: " + err);
        try (var files = Files.list(dir)) {
            List<String> names = files.map(f -> f.getFileName().toString()).toList();
            assertTrue(names.stream().noneMatch(n -> n.startsWith("hs_err")), names.toString());
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aSecondSignalEndsAtOnce() throws Exception {
        Process p = start();
        signal(p, "INT");
        Thread.sleep(200);
        signal(p, "INT");
        assertTrue(p.waitFor(5, TimeUnit.SECONDS), "ended");
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(130, p.exitValue(), err);
        assertTrue(err.contains("SIGINT: stopped at once (a second signal)"), err);
    }
}
