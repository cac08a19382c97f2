package dev.segsa.evaluate;

import dev.segsa.scores.ScoresCsv;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Does a frame score find the frames the model gets wrong? Per frame its mIoU (the mean class IoU
 * over the classes in its label or its prediction: the class rows of a labelled scores file) and
 * its recording ({@link FrameGroups#sequenceOf}); a <em>bad</em> frame is one of the worst
 * {@link #BAD_SHARE} by frame mIoU, pooled over recordings (and, within a recording, of that
 * recording). For every frame score: AUROC and AUPR for bad frames, and capture at budgets (keep
 * the top x by the score: the share of bad frames among the kept, the recall of bad frames, the
 * kept frames' mean mIoU beside all frames' (random's expectation) and the oracle's (lowest mIoU
 * first)), pooled and within each recording. 95% intervals of the pooled AUROC and of the kept
 * mIoU at 10% come from a block bootstrap: blocks of {@link #BLOCK} consecutive frames of one
 * recording drawn with replacement, within each recording when every recording has at least two
 * blocks, else from all recordings' blocks together (seeded), so neighbouring near-duplicate
 * frames move together.
 */
public final class FrameFailureStudy {
    /** The share of frames that are bad: the worst 20% by frame mIoU. */
    public static final double BAD_SHARE = 0.20;
    /** Budgets: shares of the frames kept, top first. */
    public static final double[] BUDGETS = {0.01, 0.02, 0.05, 0.10, 0.20};
    /** Frames per bootstrap block. */
    public static final int BLOCK = 10;
    public static final int BOOTSTRAP = 1000;

    /** Capture of one budget. */
    public record Capture(double budget, int kept, double badShare, double recall, double keptMiou, double oracleMiou) {}

    /**
     * One score in one scope.
     *
     * @param scope        "pooled", "within" (the mean over recordings of the within-recording figures) or a recording's name
     * @param auroc        for bad frames; with {@code aurocLow}/{@code aurocHigh} its 95% interval (pooled only, else NaN)
     * @param keptMiou10Low 95% interval of the kept frames' mean mIoU at a 10% budget (pooled only)
     */
    public record Result(String scope, String score, int frames, int bad, double allMiou, double auroc, double aurocLow,
                         double aurocHigh, double aupr, List<Capture> captures, double keptMiou10Low, double keptMiou10High) {
        public Capture at(double budget) {
            for (Capture c : captures) if (Math.abs(c.budget - budget) < 1e-12) return c;
            throw new IllegalArgumentException("no budget " + budget);
        }
    }

    /** Frames with a mIoU, their recordings, and the scores. */
    public record Frames(List<String> names, double[] miou, Map<String, double[]> scores) {}

    private FrameFailureStudy() {}

    /**
     * The frames of a labelled scores file: per frame the mean IoU over its class rows (group rows
     * left out: those the file marks as groups and those named in {@code groupNames}) and, for every frame score the file offers, its value.
     * Frames without an IoU are left out.
     */
    public static Frames frames(ScoresCsv.Contents contents, java.util.Set<String> groupNames, Map<String, Map<String, Double>> extraScores) {
        Map<String, double[]> acc = new LinkedHashMap<>();
        for (ScoresCsv.Row r : contents.rows()) {
            if (ScoresCsv.Contents.isGroup(r, groupNames)) continue;
            double[] a = acc.computeIfAbsent(r.image(), k -> new double[2]);
            if (Double.isFinite(r.iou())) {
                a[0] += r.iou();
                a[1]++;
            }
        }
        List<String> names = new ArrayList<>();
        for (var e : acc.entrySet()) if (e.getValue()[1] > 0) names.add(e.getKey());
        double[] miou = new double[names.size()];
        for (int i = 0; i < miou.length; i++) {
            double[] a = acc.get(names.get(i));
            miou[i] = a[0] / a[1];
        }
        Map<String, double[]> scores = new LinkedHashMap<>();
        for (String s : contents.frameScoreNames()) {
            Map<String, ScoresCsv.Contents.FrameScore> f = contents.frameScores(s, groupNames);
            double[] v = new double[names.size()];
            for (int i = 0; i < v.length; i++) {
                var x = f.get(names.get(i));
                v[i] = x == null ? Double.NaN : x.score();
            }
            scores.put(s, v);
        }
        if (extraScores != null) {
            extraScores.forEach((s, m) -> {
                double[] v = new double[names.size()];
                for (int i = 0; i < v.length; i++) v[i] = m.getOrDefault(names.get(i), Double.NaN);
                scores.put(s, v);
            });
        }
        return new Frames(List.copyOf(names), miou, scores);
    }

    /** Every score, pooled, within (mean over recordings) and per recording; recordings with fewer than 5 frames are only pooled. */
    public static List<Result> run(Frames frames, long seed) {
        List<Result> out = new ArrayList<>();
        int n = frames.names().size();
        String[] recording = new String[n];
        Map<String, List<Integer>> byRecording = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            recording[i] = FrameGroups.sequenceOf(frames.names().get(i));
            byRecording.computeIfAbsent(recording[i], k -> new ArrayList<>()).add(i);
        }
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        for (var e : frames.scores().entrySet()) {
            double[] s = e.getValue();
            Result pooled = evaluate("pooled", e.getKey(), all, frames, s);
            double[] ci = bootstrap(all, recording, frames, s, seed);
            out.add(new Result(pooled.scope, pooled.score, pooled.frames, pooled.bad, pooled.allMiou, pooled.auroc, ci[0], ci[1],
                    pooled.aupr, pooled.captures, ci[2], ci[3]));
            List<Result> within = new ArrayList<>();
            for (var r : byRecording.entrySet()) {
                if (r.getValue().size() < 5) continue;
                int[] idx = r.getValue().stream().mapToInt(Integer::intValue).toArray();
                within.add(evaluate(r.getKey(), e.getKey(), idx, frames, s));
            }
            if (!within.isEmpty()) out.add(mean(e.getKey(), within));
            out.addAll(within);
        }
        return out;
    }

    /** The figures of one score over the frames {@code idx} (bad = the worst share of these frames). */
    static Result evaluate(String scope, String scoreName, int[] idx, Frames frames, double[] score) {
        int[] scored = Arrays.stream(idx).filter(i -> Double.isFinite(score[i])).toArray();
        // frames without the score are ranked last (never kept first): a frame score must say something to count
        int n = idx.length;
        boolean[] bad = badFrames(idx, frames);
        int badCount = 0;
        double allMiou = 0;
        for (int k = 0; k < n; k++) {
            if (bad[k]) badCount++;
            allMiou += frames.miou()[idx[k]];
        }
        allMiou /= n;
        double lowest = Double.POSITIVE_INFINITY;
        for (int i : scored) lowest = Math.min(lowest, score[i]);
        double[] s = new double[n];
        for (int k = 0; k < n; k++) s[k] = Double.isFinite(score[idx[k]]) ? score[idx[k]] : (scored.length == 0 ? 0 : lowest - 1);
        double auroc = scored.length == 0 ? Double.NaN : AucStatistics.auroc(s, bad);
        double aupr = scored.length == 0 ? Double.NaN : AucStatistics.averagePrecision(s, bad);
        Integer[] byScore = order(idx, frames, s, false);
        Integer[] byMiou = order(idx, frames, null, true);
        List<Capture> captures = new ArrayList<>();
        for (double b : BUDGETS) {
            int k = Math.max(1, (int) Math.round(b * n));
            int hits = 0;
            double kept = 0, oracle = 0;
            for (int j = 0; j < k; j++) {
                if (bad[byScore[j]]) hits++;
                kept += frames.miou()[idx[byScore[j]]];
                oracle += frames.miou()[idx[byMiou[j]]];
            }
            captures.add(new Capture(b, k, (double) hits / k, badCount == 0 ? Double.NaN : (double) hits / badCount, kept / k, oracle / k));
        }
        return new Result(scope, scoreName, n, badCount, allMiou, auroc, Double.NaN, Double.NaN, aupr, captures, Double.NaN, Double.NaN);
    }

    /** Positions (into idx) of the worst BAD_SHARE by mIoU (at least one; ties by name). */
    static boolean[] badFrames(int[] idx, Frames frames) {
        Integer[] byMiou = order(idx, frames, null, true);
        int k = Math.max(1, (int) Math.round(BAD_SHARE * idx.length));
        boolean[] bad = new boolean[idx.length];
        for (int j = 0; j < k; j++) bad[byMiou[j]] = true;
        return bad;
    }

    /** Positions into idx: by descending score (s by position), or by ascending mIoU; ties by frame name. */
    private static Integer[] order(int[] idx, Frames frames, double[] s, boolean byMiou) {
        Integer[] o = new Integer[idx.length];
        for (int k = 0; k < o.length; k++) o[k] = k;
        Arrays.sort(o, (a, b) -> {
            int c = byMiou ? Double.compare(frames.miou()[idx[a]], frames.miou()[idx[b]]) : Double.compare(s[b], s[a]);
            return c != 0 ? c : frames.names().get(idx[a]).compareTo(frames.names().get(idx[b]));
        });
        return o;
    }

    private static Result mean(String score, List<Result> rs) {
        double auroc = 0, aupr = 0, miou = 0;
        int na = 0, np = 0, frames = 0, bad = 0;
        for (Result r : rs) {
            if (Double.isFinite(r.auroc)) { auroc += r.auroc; na++; }
            if (Double.isFinite(r.aupr)) { aupr += r.aupr; np++; }
            miou += r.allMiou;
            frames += r.frames;
            bad += r.bad;
        }
        List<Capture> caps = new ArrayList<>();
        for (int b = 0; b < BUDGETS.length; b++) {
            double share = 0, recall = 0, kept = 0, oracle = 0;
            int k = 0;
            for (Result r : rs) {
                Capture c = r.captures.get(b);
                share += c.badShare;
                recall += c.recall;
                kept += c.keptMiou;
                oracle += c.oracleMiou;
                k += c.kept;
            }
            int m = rs.size();
            caps.add(new Capture(BUDGETS[b], k, share / m, recall / m, kept / m, oracle / m));
        }
        return new Result("within", score, frames, bad, miou / rs.size(), na == 0 ? Double.NaN : auroc / na, Double.NaN, Double.NaN,
                np == 0 ? Double.NaN : aupr / np, caps, Double.NaN, Double.NaN);
    }

    /** {auroc low, auroc high, kept mIoU at 10% low, high}: block bootstrap within recordings (bad flags from the full sample). */
    private static double[] bootstrap(int[] all, String[] recording, Frames frames, double[] score, long seed) {
        Map<String, List<int[]>> blocks = new LinkedHashMap<>();
        Map<String, List<Integer>> members = new LinkedHashMap<>();
        for (int i : all) members.computeIfAbsent(recording[i], k -> new ArrayList<>()).add(i);
        for (var e : members.entrySet()) {
            List<Integer> m = new ArrayList<>(e.getValue());
            m.sort((a, b) -> Long.compare(FrameGroups.frameNumber(frames.names().get(a)), FrameGroups.frameNumber(frames.names().get(b))));
            List<int[]> bl = new ArrayList<>();
            for (int s = 0; s < m.size(); s += BLOCK) bl.add(m.subList(s, Math.min(m.size(), s + BLOCK)).stream().mapToInt(Integer::intValue).toArray());
            blocks.put(e.getKey(), bl);
        }
        boolean[] badAll = badFrames(all, frames);
        double lowest = Double.POSITIVE_INFINITY;
        for (double v : score) if (Double.isFinite(v)) lowest = Math.min(lowest, v);
        if (lowest == Double.POSITIVE_INFINITY) return new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] aurocs = new double[BOOTSTRAP], kept = new double[BOOTSTRAP];
        int used = 0;
        // within each recording when every recording has 2 blocks or more; otherwise (short recordings, or one labelled
        // frame per recording) the blocks of all recordings are drawn together: a recording of one block resampled
        // within itself would always be itself, and the interval would look certain when it is not
        boolean within = blocks.values().stream().allMatch(bl -> bl.size() >= 2);
        List<List<int[]>> strata = new ArrayList<>();
        if (within) {
            strata.addAll(blocks.values());
        } else {
            List<int[]> pooled = new ArrayList<>();
            blocks.values().forEach(pooled::addAll);
            strata.add(pooled);
        }
        for (int b = 0; b < BOOTSTRAP; b++) {
            List<Integer> sample = new ArrayList<>();
            for (List<int[]> bl : strata) {
                for (int j = 0; j < bl.size(); j++) for (int i : bl.get(rnd.nextInt(bl.size()))) sample.add(i);
            }
            int m = sample.size();
            double[] s = new double[m];
            boolean[] bad = new boolean[m];
            double[] miou = new double[m];
            for (int k = 0; k < m; k++) {
                int i = sample.get(k);
                s[k] = Double.isFinite(score[i]) ? score[i] : lowest - 1;
                bad[k] = badAll[i];
                miou[k] = frames.miou()[i];
            }
            double a = AucStatistics.auroc(s, bad);
            if (Double.isNaN(a)) continue;
            aurocs[used] = a;
            Integer[] o = new Integer[m];
            for (int k = 0; k < m; k++) o[k] = k;
            Arrays.sort(o, (x, y) -> Double.compare(s[y], s[x]));
            int top = Math.max(1, (int) Math.round(0.10 * m));
            double sum = 0;
            for (int k = 0; k < top; k++) sum += miou[o[k]];
            kept[used] = sum / top;
            used++;
        }
        if (used == 0) return new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
        double[] a = Arrays.copyOf(aurocs, used), k = Arrays.copyOf(kept, used);
        Arrays.sort(a);
        Arrays.sort(k);
        return new double[] {RecordingScale.quantile(a, 0.025), RecordingScale.quantile(a, 0.975), RecordingScale.quantile(k, 0.025),
                RecordingScale.quantile(k, 0.975)};
    }

    /** The CSV of {@link #run}: one row per scope and score. */
    public static String csv(List<Result> results) {
        StringBuilder b = new StringBuilder("scope,score,frames,bad,all_miou,auroc,auroc_low,auroc_high,aupr,kept_miou10_low,kept_miou10_high");
        for (double x : BUDGETS) {
            String p = pct(x);
            b.append(",bad_share_").append(p).append(",recall_").append(p).append(",kept_miou_").append(p).append(",oracle_miou_").append(p);
        }
        b.append('\n');
        for (Result r : results) {
            b.append(ScoresCsv.field(r.scope)).append(',').append(r.score).append(',').append(r.frames).append(',').append(r.bad);
            for (double v : new double[] {r.allMiou, r.auroc, r.aurocLow, r.aurocHigh, r.aupr, r.keptMiou10Low, r.keptMiou10High}) {
                b.append(',').append(ScoresCsv.number(v));
            }
            for (Capture c : r.captures) {
                for (double v : new double[] {c.badShare, c.recall, c.keptMiou, c.oracleMiou}) b.append(',').append(ScoresCsv.number(v));
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** A Markdown table of the pooled and within rows. */
    public static String markdown(List<Result> results) {
        StringBuilder b = new StringBuilder();
        b.append("| scope | frame score | frames (bad) | AUROC [95% CI] | AUPR | bad share in top 10% | top 10% mean mIoU [95% CI] | all | oracle top 10% |\n");
        b.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Result r : results) {
            if (!r.scope.equals("pooled") && !r.scope.equals("within")) continue;
            Capture c = r.at(0.10);
            b.append(String.format(java.util.Locale.ROOT, "| %s | %s | %d (%d) | %s | %s | %s | %s | %.3f | %.3f |%n", r.scope, r.score, r.frames, r.bad,
                    r.scope.equals("pooled") ? String.format(java.util.Locale.ROOT, "%.3f [%.3f, %.3f]", r.auroc, r.aurocLow, r.aurocHigh)
                            : String.format(java.util.Locale.ROOT, "%.3f (mean of recordings)", r.auroc),
                    f3(r.aupr), f3(c.badShare),
                    r.scope.equals("pooled") ? String.format(java.util.Locale.ROOT, "%.3f [%.3f, %.3f]", c.keptMiou, r.keptMiou10Low, r.keptMiou10High)
                            : f3(c.keptMiou),
                    r.allMiou, c.oracleMiou));
        }
        return b.toString();
    }

    private static String f3(double v) {
        return Double.isFinite(v) ? String.format(java.util.Locale.ROOT, "%.3f", v) : "n/a";
    }

    private static String pct(double x) {
        return (x * 100 == Math.rint(x * 100) ? Integer.toString((int) Math.rint(x * 100)) : Double.toString(x * 100)) + "pct";
    }
}
