/**
 * {@code segsa train}: training the demo segmentation models.
 *
 * <p><b>Application</b>: the code of a command-line or cluster tool, not a library interface; it may change in any release.
 */
package dev.segsa.train;
