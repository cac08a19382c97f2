package dev.segsa.stream;

import com.tdunning.math.stats.MergingDigest;
import com.tdunning.math.stats.TDigest;
import dev.segsa.error.SegsaException;
import dev.segsa.score.FrameResult;

import java.util.List;
import java.util.Locale;

/**
 * Decides, frame by frame as they arrive, which frames a logger keeps (see {@link SelectorConfig}):
 * each scored frame's {@link FrameResult} (and its time, and optionally a compact descriptor and
 * its size in bytes) goes in, a {@link Decision} with its reason comes out at once. Deterministic:
 * the same frames, times and configuration give the same decisions (the quantiles are t-digests,
 * which have no randomness). Memory is bounded: two t-digests per budget-quantile trigger, the
 * {@code recent} kept descriptors, and the times (and sizes) of the frames seen and kept within the
 * budget's horizon (16 bytes a frame: 144 KB for 300 s at 30 frames/s). Not thread-safe: one
 * thread offers frames.
 *
 * <p>Order of the rules for one frame: a frame that was not scored (non-finite features or logits)
 * is dropped; each trigger reads its score (NaN: does not apply), compares it with its fixed
 * threshold or, for budget triggers, with the (1 - share) quantile of its recent scores (none in the
 * warm-up), and is silent while cooling down; the triggers combine (any / all); a frame that would
 * be kept is dropped as a near-duplicate when its descriptor is close to a recently kept one, and
 * as over budget when the frames (or bytes) kept within the horizon have reached the allowance:
 * share x frames seen in the horizon (or rate x time) plus the burst. Then the frame's scores enter the quantiles.
 */
public final class StreamSelector {
    private final SelectorConfig config;
    private final List<Trigger> triggers;
    private final int[] classIndex;
    private final Quantile[] quantiles;
    private final double[] silentUntil;
    private final long[] recentDescriptors;
    private final long[] recentFrames;
    private int recentCount, recentNext;
    /** Times of the frames seen and of the frames kept (and their bytes) within the last horizon. */
    private final TimeWindow seenWindow = new TimeWindow(), keptWindow = new TimeWindow();
    private double lastTime = Double.NaN, firstTime = Double.NaN;
    private long seen, scored, skipped, kept, budgetDrops, duplicateDrops;
    private double bytesSeen;
    private long bytesFrames;
    private List<String> classNames;

    /** One frame's decision. */
    public record Decision(long frame, double seconds, boolean keep, String rule, double score, double threshold, String reason) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "frame %d at %.3f s: %s by %s (score %.4g, threshold %.4g): %s", frame, seconds,
                    keep ? "keep" : "drop", rule, score, threshold, reason);
        }
    }

    /** Counts so far; {@code achievedShare} = kept / seen (skipped frames count as seen). */
    public record Stats(long seen, long scored, long skipped, long kept, long budgetDrops, long duplicateDrops, double achievedShare,
                        double keptPerMinute, double seconds) {}

    public StreamSelector(SelectorConfig config) {
        this.config = config;
        this.triggers = config.triggers();
        int n = triggers.size();
        this.classIndex = new int[n];
        java.util.Arrays.fill(classIndex, -1);
        this.quantiles = new Quantile[n];
        for (int i = 0; i < n; i++) if (triggers.get(i).usesBudgetQuantile()) quantiles[i] = new Quantile(config.budget().horizonSeconds());
        this.silentUntil = new double[n];
        java.util.Arrays.fill(silentUntil, Double.NEGATIVE_INFINITY);
        this.recentDescriptors = new long[config.recent()];
        this.recentFrames = new long[config.recent()];
    }

    public SelectorConfig config() {
        return config;
    }

    /**
     * Frames the caller did not score (e.g. skipped because scoring was slower than the camera):
     * they count as seen for a share budget.
     */
    public void skipped(long frames) {
        if (frames < 0) throw new IllegalArgumentException("skipped frames must be >= 0, got " + frames);
        skipped += frames;
        seen += frames;
        double t = Double.isNaN(lastTime) ? 0 : lastTime;
        for (long i = 0; i < frames; i++) seenWindow.add(t, 0);
    }

    /** {@link #offer(FrameResult, double, long, boolean, long)} without a descriptor or a size. */
    public Decision offer(FrameResult r, double seconds) {
        return offer(r, seconds, 0, false, 0);
    }

    /**
     * @param seconds       the frame's time (non-decreasing along the stream)
     * @param descriptor    a 64-bit descriptor of the frame for the diversity gate (e.g. {@link DHash})
     * @param hasDescriptor whether {@code descriptor} is given
     * @param bytes         the frame's size as it would be kept (for a bytes-per-hour budget), 0 if unknown
     */
    public Decision offer(FrameResult r, double seconds, long descriptor, boolean hasDescriptor, long bytes) {
        if (!Double.isFinite(seconds)) throw new IllegalArgumentException("frame time must be finite, got " + seconds);
        if (!Double.isNaN(lastTime) && seconds < lastTime) {
            throw new SegsaException(String.format(Locale.ROOT, "frame times must not go back: %.6f s after %.6f s", seconds, lastTime));
        }
        if (classNames == null) classNames = r.classNames();
        long frame = seen;
        seen++;
        if (Double.isNaN(firstTime)) firstTime = seconds;
        lastTime = seconds;
        if (bytes > 0) {
            bytesSeen += bytes;
            bytesFrames++;
        }
        SelectorConfig.Budget budget = config.budget();
        seenWindow.add(seconds, bytes);
        seenWindow.evictBefore(seconds - budget.horizonSeconds());
        keptWindow.evictBefore(seconds - budget.horizonSeconds());
        if (!r.scored()) return new Decision(frame, seconds, false, "not-scored", Double.NaN, Double.NaN, "NaN/Inf features or logits");
        scored++;
        double share = effectiveShare();
        int n = triggers.size();
        double[] scores = new double[n], thresholds = new double[n];
        boolean[] fires = new boolean[n];
        int applicable = 0, firing = 0, first = -1;
        for (int i = 0; i < n; i++) {
            Trigger t = triggers.get(i);
            if (t.score().perClass() && classIndex[i] < 0) classIndex[i] = t.classIndex(classNames);
            double s = t.read(r, classIndex[i]);
            scores[i] = s;
            double thr = t.threshold();
            if (t.usesBudgetQuantile()) {
                thr = scored <= budget.warmupFrames() ? Double.NaN : quantiles[i].quantile(1 - share, seconds);
            }
            thresholds[i] = thr;
            if (Double.isNaN(s)) continue;
            applicable++;
            fires[i] = !Double.isNaN(thr) && s > thr && seconds >= silentUntil[i];
            if (fires[i]) {
                firing++;
                if (first < 0) first = i;
            }
        }
        boolean want = config.combine() == SelectorConfig.Combine.ANY ? firing > 0 : applicable > 0 && firing == applicable;
        Decision d;
        if (!want) {
            int shown = strongest(scores, thresholds);
            String reason;
            if (applicable == 0) reason = "no trigger applies to this frame";
            else if (scored <= budget.warmupFrames() && shown >= 0 && Double.isNaN(thresholds[shown])) {
                reason = "warm-up (" + scored + " of " + budget.warmupFrames() + " frames)";
            } else reason = config.combine() == SelectorConfig.Combine.ANY ? "no trigger fired" : firing + " of " + applicable + " triggers fired";
            d = new Decision(frame, seconds, false, shown < 0 ? "-" : triggers.get(shown).name(), shown < 0 ? Double.NaN : scores[shown],
                    shown < 0 ? Double.NaN : thresholds[shown], reason);
        } else {
            int rule = first;
            String name = config.combine() == SelectorConfig.Combine.ALL ? "all" : triggers.get(rule).name();
            int dup = hasDescriptor ? nearDuplicate(descriptor) : -1;
            double cost = budget.kind() == SelectorConfig.Budget.Kind.BYTES_PER_HOUR ? Math.max(1, bytes > 0 ? bytes : meanBytes()) : 1;
            double allowance = allowance(seconds);
            if (dup >= 0) {
                duplicateDrops++;
                d = new Decision(frame, seconds, false, name, scores[rule], thresholds[rule], String.format(Locale.ROOT,
                        "near-duplicate of kept frame %d (Hamming distance %d <= %d)", recentFrames[dup],
                        Long.bitCount(descriptor ^ recentDescriptors[dup]), config.maxHamming()));
            } else if (spent() + cost > allowance + 1e-9) {
                budgetDrops++;
                d = new Decision(frame, seconds, false, name, scores[rule], thresholds[rule], String.format(Locale.ROOT,
                        "over budget (%.4g of %.4g %s spent in the last %.0f s)", spent(), allowance,
                        budget.kind() == SelectorConfig.Budget.Kind.BYTES_PER_HOUR ? "bytes" : "frames", budget.horizonSeconds()));
            } else {
                keptWindow.add(seconds, (long) cost);
                kept++;
                for (int i = 0; i < n; i++) {
                    if (fires[i] && triggers.get(i).cooldownSeconds() > 0) silentUntil[i] = seconds + triggers.get(i).cooldownSeconds();
                }
                if (hasDescriptor) remember(descriptor, frame);
                d = new Decision(frame, seconds, true, name, scores[rule], thresholds[rule],
                        firing + " of " + applicable + " triggers fired");
            }
        }
        for (int i = 0; i < n; i++) if (quantiles[i] != null && !Double.isNaN(scores[i])) quantiles[i].add(scores[i], seconds);
        return d;
    }

    /** The share of frames the quantile triggers aim at, from the budget and the rate and sizes seen so far. */
    double effectiveShare() {
        SelectorConfig.Budget b = config.budget();
        if (b.kind() == SelectorConfig.Budget.Kind.SHARE) return b.value();
        double elapsed = lastTime - firstTime;
        double fps = elapsed > 0 ? (seen - 1) / elapsed : 30;
        double share = b.kind() == SelectorConfig.Budget.Kind.FRAMES_PER_MINUTE ? b.value() / 60.0 / fps
                : b.value() / 3600.0 / fps / Math.max(1, meanBytes());
        return Math.min(1, Math.max(1e-6, share));
    }

    private double meanBytes() {
        return bytesFrames == 0 ? 0 : bytesSeen / bytesFrames;
    }

    /**
     * What may be kept within the horizon ending now: share x frames seen in it, or the rate x the
     * time it covers (at most the horizon), plus the burst (frames, or frames' worth of bytes).
     */
    private double allowance(double seconds) {
        SelectorConfig.Budget b = config.budget();
        double covered = Math.min(b.horizonSeconds(), seconds - firstTime);
        return switch (b.kind()) {
            case SHARE -> b.value() * seenWindow.count() + b.burst();
            case FRAMES_PER_MINUTE -> b.value() / 60.0 * covered + b.burst();
            case BYTES_PER_HOUR -> b.value() / 3600.0 * covered + b.burst() * Math.max(1, meanBytes());
        };
    }

    /** Kept within the horizon: frames, or bytes for a bytes budget. */
    private double spent() {
        return config.budget().kind() == SelectorConfig.Budget.Kind.BYTES_PER_HOUR ? keptWindow.bytes() : keptWindow.count();
    }

    /** A growable ring of (time, bytes) entries, evicted from the old end: the frames of the last horizon. */
    private static final class TimeWindow {
        private double[] times = new double[64];
        private long[] sizes = new long[64];
        private int head, count;
        private long bytes;

        void add(double t, long b) {
            if (count == times.length) {
                double[] nt = new double[times.length * 2];
                long[] ns = new long[times.length * 2];
                for (int i = 0; i < count; i++) {
                    nt[i] = times[(head + i) % times.length];
                    ns[i] = sizes[(head + i) % times.length];
                }
                times = nt;
                sizes = ns;
                head = 0;
            }
            int at = (head + count) % times.length;
            times[at] = t;
            sizes[at] = b;
            count++;
            bytes += b;
        }

        void evictBefore(double t) {
            while (count > 0 && times[head] < t) {
                bytes -= sizes[head];
                head = (head + 1) % times.length;
                count--;
            }
        }

        int count() {
            return count;
        }

        long bytes() {
            return bytes;
        }
    }

    /** The trigger closest to firing (largest score - threshold), for the reason of a drop; -1 when none applies. */
    private static int strongest(double[] scores, double[] thresholds) {
        int best = -1;
        double margin = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < scores.length; i++) {
            if (Double.isNaN(scores[i])) continue;
            double m = Double.isNaN(thresholds[i]) ? Double.NEGATIVE_INFINITY : scores[i] - thresholds[i];
            if (best < 0 || m > margin) {
                best = i;
                margin = m;
            }
        }
        return best;
    }

    private int nearDuplicate(long descriptor) {
        if (config.maxHamming() < 0) return -1;
        int best = -1, bestDistance = Integer.MAX_VALUE;
        for (int i = 0; i < recentCount; i++) {
            int dist = Long.bitCount(descriptor ^ recentDescriptors[i]);
            if (dist <= config.maxHamming() && dist < bestDistance) {
                best = i;
                bestDistance = dist;
            }
        }
        return best;
    }

    private void remember(long descriptor, long frame) {
        recentDescriptors[recentNext] = descriptor;
        recentFrames[recentNext] = frame;
        recentNext = (recentNext + 1) % recentDescriptors.length;
        recentCount = Math.min(recentCount + 1, recentDescriptors.length);
    }

    public Stats stats() {
        double elapsed = Double.isNaN(firstTime) ? 0 : lastTime - firstTime;
        return new Stats(seen, scored, skipped, kept, budgetDrops, duplicateDrops, seen == 0 ? 0 : (double) kept / seen,
                elapsed > 0 ? kept / (elapsed / 60) : Double.NaN, elapsed);
    }

    /** The current threshold of the i-th trigger (its fixed one, or the budget quantile; NaN during warm-up). */
    public double threshold(int trigger) {
        Trigger t = triggers.get(trigger);
        if (!t.usesBudgetQuantile()) return t.threshold();
        if (scored <= config.budget().warmupFrames()) return Double.NaN;
        return quantiles[trigger].quantile(1 - effectiveShare(), lastTime);
    }

    /**
     * The score quantile over a sliding horizon: two t-digests, each covering half of the horizon;
     * the older is dropped when the newer has covered its half, so the quantile always rests on the
     * last 0.5 to 1 horizon of frames.
     */
    private static final class Quantile {
        private static final double COMPRESSION = 200;
        private final double half;
        private TDigest current = new MergingDigest(COMPRESSION), previous;
        private double currentStart = Double.NaN;

        Quantile(double horizonSeconds) {
            this.half = horizonSeconds / 2;
        }

        void add(double value, double seconds) {
            rotate(seconds);
            if (Double.isNaN(currentStart)) currentStart = seconds;
            current.add(value);
        }

        private void rotate(double seconds) {
            if (!Double.isNaN(currentStart) && seconds - currentStart >= half) {
                previous = current;
                current = new MergingDigest(COMPRESSION);
                currentStart = seconds;
            }
        }

        double quantile(double q, double seconds) {
            rotate(seconds);
            if (previous == null || previous.size() == 0) return current.size() == 0 ? Double.NaN : current.quantile(q);
            if (current.size() == 0) return previous.quantile(q);
            MergingDigest both = new MergingDigest(COMPRESSION);
            both.add(List.of(previous, current));
            return both.quantile(q);
        }
    }
}
