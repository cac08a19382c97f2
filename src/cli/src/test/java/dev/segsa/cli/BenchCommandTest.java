package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.segsa.SegsaFit;
import dev.segsa.model.TestModels;
import dev.segsa.risk.RiskModel;
import dev.segsa.risk.RiskModelFile;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** segsa bench on a small model and synthetic frames, with a throwaway SA model and a thread sweep: the table and the JSON. */
class BenchCommandTest {
    @TempDir
    Path dir;

    @Test
    void benchmarksAModelWithoutAnSaModelAtTwoThreadCounts() throws Exception {
        Path model = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(model, 8, 4, 5);
        Path json = dir.resolve("bench.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int status;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            status = SegsaCommand.commandLine().execute("bench", "--model", model.toString(), "--synthetic", "96x64", "--seconds", "0.2",
                    "--threads", "1,2", "--repeats", "3", "--lsa", "--json", json.toString());
        } finally {
            System.setOut(old);
        }
        String table = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, table);
        assertTrue(table.contains("kernel px/s") && table.contains("peer px/s") && table.contains("overhead"), table);
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertEquals(2, j.get("runs").size());
        for (JsonNode r : j.get("runs")) {
            assertTrue(r.get("framesPerSecond").asDouble() > 0, r.toString());
            assertTrue(r.get("kernelPixelsPerSecond").asDouble() > 0, r.toString());
            assertTrue(r.get("peerPixelsPerSecond").asDouble() > 0, r.toString());
            for (String stage : new String[] {"decode", "forward", "post-forward", "sa", "frame", "bare-forward"}) {
                assertTrue(r.get("latencyMs").has(stage) && r.get("latencyMs").get(stage).get("p999").asDouble() > 0, stage + ": " + r);
            }
            double frame = r.get("frameMeanMs").asDouble(), decode = r.get("decodeMeanMs").asDouble(),
                    bare = r.get("bareForwardMeanMs").asDouble();
            assertTrue(bare > 0 && frame > decode, r.toString());
            assertEquals((frame - decode - bare) / bare, r.get("overhead").asDouble(), 1e-9, r.toString());
            assertEquals(1000 / bare, r.get("bareForwardPerSecond").asDouble(), 1e-9, r.toString());
        }
        assertEquals(1, j.get("runs").get(0).get("threads").asInt());
        assertEquals(96, j.get("frameWidth").asInt());
        assertEquals(BenchCommand.JSON_SCHEMA_VERSION, j.get("schemaVersion").asInt());
        assertTrue(j.get("segsa").asText().startsWith("segsa ") && j.get("jdk").asText().startsWith("25")
                && !j.get("timestamp").asText().isEmpty(), j.toString());
        if (j.get("runs").get(0).get("frames").asInt() < BenchCommand.FEW_FRAMES) {
            assertTrue(j.get("runs").get(0).get("warning").asText().contains("raise --seconds"), j.toString());
        }
        // repeats: per thread count the median and min-max of frames/s and overhead over the 3 repeats
        assertTrue(table.contains("3 repeats of 0.2 s") && table.contains("f/s min-max") && table.contains("ovh min-max")
                && table.contains("lsa px/s"), table);
        for (JsonNode r : j.get("runs")) {
            assertEquals(3, r.get("repeats").size(), r.toString());
            for (String k : new String[] {"framesPerSecondStats", "overheadStats"}) {
                JsonNode st = r.get(k);
                assertEquals(3, st.get("values").size(), k + ": " + st);
                double[] v = {st.get("values").get(0).asDouble(), st.get("values").get(1).asDouble(), st.get("values").get(2).asDouble()};
                Arrays.sort(v);
                assertEquals(v[0], st.get("min").asDouble(), 0, k);
                assertEquals(v[1], st.get("median").asDouble(), 0, k);
                assertEquals(v[2], st.get("max").asDouble(), 0, k);
            }
            // the run's own figures are the median repeat's
            assertEquals(r.get("framesPerSecondStats").get("median").asDouble(), r.get("framesPerSecond").asDouble(), 0);
            assertTrue(r.get("lsaPixelsPerSecond").asDouble() > 0 && r.get("lsaMsPerFrame").asDouble() > 0, r.toString());
        }
        // every setting of the run
        assertEquals("https://segsa.dev/schemas/bench-3.schema.json", j.get("$schema").asText());
        assertEquals(3, j.get("repeats").asInt());
        assertEquals(0.2, j.get("secondsPerRepeat").asDouble(), 0);
        assertFalse(j.get("optimizeModel").asBoolean());
        assertTrue(j.get("lsa").asBoolean());
        assertTrue(j.get("lsaReferences").asLong() > 0, j.toString());
        assertEquals("synthetic", j.get("framesSource").get("kind").asText());
        assertEquals("96x64", j.get("framesSource").get("size").asText());
        assertTrue(j.get("saThrowaway").asBoolean() && j.get("sa").isNull(), j.toString());
        assertEquals(64, j.get("saSha256").asText().length());
        assertEquals(System.getProperty("os.name"), j.get("os").get("name").asText());
        assertEquals(System.getProperty("os.arch"), j.get("os").get("arch").asText());
        assertTrue(j.get("os").has("version") && j.get("machine").get("cores").asInt() > 0, j.toString());
        assertTrue(j.get("loadAverageBefore").isArray() && j.get("loadAverageAfter").isArray(), j.toString());
        assertEquals(SegsaCommand.version(), j.get("segsaVersion").asText());
        assertEquals(List.of("segsa", "bench", "--model"), List.of(j.get("commandLine").get(0).asText(), j.get("commandLine").get(1).asText(),
                j.get("commandLine").get(2).asText()));
        assertTrue(j.get("commandLine").toString().contains("--repeats"), j.toString());
        // and it matches the shipped JSON Schema's required fields and types
        JsonNode schema;
        try (InputStream in = BenchCommand.class.getResourceAsStream(BenchCommand.JSON_SCHEMA_RESOURCE)) {
            assertNotNull(in, "the schema resource");
            schema = new ObjectMapper().readTree(in);
        }
        assertEquals("https://json-schema.org/draft/2020-12/schema", schema.get("$schema").asText());
        assertEquals(j.get("$schema").asText(), schema.get("$id").asText());
        assertEquals(BenchCommand.JSON_SCHEMA_VERSION, schema.get("properties").get("schemaVersion").get("const").asInt());
        checkSchema(j, schema, schema, "$");
        // and the schema refuses what a broken writer would produce (each a copy of this run's JSON with one fault)
        List<java.util.function.Consumer<com.fasterxml.jackson.databind.node.ObjectNode>> faults = List.of(
                o -> ((com.fasterxml.jackson.databind.node.ObjectNode) o.get("runs").get(0)).remove("lsaMsPerFrame"),
                o -> ((com.fasterxml.jackson.databind.node.ObjectNode) o.get("runs").get(0).get("latencyMs")).remove("lsa"),
                o -> ((com.fasterxml.jackson.databind.node.ObjectNode) o.get("runs").get(0)).putObject("latencyMs"),
                o -> ((com.fasterxml.jackson.databind.node.ObjectNode) o.get("runs").get(0)).put("framesPerSec", 1.0),
                o -> ((com.fasterxml.jackson.databind.node.ObjectNode) o.get("machine")).put("cpuz", "x"),
                o -> o.put("lsaReferences", -5),
                o -> o.remove("libtorch"),
                o -> o.put("lsa", false));  // LSA figures in a run that says it had no LSA
        for (int i = 0; i < faults.size(); i++) {
            com.fasterxml.jackson.databind.node.ObjectNode broken = j.deepCopy();
            faults.get(i).accept(broken);
            assertThrows(AssertionError.class, () -> checkSchema(broken, schema, schema, "$"), "fault " + i + " passed the schema");
        }
    }

    /** The bench JSON files kept beside bench/RESULTS.md are valid against the shipped schema. */
    @Test
    void theKeptResultsMatchTheSchema() throws Exception {
        JsonNode schema;
        try (InputStream in = BenchCommand.class.getResourceAsStream(BenchCommand.JSON_SCHEMA_RESOURCE)) {
            schema = new ObjectMapper().readTree(in);
        }
        int n = 0;
        try (var files = java.nio.file.Files.newDirectoryStream(java.nio.file.Path.of("bench/results"), "segsa-bench-*.json")) {
            for (java.nio.file.Path f : files) {
                checkSchema(new ObjectMapper().readTree(f.toFile()), schema, schema, f.toString());
                n++;
            }
        }
        assertTrue(n >= 3, n + " kept bench JSON files");
    }

    /**
     * A check of {@code node} against the JSON Schema keywords the bench schema uses: $ref, type, const, enum, minimum,
     * exclusiveMinimum, pattern, minItems, maxItems, required, properties, additionalProperties (false or a schema),
     * propertyNames, items, allOf, if/then/else, anyOf and not. Throws an AssertionError naming the place.
     */
    static void checkSchema(JsonNode node, JsonNode schema, JsonNode root, String where) {
        if (schema.has("$ref")) {
            String ref = schema.get("$ref").asText();
            assertTrue(ref.startsWith("#/$defs/"), ref);
            schema = root.get("$defs").get(ref.substring("#/$defs/".length()));
            assertNotNull(schema, ref);
        }
        if (schema.has("type")) {
            JsonNode t = schema.get("type");
            boolean ok = false;
            for (JsonNode one : t.isArray() ? t : List.of(t)) ok |= hasType(node, one.asText());
            assertTrue(ok, where + " should be " + t + ", is " + node);
        }
        if (schema.has("const")) assertEquals(schema.get("const"), node, where);
        if (schema.has("enum")) {
            boolean in = false;
            for (JsonNode e : schema.get("enum")) in |= e.equals(node);
            assertTrue(in, where + " is " + node + ", not one of " + schema.get("enum"));
        }
        if (node.isNumber() && schema.has("minimum")) assertTrue(node.asDouble() >= schema.get("minimum").asDouble(), where + " below minimum");
        if (node.isNumber() && schema.has("exclusiveMinimum")) {
            assertTrue(node.asDouble() > schema.get("exclusiveMinimum").asDouble(), where + " not above its exclusive minimum");
        }
        if (node.isTextual() && schema.has("pattern")) {
            assertTrue(java.util.regex.Pattern.compile(schema.get("pattern").asText()).matcher(node.asText()).find(), where + " pattern");
        }
        if (node.isArray() && schema.has("minItems")) assertTrue(node.size() >= schema.get("minItems").asInt(), where + " too few items");
        if (node.isArray() && schema.has("maxItems")) assertTrue(node.size() <= schema.get("maxItems").asInt(), where + " too many items");
        if (node.isObject()) {
            for (JsonNode req : schema.path("required")) assertTrue(node.has(req.asText()), where + " lacks " + req.asText());
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (schema.has("propertyNames")) {
                    checkSchema(com.fasterxml.jackson.databind.node.TextNode.valueOf(e.getKey()), schema.get("propertyNames"), root,
                            where + " key " + e.getKey());
                }
                JsonNode sub = schema.path("properties").get(e.getKey());
                JsonNode additional = schema.get("additionalProperties");
                if (sub == null && additional != null) {
                    assertFalse(additional.isBoolean() && !additional.asBoolean(), where + " has an unknown field " + e.getKey());
                    if (additional.isObject()) sub = additional;
                }
                if (sub != null) checkSchema(e.getValue(), sub, root, where + "." + e.getKey());
            }
        }
        if (node.isArray() && schema.has("items")) {
            for (int i = 0; i < node.size(); i++) checkSchema(node.get(i), schema.get("items"), root, where + "[" + i + "]");
        }
        for (JsonNode part : schema.path("allOf")) checkSchema(node, part, root, where);
        if (schema.has("if")) {
            if (matches(node, schema.get("if"), root)) {
                if (schema.has("then")) checkSchema(node, schema.get("then"), root, where + " (then)");
            } else if (schema.has("else")) {
                checkSchema(node, schema.get("else"), root, where + " (else)");
            }
        }
        if (schema.has("anyOf")) {
            boolean any = false;
            for (JsonNode alt : schema.get("anyOf")) any |= matches(node, alt, root);
            assertTrue(any, where + " matches none of anyOf");
        }
        if (schema.has("not")) assertFalse(matches(node, schema.get("not"), root), where + " matches what it must not");
    }

    private static boolean matches(JsonNode node, JsonNode schema, JsonNode root) {
        try {
            checkSchema(node, schema, root, "");
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }

    private static boolean hasType(JsonNode n, String type) {
        return switch (type) {
            case "object" -> n.isObject();
            case "array" -> n.isArray();
            case "string" -> n.isTextual();
            case "integer" -> n.isIntegralNumber();
            case "number" -> n.isNumber();
            case "boolean" -> n.isBoolean();
            case "null" -> n.isNull();
            default -> throw new AssertionError("unknown type " + type);
        };
    }

    /** An even number of repeats: the median is the lower middle repeat's value, never a mean of two repeats. */
    @Test
    void anEvenNumberOfRepeatsTakesTheLowerMiddleRepeat() {
        assertEquals(10.53, BenchStats.Spread.of(new double[] {23.35, 10.53}).median(), 0);
        assertEquals(2.0, BenchStats.Spread.of(new double[] {4, 1, 3, 2}).median(), 0);
        assertEquals(3.0, BenchStats.Spread.of(new double[] {5, 1, 3}).median(), 0);
    }

    /** A bench JSON by hand: one run per thread count with the given frames/s and overhead spreads (median, min, max). */
    private Path benchJson(String name, double[][] fps, double[][] overhead) throws Exception {
        StringBuilder runs = new StringBuilder();
        for (int i = 0; i < fps.length; i++) {
            if (i > 0) runs.append(',');
            runs.append(String.format(java.util.Locale.ROOT, "{\"threads\": %d, \"framesPerSecond\": %s, "
                            + "\"framesPerSecondStats\": {\"median\": %s, \"min\": %s, \"max\": %s, \"values\": []}, "
                            + "\"overheadStats\": {\"median\": %s, \"min\": %s, \"max\": %s, \"values\": []}}",
                    i + 1, fps[i][0], fps[i][0], fps[i][1], fps[i][2], overhead[i][0], overhead[i][1], overhead[i][2]));
        }
        Path p = dir.resolve(name);
        Files.writeString(p, "{\"$schema\": \"" + BenchCommand.JSON_SCHEMA_ID + "\", \"schemaVersion\": 3, \"repeats\": 3, "
                + "\"secondsPerRepeat\": 10, \"lsa\": false, \"runs\": [" + runs + "]}");
        return p;
    }

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        int status;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            picocli.CommandLine cl = SegsaCommand.commandLine();
            cl.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
            status = cl.execute(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new String[] {Integer.toString(status), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    /**
     * --compare: at 1 thread frames/s rose 100 -> 120 with ranges 98-102 and 118-122 (exceeds the spread) and the overhead
     * moved 25% -> 24% with overlapping ranges (within); at 2 threads frames/s 180 -> 185 with overlapping ranges; a thread count
     * only in one file is left out.
     */
    @Test
    void compareReportsChangesBeyondAndWithinTheSpread() throws Exception {
        Path a = benchJson("a.json", new double[][] {{100, 98, 102}, {180, 170, 190}, {250, 240, 260}},
                new double[][] {{0.25, 0.20, 0.30}, {0.30, 0.28, 0.32}, {0.4, 0.4, 0.4}});
        Path b = benchJson("b.json", new double[][] {{120, 118, 122}, {185, 175, 195}},
                new double[][] {{0.24, 0.22, 0.26}, {0.50, 0.45, 0.55}});
        String[] r = run("bench", "--compare", a.toString(), b.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        String out = r[1];
        assertTrue(out.contains("threads=1: frames/s median 100.00 -> 120.00 (+20.0%), exceeds the spread (a 98.00-102.00, b 118.00-122.00); "
                + "overhead median 25.0% -> 24.0% (-1.0 points), within the spread (a 20.0%-30.0%, b 22.0%-26.0%)"), out);
        assertTrue(out.contains("threads=2: frames/s median 180.00 -> 185.00 (+2.8%), within the spread")
                && out.contains("overhead median 30.0% -> 50.0% (+20.0 points), exceeds the spread"), out);
        assertFalse(out.contains("threads=3"), out);
        // without --compare, --model is still required (a usage error), and --repeats must be positive
        assertEquals("2", run("bench", "--synthetic", "32x32")[0]);
        assertEquals("2", run("bench", "--model", a.toString(), "--repeats", "0")[0]);
    }

    /** --compare refuses a file that is not bench JSON (or an old one without repeats), in one line naming it. */
    @Test
    void compareRefusesFilesThatAreNotBenchJson() throws Exception {
        Path good = benchJson("a.json", new double[][] {{100, 98, 102}}, new double[][] {{0.25, 0.2, 0.3}});
        Path other = dir.resolve("other.json");
        Files.writeString(other, "{\"classes\": [\"road\", \"car\"]}");
        Path old = dir.resolve("old.json");
        Files.writeString(old, "{\"schemaVersion\": 2, \"runs\": [{\"threads\": 1, \"framesPerSecond\": 10}]}");
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "not json at all");
        for (Path bad : List.of(other, old, text)) {
            String[] r = run("bench", "--compare", good.toString(), bad.toString());
            assertNotEquals("0", r[0], r[1]);
            String err = r[2].strip();
            assertFalse(err.contains("\n"), err);
            assertTrue(err.contains(bad.toString()) && err.contains("is not a segsa bench JSON file"), err);
        }
    }

    /**
     * --risk with the --sa model it was fitted for: the engine runs with segments and risk, the engine without them
     * alternates in the same run (withoutSegments), and the JSON records both settings; --risk without --sa is refused.
     */
    @Test
    void segmentsAndRiskAreMeasuredBesideTheEngineWithoutThem() throws Exception {
        Path model = dir.resolve("net.pt");
        TestModels.saveRandomConvNet(model, 8, 4, 5);
        Path saFile = dir.resolve("net.sa");
        SplittableRandom rnd = new SplittableRandom(3);
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).open()) {
            for (int i = 0; i < 4; i++) {
                BufferedImage img = new BufferedImage(96, 64, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 64; y++) for (int x = 0; x < 96; x++) img.setRGB(x, y, rnd.nextInt(1 << 24));
                fit.addSelfLabelled("f" + i, img);
            }
            SaModelFile.write(fit.finish(), saFile);
        }
        SaModel sa = SaModelFile.read(saFile);
        List<String> classes = sa.settings().classNames();
        int n = RiskModel.inputs(RiskModel.HEAT_MAPS.size(), classes.size(), true);
        double[] ones = new double[n], w = new double[n + 1];
        Arrays.fill(ones, 1);
        w[n] = 0.5;
        double[] weights = new double[classes.size()];
        Arrays.fill(weights, 1);
        Path riskFile = dir.resolve("net.risk");
        RiskModelFile.write(new RiskModel(sa.settings().modelSha256(), sa.fingerprint(), classes, RiskModel.HEAT_MAPS, true, true, new double[n],
                ones, w, w.clone(), List.of(), 0, weights), riskFile);

        Path json = dir.resolve("bench.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int status;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            status = SegsaCommand.commandLine().execute("bench", "--model", model.toString(), "--sa", saFile.toString(), "--risk",
                    riskFile.toString(), "--synthetic", "96x64", "--seconds", "0.3", "--threads", "1", "--json", json.toString());
        } finally {
            System.setOut(old);
        }
        String table = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, table);
        assertTrue(table.contains("with segments and risk") && table.contains("without segments and risk (same run)"), table);
        JsonNode j = new ObjectMapper().readTree(json.toFile());
        assertTrue(j.get("segments").asBoolean(), j.toString());
        assertEquals(riskFile.toString(), j.get("risk").asText());
        JsonNode r = j.get("runs").get(0), p = r.get("withoutSegments");
        assertNotNull(p, r.toString());
        assertTrue(p.get("frames").asInt() > 0 && p.get("framesPerSecond").asDouble() > 0, p.toString());
        double bare = r.get("bareForwardMeanMs").asDouble();
        assertEquals((p.get("frameMeanMs").asDouble() - p.get("decodeMeanMs").asDouble() - bare) / bare, p.get("overhead").asDouble(), 1e-9);
        assertEquals((r.get("frameMeanMs").asDouble() - r.get("decodeMeanMs").asDouble())
                - (p.get("frameMeanMs").asDouble() - p.get("decodeMeanMs").asDouble()), p.get("segmentsAddMs").asDouble(), 1e-9);
        assertTrue(p.get("latencyMs").has("sa"), p.toString());

        int refused = SegsaCommand.commandLine().execute("bench", "--model", model.toString(), "--risk", riskFile.toString(),
                "--synthetic", "96x64", "--seconds", "0.3");
        assertNotEquals(0, refused);
    }
}
