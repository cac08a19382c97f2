package dev.segsa.report;

import dev.segsa.io.AtomicOutput;

import dev.segsa.scores.ClassGroups;
import dev.segsa.evaluate.Evaluation;
import dev.segsa.evaluate.SavingsCurve;
import dev.segsa.evaluate.SpearmanCorrelation;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Everything {@code segsa evaluate} writes into its output directory: the CSVs of
 * {@link EvaluationCsv}, the PNG charts of {@link SavingsCharts} and {@code index.html}, a
 * self-contained report (charts referenced relatively, no scripts, no network) that opens from
 * disk. Every file is written atomically; index.html last, so a report that exists is complete.
 */
public final class EvaluationReport {
    public static final String RQ1_CSV = "rq1.csv";
    public static final String RQ2_CSV = "rq2.csv";
    public static final String RQ2_SUMMARY_CSV = "rq2_summary.csv";
    public static final String EXTREMES_CSV = "extremes.csv";
    public static final String INDEX = "index.html";

    private EvaluationReport() {}

    /** A written chart: file name (relative to the directory) and title. */
    public record Chart(String file, String title) {}

    /**
     * Writes the report; returns the names of the files written, relative to {@code dir}.
     *
     * @param command the command line that produced it, shown in the report
     * @param scoresSha256 of the scores file, shown in the report
     */
    public static List<String> write(Path dir, Evaluation.Result r, String command, String scoresSha256) {
        return write(dir, r, command, scoresSha256, List.of());
    }

    /**
     * As {@link #write(Path, Evaluation.Result, String, String)}, with heatmap pictures already
     * written into {@code dir} (file names relative to it) shown in the Figure 8 section.
     */
    public static List<String> write(Path dir, Evaluation.Result r, String command, String scoresSha256, List<Chart> heatmaps) {
        List<String> files = new ArrayList<>();
        heatmaps.forEach(h -> files.add(h.file()));
        EvaluationCsv.writeRq1(dir.resolve(RQ1_CSV), r);
        EvaluationCsv.writeRq2(dir.resolve(RQ2_CSV), r);
        EvaluationCsv.writeRq2Summary(dir.resolve(RQ2_SUMMARY_CSV), r);
        EvaluationCsv.writeExtremes(dir.resolve(EXTREMES_CSV), r.extremes());
        files.addAll(List.of(RQ1_CSV, RQ2_CSV, RQ2_SUMMARY_CSV, EXTREMES_CSV));
        double[] th = r.settings().thresholds();

        List<Chart> perScore = new ArrayList<>();
        for (String score : r.columns()) {
            List<SavingsCharts.Line> lines = SavingsCharts.perScore(r, score);
            for (int t = -1; t < th.length; t++) {
                String name = "rq2_" + score + "_" + (t < 0 ? "iou" : "classification_t" + EvaluationCsv.threshold(th[t])) + ".png";
                String title = SavingsCharts.title(t, th, "skip lowest " + score);
                SavingsCharts.write(dir.resolve(name), title, lines, t);
                perScore.add(new Chart(name, title));
                files.add(name);
            }
        }
        List<Chart> perTarget = new ArrayList<>();
        int index = 0;
        for (Evaluation.Target target : r.targets()) {
            index++;
            if (target.images() == 0) continue;
            List<SavingsCharts.Line> lines = SavingsCharts.perTarget(r, target);
            for (int t : new int[] {0, -1}) {
                String name = String.format(Locale.ROOT, "rq2_compare_%02d_%s_%s.png", index, SavingsCharts.slug(target.name()),
                        t < 0 ? "iou" : "classification_t" + EvaluationCsv.threshold(th[t]));
                String title = SavingsCharts.title(t, th, target.name());
                SavingsCharts.write(dir.resolve(name), title, lines, t);
                perTarget.add(new Chart(name, title));
                files.add(name);
            }
        }
        List<Chart> scatters = new ArrayList<>();
        String primary = r.primaryScore();
        index = 0;
        for (Evaluation.Target target : r.targets()) {
            index++;
            if (target.images() == 0) continue;
            String name = String.format(Locale.ROOT, "rq1_scatter_%02d_%s_%s.png", index, SavingsCharts.slug(target.name()), primary);
            String title = ScatterCharts.write(dir.resolve(name), r, target, primary, find(r, target, primary));
            scatters.add(new Chart(name, title));
            files.add(name);
        }
        String html = html(r, command, scoresSha256, scatters, perScore, perTarget, heatmaps, files);
        AtomicOutput.write(dir.resolve(INDEX), html.getBytes(StandardCharsets.UTF_8));
        files.add(INDEX);
        removeStale(dir, files);
        return files;
    }

    /** Lists the files of the report in the folder, so that the next report there can remove what it no longer writes. */
    public static final String MANIFEST = ".segsa-report-files";

    /**
     * Deletes the files an earlier report in {@code dir} wrote (its {@value #MANIFEST}) that this
     * one did not, then records this report's files. Only files that segsa listed are deleted.
     */
    static void removeStale(Path dir, List<String> files) {
        Path manifest = dir.resolve(MANIFEST);
        java.util.Set<String> now = new java.util.HashSet<>(files);
        try {
            if (java.nio.file.Files.isRegularFile(manifest, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                for (String old : java.nio.file.Files.readAllLines(manifest, StandardCharsets.UTF_8)) {
                    if (old.isBlank() || now.contains(old) || old.contains("/") || old.contains("\\") || old.startsWith(".")) continue;
                    Path f = dir.resolve(old);
                    if (java.nio.file.Files.isRegularFile(f, java.nio.file.LinkOption.NOFOLLOW_LINKS)) java.nio.file.Files.delete(f);
                }
            }
        } catch (java.io.IOException e) {
            throw new dev.segsa.error.SegsaException(manifest + ": cannot remove the earlier report's files: " + e.getMessage(), e);
        }
        AtomicOutput.write(manifest, (String.join("\n", files) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The RQ1 table as printed: per target, images, then rho and p for every score column. */
    public static String rq1Table(Evaluation.Result r) {
        List<String> cols = r.columns();
        int w = 6;
        for (Evaluation.Target t : r.targets()) w = Math.max(w, t.name().length() + (t.group() ? 8 : 0));
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s %7s", "target", "images"));
        for (String c : cols) b.append(String.format(Locale.ROOT, " %18s %10s", "rho " + c, "p"));
        b.append('\n');
        for (Evaluation.Target t : r.targets()) {
            b.append(String.format(Locale.ROOT, "%-" + w + "s %7d", t.name() + (t.group() ? " (group)" : ""), t.images()));
            for (String c : cols) {
                SpearmanCorrelation s = find(r, t, c);
                b.append(String.format(Locale.ROOT, " %18s %10s", fmt(s.rho(), "%.2f"), fmtP(s.pValue())));
            }
            b.append('\n');
        }
        return b.toString().stripTrailing();
    }

    private static SpearmanCorrelation find(Evaluation.Result r, Evaluation.Target t, String score) {
        for (Evaluation.Rq1Row row : r.rq1()) if (row.target() == t && row.score().equals(score)) return row.correlation();
        throw new IllegalStateException("no RQ1 row for " + t.name() + " / " + score);
    }

    private static String fmt(double v, String f) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, f, v) : "-";
    }

    /** A p-value to 2 significant digits: 0.36, 0.015, 8.9e-11. */
    static String fmtP(double p) {
        if (!Double.isFinite(p)) return "-";
        if (p == 0) return "0";
        return p >= 1e-3 ? new java.math.BigDecimal(p).round(new java.math.MathContext(2)).stripTrailingZeros().toPlainString()
                : String.format(Locale.ROOT, "%.1e", p);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String html(Evaluation.Result r, String command, String sha, List<Chart> scatters, List<Chart> perScore,
                               List<Chart> perTarget, List<Chart> heatmaps, List<String> files) {
        double[] th = r.settings().thresholds();
        List<String> cols = r.columns();
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>segsa evaluate: ")
                .append(esc(r.scores().file().getFileName().toString())).append("</title>\n<style>")
                .append("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}")
                .append("table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}")
                .append("td:first-child,th:first-child{text-align:left}th{background:#f0f0f0}")
                .append("pre{background:#f6f6f6;padding:.6em;overflow-x:auto;white-space:pre-wrap}img{max-width:100%;border:1px solid #ddd}")
                .append(".note{color:#555}.grid{display:flex;flex-wrap:wrap;gap:8px}.grid img{width:380px}")
                .append(".grid2 img{width:560px}</style></head><body>\n");
        h.append("<h1>Surprise Adequacy vs IoU: labelling-cost study</h1>\n");
        // the pictures first: RQ1 as scatters, RQ2 as each target's savings-vs-inaccuracy chart
        h.append("<h2>RQ1 at a glance: ").append(esc(r.primaryScore())).append(" against IoU, per class</h2>\n")
                .append("<p class=\"note\">One point per image: the class's mean ").append(esc(r.primaryScore()))
                .append(" over its predicted pixels against the class IoU. A good score falls to the right as IoU falls ")
                .append("(negative rho). Details and every score: the RQ1 table below.</p>\n<div class=\"grid\">\n");
        for (Chart c : scatters) h.append("<img src=\"").append(esc(c.file())).append("\" alt=\"").append(esc(c.title())).append("\">\n");
        h.append("</div>\n<h2>RQ2 at a glance: labelling saved against inaccuracy, per class</h2>\n")
                .append("<p class=\"note\">Skipping the frames with the lowest score first: the share of skipped frames ")
                .append("that were in fact poor (IoU below ").append(EvaluationCsv.threshold(th[0])).append(") and their mean ")
                .append("1&minus;IoU, for every score against the oracle and random (dashed). Lower is better; the oracle is ")
                .append("the best any score could do.</p>\n<div class=\"grid grid2\">\n");
        for (Chart c : perTarget) h.append("<img src=\"").append(esc(c.file())).append("\" alt=\"").append(esc(c.title())).append("\">\n");
        h.append("</div>\n");
        h.append("<p>Produced by:</p><pre>").append(esc(command)).append("</pre>\n");
        h.append("<p>Scores: <code>").append(esc(r.scores().file().toAbsolutePath().normalize().toString()))
                .append("</code> (").append(r.scores().rows().size()).append(" rows, SHA-256 <code>").append(sha)
                .append("</code>). Score columns present: ").append(esc(String.join(", ", cols)))
                .append(". IoU thresholds: ").append(esc(joinThresholds(th))).append(". Random baseline: mean of ")
                .append(r.settings().randomRepeats()).append(" seeded shuffles (seed ").append(r.settings().seed()).append(").</p>\n");
        if (!r.settings().groups().groups().isEmpty()) {
            h.append("<p>Class groups: ");
            List<String> g = new ArrayList<>();
            for (ClassGroups.Group group : r.settings().groups().groups()) g.add(esc(group.name()));
            h.append(String.join(", ", g)).append(" (group rows as written by <code>segsa score --groups</code>: ")
                    .append("mean of the members' z-scored class scores; IoU of the merged group).</p>\n");
        }
        h.append("<h2>Rows used</h2>\n<p>Each class and group is evaluated on its rows that have an IoU and a value in every ")
                .append("score column present, so every score and baseline of a target sees the same images. Rows with an empty ")
                .append("IoU (no label) or an empty score (class not predicted in the image, or no SA model for it) are skipped ")
                .append("and counted here.</p>\n<table><tr><th>target</th><th>kind</th><th>rows</th><th>skipped: no IoU</th>")
                .append("<th>skipped: empty score</th><th>images used</th></tr>\n");
        for (Evaluation.Target t : r.targets()) {
            h.append("<tr><td>").append(esc(t.name())).append("</td><td>").append(t.group() ? "group" : "class").append("</td><td>")
                    .append(t.rows()).append("</td><td>").append(t.rowsWithoutIou()).append("</td><td>").append(t.rowsWithoutScore())
                    .append("</td><td>").append(t.images()).append("</td></tr>\n");
        }
        h.append("</table>\n");

        h.append("<h2>RQ1: Spearman rank correlation between score and IoU (paper Table 3)</h2>\n")
                .append("<p>Per image, class (or group) score vs class IoU; ties get the average rank; two-sided p-value from ")
                .append("Student's t with n&minus;2 degrees of freedom (as scipy.stats.spearmanr). A negative rho means higher score, ")
                .append("lower IoU. The uncertainty baselines come from the same forward pass and are oriented so that higher = ")
                .append("more uncertain. <a href=\"").append(RQ1_CSV).append("\">").append(RQ1_CSV).append("</a></p>\n")
                .append("<table><tr><th>target</th><th># of img.</th>");
        for (String c : cols) h.append("<th>&rho; ").append(esc(c)).append("</th><th>p</th>");
        h.append("</tr>\n");
        for (Evaluation.Target t : r.targets()) {
            h.append("<tr><td>").append(esc(t.name())).append(t.group() ? " (group)" : "").append("</td><td>").append(t.images()).append("</td>");
            for (String c : cols) {
                SpearmanCorrelation s = find(r, t, c);
                h.append("<td>").append(fmt(s.rho(), "%.2f")).append("</td><td>").append(fmtP(s.pValue())).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");

        h.append("<h2>RQ2: labelling savings vs inaccuracy (paper Figure 9)</h2>\n")
                .append("<p>At savings x % the first floor(n&middot;x/100) images of an order are not labelled. Classification ")
                .append("inaccuracy = share of those skipped images whose IoU is below the threshold; IoU inaccuracy = their mean ")
                .append("1&minus;IoU; both 0 when nothing is skipped. Orders: each score ascending (skip the least surprising or ")
                .append("least uncertain first; ties by image name), <b>oracle</b> (skip the highest IoU first: the best any score ")
                .append("could do) and <b>random</b>. Curves: <a href=\"").append(RQ2_CSV).append("\">").append(RQ2_CSV).append("</a>.</p>\n");
        h.append("<h3>Summary</h3>\n<p>Means over savings 5&ndash;100 % (lower is better), and the largest savings whose ")
                .append("classification inaccuracy at IoU threshold ").append(EvaluationCsv.threshold(th[0])).append(" stays within ")
                .append(EvaluationCsv.threshold(EvaluationCsv.SUMMARY_TOLERANCE)).append(" at every smaller saving (higher is better). ")
                .append("<a href=\"").append(RQ2_SUMMARY_CSV).append("\">").append(RQ2_SUMMARY_CSV).append("</a></p>\n")
                .append("<table><tr><th>target</th><th>order</th><th>images</th><th>mean IoU inacc.</th>");
        for (double t : th) h.append("<th>mean class. inacc. ").append(EvaluationCsv.threshold(t)).append("</th>");
        h.append("<th>max savings % (").append(EvaluationCsv.threshold(th[0])).append(", &le;")
                .append(EvaluationCsv.threshold(EvaluationCsv.SUMMARY_TOLERANCE)).append(")</th></tr>\n");
        for (Evaluation.Rq2Series s : r.rq2()) {
            SavingsCurve c = s.curve();
            h.append("<tr><td>").append(esc(s.target().name())).append("</td><td>").append(esc(s.order())).append("</td><td>")
                    .append(c.images()).append("</td>");
            if (c.images() == 0) {
                h.append("<td>-</td>".repeat(th.length + 2)).append("</tr>\n");
                continue;
            }
            h.append("<td>").append(fmt(SavingsCurve.meanOverSavings(c.iouInaccuracy()), "%.4f")).append("</td>");
            for (int t = 0; t < th.length; t++) {
                h.append("<td>").append(fmt(SavingsCurve.meanOverSavings(c.classificationInaccuracy()[t]), "%.4f")).append("</td>");
            }
            h.append("<td>").append(c.maxSavingsWithin(0, EvaluationCsv.SUMMARY_TOLERANCE)).append("</td></tr>\n");
        }
        h.append("</table>\n");
        h.append("<h3>Per score: one line per class and group</h3>\n");
        for (Chart c : perScore) h.append("<p><img src=\"").append(esc(c.file())).append("\" alt=\"").append(esc(c.title())).append("\"></p>\n");
        h.append("<p>Per class and group, every score against the oracle and random baselines: the charts at the top.</p>\n");

        h.append("<h2>Highest and lowest ").append(esc(r.primaryScore())).append(" frames (paper Figure 8)</h2>\n")
                .append("<p>Per class and group, the ").append(Evaluation.EXTREMES).append(" images with the highest and lowest ")
                .append(esc(r.primaryScore())).append(" among the rows used. <a href=\"").append(EXTREMES_CSV).append("\">")
                .append(EXTREMES_CSV).append("</a></p>\n");
        if (heatmaps.isEmpty()) {
            h.append("<p class=\"note\">No heatmaps: run segsa evaluate with --model, --sa and --images to draw the per-pixel MDSA ")
                    .append("of the highest- and lowest-SA frames.</p>\n");
        } else {
            h.append("<p>Per-pixel MDSA of the frames with the highest and lowest image SA (pixel-weighted mean MDSA over the frame), ")
                    .append("on one colour scale.</p>\n");
            for (Chart c : heatmaps) h.append("<p><img src=\"").append(esc(c.file())).append("\" alt=\"").append(esc(c.title())).append("\"></p>\n");
        }
        for (Evaluation.Target t : r.targets()) {
            if (t.images() == 0) continue;
            h.append("<h3>").append(esc(t.name())).append(t.group() ? " (group)" : "").append("</h3>\n<table><tr><th>end</th>")
                    .append("<th>rank</th><th>image</th><th>").append(esc(r.primaryScore())).append("</th><th>IoU</th><th>pixels</th></tr>\n");
            for (Evaluation.Extreme e : r.extremes()) {
                if (e.target() != t) continue;
                h.append("<tr><td>").append(e.highest() ? "highest" : "lowest").append("</td><td>").append(e.rank()).append("</td><td>")
                        .append(esc(e.image())).append("</td><td>").append(fmt(e.value(), "%.4f")).append("</td><td>")
                        .append(fmt(e.iou(), "%.4f")).append("</td><td>").append(e.pixels()).append("</td></tr>\n");
            }
            h.append("</table>\n");
        }
        h.append("<h2>Files</h2>\n<ul>\n");
        for (String f : files) h.append("<li><a href=\"").append(esc(f)).append("\">").append(esc(f)).append("</a></li>\n");
        h.append("</ul>\n</body></html>\n");
        return h.toString();
    }

    private static String joinThresholds(double[] th) {
        List<String> s = new ArrayList<>();
        for (double t : th) s.add(EvaluationCsv.threshold(t));
        return String.join(", ", s);
    }
}
