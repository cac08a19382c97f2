package dev.segsa.score;

import dev.segsa.error.SegsaException;
import dev.segsa.nativelib.NativeBuffer;
import dev.segsa.nativelib.NativeLibrary;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@link ClassPixelStatistics#compute} in native code ({@code segsa_class_statistics},
 * native/stats.cpp): per class max, 95th percentile and share above the threshold of the scored
 * pixels, the classes in parallel, the same values as the Java version (which stays as its
 * reference, {@code NativeClassStatisticsTest}). The map and the outputs are read and written in
 * place on the Java heap (a critical call); the workspace is reused. Not thread-safe.
 */
final class NativeClassStatistics implements AutoCloseable {
    private final NativeBuffer workspace = new NativeBuffer();
    private long workspaceBytes;
    private long workspacePixels = -1;
    private int workspaceClasses = -1;

    NativeClassStatistics() {
        NativeLibrary.cpu();
    }

    /** As {@link ClassPixelStatistics#compute}; {@code predicted} holds int32 [pixels]. */
    void compute(float[] map, MemorySegment predicted, int pixels, int classes, double[] max, double[] p95, double threshold,
                 double[] share) {
        if (map.length < pixels || predicted.byteSize() < 4L * pixels) {
            throw new IllegalArgumentException("map or predicted classes shorter than " + pixels + " pixels");
        }
        MemorySegment ws = workspace(pixels, classes);
        MemorySegment shareSegment = share == null ? MemorySegment.NULL : MemorySegment.ofArray(share);
        int st;
        try {
            st = (int) NativeLibrary.Cpu.CLASS_STATISTICS.invokeExact(MemorySegment.ofArray(map), predicted, (long) pixels, classes,
                    threshold, ws, workspaceBytes, MemorySegment.ofArray(max), MemorySegment.ofArray(p95),
                    shareSegment);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        NativeLibrary.check(st, "segsa_class_statistics");
    }

    private MemorySegment workspace(int pixels, int classes) {
        if (pixels != workspacePixels || classes != workspaceClasses) {
            MemorySegment out = workspace.ensure(64);
            int st;
            try {
                st = (int) NativeLibrary.Cpu.CLASS_STATISTICS_WORKSPACE_BYTES.invokeExact((long) pixels, classes, out);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            NativeLibrary.check(st, "segsa_class_statistics_workspace_bytes");
            workspaceBytes = out.get(ValueLayout.JAVA_LONG, 0);
            workspacePixels = pixels;
            workspaceClasses = classes;
        }
        return workspace.ensure(workspaceBytes);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new SegsaException("native segsa_class_statistics call failed: " + t, t);
    }

    @Override
    public void close() {
        workspace.close();
    }
}
