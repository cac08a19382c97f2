package dev.segsa.features;

/**
 * Layouts of packed 8-bit camera pixels in memory, one pixel after another within a row (HWC),
 * rows {@code rowStride} bytes apart. Alpha or padding bytes are skipped.
 */
public enum PixelFormat {
    RGB(3, 0, 1, 2),
    BGR(3, 2, 1, 0),
    RGBA(4, 0, 1, 2),
    BGRA(4, 2, 1, 0);

    private final int bytesPerPixel;
    private final int red;
    private final int green;
    private final int blue;

    PixelFormat(int bytesPerPixel, int red, int green, int blue) {
        this.bytesPerPixel = bytesPerPixel;
        this.red = red;
        this.green = green;
        this.blue = blue;
    }

    public int bytesPerPixel() {
        return bytesPerPixel;
    }

    /** Byte offset within a pixel of channel {@code c} (0 red, 1 green, 2 blue). */
    public int offset(int c) {
        return c == 0 ? red : c == 1 ? green : blue;
    }
}
