package dev.segsa.spark;

import dev.segsa.videoscore.SegsaVideo;
import dev.segsa.Segsa;
import dev.segsa.SegsaFit;
import dev.segsa.error.SegsaException;
import dev.segsa.FrameFiles;
import dev.segsa.features.FrameReader;
import dev.segsa.risk.RiskModel;
import dev.segsa.risk.RiskModelFile;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import dev.segsa.scores.ClassGroups;
import dev.segsa.scores.ScoresCsv;
import dev.segsa.scores.ScoringJob;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Spark jobs in local mode (local[2,4]: two task threads, four attempts per task) on a
 * handful of CamVid frames with models/camvid.pt: the fit equals the single-machine fit (moments
 * within 1e-12 relative, the LSA references identical) for 1 and 3 partitions and when one task
 * fails once and is retried; the score rows equal the single-machine rows (and no row appears
 * twice after a retried task); a frame without a mask, a corrupt frame, and the JDK check.
 */
class SparkJobsTest {
    @TempDir
    static Path dir;
    static SparkSession spark;
    static Path frames, masks, model;
    static final int FRAMES = 6, REFS = 400;
    static SaModel single;

    @BeforeAll
    static void setUp() throws Exception {
        Path camvid = Path.of(System.getProperty("segsa.camvid", "../shared/data/camvid"));
        assumeTrue(Files.isDirectory(camvid.resolve("train")), "CamVid not found at " + camvid);
        model = Path.of("models/camvid.pt").toAbsolutePath();
        // a small fleet: two recordings of three frames each (links to the shared data, not copies)
        frames = dir.resolve("frames");
        masks = dir.resolve("masks");
        List<Path> train = FrameReader.listFrames(camvid.resolve("train")).subList(0, FRAMES);
        for (int i = 0; i < FRAMES; i++) {
            Path rec = frames.resolve(i < 3 ? "rec-a" : "rec-b");
            Files.createDirectories(rec);
            Files.createDirectories(masks);
            Path f = train.get(i);
            Files.createSymbolicLink(rec.resolve(f.getFileName()), f.toAbsolutePath());
            Files.createSymbolicLink(masks.resolve(f.getFileName()), camvid.resolve("trainannot").resolve(f.getFileName()).toAbsolutePath());
        }
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(REFS).seed(3).open()) {
            for (Path f : sortedFrames()) {
                FrameFiles.Decoded d = FrameFiles.read(f, masks);
                fit.add(d.name(), d.image(), d.labels());
            }
            single = fit.finish();
        }
        spark = SparkSession.builder().master("local[2,4]").appName("segsa-test").config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4").getOrCreate();
    }

    @AfterAll
    static void tearDown() {
        if (spark != null) spark.stop();
    }

    /** The frames in the order the Spark jobs list them (by full path). */
    static List<Path> sortedFrames() throws Exception {
        List<Path> all = new ArrayList<>();
        try (var s = Files.walk(frames)) {
            s.filter(p -> p.toString().endsWith(".png")).forEach(all::add);
        }
        all.sort(Comparator.comparing(Path::toString));
        return all;
    }

    static String glob() {
        return frames.toUri() + "*/*.png";
    }

    @Test
    void fitEqualsTheSingleMachineFitForAnyPartitioningAndAfterARetriedTask() {
        for (int[] c : new int[][] {{1, -1}, {3, -1}, {3, 1}}) {
            SparkFit.Result r = SparkFit.run(spark, model.toString(), glob(), masks.toUri() + "*.png", c[0], REFS, 3, false, 1, false, c[1]);
            String what = c[0] + " partitions" + (c[1] >= 0 ? ", partition " + c[1] + " failing once" : "");
            assertEquals(FRAMES, r.frames(), what);
            assertSameModel(single, r.model(), what);
        }
    }

    static void assertSameModel(SaModel want, SaModel got, String what) {
        assertEquals(want.classes(), got.classes(), what);
        for (int c = 0; c < want.classes(); c++) {
            ClassStatistics a = want.statistics()[c], b = got.statistics()[c];
            assertEquals(a.count(), b.count(), what + ": count of class " + c);
            assertClose(a.mean(), b.mean(), what + ": mean of class " + c);
            assertClose(a.comoment(), b.comoment(), what + ": comoment of class " + c);
            assertArrayEquals(want.references()[c], got.references()[c], what + ": LSA references of class " + c);
        }
    }

    static void assertClose(double[] want, double[] got, String what) {
        double scale = 0;
        for (double v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-12 * Math.max(scale, 1e-300), what + " [" + i + "]");
        }
    }

    @Test
    void scoreRowsEqualTheSingleMachineRowsWithoutDuplicatesAfterARetry() throws Exception {
        Path sa = dir.resolve("single.sa");
        if (!Files.exists(sa)) SaModelFile.write(single, sa);
        // single machine: the front door and the scores table, as segsa score
        List<String> want = new ArrayList<>();
        try (Segsa engine = Segsa.builder(model, sa).lsa(true).open()) {
            for (Path f : sortedFrames()) {
                FrameFiles.Decoded d = FrameFiles.read(f, masks);
                FrameResult r = engine.score(d.image(), d.name());
                ScoringJob job = new ScoringJob(engine.saModel(), ClassGroups.none());
                job.add(r, engine.labelsAtOutputSize(d.labels(), d.image().getWidth(), d.image().getHeight()), d.labelFile(),
                        new ArrayList<>());
                for (ScoresCsv.Row row : job.rows()) want.add(key(row.image(), row.className(), row.pixels(), row.mdsa(), row.lsa(), row.iou()));
            }
        }
        for (int fail : new int[] {-1, 1}) {
            String out = dir.resolve("scores" + fail).toUri().toString();
            SparkScore.Result r = SparkScore.run(spark, model.toString(), sa.toString(), glob(), masks.toUri() + "*.png", out, 3, true,
                    false, false, 1, false, "recording", fail);
            List<String> got = new ArrayList<>();
            List<Row> rows = spark.read().parquet(out).collectAsList();
            for (Row row : rows) {
                got.add(key(row.getAs("image"), row.getAs("class"), row.<Long>getAs("pixels"), row.<Double>getAs("mdsa"),
                        row.<Double>getAs("lsa"), row.<Double>getAs("iou")));
                String rec = row.getAs("recording");
                assertTrue(rec.equals("rec-a") || rec.equals("rec-b"), rec);
                assertEquals("class", row.getAs("row_kind"), "the job writes class rows only");
            }
            want.sort(null);
            got.sort(null);
            assertEquals(want, got, "rows with partition " + fail + " failing once");
            assertEquals(want.size(), r.rows());
            assertEquals(FRAMES, r.frames());
            assertTrue(Files.isDirectory(Path.of(java.net.URI.create(out)).resolve("recording=rec-a")), "partitioned by recording");
            // what segsa evaluate and segsa select read: the Parquet dataset directly (DuckDB), image = path
            ScoresCsv.Contents read = ScoresCsv.read(Path.of(java.net.URI.create(out)));
            assertEquals(want.size(), read.rows().size());
            assertTrue(read.scoreColumns().containsAll(List.of("mdsa", "lsa")), read.scoreColumns().toString());
            for (ScoresCsv.Row x : read.rows()) {
                assertTrue(x.image().startsWith("file:"), "rows keyed by path: " + x);
            }
            assertEquals(want.stream().filter(k -> !k.endsWith("|" + Double.doubleToLongBits(Double.NaN))).count(),
                    read.rows().stream().filter(x -> !Double.isNaN(x.iou())).count(), "rows with an IoU");
        }
    }

    static String key(String image, String cls, long pixels, double mdsa, double lsa, double iou) {
        return image + "|" + cls + "|" + pixels + "|" + Double.doubleToLongBits(mdsa) + "|" + Double.doubleToLongBits(lsa) + "|"
                + Double.doubleToLongBits(iou);
    }

    /** Video files: each scored by one task; rows keyed <file>#<frame> with video, frame and pts, as segsa score --video. */
    @Test
    void videoRowsEqualTheSingleMachineRows() throws Exception {
        Path sa = dir.resolve("single.sa");
        if (!Files.exists(sa)) SaModelFile.write(single, sa);
        Path videos = dir.resolve("videos/rec-v");
        Files.createDirectories(videos);
        List<Path> fs = sortedFrames();
        for (int v = 0; v < 2; v++) {
            java.awt.image.BufferedImage first = FrameReader.readImage(fs.get(0));
            try (dev.segsa.video.VideoWriter w = dev.segsa.video.VideoWriter.open(videos.resolve("clip" + v + ".mp4"), first.getWidth(),
                    first.getHeight(), 10, 2_000_000)) {
                for (int i = 0; i < 3; i++) w.write(FrameReader.readImage(fs.get(v * 3 + i)));
            }
        }
        dev.segsa.video.VideoSource.Options options = new dev.segsa.video.VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, 2);
        List<String> want = new ArrayList<>();
        try (Segsa engine = Segsa.builder(model, sa).open()) {
            for (int v = 0; v < 2; v++) {
                Path clip = videos.resolve("clip" + v + ".mp4");
                SegsaVideo.scoreVideo(engine, clip, options, false, (f, r) -> {
                    ScoringJob job = new ScoringJob(engine.saModel(), ClassGroups.none());
                    job.add(r, null, null, new ArrayList<>());
                    for (ScoresCsv.Row row : job.rows()) {
                        want.add(key(ScoresCsv.videoFrameName(clip.getFileName().toString(), f.index()), row.className(), row.pixels(),
                                row.mdsa(), row.lsa(), row.iou()) + "|" + f.index() + "|" + f.seconds() + "|" + f.ptsMicros() * 1000
                                + "|class");
                    }
                });
            }
        }
        String out = dir.resolve("video-scores").toUri().toString();
        SparkScore.Result r = SparkScore.run(spark, model.toString(), sa.toString(), videos.getParent().toUri() + "*/*.mp4", null, out, 2,
                false, false, false, 1, false, null, -1, options);
        List<String> got = new ArrayList<>();
        for (Row row : spark.read().parquet(out).collectAsList()) {
            got.add(key(row.getAs("image"), row.getAs("class"), row.<Long>getAs("pixels"), row.<Double>getAs("mdsa"),
                    row.<Double>getAs("lsa"), row.<Double>getAs("iou")) + "|" + row.<Integer>getAs("frame") + "|" + row.<Double>getAs("pts")
                    + "|" + row.<Long>getAs("time_ns") + "|" + row.<String>getAs("row_kind"));
        }
        want.sort(null);
        got.sort(null);
        assertTrue(want.size() > 6, "rows of 6 video frames: " + want.size());
        assertEquals(want, got);
        assertEquals(6, r.frames());
        // read back as evaluate and select read it: one key per video frame (<path>#<frame>), not one per video file
        ScoresCsv.Contents back = dev.segsa.scores.ScoresParquet.read(Path.of(java.net.URI.create(out)));
        back.requireUniqueKeys();
        assertEquals(6, back.rows().stream().map(ScoresCsv.Row::image).distinct().count());
        assertTrue(back.rows().stream().allMatch(x -> x.image().matches(".*clip[01]\\.mp4#[0-2]")), back.rows().get(0).image());
        assertEquals(6, back.ptsSeconds().size());
        assertEquals(6, back.timeNs().size(), "time_ns: the presentation time in integer nanoseconds");
        assertTrue(back.rows().stream().noneMatch(ScoresCsv.Row::group));

        // a zero-byte video and one that is not a video: listed as skipped with --skip-bad-frames, never silently left out
        Files.write(videos.resolve("empty.mp4"), new byte[0]);
        Files.writeString(videos.resolve("words.mp4"), "not a video");
        String out2 = dir.resolve("video-scores-2").toUri().toString();
        SparkScore.Result r2 = SparkScore.run(spark, model.toString(), sa.toString(), videos.getParent().toUri() + "*/*.mp4", null, out2, 2,
                false, false, false, 1, true, null, -1, options);
        assertEquals(6, r2.frames());
        assertEquals(2, r2.skipped().size(), r2.skipped().toString());
        assertTrue(r2.skipped().stream().anyMatch(x -> x.contains("empty.mp4")) && r2.skipped().stream().anyMatch(x -> x.contains("words.mp4")),
                r2.skipped().toString());
        Files.delete(videos.resolve("empty.mp4"));
        Files.delete(videos.resolve("words.mp4"));
    }

    static Path riskFile;

    /**
     * A risk model for single.sa, fitted on the fleet's labelled segments (the rows of segsa score
     * --segments, IoU_adj from the masks) as segsa fit-risk's linear regressor (0 trees) does: a
     * least-squares regression of IoU_adj on the standardised inputs (a little ridge, the fleet is
     * six frames). Built here, not with RiskModelFit: that class does not link without XGBoost
     * (its boosted() catches XGBoostError, so the verifier loads it), which the Spark module keeps
     * off its classpath. The classifier (failed area, not written by the jobs) is its bias only.
     */
    static synchronized Path riskFile() throws Exception {
        if (riskFile != null) return riskFile;
        Path sa = dir.resolve("single.sa");
        if (!Files.exists(sa)) SaModelFile.write(single, sa);
        int classes = single.classes();
        int d = RiskModel.inputs(RiskModel.HEAT_MAPS.size(), classes, true);
        List<double[]> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        try (Segsa engine = Segsa.builder(model, sa).segments(true).open()) {
            for (Path f : sortedFrames()) {
                FrameFiles.Decoded d0 = FrameFiles.read(f, masks);
                FrameResult r = engine.score(d0.image(), d0.name());
                double[] iou = engine.segmentIouAdj(engine.labelsAtOutputSize(d0.labels(), d0.image().getWidth(), d0.image().getHeight()));
                double[] rows = r.segments().copyRows();
                int cols = r.segments().columns();
                for (int k = 0; k < r.segments().count(); k++) {
                    // RiskModelFit.trainable: an IoU_adj and a non-empty interior
                    if (Double.isNaN(iou[k]) || rows[k * cols + dev.segsa.segments.SegmentFeatures.SIZE_IN] <= 0) continue;
                    double[] x = new double[d];
                    RiskModel.input(rows, k * cols, classes, true, x);
                    xs.add(x);
                    ys.add(iou[k]);
                }
            }
        }
        int n = xs.size();
        assertTrue(n >= 20, n + " labelled segments");
        double[] mean = new double[d], scale = new double[d];
        for (int j = 0; j < d; j++) {
            double sum = 0, ss = 0;
            for (double[] x : xs) sum += x[j];
            mean[j] = sum / n;
            for (double[] x : xs) ss += (x[j] - mean[j]) * (x[j] - mean[j]);
            scale[j] = Math.sqrt(ss / n) > 1e-12 ? Math.sqrt(ss / n) : 1;
        }
        // normal equations of [z, 1] with ridge 1 on the weights (not the bias), solved by Gaussian elimination
        int m = d + 1;
        double[][] a = new double[m][m + 1];
        double zeros = 0;
        for (int i = 0; i < n; i++) {
            double[] z = new double[m];
            for (int j = 0; j < d; j++) z[j] = (xs.get(i)[j] - mean[j]) / scale[j];
            z[d] = 1;
            for (int j = 0; j < m; j++) {
                for (int k = 0; k < m; k++) a[j][k] += z[j] * z[k];
                a[j][m] += z[j] * ys.get(i);
            }
            if (ys.get(i) == 0) zeros++;
        }
        for (int j = 0; j < d; j++) a[j][j] += 1;
        for (int col = 0; col < m; col++) {
            int piv = col;
            for (int r = col + 1; r < m; r++) if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) piv = r;
            double[] t = a[col];
            a[col] = a[piv];
            a[piv] = t;
            for (int r = 0; r < m; r++) {
                if (r == col) continue;
                double q = a[r][col] / a[col][col];
                for (int k = col; k <= m; k++) a[r][k] -= q * a[col][k];
            }
        }
        double[] linear = new double[m];
        for (int j = 0; j < m; j++) linear[j] = a[j][m] / a[j][j];
        double[] logistic = new double[m];
        double share = Math.min(Math.max(zeros / n, 0.01), 0.99);
        logistic[d] = Math.log(share / (1 - share));
        double[] weights = new double[classes];
        java.util.Arrays.fill(weights, 1);
        RiskModel risk = new RiskModel(single.settings().modelSha256(), single.fingerprint(), single.settings().classNames(),
                RiskModel.HEAT_MAPS, true, true, mean, scale, logistic, linear, List.of(), 0, weights);
        Path out = dir.resolve("single.risk");
        RiskModelFile.write(risk, out);
        riskFile = out;
        return out;
    }

    /** image (file name or video frame name) | class -> risk, of Parquet rows read by Spark. */
    static java.util.Map<String, Double> risks(List<Row> rows) {
        java.util.Map<String, Double> m = new java.util.TreeMap<>();
        for (Row row : rows) {
            assertNull(m.put(row.<String>getAs("image") + "|" + row.<String>getAs("class"), row.<Double>getAs("risk")), "one row per class");
        }
        return m;
    }

    /**
     * --risk: the Parquet rows carry segsa score --risk's risk column (per class one minus its
     * predicted IoU, in [0, 1]) for frames and for video frames; read back by ScoresCsv.read as
     * evaluate and select read it; without --risk the column is there and NaN.
     */
    @Test
    void scoreWithRiskWritesTheRiskColumnOfSegsaScore() throws Exception {
        Path sa = dir.resolve("single.sa");
        Path risk = riskFile();
        RiskModel riskModel = RiskModelFile.read(risk);
        // single machine: what segsa score --risk writes for these frames
        java.util.Map<String, Double> want = new java.util.TreeMap<>();
        try (Segsa engine = Segsa.builder(model, sa).riskModel(riskModel).open()) {
            for (Path f : sortedFrames()) {
                FrameFiles.Decoded d = FrameFiles.read(f, masks);
                FrameResult r = engine.score(d.image(), d.name());
                ScoringJob job = new ScoringJob(engine.saModel(), ClassGroups.none());
                job.add(r, engine.labelsAtOutputSize(d.labels(), d.image().getWidth(), d.image().getHeight()), d.labelFile(),
                        new ArrayList<>());
                for (ScoresCsv.Row row : job.rows()) want.put(row.image() + "|" + row.className(), row.risk());
            }
        }
        long finite = want.values().stream().filter(Double::isFinite).count();
        assertTrue(finite >= FRAMES, "the single-machine rows have risks: " + want);
        assertTrue(want.values().stream().filter(Double::isFinite).distinct().count() > FRAMES, "risks that differ: " + want);

        String out = dir.resolve("risk-scores").toUri().toString();
        SparkScore.Result result = SparkScore.run(spark, model.toString(), sa.toString(), glob(), masks.toUri() + "*.png", out, 3, false,
                false, false, 1, false, null, -1, null, risk.toString());
        assertEquals(FRAMES, result.frames());
        java.util.Map<String, Double> got = risks(spark.read().parquet(out).collectAsList());
        assertEquals(want.keySet(), got.keySet());
        for (var e : want.entrySet()) {
            double w = e.getValue(), g = got.get(e.getKey());
            if (Double.isNaN(w)) assertTrue(Double.isNaN(g), e.getKey() + ": " + g);
            else assertEquals(w, g, 1e-12, e.getKey());
            if (!Double.isNaN(g)) assertTrue(g >= 0 && g <= 1, e.getKey() + ": risk " + g);
        }
        // every class a frame predicts has a risk (a class only in the mask has none)
        for (Row row : spark.read().parquet(out).collectAsList()) {
            if (row.<Long>getAs("pixels") > 0) assertTrue(Double.isFinite(row.<Double>getAs("risk")), row.toString());
        }
        // as segsa evaluate and select read it
        ScoresCsv.Contents back = ScoresCsv.read(Path.of(java.net.URI.create(out)));
        assertTrue(back.hasRisk());
        assertEquals(ScoresCsv.RISK, back.frameScoreNames().get(0), "risk ranks frames first: " + back.frameScoreNames());
        assertEquals(want.size(), back.rows().size());
        for (ScoresCsv.Row x : back.rows()) {
            String key = FramePairs.fileName(x.image()) + "|" + x.className();
            double w = want.get(key);
            if (Double.isNaN(w)) assertTrue(Double.isNaN(x.risk()), key);
            else assertEquals(w, x.risk(), 1e-12, key);
        }

        // without --risk: the column is there, NaN
        String plain = dir.resolve("no-risk-scores").toUri().toString();
        SparkScore.run(spark, model.toString(), sa.toString(), glob(), null, plain, 1, false, false, false, 1, false, null, -1);
        List<Row> plainRows = spark.read().parquet(plain).collectAsList();
        assertTrue(List.of(spark.read().parquet(plain).columns()).contains("risk"));
        assertTrue(plainRows.stream().allMatch(x -> Double.isNaN(x.<Double>getAs("risk"))));
        assertTrue(!ScoresCsv.read(Path.of(java.net.URI.create(plain))).hasRisk());

        // video frames: the rows rebuilt with their video name keep the risk
        Path videos = dir.resolve("risk-videos/rec-v");
        Files.createDirectories(videos);
        List<Path> fs = sortedFrames();
        java.awt.image.BufferedImage first = FrameReader.readImage(fs.get(0));
        Path clip = videos.resolve("clip.mp4");
        try (dev.segsa.video.VideoWriter w = dev.segsa.video.VideoWriter.open(clip, first.getWidth(), first.getHeight(), 10, 2_000_000)) {
            for (int i = 0; i < 2; i++) w.write(FrameReader.readImage(fs.get(i)));
        }
        dev.segsa.video.VideoSource.Options options = new dev.segsa.video.VideoSource.Options(1, 0, Double.POSITIVE_INFINITY, 2);
        java.util.Map<String, Double> wantVideo = new java.util.TreeMap<>();
        try (Segsa engine = Segsa.builder(model, sa).riskModel(riskModel).open()) {
            SegsaVideo.scoreVideo(engine, clip, options, false, (f, r) -> {
                ScoringJob job = new ScoringJob(engine.saModel(), ClassGroups.none());
                job.add(r, null, null, new ArrayList<>());
                for (ScoresCsv.Row row : job.rows()) {
                    wantVideo.put(ScoresCsv.videoFrameName("clip.mp4", f.index()) + "|" + row.className(), row.risk());
                }
            });
        }
        String videoOut = dir.resolve("risk-video-scores").toUri().toString();
        SparkScore.run(spark, model.toString(), sa.toString(), videos.getParent().toUri() + "*/*.mp4", null, videoOut, 1, false, false,
                false, 1, false, null, -1, options, risk.toString());
        java.util.Map<String, Double> gotVideo = risks(spark.read().parquet(videoOut).collectAsList());
        assertEquals(wantVideo.keySet(), gotVideo.keySet());
        assertTrue(wantVideo.values().stream().allMatch(Double::isFinite), wantVideo.toString());
        for (var e : wantVideo.entrySet()) assertEquals(e.getValue(), gotVideo.get(e.getKey()), 1e-12, e.getKey());
    }

    /**
     * A risk model fitted for another SA file, or a corrupt one, is refused on the driver in one
     * line naming the file, before any Spark job starts and before anything is written.
     */
    @Test
    void aRiskModelForAnotherSaFileIsRefusedBeforeTheJobStarts() throws Exception {
        Path risk = riskFile();
        // another SA model of the same segmentation model: fitted on other frames
        Path other = dir.resolve("other.sa");
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).seed(5).open()) {
            for (Path f : sortedFrames().subList(0, 2)) {
                FrameFiles.Decoded d = FrameFiles.read(f, masks);
                fit.add(d.name(), d.image(), d.labels());
            }
            SaModelFile.write(fit.finish(), other);
        }
        Path corrupt = dir.resolve("corrupt.risk");
        Files.write(corrupt, "not a risk model, just words long enough".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String group = "segsa-risk-refused";
        spark.sparkContext().setJobGroup(group, "refused risk models", false);
        try {
            for (String[] c : new String[][] {{other.toString(), risk.toString(), "another SA model"},
                    {dir.resolve("single.sa").toString(), corrupt.toString(), "not a segsa risk model"}}) {
                Path out = dir.resolve("refused-" + Path.of(c[1]).getFileName());
                SegsaException e = assertThrows(SegsaException.class, () -> SparkScore.run(spark, model.toString(), c[0], glob(), null,
                        out.toUri().toString(), 2, false, false, false, 1, false, null, -1, null, c[1]));
                assertTrue(e.getMessage().startsWith(c[1] + ": ") && e.getMessage().contains(c[2]), e.getMessage());
                assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
                assertTrue(!Files.exists(out), "nothing written");
            }
            assertEquals(0, spark.sparkContext().statusTracker().getJobIdsForGroup(group).length, "no Spark job started");
        } finally {
            spark.sparkContext().clearJobGroup();
        }
        // the job's options know --risk (score), and fit refuses it
        assertEquals(risk.toString(), SegsaSpark.options(new String[] {"score", "--risk", risk.toString()}).get("--risk"));
        IllegalArgumentException usage = assertThrows(IllegalArgumentException.class,
                () -> SegsaSpark.run(new String[] {"fit", "--risk", risk.toString()}));
        assertTrue(usage.getMessage().contains("--risk"), usage.getMessage());
    }

    /** --from / --to of a video job: NaN, Infinity and negatives refused before any job. */
    @Test
    void timeOptionsAreFiniteSeconds() {
        for (String bad : new String[] {"NaN", "Infinity", "-1", "x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> SegsaSpark.seconds(java.util.Map.of("--from", bad), "--from", 0));
            assertTrue(e.getMessage().contains("--from must be a finite number of seconds >= 0, got '" + bad + "'"), e.getMessage());
        }
        assertEquals(2.5, SegsaSpark.seconds(java.util.Map.of("--to", "2.5"), "--to", 0));
        assertEquals(Double.POSITIVE_INFINITY, SegsaSpark.seconds(java.util.Map.of(), "--to", Double.POSITIVE_INFINITY));
    }

    /** A failed job is one line naming the file, whether Spark kept the task's exception or only its text. */
    @Test
    void aFailedJobIsOneLineNamingTheFile() {
        SegsaException task = new SegsaException("file:/fleet/rec-c/broken.png: not a PNG image (bad header)");
        Exception wrapped = new org.apache.spark.SparkException("Job aborted due to stage failure: Task 0 in stage 1.0 failed 4 times, most "
                + "recent failure: Lost task 0.3 in stage 1.0 (TID 7) (host executor 1): " + task + "\n\tat dev.segsa.spark.SparkScore.x(SparkScore.java:1)",
                task);
        assertEquals(task.getMessage(), SegsaSpark.rootMessage(wrapped));
        Exception textOnly = new org.apache.spark.SparkException("Job aborted due to stage failure: Lost task 0.3 (TID 7): " + task
                + "\n\tat dev.segsa.spark.SparkScore.x(SparkScore.java:1)");
        assertEquals(task.getMessage(), SegsaSpark.rootMessage(textOnly));
        assertEquals("boom", SegsaSpark.rootMessage(new RuntimeException("outer", new IllegalStateException("boom\nmore"))));
    }

    @Test
    void anUnpairedFrameIsAnErrorListingIt() throws Exception {
        Path extra = dir.resolve("extra");
        Files.createDirectories(extra);
        Files.createSymbolicLink(extra.resolve("lonely.png"), sortedFrames().get(0));
        SegsaException e = assertThrows(SegsaException.class, () -> SparkFit.run(spark, model.toString(),
                extra.toUri() + "*.png", masks.toUri() + "*.png", 1, REFS, 3, false, 1, false, -1));
        assertTrue(e.getMessage().contains("1 frame(s) have no label mask") && e.getMessage().contains("lonely.png"), e.getMessage());
    }

    @Test
    void aCorruptFrameFailsTheJobOrIsSkippedAndListed() throws Exception {
        Path bad = dir.resolve("bad/rec-c");
        Files.createDirectories(bad);
        Files.write(bad.resolve("broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0});
        Files.createSymbolicLink(bad.resolve("good.png"), sortedFrames().get(0));
        Path sa = dir.resolve("single.sa");
        if (!Files.exists(sa)) SaModelFile.write(single, sa);
        String glob = bad.getParent().toUri() + "*/*.png";
        String outFail = dir.resolve("bad-out-1").toUri().toString();
        Exception e = assertThrows(Exception.class, () -> SparkScore.run(spark, model.toString(), sa.toString(), glob, null,
                outFail, 1, false, false, false, 1, false, null, -1));
        Throwable c = e;
        while (c.getCause() != null && !(c instanceof SegsaException)) c = c.getCause();
        assertTrue(String.valueOf(c.getMessage()).contains("broken.png"), String.valueOf(c.getMessage()));
        String out = dir.resolve("bad-out-2").toUri().toString();
        SparkScore.Result r = SparkScore.run(spark, model.toString(), sa.toString(), glob, null, out, 1, false, false, false, 1, true,
                null, -1);
        assertEquals(1, r.skipped().size(), r.skipped().toString());
        assertTrue(r.skipped().get(0).contains("broken.png"));
        assertEquals(1, r.frames());
        String listed = Files.readString(Path.of(java.net.URI.create(out)).resolve("_skipped.csv"));
        assertTrue(listed.startsWith("path,reason\n") && listed.contains("broken.png"), listed);
    }

    @Test
    void theJdkCheckRefusesJdk25BeforeUpdate3() {
        assertNotNull(JdkCheck.problem(Runtime.Version.parse("25.0.2")));
        assertTrue(JdkCheck.problem(Runtime.Version.parse("25.0.2")).contains("25.0.3"));
        assertNotNull(JdkCheck.problem(Runtime.Version.parse("21.0.5")));
        assertNull(JdkCheck.problem(Runtime.Version.parse("25.0.3")));
        assertNull(JdkCheck.problem(Runtime.Version.parse("26")));
        assertNull(JdkCheck.problem(Runtime.version()), "this JVM " + Runtime.version());
    }
}
