package dev.segsa.model;

import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Identity of model files: the SHA-256 of their bytes, stored with a fit and checked at scoring. */
public final class ModelFiles {
    private ModelFiles() {}

    /** @throws SegsaException of kind {@link SegsaException.Kind#MODEL} when the file is missing or cannot be read */
    public static String sha256(Path file) {
        if (!Files.isRegularFile(file)) throw new SegsaException(SegsaException.Kind.MODEL, file + ": model file not found");
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new SegsaException(SegsaException.Kind.MODEL, file + ": cannot read model file: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
