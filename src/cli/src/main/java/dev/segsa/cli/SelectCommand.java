package dev.segsa.cli;

import java.nio.file.Files;

import dev.segsa.io.OutputFiles;

import dev.segsa.error.SegsaException;
import dev.segsa.evaluate.FrameSelection;
import dev.segsa.evaluate.RecordingScale;
import dev.segsa.scores.ScoresCsv;
import dev.segsa.report.SelectionCsv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "select", mixinStandardHelpOptions = true,
        description = {"Ranks the frames of one class or group by a score for labelling (highest first) and marks the lowest "
                + "ones to skip: a fixed --skip-fraction, or, with a labelled pilot set, the largest fraction whose one-sided "
                + "Clopper-Pearson upper confidence bound on the share of skipped pilot images with IoU below --iou-threshold "
                + "is at most --tolerance. Writes rank,image,score,pixels,decision. With --retrain-subsets instead writes the "
                + "paper's RQ3 lists: High/Low/Random x Small/Medium/Large (level,size,image,score,pixels).",
                "",
                "Examples:",
                "  segsa select --scores scores.csv --class Car --skip-fraction 0.4 --out list.csv",
                "  segsa select --scores scores.csv --class Car --tolerance 0.05 --pilot pilot.csv --out list.csv",
                "  segsa select --scores pool.csv --class Car --retrain-subsets --base-size 16750 --out subsets.csv"})
final class SelectCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--scores", required = true, paramLabel = "scores.csv", description = "Scores of the frames to rank (segsa score).")
    Path scores;

    @Option(names = "--out", required = true, paramLabel = "list.csv", description = "CSV to write.")
    Path out;

    @Option(names = "--score", paramLabel = "COLUMN",
            description = {"Score column to rank by: mdsa, lsa, entropy, margin, least_confidence or deepgini; without --class also "
                    + "class_aware (the frame's highest class MDSA percentile among the SA file's fit frames, the default when the scores "
                    + "have it; else mdsa if present, else the first score column with values); or best with --report DIR: the column that segsa evaluate found to "
                    + "save most for the class (its what_to_do.csv)."})
    String score;

    @Option(names = "--report", paramLabel = "DIR", description = "With --score best: the segsa evaluate report of these scores.")
    Path report;

    @Option(names = "--groups", paramLabel = "SPEC",
            description = "Without --class: which rows are class groups (as in segsa evaluate), left out of the frame's score. Rows the file marks row_kind=group are group rows without it; it matters only for files written before that column.")
    String groups;

    @Option(names = "--per-recording", paramLabel = "MODE", defaultValue = "none",
            description = {"Without --class, with frames of several recordings (a recording: the frame name without its last digit "
                    + "run): none (rank the scores as they are), rank (each frame's rank within its recording) or standardize (the "
                    + "score less its recording's median, over its interquartile range). Recordings differ in score level for reasons "
                    + "that are not errors (default: ${DEFAULT-VALUE})."})
    String perRecording;

    @Option(names = "--class", paramLabel = "K",
            description = {"Class or group (as in the class column) whose score ranks the frames. Without it (and with several classes) "
                    + "whole frames are ranked by the frame's score: risk (with a risk model), class_aware, or the pixel-weighted mean "
                    + "of a score column over the frame's class rows."})
    String target;

    @Option(names = "--skip-fraction", paramLabel = "X", converter = FiniteNumber.Share.class, description = "Skip the lowest-scored fraction X (0..1) of the frames.")
    Double skipFraction;

    @Option(names = "--tolerance", paramLabel = "T", converter = FiniteNumber.OpenFraction.class, description = "Largest acceptable share of skipped frames below the IoU threshold (needs --pilot).")
    Double tolerance;

    @Option(names = "--pilot", paramLabel = "pilot.csv", description = "Scores with IoU of a labelled pilot set (segsa score --labels), for --tolerance.")
    Path pilot;

    @Option(names = "--iou-threshold", paramLabel = "T", converter = FiniteNumber.Fraction.class, defaultValue = "0.5",
            description = "A skipped frame is a miss when its IoU is below this (default: ${DEFAULT-VALUE}).")
    double iouThreshold;

    @Option(names = "--confidence", paramLabel = "C", converter = FiniteNumber.OpenFraction.class, defaultValue = "0.95",
            description = "Confidence of the one-sided Clopper-Pearson upper bound (default: ${DEFAULT-VALUE}).")
    double confidence;

    @Option(names = "--retrain-subsets", description = "Write the RQ3 retraining subsets instead of a labelling list.")
    boolean retrainSubsets;

    @Option(names = "--diverse", description = {"With --retrain-subsets: the diversity-aware subsets instead of High/Low/Random: "
            + "among the top 30%% by score, greedy k-centre on the frames' per-class score profiles, starting from the --seen frames."})
    boolean diverse;

    @Option(names = "--seen", paramLabel = "FILE", description = {"Frames already labelled (e.g. the base training set, or earlier "
            + "labelling rounds): their scores (a scores file: then, with --diverse, they are the first centres) or a list of "
            + "frame names, one per line (a .txt file). They are left out of the selection."})
    Path seen;

    @Option(names = "--min-pixels", paramLabel = "N", defaultValue = "1000",
            description = "Retraining pool: frames with more than N pixels predicted as --class (default: ${DEFAULT-VALUE}).")
    long minPixels;

    @Option(names = "--base-size", paramLabel = "N", description = "Size of the base training set; subsets are 10/20/30%% of it.")
    Integer baseSize;

    @Option(names = "--sizes", paramLabel = "S[,S...]", split = ",", defaultValue = "small,medium,large",
            description = {"With --retrain-subsets: the subset sizes to draw, of small, medium, large (10/20/30%% of --base-size; "
                    + "default: all). A class whose pool cannot hold the Large subset can still have Small and Medium: each is the "
                    + "subset all three sizes would draw."})
    List<String> sizes;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "Seed of the retraining samples (default: ${DEFAULT-VALUE}).")
    long seed;

    /**
     * The {@code segsa watch} trigger score that reads the same number as {@code column} (whole
     * frames or one class), or null when watch has none (e.g. LSA).
     */
    static String watchTrigger(String column, boolean wholeFrames) {
        return switch (column) {
            case "risk" -> wholeFrames ? "risk" : null;
            case "class_aware" -> wholeFrames ? "class-aware" : null;
            case "mdsa" -> wholeFrames ? "image-mdsa" : "class-mdsa-mean";
            case "mdsa_pct" -> wholeFrames ? null : "class-percentile";
            case "entropy", "margin", "deepgini" -> wholeFrames ? column : null;
            case "least_confidence" -> wholeFrames ? "least-confidence" : null;
            default -> null;
        };
    }

    @Override
    public Integer call() {
        OutputFiles.protect(scores);
        OutputFiles.protect(pilot);
        // "DIR/" asks for a directory even when it does not exist yet (the Path has lost the slash)
        String rawOut = spec == null || spec.commandLine().getParseResult().matchedOption("--out") == null ? out.toString()
                : spec.commandLine().getParseResult().matchedOption("--out").stringValues().get(0);
        boolean toDirectory = retrainSubsets && (Files.isDirectory(out) || rawOut.endsWith("/"));
        if (toDirectory) OutputFiles.checkDirectory(out, "--out");
        else OutputFiles.checkWritableFile(out, "--out");
        int modes = (skipFraction != null ? 1 : 0) + (tolerance != null ? 1 : 0) + (retrainSubsets ? 1 : 0);
        if (modes != 1) {
            throw new IllegalArgumentException("choose exactly one of --skip-fraction X, --tolerance T --pilot pilot.csv, "
                    + "or --retrain-subsets");
        }
        if (tolerance != null && pilot == null) throw new IllegalArgumentException("--tolerance needs a labelled --pilot scores file");
        if (pilot != null && tolerance == null) throw new IllegalArgumentException("--pilot is only used with --tolerance");
        if (retrainSubsets && (target == null || baseSize == null)) {
            throw new IllegalArgumentException("--retrain-subsets needs --class K and --base-size N");
        }
        if (!retrainSubsets && baseSize != null) throw new IllegalArgumentException("--base-size is only used with --retrain-subsets");
        if (diverse && !retrainSubsets) throw new IllegalArgumentException("--diverse goes with --retrain-subsets");
        if (!retrainSubsets && spec != null && spec.commandLine().getParseResult().hasMatchedOption("--sizes")) {
            throw new IllegalArgumentException("--sizes goes with --retrain-subsets");
        }
        OutputFiles.protect(seen);
        ScoresCsv.Contents contents = ScoresCsv.read(scores);
        if (contents.rows().isEmpty()) throw new SegsaException(scores + ": no rows (only a header); nothing to select from");
        contents.requireUniqueKeys();
        String k = target(contents);
        boolean wholeFrames = k == null;
        String column = "best".equals(score) ? bestColumn(contents, k) : scoreColumn(contents, wholeFrames);
        RecordingScale scale = RecordingScale.of(perRecording);
        if (scale != RecordingScale.NONE && !wholeFrames) throw new IllegalArgumentException("--per-recording ranks whole frames: leave out --class");
        if (wholeFrames && (tolerance != null || retrainSubsets)) {
            throw new IllegalArgumentException((retrainSubsets ? "--retrain-subsets" : "--tolerance with a pilot") + " works on one class: "
                    + "give --class K");
        }
        boolean seenList = seen != null && seen.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".txt");
        ScoresCsv.Contents seenContents = seen == null || seenList ? null : ScoresCsv.read(seen);
        Set<String> seenImages = new LinkedHashSet<>();
        if (seenContents != null) seenContents.rows().forEach(r -> seenImages.add(r.image()));
        if (seenList) {
            try {
                for (String line : Files.readAllLines(seen)) if (!line.isBlank()) seenImages.add(line.strip());
            } catch (java.io.IOException e) {
                throw new SegsaException(seen + ": cannot read the list of frames already labelled: " + e.getMessage(), e);
            }
        }
        List<FrameSelection.Candidate> candidates = new java.util.ArrayList<>();
        for (FrameSelection.Candidate c : wholeFrames ? frameCandidates(contents, column) : FrameSelection.candidates(contents, k, column)) {
            if (!seenImages.contains(c.image())) candidates.add(c);
        }
        long scored = candidates.stream().filter(c -> !Double.isNaN(c.score())).count();
        if (scored == 0) {
            throw new SegsaException(scores + ": no frame has a " + column + " score" + (wholeFrames ? "" : " for '" + k + "'"));
        }
        String what = wholeFrames ? "whole frames" : "'" + k + "'";
        Set<String> images = new LinkedHashSet<>();
        contents.rows().forEach(r -> images.add(r.image()));

        if (retrainSubsets) {
            List<FrameSelection.RetrainSubset> subsets;
            if (diverse) {
                List<String> classNames = new java.util.ArrayList<>();
                Set<String> groupNames = dev.segsa.scores.ClassGroups.names(groups);
                for (ScoresCsv.Row r : contents.rows()) {
                    if (!ScoresCsv.Contents.isGroup(r, groupNames) && !classNames.contains(r.className())) classNames.add(r.className());
                }
                List<ScoresCsv.Contents> sources = seenContents == null ? List.of(contents) : List.of(contents, seenContents);
                subsets = FrameSelection.diverseSubsets(candidates, FrameSelection.profiles(sources, classNames, column), seenImages,
                        minPixels, baseSize, sizes);
            } else {
                subsets = FrameSelection.retrainSubsets(candidates, minPixels, baseSize, seed, sizes);
            }
            if (toDirectory) SelectionCsv.writeRetrainDirectory(out, subsets);
            else SelectionCsv.writeRetrain(out, subsets);
            System.out.printf(Locale.ROOT, "retraining subsets for '%s' by %s (pool: frames with more than %d predicted pixels; "
                    + "High/Low from the top/bottom %d%%):%n", k, column, minPixels, FrameSelection.LEVEL_POOL_PERCENT);
            for (FrameSelection.RetrainSubset s : subsets) {
                System.out.printf(Locale.ROOT, "  %-6s %-6s %6d frames%n", s.level(), s.size(), s.frames().size());
            }
            System.out.println("wrote " + out);
            return 0;
        }
        List<FrameSelection.Decision> decisions;
        if (skipFraction != null) {
            decisions = FrameSelection.skipLowest(candidates, skipFraction);
        } else {
            ScoresCsv.Contents pilotContents = ScoresCsv.read(pilot);
            if (!pilotContents.scoreColumns().contains(column)) throw new SegsaException(pilot + ": has no " + column + " scores");
            FrameSelection.PilotChoice choice = FrameSelection.choose(FrameSelection.candidates(pilotContents, k, column),
                    iouThreshold, tolerance, confidence);
            if (choice.pilotImages() == 0) {
                throw new SegsaException(pilot + ": no row for '" + k + "' has both a " + column + " score and an IoU");
            }
            int skip = (int) ((long) choice.skippedPilot() * scored / choice.pilotImages());
            decisions = FrameSelection.skipCount(candidates, skip);
            System.out.printf(Locale.ROOT, "pilot %s: %d frames of '%s' with %s and IoU; bound: one-sided Clopper-Pearson upper "
                            + "bound at confidence %s on the share of skipped frames with IoU below %s%n", pilot, choice.pilotImages(),
                    k, column, confidence, iouThreshold);
            if (choice.skippedPilot() == 0) {
                System.out.printf(Locale.ROOT, "  no skip fraction keeps the bound within %s: skipping nothing (with no misses at all "
                        + "the bound needs at least %d skipped pilot frames)%n", tolerance, choice.minimumPilotForZeroEvents());
            } else {
                System.out.printf(Locale.ROOT, "  largest skip fraction within %s: %.4f (%d of %d pilot frames skipped, %d below "
                                + "IoU %s, observed %.4f, upper bound %.4f; pilot %s cut-off %s)%n", tolerance, choice.skipFraction(),
                        choice.skippedPilot(), choice.pilotImages(), choice.belowPilot(), iouThreshold,
                        (double) choice.belowPilot() / choice.skippedPilot(), choice.upperBound(), column, choice.scoreCutoff());
            }
        }
        SelectionCsv.writeLabelling(out, decisions);
        long skipped = decisions.stream().filter(FrameSelection.Decision::skip).count();
        System.out.printf(Locale.ROOT, "%s by %s%s: %d frames ranked, %d to label, %d skipped", what, column,
                wholeFrames ? frameScoreNote(column) : "", decisions.size(), decisions.size() - skipped, skipped);
        if (scored < decisions.size()) System.out.printf(Locale.ROOT, " (%d without a score are always labelled)", decisions.size() - scored);
        System.out.println();
        double cut = decisions.stream().filter(FrameSelection.Decision::skip).mapToDouble(d -> d.candidate().score()).max().orElse(Double.NaN);
        if (!Double.isNaN(cut)) {
            long tiedLabelled = decisions.stream().filter(d -> !d.skip() && d.candidate().score() == cut).count();
            String trigger = watchTrigger(column, wholeFrames);
            System.out.printf(Locale.ROOT, "threshold: %s %s <= %s is skipped, above it labelled (%s)%s%n",
                    wholeFrames ? "a frame with" : "a frame whose " + k + " has", column, ScoresCsv.number(cut),
                    trigger == null ? "no segsa watch trigger reads " + (wholeFrames ? "" : "a class's ") + column + ", so it is not "
                            + "reusable online"
                            : "reusable online as a segsa watch trigger: {\"score\": \"" + trigger + "\"" + (wholeFrames ? "" : ", \"class\": \""
                            + k + "\"") + ", \"threshold\": " + ScoresCsv.number(cut) + "}",
                    tiedLabelled > 0 ? "; " + tiedLabelled + " labelled frame(s) tie at it (ties are split by name), so online the "
                            + "threshold skips a little more" : "");
        }
        if (!wholeFrames && images.size() > decisions.size()) {
            System.out.printf(Locale.ROOT, "%d of the %d frames in %s have no row for '%s' and are not listed%n",
                    images.size() - decisions.size(), images.size(), scores, k);
        }
        System.out.println("wrote " + out);
        return 0;
    }

    private String scoreColumn(ScoresCsv.Contents contents, boolean wholeFrames) {
        if (score == null) {
            if (wholeFrames) return contents.defaultFrameScore();
            return contents.scoreColumns().contains("mdsa") ? "mdsa" : contents.scoreColumns().get(0);
        }
        if (score.equals(ScoresCsv.CLASS_AWARE)) {
            if (!wholeFrames) throw new IllegalArgumentException("--score class_aware ranks whole frames: leave out --class");
            if (!contents.hasClassPercentiles()) {
                throw new SegsaException(scores + ": no class percentiles (mdsa_pct); score with an SA file fitted by this segsa (it "
                        + "records the class reference) to rank by the class-aware score");
            }
            return score;
        }
        if (!ScoresCsv.SCORE_COLUMNS.contains(score)) {
            throw new IllegalArgumentException("--score " + score + ": expected one of " + String.join(", ", ScoresCsv.SCORE_COLUMNS));
        }
        if (!contents.scoreColumns().contains(score)) {
            throw new SegsaException(scores + ": the " + score + " column is absent or empty (present: "
                    + String.join(", ", contents.scoreColumns()) + ")");
        }
        return score;
    }

    private String frameScoreNote(String column) {
        String what = column.equals(ScoresCsv.CLASS_AWARE)
                ? " (the frame's highest class MDSA percentile among the fit frames, over its classes covering enough of it)"
                : column.equals(ScoresCsv.RISK) ? " (one minus the frame's predicted mIoU: the mean of its classes' risk)"
                : " (the frame's pixel-weighted mean over its classes)";
        RecordingScale scale = RecordingScale.of(perRecording);
        return scale == RecordingScale.NONE ? what : what + ", " + scale.key() + " within each recording";
    }

    /** The class, or null: whole frames (no --class and several classes). */
    private String target(ScoresCsv.Contents contents) {
        Set<String> names = new LinkedHashSet<>();
        contents.rows().forEach(r -> names.add(r.className()));
        if (target == null) {
            if (names.size() == 1) return names.iterator().next();
            return null;
        }
        if (!names.contains(target)) {
            throw new SegsaException(scores + ": no rows for class '" + target + "' (classes and groups: " + String.join(", ", names) + ")");
        }
        return target;
    }

    /** Whole frames as candidates: per frame the pixel-weighted mean of the column over its class rows (groups left out). */
    private List<FrameSelection.Candidate> frameCandidates(ScoresCsv.Contents contents, String column) {
        List<FrameSelection.Candidate> out = new java.util.ArrayList<>();
        var frames = contents.frameScores(column, dev.segsa.scores.ClassGroups.names(groups));
        java.util.Map<String, Double> raw = new java.util.LinkedHashMap<>();
        frames.forEach((image, f) -> raw.put(image, f.score()));
        java.util.Map<String, Double> scaled = RecordingScale.of(perRecording).apply(raw);
        frames.forEach((image, f) -> out.add(new FrameSelection.Candidate(image, scaled.get(image), Double.NaN, f.pixels())));
        return out;
    }

    /**
     * --score best: the score column the evaluate report's what_to_do.csv recommends for the class
     * (the report's own decision: never a wrong-signed score or one worse than random; ties by the
     * lower mean classification inaccuracy, then the name); an error saying why when it recommends
     * none.
     */
    private String bestColumn(ScoresCsv.Contents contents, String k) {
        if (report == null) throw new IllegalArgumentException("--score best needs --report DIR (a segsa evaluate report of these scores)");
        if (k == null) throw new IllegalArgumentException("--score best picks the best score of one class: give --class K");
        Path file = report.resolve(dev.segsa.report.WhatToDoCsv.FILE);
        if (!Files.exists(file)) {
            throw new SegsaException(file + ": not found: " + report + " is not a segsa evaluate report, or one written before "
                    + "what_to_do.csv existed (run segsa evaluate again)");
        }
        dev.segsa.report.WhatToDoCsv.Row row = null;
        for (dev.segsa.report.WhatToDoCsv.Row r : dev.segsa.report.WhatToDoCsv.read(file)) {
            if (r.target().equals(k) && (row == null || r.kind().equals("class"))) row = r;
        }
        if (row == null) throw new SegsaException(file + ": no row for '" + k + "' (the report's classes and groups only)");
        String anyway = "; --score NAME ranks by a column anyway";
        switch (row.verdict()) {
            case NOTHING_TO_LABEL -> throw new SegsaException(file + ": '" + k + "': nothing to label for this class, any order: no "
                    + "frame of the report is below its IoU threshold, so no score is better than another" + anyway);
            case NO_SCORE_BEATS_RANDOM -> throw new SegsaException(file + ": '" + k + "': no score column beats random in this report "
                    + "(each is wrong-signed or does worse than random: " + String.join(", ", row.flagged()) + "): label every frame"
                    + anyway);
            case NOTHING_SKIPPED -> throw new SegsaException(file + ": '" + k + "': no order skips any labelling within the report's "
                    + "tolerance: label every frame" + anyway);
            case SKIP -> { }
        }
        if (row.selectScore().isEmpty()) {
            throw new SegsaException(file + ": '" + k + "': only the fused order " + row.order() + " skips frames (" + row.savingPercent()
                    + "%); select ranks by one column and no single column skips any" + anyway);
        }
        if (!contents.scoreColumns().contains(row.selectScore())) {
            throw new SegsaException(file + ": '" + k + "': the report's best column " + row.selectScore() + " is not a score column of "
                    + scores + " (" + String.join(", ", contents.scoreColumns()) + "): are these the scores the report evaluated?");
        }
        System.out.printf(Locale.ROOT, "--score best: %s (saves %d%% within the report's tolerance for '%s', in hindsight)%n",
                row.selectScore(), row.selectSavingPercent(), k);
        if (!row.order().equals(row.selectScore())) {
            System.out.printf(Locale.ROOT, "--score best: note: the fused order %s saves %d%%; select ranks by one column%n", row.order(),
                    row.savingPercent());
        }
        return row.selectScore();
    }
}
