/**
 * The segmentation model through LibTorch (JavaCPP presets): loading and inspecting TorchScript, its metadata, the forward pass and the fused logits pass.
 *
 * <p><b>Internal</b>: not part of segsa's library interface; it may change in any release. Use {@link dev.segsa.Segsa} and the API packages instead.
 */
package dev.segsa.model;
