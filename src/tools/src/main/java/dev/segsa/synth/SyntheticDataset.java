package dev.segsa.synth;

import dev.segsa.error.SegsaException;
import dev.segsa.io.AtomicOutput;
import dev.segsa.io.Progress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Writes a synthetic data set: {@code images/NNNNNN.png} (RGB), {@code labels/NNNNNN.png}
 * (8-bit grayscale class ids, same names) and {@code manifest.csv}, one row per frame:
 * {@code file,seed,sequence,index,sequence_length,time,shadows,traffic,noise,blur}, where
 * {@code seed} is the sequence's seed: {@link RoadSceneGenerator#frame} with the row's seed,
 * conditions, index and sequence length gives the frame again. Every file is written
 * atomically; frames are generated in parallel and come out identical whatever the thread count.
 */
public final class SyntheticDataset {
    public static final String MANIFEST = "manifest.csv";
    public static final String MANIFEST_HEADER = "file,seed,sequence,index,sequence_length,time,shadows,traffic,noise,blur";

    /** What was written: frame count, wall time, frames per condition value, and pixels per class id. */
    public record Summary(int frames, double seconds, Map<String, Map<String, Integer>> framesPerCondition, long[] classPixels) {
        public double framesPerSecond() {
            return seconds > 0 ? frames / seconds : Double.POSITIVE_INFINITY;
        }

        /** The table printed at the end of {@code segsa generate}. */
        public String table() {
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "%-10s %-10s %8s%n", "condition", "value", "frames"));
            for (var e : framesPerCondition.entrySet()) {
                for (var v : e.getValue().entrySet()) b.append(String.format(Locale.ROOT, "%-10s %-10s %8d%n", e.getKey(), v.getKey(), v.getValue()));
            }
            b.append(System.lineSeparator());
            long total = Arrays.stream(classPixels).sum();
            b.append(String.format(Locale.ROOT, "%-4s %-26s %14s %8s%n", "id", "class", "pixels", "share"));
            for (RoadClass c : RoadClass.values()) {
                long p = classPixels[c.id()];
                b.append(String.format(Locale.ROOT, "%-4d %-26s %14d %7.3f%%%n", c.id(), c.description(), p, total == 0 ? 0 : 100.0 * p / total));
            }
            b.append(String.format(Locale.ROOT, "%d frames in %.1f s (%.1f frames/s)", frames, seconds, framesPerSecond()));
            return b.toString();
        }
    }

    private record Planned(String file, long seed, int sequence, int index, SceneConditions conditions) {}

    private record Written(long[] classPixels) {}

    private SyntheticDataset() {}

    /**
     * Generates and writes {@code frames} frames into {@code out}.
     *
     * @param overwrite replace the PNGs and manifest of an earlier run; without it a directory
     *                  that already holds them is refused
     */
    public static Summary write(Path out, int frames, long seed, ConditionSpec spec, int sequenceLength, int threads,
                                boolean overwrite, Progress progress) {
        if (frames < 1) throw new IllegalArgumentException("--frames must be at least 1, got " + frames);
        if (sequenceLength < 1) throw new IllegalArgumentException("--sequence-length must be at least 1, got " + sequenceLength);
        if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        Path images = out.resolve("images"), labels = out.resolve("labels");
        prepare(out, images, labels, overwrite);
        int digits = Math.max(6, Integer.toString(frames - 1).length());
        List<Planned> plan = new ArrayList<>(frames);
        SceneConditions conditions = null;
        long sequenceSeed = 0;
        for (int i = 0; i < frames; i++) {
            int sequence = i / sequenceLength, index = i % sequenceLength;
            if (index == 0) {
                sequenceSeed = RoadSceneGenerator.sequenceSeed(seed, sequence);
                conditions = spec.sample(RoadSceneGenerator.conditionRandom(sequenceSeed));
            }
            plan.add(new Planned(String.format(Locale.ROOT, "%0" + digits + "d.png", i), sequenceSeed, sequence, index, conditions));
        }
        long start = System.nanoTime();
        long[] classPixels = new long[RoadClass.COUNT];
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "segsa-generate");
            t.setDaemon(true);
            return t;
        });
        try {
            ArrayDeque<Future<Written>> inFlight = new ArrayDeque<>();
            int next = 0;
            while (next < frames || !inFlight.isEmpty()) {
                while (next < frames && inFlight.size() < threads * 4) {
                    Planned p = plan.get(next++);
                    inFlight.add(pool.submit(() -> writeFrame(p, sequenceLength, images, labels)));
                }
                Written w = await(inFlight.poll());
                for (int c = 0; c < RoadClass.COUNT; c++) classPixels[c] += w.classPixels[c];
                progress.step();
            }
        } finally {
            pool.shutdownNow();
        }
        StringBuilder csv = new StringBuilder(MANIFEST_HEADER).append('\n');
        for (Planned p : plan) {
            SceneConditions c = p.conditions;
            csv.append(p.file).append(',').append(p.seed).append(',').append(p.sequence).append(',').append(p.index).append(',')
                    .append(sequenceLength).append(',').append(SceneConditions.lower(c.time())).append(',')
                    .append(SceneConditions.lower(c.shadows())).append(',').append(SceneConditions.lower(c.traffic())).append(',')
                    .append(SceneConditions.number(c.noise())).append(',').append(SceneConditions.number(c.blur())).append('\n');
        }
        AtomicOutput.write(out.resolve(MANIFEST), csv.toString().getBytes(StandardCharsets.UTF_8));
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Summary(frames, seconds, conditionCounts(plan), classPixels);
    }

    private static Written writeFrame(Planned p, int sequenceLength, Path images, Path labels) {
        SyntheticFrame f = RoadSceneGenerator.frame(p.seed, p.conditions, p.index, sequenceLength);
        int[] rgb = ((java.awt.image.DataBufferInt) f.image().getRaster().getDataBuffer()).getData();
        AtomicOutput.write(images.resolve(p.file), PngEncoder.rgb(rgb, f.width(), f.height()));
        AtomicOutput.write(labels.resolve(p.file), PngEncoder.gray(f.labels(), f.width(), f.height()));
        return new Written(f.classPixels());
    }

    private static Written await(Future<Written> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SegsaException("generation interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new SegsaException("generating a frame failed: " + e.getCause(), e.getCause());
        }
    }

    private static void prepare(Path out, Path images, Path labels, boolean overwrite) {
        if (Files.exists(out) && !Files.isDirectory(out)) throw new SegsaException(out + ": exists and is not a directory");
        List<Path> earlier = new ArrayList<>();
        for (Path dir : List.of(images, labels)) {
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")).forEach(earlier::add);
            } catch (IOException e) {
                throw new SegsaException(dir + ": cannot list: " + e.getMessage(), e);
            }
        }
        Path manifest = out.resolve(MANIFEST);
        if (Files.exists(manifest)) earlier.add(manifest);
        if (!earlier.isEmpty() && !overwrite) {
            throw new SegsaException(out + ": already holds a generated data set (" + earlier.size()
                    + " files, e.g. " + earlier.getFirst().getFileName() + "); choose another --out or pass --overwrite to replace it");
        }
        try {
            for (Path p : earlier) Files.delete(p);
            Files.createDirectories(images);
            Files.createDirectories(labels);
        } catch (IOException e) {
            throw new SegsaException(out + ": cannot prepare the output directory: " + e.getMessage(), e);
        }
    }

    private static Map<String, Map<String, Integer>> conditionCounts(List<Planned> plan) {
        Map<String, Map<String, Integer>> counts = new LinkedHashMap<>();
        for (String key : List.of("time", "shadows", "traffic", "noise", "blur")) counts.put(key, new LinkedHashMap<>());
        for (TimeOfDay t : TimeOfDay.values()) counts.get("time").put(SceneConditions.lower(t), 0);
        for (ShadowPattern s : ShadowPattern.values()) counts.get("shadows").put(SceneConditions.lower(s), 0);
        for (TrafficDensity d : TrafficDensity.values()) counts.get("traffic").put(SceneConditions.lower(d), 0);
        for (Planned p : plan) {
            SceneConditions c = p.conditions;
            counts.get("time").merge(SceneConditions.lower(c.time()), 1, Integer::sum);
            counts.get("shadows").merge(SceneConditions.lower(c.shadows()), 1, Integer::sum);
            counts.get("traffic").merge(SceneConditions.lower(c.traffic()), 1, Integer::sum);
            counts.get("noise").merge(bucket(c.noise(), SceneConditions.MAX_NOISE), 1, Integer::sum);
            counts.get("blur").merge(bucket(c.blur(), SceneConditions.MAX_BLUR), 1, Integer::sum);
        }
        for (String key : List.of("noise", "blur")) {
            Map<String, Integer> sorted = new LinkedHashMap<>();
            counts.get(key).entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> sorted.put(e.getKey(), e.getValue()));
            counts.put(key, sorted);
        }
        return counts;
    }

    /** "0" for none, otherwise the quarter of the range the value falls in, e.g. "0.5-0.75". */
    private static String bucket(double v, double max) {
        if (v == 0) return "0";
        int q = Math.min(3, (int) (4 * v / max));
        return SceneConditions.number(q * max / 4) + "-" + SceneConditions.number((q + 1) * max / 4);
    }
}
