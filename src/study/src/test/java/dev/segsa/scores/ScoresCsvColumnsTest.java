package dev.segsa.scores;

import dev.segsa.error.SegsaException;
import dev.segsa.evaluate.DecisionFeatures;
import dev.segsa.evaluate.FrameFailureStudy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The columns that make a scores file self-describing: {@code row_kind} (class or group rows) and
 * the frame time of video and MCAP rows ({@code pts} a plain decimal, {@code time_ns} an integer).
 * Files without them (written before) are still read.
 */
class ScoresCsvColumnsTest {
    @TempDir
    Path dir;

    /** Two frames, each with two classes and a group row whose z-scored value would pull the frame score down. */
    private static List<ScoresCsv.Row> rowsWithGroups() {
        return List.of(
                new ScoresCsv.Row("a.png", "road", 300, 2.0, Double.NaN, 0.9),
                new ScoresCsv.Row("a.png", "car", 100, 6.0, Double.NaN, 0.5),
                new ScoresCsv.Row("a.png", "movers", 100, -1.5, Double.NaN, 0.5, null, Double.NaN, Double.NaN, true),
                new ScoresCsv.Row("b.png", "road", 200, 1.0, Double.NaN, 0.8),
                new ScoresCsv.Row("b.png", "car", 200, 3.0, Double.NaN, 0.4),
                new ScoresCsv.Row("b.png", "movers", 200, 0.7, Double.NaN, 0.4, null, Double.NaN, Double.NaN, true));
    }

    @Test
    void rowKindIsWrittenLastAndReadBack() throws Exception {
        Path p = dir.resolve("s.csv");
        ScoresCsv.write(p, rowsWithGroups());
        List<String> lines = Files.readAllLines(p);
        assertEquals("image,class,pixels,mdsa,lsa,iou,row_kind", lines.get(0));
        assertEquals("a.png,road,300,2.0,,0.9,class", lines.get(1));
        assertEquals("a.png,movers,100,-1.5,,0.5,group", lines.get(3));
        ScoresCsv.Contents c = ScoresCsv.read(p);
        assertEquals(List.of(false, false, true, false, false, true), c.rows().stream().map(ScoresCsv.Row::group).toList());
        assertEquals(Set.of("movers"), c.markedGroups());
        // with uncertainty, class percentiles and risk the kind is still the last column
        ScoresCsv.write(p, List.of(new ScoresCsv.Row("a.png", "road", 3, 2.0, 1.0, 0.9, new double[] {1, 2, 3, 4}, 50.0, 0.1)), true);
        assertEquals("image,class,pixels,mdsa,lsa,iou,entropy,margin,least_confidence,deepgini,mdsa_pct,risk,row_kind",
                Files.readAllLines(p).get(0));
        assertFalse(ScoresCsv.read(p).rows().get(0).group());
    }

    /** Marked group rows are left out of the frame scores and the frame IoU without any group name given. */
    @Test
    void markedGroupRowsAreNeverPooledWithClasses() throws Exception {
        Path p = dir.resolve("s.csv");
        ScoresCsv.write(p, rowsWithGroups());
        ScoresCsv.Contents c = ScoresCsv.read(p);
        Map<String, ScoresCsv.Contents.FrameScore> f = c.frameScores("mdsa", Set.of());
        assertEquals((300 * 2.0 + 100 * 6.0) / 400, f.get("a.png").score(), 1e-12);
        assertEquals(400, f.get("a.png").pixels());
        assertEquals(2.0, f.get("b.png").score(), 1e-12);
        // the same as a file without the group rows at all
        ScoresCsv.Contents classesOnly = new ScoresCsv.Contents(p, c.rows().stream().filter(r -> !r.group()).toList(), List.of("mdsa"));
        assertEquals(classesOnly.frameScores("mdsa", Set.of()), f);
        FrameFailureStudy.Frames frames = FrameFailureStudy.frames(c, Set.of(), null);
        FrameFailureStudy.Frames expected = FrameFailureStudy.frames(classesOnly, Set.of(), null);
        assertArrayEquals(expected.miou(), frames.miou(), 1e-12);
        assertArrayEquals(expected.scores().get("mdsa"), frames.scores().get("mdsa"), 1e-12);
        // decide's features: group rows are not classes of the frame, and a group can still be the target
        DecisionFeatures car = DecisionFeatures.of(c, "car", Set.of(), null);
        DecisionFeatures carOnly = DecisionFeatures.of(classesOnly, "car", Set.of(), null);
        assertArrayEquals(carOnly.values("share"), car.values("share"), 1e-12);
        assertArrayEquals(carOnly.values("frame_mdsa"), car.values("frame_mdsa"), 1e-12);
        assertArrayEquals(new double[] {2, 2}, car.values("frame_classes"));
        assertEquals(2, DecisionFeatures.of(c, "movers", Set.of(), null).size());
    }

    /** A file written before row_kind: every row reads as a class row; --groups names its group rows. */
    @Test
    void filesWithoutRowKindAreStillRead() throws Exception {
        Path p = dir.resolve("old.csv");
        Files.writeString(p, "image,class,pixels,mdsa,lsa,iou\na.png,road,300,2.0,,0.9\na.png,car,100,6.0,,0.5\n"
                + "a.png,movers,100,-1.5,,0.5\n");
        ScoresCsv.Contents c = ScoresCsv.read(p);
        assertTrue(c.rows().stream().noneMatch(ScoresCsv.Row::group));
        assertTrue(c.markedGroups().isEmpty());
        assertEquals(3.0, c.frameScores("mdsa", Set.of("movers")).get("a.png").score(), 1e-12);
        assertEquals(Set.of("movers"), c.groupNames(Set.of("movers")));
    }

    @Test
    void anUnknownRowKindNamesTheLine() throws Exception {
        Path p = dir.resolve("bad.csv");
        Files.writeString(p, "image,class,pixels,mdsa,lsa,iou,row_kind\na.png,road,300,2.0,,0.9,class\na.png,car,1,1.0,,,Group\n");
        SegsaException e = assertThrows(SegsaException.class, () -> ScoresCsv.read(p));
        assertTrue(e.getMessage().contains("line 3: row_kind 'Group' is neither class nor group"), e.getMessage());
    }

    /** pts is a plain decimal (never E-notation) and time_ns the exact integer time, both read back. */
    @Test
    void videoTimesAreAPlainDecimalAndIntegerNanoseconds() throws Exception {
        Path p = dir.resolve("v.csv");
        List<ScoresCsv.Row> rows = List.of(new ScoresCsv.Row("log.mcap:/cam#0", "road", 10, 1.0, Double.NaN, Double.NaN),
                new ScoresCsv.Row("log.mcap:/cam#1", "road", 10, 2.0, Double.NaN, Double.NaN),
                new ScoresCsv.Row("drive.mp4#3", "road", 10, 3.0, Double.NaN, Double.NaN));
        Map<String, ScoresCsv.VideoFrameRef> at = Map.of(
                "log.mcap:/cam#0", new ScoresCsv.VideoFrameRef("log.mcap:/cam", 0, 1.7000000000000001E9, 1_700_000_000_000_000_100L),
                "log.mcap:/cam#1", new ScoresCsv.VideoFrameRef("log.mcap:/cam", 1, 1.7000000001E9), // no integer time known
                "drive.mp4#3", new ScoresCsv.VideoFrameRef("drive.mp4", 3, 0.2, 200_000_000L));
        ScoresCsv.writeVideo(p, rows, false, at);
        List<String> lines = Files.readAllLines(p);
        assertEquals("video,frame,pts,time_ns,class,pixels,mdsa,lsa,iou,row_kind", lines.get(0));
        assertEquals("log.mcap:/cam,0,1700000000.000000100,1700000000000000100,road,10,1.0,,,class", lines.get(1));
        assertEquals("log.mcap:/cam,1,1700000000.100000000,,road,10,2.0,,,class", lines.get(2));
        assertEquals("drive.mp4,3,0.200000000,200000000,road,10,3.0,,,class", lines.get(3));
        for (String l : lines) assertFalse(l.contains("E9") || l.contains("E-"), l);
        ScoresCsv.Contents c = ScoresCsv.read(p);
        assertEquals(1_700_000_000_000_000_100L, c.timeNs().get("log.mcap:/cam#0"));
        assertNull(c.timeNs().get("log.mcap:/cam#1"));
        assertEquals(200_000_000L, c.timeNs().get("drive.mp4#3"));
        assertEquals(1.7000000001E9, c.ptsSeconds().get("log.mcap:/cam#1"), 1e-6);
        assertEquals(0.2, c.ptsSeconds().get("drive.mp4#3"), 1e-12);
    }

    /** Video scores written before time_ns (pts as Double.toString, no row_kind) are still read. */
    @Test
    void oldVideoScoresAreStillRead() throws Exception {
        Path p = dir.resolve("old-video.csv");
        Files.writeString(p, "video,frame,pts,class,pixels,mdsa,lsa,iou\nlog.mcap:/cam,0,1.7000000001E9,road,10,1.0,,\n");
        ScoresCsv.Contents c = ScoresCsv.read(p);
        assertEquals(1.7000000001E9, c.ptsSeconds().get("log.mcap:/cam#0"), 1e-6);
        assertTrue(c.timeNs().isEmpty());
        assertFalse(c.rows().get(0).group());
    }

    @Test
    void aBadTimeNsNamesTheLine() throws Exception {
        Path p = dir.resolve("bad-time.csv");
        Files.writeString(p, "video,frame,pts,time_ns,class,pixels,mdsa,lsa,iou\nv.mp4,0,0.5,5E8,road,10,1.0,,\n");
        SegsaException e = assertThrows(SegsaException.class, () -> ScoresCsv.read(p));
        assertTrue(e.getMessage().contains("line 2: time_ns '5E8' is not an integer"), e.getMessage());
    }

    @Test
    void plainSecondsNeverUsesENotation() {
        assertEquals("1700000000.000000100", ScoresCsv.plainSeconds(Double.NaN, 1_700_000_000_000_000_100L));
        assertEquals("0.000000000", ScoresCsv.plainSeconds(0, ScoresCsv.NO_TIME));
        assertEquals("0.000001000", ScoresCsv.plainSeconds(1e-6, ScoresCsv.NO_TIME));
        assertEquals("-0.500000000", ScoresCsv.plainSeconds(Double.NaN, -500_000_000L));
        assertEquals("", ScoresCsv.plainSeconds(Double.NaN, ScoresCsv.NO_TIME));
    }

    /** Parquet scores: row_kind and time_ns are read when present (the Spark job writes them), optional otherwise. */
    @Test
    void parquetRowKindAndTimeNs() throws Exception {
        Path p = dir.resolve("s.parquet");
        try (Connection conn = DriverManager.getConnection("jdbc:duckdb:"); Statement st = conn.createStatement()) {
            st.execute("COPY (SELECT * FROM (VALUES ('v.mp4', 'road', 300::BIGINT, 2.0::DOUBLE, 0.9::DOUBLE, 'class', 0, 0.5::DOUBLE, "
                    + "500000000::BIGINT), ('v.mp4', 'car', 100::BIGINT, 6.0::DOUBLE, 0.5::DOUBLE, 'class', 0, 0.5::DOUBLE, 500000000::BIGINT), "
                    + "('v.mp4', 'movers', 100::BIGINT, -1.5::DOUBLE, 0.5::DOUBLE, 'group', 0, 0.5::DOUBLE, 500000000::BIGINT)) "
                    + "t(image, class, pixels, mdsa, iou, row_kind, frame, pts, time_ns)) TO '" + p.toString().replace("'", "''")
                    + "' (FORMAT PARQUET)");
        }
        ScoresCsv.Contents c = ScoresParquet.read(p);
        assertEquals(List.of(false, false, true), c.rows().stream().map(ScoresCsv.Row::group).toList());
        assertEquals(500_000_000L, c.timeNs().get("v.mp4#0"));
        assertEquals(3.0, c.frameScores("mdsa", Set.of()).get("v.mp4#0").score(), 1e-12);
    }
}
