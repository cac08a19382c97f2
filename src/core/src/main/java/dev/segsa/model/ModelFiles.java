package dev.segsa.model;

import dev.segsa.error.SegsaException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Identity of model files: the SHA-256 of their bytes, stored with a fit and checked at scoring. */
public final class ModelFiles {
    private ModelFiles() {}

    /** @throws SegsaException of kind {@link SegsaException.Kind#MODEL} when the file is missing or cannot be read */
    public static String sha256(Path file) {
        if (!Files.isRegularFile(file)) throw new SegsaException(SegsaException.Kind.MODEL, file + ": model file not found");
        try {
            return dev.segsa.io.FileDigest.sha256(file);
        } catch (IOException e) {
            throw new SegsaException(SegsaException.Kind.MODEL, file + ": cannot read model file: " + e.getMessage(), e);
        }
    }
}
