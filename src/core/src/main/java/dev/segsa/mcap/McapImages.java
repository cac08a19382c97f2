package dev.segsa.mcap;

import dev.segsa.error.SegsaException;
import dev.segsa.features.FrameReader;
import dev.segsa.io.StrictJson;

import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Set;

/**
 * Camera messages of an MCAP log as images: ROS 2 {@code sensor_msgs/msg/Image} and
 * {@code sensor_msgs/msg/CompressedImage} in CDR, and {@code foxglove.RawImage} /
 * {@code foxglove.CompressedImage} in JSON or protobuf. Raw encodings rgb8, bgr8, rgba8, bgra8 and
 * mono8 (others are refused naming the encoding); compressed formats JPEG and PNG. JSON messages are
 * read strictly ({@link StrictJson}: a key given twice, anything after the object, a field of the
 * wrong type refused; integers integral and within their range, never cast). Errors name the file,
 * the topic, the message's index (when known), log time and record offset, and the field.
 */
public final class McapImages {
    private McapImages() {}

    static final Set<String> RAW = Set.of("sensor_msgs/msg/Image", "foxglove.RawImage");
    static final Set<String> COMPRESSED = Set.of("sensor_msgs/msg/CompressedImage", "foxglove.CompressedImage");
    /** The largest width or height of a raw image in JSON (foxglove.RawImage). */
    static final int MAX_SIDE = 16384;
    private static final StrictJson.Range SIDE = StrictJson.Range.closed(1, MAX_SIDE);
    private static final StrictJson.Range UINT32 = StrictJson.Range.closed(0, 0xffffffffL);
    private static final StrictJson.Range STEP = StrictJson.Range.closed(1, 0xffffffffL);
    private static final StrictJson.Range NANOS = StrictJson.Range.closed(0, 999_999_999);

    /** Whether messages of this channel are camera images segsa reads. */
    public static boolean isImageChannel(McapReader.Channel c, McapReader.Schema s) {
        if (s == null) return false;
        boolean cdr = c.messageEncoding().equals("cdr") && s.name().startsWith("sensor_msgs/msg/");
        boolean foxglove = (c.messageEncoding().equals("json") || c.messageEncoding().equals("protobuf")) && s.name().startsWith("foxglove.");
        return (cdr || foxglove) && (RAW.contains(s.name()) || COMPRESSED.contains(s.name()));
    }

    /** A decoded image message: the image, its raw encoding (or compressed format) and its frame_id ("" when it has none). */
    public record Decoded(BufferedImage image, String encoding, String frameId) {
        public Decoded(BufferedImage image, String encoding) {
            this(image, encoding, "");
        }
    }

    public static Decoded decode(McapReader.Message m, McapReader.Schema s, String file) {
        return decode(m, s, file, -1);
    }

    /** {@code index}: the message's index among its topic's (named in errors), -1 when not known. */
    public static Decoded decode(McapReader.Message m, McapReader.Schema s, String file, long index) {
        String where = file + ": " + m.channel().topic() + " message " + (index >= 0 ? "#" + index + " " : "") + "(log time "
                + logTime(m.logTime()) + ", record at offset " + m.offset() + ")";
        if (m.channel().messageEncoding().equals("cdr")) return cdr(m.data(), s.name(), where);
        if (m.channel().messageEncoding().equals("json")) return json(m.data(), s.name(), where);
        if (m.channel().messageEncoding().equals("protobuf")) return protobuf(m.data(), s.name(), where);
        throw new SegsaException(where + ": message encoding '" + m.channel().messageEncoding() + "' is not read (cdr, json, protobuf)");
    }

    private static Decoded cdr(byte[] data, String schema, String where) {
        if (data.length < 4) throw new SegsaException(where + ": CDR message shorter than its 4-byte header");
        ByteOrder order = switch (data[1]) {
            case 0x00, 0x02 -> ByteOrder.BIG_ENDIAN;
            case 0x01, 0x03 -> ByteOrder.LITTLE_ENDIAN;
            default -> throw new SegsaException(where + ": unknown CDR encapsulation " + data[1]);
        };
        Cdr c = new Cdr(ByteBuffer.wrap(data, 4, data.length - 4).slice().order(order), where);
        c.u32("header.stamp.sec");
        c.u32("header.stamp.nanosec");
        String frameId = c.string("header.frame_id");
        if (schema.equals("sensor_msgs/msg/CompressedImage")) {
            String format = c.string("format");
            byte[] bytes = c.bytes("data");
            return new Decoded(compressed(bytes, format, where), format, frameId);
        }
        long height = c.u32("height"), width = c.u32("width");
        String encoding = c.string("encoding");
        c.u8("is_bigendian");
        long step = c.u32("step");
        byte[] bytes = c.bytes("data");
        return new Decoded(raw(bytes, (int) Math.min(width, Integer.MAX_VALUE), (int) Math.min(height, Integer.MAX_VALUE), step,
                encoding, where), encoding, frameId);
    }

    /** Log time in seconds with its nanoseconds: {@code 1700000000.066666667 s}. */
    static String logTime(long ns) {
        return Math.floorDiv(ns, 1_000_000_000L) + "." + String.format(java.util.Locale.ROOT, "%09d", Math.floorMod(ns, 1_000_000_000L)) + " s";
    }

    /**
     * foxglove.RawImage (timestamp, frame_id, width, height, encoding, step, data) or
     * foxglove.CompressedImage (timestamp, frame_id, data, format) in JSON, data in base64. Other
     * fields are let through; those known must have their type and range.
     */
    private static Decoded json(byte[] data, String schema, String where) {
        StrictJson.Obj n;
        byte[] bytes;
        String format = null, encoding = null, frameId = "";
        int width = 0, height = 0;
        long step = 0;
        try {
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(data)).toString();
            } catch (java.nio.charset.CharacterCodingException e) {
                throw new SegsaException("the JSON message is not valid UTF-8", e);
            }
            n = StrictJson.parseObject(text, "the JSON message");
            StrictJson.Obj ts = n.optionalObject("timestamp");
            if (ts != null) {
                ts.longInteger("sec", UINT32, 0);
                ts.longInteger("nsec", NANOS, 0);
            }
            frameId = n.string("frame_id", "");
            String base64 = n.string("data");
            try {
                bytes = Base64.getDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                throw new SegsaException("data is not base64", e);
            }
            if (schema.equals("foxglove.CompressedImage")) {
                format = n.string("format");
            } else {
                width = n.integer("width", SIDE);
                height = n.integer("height", SIDE);
                encoding = n.string("encoding");
                step = n.longInteger("step", STEP);
            }
        } catch (SegsaException e) {
            throw new SegsaException(where + ": " + e.getMessage(), e);
        }
        if (format != null) return new Decoded(compressed(bytes, format, where), format, frameId);
        return new Decoded(raw(bytes, width, height, step, encoding, where), encoding, frameId);
    }

    /**
     * foxglove.RawImage / foxglove.CompressedImage in protobuf, by their field numbers (Foxglove's
     * published schemas: RawImage width 2, height 3, encoding 4, step 5, data 6; CompressedImage
     * data 2, format 3); the wire format is read directly, integers as fixed32 or varint.
     */
    private static Decoded protobuf(byte[] data, String schema, String where) {
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        long width = -1, height = -1, step = -1;
        String encoding = "", format = "", frameId = "";
        byte[] bytes = new byte[0];
        boolean raw = schema.equals("foxglove.RawImage");
        while (b.hasRemaining()) {
            long key = varint(b, where);
            int field = (int) (key >>> 3), wire = (int) (key & 7);
            switch (wire) {
                case 0 -> {
                    long v = varint(b, where);
                    if (raw && field == 2) width = v;
                    if (raw && field == 3) height = v;
                    if (raw && field == 5) step = v;
                }
                case 1 -> skip(b, 8, where);
                case 5 -> {
                    if (b.remaining() < 4) throw new SegsaException(where + ": protobuf field " + field + " runs past the message");
                    long v = b.getInt() & 0xffffffffL;
                    if (raw && field == 2) width = v;
                    if (raw && field == 3) height = v;
                    if (raw && field == 5) step = v;
                }
                case 2 -> {
                    long n = varint(b, where);
                    if (n < 0 || n > b.remaining()) throw new SegsaException(where + ": protobuf field " + field + " runs past the message");
                    byte[] v = new byte[(int) n];
                    b.get(v);
                    if (raw && field == 4) encoding = new String(v, StandardCharsets.UTF_8);
                    if (raw && field == 6) bytes = v;
                    if (!raw && field == 2) bytes = v;
                    if (!raw && field == 3) format = new String(v, StandardCharsets.UTF_8);
                    if ((raw && field == 7) || (!raw && field == 4)) frameId = new String(v, StandardCharsets.UTF_8);
                }
                default -> throw new SegsaException(where + ": protobuf wire type " + wire + " (field " + field + ") is not valid here");
            }
        }
        if (!raw) return new Decoded(compressed(bytes, format, where), format, frameId);
        return new Decoded(raw(bytes, (int) Math.min(width, Integer.MAX_VALUE), (int) Math.min(height, Integer.MAX_VALUE), step, encoding,
                where), encoding, frameId);
    }

    private static long varint(ByteBuffer b, String where) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!b.hasRemaining()) throw new SegsaException(where + ": protobuf varint runs past the message");
            int x = b.get() & 255;
            v |= (long) (x & 127) << shift;
            if (x < 128) return v;
        }
        throw new SegsaException(where + ": protobuf varint longer than 10 bytes");
    }

    private static void skip(ByteBuffer b, int n, String where) {
        if (b.remaining() < n) throw new SegsaException(where + ": protobuf field runs past the message");
        b.position(b.position() + n);
    }

    private static BufferedImage compressed(byte[] bytes, String format, String where) {
        String f = format.toLowerCase(java.util.Locale.ROOT);
        if (!(f.contains("jpeg") || f.contains("jpg") || f.contains("png"))) {
            throw new SegsaException(where + ": compressed format '" + format + "' is not read (jpeg, png)");
        }
        return FrameReader.readImage(bytes, where);
    }

    static BufferedImage raw(byte[] data, int width, int height, long step, String encoding, String where) {
        int channels = switch (encoding) {
            case "rgb8", "bgr8" -> 3;
            case "rgba8", "bgra8" -> 4;
            case "mono8", "8UC1" -> 1;
            default -> throw new SegsaException(where + ": image encoding '" + encoding + "' is not read (rgb8, bgr8, rgba8, bgra8, mono8)");
        };
        if (width <= 0 || height <= 0) throw new SegsaException(where + ": image size " + width + "x" + height + " must be positive");
        long pixels = (long) width * height;
        if (pixels > FrameReader.maxPixels()) {
            throw new SegsaException(where + ": image is " + width + "x" + height + " = " + pixels + " pixels, above the limit of "
                    + FrameReader.maxPixels() + " (raise it with --max-pixels)");
        }
        if (step < (long) width * channels) {
            throw new SegsaException(where + ": step " + step + " is shorter than a row of " + width + " " + encoding + " pixels");
        }
        if (step * height != data.length) {
            throw new SegsaException(where + ": step x height = " + step + " x " + height + " = " + step * height
                    + " bytes, but the message holds " + data.length);
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] row = new int[width];
        for (int y = 0; y < height; y++) {
            int at = (int) (y * step);
            for (int x = 0; x < width; x++, at += channels) {
                int r, g, b;
                switch (encoding) {
                    case "rgb8", "rgba8" -> { r = data[at] & 255; g = data[at + 1] & 255; b = data[at + 2] & 255; }
                    case "bgr8", "bgra8" -> { b = data[at] & 255; g = data[at + 1] & 255; r = data[at + 2] & 255; }
                    default -> { r = g = b = data[at] & 255; }
                }
                row[x] = (r << 16) | (g << 8) | b;
            }
            img.setRGB(0, y, width, 1, row, 0, width);
        }
        return img;
    }

    /** Plain CDR reading (XCDR1): primitives aligned to their size relative to the start after the header. */
    private static final class Cdr {
        private final ByteBuffer b;
        private final String where;

        Cdr(ByteBuffer b, String where) {
            this.b = b;
            this.where = where;
        }

        private void align(int n) {
            int p = b.position();
            int pad = (n - p % n) % n;
            if (pad > b.remaining()) throw new SegsaException(where + ": message ends inside padding");
            b.position(p + pad);
        }

        private void need(long n, String field) {
            if (n < 0 || n > b.remaining()) throw new SegsaException(where + ": field " + field + " runs past the end of the message");
        }

        int u8(String field) {
            need(1, field);
            return b.get() & 255;
        }

        long u32(String field) {
            align(4);
            need(4, field);
            return b.getInt() & 0xffffffffL;
        }

        String string(String field) {
            long n = u32(field + " length");
            need(n, field);
            byte[] s = new byte[(int) n];
            b.get(s);
            int len = n > 0 && s[(int) n - 1] == 0 ? (int) n - 1 : (int) n;
            return new String(s, 0, len, StandardCharsets.UTF_8);
        }

        byte[] bytes(String field) {
            long n = u32(field + " length");
            need(n, field);
            byte[] out = new byte[(int) n];
            b.get(out);
            return out;
        }
    }
}
