package dev.segsa.evaluate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Frames grouped by the sequence they come from, for cross-validation that never fits on a test
 * frame's neighbours. Neighbouring frames of one recording are near-duplicates: a model fitted on
 * frame 1000 and tested on frame 1001 is tested on what it has seen.
 *
 * <p>A frame's sequence is its name without the last run of digits of its file-name part
 * ({@link #sequenceOf}: CamVid {@code 0016E5_08097.png} and {@code 0016E5_08099.png} are one
 * sequence, a video's frames {@code drive.mp4#120} another); a name without digits is a sequence of
 * its own. Within a sequence, frames are ordered by that number (then by name) and cut into blocks of
 * {@code blockSize} consecutive frames: the units that folds are drawn from. Folds hold whole
 * blocks; the fitting side of a fold also drops every frame within {@code purge} positions of a
 * test frame of its sequence, so no test frame has a fitted neighbour closer than that.
 */
public final class FrameGroups {
    private static final Pattern NUMBER = Pattern.compile("(\\d+)");
    private static final Pattern VIDEO_FRAME = Pattern.compile("#(\\d+)$");

    private final List<String> frames;
    private final String[] sequence;
    /** Position of each frame within its sequence's order. */
    private final int[] position;
    private final int[] block;
    private final int blocks;
    private final int purge;

    /** One split: indices into the frames, fitting side and test side (disjoint). */
    public record Fold(int[] fit, int[] test) {}

    /**
     * @param frames    frame names (unique)
     * @param blockSize consecutive frames per block (at least 1)
     * @param purge     frames on each side of a test frame left out of fitting (0 = none)
     */
    public FrameGroups(List<String> frames, int blockSize, int purge) {
        if (blockSize < 1) throw new IllegalArgumentException("block size must be at least 1, got " + blockSize);
        if (purge < 0) throw new IllegalArgumentException("purge must be at least 0, got " + purge);
        this.frames = List.copyOf(frames);
        this.purge = purge;
        int n = frames.size();
        sequence = new String[n];
        position = new int[n];
        block = new int[n];
        Map<String, List<Integer>> bySequence = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            sequence[i] = sequenceOf(frames.get(i));
            bySequence.computeIfAbsent(sequence[i], k -> new ArrayList<>()).add(i);
        }
        int next = 0;
        for (List<Integer> members : bySequence.values()) {
            members.sort(Comparator.comparingLong((Integer i) -> frameNumber(frames.get(i))).thenComparing(frames::get));
            for (int p = 0; p < members.size(); p++) {
                position[members.get(p)] = p;
                block[members.get(p)] = next + p / blockSize;
            }
            next += (members.size() + blockSize - 1) / blockSize;
        }
        blocks = next;
    }

    /**
     * The sequence of a frame name: the name with the last run of digits of its file-name part
     * (after the last '/') replaced by '*': {@code 0016E5_08097.png} -> {@code 0016E5_*.png},
     * {@code seq01/000123.png} -> {@code seq01/*.png}, {@code drive.mp4#120} -> {@code drive.mp4#*},
     * {@code aachen_000000_000019_leftImg8bit.png} -> {@code aachen_000000_*_leftImg8bit.png}. A name
     * without digits is a sequence of its own.
     */
    public static String sequenceOf(String frame) {
        int[] run = lastDigits(frame);
        return run == null ? frame : frame.substring(0, run[0]) + "*" + frame.substring(run[1]);
    }

    /** The frame number: the last run of digits of the file-name part (-1 when none). */
    public static long frameNumber(String frame) {
        int[] run = lastDigits(frame);
        if (run == null) return -1;
        String d = frame.substring(run[0], run[1]);
        return d.length() > 18 ? Long.MAX_VALUE : Long.parseLong(d);
    }

    /**
     * [start, end) of the frame number in the file-name part (after the last '/'): a video frame's
     * {@code #N} at the end; else the last run of 3 or more digits (so {@code leftImg8bit} is not a
     * frame number); else the last run of digits; null when there is none.
     */
    private static int[] lastDigits(String frame) {
        int from = frame.lastIndexOf('/') + 1;
        Matcher video = VIDEO_FRAME.matcher(frame);
        if (video.find(from)) return new int[] {video.start(1), video.end(1)};
        Matcher m = NUMBER.matcher(frame);
        int[] last = null, lastLong = null;
        int at = from;
        while (at <= frame.length() && m.find(at)) {
            int[] run = {m.start(1), m.end(1)};
            last = run;
            if (run[1] - run[0] >= 3) lastLong = run;
            at = run[1];
        }
        return lastLong != null ? lastLong : last;
    }

    public int blocks() {
        return blocks;
    }

    public long sequences() {
        return java.util.Arrays.stream(sequence).distinct().count();
    }

    public String sequence(int frame) {
        return sequence[frame];
    }

    public int position(int frame) {
        return position[frame];
    }

    /**
     * {@code k} folds over the blocks of the frames in {@code subset} (indices into the frames),
     * blocks dealt round-robin after a seeded shuffle, so fold sizes differ by at most one block.
     * Fewer blocks than {@code k}: one fold per block.
     */
    public List<Fold> folds(int[] subset, int k, long seed) {
        if (k < 2) throw new IllegalArgumentException("need at least 2 folds, got " + k);
        List<Integer> used = new ArrayList<>();
        Map<Integer, Integer> seen = new LinkedHashMap<>();
        for (int i : subset) if (seen.putIfAbsent(block[i], seen.size()) == null) used.add(block[i]);
        int folds = Math.min(k, used.size());
        if (folds < 2) {
            throw new IllegalArgumentException("the " + subset.length + " frames form " + used.size()
                    + " block(s); cross-validation needs at least 2 (a smaller block size, or more frames)");
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = used.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Integer t = used.get(i);
            used.set(i, used.get(j));
            used.set(j, t);
        }
        Map<Integer, Integer> foldOfBlock = new LinkedHashMap<>();
        for (int i = 0; i < used.size(); i++) foldOfBlock.put(used.get(i), i % folds);
        List<Fold> out = new ArrayList<>();
        for (int f = 0; f < folds; f++) {
            List<Integer> test = new ArrayList<>();
            for (int i : subset) if (foldOfBlock.get(block[i]) == f) test.add(i);
            java.util.Set<String> testPositions = new java.util.HashSet<>();
            for (int t : test) testPositions.add(sequence[t] + "\u0000" + position[t]);
            List<Integer> fit = new ArrayList<>();
            for (int i : subset) {
                if (foldOfBlock.get(block[i]) == f) continue;
                if (purge > 0 && nearTest(i, testPositions)) continue;
                fit.add(i);
            }
            out.add(new Fold(fit.stream().mapToInt(Integer::intValue).toArray(), test.stream().mapToInt(Integer::intValue).toArray()));
        }
        return out;
    }

    /** Whether frame i lies within {@code purge} positions of a test frame of its sequence. */
    private boolean nearTest(int i, java.util.Set<String> testPositions) {
        for (int p = position[i] - purge; p <= position[i] + purge; p++) {
            if (testPositions.contains(sequence[i] + "\u0000" + p)) return true;
        }
        return false;
    }

    public List<String> frames() {
        return frames;
    }
}
