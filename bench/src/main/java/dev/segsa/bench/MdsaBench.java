package dev.segsa.bench;

import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.samodel.Whitening;
import dev.segsa.model.LibTorch;
import dev.segsa.kernel.FrameScores;
import dev.segsa.kernel.NativeCpuBackend;
import dev.segsa.kernel.ReferenceBackend;
import dev.segsa.features.UpsampleMode;
import org.bytedeco.javacpp.DoublePointer;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Whole-frame MDSA, features [d, h0, w0] -> [H, W] = 8x, 12 classes: the fused native kernel
 * ({@code segsa_mdsa_frame}, per-pixel map + class sums) and the PaDiM-style LibTorch peer
 * (upsample the features with bilinear interpolate, subtract the mean, one [H*W x d] x [d x d]
 * float32 product with class 0's inverse Cholesky factor L^-T for EVERY pixel, row sums of
 * squares, sqrt, per-class sums with index_add). One class's matrix for all pixels is the peer's
 * cheapest form (per-pixel-class matrices cost the same FLOPs plus gathers), so the ratio is
 * conservative. Time per frame; pixels/s = H*W / time.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx8g"})
public class MdsaBench {
    @State(Scope.Benchmark)
    public static class Frame {
        @Param({"64", "256"})
        public int d;
        @Param({"64x42", "128x64"})
        public String size;

        BenchData data;
        MahalanobisModel[] models;
        NativeCpuBackend nativeCpu;
        FrameScores scores;
        // peer
        Tensor feat, mu, linvT, pred, zeros;

        @Setup(Level.Trial)
        public void setup() {
            data = new BenchData(d, size, 42);
            models = BenchData.mdsaModels(d, 7);
            nativeCpu = new NativeCpuBackend();
            scores = new FrameScores(BenchData.CLASSES);
            LibTorch.ensureLoaded();
            feat = data.featureTensor();
            pred = data.predictedTensor();
            zeros = torch.zeros(new long[]{BenchData.CLASSES}, new TensorOptions(torch.ScalarType.Float));
            Whitening w = models[0].whitening();
            int k = w.activeDimension();
            double[] linv = inverseLower(w.cholesky(), k);
            // linvT[i][j] = Linv[j][i], float32 [d x d]
            double[] t = new double[k * k];
            for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) t[i * k + j] = linv[j * k + i];
            linvT = torch.from_blob(new DoublePointer(t), new long[]{k, k}, new TensorOptions(torch.ScalarType.Double))
                    .to(torch.ScalarType.Float).clone();
            mu = torch.from_blob(new DoublePointer(w.activeMean()), new long[]{1, k},
                    new TensorOptions(torch.ScalarType.Double)).to(torch.ScalarType.Float).clone();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            nativeCpu.close();
        }
    }

    static double[] inverseLower(double[] l, int n) {
        double[] inv = new double[n * n];
        for (int col = 0; col < n; col++) {
            for (int i = 0; i < n; i++) {
                double s = i == col ? 1 : 0;
                for (int k = 0; k < i; k++) s -= l[i * n + k] * inv[k * n + col];
                inv[i * n + col] = s / l[i * n + i];
            }
        }
        return inv;
    }

    @Benchmark
    public double fused(Frame f) {
        f.scores.reset(f.data.pixels());
        f.nativeCpu.mdsa(f.data.features, UpsampleMode.BILINEAR, f.data.height, f.data.width, f.data.predicted,
                f.models, f.scores);
        return f.scores.sums()[0];
    }

    @Benchmark
    public double libtorchPeer(Frame f) {
        try (PointerScope scope = new PointerScope()) {
            long hw = (long) f.data.height * f.data.width;
            Tensor up = torch.upsample_bilinear2d(f.feat, new long[]{f.data.height, f.data.width}, false);
            Tensor x = up.reshape(f.d, hw).t();
            Tensor z = x.sub(f.mu).matmul(f.linvT);
            Tensor m = z.mul(z).sum(1).sqrt();
            Tensor sums = torch.index_add(f.zeros, 0, f.pred, m);
            return sums.select(0, 0).item_double();
        }
    }

    /** The plain-Java float64 reference (per pixel: interpolate, forward solve); small size only. */
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
            MahalanobisModel[] models;
            FrameScores scores;
            final ReferenceBackend reference = new ReferenceBackend();

            @Setup(Level.Trial)
            public void setup() {
                data = new BenchData(d, "64x42", 42);
                models = BenchData.mdsaModels(d, 7);
                scores = new FrameScores(BenchData.CLASSES);
            }
        }

        @Benchmark
        public double reference(SmallFrame f) {
            f.scores.reset(f.data.pixels());
            f.reference.mdsa(f.data.features, UpsampleMode.BILINEAR, f.data.height, f.data.width, f.data.predicted,
                    f.models, f.scores);
            return f.scores.sums()[0];
        }
    }
}
