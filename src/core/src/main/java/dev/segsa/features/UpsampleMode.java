package dev.segsa.features;

import java.util.Locale;

/**
 * How the model upsamples its class scores from [h0, w0] to [H, W], and therefore how segsa
 * upsamples the feature map to obtain per-pixel activation traces. PyTorch {@code F.interpolate}
 * semantics with an explicit output size.
 */
public enum UpsampleMode {
    /** {@code mode="bilinear", align_corners=False}: the default. */
    BILINEAR("bilinear", 0),
    /** {@code mode="bilinear", align_corners=True}. */
    BILINEAR_ALIGNED("bilinear-aligned", 1),
    /** {@code mode="nearest"}. */
    NEAREST("nearest", 2);

    private final String cliName;
    private final int code;

    UpsampleMode(String cliName, int code) {
        this.cliName = cliName;
        this.code = code;
    }

    /** The name used on the command line and in metadata files. */
    public String cliName() {
        return cliName;
    }

    /** The integer code used in the native C ABI and in the SA model file. */
    public int code() {
        return code;
    }

    public static UpsampleMode fromCode(int code) {
        for (UpsampleMode m : values()) {
            if (m.code == code) return m;
        }
        throw new IllegalArgumentException("unknown upsample mode code " + code);
    }

    public static UpsampleMode parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (UpsampleMode m : values()) {
            if (m.cliName.equals(n)) return m;
        }
        throw new IllegalArgumentException(
                "unknown upsample mode '" + name + "': expected bilinear, bilinear-aligned or nearest");
    }

    @Override
    public String toString() {
        return cliName;
    }
}
