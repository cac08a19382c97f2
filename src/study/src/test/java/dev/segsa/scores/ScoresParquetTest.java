package dev.segsa.scores;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.*;

/** Parquet scores with badly typed or non-finite values: one line naming the file, the row and the column. */
class ScoresParquetTest {
    @TempDir
    Path dir;

    private Path write(String name, String select) throws Exception {
        Path p = dir.resolve(name);
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement st = c.createStatement()) {
            st.execute("COPY (" + select + ") TO '" + p.toString().replace("'", "''") + "' (FORMAT PARQUET)");
        }
        return p;
    }

    @Test
    void goodScoresRead() throws Exception {
        Path p = write("good.parquet", "SELECT 'a.png' AS image, 'road' AS class, 10::BIGINT AS pixels, 1.5::DOUBLE AS mdsa, "
                + "NULL::DOUBLE AS lsa, 0.9::DOUBLE AS iou");
        ScoresCsv.Contents c = ScoresParquet.read(p);
        assertEquals(1, c.rows().size());
        assertEquals(10, c.rows().get(0).pixels());
    }

    @Test
    void pixelsAsTextNameTheRowAndColumn() throws Exception {
        Path p = write("text.parquet", "SELECT * FROM (VALUES ('a.png', 'road', '10', 1.5::DOUBLE, 0.9::DOUBLE), "
                + "('b.png', 'road', 'ten', 1.5::DOUBLE, 0.9::DOUBLE)) t(image, class, pixels, mdsa, iou)");
        SegsaException e = assertThrows(SegsaException.class, () -> ScoresParquet.read(p));
        assertTrue(e.getMessage().contains("text.parquet: row 2, column pixels"), e.getMessage());
    }

    @Test
    void nonFiniteScoresNameTheRowAndColumn() throws Exception {
        Path p = write("inf.parquet", "SELECT * FROM (VALUES ('a.png', 'road', 10::BIGINT, 1.5::DOUBLE, 0.9::DOUBLE), "
                + "('b.png', 'road', 10::BIGINT, 'inf'::DOUBLE, 0.9::DOUBLE)) t(image, class, pixels, mdsa, iou)");
        SegsaException e = assertThrows(SegsaException.class, () -> ScoresParquet.read(p));
        assertTrue(e.getMessage().contains("inf.parquet: row 2, column mdsa") && e.getMessage().contains("not finite"), e.getMessage());
    }

    /** A folder whose name has glob characters is read literally, never as a pattern that matches a sibling. */
    @Test
    void globCharactersInTheFolderNameAreLiteral() throws Exception {
        for (String name : new String[]{"scores[1]", "run*", "a?b", "x{1,2}"}) {
            java.nio.file.Files.createDirectories(dir.resolve(name));
            write(name + "/part-0.parquet", "SELECT 'mine.png' AS image, 'road' AS class, 10::BIGINT AS pixels, 1.5::DOUBLE AS mdsa, "
                    + "NULL::DOUBLE AS lsa, 0.9::DOUBLE AS iou");
        }
        for (String decoy : new String[]{"scores1", "runner", "axb", "x1"}) {
            java.nio.file.Files.createDirectories(dir.resolve(decoy));
            write(decoy + "/part-0.parquet", "SELECT 'decoy.png' AS image, 'road' AS class, 10::BIGINT AS pixels, 1.5::DOUBLE AS mdsa, "
                    + "NULL::DOUBLE AS lsa, 0.9::DOUBLE AS iou");
        }
        for (String name : new String[]{"scores[1]", "run*", "a?b", "x{1,2}"}) {
            ScoresCsv.Contents c = ScoresParquet.read(dir.resolve(name));
            assertEquals(1, c.rows().size(), name);
            assertTrue(c.rows().get(0).image().endsWith("mine.png"), name + ": " + c.rows().get(0).image());
            // a single file with glob characters in its path, too
            ScoresCsv.Contents f = ScoresParquet.read(dir.resolve(name).resolve("part-0.parquet"));
            assertEquals("mine.png", f.rows().get(0).image());
        }
        // no temporary link folder is left behind
        try (var s = java.nio.file.Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertEquals(0, s.filter(q -> q.getFileName().toString().startsWith("segsa-scores-")).count());
        }
    }
}
