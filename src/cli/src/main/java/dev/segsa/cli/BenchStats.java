package dev.segsa.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * One thread count's repeats in segsa bench: the median and the spread (min-max) of frames/s and of the overhead, and
 * {@code typical}, the repeat whose frames/s is the (lower) median, whose figures stand for the thread count where one
 * repeat's figures are needed (the stage latencies, the kernel and peer rates).
 */
record BenchStats(int threads, List<BenchCommand.Row> repeats, BenchCommand.Row typical, Spread framesPerSecond, Spread overhead,
                  Spread lsaPixelsPerSecond) {

    /**
     * Median, min and max of some repeats' values. The median is always one repeat's value (the lower of the two middle
     * ones for an even count), as {@code typical} is: a mean of two repeats would stand beside figures of only one of
     * them (an engine faster than its own bare forward, and yet an overhead).
     */
    record Spread(double median, double min, double max) {
        static Spread of(double[] values) {
            double[] v = values.clone();
            Arrays.sort(v);
            int n = v.length;
            double median = v[(n - 1) / 2];
            return new Spread(median, v[0], v[n - 1]);
        }

        /** Whether the two ranges overlap (their difference is within the spread). */
        boolean overlaps(Spread o) {
            return min <= o.max && o.min <= max;
        }
    }

    /** The rows (thread counts in turn, repeat after repeat) grouped per thread count, in the order of {@code counts}. */
    static List<BenchStats> of(List<BenchCommand.Row> rows, List<Integer> counts) {
        List<BenchStats> out = new ArrayList<>();
        for (int t : counts.stream().distinct().toList()) {
            List<BenchCommand.Row> mine = rows.stream().filter(r -> r.threads() == t).toList();
            List<BenchCommand.Row> byRate = new ArrayList<>(mine);
            byRate.sort(Comparator.comparingDouble(BenchCommand.Row::framesPerSecond));
            BenchCommand.Row typical = byRate.get((byRate.size() - 1) / 2);
            out.add(new BenchStats(t, mine, typical, Spread.of(mine.stream().mapToDouble(BenchCommand.Row::framesPerSecond).toArray()),
                    Spread.of(mine.stream().mapToDouble(BenchCommand.Row::overhead).toArray()),
                    Spread.of(mine.stream().mapToDouble(BenchCommand.Row::lsaPixelsPerSecond).toArray())));
        }
        return out;
    }
}
