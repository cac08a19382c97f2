import dev.segsa.model.LibTorch;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Tuple;
import org.bytedeco.pytorch.global.torch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Batched [N,3,H,W] forward vs N separate [1,3,H,W] forwards, loaded as SegmentationModel does
 * (LibTorch.ensureLoaded, torch.load, eval, NoGradGuard, torch.set_num_threads via LibTorch.setThreads).
 *
 * args: model H W threadsCsv batchCsv rounds minIters maxSecondsPerCell warmup
 * Each cell (threads, N, mode) in a round: one untimed forward (after the thread/shape switch),
 * then timed iterations until minIters done, or maxSeconds elapsed (at least 3 iterations).
 * mode "batch": one forward of [N,3,H,W] per iteration; mode "single": N forwards of [1,3,H,W].
 */
public class BatchBench {
    static JitModule module;
    static FloatPointer buf;
    static int H, W;

    public static void main(String[] a) {
        String model = a[0];
        H = Integer.parseInt(a[1]);
        W = Integer.parseInt(a[2]);
        int[] threads = Arrays.stream(a[3].split(",")).mapToInt(Integer::parseInt).toArray();
        int[] ns = Arrays.stream(a[4].split(",")).mapToInt(Integer::parseInt).toArray();
        int rounds = Integer.parseInt(a[5]);
        int minIters = Integer.parseInt(a[6]);
        double maxSec = Double.parseDouble(a[7]);
        int warmup = Integer.parseInt(a[8]);
        int maxN = Arrays.stream(ns).max().getAsInt();

        LibTorch.ensureLoaded();
        module = torch.load(model);
        module.eval();
        System.out.println("OMP_WAIT_POLICY=" + System.getenv("OMP_WAIT_POLICY") + " interop=" + torch.get_num_interop_threads());

        long per = 3L * H * W;
        buf = new FloatPointer(maxN * per);
        buf.retainReference();
        Random r = new Random(1);
        float[] tmp = new float[(int) (maxN * per)];
        for (int i = 0; i < tmp.length; i++) tmp[i] = (float) r.nextGaussian();
        buf.put(tmp);

        // shape check
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Tensor[] fl = fwd(0, 2);
            System.out.println("N=2 -> features " + Arrays.toString(fl[0].sizes().vec().get()) + " logits "
                    + Arrays.toString(fl[1].sizes().vec().get()));
        }

        String[] modes = {"single", "batch"};
        // warm-up: per (threads, N, mode)
        for (int t : threads) {
            LibTorch.setThreads(t);
            for (int n : ns) for (String m : modes) {
                if (n == 1 && m.equals("single")) continue;
                for (int i = 0; i < warmup; i++) iter(m, n);
            }
        }
        System.out.println("warm-up done");

        // results: key -> list of fps per round, ms per iteration per round
        List<String> keys = new ArrayList<>();
        java.util.Map<String, List<double[]>> res = new java.util.LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (int t : threads) {
                LibTorch.setThreads(t);
                for (int n : ns) for (String m : modes) {
                    if (n == 1 && m.equals("single")) continue;
                    iter(m, n); // untimed, after the switch
                    int it = 0;
                    long t0 = System.nanoTime();
                    double el;
                    while (true) {
                        iter(m, n);
                        it++;
                        el = (System.nanoTime() - t0) / 1e9;
                        if (it >= minIters || (el >= maxSec && it >= 3)) break;
                    }
                    double fps = (double) n * it / el;
                    double ms = el * 1000 / it;
                    String k = t + "," + n + "," + m;
                    res.computeIfAbsent(k, x -> new ArrayList<>()).add(new double[] {fps, ms, it});
                    System.out.printf(Locale.ROOT, "round %d threads %d N %d %-6s iters %d  %.1f s  %.3f frames/s  %.1f ms/iter%n",
                            round, t, n, m, it, el, fps, ms);
                }
            }
        }
        System.out.println();
        System.out.println("threads N mode   fps_median (min-max)        ms_per_iter_median (min-max)");
        for (var e : res.entrySet()) {
            double[] f = e.getValue().stream().mapToDouble(x -> x[0]).sorted().toArray();
            double[] ms = e.getValue().stream().mapToDouble(x -> x[1]).sorted().toArray();
            System.out.printf(Locale.ROOT, "%-16s %.3f (%.3f-%.3f)   %.1f (%.1f-%.1f)%n", e.getKey(), med(f), f[0], f[f.length - 1],
                    med(ms), ms[0], ms[ms.length - 1]);
        }
        module.close();
    }

    static double med(double[] s) {
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    static void iter(String mode, int n) {
        try (PointerScope s = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            if (mode.equals("batch")) {
                fwd(0, n);
            } else {
                for (int i = 0; i < n; i++) {
                    try (PointerScope s2 = new PointerScope()) {
                        fwd(i, 1);
                    }
                }
            }
        }
    }

    /** forward on frames [first, first+n) of buf as [n,3,H,W]; as SegmentationModel.forward: tuple unpack, float, contiguous. */
    static Tensor[] fwd(int first, int n) {
        long per = 3L * H * W;
        FloatPointer p = new FloatPointer(buf.position(0)).position(first * per);
        Tensor x = torch.from_blob(p, n, 3, H, W);
        IValue r = module.forward(new IValueVector(new IValue(x)));
        Tuple t = r.toTuple();
        Tensor f = t.elements().get(0).toTensor().to(torch.ScalarType.Float).contiguous();
        Tensor l = t.elements().get(1).toTensor().to(torch.ScalarType.Float).contiguous();
        if (f.size(0) != n || l.size(0) != n) throw new IllegalStateException("batch dim mismatch");
        return new Tensor[] {f, l};
    }
}
