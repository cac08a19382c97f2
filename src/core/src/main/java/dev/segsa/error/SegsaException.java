package dev.segsa.error;

/**
 * The one exception type for errors a user can act on: bad input files, contract violations by a
 * model, failed fits and native status codes. The message names the file or object and the
 * problem; {@link #kind()} says what kind of input was at fault, for callers that handle them
 * differently (as ONNX Runtime's {@code OrtException} carries an error code), and {@link #code()}
 * is the native status code, or 0 for errors raised in Java. An engine used after
 * {@code close()} throws {@link IllegalStateException}, not this.
 */
public class SegsaException extends RuntimeException {
    /** What was at fault. */
    public enum Kind {
        /** A frame: its pixels, size, format or image file (skip it and go on). */
        FRAME,
        /** The TorchScript model: it does not load, breaks the output contract, touches files, or its forward raised. */
        MODEL,
        /** The SA model file: missing, corrupt, or fitted with another model. */
        SA_FILE,
        /** The native kernels returned a status ({@link #code()}). */
        NATIVE,
        /** The run was stopped on request (SIGINT / SIGTERM). */
        STOPPED,
        /** Anything else: other input files (scores, labels, configuration), outputs, options. */
        OTHER
    }

    private final int code;
    private final Kind kind;

    public SegsaException(String message) {
        this(message, 0, null);
    }

    public SegsaException(String message, Throwable cause) {
        this(message, 0, cause);
    }

    public SegsaException(String message, int code, Throwable cause) {
        this(code != 0 ? Kind.NATIVE : Kind.OTHER, message, code, cause);
    }

    public SegsaException(Kind kind, String message) {
        this(kind, message, 0, null);
    }

    public SegsaException(Kind kind, String message, Throwable cause) {
        this(kind, message, 0, cause);
    }

    public SegsaException(Kind kind, String message, int code, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
    }

    /** Native status code (see native/segsa.h), 0 when the error did not come from native code. */
    public int code() {
        return code;
    }

    public Kind kind() {
        return kind;
    }

    /** This error as {@code kind} when it has none more specific yet (same message and code); else this. */
    public SegsaException withKind(Kind kind) {
        if (this.kind != Kind.OTHER) return this;
        SegsaException e = new SegsaException(kind, getMessage(), code, this);
        e.setStackTrace(getStackTrace());
        return e;
    }
}
