package dev.segsa.cli;

import dev.segsa.error.SegsaException;
import dev.segsa.io.OutputFiles;
import dev.segsa.report.SaTimeline;
import dev.segsa.scores.ScoresCsv;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "timeline", mixinStandardHelpOptions = true,
        description = {"Draws the SA timeline of a recording from its scores (PNG): image MDSA per frame over time, the threshold "
                + "of skipping the lowest --skip-fraction, and shaded the segments sent for labelling. Video scores use their "
                + "timestamps (several videos one after another, in file order); image scores their file-name order at --fps.",
                "",
                "Example: segsa timeline --scores drive-scores.csv --out timeline.png --skip-fraction 0.3"})
final class TimelineCommand implements Callable<Integer> {
    @Option(names = "--scores", required = true, paramLabel = "scores.csv", description = "Scores written by segsa score.")
    Path scores;

    @Option(names = "--out", required = true, paramLabel = "FILE.png", description = "The chart to write.")
    Path out;

    @Option(names = "--skip-fraction", paramLabel = "X", converter = FiniteNumber.Share.class, defaultValue = "0.3", description = "Share of frames whose labelling is skipped (default ${DEFAULT-VALUE}).")
    double skipFraction;

    @Option(names = "--fps", paramLabel = "F", converter = FiniteNumber.FrameRate.class, defaultValue = "30", description = "For image scores: frames per second (default ${DEFAULT-VALUE}).")
    double fps;

    @Option(names = "--groups", paramLabel = "SPEC", description = "The class groups of the scores file (their rows are not classes and are left out). Rows the file marks row_kind=group are group rows without it; it matters only for files written before that column.")
    String groups;

    @Option(names = "--score", paramLabel = "NAME",
            description = "Frame score to draw: class_aware (the default when the scores have class percentiles), or the pixel-weighted "
                    + "mean of a score column (mdsa, lsa, entropy, margin, least_confidence, deepgini; the default otherwise: mdsa).")
    String score;

    @Override
    public Integer call() {
        OutputFiles.protect(scores);
        OutputFiles.checkWritableFile(out, "--out");
        ScoresCsv.Contents c = ScoresCsv.read(scores);
        if (c.rows().isEmpty()) throw new SegsaException(scores + ": no rows (only a header)");
        Set<String> groupNames = new java.util.HashSet<>();
        if (groups != null) for (String part : groups.split(";")) if (part.contains("=")) groupNames.add(part.substring(0, part.indexOf('=')).trim());
        c.requireUniqueKeys();
        String frameScore = score == null ? c.defaultFrameScore() : score;
        if (!c.frameScoreNames().contains(frameScore)) {
            throw new SegsaException(scores + ": no frame score '" + frameScore + "' (this file offers " + String.join(", ", c.frameScoreNames()) + ")");
        }
        Map<String, ScoresCsv.Contents.FrameScore> acc = c.frameScores(frameScore, groupNames);
        // in file order; several videos (or logs) follow one another, each from its first frame's time (an MCAP log's
        // times are epoch seconds), each starting where the previous one ended
        List<SaTimeline.Point> points = new ArrayList<>();
        int i = 0;
        String video = null;
        double offset = 0, last = 0, first = 0;
        for (var e : acc.entrySet()) {
            Double pts = c.ptsSeconds().get(e.getKey());
            double t;
            if (pts == null) {
                t = i / fps;
            } else {
                String v = e.getKey().substring(0, Math.max(0, e.getKey().lastIndexOf('#')));
                if (video == null || !v.equals(video)) {
                    if (video != null) offset = last + 1 / fps;
                    first = pts;
                }
                video = v;
                t = offset + pts - first;
            }
            last = t;
            points.add(new SaTimeline.Point(t, e.getValue().score()));
            i++;
        }
        SaTimeline.write(out, "SA timeline of " + scores.getFileName() + " (" + frameScore + ")", frameScore, points, skipFraction);
        double th = SaTimeline.threshold(points, skipFraction);
        System.out.printf(Locale.ROOT, "wrote %s (%d frames, threshold %.3f, %d segments sent for labelling)%n", out, points.size(), th,
                SaTimeline.segments(points, th).size());
        return 0;
    }
}
