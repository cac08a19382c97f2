package dev.segsa.scores;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The scores reader streams its input and refuses, before reading, a file whose rows would not fit in the heap. */
class ScoresCsvReadTest {
    @TempDir
    Path dir;

    @Test
    void streamsAndSharesOneNamePerFrame() throws Exception {
        StringBuilder b = new StringBuilder("\uFEFFimage,class,pixels,mdsa,lsa,iou\r\n");
        for (int i = 0; i < 5000; i++) {
            b.append("f").append(i).append(".png,road,10,1.5,,0.9\r\n");
            b.append("f").append(i).append(".png,car,10,2.5,,\r\n");
        }
        Path p = dir.resolve("s.csv");
        Files.writeString(p, b.toString());
        ScoresCsv.Contents c = ScoresCsv.read(p);
        assertEquals(10_000, c.rows().size());
        assertSame(c.rows().get(0).image(), c.rows().get(1).image());
        assertSame(c.rows().get(0).className(), c.rows().get(2).className());
        assertEquals(2.5, c.rows().get(9_999).mdsa());
    }

    @Test
    void aFileTooLargeForTheHeapIsRefusedWithTheNumbers() {
        byte[] head = "image,class,pixels,mdsa,lsa,iou\na.png,road,10,1.5,,0.9\na.png,car,10,2.5,,\n".getBytes(StandardCharsets.UTF_8);
        long size = 1L << 40; // 1 TB of such lines: tens of billions of rows
        SegsaException e = assertThrows(SegsaException.class, () -> ScoresCsv.requireHeapFor(Path.of("huge.csv"), size, head));
        assertTrue(e.getMessage().startsWith("huge.csv: about "), e.getMessage());
        assertTrue(e.getMessage().contains("MB of heap") && e.getMessage().contains("SEGSA_JAVA_OPTS=-Xmx"), e.getMessage());
        // a file that fits passes
        ScoresCsv.requireHeapFor(Path.of("small.csv"), 10L << 20, head);
    }

    @Test
    void invalidUtf8AfterTheFirstMegabyteIsNamed() throws Exception {
        StringBuilder b = new StringBuilder("image,class,pixels,mdsa,lsa,iou\n");
        while (b.length() < (2 << 20)) b.append("frame.png,road,10,1.5,,0.9\n");
        byte[] text = b.toString().getBytes(StandardCharsets.UTF_8);
        byte[] bad = java.util.Arrays.copyOf(text, text.length + 4);
        bad[text.length] = 'x';
        bad[text.length + 1] = (byte) 0xC3; // a lone lead byte
        bad[text.length + 2] = ',';
        bad[text.length + 3] = '\n';
        Path p = dir.resolve("bad.csv");
        Files.write(p, bad);
        SegsaException e = assertThrows(SegsaException.class, () -> ScoresCsv.read(p));
        assertTrue(e.getMessage().contains("not a UTF-8 text CSV"), e.getMessage());
    }
}
