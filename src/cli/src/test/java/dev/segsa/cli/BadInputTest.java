package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.segsa.model.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each bad input gets exit status 1, a message naming the file and the problem, and leaves no
 * output file (nor a temporary one) behind.
 */
class BadInputTest {
    @TempDir
    static Path shared;
    static Path fixture;
    static Path model;
    static Path goodSa;

    @TempDir
    Path dir;
    Path images;
    Path labels;

    @BeforeAll
    static void fixtureModel() throws Exception {
        fixture = Path.of(BadInputTest.class.getResource("/e2e").toURI());
        JsonNode m = EndToEndTest.JSON.readTree(fixture.resolve("model.json").toFile());
        model = shared.resolve("fixture.pt");
        TestModels.saveFixtureModel(model, EndToEndTest.floats(m.get("w1")), EndToEndTest.floats(m.get("b1")),
                EndToEndTest.floats(m.get("w2")), EndToEndTest.floats(m.get("b2")), m.get("classes").asInt());
        goodSa = shared.resolve("good.sa");
        assertEquals(0, EndToEndTest.run("fit", "--model", model.toString(), "--images", fixture.resolve("train/images").toString(),
                "--labels", fixture.resolve("train/labels").toString(), "--out", goodSa.toString(), "--lsa-references", "50"));
    }

    @BeforeEach
    void copyFixture() throws IOException {
        images = dir.resolve("images");
        labels = dir.resolve("labels");
        copyDir(fixture.resolve("train/images"), images);
        copyDir(fixture.resolve("train/labels"), labels);
    }

    private static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName()));
        }
    }

    record Outcome(int status, String err) {}

    private Outcome run(String... args) {
        var cl = SegsaCommand.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int status = cl.execute(args);
        return new Outcome(status, err.toString());
    }

    private Outcome fit(Path out, String... extra) {
        String[] base = {"fit", "--model", model.toString(), "--images", images.toString(), "--labels", labels.toString(),
                "--out", out.toString(), "--lsa-references", "50"};
        String[] all = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return run(all);
    }

    private void assertRefused(Outcome o, Path out, String... fragments) throws IOException {
        assertEquals(1, o.status(), o.err());
        for (String f : fragments) assertTrue(o.err().contains(f), "expected '" + f + "' in: " + o.err());
        assertFalse(Files.exists(out), "output left behind: " + out);
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary file left behind");
        }
    }

    @Test
    void missingImageDirectory() throws IOException {
        Path out = dir.resolve("m.sa");
        Path missing = dir.resolve("nowhere");
        Outcome o = run("fit", "--model", model.toString(), "--images", missing.toString(), "--labels", labels.toString(),
                "--out", out.toString());
        assertRefused(o, out, missing.toString(), "images directory not found");
    }

    @Test
    void corruptImage() throws IOException {
        Path bad = images.resolve("f001.png");
        Files.write(bad, "this is not a png".getBytes());
        Path out = dir.resolve("m.sa");
        assertRefused(fit(out), out, bad.toString(), "cannot decode image");
    }

    @Test
    void missingLabelFile() throws IOException {
        Files.delete(labels.resolve("f002.png"));
        Path out = dir.resolve("m.sa");
        assertRefused(fit(out), out, "f002.png", "no label file");
    }

    @Test
    void labelOfWrongSize() throws IOException {
        Path bad = labels.resolve("f000.png");
        writeGray(bad, 31, 24, 0);
        Path out = dir.resolve("m.sa");
        assertRefused(fit(out), out, bad.toString(), "label mask is 31x24 but frame f000.png is 32x24");
    }

    @Test
    void labelIdOutOfRange() throws IOException {
        Path bad = labels.resolve("f003.png");
        writeGray(bad, 32, 24, 7);
        Path out = dir.resolve("m.sa");
        assertRefused(fit(out), out, bad.toString(), "has label 7 but the model has 4 classes");
    }

    @Test
    void colourLabelIsRefused() throws IOException {
        Path bad = labels.resolve("f003.png");
        javax.imageio.ImageIO.write(new BufferedImage(32, 24, BufferedImage.TYPE_INT_RGB), "png", bad.toFile());
        Path out = dir.resolve("m.sa");
        assertRefused(fit(out), out, bad.toString(), "8-bit single-channel");
    }

    @Test
    void truncatedModel() throws IOException {
        byte[] bytes = Files.readAllBytes(model);
        Path cut = dir.resolve("cut.pt");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 3));
        Path out = dir.resolve("m.sa");
        Outcome o = run("fit", "--model", cut.toString(), "--images", images.toString(), "--labels", labels.toString(),
                "--out", out.toString());
        assertRefused(o, out, cut.toString(), "not a loadable TorchScript model");
    }

    @Test
    void modelWithWrongOutput() throws IOException {
        Path bad = dir.resolve("single.pt");
        TestModels.saveScript(bad, "return torch.avg_pool2d(x, [4, 4])");
        Path out = dir.resolve("m.sa");
        Outcome o = run("fit", "--model", bad.toString(), "--images", images.toString(), "--labels", labels.toString(),
                "--out", out.toString());
        assertRefused(o, out, bad.toString(), "does not follow the segsa contract", "a single tensor of shape [1, 3, 6, 8]");
    }

    @Test
    void nanFeatures() throws IOException {
        Path bad = dir.resolve("nan.pt");
        TestModels.saveScript(bad, "f = torch.log(torch.avg_pool2d(x, [4, 4]) - 100.0)\nreturn (f, torch.cat([f, f[:, 0:1]], 1))");
        Path out = dir.resolve("m.sa");
        Outcome o = run("fit", "--model", bad.toString(), "--images", images.toString(), "--labels", labels.toString(),
                "--out", out.toString());
        assertRefused(o, out, "NaN/Inf feature values", "no usable training frame");
    }

    @Test
    void truncatedSaModel() throws IOException {
        byte[] bytes = Files.readAllBytes(goodSa);
        Path cut = dir.resolve("cut.sa");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 100));
        Path out = dir.resolve("scores.csv");
        Outcome o = run("score", "--model", model.toString(), "--sa", cut.toString(), "--images", images.toString(),
                "--out", out.toString());
        assertRefused(o, out, cut.toString(), "truncated or corrupted");
    }

    @Test
    void saModelOfAnotherVersion() throws IOException {
        byte[] bytes = Files.readAllBytes(goodSa);
        bytes[8] = 99;
        Path other = dir.resolve("v99.sa");
        Files.write(other, bytes);
        Path out = dir.resolve("scores.csv");
        Outcome o = run("score", "--model", model.toString(), "--sa", other.toString(), "--images", images.toString(),
                "--out", out.toString());
        assertRefused(o, out, other.toString(), "format version 99");
    }

    @Test
    void scoreWithAnotherModel() throws IOException {
        Path other = dir.resolve("other.pt");
        TestModels.saveRandomConvNet(other, 10, 4, 3);
        Path out = dir.resolve("scores.csv");
        Outcome o = run("score", "--model", other.toString(), "--sa", goodSa.toString(), "--images", images.toString(),
                "--out", out.toString());
        assertRefused(o, out, "fitted with model fixture.pt", "--allow-model-mismatch");
    }

    @Test
    void lsaWithoutReferences() throws IOException {
        Path sa = dir.resolve("nolsa.sa");
        assertEquals(0, run("fit", "--model", model.toString(), "--images", images.toString(), "--labels", labels.toString(),
                "--out", sa.toString(), "--lsa-references", "0").status());
        Path out = dir.resolve("scores.csv");
        Outcome o = run("score", "--model", model.toString(), "--sa", sa.toString(), "--images", images.toString(),
                "--out", out.toString(), "--lsa");
        assertRefused(o, out, "--lsa-references 0");
    }

    @Test
    void badGroupSpec() throws IOException {
        Path out = dir.resolve("scores.csv");
        Outcome o = run("score", "--model", model.toString(), "--sa", goodSa.toString(), "--images", images.toString(),
                "--out", out.toString(), "--groups", "lanes=1,9");
        assertRefused(o, out, "group 'lanes': class 9 is out of range 0..3");
    }

    static void writeGray(Path file, int w, int h, int value) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = new byte[w * h];
        Arrays.fill(px, (byte) value);
        img.getRaster().setDataElements(0, 0, w, h, px);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(img, "png", b);
        Files.write(file, b.toByteArray());
    }
}
