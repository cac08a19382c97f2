package dev.segsa.samodel;

import dev.segsa.features.UpsampleMode;

import java.util.ArrayList;
import java.util.List;

/**
 * Everything {@code segsa fit} learned, and the settings it learned it under: per class, the
 * exact statistics of the activation traces of all its training pixels and the sampled LSA
 * reference traces. The Gaussian models are derived from the statistics deterministically
 * ({@link #mahalanobisModels(List)}, {@link #kdeModels(List)}), so statistics from several fits merge.
 *
 * @param references     per class, [n x d] row-major, or null when LSA was skipped
 * @param frameReference the fit frames' class MDSA distributions behind the class-aware frame
 *                       score, or null (an SA file written before segsa recorded it, or a fit that
 *                       did not score its frames)
 */
public record SaModel(FitSettings settings, ClassStatistics[] statistics, double[][] references,
                      ClassFrameReference frameReference) {

    public SaModel(FitSettings settings, ClassStatistics[] statistics, double[][] references) {
        this(settings, statistics, references, null);
    }

    /** This model with the fit frames' class MDSA distributions. */
    public SaModel withFrameReference(ClassFrameReference reference) {
        if (reference != null && reference.classes() != statistics.length) {
            throw new IllegalArgumentException("class frame reference has " + reference.classes() + " classes, the model " + statistics.length);
        }
        return new SaModel(settings, statistics, references, reference);
    }

    /** The settings of a fit, stored in the SA model file's header. */
    public record FitSettings(String modelFile, String modelSha256, UpsampleMode upsample, double[] mean, double[] std,
                              int[] resize, int ignoreLabel, List<String> classNames, int featureDimension,
                              int lsaReferences, long seed, int frames, List<String> notes) {}

    public int classes() {
        return statistics.length;
    }

    /**
     * A SHA-256 of what the MDSA of a pixel depends on: the segmentation model's hash, the class
     * names and every class's pixel count, mean and co-moment. Two SA models with the same
     * fingerprint give the same MDSA; a risk model records it to refuse another SA model.
     */
    public String fingerprint() {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(settings.modelSha256().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            for (String n : settings.classNames()) {
                md.update(n.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8);
            for (ClassStatistics st : statistics) {
                md.update(b.clear().putLong(st.count()).array());
                for (double v : st.mean()) md.update(b.clear().putDouble(v).array());
                for (double v : st.comoment()) md.update(b.clear().putDouble(v).array());
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** MDSA models per class; null for classes with fewer than 2 training pixels. Notes go to {@code notes}. */
    public MahalanobisModel[] mahalanobisModels(List<String> notes) {
        MahalanobisModel[] out = new MahalanobisModel[classes()];
        for (int c = 0; c < classes(); c++) {
            String name = settings.classNames().get(c);
            if (statistics[c].count() < 2) {
                notes.add("class " + c + " (" + name + "): " + statistics[c].count()
                        + " training pixels, no MDSA model; its pixels are not scored");
                continue;
            }
            if (!finite(statistics[c].mean()) || !finite(statistics[c].comoment())) {
                notes.add("class " + c + " (" + name + "): non-finite mean or covariance, no MDSA model; its pixels are not scored");
                continue;
            }
            try {
                out[c] = MahalanobisModel.fit(c, name, statistics[c]);
                notes.addAll(out[c].whitening().notes());
            } catch (FitException e) {
                notes.add(e.getMessage() + "; no MDSA model, its pixels are not scored");
            }
        }
        return out;
    }

    /** LSA models per class; null where a class has fewer than 2 references. */
    public KdeModel[] kdeModels(List<String> notes) {
        KdeModel[] out = new KdeModel[classes()];
        if (references == null) return out;
        int d = settings.featureDimension();
        for (int c = 0; c < classes(); c++) {
            String name = settings.classNames().get(c);
            int n = references[c] == null ? 0 : references[c].length / d;
            if (n < 2) {
                notes.add("class " + c + " (" + name + "): " + n + " LSA references, no LSA model; its pixels get no LSA");
                continue;
            }
            if (!finite(references[c])) {
                notes.add("class " + c + " (" + name + "): non-finite LSA references, no LSA model; its pixels get no LSA");
                continue;
            }
            try {
                out[c] = KdeModel.fit(c, name, references[c], n, d);
                notes.addAll(out[c].bandwidth().notes());
            } catch (FitException e) {
                notes.add(e.getMessage() + "; no LSA model, its pixels get no LSA");
            }
        }
        return out;
    }

    private static boolean finite(double[] v) {
        for (double x : v) if (!Double.isFinite(x)) return false;
        return true;
    }

    public static List<String> newNotes() {
        return new ArrayList<>();
    }
}
