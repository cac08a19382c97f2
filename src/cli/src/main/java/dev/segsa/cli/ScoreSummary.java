package dev.segsa.cli;

import dev.segsa.scores.ClassGroups;
import dev.segsa.scores.ScoresCsv;
import dev.segsa.score.StageLatency;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The table printed after scoring: per class and group, images, mean SA and mean IoU. */
final class ScoreSummary {
    private ScoreSummary() {}

    static String table(List<ScoresCsv.Row> rows, List<String> classNames, ClassGroups groups) {
        List<String> keys = new ArrayList<>(classNames);
        groups.groups().forEach(g -> keys.add(g.name()));
        int w = 5;
        for (String k : keys) w = Math.max(w, k.length());
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-" + w + "s %7s %12s %12s %9s%n",
                "class", "images", "mean mdsa", "mean lsa", "mean iou"));
        for (String k : keys) {
            int n = 0;
            double[] sum = new double[3];
            int[] cnt = new int[3];
            for (ScoresCsv.Row r : rows) {
                if (!r.className().equals(k)) continue;
                n++;
                double[] v = {r.mdsa(), r.lsa(), r.iou()};
                for (int i = 0; i < 3; i++) if (Double.isFinite(v[i])) { sum[i] += v[i]; cnt[i]++; }
            }
            if (n == 0) continue;
            b.append(String.format(Locale.ROOT, "%-" + w + "s %7d %12s %12s %9s%n", k, n, fmt(sum[0], cnt[0]),
                    fmt(sum[1], cnt[1]), fmt(sum[2], cnt[2])));
        }
        return b.toString().stripTrailing();
    }

    /**
     * Latency per stage (ms per frame: mean and p50 / p99 / p99.9 / max) and segsa's cost (the
     * post-forward pass and the SA kernels) as a share of the model's forward. "read" is file decoding on the decoder thread, overlapped with scoring when
     * {@code overlapped}; decode is the conversion to the model's input.
     */
    static String stages(StageLatency latency, boolean overlapped) {
        StringBuilder b = new StringBuilder(latency.table()).append('\n');
        double forward = 0, post = 0, sa = 0, lsa = 0, frame = 0, read = 0;
        long frames = 0;
        for (StageLatency.Stage s : latency.stages()) {
            double total = s.meanMs() * s.count();
            switch (s.name()) {
                case StageLatency.FORWARD -> forward = total;
                case StageLatency.POST_FORWARD -> post = total;
                case StageLatency.SA -> sa = total;
                case StageLatency.LSA -> lsa = total;
                case StageLatency.FRAME -> { frame = total; frames = s.count(); }
                case "read" -> read = total;
                default -> { }
            }
        }
        double wall = overlapped ? Math.max(frame, read) : frame + read;
        b.append(String.format(Locale.ROOT, "%.2f frames/s (read %s); post-forward + SA time is %.1f%% of the forward",
                wall > 0 ? 1000.0 * frames / wall : 0, overlapped ? "overlapped with scoring" : "then score",
                forward > 0 ? 100 * (post + sa) / forward : 0));
        if (lsa > 0) b.append(String.format(Locale.ROOT, "; LSA adds %.1f%% of it", forward > 0 ? 100 * lsa / forward : 0));
        return b.toString();
    }

    private static String fmt(double sum, int n) {
        if (n == 0) return "-";
        double v = sum / n;
        if (Math.abs(v) < 0.00005) v = 0;  // a z-scored mean of about zero prints 0.0000, not -0.0000
        return String.format(Locale.ROOT, "%.4f", v);
    }
}
