package dev.segsa.nativelib;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A native buffer that grows (in its own shared arena, 64-byte aligned) and is then reused: the
 * per-frame buffers of the kernels, so that steady-state scoring allocates nothing. A segment it
 * returned stays valid until a larger {@link #ensure} or {@link #close}. Not thread-safe.
 */
public final class NativeBuffer implements AutoCloseable {
    private Arena arena;
    private MemorySegment segment;

    /** At least {@code bytes} bytes (the old contents are not kept when it grows). */
    public MemorySegment ensure(long bytes) {
        long need = Math.max(bytes, 64);
        if (segment == null || segment.byteSize() < need) {
            if (arena != null) arena.close();
            arena = Arena.ofShared();
            segment = arena.allocate(need, 64);
        }
        return segment;
    }

    /** Frees the memory (idempotent); a later {@link #ensure} allocates again. */
    @Override
    public void close() {
        if (arena != null) arena.close();
        arena = null;
        segment = null;
    }
}
