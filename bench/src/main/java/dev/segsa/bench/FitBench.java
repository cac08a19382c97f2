package dev.segsa.bench;

import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.kernel.NativeCpuBackend;
import dev.segsa.kernel.ReferenceBackend;
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
 * Fit throughput: per-class count, mean and co-moment of the upsampled activation traces of every
 * labelled pixel of a frame (12 classes, 8x), native low-resolution accumulation
 * ({@code segsa_accumulate_frame} + merge) vs the Java reference (per pixel: interpolate, Welford
 * update, d^2 per pixel). The reference only at 64x42 -> 512x336 (it takes seconds per frame).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
public class FitBench {
    @State(Scope.Benchmark)
    public static class Frame {
        @Param({"64", "256"})
        public int d;
        @Param({"64x42", "128x64"})
        public String size;
        BenchData data;
        NativeCpuBackend nativeCpu;
        ClassStatistics[] stats;

        @Setup(Level.Trial)
        public void setup() {
            data = new BenchData(d, size, 42);
            nativeCpu = new NativeCpuBackend();
            stats = new ClassStatistics[BenchData.CLASSES];
            for (int c = 0; c < stats.length; c++) stats[c] = new ClassStatistics(d);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            nativeCpu.close();
        }
    }

    @Benchmark
    public long nativeAccumulate(Frame f) {
        f.nativeCpu.accumulate(f.data.features, UpsampleMode.BILINEAR, f.data.height, f.data.width, f.data.predicted,
                f.stats);
        return f.stats[0].count();
    }

    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 1, time = 1)
    @Measurement(iterations = 2, time = 1)
    public static class Reference {
        @State(Scope.Benchmark)
        public static class SmallFrame {
            @Param({"64", "256"})
            public int d;
            BenchData data;
            ClassStatistics[] stats;
            final ReferenceBackend reference = new ReferenceBackend();

            @Setup(Level.Trial)
            public void setup() {
                data = new BenchData(d, "64x42", 42);
                stats = new ClassStatistics[BenchData.CLASSES];
                for (int c = 0; c < stats.length; c++) stats[c] = new ClassStatistics(d);
            }
        }

        @Benchmark
        public long reference(SmallFrame f) {
            f.reference.accumulate(f.data.features, UpsampleMode.BILINEAR, f.data.height, f.data.width,
                    f.data.predicted, f.stats);
            return f.stats[0].count();
        }
    }
}
