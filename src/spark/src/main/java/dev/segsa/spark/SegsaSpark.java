package dev.segsa.spark;

import dev.segsa.error.SegsaException;
import dev.segsa.io.OutputFiles;
import dev.segsa.samodel.SaModelFile;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The job jar's entry point (spark-submit --class dev.segsa.spark.SegsaSpark):
 * <pre>
 *   fit   --model M.pt --images GLOB --labels GLOB --out S.sa [--partitions P] [--lsa-references N]
 *         [--seed S] [--threads T] [--skip-bad-frames] [--trust-model] [--master URL]
 *   score --model M.pt --sa S.sa (--images GLOB [--labels GLOB] | --videos GLOB [--every K] [--from S] [--to S])
 *         --out DIR [--partitions P] [--lsa] [--uncertainty] [--risk FILE] [--partition-by recording] [--threads T]
 *         [--skip-bad-frames] [--trust-model] [--master URL]
 * </pre>
 * score's {@code --risk FILE} is a risk model (segsa fit-risk): adds the risk column (per class one
 * minus its predicted IoU; a frame's risk, the mean over its classes, is one minus its predicted
 * mIoU), the default frame ranking of select, timeline and evaluate. It is read and checked against
 * the SA model on the driver before any task starts; executors read it like the SA file (a shared
 * path, or spark-submit --files).
 * {@code --master} is for a local try without spark-submit (e.g. local[2]); under spark-submit
 * its --master applies. Exit status 0 done, 1 an error (one line naming the file and the problem),
 * 2 a usage error.
 */
public final class SegsaSpark {
    private SegsaSpark() {}

    private static final Set<String> FLAGS = Set.of("--skip-bad-frames", "--trust-model", "--lsa", "--uncertainty");

    public static void main(String[] args) {
        int status;
        try {
            status = run(args);
        } catch (IllegalArgumentException e) {
            System.err.println("segsa-spark: usage error: " + e.getMessage());
            status = 2;
        } catch (SegsaException e) {
            System.err.println("segsa-spark: error: " + e.getMessage());
            status = 1;
        } catch (Exception e) {
            // Spark's SparkException is checked in Java's eyes and wraps the task's error: one line, the file and the problem
            System.err.println("segsa-spark: error: " + rootMessage(e));
            status = 1;
        }
        System.exit(status);
    }

    static int run(String[] args) {
        if (args.length == 0 || !(args[0].equals("fit") || args[0].equals("score"))) {
            throw new IllegalArgumentException("expected 'fit' or 'score' first (see the README, \"On a cluster\")");
        }
        JdkCheck.require();
        Map<String, String> o = options(args);
        if (args[0].equals("fit") && o.containsKey("--risk")) throw new IllegalArgumentException("--risk is for score, not fit");
        int partitions = Integer.parseInt(o.getOrDefault("--partitions", "0"));
        int threads = Integer.parseInt(o.getOrDefault("--threads", "0"));
        SparkSession.Builder b = SparkSession.builder().appName("segsa " + args[0]);
        if (o.containsKey("--master")) b = b.master(o.get("--master"));
        SparkSession spark = b.getOrCreate();
        spark.sparkContext().setLogLevel(System.getProperty("segsa.spark.logLevel", "WARN"));
        try {
            if (partitions == 0) partitions = Math.max(1, spark.sparkContext().defaultParallelism() * 2);
            long t0 = System.nanoTime();
            if (args[0].equals("fit")) {
                Path out = Path.of(required(o, "--out"));
                OutputFiles.checkWritableFile(out, "--out");
                SparkFit.Result r = SparkFit.run(spark, required(o, "--model"), required(o, "--images"), required(o, "--labels"),
                        partitions, Integer.parseInt(o.getOrDefault("--lsa-references", "10000")),
                        Long.parseLong(o.getOrDefault("--seed", "0")), o.containsKey("--trust-model"), threads,
                        o.containsKey("--skip-bad-frames"), -1);
                SaModelFile.write(r.model(), out);
                for (String s : r.skipped()) System.err.println("skipped " + s);
                System.err.printf(Locale.ROOT, "wrote %s (%d frames in %d partitions, %.1f s, %.2f frames/s; %d model load(s); "
                                + "tasks sent back %d bytes of partial fits, shuffle %d bytes; merged partial fit %d bytes%s)%n", out,
                        r.frames(), r.partitions(), (System.nanoTime() - t0) / 1e9, r.frames() / ((System.nanoTime() - t0) / 1e9),
                        r.modelLoads(), r.taskResultBytes(), r.shuffleBytes(), r.partialFitBytes(),
                        r.skipped().isEmpty() ? "" : ", " + r.skipped().size() + " frame(s) skipped");
            } else {
                String out = required(o, "--out");
                if (o.containsKey("--images") == o.containsKey("--videos")) throw new IllegalArgumentException("give --images or --videos");
                dev.segsa.video.VideoSource.Options video = !o.containsKey("--videos") ? null
                        : new dev.segsa.video.VideoSource.Options(Integer.parseInt(o.getOrDefault("--every", "1")),
                                seconds(o, "--from", 0), seconds(o, "--to", Double.POSITIVE_INFINITY), 2);
                SparkScore.Result r = SparkScore.run(spark, required(o, "--model"), required(o, "--sa"),
                        video != null ? o.get("--videos") : o.get("--images"), o.get("--labels"), out, partitions,
                        o.containsKey("--lsa"), o.containsKey("--uncertainty"), o.containsKey("--trust-model"), threads,
                        o.containsKey("--skip-bad-frames"), o.get("--partition-by"), -1, video, o.get("--risk"));
                System.err.printf(Locale.ROOT, "wrote %s (%d rows of %d frames in %d partitions, %.1f s, %.2f frames/s; %d model "
                                + "load(s)%s)%n", out, r.rows(), r.frames(), partitions, (System.nanoTime() - t0) / 1e9,
                        r.frames() / ((System.nanoTime() - t0) / 1e9), r.modelLoads(),
                        r.skipped().isEmpty() ? "" : "; " + r.skipped().size() + " frame(s) skipped, listed in " + out + "/_skipped.csv");
            }
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** A time option: a finite number of seconds >= 0 (NaN, Infinity and negatives refused); absent: the default. */
    static double seconds(Map<String, String> o, String name, double dflt) {
        String v = o.get(name);
        if (v == null) return dflt;
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a finite number of seconds >= 0, got '" + v + "'");
        }
        if (!Double.isFinite(d) || d < 0) throw new IllegalArgumentException(name + " must be a finite number of seconds >= 0, got '" + v + "'");
        return d;
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'");
            if (FLAGS.contains(a)) {
                o.put(a, "true");
                continue;
            }
            if (!List.of("--model", "--sa", "--images", "--labels", "--out", "--partitions", "--lsa-references", "--seed",
                    "--threads", "--partition-by", "--master", "--videos", "--every", "--from", "--to", "--risk").contains(a)) {
                throw new IllegalArgumentException("unknown option " + a);
            }
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            o.put(a, args[++i]);
        }
        return o;
    }

    private static String required(Map<String, String> o, String name) {
        String v = o.get(name);
        if (v == null) throw new IllegalArgumentException(name + " is required");
        return v;
    }

    /**
     * The one line to print for a failed job: the message of the first {@link SegsaException} in
     * the cause chain; else, when Spark only kept the task's error as text ("... most recent
     * failure: Lost task ...: dev.segsa.error.SegsaException: FILE: problem"), that line; else the
     * first line of the innermost message.
     */
    static String rootMessage(Throwable t) {
        Throwable c = t;
        for (int depth = 0; c != null && depth < 32; depth++, c = c.getCause()) {
            if (c instanceof SegsaException) return SparkFit.firstLine(c.getMessage());
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("dev\\.segsa\\.error\\.SegsaException: ([^\\n]*)")
                .matcher(String.valueOf(t.getMessage()));
        if (m.find()) return m.group(1);
        c = t;
        while (c.getCause() != null && c.getCause() != c) c = c.getCause();
        return SparkFit.firstLine(c.getMessage() == null ? c.toString() : c.getMessage());
    }
}
