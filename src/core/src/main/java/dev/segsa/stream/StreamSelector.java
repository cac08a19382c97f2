package dev.segsa.stream;

import com.tdunning.math.stats.MergingDigest;
import com.tdunning.math.stats.TDigest;
import dev.segsa.score.FrameResult;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Decides which frames a logger keeps (see {@link SelectorConfig}), over decision windows: each
 * scored frame's {@link FrameResult} (its time, its source, optionally a {@link FrameDescriptor} and
 * its size in bytes) goes in and waits in the current window; when the window closes, every frame of it
 * gets its {@link Decision}. One allowance is shared by every trigger and every source (camera).
 *
 * <h2>The decision of a window</h2>
 * A window closes when a frame arrives {@code windowSeconds} or more after the window's first frame
 * (that frame opens the next window), when it holds {@code maxPending} frames, on {@link #advance}
 * past its end, or on {@link #flush}. The worst-case delay of a decision is therefore
 * {@code windowSeconds} of stream time plus one frame interval (or {@code maxPending} frames).
 * Then, over the window's frames:
 * <ol>
 *   <li>Each trigger reads its score (NaN: does not apply). A fixed-threshold trigger fires when its
 *       score is above its threshold (not within {@code cooldownSeconds} of a frame it kept). A
 *       budget trigger ranks: its threshold is the (1 - s) quantile of its scores over the last
 *       {@link #QUANTILE_HORIZONS} horizons (the window's included), none while fewer than
 *       {@code warmupFrames} scores were seen; s is the budget's share raised by the credit
 *       carried (share x (1 + credit / one horizon's allowance)), so a quiet stretch's credit is
 *       spent on the best frames that follow.</li>
 *   <li>Candidates (under "any": a fixed trigger fires or a budget trigger applies; under "all":
 *       every applicable fixed trigger fires) are ordered exactly: frames a fixed trigger fires for
 *       first, then by the trigger's percentile of the score (max over triggers under "any", min
 *       under "all"; with one trigger this is the score's own order), ties by score then frame.</li>
 *   <li>With a per-source minimum, each source that is owed a frame gets its best candidates
 *       first.</li>
 *   <li>Candidates above their thresholds are kept in that order while the credit allows (see
 *       below; a near-duplicate of a kept descriptor is passed over).</li>
 *   <li>Pacing: credit beyond {@link #CARRY} of one horizon's allowance is spent on the window's
 *       best remaining candidates, above threshold or not; so is all of it when the stream ends.</li>
 * </ol>
 *
 * <h2>The budget</h2>
 * The credit accrues with the stream: {@code share} per frame seen (skipped frames included), or
 * the rate x the stream time for frames-per-minute and bytes-per-hour budgets; a keep costs one
 * frame (or its bytes). What a window does not spend carries to the next. A keep needs credit +
 * {@code burst} - 1 >= its cost (with the default burst of 1 the kept count never runs ahead of
 * {@code share} x frames seen), and every horizon of {@code horizonSeconds} that holds it must
 * stay within its allowance (share x the frames seen in it, or the rate x its time) plus the
 * burst: the horizons ending at the frame and at later kept frames are checked, which are the
 * fullest ones. So a quiet stretch's credit can be spent by a surprising one only within a
 * horizon, and credit beyond {@link #CARRY} of one horizon's allowance is spent at once; over a
 * long run the kept share is the budget less at most that carry (plus the credit left when the
 * stream ends in a window too short to spend it). The top-k of a window is exact where the credit
 * binds ("no credit yet" names a frame the credit refused); where a horizon's own bound binds at a
 * frame's time, a better frame may be passed over ("over budget") for a later one that fits.
 *
 * <p>Deterministic: the same frames, times, sources and configuration give the same decisions
 * (t-digests have no randomness). Memory is bounded: one t-digest pair per trigger, the pending
 * window (at most {@code maxPending} frames' scores), the {@code recent} kept descriptors and the
 * times of the frames seen (16 bytes a frame) and kept (24 bytes) within two horizons. Frame
 * times should not go back; a time earlier than the last one is taken as the last one (counted in
 * {@link Stats#backwardTimes()}): several cameras' frames arrive slightly out of order. Every
 * public method is synchronized: frames offered from several threads are decided as if offered
 * one after another (in the order the threads got the lock), and the counts stay whole.
 */
public final class StreamSelector {
    /** The thresholds' quantiles rest on the scores of the last this many horizons. */
    public static final double QUANTILE_HORIZONS = 5;

    /** Default most frames a window holds before it closes. */
    public static final int DEFAULT_MAX_PENDING = 4096;

    private final SelectorConfig config;
    private final List<Trigger> triggers;
    private final int[] classIndex;
    private final Quantile[] quantiles;
    private final int maxPending;
    private final List<Pending> window = new ArrayList<>();
    private double windowStart = Double.NaN;
    /** Times of the frames kept by each trigger within its cooldown (for fixed triggers with a cooldown). */
    private final ArrayDeque<Double>[] keptBy;
    private final long[] recentDescriptors;
    private final long[] recentFrames;
    private int recentCount, recentNext;
    /** Times and sizes of the frames seen within the last two horizons. */
    private final TimeWindow seenWindow = new TimeWindow();
    /** Times and costs of the frames kept within the last two horizons, in time order, with their prefix sums. */
    private final KeptTimes keptTimes = new KeptTimes();
    private double lastTime = Double.NaN, firstTime = Double.NaN;
    private long seen, scored, skipped, kept, budgetDrops, duplicateDrops, paced, backwardTimes;
    /** The budget accrued over the whole stream less what was kept (frames, or bytes). */
    private double credit;
    private double bytesSeen;
    private long bytesFrames;
    private final Map<Integer, double[]> sources = new HashMap<>();  // source -> {seen, kept, credit owed by the minimum}
    private List<String> classNames;

    /** One frame's decision; {@code source} is the index the frame was offered with. */
    public record Decision(long frame, double seconds, boolean keep, String rule, double score, double threshold, String reason,
                           int source) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "frame %d at %.3f s: %s by %s (score %.4g, threshold %.4g): %s", frame, seconds,
                    keep ? "keep" : "drop", rule, score, threshold, reason);
        }
    }

    /**
     * Counts so far; {@code achievedShare} = kept / seen (skipped frames count as seen).
     * {@code pacedKeeps}: frames kept to spend credit that would otherwise have expired;
     * {@code pending}: frames waiting for their window to close; {@code credit}: unspent allowance
     * (frames, or bytes); {@code backwardTimes}: frames whose time was before the last one.
     */
    public record Stats(long seen, long scored, long skipped, long kept, long budgetDrops, long duplicateDrops, double achievedShare,
                        double keptPerMinute, double seconds, long pacedKeeps, int pending, double credit, long backwardTimes) {}

    /** Per-source counts: frames seen (skipped included) and kept. */
    public record SourceStats(int source, long seen, long kept) {}

    public StreamSelector(SelectorConfig config) {
        this(config, DEFAULT_MAX_PENDING);
    }

    /** @param maxPending most frames a window holds (e.g. the frames a caller can hold for clips) */
    @SuppressWarnings("unchecked")
    public StreamSelector(SelectorConfig config, int maxPending) {
        if (maxPending < 1) throw new IllegalArgumentException("maxPending must be >= 1, got " + maxPending);
        this.config = config;
        this.triggers = config.triggers();
        this.maxPending = maxPending;
        int n = triggers.size();
        this.classIndex = new int[n];
        Arrays.fill(classIndex, -1);
        this.quantiles = new Quantile[n];
        for (int i = 0; i < n; i++) quantiles[i] = new Quantile(QUANTILE_HORIZONS * config.budget().horizonSeconds());
        this.keptBy = new ArrayDeque[n];
        for (int i = 0; i < n; i++) keptBy[i] = new ArrayDeque<>();
        this.recentDescriptors = new long[config.recent()];
        this.recentFrames = new long[config.recent()];
    }

    public SelectorConfig config() {
        return config;
    }

    /** {@link #skipped(int, long)} of source 0. */
    public void skipped(long frames) {
        skipped(0, frames);
    }

    /**
     * Frames the caller did not score (e.g. skipped because scoring was slower than the camera):
     * they count as seen for a share budget (and for the source's minimum), at the last frame's time.
     */
    public synchronized void skipped(int source, long frames) {
        if (frames < 0) throw new IllegalArgumentException("skipped frames must be >= 0, got " + frames);
        if (source < 0) throw new IllegalArgumentException("source must be >= 0, got " + source);
        double t = Double.isNaN(lastTime) ? 0 : lastTime;
        for (long i = 0; i < frames; i++) {
            skipped++;
            seen++;
            account(source, t, 0);
        }
    }

    /**
     * {@link #offer(int, FrameResult, double, FrameDescriptor, long)} of source 0 with no descriptor
     * ({@link FrameDescriptor#NONE}) and no size.
     *
     * @param r       the frame's result
     * @param seconds the frame's time
     * @return the decisions of the frames whose window this frame closed (in frame order; often none)
     * @throws IllegalArgumentException when {@code seconds} is not finite
     * @throws dev.segsa.error.SegsaException when a trigger's class is not one of the result's classes
     */
    public List<Decision> offer(FrameResult r, double seconds) {
        return offer(0, r, seconds, FrameDescriptor.NONE, 0);
    }

    /**
     * Puts a scored frame in the current window.
     *
     * @param source     which camera the frame is from (0 .. ; one allowance for all)
     * @param r          the frame's result: each trigger reads its score from it (an unscored result,
     *                   {@link FrameResult#scored()} false, is dropped)
     * @param seconds    the frame's time (non-decreasing along the stream; see the class comment)
     * @param descriptor the frame's descriptor for the diversity gate (e.g. {@link DHash#descriptor}),
     *                   or {@link FrameDescriptor#NONE}
     * @param bytes      the frame's size as it would be kept (for a bytes-per-hour budget), 0 if unknown
     *                   (then the mean size of the frames seen is its cost; a negative size counts as unknown)
     * @return the decisions of the frames whose window this frame closed (in frame order; often none)
     * @throws IllegalArgumentException when {@code seconds} is not finite or {@code source} is negative
     * @throws NullPointerException when {@code r} or {@code descriptor} is null
     * @throws dev.segsa.error.SegsaException when a trigger's class is not one of the result's classes
     */
    public synchronized List<Decision> offer(int source, FrameResult r, double seconds, FrameDescriptor descriptor, long bytes) {
        if (classNames == null) classNames = r.classNames();
        int n = triggers.size();
        double[] scores = new double[n];
        for (int i = 0; i < n; i++) {
            Trigger t = triggers.get(i);
            if (r.scored() && t.score().perClass() && classIndex[i] < 0) classIndex[i] = t.classIndex(classNames);
            scores[i] = r.scored() ? t.read(r, classIndex[i]) : Double.NaN;
        }
        return offerScores(source, r.scored(), scores, seconds, descriptor, bytes);
    }

    /**
     * Puts a frame in the current window by its triggers' scores (for replaying recorded scores;
     * {@link #offer(int, FrameResult, double, FrameDescriptor, long)} reads them from a result).
     *
     * @param source     which camera the frame is from (0 .. ; one allowance for all)
     * @param scored     whether the frame was scored (false: non-finite features or logits; dropped)
     * @param scores     the score of each trigger, in the configuration's order (NaN: does not apply);
     *                   copied
     * @param seconds    the frame's time (non-decreasing along the stream; see the class comment)
     * @param descriptor the frame's descriptor for the diversity gate (e.g. {@link DHash#descriptor}),
     *                   or {@link FrameDescriptor#NONE}
     * @param bytes      the frame's size as it would be kept (for a bytes-per-hour budget), 0 if unknown
     *                   (then the mean size of the frames seen is its cost; a negative size counts as unknown)
     * @return the decisions of the frames whose window this frame closed (in frame order; often none)
     * @throws IllegalArgumentException when {@code seconds} is not finite, {@code source} is negative or
     *                                  {@code scores} does not hold one score per trigger
     * @throws NullPointerException when {@code scores} or {@code descriptor} is null
     */
    public synchronized List<Decision> offerScores(int source, boolean scored, double[] scores, double seconds, FrameDescriptor descriptor,
                                                   long bytes) {
        Objects.requireNonNull(descriptor, "descriptor (FrameDescriptor.NONE for none)");
        if (!Double.isFinite(seconds)) throw new IllegalArgumentException("frame time must be finite, got " + seconds);
        if (source < 0) throw new IllegalArgumentException("source must be >= 0, got " + source);
        if (scores.length != triggers.size()) {
            throw new IllegalArgumentException("expected " + triggers.size() + " trigger scores, got " + scores.length);
        }
        double t = seconds;
        if (!Double.isNaN(lastTime) && t < lastTime) {
            backwardTimes++;
            t = lastTime;
        }
        List<Decision> out = window.isEmpty() || t < windowStart + config.budget().windowSeconds() ? List.of() : close(false);
        long frame = seen++;
        account(source, t, bytes);
        if (scored) {
            this.scored++;
            for (int i = 0; i < scores.length; i++) if (!Double.isNaN(scores[i])) quantiles[i].add(scores[i], t);
        }
        if (window.isEmpty()) windowStart = t;
        window.add(new Pending(frame, source, seconds, t, scored, scores.clone(), descriptor, bytes));
        if (config.budget().windowSeconds() == 0 || window.size() >= maxPending) {
            List<Decision> more = close(false);
            if (out.isEmpty()) return more;
            out = new ArrayList<>(out);
            out.addAll(more);
        }
        return out;
    }

    /** Closes the window if the stream time {@code seconds} is past its end (a source with no frame for a while). */
    public synchronized List<Decision> advance(double seconds) {
        if (window.isEmpty() || !(seconds >= windowStart + config.budget().windowSeconds())) return List.of();
        return close(false);
    }

    /** The end of the stream: decides the frames still waiting, spending the credit left on the best of them. */
    public synchronized List<Decision> flush() {
        return window.isEmpty() ? List.of() : close(true);
    }

    /** Frames seen so far (skipped ones included): the number the next offered frame gets in its {@link Decision}. */
    public synchronized long seen() {
        return seen;
    }

    /** Frames waiting for their window to close. */
    public synchronized int pending() {
        return window.size();
    }

    /** A frame seen: the clock, the credit, the horizon and the source's counts. */
    private void account(int source, double t, long bytes) {
        SelectorConfig.Budget b = config.budget();
        if (Double.isNaN(firstTime)) firstTime = t;
        double previous = lastTime;
        lastTime = t;
        if (bytes > 0) {
            bytesSeen += bytes;
            bytesFrames++;
        }
        double dt = Double.isNaN(previous) ? 0 : t - previous;
        credit += switch (b.kind()) {
            case SHARE -> b.value();
            case FRAMES_PER_MINUTE -> b.value() / 60.0 * dt;
            case BYTES_PER_HOUR -> b.value() / 3600.0 * dt;
        };
        seenWindow.add(t, bytes);
        double[] s = sources.computeIfAbsent(source, k -> new double[3]);
        s[0]++;
        s[2] += b.minSharePerSource();
    }

    /** A frame waiting in the window, and what its decision is being worked out from. */
    private static final class Pending {
        final long frame;
        final int source;
        final double seconds, time;
        final boolean scored;
        final double[] scores;
        final FrameDescriptor descriptor;
        final long bytes;
        boolean candidate, above, fixedFires, keep;
        double rank, rankScore, threshold;
        int rule = -1, applicable, firing;
        String reason;
        /** Why the budget last refused it: 0 never, {@link #BY_CREDIT} or {@link #BY_HORIZON}; the credit then. */
        int refusedBy;
        double creditWhenRefused;

        Pending(long frame, int source, double seconds, double time, boolean scored, double[] scores, FrameDescriptor descriptor,
                long bytes) {
            this.frame = frame;
            this.source = source;
            this.seconds = seconds;
            this.time = time;
            this.scored = scored;
            this.scores = scores;
            this.descriptor = descriptor;
            this.bytes = bytes;
        }
    }

    private static final Comparator<Pending> BEST_FIRST = Comparator.comparing((Pending p) -> !p.fixedFires)
            .thenComparing(p -> -p.rank).thenComparing(p -> -p.rankScore).thenComparingLong(p -> p.frame);

    private List<Decision> close(boolean end) {
        SelectorConfig.Budget b = config.budget();
        double now = lastTime;
        seenWindow.evictBefore(now - 2 * b.horizonSeconds());
        // prune the kept frames no horizon check can reach again: this window's frames (times >= windowStart >=
        // now - windowSeconds) check horizons back to windowStart - horizonSeconds, spent() reaches now - horizonSeconds,
        // later windows less far; all within two horizons (windowSeconds <= horizonSeconds). Not cut at the tighter
        // now - windowSeconds - horizonSeconds: the prefix sums restart at the oldest frame left, and with fractional
        // costs (a bytes budget's mean size for frames of unknown size) where they start can change their last bits,
        // and so a decision at the margin
        keptTimes.removeBefore(now - 2 * b.horizonSeconds());
        for (int i = 0; i < triggers.size(); i++) {
            double cd = triggers.get(i).cooldownSeconds();
            while (!keptBy[i].isEmpty() && keptBy[i].peekFirst() < windowStart - cd) keptBy[i].removeFirst();
        }
        int n = triggers.size();
        // the thresholds aim above the budget's share by the credit carried: a full carry doubles it, so credit left by a
        // quiet stretch is spent gradually on the best frames that follow rather than all at once when it would expire
        double share = Math.min(1, effectiveShare() * (1 + Math.max(0, credit()) / Math.max(carryCap(), unit())));
        TDigest[] digests = new TDigest[n];
        double[] thresholds = new double[n];
        boolean warm = scored >= b.warmupFrames();
        for (int i = 0; i < n; i++) {
            digests[i] = quantiles[i].snapshot(now);
            Trigger t = triggers.get(i);
            thresholds[i] = !t.usesBudgetQuantile() ? t.threshold()
                    : warm && digests[i] != null && digests[i].size() > 0 ? digests[i].quantile(1 - share) : Double.NaN;
        }
        List<Pending> candidates = new ArrayList<>();
        for (Pending p : window) {
            if (!p.scored) {
                p.reason = "NaN/Inf features or logits";
                continue;
            }
            classify(p, digests, thresholds);
            if (p.candidate) candidates.add(p);
        }
        candidates.sort(BEST_FIRST);
        int windowFrames = window.size();
        // a source owed frames by its minimum gets its best candidates first
        if (b.minSharePerSource() > 0) {
            for (Pending p : candidates) {
                double[] s = sources.get(p.source);
                if (s[2] >= 1 && tryKeep(p, limit(), "the source's minimum share (" + fmt(b.minSharePerSource()) + ")")) {
                    s[2] -= 1;
                }
            }
        }
        int rank = 0;
        for (Pending p : candidates) {
            rank++;
            if (p.keep || !p.above) continue;
            double limit = limit();
            tryKeep(p, limit, String.format(Locale.ROOT, "rank %d of %d in the window, above the threshold", rank, windowFrames));
        }
        // pacing: credit beyond what may carry (half a horizon's allowance) is spent now, on the best remaining candidates
        double carry = end ? 0 : CARRY * carryCap();
        rank = 0;
        for (Pending p : candidates) {
            rank++;
            if (p.keep) continue;
            if (credit() - carry < cost(p) - 1e-9) break;
            if (tryKeep(p, Double.POSITIVE_INFINITY, String.format(Locale.ROOT, "rank %d of %d in the window; kept to pace the budget (%s credit "
                    + "unspent, %s may carry)", rank, windowFrames, fmt(credit()), fmt(carry)))) paced++;
        }
        List<Decision> out = new ArrayList<>(window.size());
        for (Pending p : window) {
            if (!p.keep && p.scored && p.reason == null) {
                if (p.applicable == 0) p.reason = "no trigger applies to this frame";
                else if (!p.candidate) {
                    p.reason = config.combine() == SelectorConfig.Combine.ANY ? "no trigger fired" : p.firing + " of " + p.applicable
                            + " triggers fired";
                } else if (!p.above && !warm) p.reason = "warm-up (" + scored + " of " + b.warmupFrames() + " frames scored); credit carries";
                else if (!p.above) p.reason = "not above the threshold; the credit carries (" + fmt(credit()) + " unspent)";
                else {
                    budgetDrops++;
                    // which bound refused it: the credit (not enough accrued yet for this frame), or a horizon's allowance
                    p.reason = p.refusedBy == BY_CREDIT
                            ? String.format(Locale.ROOT, "no credit yet (%s accrued when it was its turn, this frame costs %s; what "
                                    + "accrues carries to the next window)", fmt(p.creditWhenRefused), fmt(cost(p)))
                            : String.format(Locale.ROOT, "over budget (%s kept of %s allowed in the last %.0f s; credit %s)",
                                    fmt(spent()), fmt(allowance()), b.horizonSeconds(), fmt(credit()));
                }
            }
            if (p.keep) {
                kept++;
                sources.get(p.source)[1]++;
            }
            String rule = p.rule < 0 ? "-" : config.combine() == SelectorConfig.Combine.ALL && p.keep ? "all" : triggers.get(p.rule).name();
            out.add(new Decision(p.frame, p.seconds, p.keep, p.scored ? rule : "not-scored", p.rule < 0 ? Double.NaN : p.scores[p.rule],
                    p.rule < 0 ? Double.NaN : p.threshold, p.reason, p.source));
        }
        window.clear();
        windowStart = Double.NaN;
        return out;
    }

    /** A frame's triggers: which apply, fire, rank it; whether it is a candidate and above threshold. */
    private void classify(Pending p, TDigest[] digests, double[] thresholds) {
        boolean any = config.combine() == SelectorConfig.Combine.ANY;
        int fixedApplicable = 0, fixedFiring = 0, budgetApplicable = 0, budgetAbove = 0;
        double best = any ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
        int bestRule = -1, firstFixed = -1;
        for (int i = 0; i < triggers.size(); i++) {
            double s = p.scores[i];
            if (Double.isNaN(s)) continue;
            p.applicable++;
            Trigger t = triggers.get(i);
            double pct = digests[i] == null || digests[i].size() == 0 ? 0.5 : digests[i].cdf(s);
            if (!t.usesBudgetQuantile()) {
                fixedApplicable++;
                if (s > thresholds[i] && !coolingDown(i, p.time)) {
                    fixedFiring++;
                    p.firing++;
                    if (firstFixed < 0) firstFixed = i;
                    if (any && pct > best) best = pct;
                }
                continue;
            }
            budgetApplicable++;
            boolean above = !Double.isNaN(thresholds[i]) && s > thresholds[i];
            if (above) {
                budgetAbove++;
                p.firing++;
            }
            if (any ? pct > best : pct < best) {
                best = pct;
                bestRule = i;
            }
        }
        if (any) {
            p.fixedFires = fixedFiring > 0;
            p.candidate = p.fixedFires || budgetApplicable > 0;
            p.above = p.fixedFires || budgetAbove > 0;
            p.rule = p.fixedFires ? firstFixed : bestRule;
        } else {
            p.fixedFires = fixedApplicable > 0 && fixedFiring == fixedApplicable;
            p.candidate = p.applicable > 0 && fixedFiring == fixedApplicable;
            p.above = p.candidate && budgetAbove == budgetApplicable;
            p.rule = bestRule >= 0 ? bestRule : firstFixed;
        }
        if (p.rule < 0) {  // nothing fires or ranks: report the first applicable trigger
            for (int i = 0; i < triggers.size() && p.rule < 0; i++) if (!Double.isNaN(p.scores[i])) p.rule = i;
        }
        p.rank = Double.isInfinite(best) ? 0 : best;
        p.rankScore = p.rule < 0 ? 0 : p.scores[p.rule];
        p.threshold = p.rule < 0 ? Double.NaN : thresholds[p.rule];
    }

    private boolean coolingDown(int trigger, double t) {
        double cd = triggers.get(trigger).cooldownSeconds();
        if (cd <= 0) return false;
        for (double k : keptBy[trigger]) if (Math.abs(t - k) < cd) return true;
        return false;
    }

    /** A frame the budget refused because the credit had not accrued its cost, or because a horizon held its allowance. */
    private static final int BY_CREDIT = 1, BY_HORIZON = 2;

    /** Keeps {@code p} if it is not a near-duplicate and its cost fits under {@code limit}; records why not otherwise. */
    private boolean tryKeep(Pending p, double limit, String reason) {
        if (p.keep) return false;
        int dup = p.descriptor.present() ? nearDuplicate(p.descriptor.bits()) : -1;
        if (dup >= 0) {
            if (p.reason == null) {
                duplicateDrops++;
                p.reason = String.format(Locale.ROOT, "near-duplicate of kept frame %d (Hamming distance %d <= %d)", recentFrames[dup],
                        Long.bitCount(p.descriptor.bits() ^ recentDescriptors[dup]), config.maxHamming());
            }
            return false;
        }
        if (p.fixedFires && !triggers.get(p.rule).usesBudgetQuantile() && coolingDown(p.rule, p.time)) {
            p.reason = "cooling down";
            return false;
        }
        double c = cost(p);
        if (c > limit + 1e-9) {
            p.refusedBy = BY_CREDIT;
            p.creditWhenRefused = credit;
            return false;
        }
        if (!fitsHorizons(p.time, c)) {
            p.refusedBy = BY_HORIZON;
            return false;
        }
        p.keep = true;
        p.reason = reason;
        credit -= c;
        keptTimes.add(p.time, c);
        for (int i = 0; i < triggers.size(); i++) {
            Trigger t = triggers.get(i);
            if (!t.usesBudgetQuantile() && t.cooldownSeconds() > 0 && !Double.isNaN(p.scores[i]) && p.scores[i] > t.threshold()) {
                keptBy[i].addLast(p.time);
            }
        }
        if (p.descriptor.present()) remember(p.descriptor.bits(), p.frame);
        return true;
    }

    private double cost(Pending p) {
        return config.budget().kind() == SelectorConfig.Budget.Kind.BYTES_PER_HOUR ? Math.max(1, p.bytes > 0 ? p.bytes : meanBytes()) : 1;
    }

    /** One frame's cost: 1, or the mean frame size for a bytes budget. */
    private double unit() {
        return config.budget().kind() == SelectorConfig.Budget.Kind.BYTES_PER_HOUR ? Math.max(1, meanBytes()) : 1;
    }

    /** Share of a horizon's allowance that may stay unspent; beyond it, credit is spent on the window's best frames. */
    public static final double CARRY = 0.5;

    /** The credit: the horizon's allowance (without the burst) less what it holds; what was not spent within the horizon. */
    private double credit() {
        return credit;
    }

    /** Cost of the frames kept in [from, to). */
    private double keptIn(double from, double to) {
        return keptTimes.sumIn(from, to);
    }

    /**
     * Whether a keep of cost {@code c} at time {@code t} leaves every horizon that holds it within
     * its allowance plus the burst. The horizons checked are those that end at t or at a later kept
     * frame (the fullest ones: a horizon holds the most keeps when it ends at one); they lie in the
     * past, so their frames are known. For a share budget a horizon's allowance is share x the
     * frames seen in it; for a rate, the rate x the horizon (or the time seen, when shorter).
     */
    private boolean fitsHorizons(double t, double c) {
        double h = config.budget().horizonSeconds(), last = t + h;  // the horizons ending in [t, t + h)
        if (t < last && !fitsHorizon(t, h, c)) return false;
        // the kept frames at or after t are the last ones (times are in order)
        for (int i = keptTimes.size() - 1; i >= 0 && keptTimes.time(i) >= t; i--) {
            if (keptTimes.time(i) < last && !fitsHorizon(keptTimes.time(i), h, c)) return false;
        }
        return true;
    }

    /** Whether the horizon (end - h, end] holds a keep of cost {@code c} within its allowance plus the burst. */
    private boolean fitsHorizon(double end, double h, double c) {
        double from = end - h, to = Math.nextUp(end);
        double kept = keptTimes.costBefore(to) - keptTimes.costBefore(Math.nextUp(from)) + c;
        return !(kept > horizonAllowance(Math.nextUp(from), to) + 1e-9);
    }

    /** The allowance of the horizon [from, to) plus the burst. */
    private double horizonAllowance(double from, double to) {
        SelectorConfig.Budget b = config.budget();
        double covered = Math.min(to, lastTime) - Math.max(from, firstTime);
        double base = switch (b.kind()) {
            case SHARE -> b.value() * seenWindow.countBetween(from, to);
            case FRAMES_PER_MINUTE -> b.value() / 60.0 * Math.min(b.horizonSeconds(), Math.max(covered, lastTime - firstTime));
            case BYTES_PER_HOUR -> b.value() / 3600.0 * Math.min(b.horizonSeconds(), Math.max(covered, lastTime - firstTime));
        };
        return base + b.burst() * unit();
    }

    /** What a keep may cost now: within the credit (plus the burst, less one) and the horizon's room. */
    private double limit() {
        return credit + (config.budget().burst() - 1) * unit();
    }

    /** The share of frames the quantile thresholds aim at, from the budget and the rate and sizes seen so far. */
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

    /** The allowance of the horizon ending now, without the burst: share x frames seen in it, or the rate x the time it covers. */
    private double carryCap() {
        SelectorConfig.Budget b = config.budget();
        double covered = Math.min(b.horizonSeconds(), lastTime - firstTime);
        return switch (b.kind()) {
            case SHARE -> b.value() * seenWindow.countFrom(lastTime - b.horizonSeconds());
            case FRAMES_PER_MINUTE -> b.value() / 60.0 * covered;
            case BYTES_PER_HOUR -> b.value() / 3600.0 * covered;
        };
    }

    /** What may be kept within the horizon ending now: {@link #carryCap()} plus the burst (frames, or frames' worth of bytes). */
    private double allowance() {
        return carryCap() + config.budget().burst() * unit();
    }

    /** Kept within the horizon: frames, or bytes for a bytes budget. */
    private double spent() {
        return keptIn(lastTime - config.budget().horizonSeconds(), Double.POSITIVE_INFINITY);
    }

    /** Four significant digits; the rounding residue of the credit's sums (|v| < 1e-9, e.g. -2.2e-16) as 0. */
    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", clean(v));
    }

    private static double clean(double v) {
        return Math.abs(v) < 1e-9 ? 0 : v;
    }

    /**
     * The kept frames' times in order and their costs, with the prefix sums of the costs, kept up to
     * date as frames are kept and pruned: no copy per keep attempt. Frames are kept in time order
     * almost always; one kept behind later ones (a window keeps its best frames first) is inserted
     * in its place, and the sums after it are redone. The sums start from 0 at the oldest frame and
     * are redone when old frames are pruned (once per window that prunes), so each is the same
     * floating-point value as a sum over the frames from the oldest, whatever was pruned before.
     */
    private static final class KeptTimes {
        private double[] times = new double[64], costs = new double[64];
        /** before[i]: the sum of costs[start .. i - 1], in order (before[start] = 0). */
        private double[] before = new double[65];
        private int start, end;

        int size() {
            return end - start;
        }

        /** The i-th frame's time, from the oldest (0 .. size - 1). */
        double time(int i) {
            return times[start + i];
        }

        /** Keeps a frame at time t of cost c: after the frames at or before t. */
        void add(double t, double c) {
            if (end == times.length) makeRoom();
            int at = end;
            while (at > start && times[at - 1] > t) at--;
            System.arraycopy(times, at, times, at + 1, end - at);
            System.arraycopy(costs, at, costs, at + 1, end - at);
            times[at] = t;
            costs[at] = c;
            end++;
            for (int i = at; i < end; i++) before[i + 1] = before[i] + costs[i];
        }

        /** Prunes the frames before t and sums the rest afresh. */
        void removeBefore(double t) {
            if (start == end || !(times[start] < t)) return;
            while (start < end && times[start] < t) start++;
            if (start == end) start = end = 0;
            before[start] = 0;
            for (int i = start; i < end; i++) before[i + 1] = before[i] + costs[i];
        }

        /** The cost of the frames before the first at or after t (by {@link Arrays#binarySearch}, then back over equal times). */
        double costBefore(double t) {
            int i = Arrays.binarySearch(times, start, end, t);
            if (i < 0) i = -i - 1;
            else while (i > start && times[i - 1] == t) i--;
            return before[i];
        }

        /** The cost of the frames in [from, to), summed in time order. */
        double sumIn(double from, double to) {
            double sum = 0;
            for (int i = start; i < end; i++) if (times[i] >= from && times[i] < to) sum += costs[i];
            return sum;
        }

        /** Moves the frames to the front, into arrays twice as long when they are over half full. */
        private void makeRoom() {
            int n = end - start;
            double[] t = times, c = costs, b = before;
            if (n > times.length / 2) {
                t = new double[times.length * 2];
                c = new double[times.length * 2];
                b = new double[times.length * 2 + 1];
            }
            System.arraycopy(times, start, t, 0, n);
            System.arraycopy(costs, start, c, 0, n);
            System.arraycopy(before, start, b, 0, n + 1);
            times = t;
            costs = c;
            before = b;
            start = 0;
            end = n;
        }
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

        /** Entries with a time in [from, to) (times are added in order). */
        int countBetween(double from, double to) {
            return firstAtOrAfter(to) - firstAtOrAfter(from);
        }

        int countFrom(double from) {
            return count - firstAtOrAfter(from);
        }

        /** The position (0 .. count) of the first entry with a time >= t. */
        private int firstAtOrAfter(double t) {
            int lo = 0, hi = count;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (times[(head + mid) % times.length] < t) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }

        int count() {
            return count;
        }

        long bytes() {
            return bytes;
        }
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

    public synchronized Stats stats() {
        double elapsed = Double.isNaN(firstTime) ? 0 : lastTime - firstTime;
        return new Stats(seen, scored, skipped, kept, budgetDrops, duplicateDrops, seen == 0 ? 0 : (double) kept / seen,
                elapsed > 0 ? kept / (elapsed / 60) : Double.NaN, elapsed, paced, window.size(), clean(credit()), backwardTimes);
    }

    /** Frames seen and kept per source, in source order. */
    public synchronized List<SourceStats> sourceStats() {
        List<SourceStats> out = new ArrayList<>();
        sources.keySet().stream().sorted().forEach(k -> out.add(new SourceStats(k, (long) sources.get(k)[0], (long) sources.get(k)[1])));
        return out;
    }

    /** The current threshold of the i-th trigger (its fixed one, or the budget quantile; NaN during warm-up). */
    public synchronized double threshold(int trigger) {
        Trigger t = triggers.get(trigger);
        if (!t.usesBudgetQuantile()) return t.threshold();
        if (scored < config.budget().warmupFrames()) return Double.NaN;
        TDigest d = quantiles[trigger].snapshot(lastTime);
        return d == null || d.size() == 0 ? Double.NaN : d.quantile(1 - effectiveShare());
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

        /** Both halves merged (null when nothing was added). */
        TDigest snapshot(double seconds) {
            rotate(seconds);
            if (previous == null || previous.size() == 0) return current.size() == 0 ? null : current;
            if (current.size() == 0) return previous;
            MergingDigest both = new MergingDigest(COMPRESSION);
            both.add(List.of(previous, current));
            return both;
        }
    }
}
