package dev.segsa.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class SelectCommandTest {
    @TempDir
    Path work;

    static int run(ByteArrayOutputStream err, String... args) {
        var cl = SegsaCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    /** 10 frames of car (mdsa 1..10, entropy 10..1) and one row with an empty score, plus rows of road. */
    Path scores() throws Exception {
        StringBuilder b = new StringBuilder("image,class,pixels,mdsa,lsa,iou,entropy,margin,least_confidence,deepgini\n");
        for (int i = 1; i <= 10; i++) {
            b.append(String.format("f%02d.png,car,%d,%d.0,,,%d.0,0.1,0.1,0.1%n", i, i * 300, i, 11 - i));
            b.append(String.format("f%02d.png,road,500,1.0,,,1.0,0.1,0.1,0.1%n", i));
        }
        b.append("f11.png,car,0,,,,,,,\n");
        Path p = work.resolve("scores.csv");
        Files.writeString(p, b.toString());
        return p;
    }

    @Test
    void skipFractionRanksHighestFirstAndSkipsTheLowest() throws Exception {
        Path out = work.resolve("list.csv");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "select", "--scores", scores().toString(), "--class", "car", "--skip-fraction", "0.3", "--out",
                out.toString()), err.toString());
        List<String> lines = Files.readAllLines(out);
        assertEquals("rank,image,score,pixels,decision", lines.get(0));
        assertEquals(12, lines.size());
        assertEquals("1,f10.png,10.0,3000,label", lines.get(1));
        assertEquals("8,f03.png,3.0,900,skip", lines.get(8));
        assertEquals("10,f01.png,1.0,300,skip", lines.get(10));
        assertEquals("11,f11.png,,0,label", lines.get(11));
        assertEquals(3, lines.stream().filter(l -> l.endsWith(",skip")).count());
        // by entropy the order reverses
        assertEquals(0, run(err, "select", "--scores", scores().toString(), "--class", "car", "--score", "entropy",
                "--skip-fraction", "0.1", "--out", out.toString()));
        assertEquals("10,f10.png,1.0,3000,skip", Files.readAllLines(out).get(10));
    }

    /** Without --class, whole frames rank by the pixel-weighted mean of their class rows; the threshold is printed. */
    @Test
    void withoutAClassWholeFramesRankAndTheThresholdIsPrinted() throws Exception {
        Path out = work.resolve("frames.csv");
        ByteArrayOutputStream err = new ByteArrayOutputStream(), stdout = new ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        System.setOut(new java.io.PrintStream(stdout, true));
        int code;
        try {
            code = run(err, "select", "--scores", scores().toString(), "--skip-fraction", "0.5", "--out", out.toString());
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code, err.toString());
        List<String> lines = Files.readAllLines(out);
        assertEquals(12, lines.size(), "11 frames ranked");
        // f10: car 3000 px at 10, road 500 px at 1 -> (30000 + 500) / 3500
        assertEquals("1,f10.png," + (30500.0 / 3500) + ",3500,label", lines.get(1));
        assertEquals(5, lines.stream().filter(l -> l.endsWith(",skip")).count());
        // f05's frame score (car 1500 px at 5, road 500 px at 1) is the highest skipped one
        assertTrue(stdout.toString().contains("threshold: a frame with mdsa <= " + (8000.0 / 2000) + " is skipped"), stdout.toString());
        assertTrue(stdout.toString().contains("whole frames by mdsa"), stdout.toString());
        assertTrue(stdout.toString().contains("reusable online as a segsa watch trigger: {\"score\": \"image-mdsa\", \"threshold\": "
                + (8000.0 / 2000) + "}"), stdout.toString());
        // only for scores a watch trigger reads
        assertEquals("class-mdsa-mean", SelectCommand.watchTrigger("mdsa", false));
        assertEquals("risk", SelectCommand.watchTrigger("risk", true));
        assertNull(SelectCommand.watchTrigger("lsa", true));
        assertNull(SelectCommand.watchTrigger("lsa", false));
        // a pilot bound needs a class
        assertEquals(1, run(err, "select", "--scores", scores().toString(), "--tolerance", "0.1", "--pilot", scores().toString(), "--out",
                out.toString()));
        assertTrue(err.toString().contains("works on one class: give --class K"), err.toString());
    }

    /** --score best takes the column the evaluate report's what_to_do.csv recommends for the class, or says why none. */
    @Test
    void bestScoreComesFromTheReport() throws Exception {
        Path report = Files.createDirectories(work.resolve("report"));
        String header = "target,kind,verdict,order,saving_percent,oracle_percent,random_percent,select_score,select_saving_percent,"
                + "pilot_to_certify,flagged\n";
        Files.writeString(report.resolve("what_to_do.csv"), header + "car,class,skip,entropy,45,90,0,entropy,45,132,mdsa\n"
                + "road,class,nothing_to_label,,100,100,100,,0,59,\n");
        Path out = work.resolve("best.csv");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "select", "--scores", scores().toString(), "--class", "car", "--score", "best", "--report",
                report.toString(), "--skip-fraction", "0.1", "--out", out.toString()), err.toString());
        // by entropy the order reverses: f01 (entropy 10) first
        assertEquals("1,f01.png,10.0,300,label", Files.readAllLines(out).get(1));
        assertEquals(1, run(err, "select", "--scores", scores().toString(), "--class", "car", "--score", "best", "--skip-fraction", "0.1",
                "--out", out.toString()), "best needs --report");
        assertTrue(err.toString().contains("--score best needs --report"), err.toString());
        // the report recommends no column: each verdict is an error that says why
        for (String[] c : new String[][] {
                {"car,class,no_score_beats_random,,0,90,0,,0,0,mdsa;entropy\n", "no score column beats random in this report"},
                {"car,class,nothing_skipped,,0,90,0,,0,0,\n", "no order skips any labelling"},
                {"car,class,skip,fusion,20,90,0,,0,295,\n", "only the fused order fusion skips frames"},
                {"car,class,skip,lsa,20,90,0,lsa,20,295,\n", "the report's best column lsa is not a score column of"}}) {
            Files.writeString(report.resolve("what_to_do.csv"), header + c[0]);
            err.reset();
            assertEquals(1, run(err, "select", "--scores", scores().toString(), "--class", "car", "--score", "best", "--report",
                    report.toString(), "--skip-fraction", "0.1", "--out", out.toString()), c[0]);
            assertTrue(err.toString().contains(c[1]), err.toString());
        }
        Files.writeString(report.resolve("what_to_do.csv"), header + "road,class,nothing_to_label,,100,100,100,,0,59,\n");
        err.reset();
        assertEquals(1, run(err, "select", "--scores", scores().toString(), "--class", "road", "--score", "best", "--report",
                report.toString(), "--skip-fraction", "0.1", "--out", out.toString()));
        assertTrue(err.toString().contains("nothing to label for this class, any order"), err.toString());
        // a report without the file (older, or not a report) is named
        Files.delete(report.resolve("what_to_do.csv"));
        err.reset();
        assertEquals(1, run(err, "select", "--scores", scores().toString(), "--class", "car", "--score", "best", "--report",
                report.toString(), "--skip-fraction", "0.1", "--out", out.toString()));
        assertTrue(err.toString().contains("what_to_do.csv: not found"), err.toString());
    }

    @Test
    void pilotToleranceUsesTheClopperPearsonBound() throws Exception {
        // the hand-worked pilot of FrameSelectionTest: 12 frames, the 10 lowest above IoU 0.5 -> skip 10/12
        StringBuilder b = new StringBuilder("image,class,pixels,mdsa,lsa,iou\n");
        for (int i = 1; i <= 12; i++) b.append(String.format("p%02d.png,car,50,%d.0,,%s%n", i, i, i <= 10 ? "0.9" : "0.3"));
        Path pilot = work.resolve("pilot.csv");
        Files.writeString(pilot, b.toString());
        Path out = work.resolve("list.csv");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "select", "--scores", scores().toString(), "--class", "car", "--tolerance", "0.3", "--pilot",
                pilot.toString(), "--out", out.toString()), err.toString());
        // floor(10 * 10 / 12) = 8 of the 10 scored car frames skipped
        assertEquals(8, Files.readAllLines(out).stream().filter(l -> l.endsWith(",skip")).count());
    }

    @Test
    void retrainSubsetsWriteNineLists() throws Exception {
        StringBuilder b = new StringBuilder("image,class,pixels,mdsa,lsa,iou\n");
        for (int i = 0; i < 100; i++) b.append(String.format("g%03d.png,car,%d,%d.5,,%n", i, i < 20 ? 900 : 1500, i));
        Path pool = work.resolve("pool.csv");
        Files.writeString(pool, b.toString());
        Path out = work.resolve("subsets.csv");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "select", "--scores", pool.toString(), "--class", "car", "--retrain-subsets", "--min-pixels", "1000",
                "--base-size", "60", "--out", out.toString()), err.toString());
        List<String> lines = Files.readAllLines(out);
        assertEquals("level,size,image,score,pixels", lines.get(0));
        // base 60 -> 6 + 12 + 18 per level, 3 levels
        assertEquals(1 + 3 * 36, lines.size());
        Set<String> levels = new HashSet<>();
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split(",");
            levels.add(f[0] + "/" + f[1]);
            assertEquals("1500", f[4], "only frames above --min-pixels: " + l);
            double s = Double.parseDouble(f[3]);
            // pool: 80 frames, scores 20.5..99.5; top 30 % = 24 frames (>= 76.5), bottom 24 (<= 43.5)
            if (f[0].equals("High")) assertTrue(s >= 76.5, l);
            if (f[0].equals("Low")) assertTrue(s <= 43.5, l);
        }
        assertEquals(9, levels.size());
    }

    /** --sizes: a pool too small for Large (24 frames in the top 30%, Large of base 100 is 30) still gets Small and Medium. */
    @Test
    void retrainSubsetsOfChosenSizes() throws Exception {
        StringBuilder b = new StringBuilder("image,class,pixels,mdsa,lsa,iou\n");
        for (int i = 0; i < 80; i++) b.append(String.format("g%03d.png,car,1500,%d.5,,%n", i, i));
        Path pool = work.resolve("pool-s.csv");
        Files.writeString(pool, b.toString());
        Path out = work.resolve("sized");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(1, run(err, "select", "--scores", pool.toString(), "--class", "car", "--retrain-subsets", "--base-size", "100",
                "--out", out + "/"), err.toString());
        assertTrue(err.toString().contains("Large subset needs 30 images") && err.toString().contains("--sizes"), err.toString());
        err.reset();
        assertEquals(0, run(err, "select", "--scores", pool.toString(), "--class", "car", "--retrain-subsets", "--base-size", "100",
                "--sizes", "small,medium", "--out", out + "/"), err.toString());
        try (var files = Files.list(out)) {
            assertEquals(Set.of(dev.segsa.report.SelectionCsv.RETRAIN_FILE, "high-small.txt", "high-medium.txt", "low-small.txt", "low-medium.txt", "random-small.txt",
                    "random-medium.txt"), files.map(f -> f.getFileName().toString()).collect(java.util.stream.Collectors.toSet()));
        }
        assertEquals(20, Files.readAllLines(out.resolve("high-medium.txt")).size());
        err.reset();
        assertEquals(1, run(err, "select", "--scores", pool.toString(), "--class", "car", "--retrain-subsets", "--base-size", "100",
                "--sizes", "tiny", "--out", work.resolve("t.csv").toString()), err.toString());
        assertTrue(err.toString().contains("unknown retraining subset size 'tiny'"), err.toString());
        err.reset();
        assertEquals(1, run(err, "select", "--scores", pool.toString(), "--class", "car", "--skip-fraction", "0.5", "--sizes", "small",
                "--out", work.resolve("l.csv").toString()), err.toString());
        assertTrue(err.toString().contains("--sizes goes with --retrain-subsets"), err.toString());
    }

    /** --diverse into a directory that does not exist yet (DIR/), leaving out the --seen frames (a .txt list). */
    @Test
    void diverseSubsetsSkipTheSeenFrames() throws Exception {
        StringBuilder b = new StringBuilder("image,class,pixels,mdsa,lsa,iou\n");
        for (int i = 0; i < 100; i++) {
            b.append(String.format("g%03d.png,car,1500,%d.5,,%n", i, i));
            b.append(String.format("g%03d.png,road,9000,%d.25,,%n", i, (i * 37) % 100));
        }
        Path pool = work.resolve("pool-d.csv");
        Files.writeString(pool, b.toString());
        Path seen = work.resolve("seen.txt");
        Files.writeString(seen, "g099.png\ng098.png\n");
        Path out = work.resolve("diverse-out");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "select", "--scores", pool.toString(), "--class", "car", "--retrain-subsets", "--diverse", "--seen",
                seen.toString(), "--base-size", "60", "--out", out + "/"), err.toString());
        List<String> large = Files.readAllLines(out.resolve("diverse-large.txt"));
        assertEquals(18, large.size());
        assertEquals(Files.readAllLines(out.resolve("diverse-small.txt")), large.subList(0, 6), "Small is a prefix of Large");
        assertFalse(large.contains("g099.png") || large.contains("g098.png"), "seen frames are left out: " + large);
        for (String name : large) assertTrue(Integer.parseInt(name.substring(1, 4)) >= 68, "from the top 30%: " + name);
    }

    @Test
    void refusesAmbiguousOrMissingOptions() throws Exception {
        Path s = scores();
        Path out = work.resolve("x.csv");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(1, run(err, "select", "--scores", s.toString(), "--class", "car", "--out", out.toString()));
        assertTrue(err.toString().contains("choose exactly one of"), err.toString());
        err.reset();
        assertEquals(1, run(err, "select", "--scores", s.toString(), "--skip-fraction", "0.2", "--retrain-subsets", "--out", out.toString()));
        err.reset();
        assertEquals(1, run(err, "select", "--scores", s.toString(), "--class", "bus", "--skip-fraction", "0.2", "--out", out.toString()));
        assertTrue(err.toString().contains("no rows for class 'bus'"), err.toString());
        err.reset();
        assertEquals(1, run(err, "select", "--scores", s.toString(), "--class", "car", "--tolerance", "0.05", "--out", out.toString()));
        assertTrue(err.toString().contains("--tolerance needs a labelled --pilot"), err.toString());
        err.reset();
        assertEquals(1, run(err, "select", "--scores", s.toString(), "--class", "car", "--score", "lsa", "--skip-fraction", "0.2",
                "--out", out.toString()));
        assertTrue(err.toString().contains("the lsa column is absent or empty"), err.toString());
        assertFalse(Files.exists(out));
    }
}
