/** OLMo 2 decoder: output-only ("reordered") RMSNorms, QK-norm over the full projection width, SwiGLU. */
package dev.interlayer.models.olmo;
