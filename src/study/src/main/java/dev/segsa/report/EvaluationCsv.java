package dev.segsa.report;

import dev.segsa.io.AtomicOutput;
import dev.segsa.scores.ScoresCsv;

import dev.segsa.evaluate.Evaluation;
import dev.segsa.evaluate.SavingsCurve;

import java.io.OutputStreamWriter;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The CSV files of {@code segsa evaluate}, each written atomically:
 * <ul>
 *   <li>{@code rq1.csv}: {@code target,kind,score,images,rho,p_value} (kind = class or group;
 *       rho/p_value empty when undefined: fewer than 3 images or a constant sample);</li>
 *   <li>{@code rq2.csv}: {@code target,kind,order,savings_percent,images,skipped,iou_inaccuracy,
 *       classification_inaccuracy_<t>...} (order = a score column, oracle or random);</li>
 *   <li>{@code rq2_summary.csv}: {@code target,kind,order,images,mean_iou_inaccuracy,
 *       mean_classification_inaccuracy_<t>...,max_savings_percent_<t0>_within_<tol>}: means over
 *       savings 5..100 %, and the largest savings whose classification inaccuracy at the first
 *       threshold stays within the tolerance at every smaller saving;</li>
 *   <li>{@code extremes.csv}: {@code target,kind,score,end,rank,image,value,iou,pixels} (end =
 *       highest or lowest).</li>
 * </ul>
 */
public final class EvaluationCsv {
    /** Tolerance of the summary's max-savings column (the paper's 5 % at IoU 0.5). */
    public static final double SUMMARY_TOLERANCE = 0.05;

    private EvaluationCsv() {}

    public static String threshold(double t) {
        return BigDecimal.valueOf(t).stripTrailingZeros().toPlainString();
    }

    static String kind(Evaluation.Target t) {
        return t.group() ? "group" : "class";
    }

    public static void writeRq1(Path out, Evaluation.Result r) {
        StringBuilder b = new StringBuilder("target,kind,score,images,rho,p_value\n");
        for (Evaluation.Rq1Row row : r.rq1()) {
            b.append(ScoresCsv.field(row.target().name())).append(',').append(kind(row.target())).append(',').append(row.score())
                    .append(',').append(row.correlation().n()).append(',').append(ScoresCsv.number(row.correlation().rho()))
                    .append(',').append(ScoresCsv.number(row.correlation().pValue())).append('\n');
        }
        AtomicOutput.write(out, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    public static void writeRq2(Path out, Evaluation.Result r) {
        double[] th = r.settings().thresholds();
        AtomicOutput.write(out, stream -> {
            Writer w = new OutputStreamWriter(stream, StandardCharsets.UTF_8);
            w.write("target,kind,order,savings_percent,images,skipped,iou_inaccuracy");
            for (double t : th) w.write(",classification_inaccuracy_" + threshold(t));
            w.write('\n');
            for (Evaluation.Rq2Series s : r.rq2()) {
                SavingsCurve c = s.curve();
                for (int i = 0; i < c.savingsPercent().length; i++) {
                    w.write(ScoresCsv.field(s.target().name()) + "," + kind(s.target()) + "," + s.order() + "," + c.savingsPercent()[i]
                            + "," + c.images() + "," + c.skipped()[i] + "," + ScoresCsv.number(c.iouInaccuracy()[i]));
                    for (int t = 0; t < th.length; t++) w.write("," + ScoresCsv.number(c.classificationInaccuracy()[t][i]));
                    w.write('\n');
                }
            }
            w.flush();
        });
    }

    public static String maxSavingsColumn(double[] thresholds) {
        return "max_savings_percent_" + threshold(thresholds[0]) + "_within_" + threshold(SUMMARY_TOLERANCE);
    }

    public static void writeRq2Summary(Path out, Evaluation.Result r) {
        double[] th = r.settings().thresholds();
        StringBuilder b = new StringBuilder("target,kind,order,images,mean_iou_inaccuracy");
        for (double t : th) b.append(",mean_classification_inaccuracy_").append(threshold(t));
        b.append(',').append(maxSavingsColumn(th)).append('\n');
        for (Evaluation.Rq2Series s : r.rq2()) {
            SavingsCurve c = s.curve();
            b.append(ScoresCsv.field(s.target().name())).append(',').append(kind(s.target())).append(',').append(s.order())
                    .append(',').append(c.images());
            if (c.images() == 0) {
                b.append(",".repeat(th.length + 2)).append('\n');
                continue;
            }
            b.append(',').append(ScoresCsv.number(SavingsCurve.meanOverSavings(c.iouInaccuracy())));
            for (int t = 0; t < th.length; t++) {
                b.append(',').append(ScoresCsv.number(SavingsCurve.meanOverSavings(c.classificationInaccuracy()[t])));
            }
            b.append(',').append(c.maxSavingsWithin(0, SUMMARY_TOLERANCE)).append('\n');
        }
        AtomicOutput.write(out, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    public static void writeExtremes(Path out, List<Evaluation.Extreme> extremes) {
        StringBuilder b = new StringBuilder("target,kind,score,end,rank,image,value,iou,pixels\n");
        for (Evaluation.Extreme e : extremes) {
            b.append(ScoresCsv.field(e.target().name())).append(',').append(kind(e.target())).append(',').append(e.score()).append(',')
                    .append(e.highest() ? "highest" : "lowest").append(',').append(e.rank()).append(',')
                    .append(ScoresCsv.field(e.image())).append(',').append(ScoresCsv.number(e.value())).append(',')
                    .append(ScoresCsv.number(e.iou())).append(',').append(e.pixels()).append('\n');
        }
        AtomicOutput.write(out, b.toString().getBytes(StandardCharsets.UTF_8));
    }
}
