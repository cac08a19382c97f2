package dev.segsa.evaluate;

import dev.segsa.scores.ScoresCsv;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Frame-failure detection: AUROC / AUPR golden values, capture, pooled vs within recordings, the class-aware frame score. */
class FrameFailureStudyTest {

    @Test
    void aurocAndAveragePrecisionMatchScipyAndHandWorkedValues() {
        // scipy.stats.mannwhitneyu(s[y], s[~y]).statistic / (4 * 8) = 0.4375; average precision with tied steps 0.3625
        double[] s = {-0.8, -1.3, -0.2, 0.4, 1.1, 0.1, -0.6, -0.8, 0.7, 1.6, 0.3, -1.2};
        boolean[] y = {true, false, false, true, false, false, false, true, false, false, true, false};
        assertEquals(0.4375, AucStatistics.auroc(s, y), 1e-12);
        assertEquals(0.3625, AucStatistics.averagePrecision(s, y), 1e-12);
        // a perfect ranking: 1 and 1; the reverse: 0 and the positives' share at the bottom
        double[] perfect = {4, 3, 2, 1};
        boolean[] top2 = {true, true, false, false};
        assertEquals(1.0, AucStatistics.auroc(perfect, top2));
        assertEquals(1.0, AucStatistics.averagePrecision(perfect, top2));
        assertEquals(0.0, AucStatistics.auroc(new double[] {1, 2, 3, 4}, top2));
        // all tied: AUROC one half, AP the positive share
        assertEquals(0.5, AucStatistics.auroc(new double[] {1, 1, 1, 1}, top2));
        assertEquals(0.5, AucStatistics.averagePrecision(new double[] {1, 1, 1, 1}, top2));
        assertTrue(Double.isNaN(AucStatistics.auroc(perfect, new boolean[4])));
        assertArrayEquals(new double[] {2.5, 1, 2.5, 4}, AucStatistics.ranks(new double[] {2, 1, 2, 3}));
    }

    /** A labelled scores file of two recordings: A (level-shifted scores, good frames) and B, with rows for two classes. */
    static ScoresCsv.Contents twoRecordings(long seed, boolean levelShift) {
        SplittableRandom r = new SplittableRandom(seed);
        List<ScoresCsv.Row> rows = new ArrayList<>();
        for (String rec : List.of("recA", "recB")) {
            for (int i = 0; i < 100; i++) {
                String name = rec + "_" + String.format("%05d", i) + ".png";
                double miou = 0.3 + 0.6 * r.nextDouble();
                if (rec.equals("recA")) miou = Math.min(1, miou + 0.1);
                // the score follows 1 - mIoU with noise; recording A's level is shifted up (it has fewer bad frames)
                double score = (1 - miou) + 0.1 * r.nextGaussian() + (levelShift && rec.equals("recA") ? 1.0 : 0);
                rows.add(new ScoresCsv.Row(name, "Road", 9000, score, Double.NaN, Math.min(1, miou + 0.05), null, Double.NaN));
                rows.add(new ScoresCsv.Row(name, "Car", 1000, score, Double.NaN, Math.max(0, miou - 0.05), null, score));
            }
        }
        return new ScoresCsv.Contents(Path.of("x.csv"), rows, List.of("mdsa"));
    }

    @Test
    void frameMiouIsTheMeanOverClassRowsAndGroupsAreLeftOut() {
        List<ScoresCsv.Row> rows = List.of(
                new ScoresCsv.Row("a_1", "Road", 10, 1, Double.NaN, 0.9),
                new ScoresCsv.Row("a_1", "Car", 0, Double.NaN, Double.NaN, 0.0),   // in the label only: IoU 0
                new ScoresCsv.Row("a_1", "movers", 10, 5, Double.NaN, 0.1),         // a group row
                new ScoresCsv.Row("a_2", "Road", 10, 2, Double.NaN, Double.NaN));    // no IoU: left out
        var f = FrameFailureStudy.frames(new ScoresCsv.Contents(Path.of("x.csv"), rows, List.of("mdsa")), Set.of("movers"), null);
        assertEquals(List.of("a_1"), f.names());
        assertEquals(0.45, f.miou()[0], 1e-12);
        assertEquals(1.0, f.scores().get("mdsa")[0], 1e-12);
    }

    @Test
    void aLevelShiftBetweenRecordingsHurtsThePooledRankingNotTheWithinOne() {
        var contents = twoRecordings(7, true);
        var frames = FrameFailureStudy.frames(contents, Set.of(), null);
        assertEquals(List.of(ScoresCsv.CLASS_AWARE, "mdsa"), contents.frameScoreNames());
        List<FrameFailureStudy.Result> res = FrameFailureStudy.run(frames, 1);
        FrameFailureStudy.Result pooled = find(res, "pooled", "mdsa"), within = find(res, "within", "mdsa");
        assertTrue(within.auroc() > 0.85, "within each recording the score ranks: " + within.auroc());
        assertTrue(pooled.auroc() < within.auroc() - 0.1, "pooled, the shifted recording (fewer bad frames) comes first: " + pooled.auroc());
        assertTrue(pooled.aurocLow() <= pooled.auroc() && pooled.auroc() <= pooled.aurocHigh());
        assertEquals(200, pooled.frames());
        assertEquals(40, pooled.bad());
        // the same scores standardised per recording recover the within-recording ranking when pooled
        Map<String, Double> raw = new LinkedHashMap<>();
        for (int i = 0; i < frames.names().size(); i++) raw.put(frames.names().get(i), frames.scores().get("mdsa")[i]);
        var scaled = RecordingScale.STANDARDIZE.apply(raw);
        var withScaled = FrameFailureStudy.frames(contents, Set.of(), Map.of("mdsa_std", scaled));
        var res2 = FrameFailureStudy.run(withScaled, 1);
        assertTrue(find(res2, "pooled", "mdsa_std").auroc() > pooled.auroc() + 0.1);
        // the CSV carries one row per scope and score, the budgets' columns included
        String csv = FrameFailureStudy.csv(res);
        assertEquals(1 + 2 * 4, csv.split("\n").length, csv);
        assertTrue(csv.startsWith("scope,score,frames,bad,all_miou,auroc"));
        assertTrue(csv.contains("kept_miou_10pct"));
    }

    @Test
    void captureCountsTheKeptBadFramesAndTheOracle() {
        // 10 frames of one recording, mIoU 0.0..0.9; the score is exactly 1 - mIoU: the top 20% are the 2 worst
        List<ScoresCsv.Row> rows = new ArrayList<>();
        for (int i = 0; i < 10; i++) rows.add(new ScoresCsv.Row("r_" + i, "Road", 10, 1 - i / 10.0, Double.NaN, i / 10.0));
        var f = FrameFailureStudy.frames(new ScoresCsv.Contents(Path.of("x.csv"), rows, List.of("mdsa")), Set.of(), null);
        var res = FrameFailureStudy.evaluate("pooled", "mdsa", new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, f, f.scores().get("mdsa"));
        assertEquals(2, res.bad());
        assertEquals(1.0, res.auroc(), 1e-12);
        var c20 = res.at(0.20);
        assertEquals(2, c20.kept());
        assertEquals(1.0, c20.badShare(), 1e-12);
        assertEquals(1.0, c20.recall(), 1e-12);
        assertEquals(0.05, c20.keptMiou(), 1e-12);
        assertEquals(0.05, c20.oracleMiou(), 1e-12);
        assertEquals(0.45, res.allMiou(), 1e-12);
        assertEquals(1, res.at(0.01).kept(), "at least one frame is kept");
    }

    @Test
    void classAwareScoreIsTheHighestClassPercentileOfTheFrame() {
        List<ScoresCsv.Row> rows = List.of(
                new ScoresCsv.Row("a_1", "Road", 100, 1, Double.NaN, 0.9, null, 0.2),
                new ScoresCsv.Row("a_1", "Car", 10, 2, Double.NaN, 0.5, null, 0.7),
                new ScoresCsv.Row("a_1", "Sign", 1, 3, Double.NaN, 0.1, null, Double.NaN),
                new ScoresCsv.Row("a_2", "Road", 100, 1, Double.NaN, 0.9, null, Double.NaN));
        var c = new ScoresCsv.Contents(Path.of("x.csv"), rows, List.of("mdsa"));
        assertTrue(c.hasClassPercentiles());
        var s = c.frameScores(ScoresCsv.CLASS_AWARE, Set.of());
        assertEquals(0.7, s.get("a_1").score(), 1e-12);
        assertEquals(111, s.get("a_1").pixels());
        assertTrue(Double.isNaN(s.get("a_2").score()));
        assertEquals(ScoresCsv.CLASS_AWARE, c.defaultFrameScore());
    }

    @Test
    void recordingScaleRanksAndStandardisesWithinEachRecording() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("a_1", 10.0);
        m.put("a_2", 20.0);
        m.put("a_3", 30.0);
        m.put("b_1", 1.0);
        m.put("b_2", 3.0);
        m.put("b_3", Double.NaN);
        var rank = RecordingScale.RANK.apply(m);
        assertEquals(1.0, rank.get("a_3"), 1e-12);
        assertEquals(1.0, rank.get("b_2"), 1e-12);
        assertEquals(0.5, rank.get("b_1"), 1e-12);
        assertTrue(Double.isNaN(rank.get("b_3")));
        var std = RecordingScale.STANDARDIZE.apply(m);
        // recording a: median 20, IQR 10 -> -1, 0, 1; recording b: median 2, IQR 1 -> -1, 1
        assertEquals(-1, std.get("a_1"), 1e-12);
        assertEquals(1, std.get("a_3"), 1e-12);
        assertEquals(1, std.get("b_2"), 1e-12);
        assertEquals(List.copyOf(m.keySet()), List.copyOf(std.keySet()));
        assertThrows(IllegalArgumentException.class, () -> RecordingScale.of("zscore"));
    }

    static FrameFailureStudy.Result find(List<FrameFailureStudy.Result> rs, String scope, String score) {
        return rs.stream().filter(r -> r.scope().equals(scope) && r.score().equals(score)).findFirst().orElseThrow();
    }
}
