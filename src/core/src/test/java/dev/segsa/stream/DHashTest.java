package dev.segsa.stream;

import dev.segsa.error.SegsaException;
import dev.segsa.features.PixelFormat;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** dHash of an image and of the same pixels packed in a buffer, in every pixel format and with padded rows. */
class DHashTest {
    @Test
    void knownPatterns() {
        BufferedImage uniform = new BufferedImage(90, 80, BufferedImage.TYPE_INT_RGB);
        assertEquals(0L, DHash.of(uniform), "no pair has its left brighter");
        BufferedImage falling = new BufferedImage(90, 80, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 80; y++) for (int x = 0; x < 90; x++) falling.setRGB(x, y, (255 - x * 2) * 0x010101);
        assertEquals(-1L, DHash.of(falling), "every left cell brighter than its right: all 64 bits set");
    }

    @Test
    void packedPixelsHashAsTheImage() {
        Random rnd = new Random(11);
        for (int[] size : new int[][] {{1, 1}, {9, 8}, {97, 61}, {640, 480}}) {
            int w = size[0], h = size[1];
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rnd.nextInt(1 << 24) | ((x + y) % 7 == 0 ? 0x404040 : 0));
            long expected = DHash.of(img);
            for (PixelFormat f : PixelFormat.values()) {
                int bpp = f.bytesPerPixel();
                long stride = (long) w * bpp + 5;  // padded rows
                byte[] buf = new byte[(int) (stride * h)];
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int p = img.getRGB(x, y), at = (int) (y * stride + (long) x * bpp);
                        buf[at + f.offset(0)] = (byte) (p >> 16);
                        buf[at + f.offset(1)] = (byte) (p >> 8);
                        buf[at + f.offset(2)] = (byte) p;
                        if (bpp == 4) buf[at + 3] = (byte) 0x7f;  // alpha: not read
                    }
                }
                assertEquals(expected, DHash.of(MemorySegment.ofArray(buf), w, h, stride, f), f + " " + w + "x" + h);
                assertEquals(FrameDescriptor.of(expected), DHash.descriptor(MemorySegment.ofArray(buf), w, h, stride, f));
            }
        }
    }

    @Test
    void aShortBufferIsAFrameError() {
        SegsaException e = assertThrows(SegsaException.class, () -> DHash.of(MemorySegment.ofArray(new byte[100]), 64, 48, 192, PixelFormat.RGB));
        assertEquals(SegsaException.Kind.FRAME, e.kind());
    }
}
