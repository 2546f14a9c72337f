// Greedy decoding with llama.cpp through its public C API (llama.h), written as JSON: the reference that
// QuantizedGreedyVsLlamaCppTest compares Interlayer against. Built against a fetched llama.cpp by
// llamacpp_greedy.sh (this file is ours; llama.cpp itself is not part of the repository).
//
// Usage: llamacpp_greedy -m MODEL.gguf [-n 64] [--top 32] [--full-steps 0,32] -t "1,403,407" [-t ...]
//                        [-p "prompt text" ...]
//   -t  a prompt as comma-separated token ids (used as is, no BOS added)
//   -p  a prompt as text, tokenized by llama.cpp with BOS and special tokens parsed
//   -F  after a -t/-p: teacher forcing, the comma-separated tokens fed after steps 0, 1, ... instead of
//       the greedy choice (the run records the logits along that sequence; "tokens" stays the argmax)
//   -n  tokens generated per prompt; --top K logits recorded per step; --full-steps: steps whose whole
//       logit row is recorded as well.
//
// Determinism: 1 thread, F32 K/V cache (Interlayer's default; llama.cpp's default F16 cache would round
// keys and values), flash attention off (its CPU kernel rounds Q for the K·Q product), each prompt decoded
// in one batch from an empty cache, then one token at a time. The greedy choice is the first index of the
// largest logit (ties to the lower id). Generation does not stop at end-of-sequence tokens.
// Step s's logits are those after the prompt (s = 0) or after feeding generated token s-1.
#include "llama.h"

#include <algorithm>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

static void quiet_log(ggml_log_level level, const char * text, void *) {
    if (level >= GGML_LOG_LEVEL_ERROR) {
        fputs(text, stderr);
    }
}

static std::vector<int> parse_ints(const std::string & s) {
    std::vector<int> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (!item.empty()) {
            out.push_back(std::atoi(item.c_str()));
        }
    }
    return out;
}

static void json_string(const std::string & s) {
    putchar('"');
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static void json_ints(const std::vector<int> & v) {
    putchar('[');
    for (size_t i = 0; i < v.size(); i++) {
        printf(i ? ",%d" : "%d", v[i]);
    }
    putchar(']');
}

// Shortest decimal that reads back as the same float (9 significant digits always do).
static void json_float(float f) {
    char buf[32];
    for (int p = 6; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, f);
        if (strtof(buf, nullptr) == f) {
            break;
        }
    }
    fputs(buf, stdout);
}

int main(int argc, char ** argv) {
    std::setlocale(LC_NUMERIC, "C");
    std::string model_path;
    int n_predict = 64, top = 32;
    std::vector<int> full_steps;
    std::vector<std::string> texts;              // "" for id prompts
    std::vector<std::vector<int>> id_prompts;
    std::vector<std::vector<int>> forced;        // empty: free greedy run
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "missing value after %s\n", a.c_str());
            return 2;
        }
        std::string v = argv[++i];
        if (a == "-m") {
            model_path = v;
        } else if (a == "-n") {
            n_predict = std::atoi(v.c_str());
        } else if (a == "--top") {
            top = std::atoi(v.c_str());
        } else if (a == "--full-steps") {
            full_steps = parse_ints(v);
        } else if (a == "-t") {
            texts.push_back("");
            id_prompts.push_back(parse_ints(v));
            forced.emplace_back();
        } else if (a == "-p") {
            texts.push_back(v);
            id_prompts.emplace_back();
            forced.emplace_back();
        } else if (a == "-F") {
            if (forced.empty()) {
                fprintf(stderr, "-F must follow a -t or -p prompt\n");
                return 2;
            }
            forced.back() = parse_ints(v);
        } else {
            fprintf(stderr, "unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (model_path.empty() || texts.empty()) {
        fprintf(stderr, "usage: %s -m MODEL.gguf [-n N] [--top K] [--full-steps a,b] (-t IDS | -p TEXT)...\n", argv[0]);
        return 2;
    }

    llama_log_set(quiet_log, nullptr);
    ggml_backend_load_all();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model * model = llama_model_load_from_file(model_path.c_str(), mp);
    if (!model) {
        fprintf(stderr, "cannot load %s\n", model_path.c_str());
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    size_t longest = 0;
    for (size_t p = 0; p < texts.size(); p++) {
        if (!texts[p].empty()) {
            int n = -llama_tokenize(vocab, texts[p].c_str(), texts[p].size(), nullptr, 0, true, true);
            id_prompts[p].resize(n);
            llama_tokenize(vocab, texts[p].c_str(), texts[p].size(), id_prompts[p].data(), n, true, true);
        }
        longest = std::max(longest, id_prompts[p].size());
    }

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = longest + n_predict;
    cp.n_batch = cp.n_ubatch = longest;
    cp.n_threads = cp.n_threads_batch = 1;
    cp.type_k = cp.type_v = GGML_TYPE_F32;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.no_perf = true;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "cannot create a context for %s\n", model_path.c_str());
        return 1;
    }

    printf("{\"n_vocab\":%d,\"n_predict\":%d,\"top\":%d,\"runs\":[", n_vocab, n_predict, top);
    for (size_t p = 0; p < texts.size(); p++) {
        llama_memory_clear(llama_get_memory(ctx), true);
        std::vector<llama_token> toks(id_prompts[p].begin(), id_prompts[p].end());
        std::vector<int> generated;
        printf(p ? ",\n{" : "\n{");
        printf("\"text\":");
        json_string(texts[p]);
        printf(",\"prompt\":");
        json_ints(id_prompts[p]);
        if (!forced[p].empty()) {
            printf(",\"forced\":");
            json_ints(forced[p]);
        }
        printf(",\"steps\":[");
        llama_batch batch = llama_batch_get_one(toks.data(), toks.size());
        llama_token next = 0;
        for (int s = 0; s < n_predict; s++) {
            if (llama_decode(ctx, batch)) {
                fprintf(stderr, "llama_decode failed at step %d\n", s);
                return 1;
            }
            const float * logits = llama_get_logits_ith(ctx, -1);
            std::vector<int> idx(n_vocab);
            for (int i = 0; i < n_vocab; i++) {
                idx[i] = i;
            }
            int k = std::min(top, n_vocab);
            // top k by value, ties to the lower id (a stable order)
            std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int a, int b) {
                return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
            });
            generated.push_back(idx[0]);
            if (forced[p].empty()) {
                next = idx[0];
            } else if ((size_t) s < forced[p].size()) {
                next = forced[p][s];
            } else if (s + 1 < n_predict) {
                fprintf(stderr, "-F gives %zu tokens, %d needed\n", forced[p].size(), n_predict - 1);
                return 2;
            }
            printf(s ? ",\n {\"top_ids\":" : "\n {\"top_ids\":");
            json_ints(std::vector<int>(idx.begin(), idx.begin() + k));
            printf(",\"top_logits\":[");
            for (int i = 0; i < k; i++) {
                if (i) {
                    putchar(',');
                }
                json_float(logits[idx[i]]);
            }
            putchar(']');
            for (int f : full_steps) {
                if (f == s) {
                    printf(",\"logits\":[");
                    for (int i = 0; i < n_vocab; i++) {
                        if (i) {
                            putchar(',');
                        }
                        json_float(logits[i]);
                    }
                    putchar(']');
                }
            }
            putchar('}');
            batch = llama_batch_get_one(&next, 1);
        }
        printf("],\"tokens\":");
        json_ints(generated);
        putchar('}');
    }
    printf("]}\n");
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
