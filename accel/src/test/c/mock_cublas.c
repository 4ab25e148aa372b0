/*
 * A test double for libcublas.so.13 that computes on the CPU. It pairs with mock_cuda.c, whose "device"
 * memory is host memory, so GEMM and GEMV results can be checked against Java references: this pins down
 * the argument order, the leading dimensions, the data-type codes and the pointer mode of the bindings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { int pointer_mode; void *stream; void *workspace; size_t workspace_bytes; int sm_count_target; } Handle;

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t) (h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else {
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t) (112 - e) << 23) | ((man & 0x3FF) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7F800000 | (man << 13);
    else bits = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static float bf16_to_float(uint16_t b) {
    uint32_t bits = (uint32_t) b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return (uint16_t) ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

static float load(const void *p, int type, long i) {
    switch (type) {
        case 0: return ((const float *) p)[i];
        case 2: return half_to_float(((const uint16_t *) p)[i]);
        case 14: return bf16_to_float(((const uint16_t *) p)[i]);
        default: return 0;
    }
}

static void store(void *p, int type, long i, float v) {
    if (type == 0) ((float *) p)[i] = v;
    else if (type == 14) ((uint16_t *) p)[i] = float_to_bf16(v);
}

static float scalar(Handle *h, const float *p) { return *p; }

int cublasCreate_v2(Handle **h) { *h = calloc(1, sizeof(Handle)); return 0; }
int cublasDestroy_v2(Handle *h) { free(h); return 0; }
int cublasSetStream_v2(Handle *h, void *stream) { h->stream = stream; h->workspace = 0; return 0; }
int cublasSetWorkspace_v2(Handle *h, void *workspace, size_t bytes) { h->workspace = workspace; h->workspace_bytes = bytes; return 0; }
int cublasSetPointerMode_v2(Handle *h, int mode) { h->pointer_mode = mode; return 0; }
int cublasSetSmCountTarget(Handle *h, int count) { if (!h || count < 0) return 7; h->sm_count_target = count; return 0; }
const char *cublasGetStatusName(int s) { return s == 7 ? "CUBLAS_STATUS_INVALID_VALUE" : s == 15 ? "CUBLAS_STATUS_NOT_SUPPORTED" : "CUBLAS_STATUS_UNKNOWN"; }
const char *cublasGetStatusString(int s) {
    return s == 7 ? "an invalid numeric value was used as an argument"
         : s == 15 ? "the functionality requested is not supported" : "unknown";
}

int cublasGemmEx(Handle *h, int transa, int transb, int m, int n, int k, const float *alpha, const void *A, int atype,
                 int lda, const void *B, int btype, int ldb, const float *beta, void *C, int ctype, int ldc,
                 int compute, int algo) {
    if (h->pointer_mode != 1 || !h->workspace || compute != 68 || atype != btype) return 7;
    if (ctype != 0 && ctype != atype) return 15;
    if (ctype == 2) return 15; /* the mock writes float and bfloat16 outputs only */
    float a = scalar(h, alpha), b = scalar(h, beta);
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double acc = 0;
            for (int p = 0; p < k; p++) {
                float x = transa ? load(A, atype, (long) i * lda + p) : load(A, atype, (long) p * lda + i);
                float y = transb ? load(B, btype, (long) p * ldb + j) : load(B, btype, (long) j * ldb + p);
                acc += (double) x * y;
            }
            float old = b == 0 ? 0 : load(C, ctype, (long) j * ldc + i);
            store(C, ctype, (long) j * ldc + i, (float) (a * acc + b * old));
        }
    }
    return 0;
}

int cublasSgemv_v2(Handle *h, int trans, int m, int n, const float *alpha, const float *A, int lda, const float *x,
                   int incx, const float *beta, float *y, int incy) {
    if (h->pointer_mode != 1 || incx != 1 || incy != 1) return 7;
    float a = scalar(h, alpha), b = scalar(h, beta);
    int rows = trans ? n : m, cols = trans ? m : n;
    for (int i = 0; i < rows; i++) {
        double acc = 0;
        for (int j = 0; j < cols; j++) acc += (double) (trans ? A[(long) i * lda + j] : A[(long) j * lda + i]) * x[j];
        y[i] = (float) (a * acc + (b == 0 ? 0 : b * y[i]));
    }
    return 0;
}
