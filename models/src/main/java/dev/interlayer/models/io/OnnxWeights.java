package dev.interlayer.models.io;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The initializers of an ONNX model exported from a PyTorch (Hugging Face) module, under the
 * module's own parameter names.
 *
 * <p>{@code torch.onnx.export} keeps the names of parameters it uses directly (biases, norms,
 * embeddings) but turns each {@code nn.Linear} into a {@code MatMul} against an anonymous,
 * pre-transposed initializer ({@code onnx::MatMul_787}, stored [in, out]). Such an initializer is
 * named here after the node that consumes it: node {@code /encoder/layer.0/attention/self/query/MatMul}
 * gives {@code encoder.layer.0.attention.self.query.weight}. Its tensor is the transposed view
 * [out, in] of the mapped data (the {@code nn.Linear} layout, strides [1, out]; no copy), so code
 * written against Hugging Face checkpoints reads it unchanged; callers that want the stored
 * contiguous [in, out] layout take {@code tensor(name).transpose(0, 1)}.
 *
 * <p>Unlike the generic {@link WeightSource} contract, renamed MatMul weights are therefore not in
 * file order; all other tensors are.
 */
public final class OnnxWeights implements WeightSource {
    private final OnnxModel model;
    private final Map<String, String> toOnnx;          // canonical name -> initializer name
    private final Set<String> transposed;               // canonical names exposed transposed

    private OnnxWeights(OnnxModel model, Map<String, String> toOnnx, Set<String> transposed) {
        this.model = model;
        this.toOnnx = toOnnx;
        this.transposed = transposed;
    }

    /** Maps and parses an ONNX file and names its weights. Closing the result closes the file. */
    public static OnnxWeights open(Path path) throws IOException {
        OnnxModel m = OnnxModel.open(path);
        try {
            return of(m);
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** Names the weights of an already open model (which this source then owns). */
    public static OnnxWeights of(OnnxModel model) throws ModelFormatException {
        Map<String, String> canonicalOf = new HashMap<>();
        for (OnnxModel.Node n : model.nodes()) {
            if (n.opType().equals("MatMul") && n.inputs().size() == 2 && n.name().endsWith("/MatMul")) {
                String w = n.inputs().get(1);
                OnnxModel.TensorInfo t = model.initializers().get(w);
                if (t != null && t.dims().length == 2 && !looksNamed(w)) {
                    String module = n.name().substring(0, n.name().length() - "/MatMul".length());
                    String name = module.replaceFirst("^/", "").replace('/', '.') + ".weight";
                    String prev = canonicalOf.put(w, name);
                    if (prev != null && !prev.equals(name)) {
                        throw new ModelFormatException(model.file(), t.offset(), "initializer '" + w + "'",
                                "one consuming MatMul", "used by modules " + prev + " and " + name);
                    }
                }
            }
        }
        Map<String, String> toOnnx = new LinkedHashMap<>();
        Set<String> transposed = new java.util.HashSet<>();
        for (OnnxModel.TensorInfo t : model.initializers().values()) {
            String name = canonicalOf.getOrDefault(t.name(), t.name());
            String prev = toOnnx.put(name, t.name());
            if (prev != null) {
                throw new ModelFormatException(model.file(), t.offset(), "weight name '" + name + "'",
                        "unique names", "both '" + prev + "' and '" + t.name() + "' map to it");
            }
            if (canonicalOf.containsKey(t.name())) {
                transposed.add(name);
            }
        }
        return new OnnxWeights(model, Collections.unmodifiableMap(toOnnx), Collections.unmodifiableSet(transposed));
    }

    /** True for initializer names that a PyTorch module parameter produced (not {@code onnx::...}). */
    private static boolean looksNamed(String name) {
        return !name.startsWith("onnx::") && !name.startsWith("/");
    }

    /** The parsed model (graph and raw initializers). */
    public OnnxModel model() {
        return model;
    }

    /** The ONNX initializer name behind canonical {@code name}. */
    public String onnxName(String name) {
        require(name);
        return toOnnx.get(name);
    }

    /** True if {@code name} is a renamed MatMul weight exposed as a transposed view. */
    public boolean isTransposed(String name) {
        return transposed.contains(name);
    }

    @Override
    public Set<String> names() {
        return toOnnx.keySet();
    }

    @Override
    public Tensor tensor(String name) {
        require(name);
        Tensor t = model.tensor(toOnnx.get(name));
        return transposed.contains(name) ? t.transpose(0, 1) : t;
    }

    @Override
    public DType dtype(String name) {
        require(name);
        return OnnxModel.dtype(model.initializers().get(toOnnx.get(name)));
    }

    private void require(String name) {
        if (!toOnnx.containsKey(name)) {
            throw new IllegalArgumentException(model.file().getFileName() + ": no tensor '" + name + "'; closest: "
                    + WeightSource.closest(toOnnx.keySet(), name, 5));
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
