package dev.segsa.features;

import dev.segsa.error.SegsaException;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
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
            if (frames.isEmpty()) throw new SegsaException(dir + ": no image files (.png, .jpg, .jpeg, .bmp)");
            return frames;
        } catch (IOException e) {
            throw new SegsaException(dir + ": cannot list images: " + e.getMessage(), e);
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
        throw new SegsaException(frame + ": no label file " + same + " for this frame");
    }

    /** Decodes a frame file (PNG, JPEG, BMP) with a message naming the file when it cannot. */
    public static BufferedImage readImage(Path file) {
        return decode(file, "image");
    }

    private static BufferedImage decode(Path file, String what) {
        if (!Files.isRegularFile(file)) throw new SegsaException(file + ": " + what + " not found");
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new SegsaException(file + ": cannot decode " + what + " (corrupt or unsupported image): " + e.getMessage(), e);
        }
        if (img == null) throw new SegsaException(file + ": cannot decode " + what + ": not a PNG, JPEG or BMP image");
        return img;
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
        BufferedImage img = decode(file, "label mask");
        Raster r = img.getRaster();
        if (r.getNumBands() != 1 || r.getSampleModel().getSampleSize(0) > 8) {
            throw new SegsaException(file + ": label mask must be an 8-bit single-channel (grayscale or palette) PNG of class ids, got "
                    + r.getNumBands() + " band(s) of " + r.getSampleModel().getSampleSize(0) + " bits");
        }
        if (img.getWidth() != sourceWidth || img.getHeight() != sourceHeight) {
            throw new SegsaException(file + ": label mask is " + img.getWidth() + "x" + img.getHeight() + " but frame "
                    + frame.getFileName() + " is " + sourceWidth + "x" + sourceHeight);
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
            throw new SegsaException(file + ": cannot read image header (corrupt or unsupported image): " + e.getMessage(), e);
        }
        throw new SegsaException(file + ": cannot decode image: not a PNG, JPEG or BMP image");
    }
}
