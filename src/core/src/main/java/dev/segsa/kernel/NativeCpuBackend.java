package dev.segsa.kernel;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.Cholesky;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;
import dev.segsa.samodel.Whitening;
import dev.segsa.nativelib.NativeBuffer;
import dev.segsa.nativelib.NativeLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
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
 *   <li>{@link #lsa}: {@code segsa_lsa_frame}, the same low-resolution trick against the KDE
 *       references: the references are whitened by the bandwidth factor once per
 *       {@code KdeModel[]} ({@code segsa_lsa_prepare_references}), then per frame one GEMM of the
 *       whitened touched cells by the whitened references, interpolation of the dot products
 *       and an online log-sum-exp per pixel, float64 (scipy {@code gaussian_kde.logpdf}
 *       semantics, as {@link KdeModel#lsa}).</li>
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
    private final NativeBuffer features = new NativeBuffer();
    private final NativeBuffer perPixel = new NativeBuffer();
    private final NativeBuffer map = new NativeBuffer();
    private final NativeBuffer classLongs = new NativeBuffer();
    private final NativeBuffer classDoubles = new NativeBuffer();
    private final NativeBuffer means = new NativeBuffer();
    private final NativeBuffer comoments = new NativeBuffer();
    private final NativeBuffer workspace = new NativeBuffer();
    private long workspaceKeyD = -1, workspaceKeyA = -1, workspaceKeyB = -1, workspaceBytes;
    private final NativeBuffer lsaWorkspace = new NativeBuffer();
    private long lsaKeyD = -1, lsaKeyA = -1, lsaKeyB = -1, lsaWorkspaceBytes;

    private KdeModel[] packedKdeArray;
    private KdeModel[] packedKdeElements;
    private Arena kdeArena;
    private MemorySegment packedKde;

    private MahalanobisModel[] packedArray;
    private MahalanobisModel[] packedElements;
    private Arena modelArena;
    private MemorySegment packedModels;
    private int packedDim;

    private MemorySegment[] packedMdsaArrays, packedKdeArrays;
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
        mdsa(f, mode, height, width, copyPerPixel(predicted), models, out);
    }

    /** Reads a native {@code predicted} segment in place (a heap one is copied to native memory first). */
    @Override
    public void mdsa(FeatureMap f, UpsampleMode mode, int height, int width, MemorySegment predicted,
                     MahalanobisModel[] models, FrameScores out) {
        checkOpen();
        Backend.checkPerPixel(predicted, height, width);
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
        MemorySegment pred = nativePerPixel(predicted);
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

    @Override
    public void lsa(FeatureMap f, UpsampleMode mode, int height, int width, int[] predicted,
                    KdeModel[] models, FrameScores out) {
        checkOpen();
        ReferenceBackend.checkSize(predicted, height, width);
        lsa(f, mode, height, width, copyPerPixel(predicted), models, out);
    }

    /** Reads a native {@code predicted} segment in place (a heap one is copied to native memory first). */
    @Override
    public void lsa(FeatureMap f, UpsampleMode mode, int height, int width, MemorySegment predicted,
                    KdeModel[] models, FrameScores out) {
        checkOpen();
        Backend.checkPerPixel(predicted, height, width);
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
        MemorySegment modelStruct = packKde(models, f.d());
        MemorySegment feat = featureSegment(f);
        MemorySegment pred = nativePerPixel(predicted);
        MemorySegment ws = lsaWorkspace(f, height, width, classes);
        MemorySegment px = classLongs.ensure((long) classes * Long.BYTES);
        MemorySegment sums = classDoubles.ensure((long) classes * Double.BYTES);
        MemorySegment mapSeg = outMap == null ? MemorySegment.NULL : map.ensure((long) pixels * Float.BYTES);
        int st;
        try {
            st = (int) Lsa.FRAME.invokeExact(feat, f.d(), f.h0(), f.w0(), height, width, mode.code(),
                    pred, classes, modelStruct, ws, lsaWorkspaceBytes, mapSeg, px, sums);
        } catch (Throwable t) {
            throw rethrow("segsa_lsa_frame", t);
        }
        NativeLibrary.check(st, "segsa_lsa_frame");
        long[] outPixels = out.pixels();
        double[] outSums = out.sums();
        for (int c = 0; c < classes; c++) {
            outPixels[c] += px.getAtIndex(JAVA_LONG, c);
            outSums[c] += sums.getAtIndex(JAVA_DOUBLE, c);
        }
        if (outMap != null) MemorySegment.copy(mapSeg, JAVA_FLOAT, 0, outMap, 0, pixels);
    }

    private MemorySegment lsaWorkspace(FeatureMap f, int height, int width, int classes) {
        long keyA = ((long) f.h0() << 32) | f.w0();
        long keyB = ((long) height << 32) | width;
        long keyD = ((long) f.d() << 32) | classes;
        if (keyA != lsaKeyA || keyB != lsaKeyB || keyD != lsaKeyD) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment o = a.allocate(JAVA_LONG);
                int st = (int) Lsa.WORKSPACE_BYTES.invokeExact(f.d(), f.h0(), f.w0(), height, width, classes, o);
                NativeLibrary.check(st, "segsa_lsa_workspace_bytes");
                lsaWorkspaceBytes = o.get(JAVA_LONG, 0);
            } catch (Throwable t) {
                throw rethrow("segsa_lsa_workspace_bytes", t);
            }
            lsaKeyA = keyA;
            lsaKeyB = keyB;
            lsaKeyD = keyD;
        }
        return lsaWorkspace.ensure(lsaWorkspaceBytes);
    }

    /**
     * Packs the KDE models into a segsa_lsa_models struct, once per array (and element identities):
     * centre = the mean of the references over the active features, references whitened natively,
     * log normaliser exactly as {@link KdeModel} (-log n - k/2 log 2 pi - sum log diag L).
     */
    private MemorySegment packKde(KdeModel[] models, int d) {
        if (models == packedKdeArray && sameKde(models)) return packedKde;
        int classes = models.length;
        int dim = -1;
        long totalK = 0, totalKK = 0, totalRefs = 0, totalKN = 0;
        for (int c = 0; c < classes; c++) {
            if (models[c] == null) continue;
            Whitening w = models[c].bandwidth();
            if (dim < 0) dim = w.dimension();
            else if (dim != w.dimension()) {
                throw new SegsaException("LSA models disagree on the feature dimension: " + dim + " and "
                        + w.dimension() + " (class " + c + ")");
            }
            long k = w.activeDimension();
            long n = models[c].referenceCount();
            totalK += k;
            totalKK += k * k;
            totalRefs += n;
            totalKN += k * n;
        }
        if (dim < 0) dim = d;
        Arena arena = Arena.ofShared();
        try {
            MemorySegment count = arena.allocate(JAVA_INT, classes);
            MemorySegment offset = arena.allocate(JAVA_LONG, classes);
            MemorySegment cholOffset = arena.allocate(JAVA_LONG, classes);
            MemorySegment refCount = arena.allocate(JAVA_INT, classes);
            MemorySegment refOffset = arena.allocate(JAVA_LONG, classes);
            MemorySegment logNorm = arena.allocate(JAVA_DOUBLE, classes);
            MemorySegment active = arena.allocate(JAVA_INT, Math.max(1, totalK));
            MemorySegment centre = arena.allocate(JAVA_DOUBLE, Math.max(1, totalK));
            MemorySegment chol = arena.allocate(JAVA_DOUBLE, Math.max(1, totalKK));
            MemorySegment refsTOffset = arena.allocate(JAVA_LONG, classes);
            MemorySegment refsT = arena.allocate(JAVA_DOUBLE, Math.max(1, totalKN));
            MemorySegment norm2 = arena.allocate(JAVA_DOUBLE, Math.max(1, totalRefs));
            long o = 0, co = 0, ro = 0, to = 0;
            for (int c = 0; c < classes; c++) {
                offset.setAtIndex(JAVA_LONG, c, o);
                cholOffset.setAtIndex(JAVA_LONG, c, co);
                refOffset.setAtIndex(JAVA_LONG, c, ro);
                refsTOffset.setAtIndex(JAVA_LONG, c, to);
                KdeModel m = models[c];
                if (m == null) {
                    count.setAtIndex(JAVA_INT, c, 0);
                    refCount.setAtIndex(JAVA_INT, c, 0);
                    continue;
                }
                Whitening w = m.bandwidth();
                int k = w.activeDimension();
                int n = m.referenceCount();
                int md = m.dimension();
                int[] act = w.active();
                double[] l = w.cholesky();
                double[] refs = m.references();
                double[] mu = new double[k];
                for (int j = 0; j < n; j++) for (int i = 0; i < k; i++) mu[i] += refs[j * md + act[i]];
                for (int i = 0; i < k; i++) mu[i] /= n;
                count.setAtIndex(JAVA_INT, c, k);
                refCount.setAtIndex(JAVA_INT, c, n);
                MemorySegment.copy(act, 0, active, JAVA_INT, o * Integer.BYTES, k);
                MemorySegment.copy(mu, 0, centre, JAVA_DOUBLE, o * Double.BYTES, k);
                MemorySegment.copy(l, 0, chol, JAVA_DOUBLE, co * Double.BYTES, k * k);
                logNorm.setAtIndex(JAVA_DOUBLE, c, -Math.log(n) - 0.5 * k * Math.log(2 * Math.PI)
                        - Cholesky.logDiagonalSum(l, k));
                try (Arena tmp = Arena.ofConfined()) {
                    MemorySegment r = tmp.allocate(JAVA_DOUBLE, (long) n * md);
                    MemorySegment.copy(refs, 0, r, JAVA_DOUBLE, 0, n * md);
                    int st = (int) Lsa.PREPARE.invokeExact(r, n, md, k, active.asSlice(o * Integer.BYTES),
                            centre.asSlice(o * Double.BYTES), chol.asSlice(co * Double.BYTES),
                            refsT.asSlice(to * Double.BYTES), norm2.asSlice(ro * Double.BYTES));
                    NativeLibrary.check(st, "segsa_lsa_prepare_references");
                } catch (RuntimeException e) {
                    throw e;
                } catch (Throwable t) {
                    throw rethrow("segsa_lsa_prepare_references", t);
                }
                o += k;
                co += (long) k * k;
                to += (long) k * n;
                ro += n;
            }
            MemorySegment s = arena.allocate(Lsa.MODELS);
            s.set(JAVA_INT, 0, classes);
            s.set(JAVA_INT, 4, dim);
            long p = Lsa.MODELS.byteOffset(MemoryLayout.PathElement.groupElement("active_count"));
            MemorySegment[] ptrs = {count, offset, active, centre, cholOffset, chol, refCount, refsTOffset, refsT, refOffset,
                    norm2, logNorm};
            for (int i = 0; i < ptrs.length; i++) s.set(ADDRESS, p + (long) i * ADDRESS.byteSize(), ptrs[i]);
            packedKdeArrays = ptrs;
            if (kdeArena != null) kdeArena.close();
            kdeArena = arena;
            packedKde = s;
            packedKdeArray = models;
            packedKdeElements = models.clone();
            return s;
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private boolean sameKde(KdeModel[] models) {
        if (packedKdeElements == null || packedKdeElements.length != models.length) return false;
        for (int i = 0; i < models.length; i++) if (packedKdeElements[i] != models[i]) return false;
        return true;
    }

    /** Downcall handles of the LSA kernels of libsegsa_cpu (native/segsa.h). */
    static final class Lsa {
        private Lsa() {}

        static final StructLayout MODELS = NativeLibrary.LSA_MODELS;

        private static final SymbolLookup LIB = NativeLibrary.cpu();

        /** int segsa_lsa_workspace_bytes(d, h0, w0, H, W, C, size_t* bytes). */
        static final MethodHandle WORKSPACE_BYTES = handle("segsa_lsa_workspace_bytes",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
        /** int segsa_lsa_prepare_references(refs, n, d, k, active, centre, chol, refs_t, ref_norm2). */
        static final MethodHandle PREPARE = handle("segsa_lsa_prepare_references",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS,
                        ADDRESS, ADDRESS));
        /** int segsa_lsa_frame(features, d, h0, w0, H, W, mode, predicted, C, models, ws, wsBytes, map, pixels, sums). */
        static final MethodHandle FRAME = handle("segsa_lsa_frame",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                        ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));

        private static MethodHandle handle(String name, FunctionDescriptor fd) {
            MemorySegment sym = LIB.find(name).orElseThrow(() -> new SegsaException(
                    "native library lacks symbol " + name + " (stale build? rebuild native/)",
                    NativeLibrary.ERR_INTERNAL, null));
            return Linker.nativeLinker().downcallHandle(sym, fd);
        }
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
        lsaWorkspace.close();
        if (kdeArena != null) kdeArena.close();
        kdeArena = null;
        packedKde = null;
        packedKdeArray = null;
        packedKdeElements = null;
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

    private MemorySegment nativePerPixel(MemorySegment values) {
        if (values.isNative()) return values;
        MemorySegment seg = perPixel.ensure(values.byteSize());
        MemorySegment.copy(values, 0, seg, 0, values.byteSize());
        return seg.asSlice(0, values.byteSize());
    }

    private MemorySegment copyPerPixel(int[] values) {
        long bytes = (long) values.length * Integer.BYTES;
        MemorySegment seg = perPixel.ensure(bytes);
        MemorySegment.copy(values, 0, seg, JAVA_INT, 0, values.length);
        return seg.asSlice(0, bytes);
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
            MemorySegment cholInv = arena.allocate(JAVA_DOUBLE, Math.max(1, totalKK));
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
                MemorySegment.copy(w.inverseCholesky(), 0, cholInv, JAVA_DOUBLE, co * Double.BYTES, k * k);
                o += k;
                co += (long) k * k;
            }
            MemorySegment s = arena.allocate(NativeLibrary.MDSA_MODELS);
            s.set(JAVA_INT, 0, classes);
            s.set(JAVA_INT, 4, dim);
            long p = NativeLibrary.MDSA_MODELS.byteOffset(MemoryLayout.PathElement.groupElement("active_count"));
            MemorySegment[] ptrs = {count, offset, active, mean, cholOffset, chol, cholInv};
            for (int i = 0; i < ptrs.length; i++) s.set(ADDRESS, p + (long) i * ADDRESS.byteSize(), ptrs[i]);
            packedMdsaArrays = ptrs;
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

    /**
     * Models packed as the C ABI's struct: the host struct, the host arrays its pointer fields point
     * to (in field order, from the field at {@code pointersOffset}), valid until the next packing of
     * another model array or {@link #close()}. For the device backends, which copy the arrays to the
     * device and point a copy of the struct at them.
     */
    record PackedModels(MemorySegment struct, MemorySegment[] arrays, long pointersOffset) {}

    PackedModels packedMdsa(MahalanobisModel[] models, int d) {
        checkOpen();
        MemorySegment s = packModels(models, d);
        return new PackedModels(s, packedMdsaArrays,
                NativeLibrary.MDSA_MODELS.byteOffset(MemoryLayout.PathElement.groupElement("active_count")));
    }

    PackedModels packedLsa(KdeModel[] models, int d) {
        checkOpen();
        MemorySegment s = packKde(models, d);
        return new PackedModels(s, packedKdeArrays, Lsa.MODELS.byteOffset(MemoryLayout.PathElement.groupElement("active_count")));
    }

    /** The feature dimension of the packed models (for diagnostics). */
    int packedDimension() {
        return packedDim;
    }

    private static RuntimeException rethrow(String function, Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new SegsaException(SegsaException.Kind.NATIVE, "native " + function + " call failed: " + t, t);
    }

}
