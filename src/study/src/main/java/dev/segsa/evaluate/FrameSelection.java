package dev.segsa.evaluate;

import dev.segsa.error.SegsaException;
import dev.segsa.scores.ScoresCsv;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code segsa select}: ranks the frames of one target (class or group) by a score for labelling,
 * decides how many of the lowest to skip (a fixed fraction, or the largest fraction that a
 * labelled pilot set supports within a tolerance), and draws the paper's RQ3 retraining subsets.
 */
public final class FrameSelection {
    private FrameSelection() {}

    /** A frame with its target's score (NaN when the score cell is empty), IoU (NaN when unlabelled) and predicted pixels. */
    public record Candidate(String image, double score, double iou, long pixels) {}

    /** A frame's place in the labelling order: rank 1 is the highest score; skip = not sent for labelling. */
    public record Decision(int rank, Candidate candidate, boolean skip) {}

    /**
     * The pilot-based choice: the largest skip fraction k/n of the pilot (its k lowest-scored images)
     * whose one-sided Clopper-Pearson upper bound, at {@code confidence}, on the rate of skipped
     * images with IoU below {@code iouThreshold} is at most {@code tolerance}. {@code skippedPilot}
     * = k, {@code belowPilot} = how many of them are below the threshold, {@code scoreCutoff} = the
     * k-th lowest pilot score (NaN when k = 0).
     */
    public record PilotChoice(int pilotImages, int skippedPilot, int belowPilot, double upperBound, double scoreCutoff,
                              double iouThreshold, double tolerance, double confidence) {
        public double skipFraction() {
            return pilotImages == 0 ? 0 : (double) skippedPilot / pilotImages;
        }

        /** Smallest number of skipped images with none below the threshold whose bound is within the tolerance. */
        public int minimumPilotForZeroEvents() {
            // Clopper-Pearson with 0 events: 1 - (1 - confidence)^(1/k) <= tolerance
            return (int) Math.ceil(Math.log(1 - confidence) / Math.log(1 - tolerance) - 1e-12);
        }
    }

    public record RetrainSubset(String level, String size, List<Candidate> frames) {}

    public static final String[] LEVELS = {"High", "Low", "Random"};
    public static final String[] SIZES = {"Small", "Medium", "Large"};
    /** Subset sizes in percent of the base training set, and the share of the pool the High and Low levels draw from. */
    public static final int[] SIZE_PERCENT = {10, 20, 30};
    public static final int LEVEL_POOL_PERCENT = 30;

    /** The target's rows of a scores file as candidates (every row, also those with an empty score). */
    public static List<Candidate> candidates(ScoresCsv.Contents contents, String target, String score) {
        List<Candidate> out = new ArrayList<>();
        for (ScoresCsv.Row r : contents.rows()) {
            if (r.className().equals(target)) out.add(new Candidate(r.image(), r.score(score), r.iou(), r.pixels()));
        }
        return out;
    }

    /** Highest score first, ties by image name; candidates without a score last (in image order). */
    public static List<Candidate> labellingOrder(List<Candidate> candidates) {
        List<Candidate> out = new ArrayList<>(candidates);
        out.sort(Comparator.comparing((Candidate c) -> Double.isNaN(c.score()))
                .thenComparing(Comparator.comparingDouble((Candidate c) -> Double.isNaN(c.score()) ? 0 : c.score()).reversed())
                .thenComparing(Candidate::image));
        return out;
    }

    /**
     * Skips the floor(n * fraction) lowest-scored of the n candidates that have a score; candidates
     * without a score are always labelled.
     */
    public static List<Decision> skipLowest(List<Candidate> candidates, double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) throw new IllegalArgumentException("skip fraction " + fraction + " is outside [0, 1]");
        List<Candidate> order = labellingOrder(candidates);
        int scored = (int) order.stream().filter(c -> !Double.isNaN(c.score())).count();
        int skip = (int) Math.floor(scored * fraction + 1e-9);
        return decisions(order, scored, skip);
    }

    /** Skips {@code skipped} of the scored candidates, the lowest first. */
    public static List<Decision> skipCount(List<Candidate> candidates, int skipped) {
        List<Candidate> order = labellingOrder(candidates);
        int scored = (int) order.stream().filter(c -> !Double.isNaN(c.score())).count();
        if (skipped < 0 || skipped > scored) throw new IllegalArgumentException("cannot skip " + skipped + " of " + scored);
        return decisions(order, scored, skipped);
    }

    private static List<Decision> decisions(List<Candidate> order, int scored, int skip) {
        List<Decision> out = new ArrayList<>(order.size());
        for (int i = 0; i < order.size(); i++) out.add(new Decision(i + 1, order.get(i), i < scored && i >= scored - skip));
        return out;
    }

    /** @param pilot candidates with a score and an IoU (others are ignored) */
    public static PilotChoice choose(List<Candidate> pilot, double iouThreshold, double tolerance, double confidence) {
        if (!(tolerance > 0 && tolerance < 1)) throw new IllegalArgumentException("tolerance " + tolerance + " is outside (0, 1)");
        if (!(iouThreshold > 0 && iouThreshold <= 1)) throw new IllegalArgumentException("IoU threshold " + iouThreshold + " is outside (0, 1]");
        List<Candidate> usable = new ArrayList<>();
        for (Candidate c : pilot) if (!Double.isNaN(c.score()) && !Double.isNaN(c.iou())) usable.add(c);
        usable.sort(Comparator.comparingDouble(Candidate::score).thenComparing(Candidate::image));
        int n = usable.size();
        int best = 0, bestBelow = 0;
        double bestBound = Double.NaN;
        int below = 0;
        for (int k = 1; k <= n; k++) {
            if (usable.get(k - 1).iou() < iouThreshold) below++;
            double ub = ClopperPearson.upperBound(below, k, confidence);
            if (ub <= tolerance) {
                best = k;
                bestBelow = below;
                bestBound = ub;
            }
        }
        return new PilotChoice(n, best, bestBelow, bestBound, best == 0 ? Double.NaN : usable.get(best - 1).score(), iouThreshold,
                tolerance, confidence);
    }

    /** round(n * percent / 100) in integers, halves up. */
    static int percentOf(int n, int percent) {
        return (int) (((long) n * percent + 50) / 100);
    }

    /**
     * Paper RQ3 subsets. The pool: candidates with a score and more than {@code minPixels} pixels
     * predicted as the target. Sizes Small/Medium/Large = 10/20/30 % of {@code baseSize}. Levels:
     * High samples from the top 30 % of the pool by score, Low from the bottom 30 %, Random from
     * the whole pool; uniformly without replacement (seeded), one shuffle per level, so Small is a
     * prefix of Medium and Medium of Large.
     */
    public static List<RetrainSubset> retrainSubsets(List<Candidate> candidates, long minPixels, int baseSize, long seed) {
        return retrainSubsets(candidates, minPixels, baseSize, seed, List.of(SIZES));
    }

    /**
     * The sizes of {@code sizes} only (names of {@link #SIZES}, any case), e.g. Small and Medium for
     * a class whose pool cannot hold the Large subset; each drawn subset is the one that all three
     * sizes would draw (the same shuffle per level, prefixes of it).
     */
    public static List<RetrainSubset> retrainSubsets(List<Candidate> candidates, long minPixels, int baseSize, long seed,
                                                     List<String> sizes) {
        if (baseSize < 1) throw new IllegalArgumentException("base size must be positive, got " + baseSize);
        int[] chosen = sizeIndices(sizes);
        List<Candidate> pool = new ArrayList<>();
        for (Candidate c : candidates) if (!Double.isNaN(c.score()) && c.pixels() > minPixels) pool.add(c);
        pool.sort(Comparator.comparingDouble(Candidate::score).reversed().thenComparing(Candidate::image));
        int levelPool = percentOf(pool.size(), LEVEL_POOL_PERCENT);
        int largest = chosen[chosen.length - 1];
        int large = percentOf(baseSize, SIZE_PERCENT[largest]);
        if (large > levelPool) {
            throw new SegsaException("retraining subsets: the " + SIZES[largest] + " subset needs " + large + " images ("
                    + SIZE_PERCENT[largest] + "% of base size " + baseSize + ") but the High and Low levels draw from " + levelPool
                    + " images (top/bottom " + LEVEL_POOL_PERCENT + "% of " + pool.size() + " candidates with more than " + minPixels
                    + " predicted pixels); lower --base-size or --min-pixels, leave out the larger sizes (--sizes), or score more frames");
        }
        List<List<Candidate>> levelPools = List.of(pool.subList(0, levelPool), pool.subList(pool.size() - levelPool, pool.size()), pool);
        List<RetrainSubset> out = new ArrayList<>();
        for (int l = 0; l < LEVELS.length; l++) {
            List<Candidate> shuffled = new ArrayList<>(levelPools.get(l));
            SplittableRandom random = new SplittableRandom(seed * 31 + l);
            for (int i = shuffled.size() - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                Candidate t = shuffled.get(i);
                shuffled.set(i, shuffled.get(j));
                shuffled.set(j, t);
            }
            for (int s : chosen) {
                out.add(new RetrainSubset(LEVELS[l], SIZES[s], List.copyOf(shuffled.subList(0, percentOf(baseSize, SIZE_PERCENT[s])))));
            }
        }
        return out;
    }

    /**
     * Per-image score profiles for the diversity rule: for every image of {@code contents} (and of
     * {@code seen}, when given) the vector of its per-class scores (the class rows only, in the
     * order of {@code classes}), each class z-scored over all those images; a class the image does
     * not show counts as 0 (the mean).
     */
    public static java.util.Map<String, double[]> profiles(List<ScoresCsv.Contents> sources, List<String> classes, String score) {
        java.util.Map<String, double[]> raw = new java.util.LinkedHashMap<>();
        int k = classes.size();
        java.util.Map<String, Integer> index = new java.util.HashMap<>();
        for (int i = 0; i < k; i++) index.put(classes.get(i), i);
        for (ScoresCsv.Contents c : sources) {
            for (ScoresCsv.Row r : c.rows()) {
                Integer i = index.get(r.className());
                if (i == null || r.group()) continue;
                double[] v = raw.computeIfAbsent(r.image(), x -> {
                    double[] a = new double[k];
                    java.util.Arrays.fill(a, Double.NaN);
                    return a;
                });
                v[i] = r.score(score);
            }
        }
        double[] mean = new double[k], sd = new double[k];
        int[] n = new int[k];
        for (double[] v : raw.values()) for (int i = 0; i < k; i++) if (!Double.isNaN(v[i])) { mean[i] += v[i]; n[i]++; }
        for (int i = 0; i < k; i++) mean[i] = n[i] > 0 ? mean[i] / n[i] : 0;
        for (double[] v : raw.values()) for (int i = 0; i < k; i++) if (!Double.isNaN(v[i])) sd[i] += (v[i] - mean[i]) * (v[i] - mean[i]);
        for (int i = 0; i < k; i++) sd[i] = n[i] > 1 ? Math.sqrt(sd[i] / (n[i] - 1)) : 0;
        java.util.Map<String, double[]> out = new java.util.LinkedHashMap<>();
        raw.forEach((img, v) -> {
            double[] z = new double[k];
            for (int i = 0; i < k; i++) z[i] = Double.isNaN(v[i]) || !(sd[i] > 0) ? 0 : (v[i] - mean[i]) / sd[i];
            out.put(img, z);
        });
        return out;
    }

    /**
     * The diversity-aware RQ3 subsets (the paper's future work): among the top 30 % of the pool by
     * score (as High), greedy k-centre on the score profiles: the frames already labelled
     * ({@code seen}, e.g. the base set) are the first centres, then each step adds the candidate
     * farthest (Euclidean) from every centre so far, ties by image name. One greedy order, so
     * Small is a prefix of Medium and Medium of Large. Level "Diverse".
     */
    public static List<RetrainSubset> diverseSubsets(List<Candidate> candidates, java.util.Map<String, double[]> profiles,
                                                     java.util.Collection<String> seen, long minPixels, int baseSize) {
        return diverseSubsets(candidates, profiles, seen, minPixels, baseSize, List.of(SIZES));
    }

    /** The diversity-aware subsets of {@code sizes} only (as {@link #retrainSubsets(List, long, int, long, List)}). */
    public static List<RetrainSubset> diverseSubsets(List<Candidate> candidates, java.util.Map<String, double[]> profiles,
                                                     java.util.Collection<String> seen, long minPixels, int baseSize,
                                                     List<String> sizes) {
        if (baseSize < 1) throw new IllegalArgumentException("base size must be positive, got " + baseSize);
        int[] chosen = sizeIndices(sizes);
        int largest = chosen[chosen.length - 1];
        List<Candidate> pool = new ArrayList<>();
        for (Candidate c : candidates) {
            if (!Double.isNaN(c.score()) && c.pixels() > minPixels && !seen.contains(c.image())) pool.add(c);
        }
        pool.sort(Comparator.comparingDouble(Candidate::score).reversed().thenComparing(Candidate::image));
        int levelPool = percentOf(pool.size(), LEVEL_POOL_PERCENT);
        int large = percentOf(baseSize, SIZE_PERCENT[largest]);
        if (large > levelPool) {
            throw new SegsaException("diverse subsets: the " + SIZES[largest] + " subset needs " + large + " images but the top "
                    + LEVEL_POOL_PERCENT + "% of the pool holds " + levelPool + " (of " + pool.size() + " candidates with more than "
                    + minPixels + " predicted pixels); leave out the larger sizes (--sizes)");
        }
        List<Candidate> top = new ArrayList<>(pool.subList(0, levelPool));
        top.sort(Comparator.comparing(Candidate::image));
        int dim = -1;
        for (double[] p : profiles.values()) { dim = p.length; break; }
        double[] nearest = new double[top.size()];
        java.util.Arrays.fill(nearest, Double.POSITIVE_INFINITY);
        boolean anySeen = false;
        for (String s : seen) {
            double[] c = profiles.get(s);
            if (c == null) continue;
            anySeen = true;
            for (int i = 0; i < top.size(); i++) nearest[i] = Math.min(nearest[i], distance(profile(profiles, top.get(i), dim), c));
        }
        List<Candidate> order = new ArrayList<>();
        boolean[] taken = new boolean[top.size()];
        for (int step = 0; step < large; step++) {
            int best = -1;
            for (int i = 0; i < top.size(); i++) {
                if (taken[i]) continue;
                // without seen frames the first centre is the highest-scored candidate
                if (best < 0 || (anySeen || step > 0 ? nearest[i] > nearest[best]
                        : top.get(i).score() > top.get(best).score())) best = i;
            }
            taken[best] = true;
            Candidate centre = top.get(best);
            order.add(centre);
            double[] c = profile(profiles, centre, dim);
            for (int i = 0; i < top.size(); i++) if (!taken[i]) nearest[i] = Math.min(nearest[i], distance(profile(profiles, top.get(i), dim), c));
        }
        List<RetrainSubset> out = new ArrayList<>();
        for (int s : chosen) {
            out.add(new RetrainSubset("Diverse", SIZES[s], List.copyOf(order.subList(0, percentOf(baseSize, SIZE_PERCENT[s])))));
        }
        return out;
    }

    /** Indices into {@link #SIZES} of the named sizes (any case), ascending; at least one. */
    static int[] sizeIndices(List<String> sizes) {
        if (sizes == null || sizes.isEmpty()) throw new IllegalArgumentException("no retraining subset size chosen");
        java.util.TreeSet<Integer> idx = new java.util.TreeSet<>();
        for (String name : sizes) {
            int found = -1;
            for (int i = 0; i < SIZES.length; i++) if (SIZES[i].equalsIgnoreCase(name.strip())) found = i;
            if (found < 0) {
                throw new IllegalArgumentException("unknown retraining subset size '" + name + "' (sizes: small, medium, large)");
            }
            idx.add(found);
        }
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    private static double[] profile(java.util.Map<String, double[]> profiles, Candidate c, int dim) {
        double[] p = profiles.get(c.image());
        return p != null ? p : new double[Math.max(dim, 0)];
    }

    private static double distance(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return Math.sqrt(s);
    }
}
