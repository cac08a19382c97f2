package dev.segsa.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** {@code segsa --version}: the build's version (and the commit in a checkout), the JDK, LibTorch and the kernels' ISA. */
class VersionTest {
    @Test
    void printsTheRealVersion() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        String home = System.getProperty("segsa.home");
        try {
            System.setProperty("segsa.home", System.getProperty("user.dir"));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(0, SegsaCommand.commandLine().execute("--version"));
        } finally {
            System.setOut(old);
            if (home == null) System.clearProperty("segsa.home");
            else System.setProperty("segsa.home", home);
        }
        String v = out.toString(StandardCharsets.UTF_8);
        assertTrue(v.matches("(?s)segsa \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?.*"), v);
        assertFalse(v.contains("development build"), v);
        assertTrue(v.contains("JDK 25") && v.contains("LibTorch") && v.contains("kernels "), v);
        if (java.nio.file.Files.isDirectory(java.nio.file.Path.of(System.getProperty("user.dir"), ".git"))) {
            assertTrue(v.contains("(commit "), v);
        }
    }
}
