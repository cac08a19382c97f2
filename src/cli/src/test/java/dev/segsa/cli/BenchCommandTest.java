package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.segsa.model.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

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
}
