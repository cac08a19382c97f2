package dev.segsa.report;

import dev.segsa.io.AtomicOutput;

import dev.segsa.evaluate.Evaluation;
import dev.segsa.evaluate.SavingsCurve;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Paint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * PNG charts of the RQ2 trade-off drawn with JFreeChart, axes as in the paper's Figure 9:
 * x "Savings in labelling (%)", y "Classification Inaccuracy" (share of skipped images with IoU
 * below the threshold) or "IoU Inaccuracy" (mean 1 - IoU of the skipped images).
 */
public final class SavingsCharts {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 560;
    private static final Paint[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22),
            new Color(0x17becf), new Color(0x393b79), new Color(0xad494a), new Color(0x637939), new Color(0x843c39)};

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private SavingsCharts() {}

    /** One line of a chart. */
    public record Line(String label, SavingsCurve curve, boolean dashed) {}

    /**
     * @param threshold index into the curves' thresholds, or -1 for the IoU inaccuracy
     */
    public static void write(Path png, String title, List<Line> lines, int threshold) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Line l : lines) {
            XYSeries s = new XYSeries(l.label(), false, true);
            SavingsCurve c = l.curve();
            if (c.images() > 0) {
                for (int i = 0; i < c.savingsPercent().length; i++) {
                    s.add(c.savingsPercent()[i], threshold < 0 ? c.iouInaccuracy()[i] : c.classificationInaccuracy()[threshold][i]);
                }
            }
            data.addSeries(s);
        }
        String yLabel = threshold < 0 ? "IoU Inaccuracy" : "Classification Inaccuracy";
        JFreeChart chart = ChartFactory.createXYLineChart(title, "Savings in labelling (%)", yLabel, data,
                PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        NumberAxis x = (NumberAxis) plot.getDomainAxis();
        x.setRange(0, 100);
        x.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(5));
        NumberAxis y = (NumberAxis) plot.getRangeAxis();
        y.setAutoRangeIncludesZero(true);
        double top = 0;
        for (int i = 0; i < data.getSeriesCount(); i++) {
            for (int j = 0; j < data.getItemCount(i); j++) top = Math.max(top, data.getYValue(i, j));
        }
        if (!(top > 0)) y.setRange(0, 1); // every curve at 0 (no poor frame skipped): a plain 0..1 axis
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        for (int i = 0; i < lines.size(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            renderer.setSeriesStroke(i, lines.get(i).dashed()
                    ? new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(1.6f));
        }
        plot.setRenderer(renderer);
        AtomicOutput.write(png, out -> ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT));
    }

    public static String title(int threshold, double[] thresholds, String what) {
        return threshold < 0 ? "IoU Inaccuracy Tradeoff (" + what + ")"
                : String.format(Locale.ROOT, "Classification Inaccuracy Tradeoff (threshold %s, %s)",
                EvaluationCsv.threshold(thresholds[threshold]), what);
    }

    /** A file-name-safe form of a name: lower case, runs of other characters as '-'. */
    public static String slug(String s) {
        String t = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
        return t.isEmpty() ? "x" : t;
    }

    /** The lines of a per-score chart: one per target. */
    public static List<Line> perScore(Evaluation.Result r, String order) {
        List<Line> out = new ArrayList<>();
        for (Evaluation.Rq2Series s : r.rq2()) if (s.order().equals(order)) out.add(new Line(s.target().name(), s.curve(), false));
        return out;
    }

    /** The lines of a per-target comparison chart: one per order, oracle and random dashed. */
    public static List<Line> perTarget(Evaluation.Result r, Evaluation.Target target) {
        List<Line> out = new ArrayList<>();
        for (Evaluation.Rq2Series s : r.rq2()) {
            if (s.target() != target) continue;
            boolean baseline = s.order().equals(Evaluation.ORACLE) || s.order().equals(Evaluation.RANDOM);
            out.add(new Line(s.order(), s.curve(), baseline));
        }
        return out;
    }
}
