/**
 * The evaluation report (HTML, figures, "What to do") and the selection files.
 *
 * <p><b>Application</b>: the code of a command-line or cluster tool, not a library interface; it may change in any release.
 */
package dev.segsa.report;
