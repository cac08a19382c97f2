package dev.segsa.evaluate;

import dev.segsa.scores.ClassGroups;
import dev.segsa.scores.ScoresCsv;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * RQ2 curves on a hand-worked example. Four images of one class:
 * <pre>
 *   image  mdsa  iou
 *   a      1     0.9
 *   b      2     0.4
 *   c      3     0.7
 *   d      4     0.2
 * </pre>
 * Skipped at x %: k = floor(4x/100): x 0..20 -> 0, 25..45 -> 1, 50..70 -> 2, 75..95 -> 3, 100 -> 4.
 * By mdsa (a, b, c, d): k=1 {a}: 1-IoU 0.1, below 0.5: 0, below 0.8: 0; k=2 {a,b}: (0.1+0.6)/2 =
 * 0.35, 1/2, 1/2; k=3: (0.1+0.6+0.3)/3 = 1/3, 1/3, 2/3; k=4: (0.1+0.6+0.3+0.8)/4 = 0.45, 2/4, 3/4.
 * Oracle (highest IoU first: a, c, b, d): k=1: 0.1, 0, 0; k=2 {a,c}: 0.2, 0, 1/2; k=3: 1/3, 1/3, 2/3;
 * k=4: as above.
 */
class SavingsCurveTest {
    static final double[] TH = {0.5, 0.8};

    static void check(SavingsCurve c, int percent, int k, double iou, double below05, double below08) {
        int s = percent / 5;
        assertEquals(percent, c.savingsPercent()[s]);
        assertEquals(k, c.skipped()[s], "skipped at " + percent + "%");
        assertEquals(iou, c.iouInaccuracy()[s], 1e-12, "IoU inaccuracy at " + percent + "%");
        assertEquals(below05, c.classificationInaccuracy()[0][s], 1e-12, "below 0.5 at " + percent + "%");
        assertEquals(below08, c.classificationInaccuracy()[1][s], 1e-12, "below 0.8 at " + percent + "%");
    }

    @Test
    void handWorkedCurveBySkipOrder() {
        SavingsCurve c = SavingsCurve.of(new double[] {0.9, 0.4, 0.7, 0.2}, TH);
        assertEquals(21, c.savingsPercent().length);
        for (int x = 0; x <= 20; x += 5) check(c, x, 0, 0, 0, 0);
        for (int x = 25; x <= 45; x += 5) check(c, x, 1, 0.1, 0, 0);
        for (int x = 50; x <= 70; x += 5) check(c, x, 2, 0.35, 0.5, 0.5);
        for (int x = 75; x <= 95; x += 5) check(c, x, 3, 1.0 / 3, 1.0 / 3, 2.0 / 3);
        check(c, 100, 4, 0.45, 0.5, 0.75);
        assertEquals(45, c.maxSavingsWithin(0, 0.05));
        assertEquals(100, c.maxSavingsWithin(0, 0.5));
        assertEquals(70, c.maxSavingsWithin(1, 0.5)); // below 0.8 reaches 2/3 at 75 %
    }

    /** Rank fusion: the mean of the images' rank fractions over the fused columns, in RQ1 and RQ2 beside the columns. */
    @Test
    void fusedOrderAveragesTheColumnsRanks() {
        // mdsa ranks a, b, c, d as 1..4 and lsa as 4, 2, 3, 1: their mean rank fractions put b first
        List<ScoresCsv.Row> rows = List.of(
                new ScoresCsv.Row("a", "car", 10, 1, 4, 0.9),
                new ScoresCsv.Row("b", "car", 10, 2, 2, 0.4),
                new ScoresCsv.Row("c", "car", 10, 3, 3, 0.7),
                new ScoresCsv.Row("d", "car", 10, 4, 1, 0.2));
        Evaluation.Result r = Evaluation.run(new ScoresCsv.Contents(Path.of("scores.csv"), rows, List.of("mdsa", "lsa")),
                new Evaluation.Settings(TH, 10, 7, ClassGroups.none(), List.of("mdsa", "lsa")));
        assertEquals(List.of("mdsa", "lsa", "rank(mdsa+lsa)"), r.columns());
        // fused = (rank_mdsa + rank_lsa) / 2 over rank fractions: a 0.5, b 1/3, c 2/3, d 0.5
        double[] fused = {0.5, 1.0 / 3, 2.0 / 3, 0.5}, iou = {0.9, 0.4, 0.7, 0.2};
        SpearmanCorrelation want = SpearmanCorrelation.of(fused, iou);
        SpearmanCorrelation got = r.rq1().stream().filter(x -> x.score().equals("rank(mdsa+lsa)")).findFirst().orElseThrow().correlation();
        assertEquals(want.rho(), got.rho(), 1e-12);
        SavingsCurve byFusion = series(r, "rank(mdsa+lsa)");
        check(byFusion, 25, 1, 0.6, 1, 1); // b first (IoU 0.4)
        assertThrows(IllegalArgumentException.class, () -> new Evaluation.Settings(TH, 10, 7, ClassGroups.none(), List.of("mdsa")));
    }

    @Test
    void evaluationOrdersByScoreAndOracleAndRandom() {
        List<ScoresCsv.Row> rows = List.of(
                new ScoresCsv.Row("d", "car", 10, 4, Double.NaN, 0.2),
                new ScoresCsv.Row("a", "car", 10, 1, Double.NaN, 0.9),
                new ScoresCsv.Row("c", "car", 10, 3, Double.NaN, 0.7),
                new ScoresCsv.Row("b", "car", 10, 2, Double.NaN, 0.4),
                new ScoresCsv.Row("e", "car", 0, Double.NaN, Double.NaN, 0.0),   // empty score: skipped
                new ScoresCsv.Row("f", "car", 10, 5, Double.NaN, Double.NaN));  // no IoU: skipped
        Evaluation.Result r = Evaluation.run(new ScoresCsv.Contents(Path.of("scores.csv"), rows, List.of("mdsa")),
                new Evaluation.Settings(TH, 50, 7, ClassGroups.none()));
        Evaluation.Target t = r.targets().get(0);
        assertEquals(6, t.rows());
        assertEquals(1, t.rowsWithoutIou());
        assertEquals(1, t.rowsWithoutScore());
        assertEquals(4, t.images());
        SavingsCurve byMdsa = series(r, "mdsa"), oracle = series(r, Evaluation.ORACLE), random = series(r, Evaluation.RANDOM);
        check(byMdsa, 50, 2, 0.35, 0.5, 0.5);
        check(byMdsa, 100, 4, 0.45, 0.5, 0.75);
        check(oracle, 25, 1, 0.1, 0, 0);
        check(oracle, 50, 2, 0.2, 0, 0.5);
        check(oracle, 75, 3, 1.0 / 3, 1.0 / 3, 2.0 / 3);
        // every order skips all four at 100 %; the random mean lies between the best and worst single image at k = 1
        check(random, 100, 4, 0.45, 0.5, 0.75);
        double r25 = random.iouInaccuracy()[5];
        assertTrue(r25 >= 0.1 && r25 <= 0.8, "random IoU inaccuracy at 25%: " + r25);
        // rho of mdsa (1,2,3,4) vs IoU (0.9,0.4,0.7,0.2): ranks (1,2,3,4) vs (4,2,3,1): rho = 1 - 6*(9+0+0+9)/(4*15) = -0.8
        assertEquals(-0.8, r.rq1().get(0).correlation().rho(), 1e-12);
        assertEquals("a", r.extremes().stream().filter(e -> !e.highest() && e.rank() == 1).findFirst().orElseThrow().image());
        assertEquals("d", r.extremes().stream().filter(e -> e.highest() && e.rank() == 1).findFirst().orElseThrow().image());
    }

    static SavingsCurve series(Evaluation.Result r, String order) {
        return r.rq2().stream().filter(s -> s.order().equals(order)).findFirst().orElseThrow().curve();
    }
}
