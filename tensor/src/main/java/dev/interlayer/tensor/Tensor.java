package dev.interlayer.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * A typed, strided view over a {@link MemorySegment}: a heap array, native memory, or a read-only
 * file mapping.
 *
 * <p>Metadata is immutable. View methods ({@link #reshape}, {@link #slice}, {@link #select},
 * {@link #transpose}, {@link #permute}, {@link #expand}) share memory with this tensor; data changes
 * only through {@link #setFloat} and kernels writing into an explicit {@code out} tensor.
 *
 * <p>Strides and offset are counted in elements. Block-quantized tensors ({@link DType#isQuantized()})
 * are always contiguous and their rows are whole blocks; only raw byte access makes sense for them.
 */
public final class Tensor {
    /** Little-endian, unaligned layouts: mapped files and byte[]-backed segments carry no alignment. */
    public static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** 16-bit element layout used for F16 and BF16. */
    public static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    /** 32-bit int layout. */
    public static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED;
    /** 64-bit int layout. */
    public static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final DType dtype;
    private final Shape shape;
    private final long[] strides;   // in elements, one per axis
    private final long offset;      // in elements from segment start
    private final MemorySegment segment;
    private final float[] heap;     // the segment's float[] if it is a writable F32 heap segment, else null

    private Tensor(DType dtype, Shape shape, long[] strides, long offset, MemorySegment segment, float[] heap) {
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.segment = segment;
        this.heap = heap;
    }

    // ---- factories ----

    /** A contiguous tensor over {@code segment} (starting at byte 0), which must hold at least the tensor's bytes. */
    public static Tensor of(DType dtype, Shape shape, MemorySegment segment) {
        long bytes = dtype.byteSize(shape.size());
        if (segment.byteSize() < bytes) {
            throw new IllegalArgumentException("tensor " + dtype + shape + " needs " + bytes
                    + " bytes but the segment holds " + segment.byteSize());
        }
        if (dtype.isQuantized() && shape.rank() > 0 && shape.dim(-1) % dtype.blockSize() != 0) {
            throw new IllegalArgumentException(dtype + " rows must be whole blocks of " + dtype.blockSize()
                    + "; shape " + shape);
        }
        // heapBase() builds an Optional on every call; look it up once here and hand it to every view, so
        // kernels can ask for the array on the decode path without allocating.
        float[] heap = segment.isNative() ? null
                : (segment.heapBase().orElse(null) instanceof float[] a ? a : null);
        return new Tensor(dtype, shape, shape.contiguousStrides(), 0, segment, heap);
    }

    /** A zero-filled heap tensor. */
    public static Tensor zeros(DType dtype, Shape shape) {
        long bytes = dtype.byteSize(shape.size());
        MemorySegment seg = switch (dtype) {
            case F32 -> MemorySegment.ofArray(new float[toIntLength(shape.size(), shape)]);
            case F16, BF16 -> MemorySegment.ofArray(new short[toIntLength(shape.size(), shape)]);
            case I32 -> MemorySegment.ofArray(new int[toIntLength(shape.size(), shape)]);
            case I64 -> MemorySegment.ofArray(new long[toIntLength(shape.size(), shape)]);
            default -> MemorySegment.ofArray(new byte[toIntLength(bytes, shape)]);
        };
        return of(dtype, shape, seg);
    }

    /** A zero-filled F32 heap tensor. */
    public static Tensor zeros(Shape shape) {
        return zeros(DType.F32, shape);
    }

    /** A zero-filled F32 heap tensor of the given dims. */
    public static Tensor zeros(int... dims) {
        return zeros(DType.F32, Shape.of(dims));
    }

    /** A zero-filled tensor in native memory owned by {@code arena}. */
    public static Tensor allocate(Arena arena, DType dtype, Shape shape) {
        return of(dtype, shape, arena.allocate(dtype.byteSize(shape.size()), 64));
    }

    /** An F32 heap tensor holding a copy of {@code values}. */
    public static Tensor f32(Shape shape, float... values) {
        if (values.length != shape.size()) {
            throw new ShapeMismatchException("f32: " + values.length + " values for shape " + shape
                    + " of " + shape.size() + " elements");
        }
        return wrap(values.clone(), shape);
    }

    /** An F32 tensor that wraps (does not copy) {@code data}; writes go to the array. */
    public static Tensor wrap(float[] data, Shape shape) {
        if (data.length != shape.size()) {
            throw new ShapeMismatchException("wrap: array of " + data.length + " floats for shape " + shape
                    + " of " + shape.size() + " elements");
        }
        return of(DType.F32, shape, MemorySegment.ofArray(data));
    }

    /** An F32 tensor that wraps (does not copy) {@code data}, as a vector [n]. */
    public static Tensor wrap(float[] data) {
        return wrap(data, Shape.of(data.length));
    }

    private static int toIntLength(long n, Shape shape) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape " + shape + " is too large for a heap tensor; use allocate()");
        }
        return (int) n;
    }

    // ---- metadata ----

    /** Element type. */
    public DType dtype() {
        return dtype;
    }

    /** Shape. */
    public Shape shape() {
        return shape;
    }

    /** Number of axes. */
    public int rank() {
        return shape.rank();
    }

    /** Dimension of {@code axis} (negative counts from the end). */
    public int dim(int axis) {
        return shape.dim(axis);
    }

    /** Number of elements. */
    public long size() {
        return shape.size();
    }

    /** Strides in elements (copy). */
    public long[] strides() {
        return strides.clone();
    }

    /** Stride of {@code axis} in elements. */
    public long stride(int axis) {
        return strides[shape.axis(axis)];
    }

    /** Offset of the first element from the segment start, in elements. */
    public long offset() {
        return offset;
    }

    /** Byte offset of the first element from the segment start. */
    public long byteOffset() {
        return dtype.isQuantized() ? dtype.byteSize(offset) : offset * dtype.blockBytes();
    }

    /** The whole underlying segment (may be larger than this view). */
    public MemorySegment segment() {
        return segment;
    }

    /** True if elements are laid out row-major with no gaps (axes of size 1 may have any stride). */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int d = shape.dim(i);
            if (d != 1 && strides[i] != expected) {
                return shape.size() == 0;
            }
            expected *= d;
        }
        return true;
    }

    /** True if the storage is a read-only segment (e.g. a mapped model file). */
    public boolean isReadOnly() {
        return segment.isReadOnly();
    }

    /**
     * The backing float[] if this is an F32 heap tensor, else null. Kernels use it for fast paths.
     * Element offset k lives at array index {@code segment().address() / 4 + k} (a heap segment may be a
     * slice that starts inside the array).
     */
    public float[] heapFloats() {
        return heap;
    }

    /** The contiguous bytes of this tensor (requires {@link #isContiguous()}). */
    public MemorySegment bytes() {
        requireContiguous("bytes");
        return segment.asSlice(byteOffset(), dtype.byteSize(shape.size()));
    }

    // ---- element access ----

    /** Storage element offset of the element at {@code idx}. @throws IndexOutOfBoundsException naming index and bound */
    public long elementOffset(int... idx) {
        if (idx.length != shape.rank()) {
            throw new IllegalArgumentException("index " + Arrays.toString(idx) + " has " + idx.length
                    + " coordinates for rank " + shape.rank() + " shape " + shape);
        }
        long off = offset;
        for (int i = 0; i < idx.length; i++) {
            int d = shape.dim(i);
            if (idx[i] < 0 || idx[i] >= d) {
                throw new IndexOutOfBoundsException("index " + idx[i] + " out of bounds for axis " + i
                        + " of size " + d + " in shape " + shape);
            }
            off += idx[i] * strides[i];
        }
        return off;
    }

    /** The value at {@code idx} as float (F32/F16/BF16/I32/I64). */
    public float getFloat(int... idx) {
        return readFloat(elementOffset(idx));
    }

    /** Writes {@code value} at {@code idx}, converting to this dtype (round-to-nearest-even for F16/BF16). */
    public void setFloat(float value, int... idx) {
        writeFloat(elementOffset(idx), value);
    }

    /** Reads the element at storage element offset {@code off} (no bounds check beyond the segment's). */
    public float readFloat(long off) {
        return switch (dtype) {
            case F32 -> segment.get(F32, off * 4);
            case F16 -> Float.float16ToFloat(segment.get(I16, off * 2));
            case BF16 -> FloatFormats.bf16ToF32(segment.get(I16, off * 2));
            case I32 -> segment.get(I32, off * 4);
            case I64 -> segment.get(I64, off * 8);
            case I8 -> segment.get(ValueLayout.JAVA_BYTE, off);
            default -> throw new UnsupportedDTypeException("readFloat", dtype,
                    DType.F32, DType.F16, DType.BF16, DType.I32, DType.I64, DType.I8);
        };
    }

    /** Writes the element at storage element offset {@code off}. */
    public void writeFloat(long off, float v) {
        switch (dtype) {
            case F32 -> segment.set(F32, off * 4, v);
            case F16 -> segment.set(I16, off * 2, Float.floatToFloat16(v));
            case BF16 -> segment.set(I16, off * 2, FloatFormats.f32ToBf16(v));
            case I32 -> segment.set(I32, off * 4, (int) v);
            case I64 -> segment.set(I64, off * 8, (long) v);
            case I8 -> segment.set(ValueLayout.JAVA_BYTE, off, (byte) v);
            default -> throw new UnsupportedDTypeException("writeFloat", dtype,
                    DType.F32, DType.F16, DType.BF16, DType.I32, DType.I64, DType.I8);
        }
    }

    /** Reads an integer element (I32, I64) at {@code idx}. */
    public long getLong(int... idx) {
        long off = elementOffset(idx);
        return switch (dtype) {
            case I32 -> segment.get(I32, off * 4);
            case I64 -> segment.get(I64, off * 8);
            default -> (long) readFloat(off);
        };
    }

    // ---- views ----

    /** A view with a new shape over the same elements; requires a contiguous tensor. One dim may be -1. */
    public Tensor reshape(int... dims) {
        int infer = -1;
        long known = 1;
        int[] d = dims.clone();
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) {
                    throw new ShapeMismatchException("reshape: at most one -1 allowed, got " + Arrays.toString(dims));
                }
                infer = i;
            } else {
                known = Math.multiplyExact(known, (long) d[i]);
            }
        }
        if (infer >= 0) {
            if (known == 0 || shape.size() % known != 0) {
                throw new ShapeMismatchException("reshape: cannot infer -1 in " + Arrays.toString(dims)
                        + " from " + shape);
            }
            d[infer] = Math.toIntExact(shape.size() / known);
        }
        return reshape(Shape.of(d));
    }

    /** A view with shape {@code newShape} (same element count); requires a contiguous tensor. */
    public Tensor reshape(Shape newShape) {
        if (newShape.size() != shape.size()) {
            throw ShapeMismatchException.of("reshape", "element counts must match", shape, newShape);
        }
        requireContiguous("reshape");
        return new Tensor(dtype, newShape, newShape.contiguousStrides(), offset, segment, heap);
    }

    /** Elements [start, end) along {@code axis}, as a view. */
    public Tensor slice(int axis, int start, int end) {
        int a = shape.axis(axis);
        int d = shape.dim(a);
        if (start < 0 || end > d || start > end) {
            throw new IndexOutOfBoundsException("slice [" + start + ", " + end + ") out of bounds for axis " + axis
                    + " of size " + d + " in shape " + shape);
        }
        if (dtype.isQuantized() && a == rank() - 1 && (start % dtype.blockSize() != 0 || end % dtype.blockSize() != 0)) {
            throw new IllegalArgumentException("slice of " + dtype + " rows must cut at block boundaries of "
                    + dtype.blockSize());
        }
        return new Tensor(dtype, shape.with(a, end - start), strides, offset + start * strides[a], segment, heap);
    }

    /** Alias of {@link #slice}: {@code length} elements from {@code start}. */
    public Tensor narrow(int axis, int start, int length) {
        return slice(axis, start, start + length);
    }

    /** The sub-tensor at {@code index} along {@code axis}, with that axis removed. */
    public Tensor select(int axis, int index) {
        int a = shape.axis(axis);
        int d = shape.dim(a);
        if (index < 0 || index >= d) {
            throw new IndexOutOfBoundsException("index " + index + " out of bounds for axis " + axis
                    + " of size " + d + " in shape " + shape);
        }
        int[] dims = new int[rank() - 1];
        long[] st = new long[rank() - 1];
        for (int i = 0, j = 0; i < rank(); i++) {
            if (i != a) {
                dims[j] = shape.dim(i);
                st[j++] = strides[i];
            }
        }
        return new Tensor(dtype, Shape.of(dims), st, offset + index * strides[a], segment, heap);
    }

    /** Row {@code i} of the leading axis (same as {@code select(0, i)}). */
    public Tensor row(int i) {
        return select(0, i);
    }

    /** Swaps two axes (view). */
    public Tensor transpose(int axis0, int axis1) {
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) {
            perm[i] = i;
        }
        int a = shape.axis(axis0), b = shape.axis(axis1);
        perm[a] = b;
        perm[b] = a;
        return permute(perm);
    }

    /** Reorders axes: result axis i is this tensor's axis {@code order[i]} (view). */
    public Tensor permute(int... order) {
        if (order.length != rank()) {
            throw new IllegalArgumentException("permute: " + Arrays.toString(order) + " for rank " + rank()
                    + " shape " + shape);
        }
        requireScalarType("permute");
        boolean[] seen = new boolean[rank()];
        int[] dims = new int[rank()];
        long[] st = new long[rank()];
        for (int i = 0; i < order.length; i++) {
            int a = shape.axis(order[i]);
            if (seen[a]) {
                throw new IllegalArgumentException("permute: axis " + order[i] + " repeated in " + Arrays.toString(order));
            }
            seen[a] = true;
            dims[i] = shape.dim(a);
            st[i] = strides[a];
        }
        return new Tensor(dtype, Shape.of(dims), st, offset, segment, heap);
    }

    /**
     * Broadcasts to {@code target} (NumPy rules: leading axes are added; size-1 axes repeat with
     * stride 0). The view must not be written.
     */
    public Tensor expand(Shape target) {
        requireScalarType("expand");
        if (target.rank() < rank()) {
            throw ShapeMismatchException.of("expand", "target rank must be >= source rank", shape, target);
        }
        long[] st = new long[target.rank()];
        int lead = target.rank() - rank();
        for (int i = 0; i < target.rank(); i++) {
            if (i < lead) {
                st[i] = 0;
                continue;
            }
            int src = shape.dim(i - lead);
            int dst = target.dim(i);
            if (src == dst) {
                st[i] = strides[i - lead];
            } else if (src == 1) {
                st[i] = 0;
            } else {
                throw ShapeMismatchException.of("expand", "each axis must match or be 1", shape, target);
            }
        }
        return new Tensor(dtype, target, st, offset, segment, heap);
    }

    /** Inserts an axis of size 1 at {@code axis} (0..rank). */
    public Tensor unsqueeze(int axis) {
        int a = axis < 0 ? axis + rank() + 1 : axis;
        if (a < 0 || a > rank()) {
            throw new IndexOutOfBoundsException("unsqueeze axis " + axis + " out of range for rank " + rank());
        }
        int[] dims = new int[rank() + 1];
        long[] st = new long[rank() + 1];
        for (int i = 0, j = 0; i < dims.length; i++) {
            if (i == a) {
                dims[i] = 1;
                st[i] = 1;
            } else {
                dims[i] = shape.dim(j);
                st[i] = strides[j++];
            }
        }
        return new Tensor(dtype, Shape.of(dims), st, offset, segment, heap);
    }

    /** This tensor if contiguous, else a contiguous heap copy. */
    public Tensor contiguous() {
        return isContiguous() ? this : copy();
    }

    /** A contiguous heap copy with the same dtype. */
    public Tensor copy() {
        if (dtype.isQuantized()) {
            Tensor out = zeros(dtype, shape);
            MemorySegment.copy(bytes(), 0, out.segment, 0, dtype.byteSize(shape.size()));
            return out;
        }
        Tensor out = zeros(dtype, shape);
        out.copyFrom(this);
        return out;
    }

    /** A contiguous heap F32 copy (converting F16/BF16/ints). */
    public Tensor toF32() {
        Tensor out = zeros(DType.F32, shape);
        out.copyFrom(this);
        return out;
    }

    /** Copies {@code src} element-wise into this tensor, converting dtypes; shapes must be equal. */
    public void copyFrom(Tensor src) {
        if (!src.shape.equals(shape)) {
            throw ShapeMismatchException.of("copyFrom", "shapes must be equal", src.shape, shape);
        }
        requireScalarType("copyFrom");
        src.requireScalarType("copyFrom");
        StridedCopy.copy(src, this);
    }

    /** All elements in row-major order as a new float[]. */
    public float[] toFloatArray() {
        if (shape.size() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor " + shape + " too large for a float[]");
        }
        float[] a = new float[(int) shape.size()];
        wrap(a, shape).copyFrom(this);
        return a;
    }

    private void requireContiguous(String op) {
        if (!isContiguous()) {
            throw new IllegalStateException(op + ": tensor " + shape + " with strides " + Arrays.toString(strides)
                    + " is not contiguous; call contiguous() first");
        }
    }

    private void requireScalarType(String op) {
        if (dtype.isQuantized()) {
            throw new UnsupportedDTypeException(op, dtype, DType.F32, DType.F16, DType.BF16, DType.I32, DType.I64);
        }
    }

    @Override
    public String toString() {
        return "Tensor(" + dtype + shape + (isContiguous() ? "" : ", strides " + Arrays.toString(strides)) + ")";
    }
}
