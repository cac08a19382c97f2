/**
 * Scores files (CSV and Parquet) as segsa writes and reads them.
 *
 * <p><b>Application</b>: the code of a command-line or cluster tool, not a library interface; it may change in any release.
 */
package dev.segsa.scores;
