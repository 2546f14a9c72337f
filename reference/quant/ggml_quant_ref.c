// The helper named by $GGML_QUANT_REF in ggml_c_fixtures.py: reads one row of little-endian float32
// values and writes the blocks that ggml's reference quantizer (quantize_row_<type>_ref in
// ggml/src/ggml-quants.c) produces for them. Not built by Maven; compile it next to ggml's own source,
// in ISO C so that the compiler does not contract a*b+c into fused multiply-adds (Java never does):
//
//   cc -std=c11 -O2 -DNDEBUG -I$LLAMA/ggml/include -I$LLAMA/ggml/src -o ggml_quant_ref \
//      reference/quant/ggml_quant_ref.c $LLAMA/ggml/src/ggml-quants.c -L$LLAMA/build/bin -lggml-base -lm
//
// Usage: ggml_quant_ref TYPE in.f32 out.bin [imatrix.f32]
//   (TYPE: Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K)
// With imatrix.f32 (one importance value per column, n_per_row float32 values) the input is read as rows of
// n_per_row values and quantized by quantize_<type>(src, dst, nrows, n_per_row, imatrix), ggml's entry point
// that llama-quantize calls (ggml_quantize_chunk): with a non-null importance vector it runs the weighted
// quantize_row_<type>_impl searches instead of the _ref ones (Q8_0 ignores it).
#include "ggml.h"
#include "ggml-quants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float * read_f32(const char * path, long * n) {
    FILE * in = fopen(path, "rb");
    if (!in) {
        perror(path);
        return NULL;
    }
    fseek(in, 0, SEEK_END);
    *n = ftell(in) / 4;
    fseek(in, 0, SEEK_SET);
    float * x = malloc(*n * sizeof(float) + 1);
    if (fread(x, sizeof(float), *n, in) != (size_t) *n) {
        fprintf(stderr, "short read on %s\n", path);
        return NULL;
    }
    fclose(in);
    return x;
}

// Rows of n_per_row values (n_per_row = the importance vector's length) through quantize_<type>.
static int weighted(enum ggml_type type, const float * x, long n, const char * imatrix_path, const char * out_path) {
    long n_per_row;
    float * imatrix = read_f32(imatrix_path, &n_per_row);
    if (!imatrix || n_per_row == 0 || n % n_per_row != 0 || n_per_row % ggml_blck_size(type) != 0) {
        fprintf(stderr, "%ld values are not rows of the %ld-long importance vector in whole blocks\n", n, n_per_row);
        return 1;
    }
    long nrows = n / n_per_row;
    size_t row = ggml_row_size(type, n_per_row), bytes = row * nrows, written = 0;
    void * y = calloc(1, bytes);
    switch (type) {
        case GGML_TYPE_Q8_0: written = quantize_q8_0(x, y, nrows, n_per_row, imatrix); break;
        case GGML_TYPE_Q4_0: written = quantize_q4_0(x, y, nrows, n_per_row, imatrix); break;
        case GGML_TYPE_Q4_1: written = quantize_q4_1(x, y, nrows, n_per_row, imatrix); break;
        case GGML_TYPE_Q5_0: written = quantize_q5_0(x, y, nrows, n_per_row, imatrix); break;
        case GGML_TYPE_Q5_1: written = quantize_q5_1(x, y, nrows, n_per_row, imatrix); break;
        case GGML_TYPE_Q2_K: written = quantize_q2_K(x, y, nrows, n_per_row, imatrix); break;
        case GGML_TYPE_Q3_K: written = quantize_q3_K(x, y, nrows, n_per_row, imatrix); break;
        case GGML_TYPE_Q4_K: written = quantize_q4_K(x, y, nrows, n_per_row, imatrix); break;
        case GGML_TYPE_Q5_K: written = quantize_q5_K(x, y, nrows, n_per_row, imatrix); break;
        case GGML_TYPE_Q6_K: written = quantize_q6_K(x, y, nrows, n_per_row, imatrix); break;
        default: return 2;
    }
    FILE * out = fopen(out_path, "wb");
    if (written != bytes || !out || fwrite(y, 1, bytes, out) != bytes) {
        perror(out_path);
        return 1;
    }
    fclose(out);
    free(imatrix);
    free(y);
    return 0;
}

int main(int argc, char ** argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s TYPE in.f32 out.bin [imatrix.f32]\n", argv[0]);
        return 2;
    }
    static const struct { const char * name; enum ggml_type type; } types[] = {
        {"Q8_0", GGML_TYPE_Q8_0}, {"Q4_0", GGML_TYPE_Q4_0}, {"Q4_1", GGML_TYPE_Q4_1},
        {"Q5_0", GGML_TYPE_Q5_0}, {"Q5_1", GGML_TYPE_Q5_1}, {"Q2_K", GGML_TYPE_Q2_K},
        {"Q3_K", GGML_TYPE_Q3_K}, {"Q4_K", GGML_TYPE_Q4_K}, {"Q5_K", GGML_TYPE_Q5_K},
        {"Q6_K", GGML_TYPE_Q6_K},
    };
    // ggml_init fills ggml's f16 -> f32 lookup table (GGML_FP16_TO_FP32 reads it on x86 builds without F16C);
    // without it every stored scale reads back as 0 and the K-quants skip their final re-rounding.
    struct ggml_init_params no_memory = {0, NULL, true};
    ggml_free(ggml_init(no_memory));
    int t = -1;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(argv[1], types[i].name) == 0) {
            t = (int) i;
        }
    }
    if (t < 0) {
        fprintf(stderr, "unknown type %s\n", argv[1]);
        return 2;
    }
    long n;
    float * x = read_f32(argv[2], &n);
    if (!x) {
        return 1;
    }
    enum ggml_type type = types[t].type;
    if (argc == 5) {
        return weighted(type, x, n, argv[4], argv[3]);
    }
    if (n % ggml_blck_size(type) != 0) {
        fprintf(stderr, "%s: %ld values are not whole blocks of %ld\n", argv[1], n, (long) ggml_blck_size(type));
        return 1;
    }
    size_t bytes = ggml_row_size(type, n);
    void * y = calloc(1, bytes);
    switch (type) {
        case GGML_TYPE_Q8_0: quantize_row_q8_0_ref(x, y, n); break;
        case GGML_TYPE_Q4_0: quantize_row_q4_0_ref(x, y, n); break;
        case GGML_TYPE_Q4_1: quantize_row_q4_1_ref(x, y, n); break;
        case GGML_TYPE_Q5_0: quantize_row_q5_0_ref(x, y, n); break;
        case GGML_TYPE_Q5_1: quantize_row_q5_1_ref(x, y, n); break;
        case GGML_TYPE_Q2_K: quantize_row_q2_K_ref(x, y, n); break;
        case GGML_TYPE_Q3_K: quantize_row_q3_K_ref(x, y, n); break;
        case GGML_TYPE_Q4_K: quantize_row_q4_K_ref(x, y, n); break;
        case GGML_TYPE_Q5_K: quantize_row_q5_K_ref(x, y, n); break;
        case GGML_TYPE_Q6_K: quantize_row_q6_K_ref(x, y, n); break;
        default: return 2;
    }
    FILE * out = fopen(argv[3], "wb");
    if (!out || fwrite(y, 1, bytes, out) != bytes) {
        perror(argv[3]);
        return 1;
    }
    fclose(out);
    free(x);
    free(y);
    return 0;
}
