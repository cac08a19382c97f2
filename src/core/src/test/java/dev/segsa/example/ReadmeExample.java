package dev.segsa.example;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The README's copy of an example (a java block between two markers) against the example's source (between // README:start and end). */
final class ReadmeExample {
    private ReadmeExample() {}

    /**
     * Asserts that README.md's block between {@code <!-- name:start -->} and {@code <!-- name:end -->} holds the code of
     * {@code source} between its {@code // README:start} and {@code // README:end} lines, blank lines and indentation aside.
     */
    static void assertShownVerbatim(String name, Path source) throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        int a = readme.indexOf("<!-- " + name + ":start -->"), b = readme.indexOf("<!-- " + name + ":end -->");
        assertTrue(a >= 0 && b > a, "README.md has the " + name + " markers");
        String block = readme.substring(a, b);
        block = block.substring(block.indexOf("```java") + 7, block.lastIndexOf("```"));
        String src = Files.readString(source);
        String code = src.substring(src.indexOf("// README:start") + "// README:start".length(), src.indexOf("// README:end"));
        assertEquals(normalise(code), normalise(block), "README's " + name + " differs from " + source.getFileName());
    }

    private static String normalise(String s) {
        StringBuilder b = new StringBuilder();
        for (String line : s.strip().split("\n")) if (!line.isBlank()) b.append(line.strip()).append('\n');
        return b.toString();
    }
}
