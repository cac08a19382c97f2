package dev.segsa.spark;

import dev.segsa.videoscore.SegsaVideo;
import dev.segsa.Segsa;
import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.model.ModelFiles;
import dev.segsa.risk.RiskModel;
import dev.segsa.risk.RiskModelFile;
import dev.segsa.samodel.SaModel;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import dev.segsa.scores.ClassGroups;
import dev.segsa.scores.ScoresCsv;
import dev.segsa.scores.ScoringJob;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * {@code segsa score} on Spark: the frames (listed with the binaryFile source, split into the
 * requested partitions) are scored with {@code mapPartitions} by the scoring engine of each
 * executor JVM ({@link Engines}), and the rows of {@code scores.csv} (one per frame and class,
 * with IoU when masks are given, and the class's risk with a risk model) plus the frame's path
 * and its recording (the name of the folder it is in) are written with Spark's Parquet writer, partitioned by recording if asked. A failed
 * task is recomputed and Spark's commit protocol keeps only one attempt's output, so no row is
 * written twice. With --skip-bad-frames a frame that cannot be read or scored is listed in
 * {@code OUT/_skipped.csv} instead of failing the job.
 */
public final class SparkScore {
    private SparkScore() {}

    public record Result(long rows, int frames, List<String> skipped, long modelLoads) {}

    static final String SKIPPED = "_skipped";

    static StructType schema(boolean uncertainty) {
        return schema(uncertainty, false);
    }

    /**
     * @param video the rows of video frames also carry video (file name), frame (index in the stream), pts (seconds) and time_ns
     *              (the presentation time in integer nanoseconds, the exact join key)
     */
    static StructType schema(boolean uncertainty, boolean video) {
        List<StructField> f = new ArrayList<>();
        f.add(DataTypes.createStructField("image", DataTypes.StringType, false));
        f.add(DataTypes.createStructField("class", DataTypes.StringType, true));
        f.add(DataTypes.createStructField("pixels", DataTypes.LongType, false));
        f.add(DataTypes.createStructField("mdsa", DataTypes.DoubleType, false));
        f.add(DataTypes.createStructField("lsa", DataTypes.DoubleType, false));
        f.add(DataTypes.createStructField("iou", DataTypes.DoubleType, false));
        if (uncertainty) {
            for (String c : ScoresCsv.UNCERTAINTY_COLUMNS) f.add(DataTypes.createStructField(c, DataTypes.DoubleType, false));
        }
        // the class percentile behind the class-aware frame score (NaN when the SA file has no class reference)
        f.add(DataTypes.createStructField(ScoresCsv.CLASS_PERCENTILE_COLUMN, DataTypes.DoubleType, false));
        // one minus the class's predicted IoU (--risk; NaN without a risk model, or where the class has no risk)
        f.add(DataTypes.createStructField(ScoresCsv.RISK, DataTypes.DoubleType, false));
        // class or group, as in scores.csv (this job writes class rows only: it has no --groups)
        f.add(DataTypes.createStructField(ScoresCsv.ROW_KIND_COLUMN, DataTypes.StringType, true));
        f.add(DataTypes.createStructField("path", DataTypes.StringType, false));
        if (video) {
            f.add(DataTypes.createStructField("video", DataTypes.StringType, false));
            f.add(DataTypes.createStructField("frame", DataTypes.IntegerType, false));
            f.add(DataTypes.createStructField("pts", DataTypes.DoubleType, false));
            f.add(DataTypes.createStructField(ScoresCsv.TIME_NS_COLUMN, DataTypes.LongType, true));
        }
        f.add(DataTypes.createStructField("recording", DataTypes.StringType, false));
        f.add(DataTypes.createStructField(SKIPPED, DataTypes.StringType, true));
        return DataTypes.createStructType(f);
    }

    /**
     * @param labels      masks (path or glob), or null: then IoU is NaN
     * @param partitionBy "recording" or null
     */
    public static Result run(SparkSession spark, String model, String sa, String images, String labels, String out,
                             int partitions, boolean lsa, boolean uncertainty, boolean trustModel, int threads,
                             boolean skipBadFrames, String partitionBy, int failPartition) {
        return run(spark, model, sa, images, labels, out, partitions, lsa, uncertainty, trustModel, threads, skipBadFrames,
                partitionBy, failPartition, null);
    }

    /**
     * @param video null: {@code images} are frames; else {@code images} are video files, each
     *              decoded and scored by one task with these options (every k-th frame, a time
     *              window), and {@code labels} must be null
     */
    public static Result run(SparkSession spark, String model, String sa, String images, String labels, String out,
                             int partitions, boolean lsa, boolean uncertainty, boolean trustModel, int threads,
                             boolean skipBadFrames, String partitionBy, int failPartition,
                             dev.segsa.video.VideoSource.Options video) {
        return run(spark, model, sa, images, labels, out, partitions, lsa, uncertainty, trustModel, threads, skipBadFrames,
                partitionBy, failPartition, video, null);
    }

    /**
     * @param risk a risk model file (segsa fit-risk) or null: read and checked against the SA model
     *             on the driver before any task starts; its per-class risk fills the risk column
     *             (NaN without one)
     */
    public static Result run(SparkSession spark, String model, String sa, String images, String labels, String out,
                             int partitions, boolean lsa, boolean uncertainty, boolean trustModel, int threads,
                             boolean skipBadFrames, String partitionBy, int failPartition,
                             dev.segsa.video.VideoSource.Options video, String risk) {
        if (video != null && labels != null) throw new IllegalArgumentException("--labels is for frames, not --videos");
        JdkCheck.require();
        if (partitions < 1) throw new IllegalArgumentException("--partitions must be at least 1, got " + partitions);
        if (partitionBy != null && !partitionBy.equals("recording")) {
            throw new IllegalArgumentException("--partition-by must be 'recording' (the folder of each frame), got " + partitionBy);
        }
        SaModel saModel = SaModelFile.read(Path.of(sa)); // checked on the driver before any task starts
        if (lsa && saModel.references() == null) {
            throw new SegsaException(sa + ": LSA was asked for but the SA model was fitted with --lsa-references 0");
        }
        if (risk != null) requireRiskModel(Path.of(risk), saModel); // on the driver too: one line before any task starts
        List<String> frames = SparkFit.list(spark, images, video != null ? "--videos" : "--images");
        Map<String, String> masks = labels == null ? Map.of() : FramePairs.pair(frames, SparkFit.list(spark, labels, "--labels"));
        List<Tuple2<String, String>> list = new ArrayList<>();
        for (String f : frames) list.add(new Tuple2<>(f, masks.get(f)));
        JobSettings.Score job = new JobSettings.Score(model, ModelFiles.sha256(Path.of(model)), sa, ModelFiles.sha256(Path.of(sa)),
                risk, risk == null ? null : ModelFiles.sha256(Path.of(risk)), lsa, uncertainty, trustModel, threads, skipBadFrames,
                failPartition);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        org.apache.spark.util.LongAccumulator loads = spark.sparkContext().longAccumulator("segsa model loads");
        // the closure captures plain values (the options record is not Serializable)
        final boolean isVideo = video != null;
        final int every = isVideo ? video.every() : 1, ahead = isVideo ? video.ahead() : 0;
        final double from = isVideo ? video.fromSeconds() : 0, to = isVideo ? video.toSeconds() : 0;
        JavaRDD<Row> rows = jsc.parallelize(list, partitions).mapPartitions(it -> {
            Iterator<Row> r = isVideo ? scoreVideos(job, new dev.segsa.video.VideoSource.Options(every, from, to, ahead), it)
                    : scorePartition(job, it);
            loads.add(Engines.takeThreadLoads());
            return r;
        });
        StructType schema = schema(uncertainty, video != null);
        Dataset<Row> all = spark.createDataFrame(rows, schema).persist(StorageLevel.MEMORY_AND_DISK());
        try {
            Dataset<Row> scored = all.filter(all.col(SKIPPED).isNull()).drop(SKIPPED);
            var writer = scored.write().mode("errorifexists");
            if (partitionBy != null) writer = writer.partitionBy(partitionBy);
            writer.parquet(out);
            long n = scored.count();
            List<String> skipped = new ArrayList<>();
            for (Row r : all.filter(all.col(SKIPPED).isNotNull()).select("path", SKIPPED).collectAsList()) {
                skipped.add(r.getString(0) + ": " + r.getString(1));
            }
            if (!skipped.isEmpty()) writeSkipped(spark, out, skipped);
            int scoredFrames = (int) scored.select(video != null ? "image" : "path").distinct().count();
            return new Result(n, scoredFrames, skipped, loads.value());
        } finally {
            all.unpersist();
        }
    }

    /**
     * Reads the risk model and refuses, in one line naming the file, one fitted for another
     * segmentation model or SA model or with other classes (as segsa score --risk).
     */
    static RiskModel requireRiskModel(Path file, SaModel saModel) {
        RiskModel risk = RiskModelFile.read(file);
        risk.requireFor(saModel, file);
        return risk;
    }

    private static Iterator<Row> scorePartition(JobSettings.Score job, Iterator<Tuple2<String, String>> it) {
        TaskContext tc = TaskContext.get();
        if (tc != null && tc.partitionId() == job.failPartition() && tc.attemptNumber() == 0) {
            throw new IllegalStateException("injected failure in partition " + tc.partitionId() + " (attempt 0)");
        }
        Segsa engine = Engines.scorer(job);
        SaModel sa = engine.saModel();
        List<Row> out = new ArrayList<>();
        boolean withUncertainty = job.uncertainty();
        while (it.hasNext()) {
            Tuple2<String, String> p = it.next();
            String path = p._1();
            String name = FramePairs.fileName(path);
            String recording = recording(path);
            try {
                BufferedImage img = FrameReader.readImage(Engines.read(path), path);
                FrameResult r = engine.score(img, name);
                int[] labels = null;
                if (p._2() != null) {
                    int[] src = FrameReader.readLabels(Engines.read(p._2()), p._2(), name, img.getWidth(), img.getHeight(),
                            img.getWidth(), img.getHeight());
                    labels = engine.labelsAtOutputSize(src, img.getWidth(), img.getHeight());
                }
                // one frame's rows: the per-class rows of scores.csv do not depend on the other frames
                ScoringJob one = new ScoringJob(sa, ClassGroups.none());
                one.add(r, labels, p._2(), new ArrayList<>());
                for (ScoresCsv.Row row : one.rows()) out.add(row(row, withUncertainty, path, recording, null));
            } catch (SegsaException e) {
                if (!job.skipBadFrames()) throw e;
                out.add(row(new ScoresCsv.Row(name, null, 0, Double.NaN, Double.NaN, Double.NaN), withUncertainty, path, recording,
                        e.getMessage()));
            }
        }
        return out.iterator();
    }

    /** One task's video files: each decoded and scored whole (a file is never split between tasks). */
    private static Iterator<Row> scoreVideos(JobSettings.Score job, dev.segsa.video.VideoSource.Options options,
                                             Iterator<Tuple2<String, String>> it) {
        TaskContext tc = TaskContext.get();
        if (tc != null && tc.partitionId() == job.failPartition() && tc.attemptNumber() == 0) {
            throw new IllegalStateException("injected failure in partition " + tc.partitionId() + " (attempt 0)");
        }
        Segsa engine = Engines.scorer(job);
        SaModel sa = engine.saModel();
        List<Row> out = new ArrayList<>();
        while (it.hasNext()) {
            String path = it.next()._1();
            String name = FramePairs.fileName(path);
            String recording = recording(path);
            Path local = null, temp = null;
            try {
                java.net.URI uri = java.net.URI.create(path);
                if ("file".equals(uri.getScheme())) {
                    local = Path.of(uri);
                } else {
                    // another file system (hdfs:, s3a: ...): the decoder needs a local file
                    temp = java.nio.file.Files.createTempFile("segsa-video-", "-" + name);
                    java.nio.file.Files.write(temp, Engines.read(path));
                    local = temp;
                }
                final Path video = local;
                List<Segsa.SkippedFrame> skipped = SegsaVideo.scoreVideo(engine, video, options, job.skipBadFrames(), (f, r) -> {
                    ScoringJob one = new ScoringJob(sa, ClassGroups.none());
                    one.add(r, null, null, new ArrayList<>());
                    String image = ScoresCsv.videoFrameName(name, f.index());
                    for (ScoresCsv.Row row : one.rows()) {
                        out.add(row(new ScoresCsv.Row(image, row.className(), row.pixels(), row.mdsa(), row.lsa(), row.iou(),
                                row.uncertainty(), row.mdsaPct(), row.risk(), row.group()), job.uncertainty(), path, recording, null, name, f.index(),
                                f.seconds(), f.ptsMicros() * 1000));
                    }
                });
                for (Segsa.SkippedFrame k : skipped) {
                    out.add(row(new ScoresCsv.Row(k.frame(), null, 0, Double.NaN, Double.NaN, Double.NaN), job.uncertainty(), path,
                            recording, k.reason(), name, -1, Double.NaN, null));
                }
            } catch (SegsaException | java.io.IOException e) {
                if (!job.skipBadFrames()) throw e instanceof SegsaException se ? se : new SegsaException(path + ": " + e.getMessage(), e);
                out.add(row(new ScoresCsv.Row(name, null, 0, Double.NaN, Double.NaN, Double.NaN), job.uncertainty(), path, recording,
                        e.getMessage(), name, -1, Double.NaN, null));
            } finally {
                if (temp != null) {
                    try {
                        java.nio.file.Files.deleteIfExists(temp);
                    } catch (java.io.IOException ignored) {
                        // a temporary file left in the executor's temp folder
                    }
                }
            }
        }
        return out.iterator();
    }

    /** A row of a video frame: the columns of a frame's row, with video, frame, pts and time_ns (null: unknown) after path. */
    private static Row row(ScoresCsv.Row r, boolean withUncertainty, String path, String recording, String skipped,
                           String video, int frame, double pts, Long timeNs) {
        return RowFactory.create(values(r, withUncertainty, path, recording, skipped, new Object[] {video, frame, pts, timeNs}).toArray());
    }

    private static Row row(ScoresCsv.Row r, boolean withUncertainty, String path, String recording, String skipped) {
        return RowFactory.create(values(r, withUncertainty, path, recording, skipped, new Object[0]).toArray());
    }

    /** The values in {@link #schema} order; {@code video} holds the video columns (or nothing). */
    private static List<Object> values(ScoresCsv.Row r, boolean withUncertainty, String path, String recording, String skipped,
                                       Object[] video) {
        List<Object> v = new ArrayList<>();
        v.add(r.image());
        v.add(r.className());
        v.add(r.pixels());
        v.add(r.mdsa());
        v.add(r.lsa());
        v.add(r.iou());
        if (withUncertainty) {
            for (int i = 0; i < ScoresCsv.UNCERTAINTY_COLUMNS.size(); i++) {
                v.add(r.uncertainty() == null ? Double.NaN : r.uncertainty()[i]);
            }
        }
        v.add(r.mdsaPct());
        v.add(r.risk());
        v.add(r.className() == null ? null : r.group() ? ScoresCsv.ROW_KIND_GROUP : ScoresCsv.ROW_KIND_CLASS);
        v.add(path);
        v.addAll(java.util.Arrays.asList(video));
        v.add(recording);
        v.add(skipped);
        return v;
    }

    /** The name of the folder a frame is in (its recording), "" at the root. */
    static String recording(String path) {
        int slash = path.lastIndexOf('/');
        if (slash <= 0) return "";
        int prev = path.lastIndexOf('/', slash - 1);
        return path.substring(prev + 1, slash);
    }

    private static void writeSkipped(SparkSession spark, String out, List<String> skipped) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(out, SKIPPED + ".csv");
        try {
            var fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            try (var o = fs.create(p, false)) {
                StringBuilder b = new StringBuilder("path,reason\n");
                for (String s : skipped) {
                    int i = s.indexOf(": ");
                    b.append(ScoresCsv.field(s.substring(0, i))).append(',').append(ScoresCsv.field(s.substring(i + 2))).append('\n');
                }
                o.write(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (java.io.IOException e) {
            throw new SegsaException(p + ": cannot write the list of skipped frames: " + e.getMessage(), e);
        }
    }
}
