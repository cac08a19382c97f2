package dev.segsa.demo;

import dev.segsa.Segsa;
import dev.segsa.SegsaFit;

import dev.segsa.error.SegsaException;
import dev.segsa.scores.ClassGroups;
import dev.segsa.evaluate.SpearmanCorrelation;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.io.AtomicOutput;
import dev.segsa.report.EvidenceVideo;
import dev.segsa.report.FrameHeatmaps;
import dev.segsa.io.Progress;
import dev.segsa.scores.ScoresCsv;
import dev.segsa.scores.ScoringJob;
import dev.segsa.synth.ConditionSpec;
import dev.segsa.synth.SyntheticDataset;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code segsa demo}: the whole loop on the embedded default, with nothing brought in. Generates
 * an in-distribution fit set (day, light traffic, no complex shadows) and a test set that mixes
 * in-distribution frames with shifted ones (night, complex shadows, heavy traffic: the paper's
 * high-SA categories), fits SA with the default model, scores the test set against its labels,
 * and writes scores.csv, heatmaps of the highest- and lowest-SA frames, and a summary: Spearman
 * rho of SA vs IoU per class group and class, and mean SA per condition.
 */
public final class Demo {
    /** The paper's class groups (Table 2 ids). */
    public static final String GROUPS = "lanes=1,2,3;markers=4,5,6,7,8";
    /** Test-set mix: about half the sequences shifted in at least one condition. */
    public static final String TEST_CONDITIONS = "time=day:3,night:1,shadows=none:3,complex:1,traffic=light:3,heavy:1";
    static final int[] SUMMARY_CLASSES = {0, 10, 11, 13};
    /** The evidence video of the test sequence, one still of it (its most surprising frame) and the SA timeline. */
    public static final String EVIDENCE = "evidence.mp4";
    public static final String EVIDENCE_STILL = "evidence-still.png";
    public static final String TIMELINE = "timeline.png";
    /** Frames per second of the evidence video: the test frames are separate scenes, so a slow slideshow. */
    static final double EVIDENCE_FPS = 4;

    public record Settings(Path model, Path out, int fitFrames, int testFrames, long seed, int threads, int heatmaps) {}

    private final Settings s;
    private final PrintStream log;

    public Demo(Settings settings, PrintStream log) {
        this.s = settings;
        this.log = log;
    }

    public void run(String backend) {
        if (!Files.isRegularFile(s.model())) {
            throw new SegsaException(s.model() + ": default model not found (models/synthetic-day.pt is part of the repository)");
        }
        Path fitDir = s.out().resolve("fit"), testDir = s.out().resolve("test");
        long t0 = System.nanoTime();
        log.println("demo: generating " + s.fitFrames() + " in-distribution fit frames and " + s.testFrames() + " test frames");
        SyntheticDataset.write(fitDir, s.fitFrames(), s.seed(), ConditionSpec.defaults(), 1, s.threads(), true,
                new Progress("generate fit", s.fitFrames()));
        SyntheticDataset.write(testDir, s.testFrames(), s.seed() + 1, ConditionSpec.parse(TEST_CONDITIONS), 1, s.threads(), true,
                new Progress("generate test", s.testFrames()));

        Path saFile = s.out().resolve("synthetic-day.sa");
        Path scoresFile = s.out().resolve("scores.csv");
        SaModel sa;
        try (SegsaFit fit = SegsaFit.builder(s.model()).lsaReferences(2000).seed(s.seed()).backend(backend).open()) {
            Progress progress = new Progress("fit", s.fitFrames());
            fit.addFolder(fitDir.resolve("images"), fitDir.resolve("labels"), 2, progress::step);
            sa = fit.finish();
        }
        SaModelFile.write(sa, saFile);
        try (Segsa engine = Segsa.builder(s.model(), sa).saSource(saFile).backend(backend).open()) {
            ClassGroups groups = ClassGroups.parse(GROUPS, sa.settings().classNames());
            List<String> warnings = new ArrayList<>();
            ScoringJob job = new ScoringJob(sa, groups);
            Progress progress = new Progress("score", s.testFrames());
            engine.scoreFolder(testDir.resolve("images"), testDir.resolve("labels"), 2, (f, r) -> {
                job.add(r, engine.labelsAtOutputSize(f.labels(), f.image().getWidth(), f.image().getHeight()), f.labelFile(), warnings);
                progress.step();
            });
            List<ScoresCsv.Row> rows = job.rows();
            warnings.forEach(w -> log.println("demo: warning: " + w));
            ScoresCsv.write(scoresFile, rows);
            List<FrameStat> frames = frameStats(rows, readManifest(testDir), groups);
            writeHeatmaps(engine, testDir, frames);
            writeEvidenceVideo(engine, sa, testDir, frames);
            String summary = summary(rows, frames, sa.settings().classNames(), groups);
            AtomicOutput.write(s.out().resolve("summary.txt"), summary.getBytes(StandardCharsets.UTF_8));
            log.println();
            log.println(summary);
        }
        log.printf(Locale.ROOT, "demo: wrote %s (scores.csv, heatmaps/, %s, %s, %s, summary.txt) in %.0f s%n", s.out(), EVIDENCE,
                EVIDENCE_STILL, TIMELINE, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The evidence video of the test frames in file order (4 frames a second), on the fixed MDSA
     * scale 0 .. 3 sqrt(d) with the threshold 2 sqrt(d), so that night and complex shadows light up
     * against day frames; its still is the frame with the highest image SA.
     */
    private void writeEvidenceVideo(Segsa engine, SaModel sa, Path testDir, List<FrameStat> frames) {
        double root = Math.sqrt(sa.settings().featureDimension());
        int still = 0;
        for (int i = 1; i < frames.size(); i++) {
            if (Double.isFinite(frames.get(i).mdsa()) && !(frames.get(i).mdsa() <= frames.get(still).mdsa())) still = i;
        }
        List<Integer> caption = new ArrayList<>();
        for (int c : SUMMARY_CLASSES) if (c < sa.classes() && c != 0) caption.add(c);
        EvidenceVideo.Settings settings = new EvidenceVideo.Settings(s.out().resolve(EVIDENCE), 320, 0, 3 * root, 2 * root, caption,
                EVIDENCE_FPS, still, s.out().resolve(EVIDENCE_STILL), s.out().resolve(TIMELINE), 0.3, 1_500_000);
        EvidenceVideo.fromFolder(engine, testDir.resolve("images"), testDir.resolve("labels"), settings,
                total -> new Progress("render", total)::step);
    }

    /** Image-level numbers: pixel-weighted mean MDSA over the frame's scored pixels, mean class IoU, condition. */
    record FrameStat(String image, double mdsa, double meanIou, String condition) {}

    static List<FrameStat> frameStats(List<ScoresCsv.Row> rows, Map<String, String> conditions, ClassGroups groups) {
        java.util.Set<String> groupNames = new java.util.HashSet<>();
        groups.groups().forEach(g -> groupNames.add(g.name()));
        Map<String, double[]> acc = new LinkedHashMap<>(); // sum sa*pixels, pixels, sum iou, n iou
        for (ScoresCsv.Row r : rows) {
            if (ScoresCsv.Contents.isGroup(r, groupNames)) continue;
            double[] a = acc.computeIfAbsent(r.image(), k -> new double[4]);
            if (Double.isFinite(r.mdsa())) { a[0] += r.mdsa() * r.pixels(); a[1] += r.pixels(); }
            if (Double.isFinite(r.iou())) { a[2] += r.iou(); a[3]++; }
        }
        List<FrameStat> out = new ArrayList<>();
        acc.forEach((img, a) -> out.add(new FrameStat(img, a[1] > 0 ? a[0] / a[1] : Double.NaN, a[3] > 0 ? a[2] / a[3] : Double.NaN,
                conditions.getOrDefault(img, "?"))));
        return out;
    }

    /** file -> condition label ("in-distribution" or the shifts, e.g. "night+heavy traffic"). */
    static Map<String, String> readManifest(Path dir) {
        Path m = dir.resolve(SyntheticDataset.MANIFEST);
        Map<String, String> out = new LinkedHashMap<>();
        try {
            List<String> lines = Files.readAllLines(m);
            List<String> header = Arrays.asList(lines.get(0).split(","));
            int file = header.indexOf("file"), time = header.indexOf("time"), shadows = header.indexOf("shadows"),
                    traffic = header.indexOf("traffic");
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split(",");
                List<String> shifts = new ArrayList<>();
                if (!f[time].equals("day")) shifts.add(f[time]);
                if (!f[shadows].equals("none")) shifts.add(f[shadows] + " shadows");
                if (!f[traffic].equals("light")) shifts.add(f[traffic] + " traffic");
                out.put(f[file], shifts.isEmpty() ? "in-distribution" : String.join("+", shifts));
            }
        } catch (IOException | RuntimeException e) {
            throw new SegsaException(m + ": cannot read the generated manifest: " + e.getMessage(), e);
        }
        return out;
    }

    private void writeHeatmaps(Segsa engine, Path testDir, List<FrameStat> frames) {
        List<FrameStat> ranked = frames.stream().filter(f -> Double.isFinite(f.mdsa()))
                .sorted(Comparator.comparingDouble(FrameStat::mdsa).reversed()).toList();
        int k = Math.min(s.heatmaps(), ranked.size() / 2);
        List<FrameHeatmaps.Request> requests = new ArrayList<>();
        for (int i = 0; i < 2 * k; i++) {
            FrameStat f = i < k ? ranked.get(i) : ranked.get(ranked.size() - 2 * k + i);
            String rank = i < k ? "high-" + (i + 1) : "low-" + (2 * k - i);
            String title = String.format(Locale.ROOT, "%s  %s  MDSA %.2f  mean IoU %.2f  (%s)", rank, f.image(), f.mdsa(), f.meanIou(), f.condition());
            requests.add(new FrameHeatmaps.Request(f.image(), rank + "-" + f.image(), title));
        }
        FrameHeatmaps.write(requests, testDir.resolve("images"), engine, s.out().resolve("heatmaps"));
    }

    static String summary(List<ScoresCsv.Row> rows, List<FrameStat> frames, List<String> classNames, ClassGroups groups) {
        StringBuilder b = new StringBuilder("Spearman rho of image SA (MDSA) vs image IoU (paper Table 3; expect negative)\n");
        List<String> targets = new ArrayList<>();
        groups.groups().forEach(g -> targets.add(g.name()));
        for (int c : SUMMARY_CLASSES) if (c < classNames.size()) targets.add(classNames.get(c));
        int w = targets.stream().mapToInt(String::length).max().orElse(10);
        b.append(String.format(Locale.ROOT, "%-" + w + "s %7s %8s %10s%n", "target", "images", "rho", "p"));
        for (String t : targets) {
            List<double[]> pairs = new ArrayList<>();
            for (ScoresCsv.Row r : rows) {
                if (r.className().equals(t) && Double.isFinite(r.mdsa()) && Double.isFinite(r.iou())) pairs.add(new double[] {r.mdsa(), r.iou()});
            }
            if (pairs.size() < 3) {
                b.append(String.format(Locale.ROOT, "%-" + w + "s %7d %8s %10s%n", t, pairs.size(), "-", "-"));
                continue;
            }
            SpearmanCorrelation sc = SpearmanCorrelation.of(pairs.stream().mapToDouble(p -> p[0]).toArray(),
                    pairs.stream().mapToDouble(p -> p[1]).toArray());
            b.append(String.format(Locale.ROOT, "%-" + w + "s %7d %8.3f %10.2g%n", t, sc.n(), sc.rho(), sc.pValue()));
        }
        b.append("\nMean image SA per test condition (SA = pixel-weighted mean MDSA of the frame)\n");
        Map<String, double[]> byCondition = new LinkedHashMap<>();
        frames.stream().sorted(Comparator.comparing(FrameStat::condition)).forEach(f -> {
            double[] a = byCondition.computeIfAbsent(f.condition(), k -> new double[5]);
            a[0]++;
            if (Double.isFinite(f.mdsa())) { a[1] += f.mdsa(); a[2]++; }
            if (Double.isFinite(f.meanIou())) { a[3] += f.meanIou(); a[4]++; }
        });
        int cw = Math.max(9, byCondition.keySet().stream().mapToInt(String::length).max().orElse(9));
        b.append(String.format(Locale.ROOT, "%-" + cw + "s %7s %10s %14s%n", "condition", "frames", "mean SA", "mean class IoU"));
        byCondition.forEach((c, a) -> b.append(String.format(Locale.ROOT, "%-" + cw + "s %7d %10.3f %14.3f%n", c, (int) a[0],
                a[1] / a[2], a[3] / a[4])));
        return b.toString().stripTrailing();
    }
}
