package dev.segsa.cli;

import dev.segsa.io.OutputFiles;

import dev.segsa.Segsa;

import dev.segsa.error.SegsaException;
import dev.segsa.scores.ClassGroups;
import dev.segsa.evaluate.Evaluation;
import dev.segsa.model.ModelFiles;
import dev.segsa.report.EvaluationReport;
import dev.segsa.scores.ScoresCsv;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import dev.segsa.report.FrameHeatmaps;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Evaluates a scores file with IoU (segsa score --labels): RQ1, the Spearman rank correlation between "
                + "image score and image IoU per class and group with its two-sided p-value (paper Table 3), and RQ2, the "
                + "classification and IoU inaccuracy of skipping the x%% lowest-scored images for x = 0, 5, ..., 100 "
                + "(paper Figure 9), for MDSA, LSA and the uncertainty baselines present, against an oracle and a random order. "
                + "Writes rq1.csv, rq2.csv, rq2_summary.csv, extremes.csv, what_to_do.csv, frame_failure.csv, PNG charts and a "
                + "self-contained index.html into --out (segments_cv.md with --segments). "
                + "Rows with an empty IoU or an empty score are skipped (and counted in the report).",
                "",
                "Example: segsa evaluate --scores scores.csv --out report/ --groups \"vehicles=Car,Pedestrian\""})
final class EvaluateCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--scores", required = true, paramLabel = "scores.csv", description = "Scores with IoU, written by segsa score --labels.")
    Path scores;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for the report (created; files in it are replaced).")
    Path out;

    @Option(names = "--groups", paramLabel = "SPEC",
            description = "Which rows of the scores file are class groups, e.g. \"lanes=1,2,3;markers=4,5\" (members named as in "
                    + "the class column); the group rows themselves must come from segsa score --groups. Rows the file marks row_kind=group are group rows without it; it matters only for files written before that column.")
    String groups;

    @Option(names = "--thresholds", paramLabel = "T,T,...", converter = FiniteNumber.Fraction.class, split = ",", defaultValue = "0.5,0.6,0.7,0.8,0.9",
            description = "IoU thresholds of the classification inaccuracy (default: ${DEFAULT-VALUE}).")
    double[] thresholds;

    @Option(names = "--random-repeats", paramLabel = "N", defaultValue = "100",
            description = "Shuffles averaged for the random baseline (default: ${DEFAULT-VALUE}).")
    int randomRepeats;

    @Option(names = "--segments", paramLabel = "FILE",
            description = {"Labelled segments of the same frames (segsa score --labels --segments): adds MetaSeg's table (segment "
                    + "AUROC of IoU_adj = 0 and R^2 of IoU_adj, softmax-only features against features with MDSA, in grouped "
                    + "cross-validation by recordings or blocks of frames) and the out-of-fold frame risk to the frame-failure table."})
    Path segmentsFile;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the random baseline (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--model", paramLabel = "M.pt", description = "With --sa and --images: draw heatmaps of the frames with the highest and lowest frame score (risk, else class_aware, else image MDSA).")
    Path model;

    @Option(names = "--sa", paramLabel = "FILE", description = "SA model file the scores were computed with (for heatmaps).")
    Path saFile;

    @Option(names = "--images", paramLabel = "DIR", description = "The scored frames (for heatmaps).")
    Path images;

    @Option(names = "--heatmaps", paramLabel = "K", defaultValue = "5", description = "Heatmaps of the K highest and K lowest frames (default: ${DEFAULT-VALUE}).")
    int heatmapCount;

    @Option(names = "--fuse", paramLabel = "COL,COL", split = ",",
            description = {"Also evaluate a fused order: per class, each image's mean rank over these score columns "
                    + "(e.g. mdsa,entropy: SA with an uncertainty baseline), in RQ1 and RQ2 beside each column alone."})
    List<String> fuse;

    @Option(names = "--trust-model",
            description = "Run the model without inspecting its TorchScript code first (by default a model that calls operators "
                    + "on files, or operators from outside LibTorch, is refused before it runs).")
    boolean trustModel;

    @Override
    public Integer call() {
        if ((model == null) != (saFile == null) || (model == null) != (images == null)) {
            throw new IllegalArgumentException("--model, --sa and --images go together (they draw the heatmaps)");
        }
        OutputFiles.protect(scores);
        OutputFiles.protect(segmentsFile);
        OutputFiles.protect(model);
        OutputFiles.protect(saFile);
        OutputFiles.protect(images);
        if (Files.exists(out) && !Files.isDirectory(out)) throw new SegsaException(out + ": --out must be a directory, it is a file");
        OutputFiles.checkDirectory(out, "--out");
        ScoresCsv.Contents contents = ScoresCsv.read(scores);
        if (contents.rows().isEmpty()) throw new SegsaException(scores + ": no rows to evaluate");
        boolean anyIou = contents.rows().stream().anyMatch(r -> !Double.isNaN(r.iou()));
        if (!anyIou) throw new SegsaException(scores + ": the iou column is empty in every row; score with --labels to evaluate");
        ClassGroups g = parseGroups(groups, contents);
        Evaluation.Result result = Evaluation.run(contents, new Evaluation.Settings(thresholds, randomRepeats, seed, g,
                fuse == null ? List.of() : fuse));
        List<EvaluationReport.Chart> heatmaps = model == null ? List.of() : heatmaps(contents, g);
        List<String> warnings = new ArrayList<>();
        if (saFile != null) {
            for (String note : dev.segsa.samodel.SaModelFile.read(saFile).settings().notes()) {
                if (note.startsWith(ACTIVATION_TRACE_NOTE)) warnings.add(saFile.getFileName() + ": " + note);
            }
        }
        Set<String> groupNames = new java.util.HashSet<>();
        g.groups().forEach(x -> groupNames.add(x.name()));
        java.util.Map<String, java.util.Map<String, Double>> extra = null;
        String segmentTable = null;
        if (segmentsFile != null) {
            var table = dev.segsa.scores.SegmentTable.read(segmentsFile);
            var cv = dev.segsa.evaluate.SegmentStudy.run(table, 5, 0, 1, dev.segsa.evaluate.RiskModelFit.Settings.DEFAULT);
            segmentTable = dev.segsa.evaluate.SegmentStudy.markdown(cv);
            extra = new java.util.LinkedHashMap<>();
            for (var e : cv.frameRisk().entrySet()) extra.put(e.getKey() + "_oof", e.getValue());
        }
        var frameFailure = dev.segsa.evaluate.FrameFailureStudy.run(
                dev.segsa.evaluate.FrameFailureStudy.frames(contents, groupNames, extra), seed);
        List<String> files = EvaluationReport.write(out, result, commandLine(), dev.segsa.scores.ScoresParquet.sha256(scores), heatmaps,
                warnings, frameFailure);
        if (segmentTable != null) {
            System.out.println("MetaSeg's table with MDSA as one more heat map (" + segmentsFile + "):");
            System.out.println(segmentTable);
            dev.segsa.io.AtomicOutput.write(out.resolve("segments_cv.md"), segmentTable.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        // as the report: what to do first (whole frames, then per class), the RQ1 table after it
        for (String w : warnings) System.out.println("warning: " + w);
        System.out.println("Whole frames: finding the worst 20% by frame mIoU (pooled over recordings, and the mean within each; "
                + "*_oof: the risk model's out-of-fold frame risk):");
        System.out.println(dev.segsa.evaluate.FrameFailureStudy.markdown(frameFailure));
        System.out.println(EvaluationReport.adviceTable(result));
        System.out.println(EvaluationReport.rq1Table(result));
        System.out.println();
        System.out.println("wrote " + files.size() + " files to " + out + " (report: " + out.resolve(EvaluationReport.INDEX) + ")");
        return 0;
    }

    /** Heatmaps of the K frames with the highest and the K with the lowest default frame score (risk, class_aware, ...). */
    private List<EvaluationReport.Chart> heatmaps(ScoresCsv.Contents contents, ClassGroups g) {
        Set<String> groupNames = new java.util.HashSet<>();
        g.groups().forEach(x -> groupNames.add(x.name()));
        List<java.util.Map.Entry<String, Double>> ranked = new ArrayList<>();
        String frameScore = contents.defaultFrameScore();
        contents.frameScores(frameScore, groupNames).forEach((img, f) -> {
            if (!Double.isNaN(f.score())) ranked.add(java.util.Map.entry(img, f.score()));
        });
        ranked.sort(java.util.Map.Entry.<String, Double>comparingByValue().reversed());
        // near-duplicates skipped: a frame within NEAR positions of an already chosen frame of its sequence is passed over
        dev.segsa.evaluate.FrameGroups seq = new dev.segsa.evaluate.FrameGroups(ranked.stream().map(java.util.Map.Entry::getKey).toList(), 1, 0);
        java.util.Map<String, Integer> at = new java.util.HashMap<>();
        for (int i = 0; i < ranked.size(); i++) at.put(ranked.get(i).getKey(), i);
        int k = Math.min(heatmapCount, ranked.size() / 2);
        // with few frames the window shrinks, so that K distinct highest and K lowest can always be found
        int near = k == 0 ? 0 : Math.min(NEAR, (ranked.size() - 2 * k) / (4 * k));
        List<java.util.Map.Entry<String, Double>> high = distinct(ranked, k, near, seq, at, java.util.Set.of());
        java.util.Set<String> taken = new java.util.HashSet<>();
        high.forEach(e -> taken.add(e.getKey()));
        List<java.util.Map.Entry<String, Double>> low = distinct(ranked.reversed(), k, near, seq, at, taken).reversed();
        List<java.util.Map.Entry<String, Double>> chosen = new ArrayList<>(high);
        chosen.addAll(low);
        List<FrameHeatmaps.Request> requests = new ArrayList<>();
        List<EvaluationReport.Chart> charts = new ArrayList<>();
        for (int i = 0; i < chosen.size(); i++) {
            var e = chosen.get(i);
            String rank = i < high.size() ? "highest-" + (i + 1) : "lowest-" + (chosen.size() - i);
            String name = "heatmap_" + rank + "_" + e.getKey().replaceAll("[^A-Za-z0-9._-]", "_") + (e.getKey().endsWith(".png") ? "" : ".png");
            String title = String.format(java.util.Locale.ROOT, "%s  %s  %s %.3f", rank, e.getKey(),
                    frameScore.equals("mdsa") ? "image MDSA" : frameScore.replace('_', '-'), e.getValue());
            requests.add(new FrameHeatmaps.Request(e.getKey(), name, title));
            charts.add(new EvaluationReport.Chart(name, title));
        }
        try (Segsa engine = Segsa.builder(model, saFile).trustModel(trustModel).open()) {
            FrameHeatmaps.write(requests, images, engine, out);
        }
        return charts;
    }

    /**
     * Frames within this many positions of a chosen one (same sequence) are near-duplicates, not drawn twice (fewer
     * when the frames are few: at most a quarter of the spare frames per chosen frame).
     */
    static final int NEAR = 5;

    /** Up to k frames of {@code order}, skipping near-duplicates of those already taken. */
    private static List<java.util.Map.Entry<String, Double>> distinct(List<java.util.Map.Entry<String, Double>> order, int k, int near,
                                                                     dev.segsa.evaluate.FrameGroups seq, java.util.Map<String, Integer> at,
                                                                     java.util.Set<String> excluded) {
        List<java.util.Map.Entry<String, Double>> out = new ArrayList<>();
        for (var e : order) {
            if (out.size() == k) break;
            if (excluded.contains(e.getKey())) continue;
            int i = at.get(e.getKey());
            boolean close = false;
            for (var o : out) {
                int j = at.get(o.getKey());
                close |= seq.sequence(i).equals(seq.sequence(j)) && Math.abs(seq.position(i) - seq.position(j)) <= near;
            }
            if (!close) out.add(e);
        }
        return out;
    }

    /** Groups named in the spec must have rows in the scores file; members are class names as in its class column. */
    static ClassGroups parseGroups(String spec, ScoresCsv.Contents contents) {
        if (spec == null || spec.isBlank()) return ClassGroups.none();
        Set<String> groupNames = new LinkedHashSet<>();
        Set<String> members = new LinkedHashSet<>();
        for (String part : spec.split(";")) {
            int eq = part.indexOf('=');
            if (eq <= 0) continue; // ClassGroups.parse reports the malformed part
            groupNames.add(part.substring(0, eq).trim());
            for (String m : part.substring(eq + 1).split(",")) if (!m.isBlank()) members.add(m.trim());
        }
        Set<String> classNames = new LinkedHashSet<>();
        for (ScoresCsv.Row r : contents.rows()) if (!ScoresCsv.Contents.isGroup(r, groupNames)) classNames.add(r.className());
        for (String m : members) {
            if (!classNames.contains(m)) {
                throw new SegsaException("--groups: class '" + m + "' does not appear in the class column of " + contents.file()
                        + " (name group members as they appear there)");
            }
        }
        return ClassGroups.parse(spec, new ArrayList<>(classNames));
    }

    /** How segsa fit records a failed activation-trace check in the SA file's notes. */
    static final String ACTIVATION_TRACE_NOTE = "activation-trace check:";

    private String commandLine() {
        StringBuilder b = new StringBuilder("segsa");
        List<String> args = spec.commandLine().getParseResult().originalArgs();
        if (args.isEmpty() || !args.get(0).equals(spec.name())) b.append(' ').append(spec.name());
        for (String a : args) b.append(' ').append(a.isEmpty() || a.matches(".*[\\s\"';&|<>$].*") ? "'" + a.replace("'", "'\\''") + "'" : a);
        return b.toString();
    }
}
