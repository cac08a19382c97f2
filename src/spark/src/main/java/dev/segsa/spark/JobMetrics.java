package dev.segsa.spark;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;

import java.util.concurrent.atomic.AtomicLong;

/** Sums the task metrics of a job while attached: bytes of task results and shuffle writes. */
final class JobMetrics extends SparkListener {
    private final SparkSession spark;
    private final AtomicLong resultBytes = new AtomicLong(), shuffleWriteBytes = new AtomicLong();

    private JobMetrics(SparkSession spark) {
        this.spark = spark;
    }

    static JobMetrics attach(SparkSession spark) {
        JobMetrics m = new JobMetrics(spark);
        spark.sparkContext().addSparkListener(m);
        return m;
    }

    void detach() {
        drain();
        spark.sparkContext().removeSparkListener(this);
    }

    /** Waits (up to 10 s) until the listener bus has delivered every event posted so far. */
    private void drain() {
        try {
            spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
        } catch (Exception e) {
            // the counts may then miss the last events; they are a report, not a result
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        if (end.taskMetrics() == null) return;
        resultBytes.addAndGet(end.taskMetrics().resultSize());
        shuffleWriteBytes.addAndGet(end.taskMetrics().shuffleWriteMetrics().bytesWritten());
    }

    long resultBytes() {
        drain();
        return resultBytes.get();
    }

    long shuffleWriteBytes() {
        drain();
        return shuffleWriteBytes.get();
    }
}
