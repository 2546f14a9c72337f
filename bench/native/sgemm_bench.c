/* OpenBLAS peer for the Interlayer GEMM benchmarks: C[m,n] = A[m,k]·B[n,k]^T (row-major, like
 * Ops.matmulT). Usage: sgemm_bench M N K [seconds]. Prints kernel name and GFLOP/s; threads come from
 * OPENBLAS_NUM_THREADS. Built and run by run-openblas.sh, never by tests. cpuGFLOP/s divides by the process's
 * CPU time instead of the wall clock (all threads' CPU seconds): on a loaded machine that is the figure to compare
 * with GemmCpuTiming's thread CPU time at 1 thread. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
char *openblas_get_corename(void);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]);
    double secs = argc > 4 ? atof(argv[4]) : 3.0;
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * n * k), *c = malloc(sizeof(float) * m * n);
    for (long i = 0; i < (long) m * k; i++) a[i] = (float) rand() / RAND_MAX - 0.5f;
    for (long i = 0; i < (long) n * k; i++) b[i] = (float) rand() / RAND_MAX - 0.5f;
    for (int w = 0; w < 3; w++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
    long iters = 0; double t0 = now(), c0 = cpu(), t;
    do { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n); iters++; } while ((t = now() - t0) < secs);
    double cs = cpu() - c0;
    printf("openblas core=%s threads=%s m=%d n=%d k=%d GFLOP/s=%.1f cpuGFLOP/s=%.1f\n", openblas_get_corename(),
           getenv("OPENBLAS_NUM_THREADS") ? getenv("OPENBLAS_NUM_THREADS") : "default", m, n, k,
           2.0 * m * n * k * iters / t / 1e9, 2.0 * m * n * k * iters / cs / 1e9);
    return 0;
}
