package dev.segsa.io;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** A batch run's outputs go in place all together, or none of them. */
class OutputTransactionTest {
    @TempDir
    Path dir;

    @Test
    void allOrNone() throws Exception {
        Path csv = Files.writeString(dir.resolve("scores.csv"), "earlier"), seg = dir.resolve("segments.parquet");
        try (OutputTransaction t = new OutputTransaction()) {
            Path a = t.stage(csv), b = t.stage(seg);
            assertTrue(b.getFileName().toString().endsWith("segments.parquet"), "the staged name keeps the extension: " + b);
            Files.writeString(a, "new");
            // the second output fails before it is written (a full disk): nothing is put in place
        }
        assertEquals("earlier", Files.readString(csv));
        assertFalse(Files.exists(seg));
        try (var left = Files.list(dir)) {
            assertEquals(1, left.count(), "no staged file left");
        }
        try (OutputTransaction t = new OutputTransaction()) {
            Files.writeString(t.stage(csv), "new");
            t.stage(seg);  // never written
            SegsaException e = assertThrows(SegsaException.class, t::commit, "an output never written");
            assertTrue(e.getMessage().contains("was not written"), e.getMessage());
        }
        assertEquals("earlier", Files.readString(csv));
        try (OutputTransaction t = new OutputTransaction()) {
            Files.writeString(t.stage(csv), "new");
            Files.writeString(t.stage(seg), "segments");
            t.commit();
        }
        assertEquals("new", Files.readString(csv));
        assertEquals("segments", Files.readString(seg));
    }
}
