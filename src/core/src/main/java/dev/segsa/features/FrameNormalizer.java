package dev.segsa.features;

import dev.segsa.error.SegsaException;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Turns camera pixels into the model's input: RGB scaled to [0, 1], then {@code (x - mean) / std}
 * per channel, channel-major float32 [3, height, width], written straight into the destination
 * segment (the model's input tensor). With a resize, each output pixel is the bilinear
 * (half-pixel centres) mix of its four source pixels, in float64, as {@link FrameReader} does, so
 * a frame gives the same input bit for bit whichever form it arrives in. Keeps no state but the
 * settings and a reusable row buffer; not thread-safe (one per scoring thread).
 */
public final class FrameNormalizer {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** The largest frame side accepted (a 16k camera is 15360 wide). */
    public static final int MAX_SIDE = 16384;

    private final double[] mean;
    private final double[] std;
    private final int[] resize;
    private int[] argb = new int[0];
    private AxisInterpolation rows;
    private AxisInterpolation cols;

    /** @param resize {width, height} or null to keep each frame's own size */
    public FrameNormalizer(double[] mean, double[] std, int[] resize) {
        this.mean = mean.clone();
        this.std = std.clone();
        this.resize = resize == null ? null : resize.clone();
    }

    /** Output size {width, height} of a frame of the given size after the optional resize. */
    public int[] outputSize(int sourceWidth, int sourceHeight) {
        return resize != null ? resize.clone() : new int[] {sourceWidth, sourceHeight};
    }

    public int outputWidth(int sourceWidth) {
        return resize != null ? resize[0] : sourceWidth;
    }

    public int outputHeight(int sourceHeight) {
        return resize != null ? resize[1] : sourceHeight;
    }

    /** Checks a frame's size before anything is read or allocated for it. */
    public static void checkSize(int width, int height, String what) {
        if (width <= 0 || height <= 0 || width > MAX_SIDE || height > MAX_SIDE) {
            throw new SegsaException(SegsaException.Kind.FRAME, what + ": frame size " + width + "x" + height + " is outside 1.." + MAX_SIDE + " per side");
        }
    }

    /**
     * Checks a raw frame before anything is allocated for it: its size (1..{@value #MAX_SIDE} per
     * side, at most {@link FrameReader#maxPixels()} pixels), the row stride and the buffer's length,
     * all in {@code long}: the one validation of every packed frame.
     */
    public static void checkPacked(MemorySegment src, int width, int height, long rowStride, PixelFormat format, String what) {
        checkSize(width, height, what);
        checkPixels(width, height, what);
        int bpp = format.bytesPerPixel();
        if (rowStride < (long) width * bpp) {
            throw new SegsaException(SegsaException.Kind.FRAME, what + ": row stride " + rowStride + " bytes is shorter than a row of " + width + " "
                    + format + " pixels (" + (long) width * bpp + " bytes)");
        }
        long need;
        try {
            need = Math.addExact(Math.multiplyExact(rowStride, (long) height - 1), (long) width * bpp);
        } catch (ArithmeticException e) {
            throw new SegsaException(SegsaException.Kind.FRAME, what + ": row stride " + rowStride + " x " + height + " rows overflows");
        }
        if (src.byteSize() < need) {
            throw new SegsaException(SegsaException.Kind.FRAME, what + ": pixel buffer holds " + src.byteSize() + " bytes, a " + width + "x" + height + " "
                    + format + " frame with row stride " + rowStride + " needs " + need);
        }
    }

    /** Refuses a frame of more pixels than {@link FrameReader#maxPixels()} (--max-pixels). */
    public static void checkPixels(int width, int height, String what) {
        long pixels = (long) width * height;
        if (pixels > FrameReader.maxPixels()) {
            throw new SegsaException(SegsaException.Kind.FRAME, what + ": frame size " + width + "x" + height + " = " + pixels
                    + " pixels is above the limit of " + FrameReader.maxPixels()
                    + " (raise it with FrameReader.setMaxPixels; segsa: --max-pixels)");
        }
    }

    /** Packed 8-bit pixels (HWC) to the model input; {@code dst} holds 3 * outW * outH floats. */
    public void fromPacked(MemorySegment src, int width, int height, long rowStride, PixelFormat format, MemorySegment dst,
                           String what) {
        checkPacked(src, width, height, rowStride, format, what);
        int bpp = format.bytesPerPixel();
        int ro = format.offset(0), go = format.offset(1), bo = format.offset(2);
        int w = outputWidth(width), h = outputHeight(height);
        long plane = (long) w * h;
        if (w == width && h == height) {
            for (int y = 0; y < h; y++) {
                long row = y * rowStride;
                long o = (long) y * w;
                for (int x = 0; x < w; x++) {
                    long p = row + (long) x * bpp;
                    int r = src.get(ValueLayout.JAVA_BYTE, p + ro) & 0xff;
                    int g = src.get(ValueLayout.JAVA_BYTE, p + go) & 0xff;
                    int b = src.get(ValueLayout.JAVA_BYTE, p + bo) & 0xff;
                    dst.setAtIndex(FLOAT, o + x, norm(0, r));
                    dst.setAtIndex(FLOAT, plane + o + x, norm(1, g));
                    dst.setAtIndex(FLOAT, 2 * plane + o + x, norm(2, b));
                }
            }
            return;
        }
        axes(width, height, w, h);
        for (int y = 0; y < h; y++) {
            long r0 = rows.lo[y] * rowStride, r1 = rows.hi[y] * rowStride;
            double wy0 = rows.weightLo[y], wy1 = rows.weightHi[y];
            for (int x = 0; x < w; x++) {
                long c0 = (long) cols.lo[x] * bpp, c1 = (long) cols.hi[x] * bpp;
                double wx0 = cols.weightLo[x], wx1 = cols.weightHi[x];
                for (int c = 0; c < 3; c++) {
                    int off = format.offset(c);
                    double v00 = src.get(ValueLayout.JAVA_BYTE, r0 + c0 + off) & 0xff;
                    double v01 = src.get(ValueLayout.JAVA_BYTE, r0 + c1 + off) & 0xff;
                    double v10 = src.get(ValueLayout.JAVA_BYTE, r1 + c0 + off) & 0xff;
                    double v11 = src.get(ValueLayout.JAVA_BYTE, r1 + c1 + off) & 0xff;
                    double v = wy0 * (wx0 * v00 + wx1 * v01) + wy1 * (wx0 * v10 + wx1 * v11);
                    dst.setAtIndex(FLOAT, c * plane + (long) y * w + x, (float) ((v / 255.0 - mean[c]) / std[c]));
                }
            }
        }
    }

    /** A decoded image to the model input (its pixels read once into a reused ARGB buffer). */
    public void fromImage(BufferedImage img, MemorySegment dst, String what) {
        int sw = img.getWidth(), sh = img.getHeight();
        checkSize(sw, sh, what);
        int n = sw * sh;
        if (argb.length < n) argb = new int[n];
        img.getRGB(0, 0, sw, sh, argb, 0, sw);
        fromArgb(argb, sw, sh, dst);
    }

    /** Packed ARGB ints (row-major, {@code sw} per row) to the model input. */
    public void fromArgb(int[] argb, int sw, int sh, MemorySegment dst) {
        int w = outputWidth(sw), h = outputHeight(sh);
        long plane = (long) w * h;
        if (w == sw && h == sh) {
            for (int i = 0; i < plane; i++) {
                int p = argb[i];
                dst.setAtIndex(FLOAT, i, norm(0, (p >> 16) & 0xff));
                dst.setAtIndex(FLOAT, plane + i, norm(1, (p >> 8) & 0xff));
                dst.setAtIndex(FLOAT, 2 * plane + i, norm(2, p & 0xff));
            }
            return;
        }
        axes(sw, sh, w, h);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    int shift = 16 - 8 * c;
                    double v00 = (argb[rows.lo[y] * sw + cols.lo[x]] >> shift) & 0xff;
                    double v01 = (argb[rows.lo[y] * sw + cols.hi[x]] >> shift) & 0xff;
                    double v10 = (argb[rows.hi[y] * sw + cols.lo[x]] >> shift) & 0xff;
                    double v11 = (argb[rows.hi[y] * sw + cols.hi[x]] >> shift) & 0xff;
                    double v = rows.weightLo[y] * (cols.weightLo[x] * v00 + cols.weightHi[x] * v01)
                            + rows.weightHi[y] * (cols.weightLo[x] * v10 + cols.weightHi[x] * v11);
                    dst.setAtIndex(FLOAT, c * plane + (long) y * w + x, (float) ((v / 255.0 - mean[c]) / std[c]));
                }
            }
        }
    }

    /**
     * Already normalised channel-major float32 [3, height, width] to the model input: copied as is
     * when no resize is set or the frame has the resize's size; otherwise refused (resizing
     * normalised values is the caller's choice to make).
     */
    public void fromNormalized(MemorySegment chw, int width, int height, MemorySegment dst, String what) {
        checkSize(width, height, what);
        if (outputWidth(width) != width || outputHeight(height) != height) {
            throw new SegsaException(SegsaException.Kind.FRAME, what + ": a normalised frame must already have the model input size " + resize[0] + "x"
                    + resize[1] + ", got " + width + "x" + height);
        }
        long bytes = 3L * width * height * Float.BYTES;
        if (chw.byteSize() < bytes) {
            throw new SegsaException(SegsaException.Kind.FRAME, what + ": normalised frame holds " + chw.byteSize() + " bytes, [3," + height + "," + width
                    + "] float32 needs " + bytes);
        }
        MemorySegment.copy(chw, 0, dst, 0, bytes);
    }

    private void axes(int sw, int sh, int w, int h) {
        if (rows == null || rows.in != sh || rows.out != h) rows = AxisInterpolation.of(UpsampleMode.BILINEAR, sh, h);
        if (cols == null || cols.in != sw || cols.out != w) cols = AxisInterpolation.of(UpsampleMode.BILINEAR, sw, w);
    }

    private float norm(int channel, int value) {
        return (float) ((value / 255.0 - mean[channel]) / std[channel]);
    }

    /** Label ids at a frame's size to the output size, nearest (as {@link FrameReader#readLabels}). */
    public int[] resizeLabels(int[] labels, int sourceWidth, int sourceHeight) {
        int w = outputWidth(sourceWidth), h = outputHeight(sourceHeight);
        return FrameReader.resizeLabels(labels, sourceWidth, sourceHeight, w, h);
    }
}
