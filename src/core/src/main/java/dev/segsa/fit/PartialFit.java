package dev.segsa.fit;

import dev.segsa.error.SegsaException;
import dev.segsa.features.UpsampleMode;
import dev.segsa.samodel.ClassStatistics;
import dev.segsa.samodel.SaModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * What a fit has gathered so far from some of the training frames: per class the exact count,
 * mean and co-moment of the activation traces of every labelled pixel, and the mergeable
 * reference sample ({@link ReferenceSample}). Two partial fits of disjoint frames merge exactly
 * ({@link #merge}: Chan et al. for the moments, the smallest keys for the sample), so a fit
 * split over threads, processes or cluster nodes and merged equals the one-pass fit (to
 * float64 rounding for the moments, identically for the references). {@link #finish} gives the
 * SA model. Not thread-safe; {@link #merge} leaves both operands unchanged.
 */
public final class PartialFit {
    /** What must agree for two partial fits to merge: the model and every setting of the fit. */
    public record Settings(String modelFile, String modelSha256, UpsampleMode upsample, double[] mean, double[] std,
                           int[] resize, int ignoreLabel, List<String> configuredClassNames, int lsaReferences, long seed) {
        public Settings {
            Objects.requireNonNull(modelSha256, "modelSha256");
            Objects.requireNonNull(upsample, "upsample");
            if (lsaReferences < 0) throw new IllegalArgumentException("lsaReferences must be >= 0 (segsa fit: --lsa-references), got "
                    + lsaReferences);
        }

        boolean sameAs(Settings o) {
            return modelSha256.equals(o.modelSha256) && upsample == o.upsample && Arrays.equals(mean, o.mean)
                    && Arrays.equals(std, o.std) && Arrays.equals(resize, o.resize) && ignoreLabel == o.ignoreLabel
                    && Objects.equals(configuredClassNames, o.configuredClassNames) && lsaReferences == o.lsaReferences
                    && seed == o.seed;
        }

        List<String> classNamesFor(int classes) {
            List<String> out = new ArrayList<>(classes);
            for (int c = 0; c < classes; c++) {
                out.add(configuredClassNames != null && c < configuredClassNames.size() ? configuredClassNames.get(c)
                        : Integer.toString(c));
            }
            return out;
        }
    }

    private final Settings settings;
    private int classes = -1;
    private int d = -1;
    private ClassStatistics[] statistics;
    private ReferenceSample[] samples;
    private int frames;
    private final List<String> notes = new ArrayList<>();

    public PartialFit(Settings settings) {
        this.settings = Objects.requireNonNull(settings);
    }

    public Settings settings() {
        return settings;
    }

    /** Frames accumulated. */
    public int frames() {
        return frames;
    }

    /** -1 until the first frame. */
    public int classes() {
        return classes;
    }

    /** -1 until the first frame. */
    public int featureDimension() {
        return d;
    }

    /** Notes so far (frames skipped, and why). */
    public List<String> notes() {
        return List.copyOf(notes);
    }

    /** Sets the shape on the first frame, or checks it against earlier frames. */
    void shape(int classes, int d, String frame) {
        if (this.classes < 0) {
            this.classes = classes;
            this.d = d;
            statistics = new ClassStatistics[classes];
            samples = new ReferenceSample[classes];
            for (int c = 0; c < classes; c++) {
                statistics[c] = new ClassStatistics(d);
                samples[c] = new ReferenceSample(settings.lsaReferences(), d);
            }
        } else if (classes != this.classes || d != this.d) {
            throw new SegsaException(SegsaException.Kind.MODEL, frame + ": model returned " + classes + " classes and " + d
                    + " features, earlier frames gave " + this.classes + " and " + this.d);
        }
    }

    ClassStatistics[] statistics() {
        return statistics;
    }

    ReferenceSample[] samples() {
        return samples;
    }

    void frameDone() {
        frames++;
    }

    void note(String note) {
        notes.add(note);
    }

    private static final int MAGIC = 0x53475046; // "SGPF"
    private static final int VERSION = 1;

    /**
     * The partial fit as bytes, exactly (float64 moments bit for bit, the sample's keys and
     * traces): for shipping partial fits between processes, e.g. Spark tasks to the driver.
     */
    public byte[] toBytes() {
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(buf)) {
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            Settings s = settings;
            writeString(out, s.modelFile());
            writeString(out, s.modelSha256());
            out.writeUTF(s.upsample().name());
            writeDoubles(out, s.mean());
            writeDoubles(out, s.std());
            out.writeBoolean(s.resize() != null);
            if (s.resize() != null) {
                out.writeInt(s.resize().length);
                for (int v : s.resize()) out.writeInt(v);
            }
            out.writeInt(s.ignoreLabel());
            out.writeBoolean(s.configuredClassNames() != null);
            if (s.configuredClassNames() != null) {
                out.writeInt(s.configuredClassNames().size());
                for (String n : s.configuredClassNames()) writeString(out, n);
            }
            out.writeInt(s.lsaReferences());
            out.writeLong(s.seed());
            out.writeInt(frames);
            out.writeInt(notes.size());
            for (String n : notes) writeString(out, n);
            out.writeInt(classes);
            out.writeInt(d);
            for (int c = 0; c < Math.max(classes, 0); c++) {
                ClassStatistics st = statistics[c];
                out.writeLong(st.count());
                writeDoubles(out, st.mean());
                writeDoubles(out, st.comoment());
                samples[c].write(out);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return buf.toByteArray();
    }

    /**
     * The partial fit {@link #toBytes} wrote. A corrupt, crafted or foreign array is one
     * {@link SegsaException} naming the field: every declared count and size is checked against the
     * bytes that remain (and the model contract's limits: 65535 classes, 4096 features) before
     * anything is allocated.
     */
    public static PartialFit fromBytes(byte[] bytes) {
        String[] field = {"magic"};
        try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
            if (in.readInt() != MAGIC) throw new SegsaException("not a segsa partial fit (bad magic)");
            field[0] = "version";
            int version = in.readInt();
            if (version != VERSION) throw new SegsaException("partial fit of version " + version + ", this segsa reads " + VERSION);
            field[0] = "model file";
            String modelFile = readString(in);
            field[0] = "model SHA-256";
            String sha = readString(in);
            field[0] = "upsample mode";
            UpsampleMode up = UpsampleMode.valueOf(in.readUTF());
            field[0] = "mean";
            double[] mean = readDoubles(in);
            field[0] = "std";
            double[] std = readDoubles(in);
            int[] resize = null;
            field[0] = "resize";
            if (in.readBoolean()) {
                int n = in.readInt();
                if (n != 2) throw new SegsaException("declares " + n + " values, a resize is WxH");
                resize = new int[] {in.readInt(), in.readInt()};
            }
            field[0] = "ignore label";
            int ignore = in.readInt();
            List<String> names = null;
            field[0] = "class names";
            if (in.readBoolean()) {
                int n = in.readInt();
                count(n, 1, in, "class names");
                names = new ArrayList<>(n);
                for (int i = 0; i < n; i++) names.add(readString(in));
            }
            field[0] = "LSA references";
            int lsa = in.readInt();
            if (lsa < 0) throw new SegsaException("is " + lsa);
            field[0] = "seed";
            long seed = in.readLong();
            PartialFit p = new PartialFit(new Settings(modelFile, sha, up, mean, std, resize, ignore, names, lsa, seed));
            field[0] = "frames";
            p.frames = in.readInt();
            if (p.frames < 0) throw new SegsaException("is " + p.frames);
            field[0] = "notes";
            int nn = in.readInt();
            count(nn, 1, in, "notes");
            for (int i = 0; i < nn; i++) p.notes.add(readString(in));
            field[0] = "classes and features";
            int classes = in.readInt(), d = in.readInt();
            if (classes >= 0) {
                if (classes > 65535 || d < 1 || d > dev.segsa.model.SegmentationModel.MAX_FEATURES) {
                    throw new SegsaException(classes + " classes and " + d + " features, outside 0..65535 and 1.."
                            + dev.segsa.model.SegmentationModel.MAX_FEATURES);
                }
                // every class stores at least its count, its mean and its co-moment: all present, or the bytes are short
                long perClass = 8 + 5 + 8L * d + 5 + 8L * d * d + 12;
                if ((long) classes * perClass > in.available()) {
                    throw new SegsaException(classes + " classes of " + d + " features need at least " + (long) classes * perClass
                            + " bytes, " + in.available() + " remain");
                }
                if ((long) lsa * d > (1L << 28)) throw new SegsaException(lsa + " LSA references of " + d + " features is above the limit");
                p.shape(classes, d, "partial fit");
                for (int c = 0; c < classes; c++) {
                    field[0] = "class " + c + " count";
                    long count = in.readLong();
                    if (count < 0) throw new SegsaException("is " + count);
                    field[0] = "class " + c + " mean";
                    double[] m = readDoubles(in);
                    field[0] = "class " + c + " co-moment";
                    double[] cm = readDoubles(in);
                    if (count > 0) {
                        if (m == null || m.length != d || cm == null || cm.length != (long) d * d) {
                            throw new SegsaException("mean of " + (m == null ? "none" : m.length) + " and co-moment of "
                                    + (cm == null ? "none" : cm.length) + " values for " + d + " features");
                        }
                        p.statistics[c] = ClassStatistics.of(d, count, m, cm);
                    }
                    field[0] = "class " + c + " reference sample";
                    p.samples[c] = ReferenceSample.read(in, lsa, d, in.available());
                }
            }
            field[0] = "end";
            if (in.read() != -1) throw new SegsaException("trailing bytes");
            return p;
        } catch (SegsaException e) {
            throw new SegsaException("corrupt partial fit: " + field[0] + ": " + e.getMessage(), e);
        } catch (java.io.IOException | RuntimeException e) {
            throw new SegsaException("corrupt partial fit: " + field[0] + ": " + (e instanceof java.io.EOFException ? "the bytes end here"
                    : e.getMessage()), e);
        }
    }

    /** A declared count of items of at least {@code minBytes} each, against the bytes that remain. */
    private static void count(int n, int minBytes, java.io.DataInputStream in, String what) throws java.io.IOException {
        if (n < 0 || (long) n * minBytes > in.available()) {
            throw new SegsaException(what + ": " + n + " declared, " + in.available() + " bytes remain");
        }
    }

    private static void writeString(java.io.DataOutputStream out, String s) throws java.io.IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            out.writeInt(b.length);
            out.write(b);
        }
    }

    private static String readString(java.io.DataInputStream in) throws java.io.IOException {
        if (!in.readBoolean()) return null;
        int n = in.readInt();
        if (n < 0 || n > (1 << 24) || n > in.available()) throw new java.io.IOException("string of " + n + " bytes, " + in.available() + " remain");
        return new String(in.readNBytes(n), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void writeDoubles(java.io.DataOutputStream out, double[] v) throws java.io.IOException {
        out.writeBoolean(v != null);
        if (v == null) return;
        out.writeInt(v.length);
        for (double x : v) out.writeDouble(x);
    }

    private static double[] readDoubles(java.io.DataInputStream in) throws java.io.IOException {
        if (!in.readBoolean()) return null;
        int n = in.readInt();
        if (n < 0 || n > (1 << 28) || 8L * n > in.available()) {
            throw new java.io.IOException("array of " + n + " doubles, " + in.available() + " bytes remain");
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = in.readDouble();
        return v;
    }

    /** A new partial fit of both operands' frames (which must be disjoint). */
    public PartialFit merge(PartialFit other) {
        if (!settings.sameAs(other.settings)) {
            throw new SegsaException("cannot merge partial fits made with different models or settings (model sha256 "
                    + settings.modelSha256() + " vs " + other.settings.modelSha256() + ")");
        }
        if (classes >= 0 && other.classes >= 0 && (classes != other.classes || d != other.d)) {
            throw new SegsaException("cannot merge partial fits of " + classes + " classes x d=" + d + " and " + other.classes
                    + " classes x d=" + other.d);
        }
        PartialFit out = new PartialFit(settings);
        for (PartialFit p : List.of(this, other)) {
            if (p.classes < 0) {
                out.notes.addAll(p.notes);
                out.frames += p.frames;
                continue;
            }
            out.shape(p.classes, p.d, "merge");
            for (int c = 0; c < p.classes; c++) {
                out.statistics[c].merge(p.statistics[c]);
                out.samples[c].merge(p.samples[c]);
            }
            out.frames += p.frames;
            out.notes.addAll(p.notes);
        }
        return out;
    }

    /**
     * The SA model of the frames gathered; the models are derived once so that ridges and
     * dropped features are reported in its notes.
     *
     * @throws SegsaException of kind {@link SegsaException.Kind#OTHER} when no frame was usable
     */
    public SaModel finish() {
        if (frames == 0 || classes < 0) {
            throw new SegsaException(SegsaException.Kind.OTHER, "no usable training frame"
                    + (notes.isEmpty() ? "" : ": " + String.join("; ", notes)));
        }
        List<String> allNotes = new ArrayList<>(notes);
        double[][] refs = null;
        if (settings.lsaReferences() > 0) {
            refs = new double[classes][];
            for (int c = 0; c < classes; c++) refs[c] = samples[c].traces();
        }
        ClassStatistics[] stats = new ClassStatistics[classes];
        for (int c = 0; c < classes; c++) {
            stats[c] = new ClassStatistics(d);
            stats[c].merge(statistics[c]);
        }
        SaModel.FitSettings fs = new SaModel.FitSettings(settings.modelFile(), settings.modelSha256(), settings.upsample(),
                settings.mean(), settings.std(), settings.resize(), settings.ignoreLabel(), settings.classNamesFor(classes), d,
                settings.lsaReferences(), settings.seed(), frames, allNotes);
        SaModel sa = new SaModel(fs, stats, refs);
        List<String> modelNotes = new ArrayList<>();
        sa.mahalanobisModels(modelNotes);
        sa.kdeModels(modelNotes);
        allNotes.addAll(modelNotes);
        return sa;
    }
}
