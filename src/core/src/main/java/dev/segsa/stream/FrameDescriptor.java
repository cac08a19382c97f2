package dev.segsa.stream;

import java.util.Locale;

/**
 * A frame's compact descriptor for the {@link StreamSelector}'s diversity gate, or {@link #NONE}:
 * 64 bits compared by Hamming distance ({@code Long.bitCount(a ^ b)}), such as the frame's
 * {@link DHash} ({@link DHash#descriptor}). A frame offered with a descriptor is dropped as a
 * near-duplicate when it is within {@link SelectorConfig#maxHamming()} bits of one of the last
 * {@link SelectorConfig#recent()} kept frames' descriptors, and its own is remembered when it is
 * kept; a frame offered with {@link #NONE} is never gated nor remembered.
 *
 * <p>A record rather than {@link java.util.OptionalLong}: the offer's argument says what the 64
 * bits are for ({@code FrameDescriptor.NONE}, {@code DHash.descriptor(image)}) where an
 * {@code OptionalLong} would be any optional number, and a descriptor of all zero bits (the dHash of
 * a uniform frame) stays a descriptor, distinct from none, as it must.
 *
 * @param present whether the frame has a descriptor
 * @param bits    the descriptor's 64 bits; 0 when {@code present} is false
 */
public record FrameDescriptor(boolean present, long bits) {
    /** No descriptor: the diversity gate passes the frame and does not remember it. */
    public static final FrameDescriptor NONE = new FrameDescriptor(false, 0);

    /** @throws IllegalArgumentException when {@code present} is false and {@code bits} is not 0 */
    public FrameDescriptor {
        if (!present && bits != 0) {
            throw new IllegalArgumentException("a frame descriptor that is not present has no bits, got 0x" + Long.toHexString(bits)
                    + " (FrameDescriptor.NONE, or FrameDescriptor.of(bits))");
        }
    }

    /**
     * A descriptor of these 64 bits (any value, 0 included).
     *
     * @param bits the descriptor, e.g. {@link DHash#of}
     * @return a present descriptor
     */
    public static FrameDescriptor of(long bits) {
        return new FrameDescriptor(true, bits);
    }

    @Override
    public String toString() {
        return present ? String.format(Locale.ROOT, "FrameDescriptor[%016x]", bits) : "FrameDescriptor[none]";
    }
}
