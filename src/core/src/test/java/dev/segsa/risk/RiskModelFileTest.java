package dev.segsa.risk;

import dev.segsa.error.SegsaException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.*;

/** The risk model file read through the shared strict readers (SmallTextFile, StrictJson): round trip and refusals. */
class RiskModelFileTest {
    static final List<String> CLASSES = List.of("Road", "Car", "Pedestrian");

    @TempDir
    Path dir;

    static RiskModel model() {
        int n = RiskModel.inputs(3, CLASSES.size(), true);
        RiskModel.Tree tree = new RiskModel.Tree(new int[] {n - 2, -1, -1}, new double[] {0.5, 0, 0}, new int[] {1, 0, 0},
                new int[] {2, 0, 0}, new double[] {0, 0.75, 0.25});
        double[] ones = new double[n];
        Arrays.fill(ones, 1);
        double[] w = new double[n + 1];
        w[0] = 0.125;
        return new RiskModel("ab", "cd", CLASSES, RiskModel.HEAT_MAPS, true, true, new double[n], ones, w, w.clone(), List.of(tree), 0.5,
                new double[] {0, 1, 1});
    }

    static byte[] frame(String body) {
        return frame(body.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] frame(byte[] b) {
        ByteBuffer o = ByteBuffer.allocate(16 + b.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        o.put("SEGSA-RK".getBytes(StandardCharsets.US_ASCII)).putInt(1).putInt(b.length).put(b);
        CRC32C crc = new CRC32C();
        crc.update(o.array(), 0, o.position());
        o.putLong(crc.getValue());
        return o.array();
    }

    String body() throws Exception {
        Path f = dir.resolve("good.model");
        RiskModelFile.write(model(), f);
        byte[] all = Files.readAllBytes(f);
        return new String(all, 16, all.length - 24, StandardCharsets.UTF_8);
    }

    String refused(String name, byte[] content, String word) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, content);
        SegsaException e = assertThrows(SegsaException.class, () -> RiskModelFile.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(word), word + " in: " + e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e.getMessage();
    }

    @Test
    void roundTrip() throws Exception {
        Path f = dir.resolve("m.model");
        RiskModel m = model();
        RiskModelFile.write(m, f);
        RiskModel back = RiskModelFile.read(f);
        assertEquals(m.classNames(), back.classNames());
        assertArrayEquals(m.logistic(), back.logistic());
        assertArrayEquals(m.trees().get(0).feature(), back.trees().get(0).feature());
        assertEquals(0.5, back.treeBase());
        // files written before "withProbabilities" read as true
        String old = body().replace("\"withProbabilities\":true,", "");
        Path o = dir.resolve("old.model");
        Files.write(o, frame(old));
        assertTrue(RiskModelFile.read(o).withProbabilities());
    }

    @Test
    void lenientJsonIsRefused() throws Exception {
        String body = body();
        String m = refused("dup.model", frame(body.replaceFirst("\\{", "{\"withSa\":false,")), "not valid JSON");
        assertTrue(m.contains("\"withSa\""), m);
        refused("nan.model", frame(body.replaceFirst("\"logistic\":\\[[^,\\]]+", "\"logistic\":[NaN")), "not valid JSON");
        refused("trailing.model", frame(body + " {}"), "content after the end");
        assertEquals(dir.resolve("float.model") + ": risk model body: trees[0].feature[0] must be an integer in [-2147483648, 2147483647], got 2.5",
                refused("float.model", frame(body.replaceFirst("\"feature\":\\[[^,\\]]+", "\"feature\":[2.5")), "trees[0].feature[0]"));
        refused("string.model", frame(body.replaceFirst("\"logistic\":\\[[^,\\]]+", "\"logistic\":[\"NaN\"")), "logistic[0] must be a finite number");
        refused("nosa.model", frame(body.replace("\"withSa\":true,", "")), "withSa is missing");
        // the ö as one Latin-1 byte, with the length and the checksum made to fit
        byte[] latin1 = frame(body.replace("\"Road\"", "\"R\u00f6ad\"").getBytes(StandardCharsets.ISO_8859_1));
        refused("latin1.model", latin1, "risk model body is not valid UTF-8");
    }

    @Test
    void notARegularFileIsRefused() throws Exception {
        Path zero = Path.of("/dev/zero");
        if (Files.exists(zero)) {
            SegsaException e = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertThrows(SegsaException.class, () -> RiskModelFile.read(zero)));
            assertEquals("/dev/zero: risk model file is not a regular file (a device, FIFO or socket)", e.getMessage());
        }
        assertTrue(assertThrows(SegsaException.class, () -> RiskModelFile.read(dir)).getMessage().contains("is a directory"));
        assertTrue(assertThrows(SegsaException.class, () -> RiskModelFile.read(dir.resolve("missing.model"))).getMessage()
                .endsWith("risk model file not found"));
    }
}
