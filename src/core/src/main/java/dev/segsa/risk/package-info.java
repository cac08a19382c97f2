/**
 * The frame-risk model fitted in the lab ({@code segsa fit-risk}) and its file, evaluated on board from a frame's segments.
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa.risk;
