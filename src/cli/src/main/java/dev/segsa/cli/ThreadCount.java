package dev.segsa.cli;

import picocli.CommandLine;

/**
 * The one option type of every {@code --threads}: a whole number from 1 to {@link #max()} (4 times
 * the processors this JVM sees); anything else is refused before any work with one line naming
 * the bound. Leaving the option out keeps each command's default (all cores).
 */
final class ThreadCount implements CommandLine.ITypeConverter<Integer> {
    /** The most threads accepted: 4 x the processors. */
    static int max() {
        return 4 * Runtime.getRuntime().availableProcessors();
    }

    @Override
    public Integer convert(String value) {
        int n;
        try {
            n = Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a whole number of threads");
        }
        if (n < 1 || n > max()) {
            throw new CommandLine.TypeConversionException("threads must be 1 .. " + max() + " (4 x the "
                    + Runtime.getRuntime().availableProcessors() + " processors), got " + n);
        }
        return n;
    }
}
