package dev.segsa.evaluate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Frame scores put on one scale across recordings. Recordings differ in score level for reasons
 * that have nothing to do with errors (time of day, camera, place), so a ranking that pools them
 * can prefer the recording with fewer bad frames. A recording is {@link FrameGroups#sequenceOf}
 * of the frame's name. NaN scores stay NaN and are left out of every recording's statistics.
 */
public enum RecordingScale {
    /** The scores as they are (pooled ranking). */
    NONE("none"),
    /** Each frame's rank within its recording, as a share in (0, 1] (ties averaged). */
    RANK("rank"),
    /** Each frame's score standardised by its recording's median and interquartile range. */
    STANDARDIZE("standardize");

    private final String key;

    RecordingScale(String key) {
        this.key = key;
    }

    public String key() {
        return key;
    }

    public static RecordingScale of(String key) {
        for (RecordingScale s : values()) if (s.key.equals(key)) return s;
        throw new IllegalArgumentException("unknown per-recording scale '" + key + "' (none, rank, standardize)");
    }

    /** The scores of {@code scores} (frame name -> score, in any order) on this scale; the same keys, in the same order. */
    public Map<String, Double> apply(Map<String, Double> scores) {
        if (this == NONE) return new LinkedHashMap<>(scores);
        Map<String, List<String>> byRecording = new LinkedHashMap<>();
        for (var e : scores.entrySet()) {
            if (Double.isFinite(e.getValue())) byRecording.computeIfAbsent(FrameGroups.sequenceOf(e.getKey()), k -> new ArrayList<>()).add(e.getKey());
        }
        Map<String, Double> scaled = new java.util.HashMap<>();
        for (List<String> frames : byRecording.values()) {
            double[] v = frames.stream().mapToDouble(scores::get).toArray();
            if (this == RANK) {
                double[] ranks = AucStatistics.ranks(v);
                for (int i = 0; i < v.length; i++) scaled.put(frames.get(i), ranks[i] / v.length);
            } else {
                double[] sorted = v.clone();
                Arrays.sort(sorted);
                double median = quantile(sorted, 0.5), iqr = quantile(sorted, 0.75) - quantile(sorted, 0.25);
                double spread = iqr > 0 ? iqr : 1;
                for (int i = 0; i < v.length; i++) scaled.put(frames.get(i), (v[i] - median) / spread);
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (String f : scores.keySet()) out.put(f, scaled.getOrDefault(f, Double.NaN));
        return out;
    }

    /** numpy's linear quantile (commons-math's R-7) of sorted values, p in [0, 1]. */
    static double quantile(double[] sorted, double p) {
        return p == 0 ? sorted[0] : new org.apache.commons.math3.stat.descriptive.rank.Percentile()
                .withEstimationType(org.apache.commons.math3.stat.descriptive.rank.Percentile.EstimationType.R_7).evaluate(sorted, 100 * p);
    }
}
