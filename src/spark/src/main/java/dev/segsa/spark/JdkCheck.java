package dev.segsa.spark;

import dev.segsa.error.SegsaException;

/**
 * The JDK check of the Spark jobs. Spark 4.2 supports JDK 25 only from 25.0.3: earlier 25.0.x
 * releases have a G1 bug that corrupted Parquet/zstd data under Spark. segsa itself needs JDK 25.
 */
public final class JdkCheck {
    private JdkCheck() {}

    /** Null when {@code v} can run the Spark jobs, else the reason it cannot. */
    public static String problem(Runtime.Version v) {
        if (v.feature() < 25) return "segsa needs JDK 25 or later, this JVM is " + v;
        if (v.feature() == 25 && v.update() < 3) {
            return "Spark 4.2 supports JDK 25 only from 25.0.3 (earlier 25.0.x has a G1 garbage-collector bug that corrupted "
                    + "Parquet/zstd data); this JVM is " + v + ": use 25.0.3 or later";
        }
        return null;
    }

    /** Refuses to go on under a JVM that {@link #problem} rejects. */
    public static void require() {
        String p = problem(Runtime.version());
        if (p != null) throw new SegsaException(p);
    }
}
