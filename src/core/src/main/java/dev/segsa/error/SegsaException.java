package dev.segsa.error;

/**
 * The one exception type for errors a user can act on: bad input files, contract violations by a
 * model, failed fits and native status codes. The message names the file or object and the
 * problem; {@link #kind()} says what kind of input was at fault, for callers that handle them
 * differently (as ONNX Runtime's {@code OrtException} carries an error code), and {@link #code()}
 * is the native status code, or 0 for errors raised in Java. An engine used after
 * {@code close()} throws {@link IllegalStateException}, not this.
 *
 * <p>The front door ({@code dev.segsa.Segsa}, {@code Segsa.Builder}, {@code SegsaFit} and its
 * builder) documents on every throwing method the kinds it throws, and throws no others
 * ({@code ErrorKindsTest}). Its messages are written for library users: where a message suggests
 * an option it names the builder method first and the command line's flag after it, e.g.
 * {@code "pass Segsa.Builder.allowModelMismatch(true) (segsa: --allow-model-mismatch)"}; the
 * command line prints the messages as they are.
 */
public class SegsaException extends RuntimeException {
    /** What was at fault. */
    public enum Kind {
        /**
         * A frame: its pixels, size, format, image file, label mask or name (skip it and go on); also a
         * damaged frame of a video.
         */
        FRAME,
        /**
         * The TorchScript model: its file is missing or unreadable, it does not load (not TorchScript),
         * its metadata is invalid, it touches files (refused unless trusted), it breaks the output
         * contract, its forward raised, or its optimised module does not match it.
         */
        MODEL,
        /**
         * The SA model file: missing, corrupt, fitted with another model (or, when a mismatch is
         * allowed, with other classes or feature dimension than the model gives), without the LSA
         * references LSA needs; or a risk model fitted for another model, SA model or classes.
         */
        SA_FILE,
        /**
         * Native code: the kernels returned a status ({@link #code()}), or a native library
         * (libsegsa_cpu, libsegsa_cuda, LibTorch) does not load, or a requested backend cannot start.
         */
        NATIVE,
        /** The run was stopped on request (SIGINT / SIGTERM, {@code dev.segsa.io.StopRequest}). */
        STOPPED,
        /**
         * Anything else: other input files (folders, videos, scores, configuration), outputs, options
         * (an unknown backend name, options that do not go together), a fit without usable frames.
         */
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
