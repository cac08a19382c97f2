package dev.segsa.bench;

import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.Whitening;
import dev.segsa.model.LibTorch;
import dev.segsa.kernel.FrameScores;
import dev.segsa.kernel.NativeCpuBackend;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongArrayRef;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Whole-frame LSA with 10,000 references per class, 12 classes, 8x upsampling: the fused native
 * kernel ({@code segsa_lsa_frame}, float64) and a LibTorch peer (float32): upsample the features,
 * whiten every pixel with class 0's bandwidth factor (one [H*W x d] x [d x d] product), then in
 * chunks of 4,096 pixels {@code cdist} against class 0's 10,000 whitened references, square,
 * scale by -1/2, {@code logsumexp} over the references. One class's references for every pixel:
 * the same work as per-class masking, without the gathers. Chunked because the full
 * [H*W x 10,000] distance matrix would be 6.9 GB at 512x336.
 * Default size 64x42 -> 512x336 only (a frame takes seconds); add -p size=128x64 for the large one.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
public class LsaBench {
    static final int REFS = 10_000;
    static final int CHUNK = 4096;

    @State(Scope.Benchmark)
    public static class Frame {
        @Param({"64", "256"})
        public int d;
        @Param({"64x42"})
        public String size;
        /** PRUNE: the kernel's bound (the default); EXHAUSTIVE: every pixel-reference pair. */
        @Param({"PRUNE", "EXHAUSTIVE"})
        public String pruning;

        BenchData data;
        KdeModel[] models;
        NativeCpuBackend nativeCpu;
        FrameScores scores;
        Tensor feat, linvT, refsW, out;
        LongArrayRef dim1;
        LongPointer dimPointer;

        @Setup(Level.Trial)
        public void setup() {
            data = new BenchData(d, size, 42);
            models = BenchData.kdeModels(d, REFS, 11);
            nativeCpu = new NativeCpuBackend();
            dev.segsa.nativelib.NativeLibrary.Cpu.setLsaPruning(dev.segsa.nativelib.NativeLibrary.Cpu.LsaPruningMode.valueOf(pruning));
            scores = new FrameScores(BenchData.CLASSES);
            fused(this); // packs the models (whitens the references) outside the measurement
            LibTorch.ensureLoaded();
            feat = data.featureTensor();
            Whitening w = models[0].bandwidth();
            int k = w.activeDimension();
            double[] linv = w.inverseCholesky();
            double[] t = new double[k * k];
            for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) t[i * k + j] = linv[j * k + i];
            linvT = torch.from_blob(new DoublePointer(t), new long[]{k, k}, new TensorOptions(torch.ScalarType.Double))
                    .to(torch.ScalarType.Float).clone();
            Tensor refs = torch.from_blob(new DoublePointer(models[0].references()), new long[]{REFS, d},
                    new TensorOptions(torch.ScalarType.Double)).to(torch.ScalarType.Float);
            refsW = refs.matmul(linvT).contiguous();
            out = torch.empty(new long[]{(long) data.height * data.width}, new TensorOptions(torch.ScalarType.Float), null);
            dimPointer = new LongPointer(new long[]{1}); // native memory that outlives the ArrayRef view
            dim1 = new LongArrayRef(dimPointer, 1);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            nativeCpu.close();
        }
    }

    @Benchmark
    public static double fused(Frame f) {
        f.scores.reset(f.data.pixels());
        f.nativeCpu.lsa(f.data.features, UpsampleMode.BILINEAR, f.data.height, f.data.width, f.data.predicted,
                f.models, f.scores);
        return f.scores.sums()[0];
    }

    @Benchmark
    public double libtorchPeer(Frame f) {
        try (PointerScope scope = new PointerScope()) {
            long hw = (long) f.data.height * f.data.width;
            Tensor up = torch.upsample_bilinear2d(f.feat, new long[]{f.data.height, f.data.width}, false);
            Tensor xw = up.reshape(f.d, hw).t().matmul(f.linvT).contiguous();
            for (long s = 0; s < hw; s += CHUNK) {
                long len = Math.min(CHUNK, hw - s);
                try (PointerScope inner = new PointerScope()) {
                    Tensor dist = torch.cdist(xw.narrow(0, s, len), f.refsW);
                    Tensor q = dist.mul(dist).mul(new org.bytedeco.pytorch.Scalar(-0.5));
                    f.out.narrow(0, s, len).copy_(torch.logsumexp(q, f.dim1, false));
                }
            }
            return f.out.select(0, 0).item_double();
        }
    }
}
