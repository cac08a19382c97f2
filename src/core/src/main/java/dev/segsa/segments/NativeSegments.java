package dev.segsa.segments;

import dev.segsa.error.SegsaException;
import dev.segsa.nativelib.NativeBuffer;
import dev.segsa.nativelib.NativeLibrary;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Per-segment features of one frame in native code ({@code segsa_segments_label} and
 * {@code segsa_segments_features}, native/segments.cpp): the segments (connected components of the
 * predicted class map) and one row of {@link SegmentFeatures} per segment. {@link SegmentReference}
 * is its plain-Java reference ({@code SegmentsTest}).
 *
 * <p>The workspace, the segment ids and the rows live in native buffers that are reused: they
 * grow only for a larger frame or a frame with more segments (times columns) than any before, so
 * steady-state calls allocate nothing. The heat maps, probabilities and labels are read in place
 * on the Java heap (critical calls). The results stay valid until the next {@link #compute}. Not
 * thread-safe.
 */
public final class NativeSegments implements AutoCloseable {
    private final NativeBuffer workspace = new NativeBuffer();
    private final NativeBuffer ids = new NativeBuffer();
    private final NativeBuffer rows = new NativeBuffer();
    private final NativeBuffer scalars = new NativeBuffer();
    private final NativeBuffer iouRows = new NativeBuffer();
    private int classes;
    private int height;
    private int width;
    private long workspaceBytes;
    private int workspaceHeight = -1;
    private int workspaceWidth = -1;
    private int count;
    private int columns;
    private int pixels;
    private MemorySegment out = MemorySegment.NULL;
    private MemorySegment idSegment = MemorySegment.NULL;

    public NativeSegments() {
        NativeLibrary.cpu();
    }

    /**
     * Segments and feature rows of one frame.
     *
     * @param predicted              int32 [H*W] predicted classes, each in [0, classes)
     * @param heatMapsFlat           float32 [K][H*W] heat maps (may be null when K = 0)
     * @param probabilitiesFlatOrNull float32 [classes][H*W] softmax probabilities, channel-major, or null
     * @param labelsOrNull           [H*W] ground truth (outside [0, classes): ignore), or null
     * @return the number of segments
     * @throws SegsaException from the native code (a class outside [0, classes), ...), with its message
     */
    public int compute(MemorySegment predicted, int height, int width, int classes, float[] heatMapsFlat, int heatMaps,
                       float[] probabilitiesFlatOrNull, int[] labelsOrNull) {
        if (height <= 0 || width <= 0 || (long) height * width >= Integer.MAX_VALUE) {
            throw new IllegalArgumentException("frame size " + height + " x " + width);
        }
        if (classes <= 0 || heatMaps < 0) throw new IllegalArgumentException("classes=" + classes + ", heatMaps=" + heatMaps);
        long n = (long) height * width;
        if (predicted.byteSize() < 4 * n) throw new IllegalArgumentException("predicted holds fewer than " + n + " int32");
        if (heatMaps > 0 && (heatMapsFlat == null || heatMapsFlat.length < heatMaps * n)) {
            throw new IllegalArgumentException("heat maps shorter than " + heatMaps + " x " + n);
        }
        if (probabilitiesFlatOrNull != null && probabilitiesFlatOrNull.length < classes * n) {
            throw new IllegalArgumentException("probabilities shorter than " + classes + " x " + n);
        }
        if (labelsOrNull != null && labelsOrNull.length < n) throw new IllegalArgumentException("labels shorter than " + n);
        return computeInPlace(predicted, height, width, classes,
                heatMaps == 0 || heatMapsFlat == null ? MemorySegment.NULL : MemorySegment.ofArray(heatMapsFlat), heatMaps,
                probabilitiesFlatOrNull == null ? MemorySegment.NULL : MemorySegment.ofArray(probabilitiesFlatOrNull),
                labelsOrNull == null ? MemorySegment.NULL : MemorySegment.ofArray(labelsOrNull));
    }

    /**
     * As above with the inputs in place (native or heap segments; NULL for none): {@code heat}
     * float32 [K][H*W], {@code probabilities} float32 [classes][H*W], {@code labels} int32 [H*W].
     * The caller has checked their sizes.
     */
    public int computeInPlace(MemorySegment predicted, int height, int width, int classes, MemorySegment heat, int heatMaps,
                       MemorySegment probabilities, MemorySegment labels) {
        long n = (long) height * width;
        count = 0;  // the last frame's results are gone from here on, also when a call below fails
        MemorySegment ws = workspace(height, width);
        idSegment = ids.ensure(4 * n);
        MemorySegment countOut = scalars.ensure(64);
        int st;
        try {
            st = (int) NativeLibrary.Cpu.SEGMENTS_LABEL.invokeExact(predicted, height, width, classes, ws, workspaceBytes,
                    idSegment, countOut);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        NativeLibrary.check(st, "segsa_segments_label");
        int segments = countOut.get(ValueLayout.JAVA_INT, 0);
        int f = SegmentFeatures.columns(heatMaps, classes);
        out = rows.ensure(8L * Math.max(1, segments) * f);
        long capacity = out.byteSize() / (8L * f);
        try {
            st = (int) NativeLibrary.Cpu.SEGMENTS_FEATURES.invokeExact(predicted, idSegment, segments, height, width, classes,
                    heat, heatMaps, probabilities, labels, ws, workspaceBytes, out, capacity);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        NativeLibrary.check(st, "segsa_segments_features");
        count = segments;
        columns = f;
        pixels = (int) n;
        this.classes = classes;
        this.height = height;
        this.width = width;
        return segments;
    }

    /**
     * The IoU_adj of every segment of the last frame against ground truth {@code labels} (int32
     * [H*W] at the frame's size; values outside [0, classes) are ignored) into {@code iou}
     * [count]: for the lab, where labels come after scoring.
     */
    public void iouAdj(MemorySegment predicted, int[] labels, double[] iou) {
        if (labels.length < pixels || iou.length < count) throw new IllegalArgumentException("labels or output too short");
        if (count == 0) return;
        int f = SegmentFeatures.columns(0, classes);
        MemorySegment o = iouRows.ensure(8L * count * f);
        int st;
        try {
            st = (int) NativeLibrary.Cpu.SEGMENTS_FEATURES.invokeExact(predicted, idSegment, count, height, width, classes,
                    MemorySegment.NULL, 0, MemorySegment.NULL, MemorySegment.ofArray(labels), workspace.ensure(workspaceBytes), workspaceBytes,
                    o, (long) count);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        NativeLibrary.check(st, "segsa_segments_features");
        for (int s = 0; s < count; s++) iou[s] = o.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) s * f + f - 1);
    }

    /** The rows of the last frame in place (read-only; valid until the next call). */
    public MemorySegment rows() {
        return out.asSlice(0, 8L * count * columns).asReadOnly();
    }

    /** Segments of the last frame. */
    public int count() {
        return count;
    }

    /** Columns of a row ({@link SegmentFeatures#columns}) of the last frame. */
    public int columns() {
        return columns;
    }

    /** Column {@code column} of segment {@code segment}'s row ({@link SegmentFeatures} indices). */
    public double value(int segment, int column) {
        if (segment < 0 || segment >= count || column < 0 || column >= columns) {
            throw new IndexOutOfBoundsException("segment " + segment + " of " + count + ", column " + column + " of " + columns);
        }
        return out.getAtIndex(ValueLayout.JAVA_DOUBLE, (long) segment * columns + column);
    }

    /** Segment id of a pixel (row-major index) of the last frame. */
    public int segmentId(int pixel) {
        if (pixel < 0 || pixel >= pixels || count == 0) throw new IndexOutOfBoundsException("pixel " + pixel + " of " + pixels);
        return idSegment.getAtIndex(ValueLayout.JAVA_INT, pixel);
    }

    /** A copy of the segment ids [H*W] of the last frame. */
    public int[] copySegmentIds() {
        return count == 0 ? new int[0] : idSegment.asSlice(0, 4L * pixels).toArray(ValueLayout.JAVA_INT);
    }

    /** A copy of the rows of the last frame, row-major [count * columns]. */
    public double[] copyRows() {
        return count == 0 ? new double[0] : out.asSlice(0, 8L * count * columns).toArray(ValueLayout.JAVA_DOUBLE);
    }

    /** Copies row {@code segment} into {@code dst} at {@code offset}. */
    public void copyRow(int segment, double[] dst, int offset) {
        if (segment < 0 || segment >= count) throw new IndexOutOfBoundsException("segment " + segment + " of " + count);
        MemorySegment.copy(out, ValueLayout.JAVA_DOUBLE, 8L * segment * columns, dst, offset, columns);
    }

    private MemorySegment workspace(int height, int width) {
        if (height != workspaceHeight || width != workspaceWidth) {
            MemorySegment o = scalars.ensure(64);
            int st;
            try {
                st = (int) NativeLibrary.Cpu.SEGMENTS_WORKSPACE_BYTES.invokeExact(height, width, o);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            NativeLibrary.check(st, "segsa_segments_workspace_bytes");
            workspaceBytes = o.get(ValueLayout.JAVA_LONG, 0);
            workspaceHeight = height;
            workspaceWidth = width;
        }
        return workspace.ensure(workspaceBytes);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new SegsaException(SegsaException.Kind.NATIVE, "native segsa_segments call failed: " + t, t);
    }

    @Override
    public void close() {
        workspace.close();
        ids.close();
        rows.close();
        scalars.close();
        iouRows.close();
        count = 0;
    }
}
