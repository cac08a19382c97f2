package dev.segsa.bench;

import dev.segsa.Segsa;
import dev.segsa.features.FrameReader;
import dev.segsa.nativelib.NativeLibrary;
import dev.segsa.score.FrameResult;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * LSA on real frames through the front door, exhaustive (every pixel-reference pair) and pruned
 * (the kernel's bound), alternating frame by frame in one run: SA time per frame, pixels/s, the
 * ratio, and the share of (pixel, reference) pairs the bound skipped. The JMH {@link LsaBench} uses seeded random
 * feature maps whose neighbouring cells are independent, the worst case for the quad bound; this
 * measures what a real model's smooth feature maps give.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar dev.segsa.bench.LsaOnFrames \
 *     models/camvid.pt out/lsa/camvid.sa ../shared/data/camvid/val 10 [threads]</pre>
 */
public final class LsaOnFrames {
    private LsaOnFrames() {}

    public static void main(String[] args) {
        if (args.length < 4) {
            System.err.println("usage: LsaOnFrames MODEL.pt SA.sa FRAMES_DIR N [THREADS]");
            System.exit(2);
        }
        Path model = Path.of(args[0]), sa = Path.of(args[1]), dir = Path.of(args[2]);
        int n = Integer.parseInt(args[3]);
        Segsa.Builder b = Segsa.builder(model, sa).lsa(true);
        if (args.length > 4) b.threads(Integer.parseInt(args[4]));
        try (Segsa engine = b.open()) {
            List<Path> frames = FrameReader.listFrames(dir);
            List<BufferedImage> images = new java.util.ArrayList<>();
            for (int i = 0; i < Math.min(n, frames.size()); i++) images.add(FrameReader.readImage(frames.get(i)));
            engine.score(images.get(0), "warm-up");
            double[] seconds = new double[2];
            long pixels = 0;
            for (BufferedImage img : images) pixels += (long) img.getWidth() * img.getHeight();
            NativeLibrary.Cpu.LsaPruningMode[] modes = {NativeLibrary.Cpu.LsaPruningMode.EXHAUSTIVE, NativeLibrary.Cpu.LsaPruningMode.PRUNE};
            NativeLibrary.Cpu.LsaPruning pruning = null;
            // alternate the two modes frame by frame so that both see the same machine load
            for (int i = 0; i < images.size(); i++) {
                for (int m = 0; m < 2; m++) {
                    NativeLibrary.Cpu.setLsaPruning(modes[m]);
                    NativeLibrary.Cpu.lsaPruning(true);
                    FrameResult r = engine.score(images.get(i), frames.get(i).getFileName().toString());
                    seconds[m] += r.timings().saNanos() / 1e9;
                    if (m == 1) {
                        NativeLibrary.Cpu.LsaPruning p = NativeLibrary.Cpu.lsaPruning(true);
                        pruning = pruning == null ? p
                                : new NativeLibrary.Cpu.LsaPruning(pruning.evaluated() + p.evaluated(), pruning.pruned() + p.pruned(),
                                        pruning.violations() + p.violations());
                    }
                }
            }
            NativeLibrary.Cpu.setLsaPruning(NativeLibrary.Cpu.LsaPruningMode.PRUNE);
            System.out.printf(Locale.ROOT, "%d frames, %d pixels; SA (LSA + MDSA) per frame: exhaustive %.1f ms (%.3f M pixels/s), "
                            + "pruned %.1f ms (%.3f M pixels/s): %.2fx; pairs skipped by the bound: %.1f%%%n",
                    images.size(), pixels, 1e3 * seconds[0] / images.size(), pixels / seconds[0] / 1e6,
                    1e3 * seconds[1] / images.size(), pixels / seconds[1] / 1e6, seconds[0] / seconds[1],
                    100 * pruning.prunedFraction());
        }
    }
}
