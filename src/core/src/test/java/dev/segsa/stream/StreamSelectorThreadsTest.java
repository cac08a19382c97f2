package dev.segsa.stream;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.*;

/** A selector used from two threads at once stays whole: every frame counted and decided once, no exception. */
class StreamSelectorThreadsTest {
    @Test
    void twoThreadsOfferingAtOnceLoseNothing() throws Exception {
        StreamSelector s = new StreamSelector(SelectorConfig.imageSaShare(0.1));
        int perThread = 20_000;
        ConcurrentHashMap<Long, StreamSelector.Decision> decided = new ConcurrentHashMap<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int source = t;
            threads.add(Thread.ofPlatform().start(() -> {
                SplittableRandom r = new SplittableRandom(source);
                try {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        for (StreamSelector.Decision d : s.offer(source, StreamSelectorTest.frame(5 + r.nextGaussian()), i / 30.0, FrameDescriptor.NONE, 0)) {
                            assertNull(decided.put(d.frame(), d), "frame " + d.frame() + " decided twice");
                        }
                        if (i % 100 == 0) s.skipped(source, 1);
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }));
        }
        start.countDown();
        for (Thread t : threads) t.join();
        assertEquals(List.of(), errors);
        for (StreamSelector.Decision d : s.flush()) assertNull(decided.put(d.frame(), d));
        StreamSelector.Stats st = s.stats();
        assertEquals(2L * perThread + 2 * (perThread / 100), st.seen());
        assertEquals(2L * perThread, decided.size(), "every scored frame decided once");
        assertEquals(st.kept(), decided.values().stream().filter(StreamSelector.Decision::keep).count());
    }
}
