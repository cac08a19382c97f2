package dev.segsa.features;

import dev.segsa.error.SegsaException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import javax.imageio.ImageReader;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Reads camera frames (PNG, JPEG, BMP) into normalised channel-major float32 input, and label
 * masks (8-bit single-channel PNG of class ids) into per-pixel ints. Resizing, when asked for,
 * is bilinear (half-pixel centres) for frames and nearest for labels, so both stay aligned.
 */
public final class FrameReader {
    private static final List<String> IMAGE_EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp");

    private final int[] resize;
    private final FrameNormalizer normalizer;

    /** @param resize {width, height} or null to keep each frame's own size */
    public FrameReader(double[] mean, double[] std, int[] resize) {
        this.resize = resize == null ? null : resize.clone();
        this.normalizer = new FrameNormalizer(mean, std, resize);
    }

    /** Image files in {@code dir}, sorted by file name. */
    public static List<Path> listFrames(Path dir) {
        if (!Files.isDirectory(dir)) throw new SegsaException(dir + ": images directory not found");
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> frames = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return IMAGE_EXTENSIONS.stream().anyMatch(n::endsWith);
            }).sorted().toList();
            for (Path f : frames) {
                if (f.getFileName().toString().indexOf('\uFFFD') >= 0) {
                    throw new SegsaException(SegsaException.Kind.FRAME, f + ": the file name cannot be decoded in this process's charset (sun.jnu.encoding="
                            + System.getProperty("sun.jnu.encoding") + "); run with a UTF-8 locale, e.g. LC_ALL=C.UTF-8");
                }
            }
            if (frames.isEmpty()) throw new SegsaException(dir + ": no image files (.png, .jpg, .jpeg, .bmp)");
            return frames;
        } catch (IOException e) {
            throw new SegsaException(SegsaException.Kind.FRAME, dir + ": cannot list images: " + e.getMessage(), e);
        }
    }

    /** The label mask for a frame: same file name, in {@code labelDir}, with a .png extension tried too. */
    public static Path labelFor(Path frame, Path labelDir) {
        String name = frame.getFileName().toString();
        Path same = labelDir.resolve(name);
        if (Files.isRegularFile(same)) return same;
        int dot = name.lastIndexOf('.');
        Path png = labelDir.resolve((dot > 0 ? name.substring(0, dot) : name) + ".png");
        if (Files.isRegularFile(png)) return png;
        throw new SegsaException(SegsaException.Kind.FRAME, frame + ": no label file " + same + " for this frame");
    }

    /** Decodes a frame file (PNG, JPEG, BMP) with a message naming the file when it cannot. */
    public static BufferedImage readImage(Path file) {
        return decode(file, "image");
    }

    /** Default limit of {@link #maxPixels()}: 64 Mi pixels (e.g. 8192 x 8192). */
    public static final long DEFAULT_MAX_PIXELS = 64L << 20;
    private static volatile long maxPixels = Long.getLong("segsa.maxPixels", DEFAULT_MAX_PIXELS);

    /** The most pixels an image file may declare before it is decoded (system property segsa.maxPixels, --max-pixels). */
    public static long maxPixels() {
        return maxPixels;
    }

    public static void setMaxPixels(long limit) {
        if (limit < 1) throw new IllegalArgumentException("max pixels must be >= 1 (segsa: --max-pixels), got " + limit);
        maxPixels = limit;
    }

    /**
     * Decodes an image after checking the size its header declares against {@link #maxPixels()},
     * so a small file that declares a huge image is refused before anything is allocated. CMYK
     * JPEGs are refused (ImageIO would decode them with wrong colours).
     */
    private static BufferedImage decode(Path file, String what) {
        if (!Files.isRegularFile(file)) throw new SegsaException(SegsaException.Kind.FRAME, file + ": " + what + " not found");
        return decode(file.toFile(), file.toString(), what);
    }

    /** Decodes an encoded image held in memory (e.g. a row of Spark's binaryFile source); {@code name} names it in messages. */
    public static BufferedImage readImage(byte[] encoded, String name) {
        return decode(new java.io.ByteArrayInputStream(encoded), name, "image");
    }

    /** {@link #readLabels(Path, Path, int, int, int, int)} of a mask held in memory. */
    public static int[] readLabels(byte[] encoded, String name, String frameName, int sourceWidth, int sourceHeight, int width,
                                   int height) {
        return labels(decode(new java.io.ByteArrayInputStream(encoded), name, "label mask"), name, frameName, sourceWidth,
                sourceHeight, width, height);
    }

    private static BufferedImage decode(Object source, String file, String what) {
        try (ImageInputStream in = ImageIO.createImageInputStream(source)) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new SegsaException(SegsaException.Kind.FRAME, file + ": cannot decode " + what + ": not a PNG, JPEG or BMP image");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0), h = reader.getHeight(0);
                long pixels = (long) w * h;
                if (w <= 0 || h <= 0 || pixels > maxPixels) {
                    throw new SegsaException(SegsaException.Kind.FRAME, file + ": " + what + " declares " + w + "x" + h + " = " + pixels
                            + " pixels, above the limit of " + maxPixels
                            + " (raise it with FrameReader.setMaxPixels; segsa: --max-pixels)");
                }
                if (jpegComponents(reader) == 4) {
                    throw new SegsaException(SegsaException.Kind.FRAME, file + ": " + what + " is a CMYK (4-component) JPEG, which is not supported: "
                            + "convert it to RGB");
                }
                BufferedImage img = reader.read(0);
                if (img == null) throw new SegsaException(SegsaException.Kind.FRAME, file + ": cannot decode " + what + ": no image in the file");
                return img;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof SegsaException se) throw se;
            throw new SegsaException(SegsaException.Kind.FRAME, file + ": cannot decode " + what + " (corrupt or unsupported image): " + e.getMessage(), e);
        }
    }

    /** The number of colour components of a JPEG's frame header, 0 when not a JPEG or unknown. */
    private static int jpegComponents(ImageReader reader) {
        try {
            if (!"jpeg".equalsIgnoreCase(reader.getFormatName())) return 0;
            IIOMetadata meta = reader.getImageMetadata(0);
            if (meta == null) return 0;
            org.w3c.dom.Node root = meta.getAsTree("javax_imageio_jpeg_image_1.0");
            org.w3c.dom.NodeList sof = ((org.w3c.dom.Element) root).getElementsByTagName("sof");
            if (sof.getLength() == 0) return 0;
            org.w3c.dom.Node n = sof.item(0).getAttributes().getNamedItem("numFrameComponents");
            return n == null ? 0 : Integer.parseInt(n.getNodeValue());
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Output size {width, height} of a frame after the optional resize. */
    public int[] outputSize(BufferedImage img) {
        return resize != null ? resize.clone() : new int[] {img.getWidth(), img.getHeight()};
    }

    /** A decoded frame: RGB scaled to [0,1], normalised, channel-major [3, height, width]. */
    public record Frame(float[] chw, int width, int height, int sourceWidth, int sourceHeight) {}

    public Frame readFrame(Path file, float[] reuse) {
        BufferedImage img = decode(file, "image");
        int sw = img.getWidth(), sh = img.getHeight();
        int[] size = outputSize(img);
        int w = size[0], h = size[1];
        float[] out = reuse != null && reuse.length >= 3 * w * h ? reuse : new float[3 * w * h];
        normalizer.fromImage(img, MemorySegment.ofArray(out), file.toString());
        return new Frame(out, w, h, sw, sh);
    }

    /**
     * Reads a label mask and checks it against the frame's output size.
     *
     * @param sourceWidth  width of the frame file (before any resize): the mask must match it
     * @param sourceHeight height of the frame file
     */
    public static int[] readLabels(Path file, Path frame, int sourceWidth, int sourceHeight, int width, int height) {
        return labels(decode(file, "label mask"), file.toString(), frame.getFileName().toString(), sourceWidth, sourceHeight,
                width, height);
    }

    private static int[] labels(BufferedImage img, String file, String frame, int sourceWidth, int sourceHeight, int width,
                                int height) {
        Raster r = img.getRaster();
        if (r.getNumBands() != 1 || r.getSampleModel().getSampleSize(0) > 8) {
            throw new SegsaException(SegsaException.Kind.FRAME, file + ": label mask must be an 8-bit single-channel (grayscale or palette) PNG of class ids, got "
                    + r.getNumBands() + " band(s) of " + r.getSampleModel().getSampleSize(0) + " bits");
        }
        if (img.getWidth() != sourceWidth || img.getHeight() != sourceHeight) {
            throw new SegsaException(SegsaException.Kind.FRAME, file + ": label mask is " + img.getWidth() + "x" + img.getHeight() + " but frame "
                    + frame + " is " + sourceWidth + "x" + sourceHeight);
        }
        int[] src = r.getSamples(0, 0, sourceWidth, sourceHeight, 0, (int[]) null);
        return resizeLabels(src, sourceWidth, sourceHeight, width, height);
    }

    /** Label ids [sourceHeight x sourceWidth] resized (nearest) to width x height; the same array when the sizes match. */
    public static int[] resizeLabels(int[] src, int sourceWidth, int sourceHeight, int width, int height) {
        if (width == sourceWidth && height == sourceHeight) return src;
        AxisInterpolation rows = AxisInterpolation.of(UpsampleMode.NEAREST, sourceHeight, height);
        AxisInterpolation cols = AxisInterpolation.of(UpsampleMode.NEAREST, sourceWidth, width);
        int[] out = new int[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) out[y * width + x] = src[rows.lo[y] * sourceWidth + cols.lo[x]];
        }
        return out;
    }

    /** Size {width, height} of an image file without decoding its pixels where the reader allows. */
    public static int[] imageSize(Path file) {
        try (var in = ImageIO.createImageInputStream(file.toFile())) {
            var readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers != null && readers.hasNext()) {
                var reader = readers.next();
                try {
                    reader.setInput(in);
                    return new int[] {reader.getWidth(0), reader.getHeight(0)};
                } finally {
                    reader.dispose();
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new SegsaException(SegsaException.Kind.FRAME, file + ": cannot read image header (corrupt or unsupported image): " + e.getMessage(), e);
        }
        throw new SegsaException(SegsaException.Kind.FRAME, file + ": cannot decode image: not a PNG, JPEG or BMP image");
    }
}
