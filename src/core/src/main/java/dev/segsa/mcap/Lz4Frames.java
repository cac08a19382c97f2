package dev.segsa.mcap;

import net.jpountz.xxhash.XXHash32;
import net.jpountz.xxhash.XXHashFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Decodes an LZ4 frame (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md) into a buffer
 * of known size: the blocks are decoded into one output, so blocks that depend on the previous
 * ones (the default of lz4js, which the official MCAP TypeScript tooling writes) are read as well
 * as independent ones. lz4-java's {@code LZ4FrameInputStream} refuses dependent blocks, so the
 * block decoder is this class's own (the LZ4 block format is a few lines); the frame's content and
 * block checksums are checked with lz4-java's XXHash32. Every inconsistency is an
 * {@link IllegalArgumentException} with the reason; nothing is written past {@code expected} bytes.
 */
final class Lz4Frames {
    private Lz4Frames() {}

    private static final int MAGIC = 0x184D2204;
    private static final XXHash32 XXH = XXHashFactory.safeInstance().hash32();

    static byte[] decode(byte[] src, int expected) {
        ByteBuffer b = ByteBuffer.wrap(src).order(ByteOrder.LITTLE_ENDIAN);
        byte[] out = new byte[expected];
        int o = 0;
        while (b.remaining() > 0) {
            if (b.remaining() < 7) throw new IllegalArgumentException("LZ4 frame header cut short");
            int magic = b.getInt();
            if ((magic & 0xFFFFFFF0) == 0x184D2A50) {  // skippable frame
                int n = b.getInt();
                b.position(b.position() + n);
                continue;
            }
            if (magic != MAGIC) throw new IllegalArgumentException(String.format("not an LZ4 frame (magic %08x)", magic));
            int flg = b.get() & 255;
            b.get();  // BD
            if ((flg >> 6) != 1) throw new IllegalArgumentException("LZ4 frame version " + (flg >> 6) + " is not 1");
            boolean blockChecksum = (flg & 0x10) != 0, contentSize = (flg & 0x08) != 0, contentChecksum = (flg & 0x04) != 0,
                    dictionary = (flg & 0x01) != 0;
            if (dictionary) throw new IllegalArgumentException("LZ4 frames with a dictionary are not read");
            if (contentSize) b.getLong();
            b.get();  // header checksum
            int start = o;
            while (true) {
                if (b.remaining() < 4) throw new IllegalArgumentException("LZ4 block size cut short");
                int size = b.getInt();
                if (size == 0) break;
                boolean raw = size < 0;
                size &= 0x7FFFFFFF;
                if (size > b.remaining()) throw new IllegalArgumentException("LZ4 block runs past the frame");
                int at = b.position();
                if (raw) {
                    if (o + size > out.length) throw new IllegalArgumentException("LZ4 data inflates past " + expected + " bytes");
                    System.arraycopy(src, at, out, o, size);
                    o += size;
                } else {
                    o = block(src, at, size, out, o);
                }
                b.position(at + size);
                if (blockChecksum) {
                    int h = b.getInt();
                    if (h != XXH.hash(src, at, size, 0)) throw new IllegalArgumentException("LZ4 block checksum mismatch");
                }
            }
            if (contentChecksum) {
                int h = b.getInt();
                if (h != XXH.hash(out, start, o - start, 0)) throw new IllegalArgumentException("LZ4 content checksum mismatch");
            }
        }
        if (o != expected) throw new IllegalArgumentException("LZ4 data inflates to " + o + " bytes, expected " + expected);
        return out;
    }

    /** One LZ4 block into out at o (matches may reach back into earlier blocks); returns the new end. */
    private static int block(byte[] src, int s, int n, byte[] out, int o) {
        int end = s + n;
        while (s < end) {
            int token = src[s++] & 255;
            int lit = token >>> 4;
            if (lit == 15) {
                int x;
                do {
                    if (s >= end) throw new IllegalArgumentException("LZ4 literal length cut short");
                    x = src[s++] & 255;
                    lit += x;
                } while (x == 255);
            }
            if (lit > end - s) throw new IllegalArgumentException("LZ4 literals run past the block");
            if (lit > out.length - o) throw new IllegalArgumentException("LZ4 data inflates past " + out.length + " bytes");
            System.arraycopy(src, s, out, o, lit);
            s += lit;
            o += lit;
            if (s >= end) break;  // the last sequence has literals only
            if (end - s < 2) throw new IllegalArgumentException("LZ4 match offset cut short");
            int offset = (src[s] & 255) | ((src[s + 1] & 255) << 8);
            s += 2;
            if (offset == 0 || offset > o) throw new IllegalArgumentException("LZ4 match offset " + offset + " points before the data");
            int len = token & 15;
            if (len == 15) {
                int x;
                do {
                    if (s >= end) throw new IllegalArgumentException("LZ4 match length cut short");
                    x = src[s++] & 255;
                    len += x;
                } while (x == 255);
            }
            len += 4;
            if (len > out.length - o) throw new IllegalArgumentException("LZ4 data inflates past " + out.length + " bytes");
            int from = o - offset;
            for (int i = 0; i < len; i++) out[o++] = out[from + i];  // overlapping copies repeat the pattern
        }
        return o;
    }
}
