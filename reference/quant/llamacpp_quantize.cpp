// llama-quantize without its command-line layer: llama_model_quantize() (llama.h) with the default
// parameters that llama-quantize starts from, for a run without an importance matrix (llama-quantize adds
// metadata overrides only with --imatrix). Built by llamacpp_greedy.sh next to llamacpp_greedy; linking
// only libllama spares building llama.cpp's "common" library.
//
// Usage: llamacpp_quantize IN.gguf OUT.gguf TYPE [--pure] [--allow-requantize]
//   TYPE: F32, F16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S,
//   Q5_K_M, Q6_K (llama_ftype). F32 with --allow-requantize writes a copy with every 2-D weight
//   dequantized by ggml's own dequantizers.
#include "llama.h"

#include <cstdio>
#include <cstring>
#include <string>

static bool parse_ftype(const std::string & s, llama_ftype & out) {
    static const struct { const char * name; llama_ftype type; } types[] = {
        {"F32", LLAMA_FTYPE_ALL_F32},          {"F16", LLAMA_FTYPE_MOSTLY_F16},
        {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},     {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},
        {"Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},     {"Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},
        {"Q5_1", LLAMA_FTYPE_MOSTLY_Q5_1},     {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K},
        {"Q3_K_S", LLAMA_FTYPE_MOSTLY_Q3_K_S}, {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M},
        {"Q3_K_L", LLAMA_FTYPE_MOSTLY_Q3_K_L}, {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S},
        {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M}, {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S},
        {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M}, {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},
    };
    for (const auto & t : types) {
        if (s == t.name) {
            out = t.type;
            return true;
        }
    }
    return false;
}

int main(int argc, char ** argv) {
    llama_model_quantize_params params = llama_model_quantize_default_params();
    if (argc < 4 || !parse_ftype(argv[3], params.ftype)) {
        fprintf(stderr, "usage: %s IN.gguf OUT.gguf TYPE [--pure] [--allow-requantize]\n", argv[0]);
        return 2;
    }
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], "--pure") == 0) {
            params.pure = true;
        } else if (strcmp(argv[i], "--allow-requantize") == 0) {
            params.allow_requantize = true;
        } else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    params.nthread = 1;
    llama_backend_init();
    uint32_t rc = llama_model_quantize(argv[1], argv[2], &params);
    llama_backend_free();
    if (rc != 0) {
        fprintf(stderr, "error: llama_model_quantize failed on %s as %s\n", argv[1], argv[3]);
        return 1;
    }
    return 0;
}
