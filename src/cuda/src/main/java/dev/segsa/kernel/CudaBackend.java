package dev.segsa.kernel;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import dev.segsa.model.LibTorch;
import dev.segsa.nativelib.NativeLibrary;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA backend: {@code libsegsa_cuda}'s kernels on the device memory of LibTorch CUDA tensors,
 * through Panama, enqueued on LibTorch's current CUDA stream ({@code torch_cuda.getCurrentCUDAStream()},
 * the stream the model ran on, so the kernels follow it without a synchronisation). The SA models
 * are packed by {@link NativeCpuBackend} (the same C structs) and copied to the device once per
 * model array; the workspace and the per-class outputs are device tensors kept between frames.
 * What comes back per call: the per-class counts and sums (and the per-pixel map when the caller's
 * {@link FrameScores} has one), read after the one synchronisation of the call.
 *
 * <p>The host methods of {@link Backend} copy the frame to the device first: they exist for the
 * differential tests against {@link ReferenceBackend}; the front door uses the device methods.
 * LSA and the fit accumulation loop over the frames of a batch (one call of the frame kernel per
 * frame, all on the stream); MDSA is batched in one launch per kernel.
 *
 * <p>Construction fails with a {@link SegsaException} naming the reason: LibTorch without CUDA
 * (the CPU build of the preset is on the classpath), no device, or libsegsa_cuda not built.
 * Not thread-safe: one per thread, like every backend.
 */
public final class CudaBackend implements DeviceBackend {
    private final int deviceIndex;
    private final Device device;
    private final String description;
    private final NativeCpuBackend packer = new NativeCpuBackend();

    private MahalanobisModel[] mdsaFor;
    private MahalanobisModel[] mdsaForElements;
    private DeviceModels mdsaDevice;
    private KdeModel[] lsaFor;
    private KdeModel[] lsaForElements;
    private DeviceModels lsaDevice;
    private int maxReferences;

    private Tensor workspace;
    private long workspaceBytes;
    private Tensor classPixels, classSums, map, hostFeatures, hostClasses, means, comoments, counts;
    private boolean closed;

    /** The backend on CUDA device 0 (or the device of {@code segsa.cuda.device}). */
    public CudaBackend() {
        this(Integer.getInteger("segsa.cuda.device", 0));
    }

    public CudaBackend(int deviceIndex) {
        LibTorch.ensureLoaded();
        if (!LibTorch.hasCuda()) {
            String why = "LibTorch on the classpath is the CPU build (" + LibTorch.variant()
                    + "); build segsa with mvn -Pcuda for org.bytedeco:pytorch linux-x86_64-gpu";
            throw new SegsaException("backend cuda is unavailable: " + why, NativeLibrary.ERR_NO_DEVICE, null);
        }
        boolean available;
        int devices;
        try {
            available = torch_cuda.is_available();
            devices = torch_cuda.device_count();
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            throw new SegsaException("backend cuda is unavailable: LibTorch's CUDA runtime failed to start (driver too old, or no CUDA "
                    + "13.1 / cuDNN 9.19 libraries: install them or build with -Pcuda,cuda-redist): " + e.getMessage(), e);
        }
        if (!available || devices < 1) {
            throw new SegsaException("backend cuda is unavailable: LibTorch sees no CUDA device (" + NativeLibrary.Cuda.lastError()
                    + ")", NativeLibrary.ERR_NO_DEVICE, null);
        }
        if (deviceIndex < 0 || deviceIndex >= devices) {
            throw new SegsaException("backend cuda: device " + deviceIndex + " does not exist (" + devices + " visible)");
        }
        this.deviceIndex = deviceIndex;
        this.device = new Device("cuda:" + deviceIndex);
        this.description = "cuda:" + deviceIndex + " (" + devices + " visible), libsegsa_cuda " + NativeLibrary.cudaPath();
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String torchDevice() {
        return "cuda:" + deviceIndex;
    }

    @Override
    public String describe() {
        return description + ", stream 0x" + Long.toHexString(stream());
    }

    /** LibTorch's current CUDA stream on this device (a cudaStream_t), the one the kernels are enqueued on. */
    long stream() {
        return torch_cuda.getCurrentCUDAStream((byte) deviceIndex).stream().address();
    }

    // ------------------------------------------------------------------ device methods (the front door)

    @Override
    public void mdsaDevice(Frames f, MahalanobisModel[] models, FrameScores[] out) {
        checkOpen();
        checkOut(f, models.length, out);
        int classes = models.length;
        DeviceModels m = mdsaModels(models, f.d());
        long bytes = workspaceQuery(NativeLibrary.Cuda.MDSA_BATCH_WORKSPACE_BYTES, "segsa_cuda_mdsa_batch_workspace_bytes",
                f.n(), f.d(), f.h0(), f.w0(), f.height(), f.width(), classes);
        long ws = workspace(bytes);
        long px = outputs(f.n(), classes);
        boolean withMap = out[0].map() != null;
        long mapPtr = withMap ? map(f.n(), (long) f.height() * f.width()) : 0;
        int st;
        try {
            st = (int) NativeLibrary.Cuda.MDSA_BATCH.invokeExact(seg(f.features()), f.n(), f.d(), f.h0(), f.w0(), f.height(),
                    f.width(), f.mode().code(), seg(f.classes()), classes, m.struct(), seg(ws), bytes, seg(mapPtr), seg(px),
                    seg(classSums.data_ptr().address()), seg(stream()));
        } catch (Throwable t) {
            throw rethrow("segsa_cuda_mdsa_batch", t);
        }
        NativeLibrary.checkCuda(st, "segsa_cuda_mdsa_batch");
        readBack(f, classes, out, withMap);
    }

    @Override
    public void lsaDevice(Frames f, KdeModel[] models, FrameScores[] out) {
        checkOpen();
        checkOut(f, models.length, out);
        int classes = models.length;
        DeviceModels m = lsaModels(models, f.d());
        long bytes = workspaceQuery(NativeLibrary.Cuda.LSA_WORKSPACE_BYTES, "segsa_cuda_lsa_workspace_bytes",
                -1, f.d(), f.h0(), f.w0(), f.height(), f.width(), classes);
        long ws = workspace(bytes);
        long px = outputs(f.n(), classes);
        boolean withMap = out[0].map() != null;
        long pixels = (long) f.height() * f.width();
        long mapPtr = withMap ? map(f.n(), pixels) : 0;
        long sums = classSums.data_ptr().address();
        long stream = stream();
        for (int i = 0; i < f.n(); i++) {
            int st;
            try {
                st = (int) NativeLibrary.Cuda.LSA_FRAME.invokeExact(seg(f.features() + (long) i * f.d() * f.h0() * f.w0() * Float.BYTES),
                        f.d(), f.h0(), f.w0(), f.height(), f.width(), f.mode().code(), seg(f.classes() + i * pixels * Integer.BYTES),
                        classes, m.struct(), maxReferences, seg(ws), bytes, seg(withMap ? mapPtr + i * pixels * Float.BYTES : 0),
                        seg(px + (long) i * classes * Long.BYTES), seg(sums + (long) i * classes * Double.BYTES), seg(stream));
            } catch (Throwable t) {
                throw rethrow("segsa_cuda_lsa_frame", t);
            }
            NativeLibrary.checkCuda(st, "segsa_cuda_lsa_frame");
        }
        readBack(f, classes, out, withMap);
    }

    @Override
    public void accumulateDevice(Frames f, ClassStatistics[] stats) {
        checkOpen();
        int classes = stats.length;
        int d = f.d();
        for (int c = 0; c < classes; c++) {
            if (stats[c] == null || stats[c].dimension() != d) {
                throw new IllegalArgumentException("stats[" + c + "] is null or not of dimension d=" + d);
            }
        }
        long bytes = workspaceQuery(NativeLibrary.Cuda.ACCUMULATE_WORKSPACE_BYTES, "segsa_cuda_accumulate_workspace_bytes",
                -1, d, f.h0(), f.w0(), f.height(), f.width(), classes);
        long ws = workspace(bytes);
        counts = ensure(counts, (long) classes, torch.ScalarType.Long);
        means = ensure(means, (long) classes * d, torch.ScalarType.Double);
        comoments = ensure(comoments, (long) classes * d * d, torch.ScalarType.Double);
        long pixels = (long) f.height() * f.width();
        long stream = stream();
        double[] m = new double[d];
        double[] cm = new double[d * d];
        for (int i = 0; i < f.n(); i++) {
            int st;
            try {
                st = (int) NativeLibrary.Cuda.ACCUMULATE_FRAME.invokeExact(seg(f.features() + (long) i * d * f.h0() * f.w0() * Float.BYTES),
                        d, f.h0(), f.w0(), f.height(), f.width(), f.mode().code(), seg(f.classes() + i * pixels * Integer.BYTES),
                        classes, seg(ws), bytes, seg(counts.data_ptr().address()), seg(means.data_ptr().address()),
                        seg(comoments.data_ptr().address()), seg(stream));
            } catch (Throwable t) {
                throw rethrow("segsa_cuda_accumulate_frame", t);
            }
            NativeLibrary.checkCuda(st, "segsa_cuda_accumulate_frame");
            // one synchronisation per frame: the device statistics are merged on the host (Chan), in float64
            long[] n = longs(counts.cpu(), classes);
            double[] mh = doubles(means.cpu(), classes * d);
            double[] ch = doubles(comoments.cpu(), classes * d * d);
            for (int c = 0; c < classes; c++) {
                if (n[c] == 0) continue;
                System.arraycopy(mh, c * d, m, 0, d);
                System.arraycopy(ch, c * d * d, cm, 0, d * d);
                stats[c].merge(ClassStatistics.of(d, n[c], m, cm));
            }
        }
    }

    // ------------------------------------------------------------------ host methods (differential tests)

    @Override
    public void accumulate(FeatureMap f, UpsampleMode mode, int height, int width, int[] labels, ClassStatistics[] stats) {
        ReferenceBackend.checkSize(labels, height, width);
        if (stats.length == 0) return;
        accumulateDevice(upload(f, mode, height, width, labels), stats);
    }

    @Override
    public void mdsa(FeatureMap f, UpsampleMode mode, int height, int width, int[] predicted, MahalanobisModel[] models,
                     FrameScores out) {
        ReferenceBackend.checkSize(predicted, height, width);
        if (models.length == 0) return;
        mdsaDevice(upload(f, mode, height, width, predicted), models, new FrameScores[] {out});
    }

    @Override
    public void lsa(FeatureMap f, UpsampleMode mode, int height, int width, int[] predicted, KdeModel[] models,
                    FrameScores out) {
        ReferenceBackend.checkSize(predicted, height, width);
        if (models.length == 0) return;
        lsaDevice(upload(f, mode, height, width, predicted), models, new FrameScores[] {out});
    }

    /** Copies a host frame to device tensors kept by this backend (host methods only). */
    private Frames upload(FeatureMap f, UpsampleMode mode, int height, int width, int[] classes) {
        long nf = (long) f.d() * f.h0() * f.w0();
        Tensor hf = torch.from_blob(pointer(f.data(), nf * Float.BYTES), new long[] {nf},
                new TensorOptions(torch.ScalarType.Float));
        hostFeatures = hf.to(device, torch.ScalarType.Float);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment c = a.allocateFrom(JAVA_INT, classes);
            Tensor hc = torch.from_blob(pointer(c, c.byteSize()), new long[] {classes.length}, new TensorOptions(torch.ScalarType.Int));
            hostClasses = hc.to(device, torch.ScalarType.Int); // a copy: the arena may close
        }
        return new Frames(hostFeatures.data_ptr().address(), hostClasses.data_ptr().address(), 1, f.d(), f.h0(), f.w0(),
                height, width, mode);
    }

    // ------------------------------------------------------------------ models on the device

    /** A segsa_*_models struct in host memory whose array pointers are device addresses of {@link #arrays}. */
    private record DeviceModels(Arena arena, MemorySegment struct, List<Tensor> arrays) {
        void close() {
            arena.close();
            for (Tensor t : arrays) t.close();
        }
    }

    private DeviceModels mdsaModels(MahalanobisModel[] models, int d) {
        if (models == mdsaFor && Arrays.equals(models, mdsaForElements) && mdsaDevice != null) return mdsaDevice;
        DeviceModels dm = toDevice(packer.packedMdsa(models, d), NativeLibrary.MDSA_MODELS.byteSize());
        if (mdsaDevice != null) mdsaDevice.close();
        mdsaDevice = dm;
        mdsaFor = models;
        mdsaForElements = models.clone();
        return dm;
    }

    private DeviceModels lsaModels(KdeModel[] models, int d) {
        if (models == lsaFor && Arrays.equals(models, lsaForElements) && lsaDevice != null) return lsaDevice;
        DeviceModels dm = toDevice(packer.packedLsa(models, d), NativeLibrary.LSA_MODELS.byteSize());
        int max = 1;
        for (KdeModel m : models) if (m != null) max = Math.max(max, m.referenceCount());
        if (lsaDevice != null) lsaDevice.close();
        lsaDevice = dm;
        lsaFor = models;
        lsaForElements = models.clone();
        maxReferences = max;
        return dm;
    }

    /** Copies each host array of the packed struct to a device tensor and points a host copy of the struct at them. */
    private DeviceModels toDevice(NativeCpuBackend.PackedModels packed, long structBytes) {
        Arena arena = Arena.ofShared();
        List<Tensor> arrays = new ArrayList<>();
        try {
            MemorySegment s = arena.allocate(structBytes, 8);
            MemorySegment.copy(packed.struct(), 0, s, 0, structBytes);
            for (int i = 0; i < packed.arrays().length; i++) {
                MemorySegment host = packed.arrays()[i];
                Tensor h = torch.from_blob(pointer(host, host.byteSize()), new long[] {host.byteSize()},
                        new TensorOptions(torch.ScalarType.Byte));
                Tensor dev = h.to(device, torch.ScalarType.Byte);
                arrays.add(dev);
                s.set(ADDRESS, packed.pointersOffset() + (long) i * ADDRESS.byteSize(), MemorySegment.ofAddress(dev.data_ptr().address()));
            }
            return new DeviceModels(arena, s, arrays);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------ device buffers

    private long workspace(long bytes) {
        if (workspace == null || workspaceBytes < bytes) {
            if (workspace != null) workspace.close();
            workspace = deviceTensor(Math.max(bytes, 256), torch.ScalarType.Byte);
            workspaceBytes = Math.max(bytes, 256);
        }
        return workspace.data_ptr().address();
    }

    /** Per-class outputs [n, C]: returns the counts' device address (the sums are in {@link #classSums}). */
    private long outputs(int n, int classes) {
        classPixels = ensure(classPixels, (long) n * classes, torch.ScalarType.Long);
        classSums = ensure(classSums, (long) n * classes, torch.ScalarType.Double);
        return classPixels.data_ptr().address();
    }

    private long map(int n, long pixels) {
        map = ensure(map, n * pixels, torch.ScalarType.Float);
        return map.data_ptr().address();
    }

    private Tensor ensure(Tensor t, long elements, torch.ScalarType type) {
        if (t != null && t.numel() >= elements) return t;
        if (t != null) t.close();
        return deviceTensor(Math.max(1, elements), type);
    }

    private Tensor deviceTensor(long elements, torch.ScalarType type) {
        return torch.empty(new long[] {elements}, new TensorOptions(type).device(new DeviceOptional(device)), null);
    }

    /** The one synchronisation: .cpu() of the per-class outputs waits for the stream. */
    private void readBack(Frames f, int classes, FrameScores[] out, boolean withMap) {
        int n = f.n();
        long[] px = longs(classPixels.cpu(), n * classes);
        double[] sums = doubles(classSums.cpu(), n * classes);
        float[] maps = null;
        int pixels = f.height() * f.width();
        if (withMap) {
            Tensor h = map.cpu();
            maps = new float[n * pixels];
            MemorySegment.copy(MemorySegment.ofAddress(h.data_ptr().address()).reinterpret((long) n * pixels * Float.BYTES),
                    JAVA_FLOAT, 0, maps, 0, n * pixels);
        }
        for (int i = 0; i < n; i++) {
            long[] op = out[i].pixels();
            double[] os = out[i].sums();
            for (int c = 0; c < classes; c++) {
                op[c] += px[i * classes + c];
                os[c] += sums[i * classes + c];
            }
            if (maps != null && out[i].map() != null) System.arraycopy(maps, i * pixels, out[i].map(), 0, pixels);
        }
    }

    private static long[] longs(Tensor host, int n) {
        long[] v = new long[n];
        MemorySegment.copy(MemorySegment.ofAddress(host.data_ptr().address()).reinterpret((long) n * Long.BYTES), JAVA_LONG, 0, v, 0, n);
        return v;
    }

    private static double[] doubles(Tensor host, int n) {
        double[] v = new double[n];
        MemorySegment.copy(MemorySegment.ofAddress(host.data_ptr().address()).reinterpret((long) n * Double.BYTES), JAVA_DOUBLE, 0, v, 0, n);
        return v;
    }

    // ------------------------------------------------------------------ helpers

    private static void checkOut(Frames f, int classes, FrameScores[] out) {
        if (out.length != f.n()) throw new IllegalArgumentException(f.n() + " frames but " + out.length + " FrameScores");
        for (FrameScores s : out) {
            if (s.classes() < classes) throw new IllegalArgumentException("FrameScores has " + s.classes() + " classes, models " + classes);
        }
        boolean map = out[0].map() != null;
        for (FrameScores s : out) {
            if ((s.map() != null) != map) throw new IllegalArgumentException("all FrameScores of a batch must have a map, or none");
            if (s.map() != null && s.map().length < (long) f.height() * f.width()) {
                throw new IllegalArgumentException("FrameScores map holds " + s.map().length + " pixels, the frame has "
                        + (long) f.height() * f.width());
            }
        }
    }

    private static long workspaceQuery(MethodHandle h, String name, int n, int d, int h0, int w0, int height, int width, int classes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            int st = n < 0 ? (int) h.invokeExact(d, h0, w0, height, width, classes, out)
                    : (int) h.invokeExact(n, d, h0, w0, height, width, classes, out);
            NativeLibrary.checkCuda(st, name);
            return out.get(JAVA_LONG, 0);
        } catch (SegsaException e) {
            throw e;
        } catch (Throwable t) {
            throw new SegsaException(name + ": " + t, t);
        }
    }

    private static MemorySegment seg(long address) {
        return address == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(address);
    }

    private static Pointer pointer(MemorySegment s, long bytes) {
        return new BytePointer(s.reinterpret(bytes).asByteBuffer());
    }

    private static RuntimeException rethrow(String function, Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new SegsaException("native " + function + " call failed: " + t, t);
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("cuda backend is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (mdsaDevice != null) mdsaDevice.close();
        if (lsaDevice != null) lsaDevice.close();
        for (Tensor t : new Tensor[] {workspace, classPixels, classSums, map, hostFeatures, hostClasses, means, comoments, counts}) {
            if (t != null) t.close();
        }
        packer.close();
    }
}
