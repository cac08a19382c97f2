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
 * self-contained report (every picture embedded as a data URI, no scripts, no network) that opens
 * from disk, mailed or copied alone; it begins with what to do (per class, the best order and the
 * {@code segsa select} command, measured in hindsight, and the pilot {@code segsa decide} needs to
 * certify a skip on a new pool). Every file is written atomically; index.html last, so a report that exists is complete.
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
        return write(dir, r, command, scoresSha256, heatmaps, List.of());
    }

    /**
     * As {@link #write(Path, Evaluation.Result, String, String, List)}, with warnings to carry into
     * the report's first section (e.g. the SA file's activation-trace note from {@code segsa fit}).
     */
    public static List<String> write(Path dir, Evaluation.Result r, String command, String scoresSha256, List<Chart> heatmaps,
                                     List<String> warnings) {
        return write(dir, r, command, scoresSha256, heatmaps, warnings, List.of());
    }

    /** The frame-failure detection table's CSV ({@link dev.segsa.evaluate.FrameFailureStudy}). */
    public static final String FRAME_FAILURE_CSV = "frame_failure.csv";

    /**
     * As above, with the frame-failure detection of every frame score
     * ({@link dev.segsa.evaluate.FrameFailureStudy}; empty: left out): its CSV, and the report's
     * "What to do" starts with the frame-level line.
     */
    public static List<String> write(Path dir, Evaluation.Result r, String command, String scoresSha256, List<Chart> heatmaps,
                                     List<String> warnings, List<dev.segsa.evaluate.FrameFailureStudy.Result> frameFailure) {
        List<String> files = new ArrayList<>();
        heatmaps.forEach(h -> files.add(h.file()));
        EvaluationCsv.writeRq1(dir.resolve(RQ1_CSV), r);
        EvaluationCsv.writeRq2(dir.resolve(RQ2_CSV), r);
        EvaluationCsv.writeRq2Summary(dir.resolve(RQ2_SUMMARY_CSV), r);
        EvaluationCsv.writeExtremes(dir.resolve(EXTREMES_CSV), r.extremes());
        WhatToDoCsv.write(dir.resolve(WhatToDoCsv.FILE), r);
        files.addAll(List.of(RQ1_CSV, RQ2_CSV, RQ2_SUMMARY_CSV, EXTREMES_CSV, WhatToDoCsv.FILE));
        if (!frameFailure.isEmpty()) {
            // after the files whose checks refuse an input as an output (the scores file in the report folder)
            AtomicOutput.write(dir.resolve(FRAME_FAILURE_CSV),
                    dev.segsa.evaluate.FrameFailureStudy.csv(frameFailure).getBytes(StandardCharsets.UTF_8));
            files.add(FRAME_FAILURE_CSV);
        }
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
        List<String> flat = new ArrayList<>();
        int index = 0;
        for (Evaluation.Target target : r.targets()) {
            index++;
            if (target.images() == 0) continue;
            List<SavingsCharts.Line> lines = SavingsCharts.perTarget(r, target);
            boolean noneBelow = belowThreshold(r, target) == 0;
            if (noneBelow) flat.add(target.name());
            for (int t : new int[] {0, -1}) {
                if (t == 0 && noneBelow) continue; // a flat zero for every order: said in one line instead
                String name = String.format(Locale.ROOT, "rq2_compare_%02d_%s_%s.png", index, SavingsCharts.slug(target.name()),
                        t < 0 ? "iou" : "classification_t" + EvaluationCsv.threshold(th[t]));
                String title = SavingsCharts.title(t, th, target.name());
                SavingsCharts.write(dir.resolve(name), title, lines, t);
                perTarget.add(new Chart(name, title));
                files.add(name);
            }
        }
        List<Chart> scatters = new ArrayList<>();
        String primary = glanceScore(r);
        index = 0;
        for (Evaluation.Target target : r.targets()) {
            index++;
            if (target.images() == 0) continue;
            String name = String.format(Locale.ROOT, "rq1_scatter_%02d_%s_%s.png", index, SavingsCharts.slug(target.name()), primary);
            String title = ScatterCharts.write(dir.resolve(name), r, target, primary, find(r, target, primary));
            scatters.add(new Chart(name, title));
            files.add(name);
        }
        String html = html(dir, r, command, scoresSha256, scatters, perScore, perTarget, heatmaps, files, flat, warnings, primary,
                frameFailure);
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

    /**
     * The frame-level line: which frame score finds the worst 20% of frames best when the
     * recordings are pooled, beside image MDSA, and the whole table.
     */
    static String frameLine(List<dev.segsa.evaluate.FrameFailureStudy.Result> results) {
        dev.segsa.evaluate.FrameFailureStudy.Result best = null, mdsa = null;
        for (var x : results) {
            if (!x.scope().equals("pooled") || !Double.isFinite(x.auroc())) continue;
            if (best == null || x.auroc() > best.auroc()) best = x;
            if (x.score().equals("mdsa")) mdsa = x;
        }
        StringBuilder h = new StringBuilder("<p><b>Whole frames</b>: ");
        if (best == null) {
            h.append("no frame score could be evaluated (no frame has both a score and a mIoU).</p>\n");
            return h.toString();
        }
        var c = best.at(0.10);
        h.append(String.format(Locale.ROOT, "to find the worst 20%% of frames by frame mIoU (recordings pooled), rank by <b>%s</b> "
                        + "(AUROC %.3f [%.3f, %.3f]; the top 10%% by it have a mean mIoU of %.3f against %.3f for all frames and %.3f "
                        + "for the best possible 10%%)", esc(best.score()), best.auroc(), best.aurocLow(), best.aurocHigh(), c.keptMiou(),
                best.allMiou(), c.oracleMiou()));
        if (mdsa != null && mdsa != best) h.append(String.format(Locale.ROOT, "; image MDSA reaches AUROC %.3f", mdsa.auroc()));
        h.append(". Measured in hindsight on these labelled frames (<code>").append(FRAME_FAILURE_CSV)
                .append("</code>: within each recording too, and at budgets 1-20%).</p>\n<pre>")
                .append(esc(dev.segsa.evaluate.FrameFailureStudy.markdown(results))).append("</pre>\n");
        return h.toString();
    }

    private static String html(Path dir, Evaluation.Result r, String command, String sha, List<Chart> scatters, List<Chart> perScore,
                               List<Chart> perTarget, List<Chart> heatmaps, List<String> files, List<String> flat,
                               List<String> warnings, String glance, List<dev.segsa.evaluate.FrameFailureStudy.Result> frameFailure) {
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
        h.append("<nav><b>Contents</b>: <a href=\"#what-to-do\">What to do</a> &middot; <a href=\"#rq1-glance\">RQ1 at a glance</a> ")
                .append("&middot; <a href=\"#rq2-glance\">RQ2 at a glance</a> &middot; <a href=\"#rows\">Rows used</a> &middot; ")
                .append("<a href=\"#rq1\">RQ1 table</a> &middot; <a href=\"#rq2\">RQ2 summary</a> &middot; <a href=\"#per-score\">Per score</a> ")
                .append("&middot; <a href=\"#extremes\">Highest and lowest frames</a> &middot; <a href=\"#files\">Files</a></nav>\n");
        // first what to do: per class, the score that saves most, and the command that writes the label list
        h.append("<h2 id=\"what-to-do\">What to do</h2>\n<p>Per class, the order that skips the most labelling while at most ")
                .append(EvaluationCsv.threshold(EvaluationCsv.SUMMARY_TOLERANCE)).append(" of the skipped frames are below IoU ")
                .append(EvaluationCsv.threshold(th[0])).append(" (at every smaller saving too; ties: the lower mean classification ")
                .append("inaccuracy, then the name), beside the oracle (the best any score could do) and random, and the ")
                .append("<code>segsa select</code> command that writes the label list with it. A score flagged below as wrong-signed ")
                .append("or worse than random is never recommended. Measured in hindsight: see under the table.</p>\n");
        for (String w : warnings) h.append("<p><b>Warning</b>: ").append(esc(w)).append("</p>\n");
        if (!frameFailure.isEmpty()) h.append(frameLine(frameFailure));
        List<Advice> advice = advice(r);
        h.append("<table><tr><th>class</th><th>best order</th><th>skip</th><th>oracle</th><th>random</th><th>command</th>")
                .append("<th>pilot a certificate needs</th></tr>\n");
        for (Advice a : advice) {
            String cmd = selectCommand(r, a);
            String text = adviceText(r, a);
            int pilot = pilotToCertify(r, a);
            h.append("<tr><td>").append(esc(a.target().name())).append(a.target().group() ? " (group)" : "").append("</td><td>")
                    .append(a.verdict() == Verdict.NOTHING_TO_LABEL ? "any" : a.best() == null ? "-" : esc(a.best()))
                    .append("</td><td>").append(a.saving()).append("%</td><td>")
                    .append(a.oracle()).append("%</td><td>").append(a.random()).append("%</td><td style=\"text-align:left\">")
                    .append(cmd == null ? "" : "<code>" + esc(cmd) + "</code>").append(cmd != null && text != null ? " (" : "")
                    .append(text == null ? "" : esc(text)).append(cmd != null && text != null ? ")" : "")
                    .append("</td><td>").append(pilot == 0 ? "-" : "&ge; " + pilot + " frames (decide's default on a pool this size: "
                            + decideDefaultPilot(a.target().images()) + ")")
                    .append("</td></tr>\n");
        }
        h.append("</table>\n");
        h.append("<p><b>Hindsight, no guarantee.</b> ").append(esc(hindsightText(r))
                .replace("segsa decide --scores", "<code>segsa decide --scores").replace("round0.csv", "round0.csv</code>"))
                .append("</p>\n");
        for (Advice a : advice) {
            for (String f : a.flags()) h.append("<p class=\"note\">").append(esc(a.target().name())).append(": ").append(esc(f)).append("</p>\n");
        }
        // then the pictures: RQ1 as scatters, RQ2 as each target's savings-vs-inaccuracy chart
        h.append("<h2 id=\"rq1-glance\">RQ1 at a glance: ").append(esc(glance)).append(" against IoU, per class</h2>\n")
                .append("<p class=\"note\">One point per image: the class's mean ").append(esc(glance))
                .append(" over its predicted pixels against the class IoU. A good score falls to the right as IoU falls ")
                .append("(negative rho). Details and every score: the RQ1 table below.</p>\n<div class=\"grid\">\n");
        for (Chart c : scatters) h.append(img(dir, c)).append('\n');
        h.append("</div>\n<h2 id=\"rq2-glance\">RQ2 at a glance: labelling saved against inaccuracy, per class</h2>\n")
                .append("<p class=\"note\">Skipping the frames with the lowest score first: the share of skipped frames ")
                .append("that were in fact poor (IoU below ").append(EvaluationCsv.threshold(th[0])).append(") and their mean ")
                .append("1&minus;IoU, for every score against the oracle and random (dashed). Lower is better; the oracle is ")
                .append("the best any score could do.</p>\n<div class=\"grid grid2\">\n");
        for (Chart c : perTarget) h.append(img(dir, c)).append('\n');
        h.append("</div>\n");
        for (String f : flat) {
            h.append("<p class=\"note\">").append(esc(f)).append(": no frame is below IoU ").append(EvaluationCsv.threshold(th[0]))
                    .append(", so every order skips 100% without a miss (its classification chart would be a flat zero; the IoU ")
                    .append("chart is drawn).</p>\n");
        }
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
        h.append("<h2 id=\"rows\">Rows used</h2>\n<p>Each class and group is evaluated on its rows that have an IoU and a value in every ")
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

        h.append("<h2 id=\"rq1\">RQ1: Spearman rank correlation between score and IoU (paper Table 3)</h2>\n")
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

        h.append("<h2 id=\"rq2\">RQ2: labelling savings vs inaccuracy (paper Figure 9)</h2>\n")
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
        h.append("<h3 id=\"per-score\">Per score: one line per class and group</h3>\n");
        for (Chart c : perScore) h.append("<p>").append(img(dir, c)).append("</p>\n");
        h.append("<p>Per class and group, every score against the oracle and random baselines: the charts at the top.</p>\n");

        h.append("<h2 id=\"extremes\">Highest and lowest ").append(esc(r.primaryScore())).append(" frames (paper Figure 8)</h2>\n")
                .append("<p>Per class and group, the ").append(Evaluation.EXTREMES).append(" images with the highest and lowest ")
                .append(esc(r.primaryScore())).append(" among the rows used. <a href=\"").append(EXTREMES_CSV).append("\">")
                .append(EXTREMES_CSV).append("</a></p>\n");
        if (heatmaps.isEmpty()) {
            h.append("<p class=\"note\">No heatmaps: run segsa evaluate with --model, --sa and --images to draw the per-pixel MDSA ")
                    .append("of the frames with the highest and lowest frame score.</p>\n");
        } else {
            h.append("<p>Per-pixel MDSA of the frames with the highest and lowest frame score ").append(esc(r.scores().defaultFrameScore()))
                    .append(" (the first of risk, class_aware and the pixel-weighted mean of a score column that the scores hold; ")
                    .append("each caption gives the frame's value), on one colour scale.</p>\n");
            for (Chart c : heatmaps) h.append("<p>").append(img(dir, c)).append("</p>\n");
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
        h.append("<h2 id=\"files\">Files</h2>\n<p class=\"note\">The pictures above are embedded in this page; the CSVs and ")
                .append("the PNG files are beside it in the report's folder.</p>\n<ul>\n");
        for (String f : files) h.append("<li><a href=\"").append(esc(f)).append("\">").append(esc(f)).append("</a></li>\n");
        h.append("</ul>\n</body></html>\n");
        return h.toString();
    }


    /** How many of the target's images are below the first IoU threshold (the oracle's curve is flat zero when none). */
    static int belowThreshold(Evaluation.Result r, Evaluation.Target t) {
        for (Evaluation.Rq2Series s : r.rq2()) {
            if (s.target() == t && s.order().equals(Evaluation.ORACLE)) {
                SavingsCurve c = s.curve();
                int last = c.savingsPercent().length - 1;
                return (int) Math.round(c.classificationInaccuracy()[0][last] * c.skipped()[last]);
            }
        }
        return 0;
    }

    /** The score drawn "at a glance": the score column with the largest total saving within the tolerance over the classes. */
    static String glanceScore(Evaluation.Result r) {
        String best = r.primaryScore();
        int bestTotal = -1;
        for (String c : r.scores().scoreColumns()) {
            int total = 0;
            for (Evaluation.Rq2Series s : r.rq2()) {
                if (s.order().equals(c) && !s.target().group()) total += s.curve().maxSavingsWithin(0, EvaluationCsv.SUMMARY_TOLERANCE);
            }
            if (total > bestTotal) {
                bestTotal = total;
                best = c;
            }
        }
        return best;
    }

    /** What the "What to do" section says for a class. */
    public enum Verdict {
        /** A score order skips labelling: the best order, its saving and the select command. */
        SKIP,
        /** No frame is below the IoU threshold: every order (random too) skips 100%; nothing to label, any order. */
        NOTHING_TO_LABEL,
        /** Every score is flagged (wrong-signed or worse than random): none is recommended. */
        NO_SCORE_BEATS_RANDOM,
        /** No score order that is not flagged skips any frame within the tolerance: label every frame. */
        NOTHING_SKIPPED
    }

    /**
     * One class's advice: its best order (null unless {@link Verdict#SKIP}), the saving, the
     * oracle's and random's, the best single score column (for {@code segsa select}), what to flag
     * and the verdict.
     */
    public record Advice(Evaluation.Target target, String best, int saving, int oracle, int random, String selectable,
                         int selectableSaving, List<String> flags, Verdict verdict) {}

    /**
     * The confidence of {@code segsa decide}'s one-sided Clopper-Pearson bound by default (its
     * {@code --confidence}); the report's tolerance ({@link EvaluationCsv#SUMMARY_TOLERANCE}) is
     * decide's default {@code --tolerance} too.
     */
    public static final double DECIDE_CONFIDENCE = 0.95;

    /**
     * The fewest skipped pilot frames, none of them below the IoU threshold, with which
     * {@code segsa decide} certifies a skip at the report's tolerance and {@link #DECIDE_CONFIDENCE}:
     * decide's own rule ({@link dev.segsa.evaluate.LabellingDecision.Settings#minimumCertifiable},
     * the smallest k with (1 - tolerance)^k &le; 1 - confidence; 59 at 0.05 and 95%).
     */
    public static int minimumCertifiable(double iouThreshold) {
        return new dev.segsa.evaluate.LabellingDecision.Settings(dev.segsa.evaluate.MetaModel.Learner.FOREST, iouThreshold,
                EvaluationCsv.SUMMARY_TOLERANCE, DECIDE_CONFIDENCE, 5, 10, 1, 1).minimumCertifiable();
    }

    /**
     * The smallest pilot with which {@code segsa decide} could certify skipping {@code percent} %:
     * decide skips the share k/pilot of the pool that the pilot certified, and k must be at least
     * {@link #minimumCertifiable}; so ceil(k0 &middot; 100 / percent) frames (0 for no skip), and
     * that only when none of the skipped pilot frames is below the threshold.
     */
    public static int pilotToCertify(double iouThreshold, int percent) {
        if (percent <= 0) return 0;
        int k0 = minimumCertifiable(iouThreshold);
        return (k0 * 100 + percent - 1) / percent;
    }

    /** decide's default pilot for a class of {@code frames} frames (its --pilot-fraction, at least 20, at most the frames). */
    public static int decideDefaultPilot(int frames) {
        return dev.segsa.evaluate.LabellingDecision.defaultPilotSize(frames, dev.segsa.evaluate.LabellingDecision.DEFAULT_PILOT_FRACTION);
    }

    /** The pilot a class's advice needs for a certificate of its saving (0 when it skips nothing). */
    public static int pilotToCertify(Evaluation.Result r, Advice a) {
        return switch (a.verdict()) {
            case SKIP -> pilotToCertify(r.settings().thresholds()[0], a.saving());
            case NOTHING_TO_LABEL -> pilotToCertify(r.settings().thresholds()[0], 100);
            default -> 0;
        };
    }

    /**
     * Per class (groups too), the order that saves most within the tolerance, and the warnings
     * about the others. A score flagged as wrong-signed or worse than random is never the best;
     * ties in saving go to the lower mean classification inaccuracy, then to the name.
     */
    public static List<Advice> advice(Evaluation.Result r) {
        List<Advice> out = new ArrayList<>();
        for (Evaluation.Target t : r.targets()) {
            if (t.images() == 0) continue;
            List<String> flags = new ArrayList<>();
            java.util.Set<String> flagged = new java.util.HashSet<>();
            double randomMean = randomMean(r, t);
            for (String c : r.columns()) {
                SpearmanCorrelation rho = find(r, t, c);
                if (rho.rho() > 0 && rho.pValue() < 0.05) {
                    flagged.add(c);
                    flags.add(c + " has the wrong sign (rho " + fmt(rho.rho(), "%+.2f") + ", p " + fmtP(rho.pValue())
                            + "): a higher " + c + " goes with a higher IoU here, so skipping its lowest frames skips the poor ones");
                }
                for (Evaluation.Rq2Series s : r.rq2()) {
                    if (s.target() == t && s.order().equals(c)
                            && SavingsCurve.meanOverSavings(s.curve().classificationInaccuracy()[0]) > randomMean + 1e-9) {
                        flagged.add(c);
                        flags.add(c + " does worse than random (mean classification inaccuracy above the random order's)");
                    }
                }
            }
            int oracle = 0, random = 0;
            Evaluation.Rq2Series best = null, selectable = null;
            int bestSaving = -1, selectableSaving = -1;
            boolean anyScore = false;
            for (Evaluation.Rq2Series s : r.rq2()) {
                if (s.target() != t) continue;
                int v = s.curve().maxSavingsWithin(0, EvaluationCsv.SUMMARY_TOLERANCE);
                if (s.order().equals(Evaluation.ORACLE)) oracle = v;
                else if (s.order().equals(Evaluation.RANDOM)) random = v;
                else if (!flagged.contains(s.order())) {
                    anyScore = true;
                    if (better(s, v, best, bestSaving)) {
                        best = s;
                        bestSaving = v;
                    }
                    if (r.scores().scoreColumns().contains(s.order()) && better(s, v, selectable, selectableSaving)) {
                        selectable = s;
                        selectableSaving = v;
                    }
                }
            }
            Verdict verdict = belowThreshold(r, t) == 0 ? Verdict.NOTHING_TO_LABEL
                    : !anyScore ? Verdict.NO_SCORE_BEATS_RANDOM
                    : bestSaving <= 0 ? Verdict.NOTHING_SKIPPED : Verdict.SKIP;
            if (verdict != Verdict.SKIP) {
                out.add(new Advice(t, null, verdict == Verdict.NOTHING_TO_LABEL ? 100 : 0, oracle, random, null, 0, flags, verdict));
            } else {
                out.add(new Advice(t, best.order(), bestSaving, oracle, random, selectable == null ? null : selectable.order(),
                        Math.max(0, selectableSaving), flags, verdict));
            }
        }
        return out;
    }

    /** A larger saving, then a lower mean classification inaccuracy (first threshold), then the name first in order. */
    private static boolean better(Evaluation.Rq2Series s, int saving, Evaluation.Rq2Series than, int thanSaving) {
        if (than == null || saving != thanSaving) return than == null || saving > thanSaving;
        double m = SavingsCurve.meanOverSavings(s.curve().classificationInaccuracy()[0]);
        double n = SavingsCurve.meanOverSavings(than.curve().classificationInaccuracy()[0]);
        if (Math.abs(m - n) > 1e-12) return m < n;
        return s.order().compareTo(than.order()) < 0;
    }

    private static double randomMean(Evaluation.Result r, Evaluation.Target t) {
        for (Evaluation.Rq2Series s : r.rq2()) {
            if (s.target() == t && s.order().equals(Evaluation.RANDOM)) return SavingsCurve.meanOverSavings(s.curve().classificationInaccuracy()[0]);
        }
        return Double.NaN;
    }

    /** The exact select command that writes the label list of an advice (null when nothing can be skipped or none is recommended). */
    public static String selectCommand(Evaluation.Result r, Advice a) {
        if (a.verdict() != Verdict.SKIP || a.selectable() == null || a.selectableSaving() == 0) return null;
        String scores = r.scores().file().toString();
        return "segsa select --scores " + shellQuote(scores) + " --class " + shellQuote(a.target().name()) + " --score " + a.selectable()
                + " --skip-fraction " + EvaluationCsv.threshold(a.selectableSaving() / 100.0) + " --out "
                + shellQuote("to-label-" + SavingsCharts.slug(a.target().name()) + ".csv");
    }

    /** What a class's advice says instead of (or beside) its command, as plain text. */
    static String adviceText(Evaluation.Result r, Advice a) {
        String th = EvaluationCsv.threshold(r.settings().thresholds()[0]);
        return switch (a.verdict()) {
            case NOTHING_TO_LABEL -> "nothing to label for this class, any order: no frame is below IoU " + th
                    + " (every order, random too, skips 100%)";
            case NO_SCORE_BEATS_RANDOM -> "none of the scores beats random here (each is wrong-signed or worse than random, see the "
                    + "notes): no order is recommended; label every frame";
            case NOTHING_SKIPPED -> "no order skips any labelling here within the tolerance: label every frame";
            case SKIP -> a.best().equals(a.selectable()) ? null
                    : a.selectable() == null || a.selectableSaving() == 0
                    ? "the fused order " + a.best() + " skips " + a.saving() + "%; select ranks by one column, and no single "
                      + "column skips any frame here"
                    : "the fused order " + a.best() + " saves " + a.saving() + "%; select ranks by one column";
        };
    }

    /**
     * The caveat under the advice: the savings are hindsight with no bound; for a new pool,
     * {@code segsa decide} and the pilot size its certificate needs.
     */
    static String hindsightText(Evaluation.Result r) {
        double th = r.settings().thresholds()[0];
        int k0 = minimumCertifiable(th);
        String decide = "segsa decide --scores POOL.csv --class K"
                + (th == 0.5 ? "" : " --iou-threshold " + EvaluationCsv.threshold(th)) + " --pilot-size N --out round0.csv";
        return String.format(Locale.ROOT, "These savings are measured in hindsight on these labelled frames: the order and the skip are "
                        + "read off with every IoU known, so they carry no bound and guarantee nothing on a new pool. For a new pool use "
                        + "segsa decide (%s draws a pilot to label; --pilot certifies a skip with a one-sided Clopper-Pearson bound). At "
                        + "tolerance %s and %.0f%% confidence (decide's defaults) a certificate needs at least %d skipped pilot frames with "
                        + "none below IoU %s (the smallest k with (1 - %s)^k <= %s), so a pilot of at least %d / (skip share) frames: %d to "
                        + "certify a 50%% skip, %d for 100%%. decide's default pilot is %.0f%% of the frames (at least %d), too small for "
                        + "any certificate below %d frames.",
                decide, EvaluationCsv.threshold(EvaluationCsv.SUMMARY_TOLERANCE), 100 * DECIDE_CONFIDENCE, k0,
                EvaluationCsv.threshold(th), EvaluationCsv.threshold(EvaluationCsv.SUMMARY_TOLERANCE),
                java.math.BigDecimal.ONE.subtract(java.math.BigDecimal.valueOf(DECIDE_CONFIDENCE)).stripTrailingZeros().toPlainString(), k0, pilotToCertify(th, 50), pilotToCertify(th, 100),
                100 * dev.segsa.evaluate.LabellingDecision.DEFAULT_PILOT_FRACTION, dev.segsa.evaluate.LabellingDecision.MIN_PILOT,
                smallestPoolForCertificate(k0));
    }

    /** The fewest frames for which decide's default pilot reaches {@code k0} frames. */
    static int smallestPoolForCertificate(int k0) {
        int n = k0;
        while (decideDefaultPilot(n) < k0) n++;
        return n;
    }

    private static String shellQuote(String s) {
        return s.matches("[A-Za-z0-9._/:@%+=,-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }

    /** The "what to do" table as text, for the terminal. */
    public static String adviceTable(Evaluation.Result r) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "What to do (skip within %s classification inaccuracy at IoU %s, "
                        + "in hindsight on these frames):%n",
                EvaluationCsv.threshold(EvaluationCsv.SUMMARY_TOLERANCE), EvaluationCsv.threshold(r.settings().thresholds()[0])));
        for (Advice a : advice(r)) {
            if (a.verdict() == Verdict.SKIP) {
                b.append(String.format(Locale.ROOT, "  %-14s best %-22s skips %3d%% (oracle %3d%%, random %3d%%); a certificate needs "
                                + "a pilot of %d%n", a.target().name(), a.best(), a.saving(), a.oracle(), a.random(), pilotToCertify(r, a)));
            } else if (a.verdict() == Verdict.NOTHING_TO_LABEL) {
                b.append(String.format(Locale.ROOT, "  %-14s %s; a certificate needs a pilot of %d%n", a.target().name(), adviceText(r, a),
                        pilotToCertify(r, a)));
            } else {
                b.append(String.format(Locale.ROOT, "  %-14s %s (oracle %d%%, random %d%%)%n", a.target().name(), adviceText(r, a),
                        a.oracle(), a.random()));
            }
            String cmd = selectCommand(r, a);
            if (cmd != null) b.append("      ").append(cmd).append('\n');
            String text = a.verdict() == Verdict.SKIP ? adviceText(r, a) : null;
            if (text != null) b.append("      ").append(text).append('\n');
            for (String f : a.flags()) b.append("      note: ").append(f).append('\n');
        }
        b.append(hindsightText(r));
        return b.toString().stripTrailing();
    }

    /** An embedded picture: the PNG written into the folder, as a data URI, so the page survives being mailed or copied alone. */
    private static String img(Path dir, Chart c) {
        byte[] bytes;
        String type = "png";
        try {
            bytes = java.nio.file.Files.readAllBytes(dir.resolve(c.file()));
            if (c.file().startsWith("heatmap_")) {
                // a photo-like frame: embedded as JPEG (a tenth of the PNG's size); the PNG stays beside the page
                java.awt.image.BufferedImage im = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(bytes));
                java.awt.image.BufferedImage rgb = new java.awt.image.BufferedImage(im.getWidth(), im.getHeight(),
                        java.awt.image.BufferedImage.TYPE_INT_RGB);
                rgb.getGraphics().drawImage(im, 0, 0, null);
                java.io.ByteArrayOutputStream jpeg = new java.io.ByteArrayOutputStream();
                javax.imageio.ImageWriter w = javax.imageio.ImageIO.getImageWritersByFormatName("jpeg").next();
                javax.imageio.ImageWriteParam p = w.getDefaultWriteParam();
                p.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
                p.setCompressionQuality(0.85f);
                try (var out = javax.imageio.ImageIO.createImageOutputStream(jpeg)) {
                    w.setOutput(out);
                    w.write(null, new javax.imageio.IIOImage(rgb, null, null), p);
                } finally {
                    w.dispose();
                }
                bytes = jpeg.toByteArray();
                type = "jpeg";
            }
        } catch (java.io.IOException e) {
            throw new dev.segsa.error.SegsaException(dir.resolve(c.file()) + ": cannot embed the chart: " + e.getMessage(), e);
        }
        return "<img src=\"data:image/" + type + ";base64," + java.util.Base64.getEncoder().encodeToString(bytes) + "\" alt=\"" + esc(c.title())
                + "\" title=\"" + esc(c.file()) + "\">";
    }

    private static String joinThresholds(double[] th) {
        List<String> s = new ArrayList<>();
        for (double t : th) s.add(EvaluationCsv.threshold(t));
        return String.join(", ", s);
    }
}
