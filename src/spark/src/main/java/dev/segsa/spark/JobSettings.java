package dev.segsa.spark;

import java.io.Serializable;

/** What the driver sends to every task: the files (by path and SHA-256) and the options. */
final class JobSettings {
    private JobSettings() {}

    /**
     * @param failPartition a test hook: the first attempt of the task of this partition throws
     *                      (-1: none), to show that Spark's retry gives the same result
     * @param killExecutor  with failPartition: the first attempt kills its executor's JVM instead
     *                      of throwing (local-cluster or a real cluster only: in local mode the
     *                      executor is the driver)
     */
    record Fit(String model, String modelSha256, int lsaReferences, long seed, boolean trustModel, int threads,
               boolean skipBadFrames, int failPartition, boolean killExecutor) implements Serializable {
        String key() {
            return modelSha256 + "/" + lsaReferences + "/" + seed + "/" + trustModel + "/" + threads;
        }
    }

    /**
     * @param risk       the risk model file (segsa fit-risk), or null: then the risk column is NaN
     * @param riskSha256 its SHA-256 (null without one)
     */
    record Score(String model, String modelSha256, String sa, String saSha256, String risk, String riskSha256, boolean lsa,
                 boolean uncertainty, boolean trustModel, int threads, boolean skipBadFrames, int failPartition) implements Serializable {
        /** The key of the scoring engine these settings need: the files by hash, and the options that change the engine. */
        String scorerKey() {
            return modelSha256 + "/" + saSha256 + "/" + riskSha256 + "/" + lsa + "/" + uncertainty + "/" + trustModel;
        }
    }
}
