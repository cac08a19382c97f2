package dev.segsa.bench;

import dev.segsa.FrameFiles;
import dev.segsa.Segsa;
import dev.segsa.SegsaFit;
import dev.segsa.features.FrameReader;
import dev.segsa.samodel.SaModelFile;
import dev.segsa.score.FrameResult;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The front door end to end with {@code models/camvid.pt} on CamVid val frames (480x360): one
 * operation = one frame, in SampleTime mode so JMH reports the latency percentiles (p50, p99,
 * p99.9, max) and frames/s = 1 / mean.
 * <ul>
 *   <li>{@code serialDecode}: read the PNG (ImageIO), then score it, on one thread;</li>
 *   <li>{@code overlappedDecode}: a {@link FrameFiles} thread decodes up to 2 frames ahead while
 *       the benchmark thread scores (what {@code segsa score} does);</li>
 *   <li>{@code inMemory}: score a frame already decoded (a recorder handing over a camera frame).</li>
 * </ul>
 * SA model: fitted in the setup on the first 24 CamVid train frames (MDSA only). Paths: the
 * system properties {@code segsa.home} (repository root, default ".") and {@code segsa.camvid}
 * (default ../shared/data/camvid beside it).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 10)
@Measurement(iterations = 2, time = 20)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
@State(Scope.Thread)
public class FrontDoorBench {
    @Param({"native-cpu"})
    public String backend;

    Path home, camvid, saFile, val;
    Segsa engine;
    List<Path> frames;
    BufferedImage decoded;
    int next;
    FrameFiles files;
    Iterator<FrameFiles.Decoded> ahead;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        home = Path.of(System.getProperty("segsa.home", ".")).toAbsolutePath();
        camvid = Path.of(System.getProperty("segsa.camvid", home.resolve("../shared/data/camvid").toString()));
        val = camvid.resolve("val");
        Path model = home.resolve("models/camvid.pt");
        saFile = Files.createTempFile("segsa-bench", ".sa");
        try (SegsaFit fit = SegsaFit.builder(model).lsaReferences(0).backend(backend).open()) {
            for (Path f : FrameReader.listFrames(camvid.resolve("train")).subList(0, 24)) {
                FrameFiles.Decoded d = FrameFiles.read(f, camvid.resolve("trainannot"));
                fit.add(d.name(), d.image(), d.labels());
            }
            SaModelFile.write(fit.finish(), saFile);
        }
        engine = Segsa.builder(model, saFile).backend(backend).open();
        frames = FrameReader.listFrames(val);
        decoded = FrameReader.readImage(frames.get(0));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (files != null) files.close();
        engine.close();
        Files.deleteIfExists(saFile);
    }

    @Benchmark
    public FrameResult serialDecode() {
        Path f = frames.get(next++ % frames.size());
        return engine.score(FrameReader.readImage(f), f.getFileName().toString());
    }

    @Benchmark
    public FrameResult overlappedDecode() {
        if (ahead == null || !ahead.hasNext()) {
            if (files != null) files.close();
            files = FrameFiles.open(val, null, 2);
            ahead = files.iterator();
        }
        FrameFiles.Decoded d = ahead.next();
        return engine.score(d.image(), d.name());
    }

    @Benchmark
    public FrameResult inMemory() {
        return engine.score(decoded, "in-memory");
    }
}
