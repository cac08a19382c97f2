package dev.segsa.synth;

import dev.segsa.cli.SegsaCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** {@code segsa generate} through the real command line. */
class GenerateCommandTest {
    @TempDir
    Path dir;

    record Outcome(int status, String out, String err) {}

    private static Outcome run(String... args) {
        var cl = SegsaCommand.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        var stdout = System.out;
        var captured = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(captured, true));
        try {
            int status = cl.execute(args);
            return new Outcome(status, out + captured.toString(), err.toString());
        } finally {
            System.setOut(stdout);
        }
    }

    @Test
    void writesImagesLabelsAndManifestThatReproduceTheFrames() throws IOException {
        Path out = dir.resolve("synth");
        Outcome o = run("generate", "--out", out.toString(), "--frames", "7", "--seed", "5", "--sequence-length", "3",
                "--conditions", "time=day,night,traffic=mix,shadows=complex:1,none:1,noise=0..0.2", "--threads", "3");
        assertEquals(0, o.status(), o.err());
        assertTrue(o.out().contains("Road Area") && o.out().contains("7 frames in"), o.out());

        List<String> rows = Files.readAllLines(out.resolve("manifest.csv"));
        assertEquals(SyntheticDataset.MANIFEST_HEADER, rows.getFirst());
        assertEquals(8, rows.size());
        for (int i = 0; i < 7; i++) {
            String[] r = rows.get(i + 1).split(",");
            assertEquals(String.format("%06d.png", i), r[0]);
            assertEquals(i / 3, Integer.parseInt(r[2]), "sequence");
            assertEquals(i % 3, Integer.parseInt(r[3]), "index in sequence");
            assertEquals("3", r[4]);
            if (i % 3 != 0) {
                String[] previous = rows.get(i).split(",");
                for (int col : new int[] {1, 2, 4, 5, 6, 7, 8, 9}) assertEquals(previous[col], r[col], "a sequence shares its seed and conditions");
            }
            assertTrue(List.of("day", "night").contains(r[5]), r[5]);
            double noise = Double.parseDouble(r[8]);
            assertTrue(noise >= 0 && noise <= 0.2);

            BufferedImage image = ImageIO.read(out.resolve("images").resolve(r[0]).toFile());
            BufferedImage label = ImageIO.read(out.resolve("labels").resolve(r[0]).toFile());
            assertEquals(512, image.getWidth());
            assertEquals(336, image.getHeight());
            assertEquals(3, image.getColorModel().getNumComponents());
            assertEquals(BufferedImage.TYPE_BYTE_GRAY, label.getType());

            SceneConditions c = ConditionSpec.parse("time=" + r[5] + ",shadows=" + r[6] + ",traffic=" + r[7] + ",noise=" + r[8]
                    + ",blur=" + r[9]).sample(new java.util.SplittableRandom(0));
            SyntheticFrame again = RoadSceneGenerator.frame(Long.parseLong(r[1]), c, Integer.parseInt(r[3]), Integer.parseInt(r[4]));
            assertArrayEquals(pixels(again.image()), pixels(image), "image " + r[0]);
            byte[] ids = new byte[512 * 336];
            label.getRaster().getDataElements(0, 0, 512, 336, ids);
            assertArrayEquals(again.labels(), ids, "label " + r[0]);
        }

        Path second = dir.resolve("again");
        assertEquals(0, run("generate", "--out", second.toString(), "--frames", "7", "--seed", "5", "--sequence-length", "3",
                "--conditions", "time=day,night,traffic=mix,shadows=complex:1,none:1,noise=0..0.2", "--threads", "1").status());
        for (String sub : List.of("images/000004.png", "labels/000004.png", "manifest.csv")) {
            assertArrayEquals(Files.readAllBytes(out.resolve(sub)), Files.readAllBytes(second.resolve(sub)), sub + " differs between runs");
        }
        Path third = dir.resolve("other-seed");
        assertEquals(0, run("generate", "--out", third.toString(), "--frames", "1", "--seed", "6").status());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(out.resolve("images/000000.png")),
                Files.readAllBytes(third.resolve("images/000000.png"))));
    }

    @Test
    void badSpecIsRefusedWithExitOneAndNothingWritten() throws IOException {
        Path out = dir.resolve("bad");
        Outcome o = run("generate", "--out", out.toString(), "--frames", "3", "--conditions", "time=noon");
        assertEquals(1, o.status());
        assertTrue(o.err().contains("segsa generate: error: conditions 'time=noon': unknown time 'noon' (expected day, dusk, night or mix)"), o.err());
        assertFalse(Files.exists(out), "output written for a refused spec");

        o = run("generate", "--out", out.toString(), "--frames", "0");
        assertEquals(1, o.status());
        assertTrue(o.err().contains("--frames must be at least 1"), o.err());
        o = run("generate", "--out", out.toString(), "--frames", "2", "--sequence-length", "0");
        assertEquals(1, o.status());
        assertTrue(o.err().contains("--sequence-length must be at least 1"), o.err());
    }

    @Test
    void anEarlierDataSetIsKeptUnlessOverwriteIsAsked() throws IOException {
        Path out = dir.resolve("d");
        assertEquals(0, run("generate", "--out", out.toString(), "--frames", "3").status());
        Outcome o = run("generate", "--out", out.toString(), "--frames", "2");
        assertEquals(1, o.status());
        assertTrue(o.err().contains(out + ": already holds a generated data set") && o.err().contains("--overwrite"), o.err());
        assertEquals(3, count(out.resolve("images")));
        assertEquals(0, run("generate", "--out", out.toString(), "--frames", "2", "--overwrite").status());
        assertEquals(2, count(out.resolve("images")));
        assertEquals(2, count(out.resolve("labels")));
        assertEquals(3, Files.readAllLines(out.resolve("manifest.csv")).size());
        try (Stream<Path> s = Files.walk(out)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temporary file left behind");
        }
    }

    @Test
    void helpDocumentsTheSpecGrammar() {
        String help = SegsaCommand.commandLine().getSubcommands().get("generate").getUsageMessage();
        assertTrue(help.contains("time=day|dusk|night|mix") && help.contains("noise=0..1") && help.contains("--sequence-length"), help);
    }

    private static long count(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.count();
        }
    }

    private static int[] pixels(java.awt.image.BufferedImage img) {
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
