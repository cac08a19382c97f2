package dev.segsa.synth;

import java.util.Locale;

/**
 * The conditions of one synthetic frame (shared by every frame of a sequence).
 *
 * @param noise camera noise in [0, 1]: Gaussian sensor noise of standard deviation {@code 24 * noise} grey levels
 * @param blur  optical blur in [0, 3]: Gaussian blur of standard deviation {@code blur} pixels
 */
public record SceneConditions(TimeOfDay time, ShadowPattern shadows, TrafficDensity traffic, double noise, double blur) {
    public static final double MAX_NOISE = 1;
    public static final double MAX_BLUR = 3;

    /** The in-distribution default: day, no complex shadows, light traffic, no noise, no blur. */
    public static final SceneConditions DEFAULT =
            new SceneConditions(TimeOfDay.DAY, ShadowPattern.NONE, TrafficDensity.LIGHT, 0, 0);

    public SceneConditions {
        if (time == null || shadows == null || traffic == null) throw new IllegalArgumentException("scene conditions: time, shadows and traffic are required");
        if (!(noise >= 0 && noise <= MAX_NOISE)) throw new IllegalArgumentException("scene conditions: noise " + noise + " is outside 0..1");
        if (!(blur >= 0 && blur <= MAX_BLUR)) throw new IllegalArgumentException("scene conditions: blur " + blur + " is outside 0..3");
    }

    /** As written in the manifest and the SPEC grammar: {@code time=day,shadows=none,traffic=light,noise=0,blur=0}. */
    @Override
    public String toString() {
        return "time=" + lower(time) + ",shadows=" + lower(shadows) + ",traffic=" + lower(traffic)
                + ",noise=" + number(noise) + ",blur=" + number(blur);
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** Up to three decimals, no trailing zeros: the precision conditions are sampled at. */
    static String number(double v) {
        return new java.math.BigDecimal(v).setScale(3, java.math.RoundingMode.HALF_EVEN).stripTrailingZeros().toPlainString();
    }
}
