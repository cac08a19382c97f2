package dev.segsa.report;

import dev.segsa.evaluate.Evaluation;
import dev.segsa.evaluate.SpearmanCorrelation;
import dev.segsa.io.AtomicOutput;
import dev.segsa.scores.ScoresCsv;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.Color;
import java.awt.geom.Ellipse2D;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * RQ1 at a glance: per class (or group), each image's score against its IoU, the points the
 * Spearman correlation of the report is computed on (the target's rows with an IoU and a value in
 * every score column), with rho and p in the title.
 */
final class ScatterCharts {
    static final int WIDTH = 380, HEIGHT = 300;

    private ScatterCharts() {}

    /** Writes the chart; returns its title. */
    static String write(Path png, Evaluation.Result r, Evaluation.Target target, String score, SpearmanCorrelation rho) {
        XYSeries s = new XYSeries(target.name());
        List<String> cols = r.scores().scoreColumns();
        for (ScoresCsv.Row row : r.scores().rows()) {
            if (!row.className().equals(target.name()) || Double.isNaN(row.iou())) continue;
            boolean all = true;
            for (String c : cols) all &= !Double.isNaN(row.score(c));
            if (all) s.add(row.score(score), row.iou());
        }
        String title = String.format(Locale.ROOT, "%s: rho %s, p %s (%d images)", target.name(),
                Double.isFinite(rho.rho()) ? String.format(Locale.ROOT, "%.2f", rho.rho()) : "-", EvaluationReport.fmtP(rho.pValue()),
                s.getItemCount());
        JFreeChart chart = ChartFactory.createScatterPlot(title, "image " + score, "IoU", new XYSeriesCollection(s),
                PlotOrientation.VERTICAL, false, false, false);
        chart.getTitle().setFont(chart.getTitle().getFont().deriveFont(12f));
        chart.setBackgroundPaint(Color.WHITE);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(220, 220, 220));
        plot.setRangeGridlinePaint(new Color(220, 220, 220));
        NumberAxis y = (NumberAxis) plot.getRangeAxis();
        y.setRange(0, 1);
        NumberAxis x = (NumberAxis) plot.getDomainAxis();
        x.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
        renderer.setSeriesShape(0, new Ellipse2D.Double(-2.5, -2.5, 5, 5));
        renderer.setSeriesPaint(0, new Color(31, 119, 180, 170));
        plot.setRenderer(renderer);
        AtomicOutput.write(png, out -> ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT));
        return title;
    }
}
