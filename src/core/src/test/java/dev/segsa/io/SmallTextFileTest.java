package dev.segsa.io;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/** Small inputs read whole: regular files only, the size held before and while reading, strict UTF-8. */
class SmallTextFileTest {
    @TempDir
    Path dir;

    static String refused(Path file, long limit) {
        SegsaException e = assertThrows(SegsaException.class, () -> SmallTextFile.read(file, limit, "selector configuration"));
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertTrue(e.getMessage().startsWith(file + ": selector configuration "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void readsARegularFileAsUtf8() throws Exception {
        Path f = dir.resolve("c.json");
        Files.writeString(f, "{\"name\": \"Fußgänger ✓\"}");
        assertEquals("{\"name\": \"Fußgänger ✓\"}", SmallTextFile.read(f, 1024, "selector configuration"));
        // a byte-order mark (Windows editors) is dropped
        Files.write(f, new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}'});
        assertEquals("{}", SmallTextFile.read(f, 1024, "selector configuration"));
        Files.write(f, new byte[0]);
        assertEquals("", SmallTextFile.read(f, 1024, "selector configuration"));
        // exactly the limit is read
        Files.writeString(f, "x".repeat(100));
        assertEquals(100, SmallTextFile.read(f, 100, "selector configuration").length());
        assertArrayEquals("x".repeat(100).getBytes(StandardCharsets.US_ASCII), SmallTextFile.readBytes(f, 100, "selector configuration"));
    }

    @Test
    void aFileOverTheLimitIsRefusedBeforeReading() throws Exception {
        Path f = dir.resolve("big.json");
        Files.writeString(f, "x".repeat(101));
        assertEquals(f + ": selector configuration is 101 bytes, the limit is 100", refused(f, 100));
    }

    @Test
    void devicesAreRefusedAtOnce() {
        Path zero = Path.of("/dev/zero");
        Assumptions.assumeTrue(Files.exists(zero));
        String m = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> refused(zero, SmallTextFile.CONFIG_MAX_BYTES));
        assertEquals("/dev/zero: selector configuration is not a regular file (a device, FIFO or socket)", m);
        assertTrue(refused(Path.of("/dev/null"), 100).contains("not a regular file"));
    }

    @Test
    void aLinkToADeviceIsRefused() throws Exception {
        Path link = dir.resolve("zero.json");
        try {
            Files.createSymbolicLink(link, Path.of("/dev/zero"));
        } catch (UnsupportedOperationException | IOException e) {
            Assumptions.abort("no symbolic links here");
        }
        assertTrue(assertTimeoutPreemptively(Duration.ofSeconds(5), () -> refused(link, 100)).contains("not a regular file"));
    }

    @Test
    void aFifoIsRefusedWithoutOpeningIt() throws Exception {
        Path fifo = dir.resolve("pipe.json");
        Process p;
        try {
            p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        } catch (IOException e) {
            Assumptions.abort("mkfifo is not available");
            return;
        }
        Assumptions.assumeTrue(p.waitFor() == 0 && Files.exists(fifo), "mkfifo failed");
        // opening a FIFO with no writer blocks for ever: refused before it is opened
        String m = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> refused(fifo, 100));
        assertTrue(m.contains("not a regular file"), m);
    }

    @Test
    void directoriesAndMissingFilesAreRefused() {
        assertEquals(dir + ": selector configuration is a directory, not a regular file", refused(dir, 100));
        Path missing = dir.resolve("nope.json");
        assertEquals(missing + ": selector configuration not found", refused(missing, 100));
    }

    @Test
    void malformedUtf8IsRefusedNamingTheFileAndTheByte() throws Exception {
        Path f = dir.resolve("latin1.json");
        Files.write(f, "{\"class\": \"Fu\u00dfg\u00e4nger\"}".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(f + ": selector configuration is not valid UTF-8 (byte 13)", refused(f, 100));
        // a sequence cut short at the end
        Files.write(f, new byte[] {'{', '}', (byte) 0xE2, (byte) 0x9C});
        assertTrue(refused(f, 100).contains("not valid UTF-8 (byte 2)"));
        // an encoded surrogate (CESU-8) is not UTF-8
        Files.write(f, new byte[] {'"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'});
        assertTrue(refused(f, 100).contains("not valid UTF-8"));
        assertEquals("x!e: model metadata is not valid UTF-8 (byte 1)",
                assertThrows(SegsaException.class, () -> SmallTextFile.decode(new byte[] {'a', 'b', (byte) 0xFF}, 1, 2, "x!e",
                        "model metadata")).getMessage());
    }

    @Test
    void readingStopsOneByteAfterTheLimit() {
        // a stream without end (a file that grows, a device swapped in after the check)
        AtomicLong served = new AtomicLong();
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                served.incrementAndGet();
                return 'x';
            }

            @Override
            public int read(byte[] b, int off, int len) {
                java.util.Arrays.fill(b, off, off + len, (byte) 'x');
                served.addAndGet(len);
                return len;
            }
        };
        SegsaException e = assertThrows(SegsaException.class, () -> SmallTextFile.readAtMost(endless, 1000, "f.json", "selector configuration"));
        assertEquals("f.json: selector configuration is more than 1000 bytes, the limit", e.getMessage());
        assertEquals(1001, served.get());
    }
}
