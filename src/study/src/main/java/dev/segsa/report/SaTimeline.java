package dev.segsa.report;

import dev.segsa.io.AtomicOutput;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The SA timeline of a recording (PNG): image SA per frame over time, the threshold that
 * skipping the {@code skipFraction} lowest-SA frames sets (what {@code segsa select
 * --skip-fraction} would do), and shaded the segments of frames above it, the ones sent for
 * labelling. A person sees at a glance where in a drive the model is surprised.
 */
public final class SaTimeline {
    private SaTimeline() {}

    /** One frame on the timeline. */
    public record Point(double seconds, double imageSa) {}

    /** A run of consecutive frames sent for labelling, [from, to] seconds. */
    public record Segment(double fromSeconds, double toSeconds, int frames) {}

    /** The image SA below which {@code skipFraction} of the frames with an SA fall (their labelling is skipped). */
    public static double threshold(List<Point> points, double skipFraction) {
        double[] v = points.stream().mapToDouble(Point::imageSa).filter(Double::isFinite).sorted().toArray();
        if (v.length == 0) return Double.NaN;
        int skipped = (int) Math.floor(skipFraction * v.length);
        return skipped == 0 ? Double.NEGATIVE_INFINITY : skipped >= v.length ? Double.POSITIVE_INFINITY : v[skipped - 1];
    }

    /** Consecutive frames (in the given order) with image SA above the threshold. */
    public static List<Segment> segments(List<Point> points, double threshold) {
        List<Segment> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= points.size(); i++) {
            boolean in = i < points.size() && Double.isFinite(points.get(i).imageSa()) && points.get(i).imageSa() > threshold;
            if (in && start < 0) start = i;
            if (!in && start >= 0) {
                out.add(new Segment(points.get(start).seconds(), points.get(i - 1).seconds(), i - start));
                start = -1;
            }
        }
        return out;
    }

    /** The timeline of image MDSA (the pixel-weighted mean MDSA over the frame). */
    public static void write(Path png, String title, List<Point> points, double skipFraction) {
        write(png, title, "image MDSA", points, skipFraction);
    }

    /** The timeline of the frame score named {@code score} (the points' {@link Point#imageSa()} hold its values). */
    public static void write(Path png, String title, String score, List<Point> points, double skipFraction) {
        double th = threshold(points, skipFraction);
        XYSeries s = new XYSeries(score);
        for (Point p : points) if (Double.isFinite(p.imageSa())) s.add(p.seconds(), p.imageSa());
        JFreeChart chart = ChartFactory.createXYLineChart(title, "time from the start (s)", score, new XYSeriesCollection(s),
                PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, points.size() <= 200);
        r.setSeriesPaint(0, new Color(0xd62728));
        r.setSeriesStroke(0, new BasicStroke(1.6f));
        plot.setRenderer(r);
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        List<Segment> segs = segments(points, th);
        // shade each segment out to half way to its neighbours (frames need not be evenly spaced)
        for (int i = 0; i < points.size(); i++) {
            if (!(Double.isFinite(points.get(i).imageSa()) && points.get(i).imageSa() > th)) continue;
            double t = points.get(i).seconds();
            double before = i > 0 ? (points.get(i - 1).seconds() + t) / 2 : t - half(points, 0);
            double after = i + 1 < points.size() ? (points.get(i + 1).seconds() + t) / 2 : t + half(points, points.size() - 1);
            IntervalMarker m = new IntervalMarker(before, after);
            m.setPaint(new Color(255, 200, 0, 70));
            m.setOutlinePaint(null);
            plot.addDomainMarker(m, Layer.BACKGROUND);
        }
        if (Double.isFinite(th)) {
            ValueMarker m = new ValueMarker(th);
            m.setPaint(new Color(0x1f77b4));
            m.setStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1f, new float[] {6f, 4f}, 0f));
            plot.addRangeMarker(m);
            int sent = segs.stream().mapToInt(Segment::frames).sum();
            chart.addSubtitle(new org.jfree.chart.title.TextTitle(String.format(Locale.ROOT,
                    "dashed: threshold %.2f (labelling of the lowest %.0f%% skipped); shaded: %d segments, %d of %d frames sent for labelling",
                    th, 100 * skipFraction, segs.size(), sent, points.size())));
        }
        AtomicOutput.write(png, out -> ChartUtils.writeChartAsPNG(out, chart, 1200, 420));
    }

    /** Half the spacing next to point i (for the first and last frame). */
    private static double half(List<Point> points, int i) {
        if (points.size() < 2) return 0.5;
        return i == 0 ? (points.get(1).seconds() - points.get(0).seconds()) / 2
                : (points.get(i).seconds() - points.get(i - 1).seconds()) / 2;
    }

    /** Points in order of time. */
    public static List<Point> sorted(List<Point> points) {
        Point[] a = points.toArray(new Point[0]);
        Arrays.sort(a, java.util.Comparator.comparingDouble(Point::seconds));
        return List.of(a);
    }
}
