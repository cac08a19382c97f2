package dev.segsa.score;

import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Latency histograms (HdrHistogram, 3 significant digits, 1 us to 1 h) of named stages, e.g.
 * decode, forward, post-forward, SA, LSA and the whole frame. Recording allocates nothing once a stage exists.
 * Thread-safe: each method holds this object's lock (one scorer records, others may read).
 */
public final class StageLatency {
    public static final String DECODE = "decode";
    /** The model's forward alone (TorchScript {@code module.forward} and the output contract checks). */
    public static final String FORWARD = "forward";
    /** What segsa does between the forward and the SA kernels: the fused logits pass (argmax, non-finite checks, uncertainty). */
    public static final String POST_FORWARD = "post-forward";
    /** The MDSA kernel, the frame's statistics and, when asked for, the segments and risk: every SA step but LSA. */
    public static final String SA = "sa";
    /** The LSA (KDE) kernel alone, recorded only for the frames that got LSA (its count says how many). */
    public static final String LSA = "lsa";
    public static final String FRAME = "frame";

    private static final long LOWEST = 1_000L;
    private static final long HIGHEST = 3_600_000_000_000L;

    private final Map<String, Histogram> stages = new LinkedHashMap<>();

    /** One stage's figures, in milliseconds. */
    public record Stage(String name, long count, double meanMs, double p50Ms, double p99Ms, double p999Ms, double maxMs) {}

    public synchronized void record(String stage, long nanos) {
        Histogram h = stages.get(stage);
        if (h == null) {
            h = new Histogram(LOWEST, HIGHEST, 3);
            stages.put(stage, h);
        }
        h.recordValue(Math.max(LOWEST, Math.min(HIGHEST, nanos)));
    }

    /** Records a scored frame's stages and its total. */
    public synchronized void record(FrameResult.StageTimes t) {
        record(DECODE, t.decodeNanos());
        record(FORWARD, t.forwardNanos());
        record(POST_FORWARD, t.postForwardNanos());
        record(SA, t.saNanos());
        if (t.lsaNanos() > 0) record(LSA, t.lsaNanos());
        record(FRAME, t.totalNanos());
    }

    /** Adds every stage of {@code other} into this one. */
    public void add(StageLatency other) {
        Map<String, Histogram> copy = new LinkedHashMap<>();
        synchronized (other) {
            other.stages.forEach((k, v) -> copy.put(k, v.copy()));
        }
        synchronized (this) {
            copy.forEach((k, v) -> {
                Histogram h = stages.get(k);
                if (h == null) stages.put(k, v);
                else h.add(v);
            });
        }
    }

    public synchronized void reset() {
        stages.values().forEach(Histogram::reset);
    }

    public synchronized List<Stage> stages() {
        List<Stage> out = new ArrayList<>();
        stages.forEach((name, h) -> out.add(new Stage(name, h.getTotalCount(), h.getMean() / 1e6,
                h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, h.getValueAtPercentile(99.9) / 1e6,
                h.getMaxValue() / 1e6)));
        return out;
    }

    /** A table: stage, frames, mean, p50, p99, p99.9, max (ms). */
    public String table() {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-12s %7s %9s %9s %9s %9s %9s%n", "stage", "frames",
                "mean ms", "p50", "p99", "p99.9", "max"));
        for (Stage s : stages()) {
            b.append(String.format(Locale.ROOT, "%-12s %7d %9.2f %9.2f %9.2f %9.2f %9.2f%n", s.name(), s.count(), s.meanMs(),
                    s.p50Ms(), s.p99Ms(), s.p999Ms(), s.maxMs()));
        }
        return b.toString().stripTrailing();
    }
}
