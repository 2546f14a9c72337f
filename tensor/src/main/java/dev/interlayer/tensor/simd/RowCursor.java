package dev.interlayer.tensor.simd;

import dev.interlayer.tensor.DType;
import dev.interlayer.tensor.Tensor;
import java.lang.foreign.MemorySegment;

/**
 * Presents ranges of a tensor's last-axis rows as {@code (arr, off)} pairs for the array kernels:
 * directly inside the backing {@code float[]} when the tensor is F32 on the heap with unit last
 * stride (the common case, no copy), else through a scratch row filled by a bulk copy (F32 in any
 * other segment, e.g. native or mapped memory) or by an element loop (F16/BF16, strided and
 * broadcast views). One cursor per thread: it owns mutable scratch.
 */
final class RowCursor {
    private final Tensor t;
    private final int lead;            // number of leading axes
    private final int[] dims;          // [lead]
    private final long[] strides;      // [lead]
    private final long base;           // element offset of row 0
    private final long rowStride;      // element distance between rows when contiguous, else -1
    private final long step;           // stride of the last axis
    private final float[] heap;        // backing array for direct access, or null
    private final long heapStart;      // array index of the segment's element 0 (heap slices start inside the array)
    private final boolean bulk;        // F32 in a non-heap segment with unit stride
    private float[] scratch;

    /** Array holding the current range. */
    float[] arr;
    /** Offset of the current range's first element in {@link #arr}. */
    int off;

    RowCursor(Tensor t) {
        this.t = t;
        int r = t.rank();
        this.lead = Math.max(0, r - 1);
        this.dims = new int[lead];
        this.strides = new long[lead];
        for (int i = 0; i < lead; i++) {
            dims[i] = t.dim(i);
            strides[i] = t.stride(i);
        }
        int d = r == 0 ? 1 : t.dim(-1);
        this.base = t.offset();
        this.step = r == 0 || d == 1 ? 1 : t.stride(-1);
        this.rowStride = t.isContiguous() ? d : -1;
        boolean f32 = t.dtype() == DType.F32;
        long addr = t.segment().address(); // for heap segments: byte offset into the array
        float[] h = f32 && step == 1 && addr % 4 == 0 ? t.heapFloats() : null;
        this.heap = h;
        this.heapStart = addr / 4;
        this.bulk = f32 && step == 1 && h == null;
    }

    /** True when ranges are read and written in place (no scratch). */
    boolean direct() {
        return heap != null;
    }

    /** Element offset of row {@code r} (leading axes collapsed in row-major order). */
    long rowOffset(long r) {
        if (rowStride >= 0) {
            return base + r * rowStride;
        }
        long off = base;
        long rem = r;
        for (int i = lead - 1; i >= 0; i--) {
            int di = dims[i];
            off += (rem % di) * strides[i];
            rem /= di;
        }
        return off;
    }

    /** Points {@link #arr}/{@link #off} at elements [start, start+len) of row r, with their values. */
    void read(long r, int start, int len) {
        long e = rowOffset(r) + start * step;
        if (heap != null) {
            arr = heap;
            off = (int) (heapStart + e);
            return;
        }
        float[] s = scratch(len);
        if (bulk) {
            MemorySegment.copy(t.segment(), Tensor.F32, e * 4, s, 0, len);
        } else {
            for (int k = 0; k < len; k++) {
                s[k] = t.readFloat(e + k * step);
            }
        }
        arr = s;
        off = 0;
    }

    /** Points {@link #arr}/{@link #off} at a place to write elements [start, start+len) of row r. */
    void beginWrite(long r, int start, int len) {
        if (heap != null) {
            arr = heap;
            off = (int) (heapStart + rowOffset(r) + start * step);
        } else {
            arr = scratch(len);
            off = 0;
        }
    }

    /** Stores what the kernel wrote after {@link #beginWrite} or {@link #read} (no-op when direct). */
    void endWrite(long r, int start, int len) {
        if (heap != null) {
            return;
        }
        long e = rowOffset(r) + start * step;
        if (bulk) {
            MemorySegment.copy(arr, off, t.segment(), Tensor.F32, e * 4, len);
        } else {
            for (int k = 0; k < len; k++) {
                t.writeFloat(e + k * step, arr[off + k]);
            }
        }
    }

    private float[] scratch(int len) {
        if (scratch == null || scratch.length < len) {
            scratch = new float[len];
        }
        return scratch;
    }
}
