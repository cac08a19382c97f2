package dev.segsa.bench;

import dev.segsa.features.UpsampleMode;
import dev.segsa.model.LibTorch;
import dev.segsa.model.LogitsPass;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
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

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * What segsa does with the class scores after the forward: the fused native pass
 * ({@code segsa_logits_frame}: argmax, non-finite count, pixels per class; upsampling
 * quarter-resolution logits on the fly) against the LibTorch ops it replaced on the same tensors
 * in the same run ({@code logits.argmax(1).to(Int).contiguous()} and
 * {@code logits.isfinite().logical_not().sum()}, after {@code upsample_bilinear2d} when the logits
 * are at 1/4), and, with {@code uncertainty}, the softmax measures of both (LibTorch:
 * log_softmax, exp, entropy, topk margin, DeepGini as segsa ran them). Both at 2 threads (the
 * run script's setting); time per frame.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class LogitsPassBench {
    @State(Scope.Benchmark)
    public static class Frame {
        @Param({"480x360", "1920x1080"})
        public String size;
        @Param({"11", "19"})
        public int classes;
        /** 1: logits at the output size; 4: at a quarter of it (upsampled on the fly / by LibTorch first). */
        @Param({"1", "4"})
        public int factor;

        int height, width, h, w;
        Tensor logits;
        MemorySegment logitsSegment;
        LogitsPass pass;

        @Setup(Level.Trial)
        public void setup() {
            LibTorch.ensureLoaded();
            LibTorch.setThreads(2);
            dev.segsa.kernel.Backends.setKernelThreads(2);
            String[] p = size.split("x");
            width = Integer.parseInt(p[0]);
            height = Integer.parseInt(p[1]);
            h = height / factor;
            w = width / factor;
            float[] v = new float[classes * h * w];
            SplittableRandom r = new SplittableRandom(3);
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 4);
            try (FloatPointer fp = new FloatPointer(v)) {
                logits = torch.from_blob(fp, 1, classes, h, w).clone();
            }
            logits.retainReference();
            logitsSegment = MemorySegment.ofAddress(logits.data_ptr().address()).reinterpret(logits.nbytes());
            pass = new LogitsPass();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pass.close();
            logits.releaseReference();
        }
    }

    @Benchmark
    public long fusedPass(Frame f) {
        LogitsPass.Result r = f.pass.run(f.logitsSegment, f.classes, f.h, f.w, f.height, f.width, UpsampleMode.BILINEAR, null, false);
        return r.nonFiniteLogits() + r.predicted().get(ValueLayout.JAVA_INT, 0);
    }

    @Benchmark
    public long libtorchArgmaxIsfinite(Frame f) {
        try (PointerScope scope = new PointerScope()) {
            Tensor l = f.factor == 1 ? f.logits : torch.upsample_bilinear2d(f.logits, new long[] {f.height, f.width}, false);
            long bad = l.isfinite().logical_not().sum().item_long();
            Tensor am = l.argmax(new LongOptional(1), false).to(torch.ScalarType.Int).contiguous();
            return bad + MemorySegment.ofAddress(am.data_ptr().address()).reinterpret(4).get(ValueLayout.JAVA_INT, 0);
        }
    }

    @Benchmark
    public long fusedPassWithUncertainty(Frame f) {
        LogitsPass.Result r = f.pass.run(f.logitsSegment, f.classes, f.h, f.w, f.height, f.width, UpsampleMode.BILINEAR, null, true);
        return r.nonFiniteLogits() + (long) r.uncertaintyMeans()[0][0];
    }

    @Benchmark
    public double libtorchWithUncertainty(Frame f) {
        try (PointerScope scope = new PointerScope()) {
            Tensor l = f.factor == 1 ? f.logits : torch.upsample_bilinear2d(f.logits, new long[] {f.height, f.width}, false);
            long bad = l.isfinite().logical_not().sum().item_long();
            Tensor am = l.argmax(new LongOptional(1), false).to(torch.ScalarType.Int).contiguous();
            Tensor logp = l.log_softmax(1);
            Tensor p = logp.exp();
            Tensor entropy = p.mul(logp).sum(1).neg().contiguous();
            Tensor top = p.topk(2, 1, true, true).get0();
            Tensor margin = top.select(1, 0).sub(top.select(1, 1)).contiguous();
            Tensor gini = p.square().sum(1).contiguous();
            return bad + entropy.sum().item_double() + margin.sum().item_double() + gini.sum().item_double()
                    + MemorySegment.ofAddress(am.data_ptr().address()).reinterpret(4).get(ValueLayout.JAVA_INT, 0);
        }
    }
}
