package dev.segsa.model;

import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import dev.segsa.nativelib.NativeBuffer;
import dev.segsa.nativelib.NativeLibrary;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The one native pass over a frame's class scores ({@code segsa_logits_frame}, native/logits.cpp)
 * that replaces LibTorch's argmax, {@code isfinite} and softmax ops after the forward: per output
 * pixel the predicted class (torch.argmax semantics: first maximum, NaN the largest), written
 * into a native int32 buffer that the SA kernels read in place; the counts of non-finite logits
 * and features; pixels per predicted class; and, when asked, the per-class means of the four
 * softmax uncertainty measures (computed per pixel in registers); when asked
 * ({@code segsa_logits_maps_frame}), the per-pixel entropy, margin and softmax probability maps.
 * Logits at the feature resolution are upsampled on the fly with PyTorch's float32 arithmetic,
 * never stored.
 *
 * <p>Owns its buffers (grown to the largest frame, then reused: nothing native is allocated per
 * frame in the steady state). Not thread-safe; one per model runner. {@link #close()} is idempotent.
 */
public final class LogitsPass implements AutoCloseable {
    private final NativeBuffer predicted = new NativeBuffer();
    private final NativeBuffer workspace = new NativeBuffer();
    private final NativeBuffer counts = new NativeBuffer();
    private final NativeBuffer sums = new NativeBuffer();
    private final NativeBuffer entropy = new NativeBuffer();
    private final NativeBuffer margin = new NativeBuffer();
    private final NativeBuffer probabilities = new NativeBuffer();
    private long workspaceBytes;
    private int workspaceC = -1, workspaceH = -1, workspaceW = -1;
    private boolean closed;

    /**
     * What one pass found; the arrays are new per call, {@code predicted} and the maps are this
     * pass's buffers: overwritten by its next run, freed when a larger frame (or more classes) grows
     * them or at its close.
     *
     * @param entropyMap    float32 [H*W] softmax entropy per pixel (nats), read-only, or null when not asked
     * @param marginMap     float32 [H*W] 1 - (p1 - p2) per pixel, read-only, or null when not asked
     * @param probabilities float32 [classes, H*W] channel-major softmax probabilities, read-only, or null
     *                      when not asked
     */
    public record Result(MemorySegment predicted, long[] classPixels, long nonFiniteLogits, long nonFiniteFeatures,
                         double[][] uncertaintyMeans, MemorySegment entropyMap, MemorySegment marginMap,
                         MemorySegment probabilities) {
        /** Without maps. */
        public Result(MemorySegment predicted, long[] classPixels, long nonFiniteLogits, long nonFiniteFeatures,
                      double[][] uncertaintyMeans) {
            this(predicted, classPixels, nonFiniteLogits, nonFiniteFeatures, uncertaintyMeans, null, null, null);
        }
    }

    /** @throws SegsaException when libsegsa_cpu cannot be loaded */
    public LogitsPass() {
        NativeLibrary.cpu();
    }

    /**
     * @param logits        float32 [classes, h, w], channel-major, in native memory
     * @param features      float32 values whose non-finite ones are counted (the feature map), or null
     * @param withUncertainty also compute the per-class means of entropy, margin, least confidence and
     *                      DeepGini ({@link FrameOutput.SoftmaxUncertainty#NAMES} order; NaN for a class
     *                      without pixels)
     */
    public Result run(MemorySegment logits, int classes, int h, int w, int height, int width, UpsampleMode mode,
                      MemorySegment features, boolean withUncertainty) {
        return run(logits, classes, h, w, height, width, mode, features, withUncertainty, false);
    }

    /**
     * As {@link #run(MemorySegment, int, int, int, int, int, UpsampleMode, MemorySegment, boolean)};
     * with {@code maps} also the per-pixel maps of the softmax ({@code segsa_logits_maps_frame}):
     * {@link Result#entropyMap()}, {@link Result#marginMap()} and {@link Result#probabilities()},
     * float32 in this pass's native buffers (exposed read-only), the entropy and margin being the
     * float32 values whose sums give the uncertainty means. At a pixel with a non-finite logit the
     * maps' values are NaN or infinite (not meaningful). The predicted classes, counts and means
     * are those of a run without maps, bit for bit.
     */
    public Result run(MemorySegment logits, int classes, int h, int w, int height, int width, UpsampleMode mode,
                      MemorySegment features, boolean withUncertainty, boolean maps) {
        return run(logits, classes, h, w, height, width, mode, features, withUncertainty, maps, maps);
    }

    /**
     * As above; {@code withProbabilities} false leaves the probability map out (the entropy and
     * margin maps are still written with {@code maps}): a risk model without the class
     * probabilities does not pay for writing C planes a frame.
     */
    public Result run(MemorySegment logits, int classes, int h, int w, int height, int width, UpsampleMode mode,
                      MemorySegment features, boolean withUncertainty, boolean maps, boolean withProbabilities) {
        if (closed) throw new IllegalStateException("the logits pass is closed");
        long n = (long) height * width;
        if (logits.byteSize() < 4L * classes * h * w) {
            throw new IllegalArgumentException("logits segment holds " + logits.byteSize() + " bytes, shape [" + classes + ","
                    + h + "," + w + "] needs " + 4L * classes * h * w);
        }
        MemorySegment pred = predicted.ensure(4L * n);
        MemorySegment ws = workspace(classes, height, width);
        MemorySegment c = counts.ensure(8L * (classes + 2));
        MemorySegment u = withUncertainty ? sums.ensure(8L * 4 * classes) : MemorySegment.NULL;
        MemorySegment pixels = c.asSlice(16);
        MemorySegment feats = features == null ? MemorySegment.NULL : features;
        long featureValues = features == null ? 0L : features.byteSize() / 4;
        MemorySegment em = maps ? entropy.ensure(4L * n) : MemorySegment.NULL;
        MemorySegment mm = maps ? margin.ensure(4L * n) : MemorySegment.NULL;
        boolean probs = maps && withProbabilities;
        MemorySegment pm = probs ? probabilities.ensure(4L * classes * n) : MemorySegment.NULL;
        int st;
        try {
            if (maps) {
                st = (int) NativeLibrary.Cpu.LOGITS_MAPS_FRAME.invokeExact(logits, classes, h, w, height, width, mode.code(), ws,
                        workspaceBytes, pred, pixels, c, u, feats, featureValues, c.asSlice(8), em, mm, pm);
            } else {
                st = (int) NativeLibrary.Cpu.LOGITS_FRAME.invokeExact(logits, classes, h, w, height, width, mode.code(), ws,
                        workspaceBytes, pred, pixels, c, u, feats, featureValues, c.asSlice(8));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        NativeLibrary.check(st, maps ? "segsa_logits_maps_frame" : "segsa_logits_frame");
        long[] classPixels = new long[classes];
        MemorySegment.copy(pixels, ValueLayout.JAVA_LONG, 0, classPixels, 0, classes);
        double[][] means = null;
        if (withUncertainty) {
            means = new double[4][classes];
            for (int m = 0; m < 4; m++) {
                MemorySegment.copy(u, ValueLayout.JAVA_DOUBLE, 8L * m * classes, means[m], 0, classes);
                for (int k = 0; k < classes; k++) means[m][k] = classPixels[k] == 0 ? Double.NaN : means[m][k] / classPixels[k];
            }
        }
        return new Result(pred.asSlice(0, 4L * n), classPixels, c.get(ValueLayout.JAVA_LONG, 0),
                features == null ? 0 : c.get(ValueLayout.JAVA_LONG, 8), means,
                maps ? em.asSlice(0, 4L * n).asReadOnly() : null, maps ? mm.asSlice(0, 4L * n).asReadOnly() : null,
                probs ? pm.asSlice(0, 4L * classes * n).asReadOnly() : null);
    }

    private MemorySegment workspace(int classes, int height, int width) {
        if (classes != workspaceC || height != workspaceH || width != workspaceW) {
            MemorySegment out = counts.ensure(64);
            int st;
            try {
                st = (int) NativeLibrary.Cpu.LOGITS_WORKSPACE_BYTES.invokeExact(classes, height, width, out);
            } catch (Throwable t) {
                throw rethrow(t);
            }
            NativeLibrary.check(st, "segsa_logits_workspace_bytes");
            workspaceBytes = out.get(ValueLayout.JAVA_LONG, 0);
            workspaceC = classes;
            workspaceH = height;
            workspaceW = width;
        }
        return workspace.ensure(workspaceBytes);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new SegsaException(SegsaException.Kind.NATIVE, "native segsa_logits_frame call failed: " + t, t);
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        predicted.close();
        workspace.close();
        counts.close();
        sums.close();
        entropy.close();
        margin.close();
        probabilities.close();
    }
}
