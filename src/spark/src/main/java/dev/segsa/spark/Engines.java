package dev.segsa.spark;

import dev.segsa.Segsa;
import dev.segsa.SegsaFit;
import dev.segsa.error.SegsaException;
import dev.segsa.risk.RiskModelFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.SparkFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engines of one executor JVM, loaded once and kept for every task that JVM runs: one scoring
 * engine per (model, SA model, risk model, options) (thread-safe: a scorer per task thread), and a
 * pool of fit engines per (model, fit settings) (one per concurrently running task; a task borrows one, takes
 * its partial fit, and gives it back). Keyed by the files' SHA-256, so a changed model is a new
 * engine. Closed when the JVM exits.
 */
final class Engines {
    private static final Map<String, Segsa> SCORERS = new ConcurrentHashMap<>();
    private static final Map<String, ConcurrentLinkedQueue<SegsaFit>> FITTERS = new ConcurrentHashMap<>();
    /** Model loads in this JVM (scorer threads and fit engines), for the job's report. */
    static final AtomicInteger LOADS = new AtomicInteger();
    /** Model loads made by the calling thread since {@link #takeThreadLoads}. */
    private static final ThreadLocal<int[]> THREAD_LOADS = ThreadLocal.withInitial(() -> new int[1]);

    static int takeThreadLoads() {
        int[] n = THREAD_LOADS.get();
        int v = n[0];
        n[0] = 0;
        return v;
    }

    private static void loaded() {
        LOADS.incrementAndGet();
        THREAD_LOADS.get()[0]++;
    }

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            SCORERS.values().forEach(Segsa::close);
            FITTERS.values().forEach(q -> q.forEach(SegsaFit::close));
        }, "segsa-engines-close"));
    }

    private Engines() {}

    /** The scoring engine of this JVM for these settings, opened on first use. */
    static Segsa scorer(JobSettings.Score s) {
        return SCORERS.computeIfAbsent(s.scorerKey(), k -> {
            // the risk model was checked against the SA model on the driver; the engine checks this copy again at open()
            Segsa.Builder b = Segsa.builder(local(s.model()), local(s.sa())).lsa(s.lsa()).uncertainty(s.uncertainty())
                    .trustModel(s.trustModel()).riskModel(s.risk() == null ? null : RiskModelFile.read(local(s.risk())));
            if (s.threads() > 0) b.threads(s.threads());
            loaded();
            return b.open();
        });
    }

    /** A fit engine for these settings: a free one of this JVM, or a new one. Give it back with {@link #release}. */
    static SegsaFit borrowFitter(JobSettings.Fit s) {
        SegsaFit f = FITTERS.computeIfAbsent(s.key(), k -> new ConcurrentLinkedQueue<>()).poll();
        if (f != null) return f;
        SegsaFit.Builder b = SegsaFit.builder(local(s.model())).lsaReferences(s.lsaReferences()).seed(s.seed())
                .trustModel(s.trustModel());
        if (s.threads() > 0) b.threads(s.threads());
        loaded();
        return b.open();
    }

    static void release(JobSettings.Fit s, SegsaFit f) {
        FITTERS.computeIfAbsent(s.key(), k -> new ConcurrentLinkedQueue<>()).add(f);
    }

    /**
     * A file the job names, on this machine: the path itself when it exists here (a shared file
     * system), else the copy spark-submit --files shipped to the executor (SparkFiles).
     */
    static Path local(String file) {
        Path p = Path.of(file);
        if (Files.isRegularFile(p)) return p;
        try {
            Path shipped = Path.of(SparkFiles.get(p.getFileName().toString()));
            if (Files.isRegularFile(shipped)) return shipped;
        } catch (RuntimeException ignored) {
            // not in a Spark task, or no SparkFiles: fall through
        }
        throw new SegsaException(file + ": not found on this executor (use a shared path, or spark-submit --files " + file + ")");
    }

    /** Reads a file of any file system Spark reads (file:, hdfs:, s3a: ...) whole. */
    static byte[] read(String uri) {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
        try {
            FileSystem fs = p.getFileSystem(new Configuration());
            try (FSDataInputStream in = fs.open(p)) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new SegsaException(uri + ": cannot read: " + e.getMessage(), e);
        }
    }
}
