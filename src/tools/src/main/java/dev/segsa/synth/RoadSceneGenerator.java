package dev.segsa.synth;

import java.util.SplittableRandom;

/**
 * Synthetic road-scene frames, deterministic by seed. Frame {@code i} of a data set generated
 * with seed {@code S} and sequence length {@code K} is frame {@code i % K} of sequence
 * {@code i / K}; each sequence has its own seed ({@link #sequenceSeed}) and conditions (drawn
 * from the {@link ConditionSpec} with {@link #conditionRandom}), and its frames show one world
 * seen from a camera moving forward at 10 frames/s.
 */
public final class RoadSceneGenerator {
    public static final int WIDTH = FrameRenderer.WIDTH;
    public static final int HEIGHT = FrameRenderer.HEIGHT;

    private RoadSceneGenerator() {}

    /** The seed of sequence {@code sequence} in a data set generated with {@code seed}. */
    public static long sequenceSeed(long seed, long sequence) {
        return mix64(mix64(seed) + 0x9E3779B97F4A7C15L * (sequence + 1));
    }

    /** The random source that draws a sequence's conditions from a spec. */
    public static SplittableRandom conditionRandom(long sequenceSeed) {
        return new SplittableRandom(mix64(sequenceSeed ^ 0x5DEECE66DL));
    }

    /**
     * Frame {@code index} (0-based) of the sequence with this seed and conditions.
     *
     * @param sequenceLength frames in the sequence (the world is furnished for the camera's whole path)
     */
    public static SyntheticFrame frame(long sequenceSeed, SceneConditions conditions, int index, int sequenceLength) {
        if (sequenceLength < 1) throw new IllegalArgumentException("sequence length must be at least 1, got " + sequenceLength);
        if (index < 0 || index >= sequenceLength)
            throw new IllegalArgumentException("frame index " + index + " is outside the sequence (0.." + (sequenceLength - 1) + ")");
        RoadScene scene = new RoadScene(sequenceSeed, conditions, sequenceLength);
        return new FrameRenderer(scene).render(index, sequenceSeed, mix64(sequenceSeed + 31L * (index + 1)));
    }

    /** Stafford's mix13 finaliser (as in SplittableRandom): a bijective 64-bit hash. */
    static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
