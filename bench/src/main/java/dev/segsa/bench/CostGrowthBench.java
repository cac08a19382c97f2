package dev.segsa.bench;

import dev.segsa.features.UpsampleMode;
import dev.segsa.kernel.FrameScores;
import dev.segsa.kernel.NativeCpuBackend;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;
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

import java.util.concurrent.TimeUnit;

/**
 * How the fused native kernels' time per frame grows with the feature dimension d, the frame's
 * pixels, the classes present and (LSA) the references per class. One parameter is swept at a
 * time around the base point d = 64, 64x42 -> 512x336, 12 classes, 2,000 references (LSA);
 * {@code bench/cost-growth.sh} runs the four sweeps and {@code bench/cost_growth.py} fits the
 * exponents and draws the log-log chart in bench/RESULTS.md. Seeded synthetic inputs
 * ({@link BenchData}); LSA is measured with the pruning bound on (the default).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx12g"})
@State(Scope.Benchmark)
public class CostGrowthBench {
    @Param({"64"})
    public int d;
    /** Low resolution w0 x h0; the frame is 8x each side. */
    @Param({"64x42"})
    public String size;
    @Param({"12"})
    public int classes;
    @Param({"2000"})
    public int refs;

    BenchData data;
    NativeCpuBackend nativeCpu;
    MahalanobisModel[] mdsa;
    KdeModel[] kde;
    FrameScores scores;
    ClassStatistics[] stats;

    @Setup(Level.Trial)
    public void setup() {
        data = new BenchData(d, size, 42, classes);
        nativeCpu = new NativeCpuBackend();
        mdsa = BenchData.mdsaModels(d, 7, classes);
        kde = BenchData.kdeModels(d, refs, 11, classes);
        scores = new FrameScores(classes);
        stats = new ClassStatistics[classes];
        for (int c = 0; c < classes; c++) stats[c] = new ClassStatistics(d);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        nativeCpu.close();
    }

    @Benchmark
    public double mdsa() {
        scores.reset(data.pixels());
        nativeCpu.mdsa(data.features, UpsampleMode.BILINEAR, data.height, data.width, data.predicted, mdsa, scores);
        return scores.sums()[0];
    }

    @Benchmark
    public double lsa() {
        scores.reset(data.pixels());
        nativeCpu.lsa(data.features, UpsampleMode.BILINEAR, data.height, data.width, data.predicted, kde, scores);
        return scores.sums()[0];
    }

    @Benchmark
    public long accumulate() {
        nativeCpu.accumulate(data.features, UpsampleMode.BILINEAR, data.height, data.width, data.predicted, stats);
        return stats[0].count();
    }
}
