package dev.segsa.error;

/**
 * The one exception type for errors a user can act on: bad input files, contract violations by a
 * model, failed fits and native status codes. The message names the file or object and the
 * problem; {@link #code()} is the native status code, or 0 for errors raised in Java.
 */
public class SegsaException extends RuntimeException {
    private final int code;

    public SegsaException(String message) {
        this(message, 0, null);
    }

    public SegsaException(String message, Throwable cause) {
        this(message, 0, cause);
    }

    public SegsaException(String message, int code, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** Native status code (see native/segsa.h), 0 when the error did not come from native code. */
    public int code() {
        return code;
    }
}
