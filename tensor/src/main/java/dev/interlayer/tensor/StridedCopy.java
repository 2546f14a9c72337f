package dev.interlayer.tensor;

/**
 * The element-by-element copy behind {@link Tensor#copyFrom}: walks both tensors' strides in row-major
 * order, converting through float (F32/F16/BF16/int dtypes). Kept out of {@link Tensor} so that the
 * view class stays about views; shapes and dtypes are checked by the caller.
 */
final class StridedCopy {
    private StridedCopy() {
    }

    static void copy(Tensor src, Tensor dst) {
        int r = dst.rank();
        if (r == 0) {
            dst.writeFloat(dst.offset(), src.readFloat(src.offset()));
            return;
        }
        int[] idx = new int[r];
        long n = dst.size();
        for (long k = 0; k < n; k++) {
            long so = src.offset(), dOff = dst.offset();
            for (int i = 0; i < r; i++) {
                so += idx[i] * src.stride(i);
                dOff += idx[i] * dst.stride(i);
            }
            dst.writeFloat(dOff, src.readFloat(so));
            for (int i = r - 1; i >= 0; i--) {
                if (++idx[i] < dst.dim(i)) {
                    break;
                }
                idx[i] = 0;
            }
        }
    }
}
