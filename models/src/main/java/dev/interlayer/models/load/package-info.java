/**
 * Opening a model by path: {@link dev.interlayer.models.load.ModelLoader} picks the family from the
 * {@link dev.interlayer.models.family.Families} registry by GGUF {@code general.architecture} or HF
 * {@code config.json} {@code architectures}/{@code model_type}.
 */
package dev.interlayer.models.load;
