package dev.segsa.samodel;

import dev.segsa.error.SegsaException;

/** A model could not be fitted from the given statistics. */
public final class FitException extends SegsaException {
    public FitException(String message) {
        super(message);
    }
}
