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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
            status = SegsaCommand.commandLine().execute("bench", "--model", model.toString(), "--synthetic", "96x64", "--seconds", "0.3",
                    "--threads", "1,2", "--json", json.toString());
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
