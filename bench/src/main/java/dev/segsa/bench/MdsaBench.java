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
        // skilled peer: per class, its mean and L^-T, and the grid of its pixels' sampling positions
        Tensor[] classMu, classLinvT, classGrid;

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
            double[] linv = w.inverseCholesky();
            // linvT[i][j] = Linv[j][i], float32 [d x d]
            double[] t = new double[k * k];
            for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) t[i * k + j] = linv[j * k + i];
            linvT = torch.from_blob(new DoublePointer(t), new long[]{k, k}, new TensorOptions(torch.ScalarType.Double))
                    .to(torch.ScalarType.Float).clone();
            mu = torch.from_blob(new DoublePointer(w.activeMean()), new long[]{1, k},
                    new TensorOptions(torch.ScalarType.Double)).to(torch.ScalarType.Float).clone();
            // skilled peer: every class present, its own whitening, and grid_sample at its pixels only
            classMu = new Tensor[BenchData.CLASSES];
            classLinvT = new Tensor[BenchData.CLASSES];
            classGrid = new Tensor[BenchData.CLASSES];
            for (int c = 0; c < BenchData.CLASSES; c++) {
                Whitening wc = models[c].whitening();
                int kc = wc.activeDimension();
                double[] li = wc.inverseCholesky();
                double[] lt = new double[kc * kc];
                for (int i = 0; i < kc; i++) for (int j = 0; j < kc; j++) lt[i * kc + j] = li[j * kc + i];
                classLinvT[c] = torch.from_blob(new DoublePointer(lt), new long[]{kc, kc},
                        new TensorOptions(torch.ScalarType.Double)).to(torch.ScalarType.Float).clone();
                classMu[c] = torch.from_blob(new DoublePointer(wc.activeMean()), new long[]{1, kc},
                        new TensorOptions(torch.ScalarType.Double)).to(torch.ScalarType.Float).clone();
                int n = 0;
                for (int p : data.predicted) if (p == c) n++;
                float[] g = new float[2 * n];
                int at = 0;
                for (int p = 0; p < data.predicted.length; p++) {
                    if (data.predicted[p] != c) continue;
                    int y = p / data.width, x = p % data.width;
                    // align_corners false: the same sampling positions as F.interpolate bilinear
                    g[2 * at] = (float) (2.0 * (x + 0.5) / data.width - 1);
                    g[2 * at + 1] = (float) (2.0 * (y + 0.5) / data.height - 1);
                    at++;
                }
                classGrid[c] = torch.from_blob(new org.bytedeco.javacpp.FloatPointer(g), new long[]{1, 1, n, 2},
                        new TensorOptions(torch.ScalarType.Float)).clone();
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            nativeCpu.close();
        }
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

    /**
     * The skilled LibTorch peer: per class present, whiten the low-resolution map with the class's
     * own factor ([h0*w0 x d] x [d x d], float32), then bilinearly sample the whitened map at that
     * class's pixels only (grid_sample, align_corners false, border padding: F.interpolate's
     * positions), squared norms, sqrt, class sum. The same work as the fused kernel in LibTorch ops.
     */
    @Benchmark
    public double skilledPeer(Frame f) {
        try (PointerScope scope = new PointerScope()) {
            long cells = (long) f.data.h0 * f.data.w0;
            Tensor low = f.feat.reshape(f.d, cells).t();
            double total = 0;
            for (int c = 0; c < BenchData.CLASSES; c++) {
                Tensor z = low.sub(f.classMu[c]).matmul(f.classLinvT[c]);
                Tensor zmap = z.t().reshape(1, f.d, f.data.h0, f.data.w0);
                Tensor s = torch.grid_sampler(zmap, f.classGrid[c], 0, 1, false);
                total += s.mul(s).sum(1).sqrt().sum().item_double();
            }
            return total;
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
