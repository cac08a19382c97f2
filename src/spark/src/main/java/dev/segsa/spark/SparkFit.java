package dev.segsa.spark;

import dev.segsa.SegsaFit;
import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.fit.PartialFit;
import dev.segsa.model.ModelFiles;
import dev.segsa.samodel.SaModel;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

import java.awt.image.BufferedImage;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * {@code segsa fit} on Spark. The frames and masks are listed with Spark's binaryFile source (any
 * path and glob Spark reads), paired by file name on the driver, and split into the requested
 * number of partitions as (frame, mask) path pairs; each task reads its files, adds them to the
 * fit engine of its executor JVM ({@link Engines}) and hands back its partial fit as bytes
 * ({@link PartialFit#toBytes}, exact); {@code treeAggregate} merges them (Chan et al. for the
 * moments, the smallest keys for the LSA references), and the driver finishes the SA model. The
 * result equals the single-machine fit of the same frames for any partitioning: the moments to
 * float64 rounding, the reference set identically. A task that fails is recomputed by Spark and
 * its partial fit replaces the lost one, so a retry cannot count a frame twice.
 */
public final class SparkFit {
    private SparkFit() {}

    /** What {@link #run} gathered: the SA model, the frames skipped (with --skip-bad-frames) and a report. */
    /**
     * @param modelLoads     fit engines opened by the tasks (one per task slot of each executor JVM)
     * @param taskResultBytes bytes the tasks sent back (their serialized partial fits)
     * @param shuffleBytes    shuffle bytes written (treeAggregate's intermediate level, if any)
     */
    public record Result(SaModel model, List<String> skipped, int frames, int partitions, long partialFitBytes, long modelLoads,
                         long taskResultBytes, long shuffleBytes) {}

    /** What a task hands back: its partial fit and the frames it skipped. */
    static final class Part implements Serializable {
        private static final long serialVersionUID = 1L;
        final byte[] fit;
        final ArrayList<String> skipped;

        Part(byte[] fit, ArrayList<String> skipped) {
            this.fit = fit;
            this.skipped = skipped;
        }

        Part merge(Part other) {
            ArrayList<String> s = new ArrayList<>(skipped);
            s.addAll(other.skipped);
            return new Part(PartialFit.fromBytes(fit).merge(PartialFit.fromBytes(other.fit)).toBytes(), s);
        }
    }

    /**
     * @param images     frames: a path, directory or glob Spark reads (e.g. hdfs:///fleet/*&#47;frames/*.png)
     * @param labels     label masks, the same way
     * @param partitions tasks to split the frames into (at least 1)
     */
    public static Result run(SparkSession spark, String model, String images, String labels, int partitions, int lsaReferences,
                             long seed, boolean trustModel, int threads, boolean skipBadFrames, int failPartition) {
        return run(spark, model, images, labels, partitions, lsaReferences, seed, trustModel, threads, skipBadFrames, failPartition,
                false);
    }

    /** As above; {@code killExecutor}: the failing partition's first attempt kills its executor JVM (tests). */
    public static Result run(SparkSession spark, String model, String images, String labels, int partitions, int lsaReferences,
                             long seed, boolean trustModel, int threads, boolean skipBadFrames, int failPartition,
                             boolean killExecutor) {
        JdkCheck.require();
        if (partitions < 1) throw new IllegalArgumentException("--partitions must be at least 1, got " + partitions);
        PartialFit.Settings settings = SegsaFit.builder(java.nio.file.Path.of(model)).lsaReferences(lsaReferences).seed(seed)
                .fitSettings();
        List<String> framePaths = list(spark, images, "--images");
        List<String> maskPaths = list(spark, labels, "--labels");
        Map<String, String> pairs = FramePairs.pair(framePaths, maskPaths);
        List<Tuple2<String, String>> list = new ArrayList<>();
        pairs.forEach((f, m) -> list.add(new Tuple2<>(f, m)));
        JobSettings.Fit job = new JobSettings.Fit(model, ModelFiles.sha256(java.nio.file.Path.of(model)), lsaReferences, seed,
                trustModel, threads, skipBadFrames, failPartition, killExecutor);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<Tuple2<String, String>> rdd = jsc.parallelize(list, partitions);
        org.apache.spark.util.LongAccumulator loads = spark.sparkContext().longAccumulator("segsa model loads");
        JobMetrics metrics = JobMetrics.attach(spark);
        try {
            JavaRDD<Part> parts = rdd.mapPartitions(it -> {
                Part p = fitPartition(job, it);
                loads.add(Engines.takeThreadLoads());
                return List.of(p).iterator();
            });
            Part zero = new Part(new PartialFit(settings).toBytes(), new ArrayList<>());
            Part all = parts.treeAggregate(zero, Part::merge, Part::merge, 2);
            PartialFit fit = PartialFit.fromBytes(all.fit);
            SaModel sa = fit.finish();
            return new Result(sa, List.copyOf(all.skipped), fit.frames(), partitions, all.fit.length, loads.value(),
                    metrics.resultBytes(), metrics.shuffleWriteBytes());
        } finally {
            metrics.detach();
        }
    }

    /**
     * The files a path, directory or glob names, through Spark's binaryFile source (paths only, no
     * contents), plus the empty files it drops (Spark's file sources skip zero-length files): listed
     * through Hadoop's file system so that a zero-byte frame or video fails the job or is listed as
     * skipped, never silently left out.
     */
    static List<String> list(SparkSession spark, String glob, String option) {
        List<String> out = new ArrayList<>();
        try {
            for (Row r : spark.read().format("binaryFile").load(glob).select("path").collectAsList()) out.add(r.getString(0));
            org.apache.hadoop.fs.Path pattern = new org.apache.hadoop.fs.Path(glob);
            org.apache.hadoop.fs.FileSystem fs = pattern.getFileSystem(spark.sparkContext().hadoopConfiguration());
            org.apache.hadoop.fs.FileStatus[] matched = fs.globStatus(pattern);
            java.util.Set<String> known = new java.util.HashSet<>(out);
            for (org.apache.hadoop.fs.FileStatus st : matched == null ? new org.apache.hadoop.fs.FileStatus[0] : matched) {
                if (st.isFile()) {
                    addEmpty(st, known, out);
                } else if (st.isDirectory()) {
                    String root = st.getPath().toUri().getPath();
                    var files = fs.listFiles(st.getPath(), true);
                    while (files.hasNext()) {
                        var f = files.next();
                        // under the matched folder, a path through a hidden folder (_temporary, .checkpoints) is Spark's to ignore
                        String rel = f.getPath().toUri().getPath().substring(Math.min(root.length(), f.getPath().toUri().getPath().length()));
                        if (rel.contains("/_") || rel.contains("/.")) continue;
                        addEmpty(f, known, out);
                    }
                }
            }
        } catch (RuntimeException | java.io.IOException e) {
            throw new SegsaException(option + " " + glob + ": cannot list: " + firstLine(e.getMessage()), e);
        }
        if (out.isEmpty()) throw new SegsaException(option + " " + glob + ": no files");
        out.sort(null);
        return out;
    }

    private static void addEmpty(org.apache.hadoop.fs.FileStatus st, java.util.Set<String> known, List<String> out) {
        String name = st.getPath().getName();
        if (st.getLen() != 0 || name.startsWith("_") || name.startsWith(".")) return; // Spark's hidden files stay hidden
        String path = st.getPath().toString();
        if (known.add(path)) out.add(path);
    }

    private static Part fitPartition(JobSettings.Fit job, Iterator<Tuple2<String, String>> it) {
        TaskContext tc = TaskContext.get();
        if (tc != null && tc.partitionId() == job.failPartition() && tc.attemptNumber() == 0) {
            if (job.killExecutor()) Runtime.getRuntime().halt(137); // as if the executor were killed
            throw new IllegalStateException("injected failure in partition " + tc.partitionId() + " (attempt 0)");
        }
        SegsaFit fit = Engines.borrowFitter(job);
        ArrayList<String> skipped = new ArrayList<>();
        try {
            fit.takePartial(); // a borrowed engine starts empty
            while (it.hasNext()) {
                Tuple2<String, String> p = it.next();
                String name = FramePairs.fileName(p._1());
                try {
                    BufferedImage img = FrameReader.readImage(Engines.read(p._1()), p._1());
                    int[] lab = FrameReader.readLabels(Engines.read(p._2()), p._2(), name, img.getWidth(), img.getHeight(),
                            img.getWidth(), img.getHeight());
                    fit.add(name, img, lab, p._2());
                } catch (SegsaException e) {
                    if (!job.skipBadFrames()) throw e;
                    skipped.add(p._1() + ": " + e.getMessage());
                }
            }
            return new Part(fit.takePartial().toBytes(), skipped);
        } finally {
            Engines.release(job, fit);
        }
    }

    static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
