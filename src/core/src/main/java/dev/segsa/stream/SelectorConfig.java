package dev.segsa.stream;

import dev.segsa.error.SegsaException;
import dev.segsa.io.SmallTextFile;
import dev.segsa.io.StrictJson;
import dev.segsa.io.StrictJson.Range;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a {@link StreamSelector} keeps: its triggers and how they combine, the budget, the clips
 * around a kept frame and the diversity gate. Built in code or read from a JSON file
 * ({@link #read}; every field is checked and an error names the file and the field):
 *
 * <pre>{@code
 * {
 *   "combine": "any",
 *   "budget": {"share": 0.05, "horizonSeconds": 120, "windowSeconds": 2, "warmupFrames": 30, "burst": 1,
 *              "minSharePerSource": 0},
 *   "triggers": [
 *     {"name": "surprising", "score": "image-mdsa"},
 *     {"name": "pedestrian", "score": "class-mdsa-p95", "class": "Pedestrian", "minPixels": 500,
 *      "threshold": 14.0, "cooldownSeconds": 2}
 *   ],
 *   "clip": {"preSeconds": 1.0, "postSeconds": 1.0},
 *   "diversity": {"maxHamming": 6, "recent": 32}
 * }
 * }</pre>
 *
 * @param triggers   the rules, in order (under "any" the first that fires names the decision)
 * @param combine    ANY: keep when a rule fires; ALL: keep when every rule that applies fires
 * @param budget     how many frames may be kept
 * @param preSeconds seconds of frames kept before a kept frame (from the ring buffer of recent frames)
 * @param postSeconds seconds of frames kept after it
 * @param maxHamming diversity gate: a frame whose descriptor is within this Hamming distance of one
 *                   of the {@code recent} last kept frames' is dropped as a near-duplicate; -1: no gate
 * @param recent     how many kept descriptors the gate remembers
 */
public record SelectorConfig(List<Trigger> triggers, Combine combine, Budget budget, double preSeconds, double postSeconds,
                             int maxHamming, int recent) {

    public enum Combine { ANY, ALL }

    /**
     * The budget, one of: a share of the frames seen, frames per minute, or bytes per hour of kept
     * frames, shared by every trigger and every source. Held by {@link StreamSelector}'s decision
     * windows: the best frames of each {@code windowSeconds} window are kept while the credit (the
     * budget accrued less what was kept) allows; what a window does not spend carries to the next,
     * at most one horizon's allowance, beyond which it is spent on the window's best frames. No
     * horizon of {@code horizonSeconds} keeps more than its allowance plus {@code burst} frames (or
     * frames' worth of bytes), and the kept count never runs ahead of the credit by {@code burst - 1}
     * or more. The budget triggers' thresholds are the (1 - share) quantile of their scores over the
     * horizon, after {@code warmupFrames} scored frames (before that, frames are kept only to pace
     * the budget). {@code minSharePerSource}: each source (camera) is owed at least that share of its
     * own frames, taken from the shared allowance (0: none).
     *
     * <p>Defaults ({@link #DEFAULT_HORIZON_SECONDS} and the others below) were chosen by the
     * measurements in docs/results.md, "The vehicle's selector".
     */
    public record Budget(Kind kind, double value, double horizonSeconds, int warmupFrames, double burst, double windowSeconds,
                         double minSharePerSource) {
        /** The budget's kinds, each with its field in the configuration file and the range of its value. */
        public enum Kind {
            SHARE("share", Range.openClosed(0, 1)),
            FRAMES_PER_MINUTE("framesPerMinute", Range.openClosed(0, 1e12)),
            BYTES_PER_HOUR("bytesPerHour", Range.openClosed(0, 1e12));

            private final String key;
            private final Range range;

            Kind(String key, Range range) {
                this.key = key;
                this.range = range;
            }

            /** The field in the configuration file. */
            public String key() {
                return key;
            }

            public Range range() {
                return range;
            }
        }

        public static final double DEFAULT_HORIZON_SECONDS = 60;
        public static final int DEFAULT_WARMUP_FRAMES = 0;
        public static final double DEFAULT_BURST = 1;
        public static final double DEFAULT_WINDOW_SECONDS = 2;

        // The range of each field (the value's is its Kind's), declared once: the configuration file's reader and the
        // constructor hold values to them.
        public static final Range HORIZON_SECONDS = Range.openClosed(0, 86_400);
        /** Also at most horizonSeconds. */
        public static final Range WINDOW_SECONDS = Range.closed(0, 86_400);
        public static final Range WARMUP_FRAMES = Range.closed(0, 1_000_000);
        public static final Range BURST = Range.closed(1, 1e6);
        /** Also at most the share, under a share budget. */
        public static final Range MIN_SHARE_PER_SOURCE = Range.closed(0, 1);

        public Budget {
            if (kind == null) throw new SegsaException("budget: a kind is needed (share, framesPerMinute or bytesPerHour)");
            kind.range().check("budget." + kind.key(), value);
            HORIZON_SECONDS.check("budget.horizonSeconds", horizonSeconds);
            WARMUP_FRAMES.checkInteger("budget.warmupFrames", warmupFrames);
            BURST.check("budget.burst", burst);
            WINDOW_SECONDS.check("budget.windowSeconds", windowSeconds);
            if (windowSeconds > horizonSeconds) {
                throw new SegsaException("budget: windowSeconds must be in [0, horizonSeconds], got " + windowSeconds);
            }
            MIN_SHARE_PER_SOURCE.check("budget.minSharePerSource", minSharePerSource);
            if (kind == Kind.SHARE && minSharePerSource > value) {
                throw new SegsaException("budget: minSharePerSource (" + minSharePerSource + ") is above the share (" + value + ")");
            }
        }

        /** The default decision window and no per-source minimum. */
        public Budget(Kind kind, double value, double horizonSeconds, int warmupFrames, double burst) {
            this(kind, value, horizonSeconds, warmupFrames, burst, Math.min(DEFAULT_WINDOW_SECONDS, horizonSeconds), 0);
        }

        public static Budget share(double share) {
            return new Budget(Kind.SHARE, share, DEFAULT_HORIZON_SECONDS, DEFAULT_WARMUP_FRAMES, DEFAULT_BURST, DEFAULT_WINDOW_SECONDS, 0);
        }

        /** The same budget with another per-source minimum. */
        public Budget withMinSharePerSource(double min) {
            return new Budget(kind, value, horizonSeconds, warmupFrames, burst, windowSeconds, min);
        }
    }

    // The range of each field, declared once: the configuration file's reader and the constructor hold values to them.
    public static final Range PRE_SECONDS = Range.closed(0, 3600);
    public static final Range POST_SECONDS = Range.closed(0, 3600);
    /** -1: no diversity gate. */
    public static final Range MAX_HAMMING = Range.closed(-1, 64);
    public static final Range RECENT = Range.closed(1, 4096);
    // A trigger's fields, read from the file (Trigger's constructor has its own checks)
    static final Range MIN_PIXELS = Range.closed(0, 1e9);
    static final Range THRESHOLD = Range.FINITE;
    static final Range COOLDOWN_SECONDS = Range.closed(0, 86_400);

    /** Larger configuration files are refused before reading. */
    public static final long MAX_BYTES = SmallTextFile.CONFIG_MAX_BYTES;

    public SelectorConfig {
        if (triggers == null || triggers.isEmpty()) throw new SegsaException("the selector needs at least one trigger");
        triggers = List.copyOf(triggers);
        Set<String> names = new java.util.HashSet<>();
        for (Trigger t : triggers) if (!names.add(t.name())) throw new SegsaException("two triggers are named '" + t.name() + "'");
        if (combine == null) throw new SegsaException("combine must be any or all");
        if (budget == null) throw new SegsaException("the selector needs a budget");
        PRE_SECONDS.check("clip.preSeconds", preSeconds);
        POST_SECONDS.check("clip.postSeconds", postSeconds);
        MAX_HAMMING.checkInteger("diversity.maxHamming", maxHamming);
        RECENT.checkInteger("diversity.recent", recent);
    }

    /** One trigger on the budget quantile of the image SA, a share budget, no clip, no diversity gate. */
    public static SelectorConfig imageSaShare(double share) {
        return new SelectorConfig(List.of(Trigger.onBudget("image-sa", Trigger.Score.IMAGE_MDSA)), Combine.ANY, Budget.share(share),
                0, 0, -1, 32);
    }

    /**
     * One trigger on the budget quantile of the best frame score the SA model offers: the
     * class-aware score when the SA file records the fit frames' class distributions, otherwise
     * image SA.
     */
    public static SelectorConfig bestFrameScoreShare(double share, boolean classAware) {
        if (!classAware) return imageSaShare(share);
        return new SelectorConfig(List.of(Trigger.onBudget("class-aware", Trigger.Score.CLASS_AWARE)), Combine.ANY, Budget.share(share),
                0, 0, -1, 32);
    }

    /**
     * {@link #bestFrameScoreShare(double, boolean)} for an SA model: the class-aware score when it
     * records a class reference ({@code segsa fit} does), else image SA.
     */
    public static SelectorConfig bestFrameScoreShare(double share, dev.segsa.samodel.SaModel sa) {
        return bestFrameScoreShare(share, sa.frameReference() != null);
    }

    /** The same configuration with clips of {@code preSeconds} before and {@code postSeconds} after each kept frame. */
    public SelectorConfig withClip(double preSeconds, double postSeconds) {
        return new SelectorConfig(triggers, combine, budget, preSeconds, postSeconds, maxHamming, recent);
    }

    /** The same configuration with the diversity gate: drop a frame within {@code maxHamming} bits of the {@code recent} last kept ones. */
    public SelectorConfig withDiversity(int maxHamming, int recent) {
        return new SelectorConfig(triggers, combine, budget, preSeconds, postSeconds, maxHamming, recent);
    }

    /** The same configuration with another budget (e.g. {@code Budget.share(0.1).withMinSharePerSource(0.02)}). */
    public SelectorConfig withBudget(Budget budget) {
        return new SelectorConfig(triggers, combine, budget, preSeconds, postSeconds, maxHamming, recent);
    }

    /** One trigger on the budget quantile of the frame's risk (an engine with a risk model). */
    public static SelectorConfig riskShare(double share) {
        return new SelectorConfig(List.of(Trigger.onBudget("risk", Trigger.Score.RISK)), Combine.ANY, Budget.share(share), 0, 0, -1, 32);
    }

    /**
     * Reads a JSON configuration (a regular file of at most {@link #MAX_BYTES}, UTF-8, strict JSON:
     * {@link SmallTextFile}, {@link StrictJson}); one clear message naming the file and the field on
     * any problem.
     */
    public static SelectorConfig read(Path file) {
        String text = SmallTextFile.read(file, MAX_BYTES, "selector configuration");
        try {
            return parse(StrictJson.parseObject(text, "selector configuration"));
        } catch (SegsaException e) {
            throw new SegsaException(file + ": " + e.getMessage(), e);
        }
    }

    static SelectorConfig parse(StrictJson.Obj root) {
        root.known("combine", "budget", "triggers", "clip", "diversity");
        String combineName = root.string("combine", "any");
        Combine combine = switch (combineName) {
            case "any" -> Combine.ANY;
            case "all" -> Combine.ALL;
            default -> throw new SegsaException("combine must be \"any\" or \"all\", got \"" + combineName + "\"");
        };
        if (!root.has("budget")) throw new SegsaException("budget: an object with share, framesPerMinute or bytesPerHour is needed");
        StrictJson.Obj b = root.object("budget");
        b.known("share", "framesPerMinute", "bytesPerHour", "horizonSeconds", "warmupFrames", "burst", "windowSeconds",
                "minSharePerSource");
        Budget.Kind kind = null;
        for (Budget.Kind k : Budget.Kind.values()) {
            if (!b.has(k.key())) continue;
            if (kind != null) throw new SegsaException("budget: give exactly one of share, framesPerMinute, bytesPerHour");
            kind = k;
        }
        if (kind == null) throw new SegsaException("budget: give exactly one of share, framesPerMinute, bytesPerHour");
        double horizon = b.number("horizonSeconds", Budget.HORIZON_SECONDS, Budget.DEFAULT_HORIZON_SECONDS);
        Budget budget = new Budget(kind, b.number(kind.key(), kind.range()), horizon,
                b.integer("warmupFrames", Budget.WARMUP_FRAMES, Budget.DEFAULT_WARMUP_FRAMES),
                b.number("burst", Budget.BURST, Budget.DEFAULT_BURST),
                b.number("windowSeconds", Budget.WINDOW_SECONDS, Math.min(Budget.DEFAULT_WINDOW_SECONDS, horizon)),
                b.number("minSharePerSource", Budget.MIN_SHARE_PER_SOURCE, 0));
        if (!root.has("triggers") || root.array("triggers").isEmpty()) throw new SegsaException("triggers: a non-empty array is needed");
        List<Trigger> triggers = new ArrayList<>();
        List<StrictJson.Obj> ts = root.objects("triggers");
        for (int i = 0; i < ts.size(); i++) {
            StrictJson.Obj t = ts.get(i);
            t.known("name", "score", "class", "minPixels", "threshold", "cooldownSeconds");
            String scoreName = t.string("score");
            Trigger.Score score;
            try {
                score = Trigger.Score.of(scoreName);
            } catch (SegsaException e) {
                throw new SegsaException(t.path("score") + ": " + e.getMessage(), e);
            }
            try {
                triggers.add(new Trigger(t.string("name", "trigger" + i), score, t.string("class", null),
                        t.longInteger("minPixels", MIN_PIXELS, 0), t.number("threshold", THRESHOLD, Double.NaN),
                        t.number("cooldownSeconds", COOLDOWN_SECONDS, 0)));
            } catch (SegsaException e) {
                throw e.getMessage().startsWith(t.path()) ? e : new SegsaException(t.path() + ": " + e.getMessage(), e);
            }
        }
        StrictJson.Obj clip = root.optionalObject("clip");
        double pre = 0, post = 0;
        if (clip != null) {
            clip.known("preSeconds", "postSeconds");
            pre = clip.number("preSeconds", PRE_SECONDS, 0);
            post = clip.number("postSeconds", POST_SECONDS, 0);
        }
        StrictJson.Obj div = root.optionalObject("diversity");
        int maxHamming = -1, recent = 32;
        if (div != null) {
            div.known("maxHamming", "recent");
            maxHamming = div.integer("maxHamming", MAX_HAMMING, 6);
            recent = div.integer("recent", RECENT, 32);
        }
        return new SelectorConfig(triggers, combine, budget, pre, post, maxHamming, recent);
    }
}
