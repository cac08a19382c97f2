package dev.segsa.cli;

import dev.segsa.error.SegsaException;
import dev.segsa.evaluate.DecisionFeatures;
import dev.segsa.evaluate.DecisionStudy;
import dev.segsa.evaluate.LabellingDecision;
import dev.segsa.evaluate.MetaModel;
import dev.segsa.evaluate.SavingsCurve;
import dev.segsa.io.AtomicOutput;
import dev.segsa.io.OutputFiles;
import dev.segsa.report.SavingsCharts;
import dev.segsa.scores.ScoresCsv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "decide", mixinStandardHelpOptions = true,
        description = {"Decides which frames of a class to label and which to skip with a meta-model learned from a small labelled "
                + "pilot: it predicts each frame's class IoU from everything segsa score wrote for the frame (the class's pixels and "
                + "share, MDSA, LSA, the uncertainty baselines, the frame-level scores) and certifies a skip share on the pilot with a "
                + "one-sided Clopper-Pearson bound. Learners: Tribuo random forest (default) or logistic regression.",
                "",
                "The workflow, one class at a time:",
                "  1. segsa decide --scores pool.csv --class Car --out round0.csv",
                "     draws a stratified pilot (decision = pilot): label those frames and score them with segsa score --labels",
                "  2. segsa decide --scores pool.csv --class Car --pilot pilot.csv --out round1.csv",
                "     fits on the pilot, certifies the skip share, and ranks the rest: decision = label (riskiest first) or skip",
                "  3. after labelling a batch: add --labelled batch1.csv (it refits; only the random pilot calibrates the bound)",
                "",
                "The study (honest evaluation on labelled scores: repeated cross-validation grouped by sequence):",
                "  segsa decide --study --scores val.csv --out study/"})
final class DecideCommand implements Callable<Integer> {
    @Option(names = "--scores", required = true, paramLabel = "scores.csv", description = "Scores of the frames (segsa score; with --study, scored with --labels).")
    Path scores;

    @Option(names = "--out", required = true, paramLabel = "FILE|DIR", description = "The decision CSV (rank,image,safety,decision); with --study a folder.")
    Path out;

    @Option(names = "--class", paramLabel = "K", description = "The class (as in the class column) to decide for; with --study: classes to study (default: all).", split = ",")
    List<String> classes;

    @Option(names = "--pilot", paramLabel = "pilot.csv", description = "Scores with IoU (segsa score --labels) of the labelled pilot drawn by an earlier decide.")
    Path pilot;

    @Option(names = "--labelled", paramLabel = "batch.csv", description = "Scores with IoU of frames labelled in later rounds (repeatable): they refit the meta-model and are not decided again.")
    List<Path> labelled = new ArrayList<>();

    @Option(names = "--seen", paramLabel = "FILE", description = "Frames already labelled without scores: a list of names (.txt) or a scores file; they are not decided.")
    Path seen;

    @Option(names = "--pilot-size", paramLabel = "N", description = "Frames in the pilot (default: --pilot-fraction of the frames, at least 20).")
    Integer pilotSize;

    @Option(names = "--pilot-fraction", paramLabel = "F", converter = FiniteNumber.OpenFraction.class, defaultValue = "0.15", description = "Share of the frames in the pilot (default: ${DEFAULT-VALUE}).")
    double pilotFraction;

    @Option(names = "--stratify-by", paramLabel = "COLUMN", description = "Score column the pilot is stratified over (default: mdsa, else the first score column).")
    String stratifyBy;

    @Option(names = "--learner", paramLabel = "NAME", defaultValue = "forest", description = "Meta-model: forest or logistic (default: ${DEFAULT-VALUE}); --study: a comma list.", split = ",")
    List<String> learners;

    @Option(names = "--iou-threshold", paramLabel = "T", converter = FiniteNumber.Fraction.class, defaultValue = "0.5", description = "A skipped frame is a miss when its class IoU is below this (default: ${DEFAULT-VALUE}).")
    double iouThreshold;

    @Option(names = "--tolerance", paramLabel = "X", converter = FiniteNumber.OpenFraction.class, defaultValue = "0.05", description = "Largest acceptable share of misses among the skipped frames (default: ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--confidence", paramLabel = "C", converter = FiniteNumber.OpenFraction.class, defaultValue = "0.95", description = "Confidence of the one-sided Clopper-Pearson bound (default: ${DEFAULT-VALUE}).")
    double confidence;

    @Option(names = "--folds", paramLabel = "K", defaultValue = "5", description = "Grouped cross-validation folds (default: ${DEFAULT-VALUE}).")
    int folds;

    @Option(names = "--block", paramLabel = "N", defaultValue = "10", description = "Consecutive frames of a sequence kept in one fold (default: ${DEFAULT-VALUE}).")
    int block;

    @Option(names = "--purge", paramLabel = "N", defaultValue = "1", description = "Frames on each side of a test frame left out of fitting (default: ${DEFAULT-VALUE}).")
    int purge;

    @Option(names = "--groups", paramLabel = "SPEC", description = "Which rows are class groups (as in segsa evaluate): left out of the frame totals. Rows the file marks row_kind=group are group rows without it; it matters only for files written before that column.")
    String groups;

    @Option(names = "--study", description = "Evaluate every way of deciding on labelled scores instead of deciding (writes a folder).")
    boolean study;

    @Option(names = "--repeats", paramLabel = "R", defaultValue = "5", description = "--study: cross-validation repeats (default: ${DEFAULT-VALUE}).")
    int repeats;

    @Option(names = "--pilot-repeats", paramLabel = "R", defaultValue = "20", description = "--study: simulated pilot rounds per class (default: ${DEFAULT-VALUE}; 0: none).")
    int pilotRepeats;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the pilot draw, the folds and the learners (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        OutputFiles.protect(scores);
        OutputFiles.protect(pilot);
        OutputFiles.protect(seen);
        labelled.forEach(OutputFiles::protect);
        List<MetaModel.Learner> ls = learners.stream().map(MetaModel.Learner::parse).toList();
        if (!study && ls.size() != 1) throw new IllegalArgumentException("--learner takes one learner when deciding (a list with --study)");
        if (study) {
            if (pilot != null || !labelled.isEmpty() || seen != null || pilotSize != null) {
                throw new IllegalArgumentException("--study evaluates labelled scores: --pilot, --labelled, --seen and --pilot-size belong to deciding");
            }
            OutputFiles.checkDirectory(out, "--out");
            return runStudy(ls);
        }
        OutputFiles.checkWritableFile(out, "--out");
        if (classes == null || classes.size() != 1) throw new IllegalArgumentException("--class K: the one class to decide for");
        LabellingDecision.Settings settings = new LabellingDecision.Settings(ls.get(0), iouThreshold, tolerance, confidence, folds, block,
                purge, seed);
        ScoresCsv.Contents pool = ScoresCsv.read(scores);
        pool.requireUniqueKeys();
        String target = classes.get(0);
        Set<String> groupNames = groupNames();
        Set<String> exclude = seenFrames();
        if (pilot == null) {
            if (!labelled.isEmpty()) throw new IllegalArgumentException("--labelled refits after the pilot: give --pilot too");
            return drawPilot(pool, target, groupNames, exclude, settings);
        }
        Map<String, Double> iou = new HashMap<>();
        Set<String> pilotFrames = new LinkedHashSet<>();
        Set<String> poolFrames = new java.util.HashSet<>();
        for (ScoresCsv.Row r : pool.rows()) poolFrames.add(r.image());
        readLabelled(pilot, target, iou, pilotFrames, poolFrames);
        for (Path l : labelled) readLabelled(l, target, iou, null, poolFrames);
        DecisionFeatures table = DecisionFeatures.of(pool, target, groupNames, iou);
        pilotFrames.retainAll(table.frames());
        LabellingDecision.Outcome o = LabellingDecision.decide(table, pilotFrames, exclude, settings);
        List<String> unranked = new ArrayList<>();
        for (String f : DecisionFeatures.incomplete(pool, target, groupNames)) {
            if (!iou.containsKey(f) && !exclude.contains(f) && !pilotFrames.contains(f)) unranked.add(f);
        }
        writeDecisions(o, unranked);
        if (!unranked.isEmpty()) {
            System.out.printf(Locale.ROOT, "  %d frame(s) of class %s lack a score the others have (an empty column): they cannot be ranked "
                    + "and are listed first, to label%n", unranked.size(), target);
        }
        LabellingDecision.Certificate c = o.certificate();
        System.out.printf(Locale.ROOT, "decide: class %s: %d frames labelled (%d in the pilot), %d decided%n", target, o.labelled(), o.pilot(),
                o.decisions().size());
        System.out.printf(Locale.ROOT, "  meta-model: %s, fitted on the %d labelled frames; pilot calibrated out of fold (%d grouped folds, "
                + "blocks of %d frames, purge %d)%n", ls.get(0).cliName(), o.labelled(), folds, block, purge);
        if (c.skipped() == 0) {
            System.out.printf(Locale.ROOT, "  certified skip: none. At tolerance %s and %.0f%% confidence a skip needs at least %d skipped pilot "
                    + "frames with none below IoU %s, and the pilot has %d. Label the frames in rank order (riskiest first); a larger "
                    + "pilot (--pilot-size) or a looser --tolerance / --confidence can certify a skip.%n", trim(tolerance), 100 * confidence,
                    c.minimumSkipped(), trim(iouThreshold), c.pilot());
        } else {
            System.out.printf(Locale.ROOT, "  certified skip: %.1f%% (%d of %d pilot frames, %d below IoU %s): label %d, skip %d of the rest%n",
                    100 * c.skipFraction(), c.skipped(), c.pilot(), c.below(), trim(iouThreshold), o.decisions().size() - o.skipped(),
                    o.skipped());
            System.out.printf(Locale.ROOT, "  predicted inaccuracy of the skipped frames: %.3f, upper bound %.3f at %.0f%% confidence "
                    + "(tolerance %s)%n", c.predictedInaccuracy(), c.upperBound(), 100 * confidence, trim(tolerance));
        }
        System.out.println("wrote " + out);
        return 0;
    }

    private int drawPilot(ScoresCsv.Contents pool, String target, Set<String> groupNames, Set<String> exclude,
                          LabellingDecision.Settings settings) {
        DecisionFeatures table = DecisionFeatures.of(pool, target, groupNames, null);
        List<Integer> candidates = new ArrayList<>();
        for (int i = 0; i < table.size(); i++) if (!exclude.contains(table.frames().get(i))) candidates.add(i);
        if (candidates.isEmpty()) throw new SegsaException(scores + ": every frame of class " + target + " is in --seen; nothing to draw");
        String column = stratifyBy != null ? stratifyBy : table.columns().get(0);
        if (!table.columns().contains(column)) {
            throw new IllegalArgumentException("--stratify-by " + column + ": the scores have " + String.join(", ", table.columns()));
        }
        int n = candidates.size();
        int size = pilotSize != null ? pilotSize : dev.segsa.evaluate.LabellingDecision.defaultPilotSize(n, pilotFraction);
        if (size < 1 || size > n) throw new IllegalArgumentException("--pilot-size " + size + " is outside 1.." + n + " (the frames of class " + target + ")");
        double[] all = table.values(column);
        double[] score = new double[n];
        for (int i = 0; i < n; i++) score[i] = all[candidates.get(i)];
        int[] drawn = LabellingDecision.drawPilot(score, size, seed);
        Set<String> pilotNames = new LinkedHashSet<>();
        for (int i : drawn) pilotNames.add(table.frames().get(candidates.get(i)));
        writeText(out, w -> {
            w.append("rank,image,safety,decision\n");
            for (String f : pilotNames) w.append("," + ScoresCsv.field(f) + ",,pilot\n");
            for (int i : candidates) {
                String f = table.frames().get(i);
                if (!pilotNames.contains(f)) w.append("," + ScoresCsv.field(f) + ",,undecided\n");
            }
            for (String f : DecisionFeatures.incomplete(pool, target, groupNames)) {
                if (!exclude.contains(f)) w.append("," + ScoresCsv.field(f) + ",,label\n"); // cannot be ranked: labelled
            }
        });
        System.out.printf(Locale.ROOT, "decide: class %s: a pilot of %d of its %d frames, stratified over %s (decision = pilot in %s)%n", target,
                size, n, column, out);
        System.out.println("  next: label the pilot frames, score them with segsa score --labels, then");
        System.out.println("  segsa decide --scores " + scores + " --class " + target + " --pilot PILOT_SCORES.csv --out DECISION.csv");
        if (size < settings.minimumCertifiable()) {
            System.out.printf(Locale.ROOT, "  note: at tolerance %s and %.0f%% confidence a skip needs at least %d skipped pilot frames with none "
                    + "below IoU %s; a pilot of %d can rank the frames but certify no skip%n", trim(tolerance), 100 * confidence,
                    settings.minimumCertifiable(), trim(iouThreshold), size);
        }
        return 0;
    }

    private void readLabelled(Path file, String target, Map<String, Double> iou, Set<String> frames, Set<String> poolFrames) {
        ScoresCsv.Contents c = ScoresCsv.read(file);
        c.requireUniqueKeys();
        boolean any = false;
        for (ScoresCsv.Row r : c.rows()) {
            if (!poolFrames.contains(r.image())) {
                throw new SegsaException(file + ": frame " + r.image() + " is not in " + scores + " (the pool the decision is about)");
            }
            if (frames != null) frames.add(r.image());
            if (!target.equals(r.className())) continue;
            if (Double.isNaN(r.iou())) {
                throw new SegsaException(file + ": frame " + r.image() + " has no IoU for class " + target + "; score labelled frames with segsa score --labels");
            }
            any = true;
            Double before = iou.put(r.image(), r.iou());
            if (before != null && before.doubleValue() != r.iou()) {
                throw new SegsaException(file + ": frame " + r.image() + " was labelled twice with different IoU (" + before + ", " + r.iou() + ")");
            }
        }
        if (!any) throw new SegsaException(file + ": no labelled row for class " + target);
    }

    private Set<String> seenFrames() {
        Set<String> out = new LinkedHashSet<>();
        if (seen == null) return out;
        if (seen.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".txt")) {
            try {
                for (String line : Files.readAllLines(seen, StandardCharsets.UTF_8)) if (!line.isBlank()) out.add(line.strip());
            } catch (IOException | java.io.UncheckedIOException e) {
                throw new SegsaException(seen + ": cannot read the list of frames already labelled: " + e.getMessage(), e);
            }
        } else {
            ScoresCsv.read(seen).rows().forEach(r -> out.add(r.image()));
        }
        return out;
    }

    private Set<String> groupNames() {
        return dev.segsa.scores.ClassGroups.names(groups);
    }

    private void writeDecisions(LabellingDecision.Outcome o, List<String> unranked) {
        writeText(out, w -> {
            w.append("rank,image,safety,decision\n");
            int rank = 0;
            for (String f : unranked) w.append(++rank + "," + ScoresCsv.field(f) + ",,label\n");
            for (LabellingDecision.FrameDecision d : o.decisions()) {
                w.append(++rank + "," + ScoresCsv.field(d.frame()) + "," + ScoresCsv.number(d.safety()) + "," + (d.skip() ? "skip" : "label") + "\n");
            }
        });
    }

    private int runStudy(List<MetaModel.Learner> ls) {
        ScoresCsv.Contents contents = ScoresCsv.read(scores);
        contents.requireUniqueKeys();
        if (contents.rows().stream().allMatch(r -> Double.isNaN(r.iou()))) {
            throw new SegsaException(scores + ": the iou column is empty in every row; the study needs scores with --labels");
        }
        Set<String> groupNames = groupNames();
        List<String> targets = new ArrayList<>();
        if (classes != null) targets.addAll(classes);
        else for (ScoresCsv.Row r : contents.rows()) if (r.className() != null && !targets.contains(r.className())) targets.add(r.className());
        DecisionStudy.Settings s = new DecisionStudy.Settings(iouThreshold, tolerance, confidence, folds, repeats, block, purge, ls,
                groupNames, 200, pilotFraction, pilotRepeats, seed);
        // a class at a time (minutes on a large file): redrawn on a terminal, a line every 30 s in a log
        dev.segsa.io.Progress progress = new dev.segsa.io.Progress("decide --study", targets.size(), "classes");
        boolean[] started = {false};
        DecisionStudy.Result r = DecisionStudy.run(contents, targets, s, t -> {
            if (started[0]) progress.step();
            started[0] = true;
        });
        progress.step();
        String md = DecisionStudy.markdown(r);
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new SegsaException(out + ": cannot create the folder: " + e.getMessage(), e);
        }
        writeText(out.resolve("decide.md"), w -> w.append("# segsa decide --study: " + scores + "\n\n" + md));
        writeText(out.resolve("savings.csv"), w -> {
            w.append("class,frames,below,order,saving_mean,saving_min,saving_max,note\n");
            for (DecisionStudy.ClassResult c : r.classes()) {
                for (DecisionStudy.Saving v : c.savings()) {
                    w.append(ScoresCsv.field(c.target()) + "," + c.frames() + "," + c.below() + "," + ScoresCsv.field(v.order()) + ","
                            + ScoresCsv.number(v.mean()) + "," + v.min() + "," + v.max() + "," + ScoresCsv.field(v.note()) + "\n");
                }
            }
        });
        writeText(out.resolve("importance.csv"), w -> {
            w.append("class,feature,drop_in_rho\n");
            for (DecisionStudy.ClassResult c : r.classes()) {
                for (DecisionStudy.Importance i : c.importance()) {
                    w.append(ScoresCsv.field(c.target()) + "," + ScoresCsv.field(i.feature()) + "," + ScoresCsv.number(i.drop()) + "\n");
                }
            }
        });
        int charts = 0;
        for (DecisionStudy.ClassResult c : r.classes()) {
            List<SavingsCharts.Line> lines = new ArrayList<>();
            for (DecisionStudy.Saving v : c.savings()) {
                if (v.curve() == null) continue;
                boolean reference = v.order().equals(DecisionStudy.ORACLE) || v.order().equals(DecisionStudy.RANDOM);
                lines.add(new SavingsCharts.Line(v.order(), v.curve(), reference));
            }
            SavingsCurve any = lines.get(0).curve();
            SavingsCharts.write(out.resolve("savings_" + SavingsCharts.slug(c.target()) + ".png"),
                    c.target() + ": " + SavingsCharts.title(0, any.thresholds(), "classification"), lines, 0);
            charts++;
        }
        System.out.print(md);
        System.out.println("wrote decide.md, savings.csv, importance.csv and " + charts + " charts to " + out);
        return 0;
    }

    private static void writeText(Path file, java.util.function.Consumer<StringBuilder> body) {
        StringBuilder b = new StringBuilder();
        body.accept(b);
        AtomicOutput.write(file, b.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
}
