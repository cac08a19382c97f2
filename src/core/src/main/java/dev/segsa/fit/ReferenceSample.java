package dev.segsa.fit;

import java.util.Arrays;

/**
 * A mergeable uniform sample of at most {@code capacity} activation traces of one class: every
 * candidate pixel gets a pseudo-random key that depends only on the seed, the frame's name and
 * the pixel's index ({@link #key}), and the sample keeps the {@code capacity} smallest keys
 * (ties broken by frame hash, then pixel). Which traces are kept therefore does not depend on
 * the order in which frames arrive or on how they are split between workers: merging samples
 * of any partition of the frames gives exactly the sample of one pass. A bounded max-heap of
 * slot indices; a trace is only computed when its key would be kept ({@link #accepts}).
 */
public final class ReferenceSample {
    private final int capacity;
    private final int d;
    private long[] keys = new long[0];
    private long[] frames = new long[0];
    private int[] pixelIds = new int[0];
    private double[] vectors = new double[0];
    /** heap[0] is the slot with the largest (key, frame, pixel). */
    private int[] heap = new int[0];
    private int size;

    public ReferenceSample(int capacity, int d) {
        if (capacity < 0) throw new IllegalArgumentException("capacity must be >= 0, got " + capacity);
        this.capacity = capacity;
        this.d = d;
    }

    public int capacity() {
        return capacity;
    }

    public int dimension() {
        return d;
    }

    public int size() {
        return size;
    }

    /** A 64-bit hash of a frame's name, the frame part of every key. */
    public static long frameHash(String frame) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < frame.length(); i++) {
            h ^= frame.charAt(i);
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    /** The sampling key of pixel {@code pixel} of the frame with hash {@code frameHash}. */
    public static long key(long seed, long frameHash, int pixel) {
        return mix(mix(frameHash ^ mix(seed + 0x9E3779B97F4A7C15L)) + pixel);
    }

    /** SplitMix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static int compare(long k1, long f1, int p1, long k2, long f2, int p2) {
        int c = Long.compare(k1, k2);
        if (c != 0) return c;
        c = Long.compare(f1, f2);
        return c != 0 ? c : Integer.compare(p1, p2);
    }

    private int compareSlots(int a, int b) {
        return compare(keys[a], frames[a], pixelIds[a], keys[b], frames[b], pixelIds[b]);
    }

    /** Whether an entry with this key would be kept now. */
    public boolean accepts(long key, long frame, int pixel) {
        if (capacity == 0) return false;
        if (size < capacity) return true;
        int top = heap[0];
        return compare(key, frame, pixel, keys[top], frames[top], pixelIds[top]) < 0;
    }

    /** Offers a trace (d values from {@code trace[offset]}); kept when its key is among the smallest. */
    public void offer(long key, long frame, int pixel, double[] trace, int offset) {
        if (!accepts(key, frame, pixel)) return;
        int slot;
        if (size < capacity) {
            slot = size;
            grow(size + 1);
            heap[size] = slot;
            size++;
            set(slot, key, frame, pixel, trace, offset);
            siftUp(size - 1);
        } else {
            slot = heap[0];
            set(slot, key, frame, pixel, trace, offset);
            siftDown(0);
        }
    }

    private void set(int slot, long key, long frame, int pixel, double[] trace, int offset) {
        keys[slot] = key;
        frames[slot] = frame;
        pixelIds[slot] = pixel;
        System.arraycopy(trace, offset, vectors, slot * d, d);
    }

    private void grow(int need) {
        if (keys.length >= need) return;
        int cap = (int) Math.min(capacity, Math.max(1024, 2L * keys.length));
        keys = Arrays.copyOf(keys, cap);
        frames = Arrays.copyOf(frames, cap);
        pixelIds = Arrays.copyOf(pixelIds, cap);
        heap = Arrays.copyOf(heap, cap);
        vectors = Arrays.copyOf(vectors, cap * d);
    }

    private void siftUp(int i) {
        int s = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (compareSlots(heap[parent], s) >= 0) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = s;
    }

    private void siftDown(int i) {
        int s = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) break;
            if (child + 1 < size && compareSlots(heap[child + 1], heap[child]) > 0) child++;
            if (compareSlots(heap[child], s) <= 0) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = s;
    }

    /** Adds every entry of {@code other} (same capacity and dimension). */
    public void merge(ReferenceSample other) {
        if (other.d != d || other.capacity != capacity) {
            throw new IllegalArgumentException("cannot merge a sample of " + other.capacity + " x d=" + other.d + " into one of "
                    + capacity + " x d=" + d);
        }
        for (int i = 0; i < other.size; i++) offer(other.keys[i], other.frames[i], other.pixelIds[i], other.vectors, i * d);
    }

    /** Writes the sample exactly (keys, tie-breakers and traces), for {@link #read}. */
    public void write(java.io.DataOutput out) throws java.io.IOException {
        out.writeInt(capacity);
        out.writeInt(d);
        out.writeInt(size);
        for (int i = 0; i < size; i++) {
            out.writeLong(keys[i]);
            out.writeLong(frames[i]);
            out.writeInt(pixelIds[i]);
            for (int k = 0; k < d; k++) out.writeDouble(vectors[i * d + k]);
        }
    }

    /** The sample {@link #write} wrote. */
    public static ReferenceSample read(java.io.DataInput in) throws java.io.IOException {
        return read(in, Integer.MAX_VALUE, -1, Long.MAX_VALUE);
    }

    /**
     * As {@link #read(java.io.DataInput)}, checked before allocating: the capacity at most
     * {@code maxCapacity}, the dimension {@code d} (when >= 0), and the declared traces within the
     * {@code remaining} bytes.
     */
    public static ReferenceSample read(java.io.DataInput in, int maxCapacity, int expectedD, long remaining) throws java.io.IOException {
        int capacity = in.readInt(), d = in.readInt(), size = in.readInt();
        if (capacity < 0 || d < 0 || size < 0 || size > capacity || (long) size * d > Integer.MAX_VALUE || capacity > maxCapacity
                || (expectedD >= 0 && d != expectedD) || (long) size * (20 + 8L * d) > remaining - 12) {
            throw new java.io.IOException("corrupt reference sample: capacity " + capacity + " (at most " + maxCapacity + "), d " + d
                    + (expectedD >= 0 ? " (expected " + expectedD + ")" : "") + ", size " + size + " with " + (remaining - 12) + " bytes left");
        }
        ReferenceSample s = new ReferenceSample(capacity, d);
        double[] v = new double[d];
        for (int i = 0; i < size; i++) {
            long key = in.readLong(), frame = in.readLong();
            int pixel = in.readInt();
            for (int k = 0; k < d; k++) v[k] = in.readDouble();
            s.offer(key, frame, pixel, v, 0);
        }
        return s;
    }

    public ReferenceSample copy() {
        ReferenceSample c = new ReferenceSample(capacity, d);
        c.merge(this);
        return c;
    }

    /** The kept traces, [size x d] row-major, in ascending key order (independent of arrival order). */
    public double[] traces() {
        Integer[] order = new Integer[size];
        for (int i = 0; i < size; i++) order[i] = i;
        Arrays.sort(order, this::compareSlots);
        double[] out = new double[size * d];
        for (int i = 0; i < size; i++) System.arraycopy(vectors, order[i] * d, out, i * d, d);
        return out;
    }
}
