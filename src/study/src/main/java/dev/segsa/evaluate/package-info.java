/**
 * The paper's evaluation and the studies built on it (RQ1-RQ3, frame failure, selection, the vehicle's selector against hindsight).
 *
 * <p><b>Application</b>: the code of a command-line or cluster tool, not a library interface; it may change in any release.
 */
package dev.segsa.evaluate;
