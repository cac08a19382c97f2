package dev.segsa.bench;

import dev.segsa.model.LibTorch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * This machine's GEMM rate, the ceiling of the whitening step: LibTorch matmul (OpenBLAS) of
 * [2688 x d] by [d x d] (a 512x336 frame's 64 x 42 cells), float32 and float64.
 * GFLOP/s = 2 * 2688 * d * d / time.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class GemmBench {
    @Param({"64", "256"})
    public int d;
    @Param({"float", "double"})
    public String type;

    Tensor a, b, out;

    @Setup(Level.Trial)
    public void setup() {
        LibTorch.ensureLoaded();
        torch.manual_seed(1);
        TensorOptions o = new TensorOptions(type.equals("float") ? torch.ScalarType.Float : torch.ScalarType.Double);
        a = torch.randn(new long[]{2688, d}, o);
        b = torch.randn(new long[]{d, d}, o);
    }

    @Benchmark
    public double matmul() {
        try (PointerScope scope = new PointerScope()) {
            return a.matmul(b).select(0, 0).select(0, 0).item_double();
        }
    }
}
