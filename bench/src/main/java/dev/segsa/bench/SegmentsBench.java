package dev.segsa.bench;

import dev.segsa.evaluate.RiskModelFit;
import dev.segsa.kernel.Backends;
import dev.segsa.risk.FrameRisk;
import dev.segsa.risk.RiskModel;
import dev.segsa.segments.NativeSegments;
import dev.segsa.segments.SegmentFeatures;
import dev.segsa.segments.SegmentReference;
import dev.segsa.scores.SegmentTable;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The per-frame segments stage and frame risk at 480x360, 12 classes: the native pass
 * ({@link NativeSegments}: connected components + per-segment features with K = 3 heat maps and
 * the 12 class probabilities, inputs in native memory as {@code FrameScorer} hands them over,
 * the rows copied out to a {@code double[]} as {@code FrameScorer} does) then {@link FrameRisk}
 * with a real risk model, against the plain-Java reference {@link SegmentReference#compute} (its
 * rows flattened) and the same {@link FrameRisk}, in the same run. Breakdown benchmarks: the
 * native pass alone, without the probabilities, the labelling alone, the risk alone on the native rows.
 *
 * <p>The predicted map is a CamVid val label mask (the {@code mask}-th of {@code valannot} sorted,
 * as {@code SegmentsTest} does; class 11 = Unlabelled is a predicted class like any other); the
 * heat maps (uniform [0, 5)) and probabilities (normalised uniforms) are random with a fixed seed.
 * The risk model is fitted in the setup with {@link RiskModelFit#fit} ({@code Settings.DEFAULT}:
 * 100 boosted trees of depth 6 and the L1-logistic classifier, as {@code segsa fit-risk}) on the
 * reference rows of the next 6 masks, labelled with the mask shifted by (2, 3) pixels (a risk model
 * of {@code segsa fit-risk} for models/camvid-features.pt has 11 classes: CamVid's Unlabelled is not
 * a predicted class there, while it is one of the 12 here).
 *
 * <p>Threads: one benchmark thread; the segments pass and the risk run on the calling thread (no
 * OpenMP region), so the kernels' and LibTorch's thread counts ({@code threads}, default 2 as the
 * engine at {@code --threads 2}) do not enter. Reads {@code ../shared/data/camvid} beside
 * {@code segsa.home} ({@code -Dsegsa.camvid=} to move it).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx4g"})
public class SegmentsBench {
    static final int CLASSES = 12;
    static final int HEAT_MAPS = 3;
    static final List<String> CAMVID = List.of("Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car",
            "Pedestrian", "Bicyclist", "Unlabelled");

    @State(Scope.Benchmark)
    public static class Frame {
        /** Which mask of valannot (sorted) is the predicted map. */
        @Param({"0"})
        public int mask;
        /** Kernel and LibTorch threads (the engine's --threads); the measured code is single-threaded. */
        @Param({"2"})
        public int threads;

        int height, width, pixels;
        int[] predicted;
        float[][] heat, prob;
        Arena arena;
        MemorySegment predictedSeg, heatSeg, probSeg;
        NativeSegments segments;
        RiskModel model;
        FrameRisk nativeRisk, referenceRisk;
        double[] nativeRows = new double[0], referenceRows = new double[0], fixedRows;
        int fixedCount;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            Backends.setKernelThreads(threads);
            Path home = Path.of(System.getProperty("segsa.home", ".")).toAbsolutePath();
            Path camvid = Path.of(System.getProperty("segsa.camvid", home.resolve("../shared/data/camvid").toString()));
            List<Path> masks;
            try (Stream<Path> s = Files.list(camvid.resolve("valannot"))) {
                masks = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
            }
            if (masks.size() < mask + 7) throw new IllegalStateException("need " + (mask + 7) + " masks in " + camvid.resolve("valannot"));
            predicted = readMask(masks.get(mask));
            pixels = height * width;
            SplittableRandom r = new SplittableRandom(11);
            heat = heat(pixels, r);
            prob = probabilities(pixels, r);

            {
                List<String> images = new ArrayList<>();
                List<double[]> rows = new ArrayList<>();
                for (int i = 1; i <= 6; i++) {
                    Path m = masks.get(mask + i);
                    int[] pred = readMask(m);
                    int[] labels = shifted(pred);
                    for (double[] row : SegmentReference.compute(pred, height, width, CLASSES, heat(pixels, r), probabilities(pixels, r), labels)) {
                        images.add(m.getFileName().toString());
                        rows.add(row);
                    }
                }
                SegmentTable t = new SegmentTable(CAMVID, images, rows);
                int[] idx = RiskModelFit.trainable(t);
                long a = System.nanoTime();
                model = RiskModelFit.fit(t, idx, true, RiskModelFit.Settings.DEFAULT, "bench", "bench", null);
                System.err.printf("risk model fitted in %.1f s on %d segments (of %d) of 6 masks%n", (System.nanoTime() - a) / 1e9,
                        idx.length, rows.size());
            }
            int nodes = 0;
            for (RiskModel.Tree tr : model.trees()) nodes += tr.feature().length;
            System.err.printf("risk model: %d trees, %d nodes, withSa %s%n", model.trees().size(), nodes, model.withSa());

            arena = Arena.ofShared();
            predictedSeg = arena.allocate(4L * pixels, 64);
            MemorySegment.copy(predicted, 0, predictedSeg, ValueLayout.JAVA_INT, 0, pixels);
            heatSeg = arena.allocate(4L * HEAT_MAPS * pixels, 64);
            for (int k = 0; k < HEAT_MAPS; k++) MemorySegment.copy(heat[k], 0, heatSeg, ValueLayout.JAVA_FLOAT, 4L * k * pixels, pixels);
            probSeg = arena.allocate(4L * CLASSES * pixels, 64);
            for (int c = 0; c < CLASSES; c++) MemorySegment.copy(prob[c], 0, probSeg, ValueLayout.JAVA_FLOAT, 4L * c * pixels, pixels);
            segments = new NativeSegments();
            nativeRisk = new FrameRisk(model);
            referenceRisk = new FrameRisk(model);

            // the two sides agree (segment count and risk) before anything is timed
            double a = runNative(this), b = runReference(this);
            int refCount = SegmentReference.compute(predicted, height, width, CLASSES, heat, prob, null).length;
            if (segments.count() != refCount) {
                throw new IllegalStateException("native and reference differ: " + segments.count() + " vs " + refCount + " segments");
            }
            // the feature means agree to ~1e-9 relative; a tree compares in float32, so a row at a threshold may flip
            if (Math.abs(a - b) > 1e-6) System.err.printf("note: risk native %.9f, reference %.9f%n", a, b);
            fixedCount = segments.count();
            fixedRows = segments.copyRows();
            System.err.printf("frame %s (%dx%d): %d segments, risk %.4f%n", masks.get(mask).getFileName(), width, height, fixedCount, a);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            segments.close();
            arena.close();
            Backends.setKernelThreads(0);
        }

        private int[] readMask(Path file) throws IOException {
            BufferedImage img = ImageIO.read(file.toFile());
            if (height == 0) {
                height = img.getHeight();
                width = img.getWidth();
            } else if (img.getHeight() != height || img.getWidth() != width) {
                throw new IllegalStateException(file + " is not " + width + "x" + height);
            }
            return img.getRaster().getSamples(0, 0, width, height, 0, (int[]) null);
        }

        /** SegmentsTest's labels: the mask shifted by (2 rows, 3 columns), Unlabelled and the margin ignored. */
        private int[] shifted(int[] pred) {
            int[] labels = new int[height * width];
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int v = y >= 2 && x >= 3 ? pred[(y - 2) * width + x - 3] : 255;
                    labels[y * width + x] = v == 11 ? 255 : v;
                }
            }
            return labels;
        }

        private static float[][] heat(int n, SplittableRandom r) {
            float[][] heat = new float[HEAT_MAPS][n];
            for (float[] m : heat) for (int p = 0; p < n; p++) m[p] = (float) (r.nextDouble() * 5);
            return heat;
        }

        private static float[][] probabilities(int n, SplittableRandom r) {
            float[][] prob = new float[CLASSES][n];
            double[] v = new double[CLASSES];
            for (int p = 0; p < n; p++) {
                double sum = 0;
                for (int i = 0; i < CLASSES; i++) sum += v[i] = r.nextDouble();
                for (int i = 0; i < CLASSES; i++) prob[i][p] = (float) (v[i] / sum);
            }
            return prob;
        }
    }

    /** (a) native segments (label + features, K = 3, probabilities) + FrameRisk, as FrameScorer runs them. */
    @Benchmark
    public double nativeSegmentsRisk(Frame f) {
        return runNative(f);
    }

    /** (b) the plain-Java reference SegmentReference.compute (rows flattened) + the same FrameRisk. */
    @Benchmark
    public double referenceSegmentsRisk(Frame f) {
        return runReference(f);
    }

    static double runNative(Frame f) {
        int count = f.segments.computeInPlace(f.predictedSeg, f.height, f.width, CLASSES, f.heatSeg, HEAT_MAPS, f.probSeg,
                MemorySegment.NULL);
        int values = count * f.segments.columns();
        if (f.nativeRows.length < values) f.nativeRows = new double[Math.max(values, f.nativeRows.length * 3 / 2)];
        MemorySegment.copy(f.segments.rows(), ValueLayout.JAVA_DOUBLE, 0, f.nativeRows, 0, values);
        f.nativeRisk.compute(f.nativeRows, count, f.pixels);
        return f.nativeRisk.risk();
    }

    static double runReference(Frame f) {
        double[][] rows = SegmentReference.compute(f.predicted, f.height, f.width, CLASSES, f.heat, f.prob, null);
        int cols = SegmentFeatures.columns(HEAT_MAPS, CLASSES);
        if (f.referenceRows.length < rows.length * cols) f.referenceRows = new double[rows.length * cols];
        for (int s = 0; s < rows.length; s++) System.arraycopy(rows[s], 0, f.referenceRows, s * cols, cols);
        f.referenceRisk.compute(f.referenceRows, rows.length, f.pixels);
        return f.referenceRisk.risk();
    }

    /** Breakdown: the native segments pass alone. */
    @Benchmark
    public int nativeSegmentsOnly(Frame f) {
        return f.segments.computeInPlace(f.predictedSeg, f.height, f.width, CLASSES, f.heatSeg, HEAT_MAPS, f.probSeg, MemorySegment.NULL);
    }

    /** Breakdown: the native labelling (connected components) and the sizes only: no heat maps, no probabilities. */
    @Benchmark
    public int nativeLabelOnly(Frame f) {
        return f.segments.computeInPlace(f.predictedSeg, f.height, f.width, CLASSES, MemorySegment.NULL, 0, MemorySegment.NULL,
                MemorySegment.NULL);
    }

    /** Breakdown: the native pass with the 3 heat maps but without the 12 probability planes. */
    @Benchmark
    public int nativeSegmentsNoProbabilities(Frame f) {
        return f.segments.computeInPlace(f.predictedSeg, f.height, f.width, CLASSES, f.heatSeg, HEAT_MAPS, MemorySegment.NULL,
                MemorySegment.NULL);
    }

    /** Breakdown: FrameRisk alone on the frame's native rows. */
    @Benchmark
    public double riskOnly(Frame f) {
        f.nativeRisk.compute(f.fixedRows, f.fixedCount, f.pixels);
        return f.nativeRisk.risk();
    }
}
