/**
 * The SA model and its file: per-class Mahalanobis models, LSA references, the class reference of the class-aware score ({@link dev.segsa.samodel.SaModelFile} reads and writes it).
 *
 * <p><b>API</b>: part of segsa's library interface (README, "Embedding segsa"); changes are announced.
 */
package dev.segsa.samodel;
