package dev.segsa.report;

import dev.segsa.evaluate.ClopperPearson;
import dev.segsa.evaluate.Evaluation;
import dev.segsa.evaluate.LabellingDecision;
import dev.segsa.evaluate.MetaModel;
import dev.segsa.scores.ClassGroups;
import dev.segsa.scores.ScoresCsv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The "What to do" section of the evaluate report on small synthetic classes: nothing to label
 * when no frame is below the threshold, flagged scores never recommended, ties in the saving
 * broken by the mean classification inaccuracy then the name, and the hindsight caveat with the
 * pilot size that {@code segsa decide} needs for a certificate.
 */
class EvaluationReportAdviceTest {
    static final double[] TH = {0.5};

    /** Rows of one class in skip order: frame i gets mdsa i (and lsa from {@code lsa}, NaN when null). */
    static void addClass(List<ScoresCsv.Row> rows, String cls, double[] iou, double[] lsa) {
        for (int i = 0; i < iou.length; i++) {
            rows.add(new ScoresCsv.Row(String.format("%s%03d.png", cls, i), cls, 100, i + 1, lsa == null ? Double.NaN : lsa[i], iou[i]));
        }
    }

    static Evaluation.Result evaluate(List<ScoresCsv.Row> rows, List<String> columns) {
        return Evaluation.run(new ScoresCsv.Contents(Path.of("scores.csv"), rows, columns), new Evaluation.Settings(TH, 50, 7,
                ClassGroups.none()));
    }

    static EvaluationReport.Advice advice(Evaluation.Result r, String cls) {
        return EvaluationReport.advice(r).stream().filter(a -> a.target().name().equals(cls)).findFirst().orElseThrow();
    }

    /**
     * IoU in mdsa's skip order from a pattern: 'g' a good frame (IoU 0.9 down to 0.6), 'b' a bad one
     * (0.4 down to 0.1), each falling along the order (so mdsa is rightly signed: higher mdsa, lower IoU).
     */
    static double[] pattern(String p) {
        double[] iou = new double[p.length()];
        for (int i = 0; i < iou.length; i++) iou[i] = (p.charAt(i) == 'g' ? 0.9 : 0.4) - 0.3 * i / iou.length;
        return iou;
    }

    /** {@code first} then the other indices of 0..n-1 in ascending order, then {@code last}. */
    static int[] order(int n, int[] first, int[] last) {
        List<Integer> o = new ArrayList<>();
        for (int i : first) o.add(i);
        java.util.Set<Integer> end = new java.util.HashSet<>();
        for (int i : last) end.add(i);
        for (int i = 0; i < n; i++) if (!o.contains(i) && !end.contains(i)) o.add(i);
        for (int i : last) o.add(i);
        return o.stream().mapToInt(Integer::intValue).toArray();
    }

    static int saving(Evaluation.Result r, String order) {
        return r.rq2().stream().filter(s -> s.order().equals(order)).findFirst().orElseThrow().curve()
                .maxSavingsWithin(0, EvaluationCsv.SUMMARY_TOLERANCE);
    }

    /** The lsa values that put the frames of mdsa's skip order into {@code order} (indices into it) when sorted ascending. */
    static double[] lsaFor(int[] order) {
        double[] lsa = new double[order.length];
        for (int rank = 0; rank < order.length; rank++) lsa[order[rank]] = rank + 1;
        return lsa;
    }

    @Test
    void aClassWithNoFrameBelowTheThresholdHasNothingToLabel() {
        List<ScoresCsv.Row> rows = new ArrayList<>();
        addClass(rows, "road", pattern("g".repeat(20)), null);
        Evaluation.Result r = evaluate(rows, List.of("mdsa"));
        EvaluationReport.Advice a = advice(r, "road");
        assertEquals(EvaluationReport.Verdict.NOTHING_TO_LABEL, a.verdict());
        assertNull(a.best(), "no order is named best");
        assertNull(EvaluationReport.selectCommand(r, a), "no select --skip-fraction 1 command");
        assertEquals(100, a.random(), "random skips everything too");
        String table = EvaluationReport.adviceTable(r);
        assertTrue(table.contains("road           nothing to label for this class, any order: no frame is below IoU 0.5"), table);
        assertFalse(table.contains("--skip-fraction"), table);
        assertFalse(table.contains("best mdsa"), table);
    }

    /** By mdsa: 6 good frames (IoU 0.52..0.57), 4 bad, 20 better ones: mdsa rises with IoU (rho > 0), yet skips 20 %. */
    static double[] wrongSignedIou() {
        double[] iou = new double[30];
        for (int i = 0; i < 6; i++) iou[i] = 0.52 + 0.01 * i;
        for (int i = 6; i < 10; i++) iou[i] = 0.1 + 0.1 * (i - 6);
        for (int i = 10; i < 30; i++) iou[i] = 0.6 + 0.02 * (i - 10);
        return iou;
    }

    /** lsa for {@link #wrongSignedIou()}: the highest IoU first, but the 4th a bad frame: skips 10 % (3 of 30). */
    static double[] rightSignedLsa() {
        int[] order = new int[30];
        int k = 0;
        for (int i = 29; i >= 10; i--) {
            if (k == 3) order[k++] = 9;
            order[k++] = i;
        }
        for (int i = 5; i >= 0; i--) order[k++] = i;
        for (int i = 8; i >= 6; i--) order[k++] = i;
        return lsaFor(order);
    }

    @Test
    void aWrongSignedScoreIsNeverRecommended() {
        double[] iou = wrongSignedIou();
        List<ScoresCsv.Row> rows = new ArrayList<>();
        addClass(rows, "car", iou, rightSignedLsa());
        Evaluation.Result r = evaluate(rows, List.of("mdsa", "lsa"));
        EvaluationReport.Advice a = advice(r, "car");
        assertTrue(a.flags().stream().anyMatch(f -> f.startsWith("mdsa has the wrong sign")), a.flags().toString());
        assertEquals(20, saving(r, "mdsa"), "the flagged score would save most");
        assertEquals(EvaluationReport.Verdict.SKIP, a.verdict());
        assertEquals("lsa", a.best());
        assertEquals(10, a.saving());
        assertEquals("lsa", a.selectable());
        assertTrue(EvaluationReport.selectCommand(r, a).contains("--score lsa --skip-fraction 0.1"));

        // with mdsa alone: none beats random, nothing recommended
        List<ScoresCsv.Row> only = new ArrayList<>();
        addClass(only, "car", iou, null);
        Evaluation.Result r1 = evaluate(only, List.of("mdsa"));
        EvaluationReport.Advice a1 = advice(r1, "car");
        assertEquals(EvaluationReport.Verdict.NO_SCORE_BEATS_RANDOM, a1.verdict());
        assertNull(a1.best());
        assertNull(EvaluationReport.selectCommand(r1, a1));
        String table = EvaluationReport.adviceTable(r1);
        assertTrue(table.contains("none of the scores beats random here"), table);
        assertFalse(table.contains("best mdsa") || table.contains("--score mdsa"), table);
    }

    @Test
    void aScoreWorseThanRandomIsNeverRecommended() {
        // 40 frames, 8 bad. mdsa: g g b g*30 b*7: skips 5 %. lsa: 4 good frames, the 8 bad, the other 28 good:
        // skips 10 %, yet its mean classification inaccuracy (about 0.33) is above random's (0.2)
        String p = "ggb" + "g".repeat(30) + "b".repeat(7);
        int[] lsa = order(40, new int[] {0, 1, 3, 4, 2, 33, 34, 35, 36, 37, 38, 39}, new int[0]);
        List<ScoresCsv.Row> rows = new ArrayList<>();
        addClass(rows, "car", pattern(p), lsaFor(lsa));
        Evaluation.Result r = evaluate(rows, List.of("mdsa", "lsa"));
        assertEquals(5, saving(r, "mdsa"));
        assertEquals(10, saving(r, "lsa"), "the flagged score would save most");
        EvaluationReport.Advice a = advice(r, "car");
        assertTrue(a.flags().stream().anyMatch(f -> f.startsWith("lsa does worse than random")), a.flags().toString());
        assertTrue(a.flags().stream().noneMatch(f -> f.startsWith("mdsa")), a.flags().toString());
        assertEquals(EvaluationReport.Verdict.SKIP, a.verdict());
        assertEquals("mdsa", a.best());
        assertEquals(5, a.saving());
        assertTrue(EvaluationReport.selectCommand(r, a).contains("--score mdsa --skip-fraction 0.05"));
        assertFalse(EvaluationReport.adviceTable(r).contains("best lsa"));
    }

    @Test
    void noOrderThatSkipsNothingIsNamedBest() {
        // 40 frames, 8 bad: the lowest mdsa is bad (nothing can be skipped), the rest nearly the oracle's order
        String p = "b" + "g".repeat(32) + "b".repeat(7);
        List<ScoresCsv.Row> rows = new ArrayList<>();
        addClass(rows, "car", pattern(p), null);
        Evaluation.Result r = evaluate(rows, List.of("mdsa"));
        EvaluationReport.Advice a = advice(r, "car");
        assertTrue(a.flags().isEmpty(), a.flags().toString());
        assertEquals(EvaluationReport.Verdict.NOTHING_SKIPPED, a.verdict());
        assertNull(a.best());
        assertEquals(0, a.saving());
        assertNull(EvaluationReport.selectCommand(r, a));
        String table = EvaluationReport.adviceTable(r);
        assertTrue(table.contains("no order skips any labelling here within the tolerance: label every frame"), table);
        assertFalse(table.contains("best mdsa"), table);
    }

    @Test
    void aTieInTheSavingGoesToTheLowerMeanInaccuracyThenToTheName() {
        // 20 frames, 4 bad; both orders skip the same 10 good frames first, then a bad one: both save 50 %
        // mdsa: g*10 b b b b g*6 (mean inaccuracy 0.108); lsa: g*10 b g*6 b b b (lower)
        String p = "g".repeat(10) + "bbbb" + "g".repeat(6);
        double[] iou = pattern(p);
        List<ScoresCsv.Row> rows = new ArrayList<>();
        addClass(rows, "car", iou, lsaFor(order(20, new int[0], new int[] {11, 12, 13})));
        Evaluation.Result r = evaluate(rows, List.of("mdsa", "lsa"));
        EvaluationReport.Advice a = advice(r, "car");
        assertTrue(a.flags().isEmpty(), a.flags().toString());
        assertEquals(50, saving(r, "mdsa"));
        assertEquals(50, saving(r, "lsa"));
        assertEquals(50, a.saving());
        assertEquals("lsa", a.best(), "lsa: the same saving at a lower mean inaccuracy (mdsa comes first in the file)");
        assertEquals("lsa", a.selectable());

        // the other way round: mdsa has the lower mean (and comes after lsa by name)
        String p2 = "g".repeat(10) + "b" + "g".repeat(6) + "bbb";
        List<ScoresCsv.Row> swapped = new ArrayList<>();
        addClass(swapped, "car", pattern(p2), lsaFor(order(20, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 18, 19}, new int[0])));
        Evaluation.Result r2 = evaluate(swapped, List.of("mdsa", "lsa"));
        EvaluationReport.Advice a2 = advice(r2, "car");
        assertEquals(50, saving(r2, "lsa"));
        assertEquals(50, a2.saving());
        assertEquals("mdsa", a2.best(), "mdsa: the lower mean inaccuracy wins over the name");

        // the very same order under two names: the name decides
        List<ScoresCsv.Row> same = new ArrayList<>();
        double[] lsa3 = new double[20];
        for (int i = 0; i < 20; i++) lsa3[i] = i + 1;
        addClass(same, "car", iou, lsa3);
        EvaluationReport.Advice a3 = advice(evaluate(same, List.of("mdsa", "lsa")), "car");
        assertEquals("lsa", a3.best(), "equal saving and mean: by name");
    }

    @Test
    void thePilotSizeIsDecidesOwnRule() {
        int k0 = EvaluationReport.minimumCertifiable(0.5);
        assertEquals(59, k0);
        assertEquals(new LabellingDecision.Settings(MetaModel.Learner.FOREST, 0.5, 0.05, 0.95, 5, 10, 1, 1).minimumCertifiable(), k0);
        // the smallest k whose Clopper-Pearson bound with no miss is within the tolerance
        assertTrue(ClopperPearson.upperBound(0, k0, 0.95) <= 0.05 + 1e-12);
        assertTrue(ClopperPearson.upperBound(0, k0 - 1, 0.95) > 0.05);
        // a certificate of skip share f needs k0 <= f * pilot
        assertEquals(108, EvaluationReport.pilotToCertify(0.5, 55));
        assertEquals(118, EvaluationReport.pilotToCertify(0.5, 50));
        assertEquals(59, EvaluationReport.pilotToCertify(0.5, 100));
        assertEquals(0, EvaluationReport.pilotToCertify(0.5, 0));
        assertEquals(20, EvaluationReport.decideDefaultPilot(100));
        assertEquals(59, EvaluationReport.decideDefaultPilot(387));
        assertEquals(387, EvaluationReport.smallestPoolForCertificate(59));
        assertEquals(58, EvaluationReport.decideDefaultPilot(386));
    }

    @Test
    void theReportSaysItsSavingsAreHindsightAndPointsToDecide(@TempDir Path dir) throws Exception {
        List<ScoresCsv.Row> rows = new ArrayList<>();
        double[] up = new double[20];
        for (int i = 0; i < 20; i++) up[i] = i + 1;
        addClass(rows, "road", pattern("g".repeat(20)), up);
        String p = "g".repeat(10) + "bbbb" + "g".repeat(6);
        double[] lsa = new double[20];
        for (int i = 0; i < 20; i++) lsa[i] = 20 - i; // lsa: mdsa reversed, skips 30 % (and is wrong-signed)
        addClass(rows, "car", pattern(p), lsa);
        Evaluation.Result r = evaluate(rows, List.of("mdsa", "lsa"));
        EvaluationReport.write(dir, r, "segsa evaluate --scores scores.csv --out " + dir, "0".repeat(64));
        String html = Files.readString(dir.resolve(EvaluationReport.INDEX));
        String what = html.substring(html.indexOf("id=\"what-to-do\""), html.indexOf("id=\"rq1-glance\""));
        assertTrue(what.contains("These savings are measured in hindsight on these labelled frames"), what);
        assertTrue(what.contains("they carry no bound and guarantee nothing on a new pool"), what);
        assertTrue(what.contains("<code>segsa decide --scores POOL.csv --class K --pilot-size N --out round0.csv</code>"), what);
        assertTrue(what.contains("a certificate needs at least 59 skipped pilot frames with none below IoU 0.5"), what);
        assertTrue(what.contains("118 to certify a 50% skip, 59 for 100%"), what);
        assertTrue(what.contains("too small for any certificate below 387 frames"), what);
        // car: mdsa skips 50 %: a pilot of 118; road: nothing to label, any order, no select command
        assertTrue(what.contains("<td>car</td><td>mdsa</td><td>50%</td>"), what);
        assertTrue(what.contains("&ge; 118 frames (decide's default on a pool this size: 20)"), what);
        assertTrue(what.contains("<td>road</td><td>any</td><td>100%</td>"), what);
        assertTrue(what.contains("nothing to label for this class, any order"), what);
        assertTrue(what.contains("--class car --score mdsa --skip-fraction 0.5"), what);
        assertFalse(what.contains("--class road"), what);
        String table = EvaluationReport.adviceTable(r);
        assertTrue(table.contains("in hindsight on these frames"), table);
        assertTrue(table.contains("a certificate needs a pilot of 118"), table);
        assertTrue(table.contains("These savings are measured in hindsight"), table);
    }
}
