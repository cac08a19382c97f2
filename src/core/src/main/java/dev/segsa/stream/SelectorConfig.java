package dev.segsa.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
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
        public enum Kind { SHARE, FRAMES_PER_MINUTE, BYTES_PER_HOUR }

        public static final double DEFAULT_HORIZON_SECONDS = 60;
        public static final int DEFAULT_WARMUP_FRAMES = 0;
        public static final double DEFAULT_BURST = 1;
        public static final double DEFAULT_WINDOW_SECONDS = 2;

        public Budget {
            if (kind == null) throw new SegsaException("budget: a kind is needed (share, framesPerMinute or bytesPerHour)");
            if (!(value > 0) || Double.isInfinite(value)) throw new SegsaException("budget: the " + kind + " must be > 0, got " + value);
            if (kind == Kind.SHARE && value > 1) throw new SegsaException("budget: share must be in (0, 1], got " + value);
            if (!(horizonSeconds > 0) || horizonSeconds > 86_400) {
                throw new SegsaException("budget: horizonSeconds must be in (0, 86400], got " + horizonSeconds);
            }
            if (warmupFrames < 0) throw new SegsaException("budget: warmupFrames must be >= 0, got " + warmupFrames);
            if (!(burst >= 1) || burst > 1e6) throw new SegsaException("budget: burst must be 1 .. 1e6 frames, got " + burst);
            if (!(windowSeconds >= 0) || windowSeconds > horizonSeconds) {
                throw new SegsaException("budget: windowSeconds must be in [0, horizonSeconds], got " + windowSeconds);
            }
            if (!(minSharePerSource >= 0) || minSharePerSource > 1) {
                throw new SegsaException("budget: minSharePerSource must be in [0, 1], got " + minSharePerSource);
            }
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

    public SelectorConfig {
        if (triggers == null || triggers.isEmpty()) throw new SegsaException("the selector needs at least one trigger");
        triggers = List.copyOf(triggers);
        Set<String> names = new java.util.HashSet<>();
        for (Trigger t : triggers) if (!names.add(t.name())) throw new SegsaException("two triggers are named '" + t.name() + "'");
        if (combine == null) throw new SegsaException("combine must be any or all");
        if (budget == null) throw new SegsaException("the selector needs a budget");
        if (!(preSeconds >= 0) || !(postSeconds >= 0) || Double.isInfinite(preSeconds) || Double.isInfinite(postSeconds)) {
            throw new SegsaException("clip: preSeconds and postSeconds must be >= 0, got " + preSeconds + " and " + postSeconds);
        }
        if (maxHamming < -1 || maxHamming > 64) throw new SegsaException("diversity: maxHamming must be -1 (off) .. 64, got " + maxHamming);
        if (recent < 1 || recent > 4096) throw new SegsaException("diversity: recent must be 1 .. 4096, got " + recent);
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

    /** One trigger on the budget quantile of the frame's risk (an engine with a risk model). */
    public static SelectorConfig riskShare(double share) {
        return new SelectorConfig(List.of(Trigger.onBudget("risk", Trigger.Score.RISK)), Combine.ANY, Budget.share(share), 0, 0, -1, 32);
    }

    /** Reads a JSON configuration; one clear message naming the file and the field on any problem. */
    public static SelectorConfig read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new SegsaException(file + ": cannot read the selector configuration: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        try {
            return parse(root);
        } catch (SegsaException e) {
            throw new SegsaException(file + ": " + e.getMessage(), e);
        }
    }

    static SelectorConfig parse(JsonNode root) {
        if (root == null || !root.isObject()) throw new SegsaException("expected a JSON object");
        known(root, "", "combine", "budget", "triggers", "clip", "diversity");
        Combine combine = switch (text(root, "combine", "any")) {
            case "any" -> Combine.ANY;
            case "all" -> Combine.ALL;
            default -> throw new SegsaException("combine must be \"any\" or \"all\", got \"" + root.get("combine").asText() + "\"");
        };
        JsonNode b = root.get("budget");
        if (b == null || !b.isObject()) throw new SegsaException("budget: an object with share, framesPerMinute or bytesPerHour is needed");
        known(b, "budget.", "share", "framesPerMinute", "bytesPerHour", "horizonSeconds", "warmupFrames", "burst", "windowSeconds",
                "minSharePerSource");
        int kinds = (b.has("share") ? 1 : 0) + (b.has("framesPerMinute") ? 1 : 0) + (b.has("bytesPerHour") ? 1 : 0);
        if (kinds != 1) throw new SegsaException("budget: give exactly one of share, framesPerMinute, bytesPerHour");
        Budget.Kind kind = b.has("share") ? Budget.Kind.SHARE : b.has("framesPerMinute") ? Budget.Kind.FRAMES_PER_MINUTE
                : Budget.Kind.BYTES_PER_HOUR;
        String key = kind == Budget.Kind.SHARE ? "share" : kind == Budget.Kind.FRAMES_PER_MINUTE ? "framesPerMinute" : "bytesPerHour";
        double horizon = number(b, "horizonSeconds", Budget.DEFAULT_HORIZON_SECONDS, "budget.");
        Budget budget = new Budget(kind, number(b, key, Double.NaN, "budget."), horizon,
                (int) number(b, "warmupFrames", Budget.DEFAULT_WARMUP_FRAMES, "budget."), number(b, "burst", Budget.DEFAULT_BURST, "budget."),
                number(b, "windowSeconds", Math.min(Budget.DEFAULT_WINDOW_SECONDS, horizon), "budget."),
                number(b, "minSharePerSource", 0, "budget."));
        JsonNode ts = root.get("triggers");
        if (ts == null || !ts.isArray() || ts.isEmpty()) throw new SegsaException("triggers: a non-empty array is needed");
        List<Trigger> triggers = new ArrayList<>();
        for (int i = 0; i < ts.size(); i++) {
            JsonNode t = ts.get(i);
            String where = "triggers[" + i + "].";
            if (!t.isObject()) throw new SegsaException("triggers[" + i + "]: expected an object");
            known(t, where, "name", "score", "class", "minPixels", "threshold", "cooldownSeconds");
            String score = text(t, "score", null);
            if (score == null) throw new SegsaException(where + "score is missing");
            triggers.add(new Trigger(text(t, "name", "trigger" + i), Trigger.Score.of(score), text(t, "class", null),
                    (long) number(t, "minPixels", 0, where), number(t, "threshold", Double.NaN, where),
                    number(t, "cooldownSeconds", 0, where)));
        }
        JsonNode clip = root.get("clip");
        double pre = 0, post = 0;
        if (clip != null) {
            known(clip, "clip.", "preSeconds", "postSeconds");
            pre = number(clip, "preSeconds", 0, "clip.");
            post = number(clip, "postSeconds", 0, "clip.");
        }
        JsonNode div = root.get("diversity");
        int maxHamming = -1, recent = 32;
        if (div != null) {
            known(div, "diversity.", "maxHamming", "recent");
            maxHamming = (int) number(div, "maxHamming", 6, "diversity.");
            recent = (int) number(div, "recent", 32, "diversity.");
        }
        return new SelectorConfig(triggers, combine, budget, pre, post, maxHamming, recent);
    }

    private static void known(JsonNode o, String where, String... fields) {
        Set<String> ok = Set.of(fields);
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!ok.contains(f)) throw new SegsaException(where + f + ": unknown field (known: " + String.join(", ", fields) + ")");
        }
    }

    private static String text(JsonNode o, String field, String dflt) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isTextual()) throw new SegsaException(field + ": expected a string, got " + v);
        return v.asText();
    }

    private static double number(JsonNode o, String field, double dflt, String where) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new SegsaException(where + field + ": expected a number, got " + v);
        double d = v.asDouble();
        if (!Double.isFinite(d)) throw new SegsaException(where + field + ": expected a finite number, got " + v);
        return d;
    }
}
