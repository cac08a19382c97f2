package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * segsa evaluate through the command line on a scores file built from the scipy golden samples
 * (tools/golden/evaluate.py): the score is x, the IoU a strictly increasing affine map of y into
 * [0, 1] (ranks and ties unchanged), so rho and p must equal scipy's spearmanr(x, y).
 */
class EvaluateCommandTest {
    @TempDir
    Path work;

    static final String[] CASES = {"strong_negative_n60", "rounded_ties_n40", "ties_in_both"};
    static final String[] TARGETS = {"car", "road", "vehicles"};

    Map<String, JsonNode> golden() throws Exception {
        JsonNode g;
        try (var in = getClass().getResourceAsStream("/golden/evaluate.json")) {
            g = new ObjectMapper().readTree(in);
        }
        Map<String, JsonNode> out = new HashMap<>();
        for (JsonNode c : g.get("spearman")) out.put(c.get("name").asText(), c);
        return out;
    }

    Path writeScores(Map<String, JsonNode> golden) throws Exception {
        StringBuilder b = new StringBuilder("image,class,pixels,mdsa,lsa,iou,entropy,margin,least_confidence,deepgini\n");
        for (int t = 0; t < TARGETS.length; t++) {
            JsonNode c = golden.get(CASES[t]);
            int n = c.get("x").size();
            double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
            for (JsonNode v : c.get("y")) { lo = Math.min(lo, v.asDouble()); hi = Math.max(hi, v.asDouble()); }
            for (int i = 0; i < n; i++) {
                double x = c.get("x").get(i).asDouble();
                double iou = (c.get("y").get(i).asDouble() - lo) / (hi - lo);
                // entropy: -x (reversed ranks), the other uncertainty columns x
                b.append(String.format("img%03d.png,%s,100,%s,,%s,%s,%s,%s,%s%n", i, TARGETS[t], x, iou, -x, x, x, x));
            }
            // skipped rows: one without IoU, one without scores
            b.append(String.format("extra1.png,%s,100,1.0,,,1.0,1.0,1.0,1.0%n", TARGETS[t]));
            b.append(String.format("extra2.png,%s,0,,,0.0,,,,%n", TARGETS[t]));
        }
        Path scores = work.resolve("scores.csv");
        Files.writeString(scores, b.toString());
        return scores;
    }

    static int run(ByteArrayOutputStream err, String... args) {
        var cl = SegsaCommand.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void writesRq1MatchingScipyRq2CurvesChartsAndReport() throws Exception {
        Map<String, JsonNode> golden = golden();
        Path scores = writeScores(golden);
        Path out = work.resolve("report");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "evaluate", "--scores", scores.toString(), "--out", out.toString(), "--groups", "vehicles=car",
                "--random-repeats", "20"), err.toString());

        List<String> rq1 = Files.readAllLines(out.resolve("rq1.csv"));
        assertEquals("target,kind,score,images,rho,p_value", rq1.get(0));
        assertEquals(1 + 3 * 5, rq1.size(), "3 targets x 5 score columns");
        int checked = 0;
        for (String line : rq1.subList(1, rq1.size())) {
            String[] f = line.split(",", -1);
            int t = List.of(TARGETS).indexOf(f[0]);
            JsonNode c = golden.get(CASES[t]);
            assertEquals(t == 2 ? "group" : "class", f[1], line);
            assertEquals(c.get("x").size(), Integer.parseInt(f[3]), "images exclude the rows without IoU or score: " + line);
            double rho = c.get("rho").asDouble(), p = c.get("p").asDouble();
            double sign = f[2].equals("entropy") ? -1 : 1;
            assertEquals(sign * rho, Double.parseDouble(f[4]), 1e-12, line);
            assertEquals(p, Double.parseDouble(f[5]), 1e-9 * p, line);
            checked++;
        }
        assertEquals(15, checked);

        List<String> rq2 = Files.readAllLines(out.resolve("rq2.csv"));
        assertEquals("target,kind,order,savings_percent,images,skipped,iou_inaccuracy,classification_inaccuracy_0.5,"
                + "classification_inaccuracy_0.6,classification_inaccuracy_0.7,classification_inaccuracy_0.8,"
                + "classification_inaccuracy_0.9", rq2.get(0));
        assertEquals(1 + 3 * 7 * 21, rq2.size(), "3 targets x (5 scores + oracle + random) x 21 savings steps");
        // at 100 % every order skips all images: same IoU inaccuracy for every order of a target
        Map<String, String> full = new HashMap<>();
        for (String line : rq2.subList(1, rq2.size())) {
            String[] f = line.split(",", -1);
            if (!f[3].equals("100")) continue;
            String prev = full.putIfAbsent(f[0], f[6]);
            if (prev != null) assertEquals(Double.parseDouble(prev), Double.parseDouble(f[6]), 1e-12, line);
        }
        assertEquals(3, full.size());

        for (String png : List.of("rq2_mdsa_classification_t0.5.png", "rq2_mdsa_iou.png", "rq2_entropy_classification_t0.9.png",
                "rq2_compare_01_car_classification_t0.5.png", "rq2_compare_03_vehicles_iou.png")) {
            BufferedImage img = ImageIO.read(out.resolve(png).toFile());
            assertNotNull(img, png);
            assertEquals(900, img.getWidth(), png);
        }
        String html = Files.readString(out.resolve("index.html"));
        assertTrue(html.contains("segsa evaluate --scores " + scores), "command in the report");
        // self-contained: every picture is embedded (a data URI that decodes to an image), none is a link to a sibling file
        java.util.regex.Matcher img = java.util.regex.Pattern.compile("<img src=\"([^\"]*)\"").matcher(html);
        int pictures = 0;
        while (img.find()) {
            String src = img.group(1);
            assertTrue(src.startsWith("data:image/png;base64,") || src.startsWith("data:image/jpeg;base64,"), "a linked picture: " + src);
            byte[] bytes = java.util.Base64.getDecoder().decode(src.substring(src.indexOf(',') + 1));
            assertNotNull(ImageIO.read(new java.io.ByteArrayInputStream(bytes)), "a broken embedded picture");
            pictures++;
        }
        assertTrue(pictures >= 20, pictures + " pictures");
        assertTrue(html.contains("title=\"rq2_mdsa_classification_t0.5.png\""));
        // the first section says what to do, with the select command; every contents link has its anchor
        assertTrue(html.indexOf("id=\"what-to-do\"") < html.indexOf("id=\"rq1-glance\""));
        assertTrue(html.contains("segsa select --scores "), "the select command");
        java.util.regex.Matcher toc = java.util.regex.Pattern.compile("href=\"#([^\"]+)\"").matcher(html);
        int links = 0;
        while (toc.find()) {
            assertTrue(html.contains("id=\"" + toc.group(1) + "\""), "no anchor for #" + toc.group(1));
            links++;
        }
        assertTrue(links >= 8);
        assertTrue(html.contains("No heatmaps: run segsa evaluate with --model, --sa and --images"));
        assertTrue(html.contains("skipped: no IoU"));
        assertFalse(html.contains("http://") || html.contains("https://"), "self-contained");
        List<String> extremes = Files.readAllLines(out.resolve("extremes.csv"));
        assertEquals(1 + 3 * 10, extremes.size());
        try (var files = Files.list(out)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    /** A second report into the same folder removes the charts of the first that it does not write, and nothing else. */
    @Test
    void aReportIntoAnEarlierReportsFolderLeavesNoStaleCharts() throws Exception {
        Path scores = writeScores(golden());
        Path out = work.resolve("report");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "evaluate", "--scores", scores.toString(), "--out", out.toString(), "--random-repeats", "5"),
                err.toString());
        assertTrue(Files.exists(out.resolve("rq2_entropy_iou.png")));
        Files.writeString(out.resolve("my-notes.txt"), "not segsa's");
        // the same rows with only the mdsa score column: the uncertainty charts must go
        List<String> lines = Files.readAllLines(scores);
        StringBuilder b = new StringBuilder();
        for (String line : lines) {
            String[] f = line.split(",", -1);
            b.append(String.join(",", List.of(f).subList(0, 6))).append('\n');
        }
        Path mdsaOnly = work.resolve("mdsa-only.csv");
        Files.writeString(mdsaOnly, b.toString());
        assertEquals(0, run(err, "evaluate", "--scores", mdsaOnly.toString(), "--out", out.toString(), "--random-repeats", "5"),
                err.toString());
        assertFalse(Files.exists(out.resolve("rq2_entropy_iou.png")), "stale chart of the first report removed");
        assertTrue(Files.exists(out.resolve("rq2_mdsa_iou.png")));
        assertEquals("not segsa's", Files.readString(out.resolve("my-notes.txt")), "files segsa did not write are kept");
        assertFalse(Files.readString(out.resolve("index.html")).contains("rq2_entropy"));
    }

    @Test
    void refusesGroupsWithoutRowsAndScoresWithoutIou() throws Exception {
        Path scores = writeScores(golden());
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(1, run(err, "evaluate", "--scores", scores.toString(), "--out", work.resolve("r1").toString(), "--groups",
                "lanes=car"));
        assertTrue(err.toString().contains("no rows for group 'lanes'"), err.toString());
        err.reset();
        assertEquals(1, run(err, "evaluate", "--scores", scores.toString(), "--out", work.resolve("r2").toString(), "--groups",
                "vehicles=bus"));
        assertTrue(err.toString().contains("class 'bus' does not appear"), err.toString());
        Path noIou = work.resolve("noiou.csv");
        Files.writeString(noIou, "image,class,pixels,mdsa,lsa,iou\na.png,car,3,1.5,,\n");
        err.reset();
        assertEquals(1, run(err, "evaluate", "--scores", noIou.toString(), "--out", work.resolve("r3").toString()));
        assertTrue(err.toString().contains("iou column is empty in every row"), err.toString());
        Path bad = work.resolve("bad.csv");
        Files.writeString(bad, "image,class,pixels,mdsa,lsa,iou\na.png,car,3,abc,,0.5\n");
        err.reset();
        assertEquals(1, run(err, "evaluate", "--scores", bad.toString(), "--out", work.resolve("r4").toString()));
        assertTrue(err.toString().contains(bad + ": line 2: mdsa 'abc' is not a number"), err.toString());
        assertFalse(Files.exists(work.resolve("r4").resolve("index.html")));
    }
}
