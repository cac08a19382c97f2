package dev.segsa.kernel;

import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.KdeModel;
import dev.segsa.samodel.MahalanobisModel;

/**
 * A backend whose kernels run on an accelerator, straight on the device memory of LibTorch
 * tensors: the model's features and predicted classes stay on the device, the work is enqueued on
 * the device's current stream (the one LibTorch ran the model on, so no synchronisation is needed
 * between them), and only the per-class counts and sums come back (plus the per-pixel map when the
 * caller passes {@link FrameScores} with a map). The one implementation is {@code CudaBackend} in
 * the segsa-cuda module (built with {@code mvn -Pcuda}); {@link Backends} finds it by name. The
 * host methods of {@link Backend} copy the frame to the device and back, for differential tests.
 */
public interface DeviceBackend extends Backend {
    /** The LibTorch device the model must run on, e.g. "cuda:0". */
    String torchDevice();

    /** The device and stream the kernels use, for logs, e.g. "cuda:0 (NVIDIA H200, sm_90, 139 GiB), stream 0x7f..". */
    String describe();

    /**
     * A batch of frames of one shape in device memory.
     *
     * @param features  device address of float32 [n, d, h0, w0], contiguous
     * @param classes   device address of int32 [n, height * width]: predicted classes (scoring) or
     *                  true labels (fit); values outside [0, C) count nowhere
     */
    record Frames(long features, long classes, int n, int d, int h0, int w0, int height, int width, UpsampleMode mode) {
        public Frames {
            if (features == 0 || classes == 0) throw new IllegalArgumentException("device addresses must not be null");
            if (n < 1 || d < 1 || h0 < 1 || w0 < 1 || height < 1 || width < 1) {
                throw new IllegalArgumentException("sizes must be positive: n=" + n + " d=" + d + " h0=" + h0 + " w0=" + w0
                        + " height=" + height + " width=" + width);
            }
        }
    }

    /**
     * MDSA of every pixel of the n frames; {@code out[i]} (reset by the caller) receives frame i's
     * per-class counts and sums, and its map when it has one. Returns once the results are on the
     * host (the one synchronisation, after the kernels).
     */
    void mdsaDevice(Frames frames, MahalanobisModel[] models, FrameScores[] out);

    /** LSA of every pixel of the n frames, as {@link #mdsaDevice}. */
    void lsaDevice(Frames frames, KdeModel[] models, FrameScores[] out);

    /** Adds the n frames' labelled pixels to the per-class statistics (frames.classes() holds the labels). */
    void accumulateDevice(Frames frames, ClassStatistics[] stats);
}
