package dev.segsa.cli;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every floating-point option of every command is a {@link FiniteNumber}: NaN, Infinity,
 * -Infinity, a number beyond a double's range and a value outside the option's stated range are
 * refused while the command line is parsed (exit 2, one line naming the option and the range),
 * before any work and without writing anything. The options are found by reflection over the
 * registered subcommands, so a new {@code double} option without the type fails here.
 */
class FiniteNumberOptionsTest {
    /** Values no floating-point option accepts. */
    static final List<String> NOT_FINITE = List.of("NaN", "Infinity", "-Infinity", "1e999", "0x1p2000");

    /** A command run in this JVM (the one runner of the CLI tests, {@link RiskWorkflowTest#run}). */
    static RiskWorkflowTest.Run run(String... args) {
        return RiskWorkflowTest.run(args);
    }

    /** One floating-point option: the command's name ("" for segsa itself) and the option. */
    record Floating(String command, OptionSpec option) {
        String name() {
            return option.longestName();
        }

        @Override
        public String toString() {
            return (command.isEmpty() ? "segsa" : command) + " " + name();
        }
    }

    /** Every option whose type (or element type) is double, Double, float or Float, of segsa and every subcommand. */
    static List<Floating> floatingOptions() {
        CommandLine root = new CommandLine(new SegsaCommand());
        List<Floating> found = new ArrayList<>();
        Map<CommandSpec, Boolean> seen = new IdentityHashMap<>();
        collect(root, "", found, seen);
        return found;
    }

    private static void collect(CommandLine cl, String path, List<Floating> found, Map<CommandSpec, Boolean> seen) {
        if (seen.put(cl.getCommandSpec(), true) != null) return;
        for (OptionSpec o : cl.getCommandSpec().options()) {
            if (floating(o)) found.add(new Floating(path, o));
        }
        for (CommandLine sub : cl.getSubcommands().values()) {
            collect(sub, (path.isEmpty() ? "" : path + " ") + sub.getCommandName(), found, seen);
        }
    }

    static boolean floating(OptionSpec o) {
        List<Class<?>> types = new ArrayList<>();
        types.add(o.type());
        if (o.type().isArray()) types.add(o.type().getComponentType());
        types.addAll(List.of(o.auxiliaryTypes()));
        return types.stream().anyMatch(t -> t == double.class || t == Double.class || t == float.class || t == Float.class);
    }

    @Test
    void theReflectionFindsTheKnownFloatingPointOptions() {
        Set<String> names = floatingOptions().stream().map(Floating::toString).collect(Collectors.toSet());
        for (String expected : List.of("watch --idle-seconds", "watch --fps", "watch --share", "watch --open-timeout",
                "watch --read-timeout", "score --from", "score --to", "score --lsa-budget-ms", "bench --seconds", "fit --mean",
                "fit --std", "fit --class-min-share", "render --sa-range", "evaluate --thresholds", "select --confidence",
                "decide --pilot-fraction", "timeline --fps", "encode --fps", "train --lr", "train --max-minutes")) {
            assertTrue(names.contains(expected), expected + " not found among " + names);
        }
        assertTrue(names.size() >= 35, "only " + names.size() + " floating-point options found: " + names);
    }

    /** The option type is FiniteNumber everywhere, and each default is inside its option's range. */
    @Test
    void everyFloatingPointOptionIsAFiniteNumber() {
        for (Floating f : floatingOptions()) {
            CommandLine.ITypeConverter<?>[] converters = f.option().converters();
            assertEquals(1, converters.length, f + ": one converter");
            assertInstanceOf(FiniteNumber.class, converters[0], f + " is not a FiniteNumber");
            String dflt = f.option().defaultValue();
            if (dflt != null) {
                for (String v : f.option().splitRegex().isEmpty() ? new String[] {dflt} : dflt.split(f.option().splitRegex())) {
                    assertDoesNotThrow(() -> converters[0].convert(v), f + ": default " + dflt);
                }
            }
        }
    }

    /** NaN, Infinity, -Infinity, 1e999 and 0x1p2000, for every floating-point option of every command. */
    @TestFactory
    Stream<DynamicTest> everyFloatingPointOptionRefusesNonFiniteValues() {
        return floatingOptions().stream().flatMap(f -> NOT_FINITE.stream().map(v -> DynamicTest.dynamicTest(f + " " + v, () -> {
            List<String> args = new ArrayList<>(f.command().isEmpty() ? List.of() : List.of(f.command().split(" ")));
            args.add(f.name());
            args.add(v);
            RiskWorkflowTest.Run r = run(args.toArray(String[]::new));
            FiniteNumber type = (FiniteNumber) f.option().converters()[0];
            assertUsageError(r, f.name(), type.range(), v);
        })));
    }

    /** A value just outside each bounded option's range is refused the same way. */
    @TestFactory
    Stream<DynamicTest> everyBoundedOptionRefusesAValueOutsideItsRange() {
        return floatingOptions().stream().flatMap(f -> {
            FiniteNumber type = (FiniteNumber) f.option().converters()[0];
            return Stream.of("-1e300", "1e300", "-1", "0", "1.0000001", "1001", "3601", "1000001")
                    .filter(v -> !type.accepts(Double.parseDouble(v))).limit(2)
                    .map(v -> DynamicTest.dynamicTest(f + " " + v, () -> {
                        List<String> args = new ArrayList<>(f.command().isEmpty() ? List.of() : List.of(f.command().split(" ")));
                        args.add(f.name() + "=" + v);
                        assertUsageError(run(args.toArray(String[]::new)), f.name(), type.range(), v);
                    }));
        });
    }

    static void assertUsageError(RiskWorkflowTest.Run r, String option, String range, String value) {
        assertEquals(SegsaCommand.EXIT_USAGE, r.code(), r::toString);
        String line = r.firstErrorLine();
        assertTrue(line.contains("option '" + option + "'"), () -> "the first line names " + option + ":\n" + r);
        assertTrue(line.contains("must be " + range + ", got '" + value + "'"), () -> "the first line states the range " + range + ":\n" + r);
        assertEquals(1, r.err().lines().filter(l -> l.contains("Invalid value")).count(), r::toString);
        assertFalse(r.err().contains("\tat "), () -> "no stack trace:\n" + r);
        assertTrue(r.out().isBlank(), () -> "nothing on standard output:\n" + r);
    }

    // ---------------------------------------------------------------- the cases of the issue, with whole command lines

    @Test
    void watchIdleSecondsNaN(@TempDir Path dir) throws IOException {
        refusedBeforeAnyWork(dir, "--idle-seconds", "[0, 1e6]", "NaN", "watch", "--model", dir.resolve("m.pt").toString(), "--sa",
                dir.resolve("m.sa").toString(), "--folder", dir.resolve("cam").toString(), "--share", "0.1", "--out",
                dir.resolve("kept").toString(), "--idle-seconds", "NaN");
    }

    @Test
    void watchFpsInfinity(@TempDir Path dir) throws IOException {
        refusedBeforeAnyWork(dir, "--fps", "(0, 1000]", "Infinity", "watch", "--model", dir.resolve("m.pt").toString(), "--sa",
                dir.resolve("m.sa").toString(), "--folder", dir.resolve("cam").toString(), "--share", "0.1", "--out",
                dir.resolve("kept").toString(), "--fps", "Infinity");
    }

    @Test
    void scoreMcapFromNaN(@TempDir Path dir) throws IOException {
        refusedBeforeAnyWork(dir, "--from", ">= 0", "NaN", "score", "--model", dir.resolve("m.pt").toString(), "--sa",
                dir.resolve("m.sa").toString(), "--mcap", dir.resolve("x.mcap").toString(), "--from", "NaN", "--out",
                dir.resolve("scores.csv").toString());
    }

    @Test
    void benchSecondsInfinity(@TempDir Path dir) throws IOException {
        refusedBeforeAnyWork(dir, "--seconds", "(0, 1e6]", "Infinity", "bench", "--model", dir.resolve("m.pt").toString(),
                "--synthetic", "32x32", "--seconds", "Infinity", "--json", dir.resolve("bench.json").toString());
    }

    @Test
    void watchShareZeroAndSelectSkipFractionAboveOne(@TempDir Path dir) throws IOException {
        refusedBeforeAnyWork(dir, "--share", "(0, 1]", "0", "watch", "--model", dir.resolve("m.pt").toString(), "--sa",
                dir.resolve("m.sa").toString(), "--folder", dir.resolve("cam").toString(), "--share", "0", "--out",
                dir.resolve("kept").toString());
        refusedBeforeAnyWork(dir, "--skip-fraction", "[0, 1]", "1.5", "select", "--scores", dir.resolve("s.csv").toString(),
                "--skip-fraction", "1.5", "--out", dir.resolve("list.csv").toString());
    }

    /** The inputs the command names are real files, so only the option can stop it; nothing is written beside them. */
    static void refusedBeforeAnyWork(Path dir, String option, String range, String value, String... args) throws IOException {
        Files.writeString(dir.resolve("m.pt"), "not a model");
        Files.writeString(dir.resolve("m.sa"), "not an SA file");
        Files.writeString(dir.resolve("x.mcap"), "not a log");
        Files.writeString(dir.resolve("s.csv"), "image,class,pixels,mdsa\n");
        Files.createDirectories(dir.resolve("cam"));
        Set<Path> before = listing(dir);
        RiskWorkflowTest.Run r = run(args);
        assertUsageError(r, option, "a finite number " + (range.startsWith("[") || range.startsWith("(") ? "in " : "") + range, value);
        assertEquals(before, listing(dir), "nothing written");
    }

    static Set<Path> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.collect(Collectors.toSet());
        }
    }

    // ---------------------------------------------------------------- the type itself

    @Test
    void rangesAcceptTheirBoundsAsStated() {
        accepts(new FiniteNumber.Fraction(), "1", "0.5", "1e-9", " 0.25 ");
        refuses(new FiniteNumber.Fraction(), "0", "-0", "1.0000001", "NaN", "", "abc", "1,5");
        accepts(new FiniteNumber.Share(), "0", "-0", "1");
        refuses(new FiniteNumber.Share(), "-1e-9", "1.5");
        accepts(new FiniteNumber.OpenFraction(), "0.05", "0.95");
        refuses(new FiniteNumber.OpenFraction(), "0", "1");
        accepts(new FiniteNumber.Positive(), "1e-300", "1e300", "0x1p-3");
        refuses(new FiniteNumber.Positive(), "0", "1e-400", "-1", "Infinity", "1e999", "0x1p2000");
        accepts(new FiniteNumber.NonNegative(), "0", "30");
        refuses(new FiniteNumber.NonNegative(), "-0.001", "-Infinity");
        accepts(new FiniteNumber.Any(), "-1e300", "0", "1e300");
        refuses(new FiniteNumber.Any(), "NaN", "Infinity", "-Infinity", "-1e999");
        accepts(new FiniteNumber.ShareOrNegative(), "-1", "-1e300", "0.0028935185185185184", "1");
        refuses(new FiniteNumber.ShareOrNegative(), "1.01", "-Infinity");
        accepts(new FiniteNumber.FrameRate(), "1000", "0.5");
        refuses(new FiniteNumber.FrameRate(), "1000.5", "0");
        accepts(new FiniteNumber.Timeout(), "3600", "0.1");
        refuses(new FiniteNumber.Timeout(), "0", "3600.1");
        accepts(new FiniteNumber.Seconds(), "0", "1e6");
        refuses(new FiniteNumber.Seconds(), "-1", "1000000.5");
        accepts(new FiniteNumber.PositiveSeconds(), "0.3", "1e6");
        refuses(new FiniteNumber.PositiveSeconds(), "0", "1e300");
        assertEquals(0L, Double.doubleToRawLongBits(new FiniteNumber.Share().convert("-0")), "-0 is read as 0");
        assertEquals("a finite number in (0, 1]", new FiniteNumber.Fraction().range());
        assertEquals("a finite number > 0", new FiniteNumber.Positive().range());
        assertEquals("a finite number >= 0", new FiniteNumber.NonNegative().range());
        assertEquals("a finite number <= 1", new FiniteNumber.ShareOrNegative().range());
        assertEquals("a finite number", new FiniteNumber.Any().range());
    }

    static void accepts(FiniteNumber type, String... values) {
        for (String v : values) assertDoesNotThrow(() -> type.convert(v), type.getClass().getSimpleName() + " " + v);
    }

    static void refuses(FiniteNumber type, String... values) {
        for (String v : values) {
            CommandLine.TypeConversionException e = assertThrows(CommandLine.TypeConversionException.class, () -> type.convert(v),
                    type.getClass().getSimpleName() + " " + v);
            assertTrue(e.getMessage().startsWith("must be " + type.range() + ", got '" + v + "'"), e.getMessage());
        }
    }
}
