package dev.segsa.model;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FeatureMap;
import dev.segsa.features.UpsampleMode;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.GenericDict;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Tuple;
import org.bytedeco.pytorch.global.torch;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A TorchScript segmentation model that follows the segsa contract: {@code forward(x)} takes a
 * float32 batch [N,3,H,W] and returns {@code (features [N,d,h0,w0], logits [N,C,h0,w0] or
 * [N,C,H,W])}, as a tuple or as a dict with keys "features" and "logits". Runs on the CPU.
 * Not thread-safe. {@link #infer} must run inside a {@link PointerScope} that the caller closes
 * once it is done with the returned feature map.
 */
public final class SegmentationModel implements AutoCloseable {
    private final Path path;
    private final JitModule module;
    private final UpsampleMode upsample;
    private FloatPointer input;
    private long inputCapacity;
    private MemorySegment inputSegment;
    /** The fused pass over the logits of {@link #infer}; owns the predicted-class buffer it hands out. */
    private LogitsPass logitsPass;
    /** Nanoseconds of the last forward alone (module.forward and the contract checks). */
    private long lastForwardNanos;
    /** The frozen module ({@link #optimizeForInference}); used once {@link #optimizedChecked}. */
    private JitModule optimized;
    private boolean optimizedChecked;
    private String optimizationReport;
    private boolean closed;
    /** The LibTorch device the module runs on; null for the CPU. */
    private Device device;
    private String deviceName = "cpu";

    private SegmentationModel(Path path, JitModule module, UpsampleMode upsample) {
        this.path = path;
        this.module = module;
        this.upsample = upsample;
    }

    /** Loads and inspects a model ({@link ModelInspection}); refuses one that calls file, process or network operators. */
    public static SegmentationModel load(Path path, UpsampleMode upsample) {
        return load(path, upsample, false);
    }

    /**
     * @param trusted skip {@link ModelInspection} (the caller vouches for the model's code)
     * @throws SegsaException of kind {@link SegsaException.Kind#MODEL} (missing, not TorchScript, refused by the
     *                        inspection) or {@link SegsaException.Kind#NATIVE} (LibTorch does not load)
     */
    public static SegmentationModel load(Path path, UpsampleMode upsample, boolean trusted) {
        try {
            return loadModel(path, upsample, trusted);
        } catch (SegsaException e) {
            throw e.withKind(SegsaException.Kind.MODEL);
        }
    }

    private static SegmentationModel loadModel(Path path, UpsampleMode upsample, boolean trusted) {
        if (!Files.isRegularFile(path)) throw new SegsaException(path + ": model file not found");
        LibTorch.ensureLoaded();
        JitModule m;
        try {
            m = torch.load(path.toAbsolutePath().toString());
        } catch (RuntimeException e) {
            throw new SegsaException(path + ": not a loadable TorchScript model (truncated or corrupt?): "
                    + firstLine(e.getMessage()), e);
        }
        if (!trusted) {
            try {
                ModelInspection.check(m, path);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
        }
        m.eval();
        return new SegmentationModel(path, m, upsample);
    }

    public Path path() {
        return path;
    }

    /**
     * The tolerance of {@link #optimizeForInference}: the optimised module's features and logits
     * may differ from the original's by at most this times max(1, the largest absolute output).
     */
    public static final double OPTIMIZE_TOLERANCE = 1e-4;

    /** The option of {@link #optimizeForInference} as messages name it: the builder method, then the command line's flag. */
    static final String OPTIMIZE_OPTION = "Segsa.Builder.optimizeModel(true) (segsa: --optimize-model)";

    /**
     * Freezes the module ({@code torch::jit::freeze}: parameters and attributes inlined as
     * constants, conv-BN folding and the other numerics-preserving graph passes). The frozen
     * module is used only after the first frame has been run through both and their features and
     * logits agree within {@link #OPTIMIZE_TOLERANCE}; otherwise that frame fails with a
     * {@link SegsaException} naming the difference. Never changes the model's numerics silently:
     * {@link #optimizationReport()} says what was measured. LibTorch's further
     * {@code optimize_for_inference} (oneDNN tensor layouts) is not run: on an AMD EPYC (AVX-512)
     * machine it crashed the JVM in oneDNN's sum primitive on the first residual add
     * (SIGSEGV in {@code simple_sum_t::pd_t::init}, 2026-12-04), a crash no check can catch.
     */
    public void optimizeForInference() {
        if (closed) throw new IllegalStateException("model is closed");
        if (optimized != null) return;
        try {
            optimized = torch.freeze(module);
        } catch (RuntimeException e) {
            throw new SegsaException(SegsaException.Kind.MODEL, path + ": " + OPTIMIZE_OPTION + ": LibTorch cannot freeze this model: "
                    + firstLine(e.getMessage()), e);
        }
    }

    /** What the check of {@link #optimizeForInference} found on the first frame; null before it ran. */
    public String optimizationReport() {
        return optimizationReport;
    }

    /**
     * Moves the module to a LibTorch device ("cuda:0"): from then on use {@link #inferOnDevice};
     * {@link #infer} refuses to run.
     */
    public void moveTo(String deviceName) {
        if (closed) throw new IllegalStateException("model is closed");
        Device d;
        try {
            d = new Device(deviceName);
            module.to(d);
        } catch (RuntimeException e) {
            throw new SegsaException(SegsaException.Kind.MODEL, path + ": cannot move the model to " + deviceName + ": "
                    + firstLine(e.getMessage()), e);
        }
        device = d;
        this.deviceName = deviceName;
    }

    /** The device the module runs on ("cpu" unless {@link #moveTo} was called). */
    public String deviceName() {
        return deviceName;
    }

    /**
     * One frame's outputs left on the model's device: features float32 [1, d, h0, w0] and the
     * predicted classes int32 [H, W], contiguous, and the non-finite counts as device scalars
     * (read them after the SA kernels, at the one synchronisation). Valid while the caller's
     * {@link PointerScope} is open.
     */
    public record DeviceOutput(Tensor features, Tensor predicted, int d, int h0, int w0, int classes, int height, int width,
                               Tensor nonFiniteFeatures, Tensor nonFiniteLogits, FrameOutput.SoftmaxUncertainty uncertainty) {
        public long featuresAddress() {
            return features.data_ptr().address();
        }

        public long predictedAddress() {
            return predicted.data_ptr().address();
        }
    }

    /**
     * Runs the model on the frame in {@link #input(int, int)} on its device ({@link #moveTo}); the
     * frame is copied to the device once, and the outputs stay there. Must run inside a
     * {@link PointerScope}.
     */
    public DeviceOutput inferOnDevice(int height, int width, String what, boolean withUncertainty) {
        checkReady(height, width, true);
        try (NoGradGuard noGrad = new NoGradGuard()) {
            long t0 = System.nanoTime();
            Tensor[] fl = forward(height, width, what, true);
            lastForwardNanos = System.nanoTime() - t0;
            Tensor features = fl[0], logits = fl[1];
            long[] fs = shape(features);
            int classes = (int) shape(logits)[1];
            Tensor badLogits = logits.isfinite().logical_not().sum();
            Tensor badFeatures = features.isfinite().logical_not().sum();
            Tensor argmax = logits.argmax(new LongOptional(1), false).to(torch.ScalarType.Int).contiguous();
            FrameOutput.SoftmaxUncertainty uncertainty = withUncertainty
                    ? softmaxUncertainty(logits.cpu(), argmax.cpu(), classes, height, width) : null;
            return new DeviceOutput(features, argmax, (int) fs[1], (int) fs[2], (int) fs[3], classes, height, width,
                    badFeatures, badLogits, uncertainty);
        }
    }

    /** Nanoseconds of the last {@link #infer}'s or {@link #inferOnDevice}'s forward alone (module.forward and the contract checks). */
    public long lastForwardNanos() {
        return lastForwardNanos;
    }

    /**
     * Runs {@code module.forward} on the frame in {@link #input(int, int)} and nothing after it (no
     * contract check, no pass over the outputs): the bare-forward reference that {@code segsa bench}
     * measures segsa's overhead against. Must run inside a {@link PointerScope}.
     */
    public void forwardOnly(int height, int width) {
        checkReady(height, width, device != null);
        try (NoGradGuard noGrad = new NoGradGuard()) {
            Tensor x = torch.from_blob(input, 1, 3, height, width);
            if (device != null) x = x.to(device, torch.ScalarType.Float);
            module.forward(new IValueVector(new IValue(x)));
        }
    }

    /**
     * Runs the model on one normalised frame, channel-major float32 [3, height, width].
     *
     * @param what names the frame in error messages
     */
    public FrameOutput infer(float[] chw, int height, int width, String what) {
        return infer(chw, height, width, what, false);
    }

    /**
     * Runs the model on one normalised frame, channel-major float32 [3, height, width].
     *
     * @param what            names the frame in error messages
     * @param withUncertainty also compute the per-pixel softmax uncertainty of the upsampled logits
     *                        ({@link FrameOutput.SoftmaxUncertainty}) with LibTorch ops
     */
    public FrameOutput infer(float[] chw, int height, int width, String what, boolean withUncertainty) {
        return infer(chw, height, width, what, withUncertainty, false);
    }

    /**
     * Runs the model on one normalised frame, channel-major float32 [3, height, width].
     *
     * @param what            names the frame in error messages
     * @param withUncertainty also compute the per-class means of the softmax uncertainty
     * @param maps            also give the per-pixel entropy, margin and probability maps
     *                        ({@link FrameOutput#entropyMap()}, {@link FrameOutput#marginMap()},
     *                        {@link FrameOutput#probabilities()})
     */
    public FrameOutput infer(float[] chw, int height, int width, String what, boolean withUncertainty, boolean maps) {
        long n = 3L * height * width;
        if (chw.length < n) throw new IllegalArgumentException("input holds " + chw.length + " floats, need " + n);
        MemorySegment.copy(chw, 0, input(height, width), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, (int) n);
        return infer(height, width, what, withUncertainty, maps);
    }

    /**
     * The model's input buffer for one frame of {@code height x width}, float32 [3, height, width]
     * in native memory: fill it (e.g. with {@link dev.segsa.features.FrameNormalizer}), then call
     * {@link #infer(int, int, String, boolean)}. Reused while frames keep their size; valid until
     * the next call of this method or {@link #close()}.
     */
    public MemorySegment input(int height, int width) {
        if (closed) throw new IllegalStateException("model is closed");
        long n = 3L * height * width;
        if (input == null || inputCapacity < n) {
            if (input != null) input.releaseReference();
            input = new FloatPointer(n);
            input.retainReference(); // owned by this model, outlives per-frame scopes
            inputCapacity = n;
            inputSegment = MemorySegment.ofAddress(input.address()).reinterpret(4L * n);
        }
        return inputSegment.byteSize() == 4L * n ? inputSegment : inputSegment.asSlice(0, 4L * n);
    }

    /**
     * Runs the model on the frame in {@link #input(int, int)}. Must run inside a
     * {@link PointerScope} that the caller closes once it is done with the returned feature map.
     */
    public FrameOutput infer(int height, int width, String what, boolean withUncertainty) {
        return infer(height, width, what, withUncertainty, false);
    }

    /**
     * Runs the model on the frame in {@link #input(int, int)}, as {@link #infer(int, int, String, boolean)};
     * with {@code maps} the output also holds the per-pixel softmax maps (entropy, margin,
     * probabilities; {@link FrameOutput}), computed in the same native pass into buffers the model
     * reuses for every frame (valid like {@link FrameOutput#predicted()}: until the next
     * {@code infer} or the close).
     */
    public FrameOutput infer(int height, int width, String what, boolean withUncertainty, boolean maps) {
        return infer(height, width, what, withUncertainty, maps, maps);
    }

    /** As above; {@code withProbabilities} false leaves the probability map out ({@link FrameOutput#probabilities()} null). */
    public FrameOutput infer(int height, int width, String what, boolean withUncertainty, boolean maps, boolean withProbabilities) {
        checkReady(height, width, false);
        try (NoGradGuard noGrad = new NoGradGuard()) {
            long t0 = System.nanoTime();
            Tensor[] fl = forward(height, width, what, false);
            lastForwardNanos = System.nanoTime() - t0;
            Tensor features = fl[0], logits = fl[1];
            long[] fs = shape(features);
            long[] ls = shape(logits);
            MemorySegment fseg = MemorySegment.ofAddress(features.data_ptr().address()).reinterpret(features.nbytes());
            MemorySegment lseg = MemorySegment.ofAddress(logits.data_ptr().address()).reinterpret(logits.nbytes());
            if (logitsPass == null) logitsPass = new LogitsPass();
            // one native pass: argmax (upsampling low-resolution logits on the fly), the non-finite
            // counts of logits and features, pixels per class, the softmax uncertainty when asked
            LogitsPass.Result r = logitsPass.run(lseg, (int) ls[1], (int) ls[2], (int) ls[3], height, width, upsample, fseg,
                    withUncertainty, maps, withProbabilities);
            FeatureMap map = new FeatureMap(fseg, (int) fs[1], (int) fs[2], (int) fs[3]);
            FrameOutput.SoftmaxUncertainty uncertainty = withUncertainty ? FrameOutput.SoftmaxUncertainty.of(r.uncertaintyMeans()) : null;
            return new FrameOutput(map, (int) ls[1], height, width, r.predicted(), r.classPixels(), uncertainty, r.nonFiniteLogits(),
                    r.nonFiniteFeatures(), r.entropyMap(), r.marginMap(), r.probabilities());
        }
    }

    /** The model is open, on the host or on a device as the caller expects, and its input holds a frame of this size. */
    private void checkReady(int height, int width, boolean onDevice) {
        if (closed) throw new IllegalStateException("model is closed");
        if (onDevice && device == null) throw new IllegalStateException("inferOnDevice needs a device: call moveTo first");
        if (!onDevice && device != null) throw new IllegalStateException("the model is on " + deviceName() + ": use inferOnDevice");
        if (input == null || inputCapacity < 3L * height * width) {
            throw new IllegalStateException("input(" + height + ", " + width + ") was not filled");
        }
    }

    /**
     * Runs forward on the frame in the input buffer (on the model's device) and checks the contract:
     * returns {features float32 contiguous [1,d,h0,w0], logits float32 contiguous [1,C,height,width]
     * (or [1,C,h0,w0] as the model gave them, unless {@code upsampleLogits})}, on the model's device.
     * The caller holds a NoGradGuard and a PointerScope.
     */
    private Tensor[] forward(int height, int width, String what, boolean upsampleLogits) {
        Tensor x = torch.from_blob(input, 1, 3, height, width);
        if (device != null) x = x.to(device, torch.ScalarType.Float);
        IValueVector args = new IValueVector(new IValue(x));
        IValue result;
        try {
            result = (optimized != null && optimizedChecked ? optimized : module).forward(args);
        } catch (RuntimeException e) {
            throw new SegsaException(SegsaException.Kind.MODEL, path + ": forward failed on " + what + " (input [1,3," + height + "," + width
                    + "]): " + modelMessage(e.getMessage()), e);
        }
        Tensor[] fl = unpack(result);
        if (optimized != null && !optimizedChecked) checkOptimized(fl, args, what);
        Tensor features = fl[0];
        Tensor logits = fl[1];
        checkLayout(features, "features");
        checkLayout(logits, "logits");
        long[] fs = shape(features);
        long[] ls = shape(logits);
        if (fs.length != 4 || ls.length != 4) {
            throw contract("features and logits of rank 4, got features " + Arrays.toString(fs) + " and logits " + Arrays.toString(ls));
        }
        if (fs[0] != 1 || ls[0] != 1) {
            throw contract("batch size 1 in both outputs for a batch of 1, got features " + Arrays.toString(fs)
                    + " and logits " + Arrays.toString(ls));
        }
        boolean lowRes = ls[2] == fs[2] && ls[3] == fs[3];
        boolean fullRes = ls[2] == height && ls[3] == width;
        if (!lowRes && !fullRes) {
            throw contract("logits at the feature size " + fs[2] + "x" + fs[3] + " or at the input size " + height + "x"
                    + width + ", got logits " + Arrays.toString(ls) + " with features " + Arrays.toString(fs));
        }
        if (ls[1] < 1 || ls[1] > 65535) throw contract("between 1 and 65535 classes, got " + ls[1]);
        if (fs[1] < 1 || fs[1] > MAX_FEATURES) {
            throw contract("between 1 and " + MAX_FEATURES + " feature channels (the per-class covariance is d x d), got " + fs[1]);
        }
        if (fs[2] < 1 || fs[3] < 1) throw contract("a feature map of at least 1x1, got " + Arrays.toString(fs));
        // no-ops (the same tensor) for the float32 contiguous outputs models give; a copy otherwise
        features = features.to(torch.ScalarType.Float).contiguous();
        // ATen upsamples small outputs (H + W <= 128), 3 classes and channels-last logits with its
        // channels-last kernel, whose rounding depends on the CPU's vector width: those go through
        // LibTorch here so that the predicted classes stay torch.argmax's (LogitsPass takes the rest)
        boolean atenChannelsLastPath = upsample != UpsampleMode.NEAREST
                && (height + width <= 128 || ls[1] == 3 || (!logits.is_contiguous() && logits.is_contiguous(torch.MemoryFormat.ChannelsLast)));
        logits = logits.to(torch.ScalarType.Float).contiguous();
        if (!fullRes && (upsampleLogits || atenChannelsLastPath)) {
            long[] size = {height, width};
            logits = switch (upsample) {
                case BILINEAR -> torch.upsample_bilinear2d(logits, size, false);
                case BILINEAR_ALIGNED -> torch.upsample_bilinear2d(logits, size, true);
                case NEAREST -> torch.upsample_nearest2d(logits, size);
            };
        }
        return new Tensor[] {features, logits};
    }

    /** The first frame through the optimised module: its outputs against the original's, within the tolerance. */
    private void checkOptimized(Tensor[] original, IValueVector args, String what) {
        Tensor[] opt;
        try {
            opt = unpack(optimized.forward(args));
        } catch (RuntimeException e) {
            throw new SegsaException(SegsaException.Kind.MODEL, path + ": " + OPTIMIZE_OPTION + ": the optimised module failed on "
                    + what + ": " + modelMessage(e.getMessage()), e);
        }
        String[] names = {"features", "logits"};
        StringBuilder report = new StringBuilder();
        for (int i = 0; i < 2; i++) {
            Tensor a = original[i].to(torch.ScalarType.Double), b = opt[i].to(torch.ScalarType.Double);
            if (!Arrays.equals(shape(a), shape(b))) {
                throw new SegsaException(SegsaException.Kind.MODEL, path + ": " + OPTIMIZE_OPTION + " changed the shape of the "
                        + names[i] + " from " + Arrays.toString(shape(a)) + " to " + Arrays.toString(shape(b)) + "; run without it");
            }
            double diff = a.sub(b).abs().max().item_double();
            double scale = Math.max(1, a.abs().max().item_double());
            if (!(diff <= OPTIMIZE_TOLERANCE * scale)) {
                throw new SegsaException(SegsaException.Kind.MODEL, String.format(java.util.Locale.ROOT,
                        "%s: %s changed the %s by up to %.3g on %s (tolerance %.1g x %.3g); run without it", path, OPTIMIZE_OPTION,
                        names[i], diff, what, OPTIMIZE_TOLERANCE, scale));
            }
            report.append(String.format(java.util.Locale.ROOT, "%s max abs difference %.3g", names[i], diff)).append(i == 0 ? ", " : "");
        }
        optimizedChecked = true;
        optimizationReport = OPTIMIZE_OPTION + ": the frozen module matches the original on the first frame (" + report
                + "; tolerance " + OPTIMIZE_TOLERANCE + " x max(1, max |output|)); using it from the next frame";
    }

    /**
     * The features and the full-resolution logits of the frame in {@link #input(int, int)}, copied
     * to the host (for checks on a few frames, not for scoring): features [d, h0, w0] and logits
     * [C, height, width], float32, channel-major.
     */
    public record HostOutputs(float[] features, int d, int h0, int w0, float[] logits, int classes, int height, int width) {}

    public HostOutputs hostOutputs(int height, int width, String what) {
        if (closed) throw new IllegalStateException("model is closed");
        if (device != null) throw new IllegalStateException("the model is on " + deviceName() + ": hostOutputs runs on the CPU");
        try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
            Tensor[] fl = forward(height, width, what, true);
            long[] fs = shape(fl[0]);
            long[] ls = shape(fl[1]);
            Tensor lc = fl[1].contiguous();
            float[] f = new float[(int) (fs[1] * fs[2] * fs[3])];
            float[] l = new float[(int) (ls[1] * ls[2] * ls[3])];
            MemorySegment.copy(MemorySegment.ofAddress(fl[0].data_ptr().address()).reinterpret(4L * f.length),
                    ValueLayout.JAVA_FLOAT_UNALIGNED, 0, f, 0, f.length);
            MemorySegment.copy(MemorySegment.ofAddress(lc.data_ptr().address()).reinterpret(4L * l.length),
                    ValueLayout.JAVA_FLOAT_UNALIGNED, 0, l, 0, l.length);
            return new HostOutputs(f, (int) fs[1], (int) fs[2], (int) fs[3], l, (int) ls[1], height, width);
        }
    }

    /**
     * The device path's uncertainty (LibTorch ops over the upsampled logits, copied to the host):
     * per predicted class, the means of the four measures of {@link FrameOutput.SoftmaxUncertainty}.
     */
    private static FrameOutput.SoftmaxUncertainty softmaxUncertainty(Tensor logits, Tensor predicted, int classes, int height,
                                                                     int width) {
        Tensor logp = logits.log_softmax(1);
        Tensor p = logp.exp();
        Tensor entropy = p.mul(logp).sum(1).neg();
        Tensor deepGini = p.square().sum(1).neg().add(new Scalar(1.0));
        Tensor top1;
        Tensor margin;
        if (classes >= 2) {
            Tensor top = p.topk(2, 1, true, true).get0();
            top1 = top.select(1, 0);
            margin = top1.sub(top.select(1, 1)).neg().add(new Scalar(1.0));
        } else {
            top1 = p.select(1, 0);
            margin = top1.mul(new Scalar(0.0));
        }
        Tensor leastConfidence = top1.neg().add(new Scalar(1.0));
        int n = height * width;
        int[] pred = new int[n];
        MemorySegment.copy(MemorySegment.ofAddress(predicted.data_ptr().address()).reinterpret(4L * n),
                ValueLayout.JAVA_INT_UNALIGNED, 0, pred, 0, n);
        long[] pixels = new long[classes];
        for (int c : pred) pixels[c]++;
        Tensor[] maps = {entropy, margin, leastConfidence, deepGini};
        double[][] means = new double[4][classes];
        for (int m = 0; m < 4; m++) {
            float[] v = toFloats(maps[m], height, width);
            for (int i = 0; i < n; i++) means[m][pred[i]] += v[i];
            for (int c = 0; c < classes; c++) means[m][c] = pixels[c] == 0 ? Double.NaN : means[m][c] / pixels[c];
        }
        return FrameOutput.SoftmaxUncertainty.of(means);
    }

    private static float[] toFloats(Tensor t, int height, int width) {
        Tensor c = t.to(torch.ScalarType.Float).contiguous();
        long n = (long) height * width;
        if (c.nbytes() != 4L * n) throw new IllegalStateException("expected " + n + " floats, tensor has " + c.nbytes() + " bytes");
        float[] out = new float[(int) n];
        MemorySegment.ofAddress(c.data_ptr().address()).reinterpret(4L * n)
                .asByteBuffer().order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().get(out);
        return out;
    }

    private Tensor[] unpack(IValue r) {
        if (r.isTuple()) {
            Tuple t = r.toTuple();
            if (t.size() != 2) throw contract("a tuple (features, logits) of 2 tensors, got a tuple of " + t.size());
            IValue a = t.elements().get(0), b = t.elements().get(1);
            if (!a.isTensor() || !b.isTensor()) throw contract("a tuple of 2 tensors, got a tuple of " + describe(a) + " and " + describe(b));
            return new Tensor[] {a.toTensor(), b.toTensor()};
        }
        if (r.isGenericDict()) {
            GenericDict d = r.toGenericDict();
            IValue fk = new IValue("features"), lk = new IValue("logits");
            if (!d.contains(fk) || !d.contains(lk)) {
                throw contract("a dict with keys \"features\" and \"logits\", got a dict of " + d.size() + " entries without them");
            }
            IValue a = d.at(fk), b = d.at(lk);
            if (!a.isTensor() || !b.isTensor()) throw contract("tensors under \"features\" and \"logits\"");
            return new Tensor[] {a.toTensor(), b.toTensor()};
        }
        throw contract("a tuple (features [N,d,h0,w0], logits [N,C,h0,w0] or [N,C,H,W]), got " + describe(r));
    }

    private static String describe(IValue v) {
        if (v.isTensor()) return "a single tensor of shape " + Arrays.toString(shape(v.toTensor()));
        if (v.isTuple()) return "a tuple of " + v.toTuple().size();
        if (v.isGenericDict()) return "a dict";
        if (v.isTensorList()) return "a list of tensors";
        return "a value of type " + v.tagKind().getString();
    }

    /** The most feature channels accepted: 4096 x 4096 float64 co-moments are 128 MiB per class. */
    public static final int MAX_FEATURES = 4096;

    private void checkLayout(Tensor t, String name) {
        if (t.is_meta()) throw contract(name + " with data, got a meta tensor (no storage)");
        if (t.is_sparse() || t.is_mkldnn() || t.is_quantized()) throw contract("dense " + name + ", got layout " + t.layout());
        if (!t.is_cpu()) throw contract(name + " on the CPU, got a tensor on another device");
        if (t.is_complex()) throw contract("real " + name + ", got a complex tensor");
    }

    /** The model's own error line out of LibTorch's TorchScript traceback (the last "...Error: ..." line), else the first line. */
    static String modelMessage(String s) {
        if (s == null) return "(no message)";
        String found = null;
        for (String line : s.split("\n")) {
            String t = line.strip();
            if (t.matches("^[A-Za-z_.]*(Error|Exception): .*")) found = t;
        }
        return found != null ? found : firstLine(s);
    }

    private SegsaException contract(String expected) {
        return new SegsaException(SegsaException.Kind.MODEL, path + ": model output does not follow the segsa contract: expected "
                + expected);
    }

    static long[] shape(Tensor t) {
        return t.sizes().vec().get();
    }

    private static String firstLine(String s) {
        if (s == null) return "(no message)";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (input != null) {
            input.releaseReference();
            input = null;
        }
        if (logitsPass != null) logitsPass.close();
        if (optimized != null) optimized.close();
        module.close();
    }
}
