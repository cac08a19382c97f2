package dev.segsa.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** segsa decide end to end on seeded scores: draw a pilot, decide with it, refit with a batch, and the study. */
class DecideCommandTest {
    @TempDir
    Path work;

    /** 4 sequences x 60 frames, a drifting quality per sequence; car rows with IoU from it, road rows always fine. */
    Path labelledScores() throws Exception {
        SplittableRandom r = new SplittableRandom(5);
        StringBuilder b = new StringBuilder("image,class,pixels,mdsa,lsa,iou,entropy,margin,least_confidence,deepgini\n");
        for (int s = 0; s < 4; s++) {
            double q = 0;
            for (int i = 0; i < 60; i++) {
                q = 0.9 * q + 0.45 * r.nextGaussian();
                double iou = 1 / (1 + Math.exp(-(2.5 * q + 1 + 0.5 * r.nextGaussian())));
                String f = String.format("s%d_%05d.png", s, i);
                b.append(String.format(java.util.Locale.ROOT, "%s,car,%d,%.4f,,%.4f,%.4f,0.1,0.1,0.1%n", f, 2000 + r.nextInt(3000),
                        5 - q + 0.4 * r.nextGaussian(), iou, 1 - 0.3 * q + 0.3 * r.nextGaussian()));
                b.append(String.format(java.util.Locale.ROOT, "%s,road,40000,3.0,,0.95,0.2,0.1,0.1,0.1%n", f));
            }
        }
        Path p = work.resolve("labelled.csv");
        Files.writeString(p, b.toString());
        return p;
    }

    /** The same frames with the iou column emptied: the pool before labelling. */
    Path pool(Path labelled) throws Exception {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(labelled)) {
            String[] f = line.split(",", -1);
            if (!f[0].equals("image")) f[5] = "";
            out.add(String.join(",", f));
        }
        Path p = work.resolve("pool.csv");
        Files.write(p, out);
        return p;
    }

    /** The rows of the given frames from the labelled scores. */
    Path subset(Path labelled, Set<String> frames, String name) throws Exception {
        List<String> lines = Files.readAllLines(labelled);
        List<String> out = new ArrayList<>(List.of(lines.get(0)));
        for (String l : lines.subList(1, lines.size())) if (frames.contains(l.split(",")[0])) out.add(l);
        Path p = work.resolve(name);
        Files.write(p, out);
        return p;
    }

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream(), out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(out, true));
        try {
            var cl = SegsaCommand.commandLine();
            cl.setErr(new java.io.PrintWriter(err, true));
            int code = cl.execute(args);
            return new Run(code, out.toString(), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void pilotThenDecisionThenABatch() throws Exception {
        Path labelled = labelledScores();
        Path pool = pool(labelled);
        Path round0 = work.resolve("round0.csv");
        Run r0 = run("decide", "--scores", pool.toString(), "--class", "car", "--pilot-size", "100", "--out", round0.toString());
        assertEquals(0, r0.code(), r0.err());
        List<String> lines = Files.readAllLines(round0);
        assertEquals("rank,image,safety,decision", lines.get(0));
        assertEquals(241, lines.size());
        Set<String> pilot = new HashSet<>();
        for (String l : lines) if (l.endsWith(",pilot")) pilot.add(l.split(",")[1]);
        assertEquals(100, pilot.size());
        assertEquals(140, lines.stream().filter(l -> l.endsWith(",undecided")).count());
        assertTrue(r0.out().contains("--pilot PILOT_SCORES.csv"), r0.out());

        Path pilotScores = subset(labelled, pilot, "pilot.csv");
        Path round1 = work.resolve("round1.csv");
        Run r1 = run("decide", "--scores", pool.toString(), "--class", "car", "--pilot", pilotScores.toString(), "--tolerance", "0.1",
                "--confidence", "0.9", "--out", round1.toString());
        assertEquals(0, r1.code(), r1.err());
        List<String> decided = Files.readAllLines(round1);
        assertEquals(141, decided.size());
        Set<String> seen = new HashSet<>();
        for (String l : decided.subList(1, decided.size())) {
            String[] f = l.split(",");
            assertFalse(pilot.contains(f[1]), "a pilot frame is decided again");
            assertTrue(seen.add(f[1]));
            assertTrue(f[3].equals("label") || f[3].equals("skip"), l);
        }
        long skipped = decided.stream().filter(l -> l.endsWith(",skip")).count();
        assertTrue(skipped > 0, r1.out());
        assertTrue(r1.out().contains("upper bound"), r1.out());
        // the skipped ones are the safest: the last rows
        for (int i = decided.size() - (int) skipped; i < decided.size(); i++) assertTrue(decided.get(i).endsWith(",skip"));

        // a labelled batch (the 20 riskiest) refits and is not decided again
        Set<String> batch = new HashSet<>();
        for (String l : decided.subList(1, 21)) batch.add(l.split(",")[1]);
        Path batchScores = subset(labelled, batch, "batch1.csv");
        Path round2 = work.resolve("round2.csv");
        Run r2 = run("decide", "--scores", pool.toString(), "--class", "car", "--pilot", pilotScores.toString(), "--labelled",
                batchScores.toString(), "--tolerance", "0.1", "--confidence", "0.9", "--out", round2.toString());
        assertEquals(0, r2.code(), r2.err());
        assertEquals(121, Files.readAllLines(round2).size());
        assertTrue(r2.out().contains("120 labelled (100 in the pilot)") || r2.out().contains("120 frames labelled (100 in the pilot)"), r2.out());
    }

    /** Frames whose row lacks a score the others have (LSA skipped for its budget) cannot be ranked: listed first, to label. */
    @Test
    void framesWithAnEmptyScoreAreLabelledNotLost() throws Exception {
        Path labelled = labelledScores();
        Set<String> gaps = Set.of("s3_00057.png", "s3_00058.png", "s3_00059.png");
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(pool(labelled))) {
            String[] f = line.split(",", -1);
            if (!f[0].equals("image") && !(gaps.contains(f[0]) && f[1].equals("car"))) f[4] = "1.5";
            lines.add(String.join(",", f));
        }
        Path pool = work.resolve("pool-lsa.csv");
        Files.write(pool, lines);
        Path round0 = work.resolve("r0.csv");
        assertEquals(0, run("decide", "--scores", pool.toString(), "--class", "car", "--pilot-size", "60", "--out", round0.toString()).code());
        Set<String> pilot = new HashSet<>();
        for (String l : Files.readAllLines(round0)) if (l.endsWith(",pilot")) pilot.add(l.split(",")[1]);
        for (String g : gaps) assertTrue(Files.readString(round0).contains("," + g + ",,label"), g);
        Path round1 = work.resolve("r1.csv");
        Run r = run("decide", "--scores", pool.toString(), "--class", "car", "--pilot", subset(labelled, pilot, "p.csv").toString(), "--out",
                round1.toString());
        assertEquals(0, r.code(), r.err());
        List<String> decided = Files.readAllLines(round1);
        assertEquals(1 + 240 - 60, decided.size(), "every frame not in the pilot is listed");
        for (int i = 1; i <= 3; i++) assertTrue(decided.get(i).matches(i + ",s3_0005[789]\\.png,,label"), decided.get(i));
        assertTrue(r.out().contains("3 frame(s) of class car lack a score"), r.out());
    }

    @Test
    void studyWritesTablesAndCharts() throws Exception {
        Path labelled = labelledScores();
        Path dir = work.resolve("study");
        Run r = run("decide", "--study", "--scores", labelled.toString(), "--class", "car", "--repeats", "2", "--pilot-repeats", "2",
                "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| car | 240 ("), r.out());
        assertTrue(Files.readString(dir.resolve("savings.csv")).contains("car,240,"));
        assertTrue(Files.readString(dir.resolve("importance.csv")).lines().count() > 5);
        assertTrue(Files.size(dir.resolve("savings_car.png")) > 1000);
        assertTrue(Files.readString(dir.resolve("decide.md")).contains("meta(forest)"));
    }

    @Test
    void misuseIsOneClearLineAndWritesNothing() throws Exception {
        Path labelled = labelledScores();
        Path pool = pool(labelled);
        Path out = work.resolve("d.csv");
        Run r = run("decide", "--scores", pool.toString(), "--class", "car", "--labelled", labelled.toString(), "--out", out.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--labelled refits after the pilot"), r.err());
        // a pilot frame that is not in the pool
        Path stranger = work.resolve("stranger.csv");
        Files.writeString(stranger, "image,class,pixels,mdsa,lsa,iou\nzz_00001.png,car,100,1.0,,0.9\n");
        r = run("decide", "--scores", pool.toString(), "--class", "car", "--pilot", stranger.toString(), "--out", out.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("zz_00001.png is not in"), r.err());
        // a pilot without IoU
        r = run("decide", "--scores", pool.toString(), "--class", "car", "--pilot", pool.toString(), "--out", out.toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("has no IoU"), r.err());
        // the study needs labels
        r = run("decide", "--study", "--scores", pool.toString(), "--out", work.resolve("st").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("--labels"), r.err());
        // output = input
        r = run("decide", "--scores", pool.toString(), "--class", "car", "--out", pool.toString());
        assertNotEquals(0, r.code());
        assertFalse(Files.exists(out));
        assertFalse(r.err().contains("\tat "), r.err());
    }
}
