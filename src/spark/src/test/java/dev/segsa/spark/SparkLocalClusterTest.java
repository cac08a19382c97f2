package dev.segsa.spark;

import dev.segsa.FrameFiles;
import dev.segsa.SegsaFit;
import dev.segsa.features.FrameReader;
import dev.segsa.samodel.SaModel;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A killed executor in local-cluster mode (a master, two workers and their executor JVMs, all on
 * this machine): the task whose first attempt halts its executor's JVM is rescheduled on another
 * executor, and the fit still equals the single-machine fit (moments within 1e-12 relative, LSA
 * references identical). local-cluster launches executors through Spark's launcher, which wants a
 * Spark home: the test makes one whose jars/ links to the test classpath's jars.
 */
class SparkLocalClusterTest {
    @Test
    void aKilledExecutorsTaskIsRerunAndTheFitIsUnchanged(@TempDir Path dir) throws Exception {
        Path camvid = Path.of(System.getProperty("segsa.camvid", "../shared/data/camvid"));
        assumeTrue(Files.isDirectory(camvid.resolve("train")), "CamVid not found at " + camvid);
        Path model = Path.of("models/camvid.pt").toAbsolutePath();
        Path frames = dir.resolve("frames"), masks = dir.resolve("masks");
        Files.createDirectories(frames);
        Files.createDirectories(masks);
        List<Path> train = FrameReader.listFrames(camvid.resolve("train")).subList(10, 14);
        for (Path f : train) {
            Files.createSymbolicLink(frames.resolve(f.getFileName()), f.toAbsolutePath());
            Files.createSymbolicLink(masks.resolve(f.getFileName()), camvid.resolve("trainannot").resolve(f.getFileName()).toAbsolutePath());
        }
        SaModel single;
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(200).seed(4).open()) {
            for (Path f : FrameReader.listFrames(frames)) {
                FrameFiles.Decoded d = FrameFiles.read(f, masks);
                fit.add(d.name(), d.image(), d.labels());
            }
            single = fit.finish();
        }
        // a Spark home for the launcher: jars/ with the classpath's jars, the marker of a 2.13 build
        String env = System.getenv("SPARK_HOME");
        assumeTrue(env != null, "SPARK_HOME is not set (the Maven build sets it for this test)");
        Path home = Path.of(env);
        Files.createDirectories(home.resolve("jars"));
        Files.createDirectories(home.resolve("launcher/target/scala-2.13"));
        StringBuilder cp = new StringBuilder();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e).toAbsolutePath();
            if (cp.length() > 0) cp.append(File.pathSeparator);
            cp.append(p);
            if (e.endsWith(".jar") && Files.isRegularFile(p)) {
                Path link = home.resolve("jars").resolve(p.getFileName());
                if (!Files.exists(link)) Files.createSymbolicLink(link, p);
            }
        }
        SparkSession spark = SparkSession.builder().master("local-cluster[2,1,2048]").appName("segsa-local-cluster")
                .config("spark.ui.enabled", "false")
                .config("spark.executor.extraClassPath", cp.toString())
                .config("spark.executor.extraJavaOptions", "--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
                        + " -Dsegsa.camvid=" + camvid.toAbsolutePath())
                .config("spark.task.maxFailures", "4").getOrCreate();
        try {
            SparkFit.Result r = SparkFit.run(spark, model.toString(), frames.toUri() + "*.png", masks.toUri() + "*.png", 2, 200, 4,
                    false, 1, false, 1, true);
            assertEquals(4, r.frames());
            SparkJobsTest.assertSameModel(single, r.model(), "local-cluster, executor of partition 1 killed");
        } finally {
            spark.stop();
        }
    }
}
