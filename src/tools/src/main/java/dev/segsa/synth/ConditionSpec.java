package dev.segsa.synth;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Which conditions to generate, parsed from a SPEC string and sampled once per sequence.
 *
 * <pre>
 * SPEC    := "" | "default" | ENTRY ("," ENTRY)*
 * ENTRY   := KEY "=" CHOICE (("," | "|") CHOICE)*
 * CHOICE  := VALUE [":" WEIGHT]            WEIGHT: a number &gt; 0, default 1
 * KEY     := time | shadows | traffic | noise | blur
 * VALUE   := time:    day | dusk | night | mix
 *            shadows: none | complex | mix
 *            traffic: none | light | heavy | mix
 *            noise:   NUMBER in 0..1  | LO..HI (uniform) | mix (= 0..1)
 *            blur:    NUMBER in 0..3  | LO..HI (uniform) | mix (= 0..3)
 * </pre>
 *
 * A key given several choices picks one per sequence with probability proportional to its
 * weight; {@code mix} stands for every value (uniform) or the whole range. A comma followed by a
 * choice without {@code =} continues the previous key: {@code time=day:3,night:1,noise=0..0.5}.
 * Keys left out keep the in-distribution default ({@link SceneConditions#DEFAULT}).
 * Numbers are taken, and sampled, at three decimals, so a manifest row reproduces its frame.
 */
public final class ConditionSpec {
    public static final String GRAMMAR = """
            SPEC is a comma-separated list of KEY=CHOICES; keys left out keep the default \
            (time=day,shadows=none,traffic=light,noise=0,blur=0).
              time=day|dusk|night|mix     shadows=none|complex|mix     traffic=none|light|heavy|mix
              noise=0..1 (a number, a range LO..HI sampled uniformly, or mix = 0..1)
              blur=0..3  (a number, a range LO..HI sampled uniformly, or mix = 0..3; Gaussian sigma in pixels)
            Several choices, separated by ',' or '|', each with an optional ':WEIGHT', are sampled per sequence:
              time=day:0.5,night:0.5,traffic=mix,noise=0..0.3""";

    private record Choice(double weight, Object value, double lo, double hi) {}

    private final String text;
    private final Map<String, List<Choice>> choices;

    private ConditionSpec(String text, Map<String, List<Choice>> choices) {
        this.text = text;
        this.choices = choices;
    }

    /** The in-distribution default: every frame {@link SceneConditions#DEFAULT}. */
    public static ConditionSpec defaults() {
        return parse("default");
    }

    /** Parses a SPEC; {@link IllegalArgumentException} naming the offending part otherwise. */
    public static ConditionSpec parse(String spec) {
        if (spec == null) spec = "";
        String s = spec.strip();
        Map<String, List<Choice>> map = new LinkedHashMap<>();
        if (s.isEmpty() || s.equalsIgnoreCase("default")) return new ConditionSpec(s, map);
        String key = null;
        for (String raw : s.split("[,|]", -1)) {
            String token = raw.strip();
            if (token.isEmpty()) throw bad(spec, "empty entry (two separators in a row, or one at an end)");
            int eq = token.indexOf('=');
            String choice = token;
            if (eq >= 0) {
                key = token.substring(0, eq).strip().toLowerCase(Locale.ROOT);
                choice = token.substring(eq + 1).strip();
                if (!List.of("time", "shadows", "traffic", "noise", "blur").contains(key))
                    throw bad(spec, "unknown key '" + token.substring(0, eq).strip() + "' (keys: time, shadows, traffic, noise, blur)");
                if (map.containsKey(key)) throw bad(spec, "key '" + key + "' given twice (list its choices once: " + key + "=a,b)");
                map.put(key, new ArrayList<>());
                if (choice.isEmpty()) throw bad(spec, "no value for '" + key + "'");
            } else if (key == null) {
                throw bad(spec, "'" + token + "' has no key (write KEY=VALUE, e.g. time=night)");
            }
            map.get(key).add(choice(spec, key, choice));
        }
        for (var e : map.entrySet()) {
            List<Object> seen = new ArrayList<>();
            for (Choice c : e.getValue()) {
                Object id = c.value != null ? c.value : c.lo + ".." + c.hi;
                if (seen.contains(id)) throw bad(spec, "value " + label(id) + " listed twice for '" + e.getKey() + "'");
                seen.add(id);
            }
        }
        return new ConditionSpec(s, map);
    }

    private static String label(Object o) {
        return o instanceof Enum<?> e ? SceneConditions.lower(e) : o.toString();
    }

    private static Choice choice(String spec, String key, String token) {
        double weight = 1;
        String value = token;
        int colon = token.lastIndexOf(':');
        if (colon >= 0) {
            value = token.substring(0, colon).strip();
            String w = token.substring(colon + 1).strip();
            try {
                weight = Double.parseDouble(w);
            } catch (NumberFormatException e) {
                throw bad(spec, "weight '" + w + "' of " + key + "=" + value + " is not a number");
            }
            if (!(weight > 0) || Double.isInfinite(weight)) throw bad(spec, "weight of " + key + "=" + value + " must be a positive number, got " + w);
        }
        String v = value.toLowerCase(Locale.ROOT);
        return switch (key) {
            case "time" -> categorical(spec, key, v, weight, TimeOfDay.class);
            case "shadows" -> categorical(spec, key, v, weight, ShadowPattern.class);
            case "traffic" -> categorical(spec, key, v, weight, TrafficDensity.class);
            case "noise" -> numeric(spec, key, v, weight, SceneConditions.MAX_NOISE);
            default -> numeric(spec, key, v, weight, SceneConditions.MAX_BLUR);
        };
    }

    private static <E extends Enum<E>> Choice categorical(String spec, String key, String v, double weight, Class<E> type) {
        if (v.equals("mix")) return new Choice(weight, type, 0, 0);
        for (E e : type.getEnumConstants()) if (SceneConditions.lower(e).equals(v)) return new Choice(weight, e, 0, 0);
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) names.add(SceneConditions.lower(e));
        throw bad(spec, "unknown " + key + " '" + v + "' (expected " + String.join(", ", names) + " or mix)");
    }

    private static Choice numeric(String spec, String key, String v, double weight, double max) {
        if (v.equals("mix")) return new Choice(weight, null, 0, max);
        int dots = v.indexOf("..");
        double lo = number(spec, key, dots >= 0 ? v.substring(0, dots) : v, max);
        double hi = dots >= 0 ? number(spec, key, v.substring(dots + 2), max) : lo;
        if (hi < lo) throw bad(spec, key + " range " + v + " is empty (write LO..HI with LO <= HI)");
        return new Choice(weight, null, lo, hi);
    }

    private static double number(String spec, String key, String s, double max) {
        double d;
        try {
            d = Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            throw bad(spec, key + " value '" + s.strip() + "' is not a number, a range LO..HI or mix");
        }
        if (!(d >= 0 && d <= max)) throw bad(spec, key + " " + s.strip() + " is outside 0.." + SceneConditions.number(max));
        return Math.round(d * 1000) / 1000.0;
    }

    private static IllegalArgumentException bad(String spec, String why) {
        return new IllegalArgumentException("conditions '" + spec + "': " + why);
    }

    /** Conditions for one sequence, drawn with {@code rng}. */
    public SceneConditions sample(SplittableRandom rng) {
        SceneConditions d = SceneConditions.DEFAULT;
        TimeOfDay time = pickEnum("time", rng, TimeOfDay.class, d.time());
        ShadowPattern shadows = pickEnum("shadows", rng, ShadowPattern.class, d.shadows());
        TrafficDensity traffic = pickEnum("traffic", rng, TrafficDensity.class, d.traffic());
        double noise = pickNumber("noise", rng, d.noise());
        double blur = pickNumber("blur", rng, d.blur());
        return new SceneConditions(time, shadows, traffic, noise, blur);
    }

    private Choice pick(String key, SplittableRandom rng) {
        List<Choice> list = choices.get(key);
        if (list == null) return null;
        double total = 0;
        for (Choice c : list) total += c.weight;
        double r = rng.nextDouble() * total;
        for (Choice c : list) {
            r -= c.weight;
            if (r < 0) return c;
        }
        return list.getLast();
    }

    private <E extends Enum<E>> E pickEnum(String key, SplittableRandom rng, Class<E> type, E fallback) {
        Choice c = pick(key, rng);
        if (c == null) return fallback;
        if (c.value == type) {
            E[] all = type.getEnumConstants();
            return all[rng.nextInt(all.length)];
        }
        return type.cast(c.value);
    }

    private double pickNumber(String key, SplittableRandom rng, double fallback) {
        Choice c = pick(key, rng);
        if (c == null) return fallback;
        double v = c.lo == c.hi ? c.lo : c.lo + rng.nextDouble() * (c.hi - c.lo);
        return Math.min(c.hi, Math.max(c.lo, Math.round(v * 1000) / 1000.0));
    }

    /** True when every sequence gets {@link SceneConditions#DEFAULT}. */
    public boolean isDefault() {
        return choices.isEmpty();
    }

    @Override
    public String toString() {
        return text.isEmpty() ? "default" : text;
    }
}
