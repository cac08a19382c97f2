package dev.segsa.cli;

import dev.segsa.scores.ScoresCsv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Scores written with {@code segsa score --groups} mark their group rows ({@code row_kind=group}),
 * so select, evaluate and timeline give the same frame scores without {@code --groups} as for a
 * file scored without groups at all; a file of the older format (no row_kind) still needs --groups.
 */
class SelectEvaluateGroupRowsTest {
    @TempDir
    Path work;

    static final String GROUPS = "pair=0,1;rest=2,3";

    @Test
    void groupRowsAreLeftOutWithoutGroups() throws Exception {
        Path[] fitted = EndToEndTest.fittedFixture(work);
        Path fixture = Path.of(EndToEndTest.class.getResource("/e2e").toURI());
        String images = fixture.resolve("val/images").toString(), labels = fixture.resolve("val/labels").toString();
        // the same file name in two folders, so that outputs that name the scores file compare byte for byte
        Path plain = Files.createDirectories(work.resolve("plain")).resolve("scores.csv");
        Path grouped = Files.createDirectories(work.resolve("grouped")).resolve("scores.csv");
        assertEquals(0, EndToEndTest.run("score", "--model", fitted[0].toString(), "--sa", fitted[1].toString(), "--images", images,
                "--labels", labels, "--out", plain.toString()));
        assertEquals(0, EndToEndTest.run("score", "--model", fitted[0].toString(), "--sa", fitted[1].toString(), "--images", images,
                "--labels", labels, "--groups", GROUPS, "--out", grouped.toString()));
        List<String> lines = Files.readAllLines(grouped);
        assertTrue(lines.get(0).endsWith(",row_kind"), lines.get(0));
        for (String l : lines.subList(1, lines.size())) {
            String cls = l.split(",", -1)[1];
            assertEquals(cls.equals("pair") || cls.equals("rest") ? "group" : "class", l.substring(l.lastIndexOf(',') + 1), l);
        }
        assertTrue(lines.stream().anyMatch(l -> l.endsWith(",group")), "the fixture has group rows");

        ScoresCsv.Contents p = ScoresCsv.read(plain), g = ScoresCsv.read(grouped);
        for (String score : p.frameScoreNames()) {
            assertEquals(p.frameScores(score, Set.of()), g.frameScores(score, Set.of()), score);
        }

        // select: whole frames, by the default frame score and by mdsa, without --groups
        for (String[] score : new String[][] {{}, {"--score", "mdsa"}}) {
            assertArrayEquals(Files.readAllBytes(select(plain, "p", score)), Files.readAllBytes(select(grouped, "g", score)),
                    "select " + List.of(score));
        }
        // timeline without --groups: the same frame scores, the same picture
        Path tp = work.resolve("tp.png"), tg = work.resolve("tg.png");
        assertEquals(0, EndToEndTest.run("timeline", "--scores", plain.toString(), "--score", "mdsa", "--out", tp.toString()));
        assertEquals(0, EndToEndTest.run("timeline", "--scores", grouped.toString(), "--score", "mdsa", "--out", tg.toString()));
        assertArrayEquals(Files.readAllBytes(tp), Files.readAllBytes(tg), "timeline");
        // evaluate without --groups: the whole-frame study is the same; the group rows are evaluated as groups
        Path ep = work.resolve("eval-plain"), eg = work.resolve("eval-grouped");
        assertEquals(0, EndToEndTest.run("evaluate", "--scores", plain.toString(), "--out", ep.toString()));
        assertEquals(0, EndToEndTest.run("evaluate", "--scores", grouped.toString(), "--out", eg.toString()));
        assertEquals(Files.readString(ep.resolve("frame_failure.csv")), Files.readString(eg.resolve("frame_failure.csv")));

        // the older format: without row_kind the group rows read as classes, unless --groups names them
        Path old = Files.createDirectories(work.resolve("old")).resolve("scores.csv");
        List<String> stripped = new ArrayList<>();
        for (String l : lines) stripped.add(l.substring(0, l.lastIndexOf(',')));
        Files.write(old, stripped);
        ScoresCsv.Contents o = ScoresCsv.read(old);
        assertTrue(o.markedGroups().isEmpty());
        assertNotEquals(p.frameScores("mdsa", Set.of()), o.frameScores("mdsa", Set.of()), "the group rows count without the column");
        assertEquals(p.frameScores("mdsa", Set.of()), o.frameScores("mdsa", Set.of("pair", "rest")));
        assertArrayEquals(Files.readAllBytes(select(plain, "p2", new String[] {"--score", "mdsa"})),
                Files.readAllBytes(select(old, "o", new String[] {"--score", "mdsa", "--groups", GROUPS})), "old format with --groups");
    }

    private Path select(Path scores, String tag, String[] extra) {
        Path out = work.resolve("select-" + tag + ".csv");
        List<String> args = new ArrayList<>(List.of("select", "--scores", scores.toString(), "--skip-fraction", "0.34", "--out",
                out.toString()));
        args.addAll(List.of(extra));
        assertEquals(0, EndToEndTest.run(args.toArray(String[]::new)), "select " + args);
        return out;
    }
}
