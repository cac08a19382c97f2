package dev.segsa.cli;

import picocli.CommandLine;

import java.util.Locale;

/**
 * The one option type of every floating-point option: a finite number in the range that the
 * option's converter states, e.g. {@code converter = FiniteNumber.Fraction.class} for (0, 1].
 * NaN, Infinity, -Infinity, a number too large for a double ({@code 1e999}, {@code 0x1p2000}),
 * text that is not a number and a value outside the range are refused while the command line is
 * parsed, before any work: exit 2 and one line, picocli's "Invalid value for option '--fps' (F):"
 * followed by the range and the value given. Each nested class is one range, written once as an
 * interval (an unbounded side is {@code inf}); an option with a default has it checked too.
 */
abstract class FiniteNumber implements CommandLine.ITypeConverter<Double> {
    private final String range;
    private final double lo, hi;
    private final boolean loIncluded, hiIncluded;

    /** @param range an interval such as {@code "(0, 1]"}, {@code "[0, inf)"} or {@code "(-inf, inf)"} */
    FiniteNumber(String range) {
        this.range = range;
        String r = range.strip();
        char open = r.charAt(0), close = r.charAt(r.length() - 1);
        String[] bounds = r.substring(1, r.length() - 1).split(",");
        if ((open != '(' && open != '[') || (close != ')' && close != ']') || bounds.length != 2) {
            throw new IllegalStateException("not an interval: " + range);
        }
        lo = bound(bounds[0]);
        hi = bound(bounds[1]);
        loIncluded = open == '[' && Double.isFinite(lo);
        hiIncluded = close == ']' && Double.isFinite(hi);
        if (!(lo < hi)) throw new IllegalStateException("empty interval: " + range);
    }

    private static double bound(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "-inf" -> Double.NEGATIVE_INFINITY;
            case "inf", "+inf" -> Double.POSITIVE_INFINITY;
            default -> Double.parseDouble(s.strip());
        };
    }

    /** The range in words: "a finite number in (0, 1]", "a finite number > 0", "a finite number". */
    String range() {
        boolean below = Double.isFinite(lo), above = Double.isFinite(hi);
        if (below && above) return "a finite number in " + range.strip();
        String[] b = range.strip().substring(1, range.strip().length() - 1).split(",");
        if (below) return "a finite number " + (loIncluded ? ">= " : "> ") + b[0].strip();
        if (above) return "a finite number " + (hiIncluded ? "<= " : "< ") + b[1].strip();
        return "a finite number";
    }

    /** Whether {@code v} is finite and in the range. */
    boolean accepts(double v) {
        return Double.isFinite(v) && (loIncluded ? v >= lo : v > lo) && (hiIncluded ? v <= hi : v < hi);
    }

    @Override
    public Double convert(String value) {
        double v;
        try {
            v = Double.parseDouble(value.strip());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("must be " + range() + ", got '" + value + "' (not a number)");
        }
        if (!accepts(v)) throw new CommandLine.TypeConversionException("must be " + range() + ", got '" + value + "'");
        return v + 0.0; // -0 as 0
    }

    /** Any finite number. */
    static final class Any extends FiniteNumber {
        Any() {
            super("(-inf, inf)");
        }
    }

    /** A finite number above 0. */
    static final class Positive extends FiniteNumber {
        Positive() {
            super("(0, inf)");
        }
    }

    /** A finite number of at least 0. */
    static final class NonNegative extends FiniteNumber {
        NonNegative() {
            super("[0, inf)");
        }
    }

    /** A share that may be 0 or 1: [0, 1]. */
    static final class Share extends FiniteNumber {
        Share() {
            super("[0, 1]");
        }
    }

    /** A share above 0, at most 1: (0, 1] (also an IoU threshold). */
    static final class Fraction extends FiniteNumber {
        Fraction() {
            super("(0, 1]");
        }
    }

    /** A share strictly between 0 and 1: (0, 1) (a confidence, a tolerance). */
    static final class OpenFraction extends FiniteNumber {
        OpenFraction() {
            super("(0, 1)");
        }
    }

    /** A share in [0, 1], or a negative number meaning "off": at most 1. */
    static final class ShareOrNegative extends FiniteNumber {
        ShareOrNegative() {
            super("(-inf, 1]");
        }
    }

    /** Frames per second: (0, 1000], what the video writer accepts. */
    static final class FrameRate extends FiniteNumber {
        FrameRate() {
            super("(0, 1000]");
        }
    }

    /** A network timeout in seconds: (0, 3600]. */
    static final class Timeout extends FiniteNumber {
        Timeout() {
            super("(0, 3600]");
        }
    }

    /** A wait in seconds, 0 included, at most 1e6 (11.6 days): [0, 1e6]. */
    static final class Seconds extends FiniteNumber {
        Seconds() {
            super("[0, 1e6]");
        }
    }

    /** A duration in seconds above 0, at most 1e6: (0, 1e6]. */
    static final class PositiveSeconds extends FiniteNumber {
        PositiveSeconds() {
            super("(0, 1e6]");
        }
    }
}
