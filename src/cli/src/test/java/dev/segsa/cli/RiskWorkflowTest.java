package dev.segsa.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.segsa.model.TestModels;
import dev.segsa.samodel.ClassFrameReference;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.segments.SegmentFeatures;
import dev.segsa.scores.ScoresCsv;
import dev.segsa.scores.SegmentTable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The frame-risk workflow end to end through the command line, in process: fit (with its class
 * reference), score --labels --segments, fit-risk, score --risk, select and timeline by the frame
 * scores, evaluate --segments, and the refusals of the new options (one line, non-zero exit,
 * nothing written).
 *
 * <p>Fixture: the e2e fixture's TorchScript model (src/testdata/e2e, 4 classes, 10 features) on
 * synthetic 96 x 72 frames of coloured rectangles with noise, 5 recordings of 3 frames named
 * {@code recN_00K.png} (so that the grouped cross-validation can hold out whole recordings), and
 * masks that follow the rectangles but mislabel some of them (so that segments with IoU_adj = 0
 * and with IoU_adj &gt; 0 both occur).
 */
class RiskWorkflowTest {
    static final int W = 96, H = 72, CLASSES = 4, RECORDINGS = 5, PER_RECORDING = 3, FRAMES = RECORDINGS * PER_RECORDING;
    static final int[][] PALETTE = {{200, 40, 40}, {40, 180, 60}, {50, 60, 210}, {220, 220, 90}};

    @TempDir
    static Path work;

    static Path model, images, labels, fewImages, fewLabels;
    /** Fitted on every frame (with the class reference) and on the first 5 frames only (without it). */
    static Path sa, saFew;
    static Path scores, segments, riskModel;
    static Run fit, score, fitRisk;

    /** A command's exit code, standard output, and its error stream (the CommandLine's and System.err together). */
    record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }

        String firstErrorLine() {
            return err.lines().filter(l -> !l.isBlank()).findFirst().orElse("");
        }
    }

    /** Runs a command in this JVM, capturing its exit status, standard output and error. */
    static synchronized Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8), e = new PrintStream(err, true, StandardCharsets.UTF_8);
        System.setOut(o);
        System.setErr(e);
        int code;
        try {
            var cl = SegsaCommand.commandLine();
            cl.setErr(new PrintWriter(e, true));
            cl.setOut(new PrintWriter(o, true));
            code = cl.execute(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run ok(String... args) {
        Run r = run(args);
        assertEquals(0, r.code(), () -> String.join(" ", args) + "\n" + r);
        return r;
    }

    /** A refusal: exit 1 and exactly one error line, which contains {@code expected}. */
    static Run refused(String expected, String... args) {
        Run r = run(args);
        assertEquals(1, r.code(), () -> String.join(" ", args) + "\n" + r);
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), () -> "one line expected:\n" + r);
        assertTrue(lines.get(0).startsWith("segsa " + args[0] + ": error: "), () -> "an error line:\n" + r);
        assertTrue(r.out().isBlank(), () -> "nothing on standard output:\n" + r);
        assertTrue(lines.get(0).contains(expected), () -> "expected '" + expected + "' in:\n" + r);
        return r;
    }

    @BeforeAll
    static void fixture() throws Exception {
        ObjectMapper json = new ObjectMapper();
        Path e2e = Path.of(RiskWorkflowTest.class.getResource("/e2e").toURI());
        JsonNode m = json.readTree(e2e.resolve("model.json").toFile());
        model = work.resolve("fixture.pt");
        TestModels.saveFixtureModel(model, EndToEndTest.floats(m.get("w1")), EndToEndTest.floats(m.get("b1")),
                EndToEndTest.floats(m.get("w2")), EndToEndTest.floats(m.get("b2")), m.get("classes").asInt());
        Files.writeString(work.resolve("fixture.segsa.json"),
                "{\"mean\": " + m.get("mean") + ", \"std\": " + m.get("std") + ", \"upsample\": \"bilinear\"}");
        images = Files.createDirectories(work.resolve("frames/images"));
        labels = Files.createDirectories(work.resolve("frames/labels"));
        fewImages = Files.createDirectories(work.resolve("few/images"));
        fewLabels = Files.createDirectories(work.resolve("few/labels"));
        SplittableRandom random = new SplittableRandom(11);
        int k = 0;
        for (int rec = 1; rec <= RECORDINGS; rec++) {
            for (int i = 0; i < PER_RECORDING; i++, k++) {
                String name = String.format("rec%d_%03d.png", rec, i);
                writeFrame(random, images.resolve(name), labels.resolve(name));
                if (k < 5) {
                    Files.copy(images.resolve(name), fewImages.resolve(name));
                    Files.copy(labels.resolve(name), fewLabels.resolve(name));
                }
            }
        }
        sa = work.resolve("all.sa");
        fit = ok("fit", "--model", model.toString(), "--images", images.toString(), "--labels", labels.toString(), "--out", sa.toString(),
                "--lsa-references", "200", "--at-check-frames", "0", "--threads", "2");
        scores = work.resolve("scores.csv");
        segments = work.resolve("segments.csv");
        score = ok("score", "--model", model.toString(), "--sa", sa.toString(), "--images", images.toString(), "--labels", labels.toString(),
                "--segments", segments.toString(), "--out", scores.toString(), "--threads", "2");
        riskModel = work.resolve("all.risk");
        fitRisk = ok("fit-risk", "--segments", segments.toString(), "--sa", sa.toString(), "--out", riskModel.toString(), "--trees", "20",
                "--depth", "5");
        saFew = work.resolve("few.sa");
        ok("fit", "--model", model.toString(), "--images", fewImages.toString(), "--labels", fewLabels.toString(), "--out", saFew.toString(),
                "--lsa-references", "0", "--at-check-frames", "0", "--class-min-share", "-1", "--threads", "2");
    }

    /**
     * A frame of a background and 6 rectangles, each of one palette colour (its class), with noise;
     * the mask labels a rectangle with its class, but one in four with the next class.
     */
    static void writeFrame(SplittableRandom r, Path image, Path label) throws Exception {
        int[] cls = new int[W * H], lab = new int[W * H];
        int bg = r.nextInt(CLASSES);
        java.util.Arrays.fill(cls, bg);
        java.util.Arrays.fill(lab, bg);
        for (int k = 0; k < 6; k++) {
            int w = 10 + r.nextInt(36), h = 8 + r.nextInt(28), x0 = r.nextInt(W - w), y0 = r.nextInt(H - h);
            int c = r.nextInt(CLASSES), l = r.nextInt(4) == 0 ? (c + 1) % CLASSES : c;
            for (int y = y0; y < y0 + h; y++) {
                for (int x = x0; x < x0 + w; x++) {
                    cls[y * W + x] = c;
                    lab[y * W + x] = l;
                }
            }
        }
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        BufferedImage mask = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                int[] p = PALETTE[cls[y * W + x]];
                int rgb = 0;
                for (int ch = 0; ch < 3; ch++) rgb = (rgb << 8) | Math.clamp(p[ch] + r.nextInt(61) - 30, 0, 255);
                img.setRGB(x, y, rgb);
                mask.getRaster().setSample(x, y, 0, lab[y * W + x]);
            }
        }
        assertTrue(ImageIO.write(img, "png", image.toFile()));
        assertTrue(ImageIO.write(mask, "png", label.toFile()));
    }

    static List<String> header(Path csv) throws Exception {
        return List.of(Files.readAllLines(csv).get(0).split(",", -1));
    }

    // ---------------------------------------------------------------- 1. fit records the class reference

    @Test
    void fitRecordsTheClassReferenceAndANegativeShareSkipsIt() throws Exception {
        SaModel fitted = SaModelFile.read(sa);
        ClassFrameReference ref = fitted.frameReference();
        assertNotNull(ref, "fit scores its own frames and records the class reference\n" + fit);
        assertEquals(CLASSES, ref.classes());
        assertEquals(ClassFrameReference.DEFAULT_MIN_SHARE, ref.minShare(), 1e-15);
        int withDistribution = 0;
        for (int c = 0; c < CLASSES; c++) {
            assertTrue(ref.frames()[c] >= 0 && ref.frames()[c] <= FRAMES, "frames of class " + c + ": " + ref.frames()[c]);
            assertEquals(1.0, ref.weights()[c], "default weight of class " + c);
            assertEquals(ref.frames()[c] >= ClassFrameReference.MIN_FRAMES, ref.has(c), "class " + c + " with " + ref.frames()[c] + " frames");
            if (ref.has(c)) withDistribution++;
        }
        assertTrue(withDistribution >= 2, "classes with a distribution over " + FRAMES + " frames: " + java.util.Arrays.toString(ref.frames()));
        assertEquals(FRAMES, fitted.settings().frames());
        assertTrue(fit.out().contains("wrote " + sa + " (" + FRAMES + " frames"), fit.toString());
        // the table gives each class's reference frames, and a reference of fewer than 30 frames is noted
        assertTrue(fit.out().contains("class-aware frames"), fit.out());
        assertEquals(FRAMES < FitSummary.FEW_REFERENCE_FRAMES && withDistribution > 0,
                fit.err().contains("the class-aware score rests on few fit frames for "), fit.err());

        // --class-min-share -1: no reference pass, no reference in the file
        assertNull(SaModelFile.read(saFew).frameReference(), "--class-min-share -1 skips the class reference");
        assertEquals(5, SaModelFile.read(saFew).settings().frames());

        // --class-weights: recorded; a weight of 0 leaves the class out; an unknown class is refused before anything is written
        String name0 = fitted.settings().classNames().get(0);
        Path weighted = work.resolve("weighted.sa");
        ok("fit", "--model", model.toString(), "--images", fewImages.toString(), "--labels", fewLabels.toString(), "--out",
                weighted.toString(), "--lsa-references", "0", "--at-check-frames", "0", "--class-weights", name0 + "=0", "--threads", "2");
        ClassFrameReference w = SaModelFile.read(weighted).frameReference();
        assertNotNull(w);
        assertEquals(0.0, w.weights()[0]);
        assertEquals(1.0, w.weights()[1]);
        assertFalse(w.counts(0, W * H, W * H), "a class of weight 0 never counts");
    }

    /** A mistyped --class-weights or --class-min-share is refused before the fit: no SA file without its reference at --out. */
    @Test
    void fitRefusesBadClassOptionsBeforeFitting() throws Exception {
        Path badWeights = work.resolve("bad-weights.sa"), badShare = work.resolve("bad-share.sa");
        refused("--class-weights: no class 'NoSuchClass'", "fit", "--model", model.toString(), "--images", fewImages.toString(),
                "--labels", fewLabels.toString(), "--out", badWeights.toString(), "--lsa-references", "0", "--at-check-frames", "0",
                "--class-weights", "NoSuchClass=1", "--threads", "2");
        Run share = run("fit", "--model", model.toString(), "--images", fewImages.toString(),
                "--labels", fewLabels.toString(), "--out", badShare.toString(), "--lsa-references", "0", "--at-check-frames", "0",
                "--class-min-share", "2", "--threads", "2");
        assertEquals(2, share.code(), share::toString); // a usage error (FiniteNumber), before any work
        assertTrue(share.err().contains("option '--class-min-share'") && share.err().contains("must be a finite number <= 1, got '2'"),
                share::toString);
        assertAll(() -> assertFalse(Files.exists(badWeights), "fit --class-weights NoSuchClass=1: nothing written"),
                () -> assertFalse(Files.exists(badShare), "fit --class-min-share 2: nothing written"));
    }

    // ---------------------------------------------------------------- 2. score --labels --segments

    @Test
    void scoreWritesLabelledSegmentsAndClassPercentiles() throws Exception {
        SegmentTable t = SegmentTable.read(segments);
        assertEquals(SaModelFile.read(sa).settings().classNames(), t.classNames());
        assertEquals(Set.of("image", "segment", "class_name", "iou_adj"),
                new HashSet<>(header(segments)).stream().filter(Set.of("image", "segment", "class_name", "iou_adj")::contains)
                        .collect(java.util.stream.Collectors.toSet()));
        assertEquals(FRAMES, new HashSet<>(t.images()).size(), "every frame has segments");
        assertTrue(t.rows().size() > FRAMES, "more segments than frames: " + t.rows().size());
        assertTrue(score.out().contains("wrote " + segments + " (" + t.rows().size() + " segments)"), score.toString());
        int f = t.columns(), withIou = 0, zeros = 0;
        long[] pixels = new long[1];
        java.util.Map<String, Long> perFrame = new java.util.HashMap<>();
        for (int i = 0; i < t.rows().size(); i++) {
            double[] r = t.rows().get(i);
            double iou = r[f - 1];
            assertFalse(Double.isNaN(iou), "scored with --labels: every segment has an iou_adj (row " + i + ")");
            assertTrue(iou >= 0 && iou <= 1, "iou_adj in [0, 1]: " + iou);
            withIou++;
            if (iou == 0) zeros++;
            perFrame.merge(t.images().get(i), (long) r[SegmentFeatures.SIZE], Long::sum);
            pixels[0] += (long) r[SegmentFeatures.SIZE];
        }
        assertTrue(zeros > 0 && zeros < withIou, "both kinds of segment: " + zeros + " of " + withIou + " with IoU_adj = 0");
        // the segments partition each frame
        perFrame.forEach((img, px) -> assertEquals((long) W * H, px, "segment pixels of " + img));

        List<String> h = header(scores);
        assertEquals(ScoresCsv.CLASS_PERCENTILE_COLUMN, h.get(h.size() - 2), "scores.csv gains mdsa_pct: " + h);
        assertEquals(ScoresCsv.ROW_KIND_COLUMN, h.get(h.size() - 1), "row_kind last: " + h);
        assertFalse(h.contains(ScoresCsv.RISK), "no risk column without --risk: " + h);
        ScoresCsv.Contents c = ScoresCsv.read(scores);
        assertTrue(c.hasClassPercentiles());
        assertFalse(c.hasRisk());
        assertEquals(ScoresCsv.CLASS_AWARE, c.defaultFrameScore(), "class_aware is the default frame score without risk");
        for (ScoresCsv.Row r : c.rows()) {
            if (Double.isFinite(r.mdsaPct())) assertTrue(r.mdsaPct() >= 0, "a percentile of a distance: " + r);
        }
    }

    // ---------------------------------------------------------------- 3. fit-risk, score --risk, select

    @Test
    void fitRiskThenScoreWithRiskThenSelectByRisk() throws Exception {
        assertTrue(Files.isRegularFile(riskModel), fitRisk.toString());
        assertTrue(fitRisk.out().contains("softmax only") && fitRisk.out().contains("softmax + MDSA"), "the CV table:\n" + fitRisk);
        assertTrue(fitRisk.out().contains("whole recordings held out"), fitRisk.toString());
        assertTrue(fitRisk.out().contains("wrote " + riskModel + " ("), fitRisk.toString());
        var rm = dev.segsa.risk.RiskModelFile.read(riskModel);
        assertTrue(rm.withSa());
        assertEquals(20, rm.trees().size());
        assertEquals(SaModelFile.read(sa).fingerprint(), rm.saFingerprint());

        Path riskScores = work.resolve("risk-scores.csv");
        Run r = ok("score", "--model", model.toString(), "--sa", sa.toString(), "--images", images.toString(), "--risk", riskModel.toString(),
                "--out", riskScores.toString(), "--threads", "2");
        List<String> h = header(riskScores);
        assertEquals(ScoresCsv.RISK, h.get(h.size() - 2), "risk column before row_kind: " + h + "\n" + r);
        assertEquals(ScoresCsv.ROW_KIND_COLUMN, h.get(h.size() - 1), "row_kind last: " + h);
        assertTrue(h.contains(ScoresCsv.CLASS_PERCENTILE_COLUMN), h.toString());
        ScoresCsv.Contents c = ScoresCsv.read(riskScores);
        assertTrue(c.hasRisk());
        assertEquals(ScoresCsv.RISK, c.defaultFrameScore(), "risk is the best frame score available");
        int withRisk = 0;
        for (ScoresCsv.Row row : c.rows()) {
            if (Double.isFinite(row.risk())) {
                assertTrue(row.risk() >= 0 && row.risk() <= 1, "risk = 1 - predicted IoU: " + row);
                assertTrue(row.pixels() > 0, "risk only on predicted classes: " + row);
                withRisk++;
            }
        }
        assertTrue(withRisk >= FRAMES, "risk rows: " + withRisk);
        var frames = c.frameScores(ScoresCsv.RISK, Set.of());
        assertEquals(FRAMES, frames.size());
        frames.forEach((img, s) -> assertTrue(Double.isFinite(s.score()), "frame risk of " + img));

        // select without --class ranks whole frames by risk, and says so
        Path list = work.resolve("by-risk.csv");
        Run sel = ok("select", "--scores", riskScores.toString(), "--skip-fraction", "0.4", "--out", list.toString());
        assertTrue(sel.out().contains("whole frames by risk"), sel.toString());
        assertTrue(sel.out().contains("threshold: a frame with risk <= "), sel.toString());
        List<String> lines = Files.readAllLines(list);
        assertEquals("rank,image,score,pixels,decision", lines.get(0));
        assertEquals(FRAMES + 1, lines.size());
        assertEquals(6, lines.stream().filter(l -> l.endsWith(",skip")).count(), "floor(0.4 * 15) skipped");
        double previous = Double.POSITIVE_INFINITY;
        for (String l : lines.subList(1, lines.size())) {
            String[] fields = l.split(",", -1);
            double s = Double.parseDouble(fields[2]);
            assertEquals(frames.get(fields[1]).score(), s, 1e-12, "the listed score is the frame risk: " + l);
            assertTrue(s <= previous, "highest risk first: " + lines);
            previous = s;
        }

        // --per-recording rank: each frame's rank within its recording (3 frames each)
        Path ranked = work.resolve("by-risk-rank.csv");
        Run rank = ok("select", "--scores", riskScores.toString(), "--skip-fraction", "0.4", "--per-recording", "rank", "--out",
                ranked.toString());
        assertTrue(rank.out().contains("whole frames by risk") && rank.out().contains("rank within each recording"), rank.toString());
        List<String> rl = Files.readAllLines(ranked);
        assertEquals(FRAMES + 1, rl.size());
        Set<String> listed = new HashSet<>(), top = new HashSet<>();
        for (String l : rl.subList(1, rl.size())) {
            String[] fields = l.split(",", -1);
            listed.add(fields[1]);
            double s = Double.parseDouble(fields[2]);
            assertTrue(Set.of(1.0 / 3, 2.0 / 3, 1.0).stream().anyMatch(x -> Math.abs(x - s) < 1e-12), "a rank share of 3 frames: " + l);
            if (s == 1.0) top.add(fields[1]);
        }
        assertEquals(frames.keySet(), listed);
        // rank 1.0: each recording's highest-risk frame, and those come first
        Set<String> maxima = new HashSet<>();
        for (int rec = 1; rec <= RECORDINGS; rec++) {
            String prefix = "rec" + rec + "_";
            maxima.add(frames.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                    .max(java.util.Map.Entry.comparingByValue(java.util.Comparator.comparingDouble(ScoresCsv.Contents.FrameScore::score)))
                    .orElseThrow().getKey());
        }
        assertEquals(maxima, top);
        for (String l : rl.subList(1, 1 + RECORDINGS)) assertTrue(l.contains(",1.0,"), "rank 1.0 first: " + rl);
        Path standardized = work.resolve("by-risk-std.csv");
        ok("select", "--scores", riskScores.toString(), "--skip-fraction", "0.4", "--per-recording", "standardize", "--out",
                standardized.toString());
        assertEquals(FRAMES + 1, Files.readAllLines(standardized).size());
        refused("--per-recording ranks whole frames", "select", "--scores", riskScores.toString(), "--class",
                c.rows().get(0).className(), "--skip-fraction", "0.4", "--per-recording", "rank", "--out", work.resolve("x.csv").toString());
        assertFalse(Files.exists(work.resolve("x.csv")));

        // without risk (the labelled scores): class_aware; --score mdsa still works
        Run ca = ok("select", "--scores", scores.toString(), "--skip-fraction", "0.4", "--out", work.resolve("by-ca.csv").toString());
        assertTrue(ca.out().contains("whole frames by class_aware"), ca.toString());
        Run md = ok("select", "--scores", riskScores.toString(), "--score", "mdsa", "--skip-fraction", "0.4", "--out",
                work.resolve("by-mdsa.csv").toString());
        assertTrue(md.out().contains("whole frames by mdsa"), md.toString());

        // timeline --score risk draws it; an unknown frame score is refused
        Path png = work.resolve("timeline.png");
        ok("timeline", "--scores", riskScores.toString(), "--score", "risk", "--out", png.toString());
        assertNotNull(ImageIO.read(png.toFile()));
        refused("no frame score 'risk'", "timeline", "--scores", scores.toString(), "--score", "risk", "--out",
                work.resolve("t2.png").toString());
        assertFalse(Files.exists(work.resolve("t2.png")));
    }

    // ---------------------------------------------------------------- 4. refusals

    @Test
    void fitRiskRefusesSegmentsWithoutLabels() throws Exception {
        Path unlabelledSegments = work.resolve("unlabelled-segments.csv"), s = work.resolve("unlabelled-scores.csv");
        ok("score", "--model", model.toString(), "--sa", sa.toString(), "--images", fewImages.toString(), "--segments",
                unlabelledSegments.toString(), "--out", s.toString(), "--threads", "2");
        SegmentTable t = SegmentTable.read(unlabelledSegments);
        assertFalse(t.rows().isEmpty());
        for (double[] r : t.rows()) assertTrue(Double.isNaN(r[t.columns() - 1]), "no iou_adj without --labels");
        Path out = work.resolve("unlabelled.risk");
        refused("no segment has an iou_adj", "fit-risk", "--segments", unlabelledSegments.toString(), "--sa", sa.toString(), "--out",
                out.toString());
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void scoreRefusesACorruptRiskModel() throws Exception {
        byte[] bytes = Files.readAllBytes(riskModel);
        bytes[bytes.length / 2] ^= 0x01;
        Path corrupt = work.resolve("corrupt.risk");
        Files.write(corrupt, bytes);
        Path out = work.resolve("corrupt-scores.csv"), seg = work.resolve("corrupt-segments.csv");
        refused("risk model is corrupted", "score", "--model", model.toString(), "--sa", sa.toString(), "--images", fewImages.toString(),
                "--risk", corrupt.toString(), "--segments", seg.toString(), "--out", out.toString(), "--threads", "2");
        assertFalse(Files.exists(out), "nothing written");
        assertFalse(Files.exists(seg), "nothing written");
        // truncated: refused too
        Path truncated = work.resolve("truncated.risk");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 9));
        refused("truncated", "score", "--model", model.toString(), "--sa", sa.toString(), "--images", fewImages.toString(), "--risk",
                truncated.toString(), "--out", out.toString(), "--threads", "2");
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void scoreRefusesARiskModelOfAnotherSaModel() throws Exception {
        assertNotEquals(SaModelFile.read(sa).fingerprint(), SaModelFile.read(saFew).fingerprint());
        Path out = work.resolve("other-scores.csv"), seg = work.resolve("other-segments.csv");
        refused("another SA model", "score", "--model", model.toString(), "--sa", saFew.toString(), "--images", fewImages.toString(),
                "--risk", riskModel.toString(), "--segments", seg.toString(), "--out", out.toString(), "--threads", "2");
        assertFalse(Files.exists(out), "nothing written");
        assertFalse(Files.exists(seg), "nothing written");
    }

    @Test
    void scoreRefusesSegmentsEqualToOut() throws Exception {
        Path same = work.resolve("same.csv");
        refused("is also --out", "score", "--model", model.toString(), "--sa", sa.toString(), "--images",
                fewImages.toString(), "--segments", same.toString(), "--out", same.toString());
        assertFalse(Files.exists(same), "nothing written");
        // the same file by another spelling
        Files.createDirectories(work.resolve("sub"));
        refused("is also --out", "score", "--model", model.toString(), "--sa", sa.toString(), "--images",
                fewImages.toString(), "--segments", work.resolve("sub/../same.csv").toString(), "--out", same.toString());
        assertFalse(Files.exists(same), "nothing written");
        // fit-risk: --out may not replace its --segments (nor --sa)
        byte[] segmentBytes = Files.readAllBytes(segments), saBytes = Files.readAllBytes(sa);
        refused("is one of this run's inputs", "fit-risk", "--segments", segments.toString(), "--sa", sa.toString(), "--out",
                segments.toString());
        refused("is one of this run's inputs", "fit-risk", "--segments", segments.toString(), "--sa", sa.toString(), "--out", sa.toString());
        assertArrayEquals(segmentBytes, Files.readAllBytes(segments), "--segments untouched");
        assertArrayEquals(saBytes, Files.readAllBytes(sa), "--sa untouched");
        // score: --segments may not replace an input (the SA file), nor --out the --risk model
        refused("is one of this run's inputs", "score", "--model", model.toString(), "--sa", sa.toString(), "--images",
                fewImages.toString(), "--segments", sa.toString(), "--out", work.resolve("same2.csv").toString());
        assertArrayEquals(saBytes, Files.readAllBytes(sa), "--sa untouched");
        assertFalse(Files.exists(work.resolve("same2.csv")), "nothing written");
    }

    /** --out naming the --risk model: refused when --out is checked, before any frame is scored, and the model is untouched. */
    @Test
    void scoreRefusesOutEqualToRiskBeforeScoring() throws Exception {
        Path riskCopy = work.resolve("copy.risk");
        Files.copy(riskModel, riskCopy);
        byte[] riskBytes = Files.readAllBytes(riskCopy);
        Run r = refused("is one of this run's inputs", "score", "--model", model.toString(), "--sa", sa.toString(), "--images",
                fewImages.toString(), "--risk", riskCopy.toString(), "--out", riskCopy.toString(), "--threads", "2");
        assertArrayEquals(riskBytes, Files.readAllBytes(riskCopy), "--risk untouched");
        // the up-front check names the option; the re-check when the CSV is written (after scoring every frame) does not
        assertTrue(r.err().contains("error: --out " + riskCopy + ": is one of this run's inputs"), "refused up front:\n" + r);
    }

    @Test
    void scoreWritesSegmentsAndRiskForAnMcapLog() throws Exception {
        Path mcap = Path.of(RiskWorkflowTest.class.getResource("/mcap/ros2-image-lz4.mcap").toURI());
        Path out = work.resolve("mcap-scores.csv"), segs = work.resolve("mcap-segments.csv"), heat = work.resolve("mcap-out.mcap");
        ok("score", "--model", model.toString(), "--sa", sa.toString(), "--mcap", mcap.toString(), "--segments", segs.toString(),
                "--risk", riskModel.toString(), "--out", out.toString(), "--mcap-out", heat.toString());
        ScoresCsv.Contents c = ScoresCsv.read(out);
        assertTrue(c.hasRisk(), "the risk column");
        assertEquals(ScoresCsv.RISK, c.defaultFrameScore());
        SegmentTable t = SegmentTable.read(segs);
        assertFalse(t.rows().isEmpty());
        assertEquals(new java.util.HashSet<>(t.images()).size(), new java.util.HashSet<>(c.rows().stream().map(ScoresCsv.Row::image).toList()).size(),
                "segments for every frame of the log");
        // the /segsa/scores messages carry the frame's risk
        try (dev.segsa.mcap.McapReader r = new dev.segsa.mcap.McapReader(heat)) {
            int withRisk = 0;
            for (dev.segsa.mcap.McapReader.Message m; (m = r.next()) != null; ) {
                if (m.channel().topic().equals("/segsa/scores") && new String(m.data(), StandardCharsets.UTF_8).contains("\"risk\"")) withRisk++;
            }
            assertTrue(withRisk > 0, "risk in /segsa/scores");
        }
        // a risk model of another SA file is refused before the first frame, nothing written
        Path out2 = work.resolve("mcap-scores-2.csv");
        refused("another SA model", "score", "--model", model.toString(), "--sa", saFew.toString(), "--mcap", mcap.toString(),
                "--risk", riskModel.toString(), "--out", out2.toString());
        assertFalse(Files.exists(out2), "nothing written");
    }

    // ---------------------------------------------------------------- 5. evaluate --segments

    @Test
    void evaluateWithSegmentsWritesTheFrameFailureAndSegmentTables() throws Exception {
        Path report = work.resolve("report");
        Run r = ok("evaluate", "--scores", scores.toString(), "--segments", segments.toString(), "--out", report.toString(),
                "--random-repeats", "5");
        assertTrue(Files.isRegularFile(report.resolve("frame_failure.csv")), r.toString());
        assertTrue(Files.isRegularFile(report.resolve("segments_cv.md")), r.toString());
        String md = Files.readString(report.resolve("segments_cv.md"));
        assertTrue(md.contains("softmax only") && md.contains("softmax + MDSA") && md.contains("AUROC"), md);
        assertTrue(r.out().contains("MetaSeg's table with MDSA as one more heat map (" + segments + ")"), r.toString());
        assertTrue(r.out().contains(md.strip().lines().findFirst().orElseThrow()), "the segment table is printed:\n" + r);
        assertTrue(r.out().contains("Whole frames: finding the worst 20% by frame mIoU"), r.toString());

        List<String> ff = Files.readAllLines(report.resolve("frame_failure.csv"));
        assertTrue(ff.size() > 1, ff.toString());
        List<String> fh = List.of(ff.get(0).split(",", -1));
        int scoreColumn = fh.indexOf("score");
        assertTrue(scoreColumn >= 0, "a score column in " + fh);
        Set<String> scoresListed = new HashSet<>();
        for (String l : ff.subList(1, ff.size())) scoresListed.add(l.split(",", -1)[scoreColumn]);
        // the file's frame scores and the out-of-fold risk of the segments' cross-validation
        for (String s : List.of("class_aware", "mdsa", "risk_oof", "risk_softmax_oof")) {
            assertTrue(scoresListed.contains(s), s + " in frame_failure.csv: " + scoresListed);
            assertTrue(r.out().contains(s), s + " printed:\n" + r);
        }
        // evaluate without --segments: no segment table, still the frame-failure table
        Path plain = work.resolve("report-plain");
        Run p = ok("evaluate", "--scores", scores.toString(), "--out", plain.toString(), "--random-repeats", "5");
        assertTrue(Files.isRegularFile(plain.resolve("frame_failure.csv")));
        assertFalse(Files.exists(plain.resolve("segments_cv.md")));
        assertFalse(p.out().contains("risk_oof"), p.toString());
    }

    /** The reference lines a user sees: fit's summary names the frames, score's lists the segments. */
    @Test
    void outputsNameWhatWasWritten() {
        List<String> wrote = new ArrayList<>();
        for (Run r : List.of(fit, score, fitRisk)) r.out().lines().filter(l -> l.startsWith("wrote ")).forEach(wrote::add);
        assertTrue(wrote.size() >= 4, wrote.toString());
    }

    @Test
    void watchKeepsTheRiskiestFramesWithARiskModelAndRefusesTheRiskTriggerWithout() throws Exception {
        Path out = work.resolve("watch-risk");
        ok("watch", "--model", model.toString(), "--sa", sa.toString(), "--folder", images.toString(), "--risk", riskModel.toString(),
                "--share", "0.3", "--out", out.toString(), "--idle-seconds", "1", "--settle-ms", "0", "--poll-ms", "50");
        List<String> decisions = Files.readAllLines(out.resolve("decisions.jsonl"));
        assertFalse(decisions.isEmpty());
        ObjectMapper json = new ObjectMapper();
        int withRisk = 0;
        for (String line : decisions) {
            JsonNode d = json.readTree(line);
            if (d.has("risk")) {
                withRisk++;
                assertTrue(d.get("risk").asDouble() >= 0 && d.get("risk").asDouble() <= 1, line);
                assertEquals("risk", d.get("rule").asText(), line);
            }
        }
        assertTrue(withRisk > 0, "decisions carry the frame's risk");
        Path cfg = work.resolve("risk-trigger.json");
        Files.writeString(cfg, "{\"triggers\": [{\"name\": \"r\", \"score\": \"risk\"}], \"budget\": {\"share\": 0.2}}");
        refused("give the risk model with --risk", "watch", "--model", model.toString(), "--sa", sa.toString(), "--folder",
                images.toString(), "--config", cfg.toString(), "--out", work.resolve("watch-no-risk").toString(), "--idle-seconds", "1");
        assertFalse(Files.exists(work.resolve("watch-no-risk")), "nothing written");
        refused("another SA model", "watch", "--model", model.toString(), "--sa", saFew.toString(), "--folder", images.toString(),
                "--risk", riskModel.toString(), "--share", "0.3", "--out", work.resolve("watch-other").toString(), "--idle-seconds", "1");
    }
}
