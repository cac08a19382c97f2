package dev.segsa.score;

import dev.segsa.SegsaException;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.fit.ClassStatistics;
import dev.segsa.fit.KdeModel;
import dev.segsa.fit.MahalanobisModel;
import dev.segsa.fit.Whitening;
import dev.segsa.nativelib.NativeLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The C++/OpenMP backend ({@code libsegsa_cpu.so}, native/segsa.h) through Panama.
 *
 * <ul>
 *   <li>{@link #mdsa}: {@code segsa_mdsa_frame}, the fused low-resolution kernel of design.md
 *       section 2 (whitening of the touched low-resolution cells, 4 x 4 Gram matrices, no
 *       upsampled tensor), float64 throughout.</li>
 *   <li>{@link #accumulate}: {@code segsa_accumulate_frame}, per-class count, mean and co-moment of
 *       the frame computed at low resolution, merged into the accumulators with
 *       {@link ClassStatistics#merge}.</li>
 *   <li>{@link #lsa}: not native yet; delegates to {@link ReferenceBackend} (plain Java, slow).</li>
 * </ul>
 *
 * <p>Feature maps in native memory (e.g. a LibTorch tensor) are passed to C++ without a copy; heap
 * segments are copied into a reusable native buffer. Models are packed into native memory once per
 * {@code MahalanobisModel[]} (re-packed when the array or one of its elements changes). Scratch
 * buffers and the kernel workspace grow to the largest frame seen and are then reused: no
 * allocation per frame in the steady state. Not thread-safe: use one instance per thread.
 * {@link #close()} frees the native memory and is idempotent.
 */
public final class NativeCpuBackend implements Backend {
    private final ReferenceBackend lsaFallback = new ReferenceBackend();
    private final Buffer features = new Buffer();
    private final Buffer perPixel = new Buffer();
    private final Buffer map = new Buffer();
    private final Buffer classLongs = new Buffer();
    private final Buffer classDoubles = new Buffer();
    private final Buffer means = new Buffer();
    private final Buffer comoments = new Buffer();
    private final Buffer workspace = new Buffer();
    private long workspaceKeyD = -1, workspaceKeyA = -1, workspaceKeyB = -1, workspaceBytes;

    private MahalanobisModel[] packedArray;
    private MahalanobisModel[] packedElements;
    private Arena modelArena;
    private MemorySegment packedModels;
    private int packedDim;

    private boolean closed;

    /** @throws SegsaException when libsegsa_cpu.so cannot be loaded (the message lists the paths tried) */
    public NativeCpuBackend() {
        NativeLibrary.cpu();
    }

    @Override
    public String name() {
        return "native-cpu";
    }

    /** The SIMD level the native kernels use, e.g. "avx512". */
    public String isa() {
        return NativeLibrary.Cpu.isa();
    }

    @Override
    public void accumulate(FeatureMap f, UpsampleMode mode, int height, int width, int[] labels, ClassStatistics[] stats) {
        checkOpen();
        ReferenceBackend.checkSize(labels, height, width);
        int classes = stats.length;
        int d = f.d();
        if (classes == 0) return;
        for (int c = 0; c < classes; c++) {
            if (stats[c] == null) throw new IllegalArgumentException("stats[" + c + "] is null");
            if (stats[c].dimension() != d) {
                throw new IllegalArgumentException("stats[" + c + "] has dimension " + stats[c].dimension()
                        + ", the feature map has d=" + d);
            }
        }
        MemorySegment feat = featureSegment(f);
        MemorySegment lab = copyPerPixel(labels);
        MemorySegment ws = workspace(f, height, width, classes);
        MemorySegment counts = classLongs.ensure((long) classes * Long.BYTES);
        MemorySegment mean = means.ensure((long) classes * d * Double.BYTES);
        MemorySegment com = comoments.ensure((long) classes * d * d * Double.BYTES);
        int st;
        try {
            st = (int) NativeLibrary.Cpu.ACCUMULATE_FRAME.invokeExact(feat, d, f.h0(), f.w0(), height, width, mode.code(),
                    lab, classes, ws, workspaceBytes, counts, mean, com);
        } catch (Throwable t) {
            throw rethrow("segsa_accumulate_frame", t);
        }
        NativeLibrary.check(st, "segsa_accumulate_frame");
        double[] m = new double[d];
        double[] cm = new double[d * d];
        for (int c = 0; c < classes; c++) {
            long n = counts.getAtIndex(JAVA_LONG, c);
            if (n == 0) continue;
            MemorySegment.copy(mean, JAVA_DOUBLE, (long) c * d * Double.BYTES, m, 0, d);
            MemorySegment.copy(com, JAVA_DOUBLE, (long) c * d * d * Double.BYTES, cm, 0, d * d);
            stats[c].merge(ClassStatistics.of(d, n, m, cm));
        }
    }

    @Override
    public void mdsa(FeatureMap f, UpsampleMode mode, int height, int width, int[] predicted,
                     MahalanobisModel[] models, FrameScores out) {
        checkOpen();
        ReferenceBackend.checkSize(predicted, height, width);
        int classes = models.length;
        if (out.classes() < classes) {
            throw new IllegalArgumentException("FrameScores has " + out.classes() + " classes, models " + classes);
        }
        float[] outMap = out.map();
        int pixels = height * width;
        if (outMap != null && outMap.length != pixels) {
            throw new IllegalArgumentException("FrameScores map has " + outMap.length + " pixels, frame " + pixels);
        }
        if (classes == 0) {
            if (outMap != null) Arrays.fill(outMap, Float.NaN);
            return;
        }
        MemorySegment modelStruct = packModels(models, f.d());
        MemorySegment feat = featureSegment(f);
        MemorySegment pred = copyPerPixel(predicted);
        MemorySegment ws = workspace(f, height, width, classes);
        MemorySegment px = classLongs.ensure((long) classes * Long.BYTES);
        MemorySegment sums = classDoubles.ensure((long) classes * Double.BYTES);
        MemorySegment mapSeg = outMap == null ? MemorySegment.NULL : map.ensure((long) pixels * Float.BYTES);
        int st;
        try {
            st = (int) NativeLibrary.Cpu.MDSA_FRAME.invokeExact(feat, f.d(), f.h0(), f.w0(), height, width, mode.code(),
                    pred, classes, modelStruct, ws, workspaceBytes, mapSeg, px, sums);
        } catch (Throwable t) {
            throw rethrow("segsa_mdsa_frame", t);
        }
        NativeLibrary.check(st, "segsa_mdsa_frame");
        long[] outPixels = out.pixels();
        double[] outSums = out.sums();
        for (int c = 0; c < classes; c++) {
            outPixels[c] += px.getAtIndex(JAVA_LONG, c);
            outSums[c] += sums.getAtIndex(JAVA_DOUBLE, c);
        }
        if (outMap != null) MemorySegment.copy(mapSeg, JAVA_FLOAT, 0, outMap, 0, pixels);
    }

    /** Not native yet: delegates to {@link ReferenceBackend#lsa} (plain Java). */
    @Override
    public void lsa(FeatureMap f, UpsampleMode mode, int height, int width, int[] predicted,
                    KdeModel[] models, FrameScores out) {
        checkOpen();
        lsaFallback.lsa(f, mode, height, width, predicted, models, out);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        features.close();
        perPixel.close();
        map.close();
        classLongs.close();
        classDoubles.close();
        means.close();
        comoments.close();
        workspace.close();
        if (modelArena != null) modelArena.close();
        modelArena = null;
        packedModels = null;
        packedArray = null;
        packedElements = null;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("native-cpu backend is closed");
    }

    private MemorySegment featureSegment(FeatureMap f) {
        long bytes = (long) f.d() * f.h0() * f.w0() * Float.BYTES;
        MemorySegment data = f.data();
        if (data.isNative() && data.address() % Float.BYTES == 0) return data; // zero copy
        MemorySegment seg = features.ensure(bytes);
        MemorySegment.copy(data, 0, seg, 0, bytes);
        return seg;
    }

    private MemorySegment copyPerPixel(int[] values) {
        MemorySegment seg = perPixel.ensure((long) values.length * Integer.BYTES);
        MemorySegment.copy(values, 0, seg, JAVA_INT, 0, values.length);
        return seg;
    }

    private MemorySegment workspace(FeatureMap f, int height, int width, int classes) {
        long keyA = ((long) f.h0() << 32) | f.w0();
        long keyB = ((long) height << 32) | width;
        long keyD = ((long) f.d() << 32) | classes;
        if (keyA != workspaceKeyA || keyB != workspaceKeyB || keyD != workspaceKeyD) {
            workspaceBytes = NativeLibrary.Cpu.workspaceBytes(f.d(), f.h0(), f.w0(), height, width, classes);
            workspaceKeyA = keyA;
            workspaceKeyB = keyB;
            workspaceKeyD = keyD;
        }
        return workspace.ensure(workspaceBytes);
    }

    /** Packs the models into a segsa_mdsa_models struct, once per array (and element identities). */
    private MemorySegment packModels(MahalanobisModel[] models, int d) {
        if (models == packedArray && sameElements(models)) return packedModels;
        int classes = models.length;
        int dim = -1;
        long totalK = 0, totalKK = 0;
        for (int c = 0; c < classes; c++) {
            if (models[c] == null) continue;
            Whitening w = models[c].whitening();
            if (dim < 0) dim = w.dimension();
            else if (dim != w.dimension()) {
                throw new SegsaException("MDSA models disagree on the feature dimension: " + dim + " and "
                        + w.dimension() + " (class " + c + ")");
            }
            long k = w.activeDimension();
            totalK += k;
            totalKK += k * k;
        }
        if (dim < 0) dim = d;
        Arena arena = Arena.ofShared();
        try {
            MemorySegment count = arena.allocate(JAVA_INT, classes);
            MemorySegment offset = arena.allocate(JAVA_LONG, classes);
            MemorySegment cholOffset = arena.allocate(JAVA_LONG, classes);
            MemorySegment active = arena.allocate(JAVA_INT, Math.max(1, totalK));
            MemorySegment mean = arena.allocate(JAVA_DOUBLE, Math.max(1, totalK));
            MemorySegment chol = arena.allocate(JAVA_DOUBLE, Math.max(1, totalKK));
            long o = 0, co = 0;
            for (int c = 0; c < classes; c++) {
                offset.setAtIndex(JAVA_LONG, c, o);
                cholOffset.setAtIndex(JAVA_LONG, c, co);
                if (models[c] == null) {
                    count.setAtIndex(JAVA_INT, c, 0);
                    continue;
                }
                Whitening w = models[c].whitening();
                int k = w.activeDimension();
                count.setAtIndex(JAVA_INT, c, k);
                MemorySegment.copy(w.active(), 0, active, JAVA_INT, o * Integer.BYTES, k);
                MemorySegment.copy(w.activeMean(), 0, mean, JAVA_DOUBLE, o * Double.BYTES, k);
                MemorySegment.copy(w.cholesky(), 0, chol, JAVA_DOUBLE, co * Double.BYTES, k * k);
                o += k;
                co += (long) k * k;
            }
            MemorySegment s = arena.allocate(NativeLibrary.MDSA_MODELS);
            s.set(JAVA_INT, 0, classes);
            s.set(JAVA_INT, 4, dim);
            long p = NativeLibrary.MDSA_MODELS.byteOffset(MemoryLayout.PathElement.groupElement("active_count"));
            MemorySegment[] ptrs = {count, offset, active, mean, cholOffset, chol};
            for (int i = 0; i < ptrs.length; i++) s.set(ADDRESS, p + (long) i * ADDRESS.byteSize(), ptrs[i]);
            if (modelArena != null) modelArena.close();
            modelArena = arena;
            packedModels = s;
            packedArray = models;
            packedElements = models.clone();
            packedDim = dim;
            return s;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private boolean sameElements(MahalanobisModel[] models) {
        if (packedElements == null || packedElements.length != models.length) return false;
        for (int i = 0; i < models.length; i++) if (packedElements[i] != models[i]) return false;
        return true;
    }

    /** The feature dimension of the packed models (for diagnostics). */
    int packedDimension() {
        return packedDim;
    }

    private static RuntimeException rethrow(String function, Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new SegsaException("native " + function + " call failed: " + t, t);
    }

    /** A native buffer that grows (in its own shared arena) and is then reused. */
    private static final class Buffer {
        private Arena arena;
        private MemorySegment segment;

        MemorySegment ensure(long bytes) {
            long need = Math.max(bytes, 64);
            if (segment == null || segment.byteSize() < need) {
                if (arena != null) arena.close();
                arena = Arena.ofShared();
                segment = arena.allocate(need, 64);
            }
            return segment;
        }

        void close() {
            if (arena != null) arena.close();
            arena = null;
            segment = null;
        }
    }
}
