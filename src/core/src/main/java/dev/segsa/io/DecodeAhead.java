package dev.segsa.io;

import dev.segsa.error.SegsaException;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Items made ahead of use by one background thread, through a bounded queue (memory stays flat),
 * handed out in the order they were made. An error the producer raises (an {@link Error}
 * included, so the consumer never waits for ever) comes out of {@link #next()} at its place in
 * the sequence, on the consumer's thread, as a {@link SegsaException}; the sequence ends there.
 * One consumer; {@link #close()} stops the producer.
 *
 * @param <T> what is made, e.g. a decoded frame
 */
public final class DecodeAhead<T> implements Iterator<T>, AutoCloseable {
    /** Makes the next item, or returns null at the end. May block (and be interrupted by close). */
    @FunctionalInterface
    public interface Producer<T> {
        T next() throws InterruptedException;
    }

    private static final Object END = new Object();

    private final String source;
    private final BlockingQueue<Object> queue;
    private final Thread thread;
    private volatile boolean stopped;
    private Object head;

    /**
     * @param source names what is decoded in messages (a folder, a video file)
     * @param depth  items made ahead (at least 1)
     */
    public DecodeAhead(String threadName, String source, int depth, Producer<T> producer) {
        if (depth < 1) throw new IllegalArgumentException("items made ahead must be >= 1, got " + depth);
        this.source = source;
        this.queue = new ArrayBlockingQueue<>(depth);
        this.thread = Thread.ofPlatform().daemon().name(threadName).start(() -> run(producer));
    }

    private void run(Producer<T> producer) {
        try {
            while (!stopped) {
                Object item;
                try {
                    item = producer.next();
                } catch (RuntimeException e) {
                    queue.put(e);
                    return;
                } catch (Error e) {
                    queue.put(new SegsaException(source + ": decoding failed: " + e, e));
                    return;
                }
                if (item == null) {
                    queue.put(END);
                    return;
                }
                queue.put(item);
            }
        } catch (InterruptedException e) {
            // close(): stop quietly
        }
    }

    @Override
    public boolean hasNext() {
        if (head == null) {
            try {
                head = queue.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SegsaException(source + ": interrupted while waiting for the next decoded item", e);
            }
        }
        return head != END;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T next() {
        if (!hasNext()) throw new NoSuchElementException();
        Object h = head;
        head = null;
        if (h instanceof RuntimeException e) {
            head = END;
            // rethrown on the consumer's thread, with the producer's message (it names the file)
            if (e instanceof SegsaException s) throw new SegsaException(s.kind(), s.getMessage(), s.code(), s);
            throw new SegsaException(source + ": " + e, e);
        }
        return (T) h;
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
        queue.clear();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the decoding thread has ended (after {@link #close()}: false when it is stuck in a read that ignores interrupts). */
    public boolean ended() {
        return !thread.isAlive();
    }
}
