/*
 * A test double for libcuda.so.1: the runtime's FFM bindings run against it on machines without a GPU.
 * "Device" memory is host memory, so copies and fills really move bytes; kernels do not run: each launch
 * is decoded with the .param types of its .entry and appended to a log the tests read
 * (mock_launch_log). Stream capture records copies, fills and launches into a graph that cuGraphLaunch
 * replays; as in the driver, a stream that waits for an event recorded on a capturing stream joins the capture,
 * and ending a capture while a joined stream's last work is not waited for fails (STREAM_CAPTURE_UNJOINED). Entry points are reachable through cuGetProcAddress_v2 (counted) and by exported name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

enum { OK = 0, INVALID_VALUE = 1, OUT_OF_MEMORY = 2, INVALID_PTX = 218, NOT_FOUND = 500, ILLEGAL_STATE = 401,
       CAPTURE_UNJOINED = 904 };

typedef struct { char *ptx; } Module;
typedef struct { char name[128]; int count; char types[64][8]; } Function;
typedef enum { OP_COPY, OP_FILL8, OP_FILL32, OP_LAUNCH } OpKind;
typedef struct {
    OpKind kind;
    void *dst;
    const void *src;
    size_t bytes;
    unsigned value;
    Function *fn;
    unsigned grid[3], block[3];
    unsigned char params[64][8];
} Op;
typedef struct { Op *ops; int count, capacity; } Graph;
/* capturing: 0 no, 1 the capture's origin, 2 joined to another stream's capture; unjoined: a joined stream has work
   (or its join) that no capturing stream has waited for since; ops: work submitted so far */
typedef struct { int capturing; Graph *graph; int unjoined; long ops; } Stream;
typedef struct { struct timespec at; Stream *stream; Graph *graph; long ops; } Event;
static Stream *joined[16];

static char launch_log[1 << 16];
static int proc_address_hits;

const char *mock_launch_log(void) { return launch_log; }
int mock_proc_address_hits(void) { return proc_address_hits; }
void mock_reset(void) { launch_log[0] = 0; }

static size_t param_size(const char *t) { return strstr(t, "64") ? 8 : 4; }

static void log_launch(const Op *op) {
    char line[2048];
    int n = snprintf(line, sizeof line, "%s grid(%u,%u,%u) block(%u,%u,%u)", op->fn->name, op->grid[0], op->grid[1],
                     op->grid[2], op->block[0], op->block[1], op->block[2]);
    for (int i = 0; i < op->fn->count && n < (int) sizeof line - 64; i++) {
        const char *t = op->fn->types[i];
        const unsigned char *p = op->params[i];
        if (!strcmp(t, "u64")) n += snprintf(line + n, sizeof line - n, " u64:0x%llx", *(unsigned long long *) p);
        else if (!strcmp(t, "s64")) n += snprintf(line + n, sizeof line - n, " s64:%lld", *(long long *) p);
        else if (!strcmp(t, "s32")) n += snprintf(line + n, sizeof line - n, " s32:%d", *(int *) p);
        else if (!strcmp(t, "f32")) n += snprintf(line + n, sizeof line - n, " f32:%g", *(float *) p);
        else if (!strcmp(t, "f64")) n += snprintf(line + n, sizeof line - n, " f64:%g", *(double *) p);
        else n += snprintf(line + n, sizeof line - n, " %s:?", t);
    }
    size_t used = strlen(launch_log);
    if (used + strlen(line) + 2 > sizeof launch_log) return; /* full: the tests that read the log reset it first */
    strcat(launch_log, line);
    strcat(launch_log, "\n");
}

static void run(const Op *op) {
    switch (op->kind) {
        case OP_COPY: memcpy(op->dst, op->src, op->bytes); break;
        case OP_FILL8: memset(op->dst, (int) op->value, op->bytes); break;
        case OP_FILL32: for (size_t i = 0; i < op->bytes; i++) ((unsigned *) op->dst)[i] = op->value; break;
        case OP_LAUNCH: log_launch(op); break;
    }
}

/* executes now, or records when the stream is being captured */
static CUresult submit(Stream *s, Op op) {
    if (s) {
        s->ops++;
        if (s->capturing == 2) s->unjoined = 1;
    }
    if (s && s->capturing) {
        Graph *g = s->graph;
        if (g->count == g->capacity) {
            g->capacity = g->capacity ? 2 * g->capacity : 16;
            g->ops = realloc(g->ops, g->capacity * sizeof(Op));
        }
        g->ops[g->count++] = op;
    } else {
        run(&op);
    }
    return OK;
}

CUresult cuGetErrorName(CUresult e, const char **s) {
    switch (e) {
        case INVALID_VALUE: *s = "CUDA_ERROR_INVALID_VALUE"; return OK;
        case OUT_OF_MEMORY: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return OK;
        case INVALID_PTX: *s = "CUDA_ERROR_INVALID_PTX"; return OK;
        case NOT_FOUND: *s = "CUDA_ERROR_NOT_FOUND"; return OK;
        case ILLEGAL_STATE: *s = "CUDA_ERROR_ILLEGAL_STATE"; return OK;
        case CAPTURE_UNJOINED: *s = "CUDA_ERROR_STREAM_CAPTURE_UNJOINED"; return OK;
        default: *s = 0; return INVALID_VALUE;
    }
}
CUresult cuGetErrorString(CUresult e, const char **s) {
    switch (e) {
        case INVALID_VALUE: *s = "invalid argument"; return OK;
        case OUT_OF_MEMORY: *s = "out of memory"; return OK;
        case INVALID_PTX: *s = "a PTX JIT compilation failed"; return OK;
        case NOT_FOUND: *s = "named symbol not found"; return OK;
        case ILLEGAL_STATE: *s = "the operation is not permitted in the current state"; return OK;
        case CAPTURE_UNJOINED: *s = "the capture sequence contains a fork that was not joined to the primary stream"; return OK;
        default: *s = 0; return INVALID_VALUE;
    }
}
CUresult cuInit(unsigned flags) { return flags == 0 ? OK : INVALID_VALUE; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return OK; }
CUresult cuDeviceGetCount(int *c) { *c = 1; return OK; }
CUresult cuDeviceGet(int *d, int ordinal) { if (ordinal != 0) return INVALID_VALUE; *d = 0; return OK; }
CUresult cuDeviceGetName(char *name, int len, int d) { snprintf(name, len, "MockGPU (no execution)"); return OK; }
CUresult cuDeviceGetAttribute(int *v, int attr, int d) {
    *v = attr == 75 ? 9 : attr == 76 ? 0 : attr == 16 ? 132 : attr == 39 ? 2048 : 0;
    return OK;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int d) { *bytes = 80ULL << 30; return OK; }
CUresult cuDevicePrimaryCtxRetain(void **ctx, int d) { *ctx = (void *) 0x1000; return OK; }
CUresult cuDevicePrimaryCtxRelease_v2(int d) { return OK; }
CUresult cuCtxSetCurrent(void *ctx) { return ctx == (void *) 0x1000 ? OK : INVALID_VALUE; }
CUresult cuCtxSynchronize(void) { return OK; }
CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) { *free_bytes = 79ULL << 30; *total = 80ULL << 30; return OK; }

CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned n, int *options, void **values) {
    char *info = 0, *error = 0;
    size_t info_size = 0, error_size = 0;
    for (unsigned i = 0; i < n; i++) {
        if (options[i] == 3) info = values[i];
        if (options[i] == 4) info_size = (size_t) (uintptr_t) values[i];
        if (options[i] == 5) error = values[i];
        if (options[i] == 6) error_size = (size_t) (uintptr_t) values[i];
    }
    const char *ptx = image;
    if (strstr(ptx, "mock_jit_error")) {
        if (error && error_size) snprintf(error, error_size, "ptxas application ptx input, line 1; error   : mock JIT failure");
        return INVALID_PTX;
    }
    if (!strstr(ptx, ".entry ")) return INVALID_PTX;
    Module *m = calloc(1, sizeof(Module));
    m->ptx = strdup(ptx);
    if (info && info_size) snprintf(info, info_size, "mock JIT: %zu bytes of PTX", strlen(ptx));
    *module = m;
    return OK;
}
CUresult cuModuleUnload(void *m) { free(((Module *) m)->ptx); free(m); return OK; }
CUresult cuModuleGetFunction(void **fn, void *module, const char *name) {
    char pattern[160];
    snprintf(pattern, sizeof pattern, ".entry %s(", name);
    char *p = strstr(((Module *) module)->ptx, pattern);
    if (!p) return NOT_FOUND;
    Function *f = calloc(1, sizeof(Function));
    snprintf(f->name, sizeof f->name, "%s", name);
    char *end = strchr(p, ')');
    for (char *q = strstr(p, ".param ."); q && q < end && f->count < 64; q = strstr(q + 1, ".param .")) {
        sscanf(q + 8, "%7s", f->types[f->count++]);
    }
    *fn = f;
    return OK;
}
CUresult cuFuncGetAttribute(int *v, int attr, void *fn) { *v = attr == 4 ? 32 : 0; return OK; }
CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int *blocks, void *fn, int block_size, size_t shared) {
    *blocks = block_size > 0 ? 2048 / block_size : 0;
    return OK;
}
CUresult cuLaunchKernel(void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *stream, void **params, void **extra) {
    Function *f = fn;
    if (bx * by * bz > 1024 || !params) return INVALID_VALUE;
    Op op = {.kind = OP_LAUNCH, .fn = f, .grid = {gx, gy, gz}, .block = {bx, by, bz}};
    for (int i = 0; i < f->count; i++) memcpy(op.params[i], params[i], param_size(f->types[i]));
    return submit(stream, op);
}

CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes) {
    if (bytes == 0) return INVALID_VALUE;
    if (bytes > (1ULL << 40)) return OUT_OF_MEMORY;
    void *m = aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!m) return OUT_OF_MEMORY;
    *p = (CUdeviceptr) (uintptr_t) m;
    return OK;
}
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *) (uintptr_t) p); return OK; }
CUresult cuMemHostAlloc(void **p, size_t bytes, unsigned flags) {
    *p = aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    return *p ? OK : OUT_OF_MEMORY;
}
CUresult cuMemFreeHost(void *p) { free(p); return OK; }
/* Like the driver: registering needs page-aligned memory, and unregistering an address not registered fails. */
static void *registered[64];
CUresult cuMemHostRegister_v2(void *p, size_t bytes, unsigned flags) {
    if (!p || !bytes || (uintptr_t) p % 4096 != 0 || flags > 7) return INVALID_VALUE;
    for (int i = 0; i < 64; i++) if (!registered[i]) { registered[i] = p; return OK; }
    return OUT_OF_MEMORY;
}
CUresult cuMemHostUnregister(void *p) {
    for (int i = 0; i < 64; i++) if (registered[i] == p) { registered[i] = 0; return OK; }
    return INVALID_VALUE;
}
int mock_registered(void) { int n = 0; for (int i = 0; i < 64; i++) n += registered[i] != 0; return n; }
CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *d, void *p, unsigned flags) {
    *d = (CUdeviceptr) (uintptr_t) p;
    return flags == 0 ? OK : INVALID_VALUE;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t bytes, void *stream) {
    Op op = {.kind = OP_COPY, .dst = (void *) (uintptr_t) dst, .src = src, .bytes = bytes};
    return submit(stream, op);
}
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t bytes, void *stream) {
    Op op = {.kind = OP_COPY, .dst = dst, .src = (const void *) (uintptr_t) src, .bytes = bytes};
    return submit(stream, op);
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, void *stream) {
    Op op = {.kind = OP_COPY, .dst = (void *) (uintptr_t) dst, .src = (const void *) (uintptr_t) src, .bytes = bytes};
    return submit(stream, op);
}
CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count, void *stream) {
    Op op = {.kind = OP_FILL8, .dst = (void *) (uintptr_t) dst, .bytes = count, .value = value};
    return submit(stream, op);
}
CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t count, void *stream) {
    Op op = {.kind = OP_FILL32, .dst = (void *) (uintptr_t) dst, .bytes = count, .value = value};
    return submit(stream, op);
}

CUresult cuStreamCreate(void **s, unsigned flags) { *s = calloc(1, sizeof(Stream)); return OK; }
CUresult cuStreamDestroy_v2(void *s) { free(s); return OK; }
CUresult cuStreamSynchronize(void *s) { return s && ((Stream *) s)->capturing ? ILLEGAL_STATE : OK; }
CUresult cuStreamWaitEvent(void *s, void *e, unsigned flags) {
    Stream *st = s;
    Event *ev = e;
    if (!st) return OK;
    if (ev->graph && !st->capturing) { /* a fork: the waiting stream joins the capture */
        for (int i = 0; i < 16; i++) {
            if (!joined[i]) { joined[i] = st; break; }
        }
        st->capturing = 2;
        st->graph = ev->graph;
        st->unjoined = 1;
    } else if (st->capturing && ev->stream && ev->stream->capturing == 2 && ev->ops == ev->stream->ops) {
        ev->stream->unjoined = 0; /* a join: everything the forked stream did so far is waited for */
    }
    return OK;
}
CUresult cuEventCreate(void **e, unsigned flags) { *e = calloc(1, sizeof(Event)); return OK; }
CUresult cuEventRecord(void *e, void *s) {
    Event *ev = e;
    Stream *st = s;
    clock_gettime(CLOCK_MONOTONIC, &ev->at);
    ev->stream = st;
    ev->graph = st && st->capturing ? st->graph : 0;
    ev->ops = st ? st->ops : 0;
    return OK;
}
CUresult cuEventSynchronize(void *e) { return OK; }
CUresult cuEventElapsedTime(float *ms, void *a, void *b) {
    struct timespec *x = &((Event *) a)->at, *y = &((Event *) b)->at;
    *ms = (float) ((y->tv_sec - x->tv_sec) * 1e3 + (y->tv_nsec - x->tv_nsec) / 1e6);
    return OK;
}
CUresult cuEventDestroy_v2(void *e) { free(e); return OK; }
CUresult cuStreamBeginCapture_v2(void *s, int mode) {
    Stream *st = s;
    if (!st || st->capturing) return ILLEGAL_STATE;
    st->capturing = 1;
    st->graph = calloc(1, sizeof(Graph));
    return OK;
}
CUresult cuStreamEndCapture(void *s, void **graph) {
    Stream *st = s;
    if (!st || !st->capturing) return ILLEGAL_STATE;
    int unjoined = 0;
    for (int i = 0; i < 16; i++) {
        if (joined[i] && joined[i]->graph == st->graph) {
            unjoined |= joined[i]->unjoined;
            joined[i]->capturing = 0;
            joined[i]->graph = 0;
            joined[i]->unjoined = 0;
            joined[i] = 0;
        }
    }
    st->capturing = 0;
    if (unjoined) {
        free(st->graph->ops);
        free(st->graph);
        st->graph = 0;
        *graph = 0;
        return CAPTURE_UNJOINED;
    }
    *graph = st->graph;
    st->graph = 0;
    return OK;
}
CUresult cuGraphInstantiateWithFlags(void **exec, void *graph, unsigned long long flags) {
    Graph *g = graph, *copy = calloc(1, sizeof(Graph));
    copy->count = copy->capacity = g->count;
    copy->ops = malloc((g->count ? g->count : 1) * sizeof(Op));
    memcpy(copy->ops, g->ops, g->count * sizeof(Op));
    *exec = copy;
    return OK;
}
CUresult cuGraphLaunch(void *exec, void *stream) {
    Graph *g = exec;
    for (int i = 0; i < g->count; i++) run(&g->ops[i]);
    return OK;
}
CUresult cuGraphExecDestroy(void *exec) { free(((Graph *) exec)->ops); free(exec); return OK; }
CUresult cuGraphDestroy(void *graph) { free(((Graph *) graph)->ops); free(graph); return OK; }
CUresult cuProfilerStart(void) { return OK; }
CUresult cuProfilerStop(void) { return OK; }

typedef struct { const char *name; void *fn; } Entry;
static const Entry ENTRIES[] = {
    {"cuGetErrorName", cuGetErrorName}, {"cuGetErrorString", cuGetErrorString}, {"cuInit", cuInit},
    {"cuDriverGetVersion", cuDriverGetVersion}, {"cuDeviceGetCount", cuDeviceGetCount}, {"cuDeviceGet", cuDeviceGet},
    {"cuDeviceGetName", cuDeviceGetName}, {"cuDeviceGetAttribute", cuDeviceGetAttribute},
    {"cuDeviceTotalMem", cuDeviceTotalMem_v2}, {"cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain},
    {"cuDevicePrimaryCtxRelease", cuDevicePrimaryCtxRelease_v2}, {"cuCtxSetCurrent", cuCtxSetCurrent},
    {"cuCtxSynchronize", cuCtxSynchronize}, {"cuModuleLoadDataEx", cuModuleLoadDataEx},
    {"cuModuleGetFunction", cuModuleGetFunction}, {"cuModuleUnload", cuModuleUnload},
    {"cuFuncGetAttribute", cuFuncGetAttribute},
    {"cuOccupancyMaxActiveBlocksPerMultiprocessor", cuOccupancyMaxActiveBlocksPerMultiprocessor},
    {"cuLaunchKernel", cuLaunchKernel}, {"cuMemAlloc", cuMemAlloc_v2}, {"cuMemFree", cuMemFree_v2},
    {"cuMemGetInfo", cuMemGetInfo_v2}, {"cuMemHostAlloc", cuMemHostAlloc}, {"cuMemFreeHost", cuMemFreeHost},
    {"cuMemHostRegister", cuMemHostRegister_v2}, {"cuMemHostUnregister", cuMemHostUnregister},
    {"cuMemHostGetDevicePointer", cuMemHostGetDevicePointer_v2}, {"cuMemcpyHtoDAsync", cuMemcpyHtoDAsync_v2},
    {"cuMemcpyDtoHAsync", cuMemcpyDtoHAsync_v2}, {"cuMemcpyDtoDAsync", cuMemcpyDtoDAsync_v2},
    {"cuMemsetD8Async", cuMemsetD8Async}, {"cuMemsetD32Async", cuMemsetD32Async}, {"cuStreamCreate", cuStreamCreate},
    {"cuStreamDestroy", cuStreamDestroy_v2}, {"cuStreamSynchronize", cuStreamSynchronize},
    {"cuStreamWaitEvent", cuStreamWaitEvent}, {"cuEventCreate", cuEventCreate}, {"cuEventRecord", cuEventRecord},
    {"cuEventSynchronize", cuEventSynchronize}, {"cuEventElapsedTime", cuEventElapsedTime},
    {"cuEventDestroy", cuEventDestroy_v2}, {"cuStreamBeginCapture", cuStreamBeginCapture_v2},
    {"cuStreamEndCapture", cuStreamEndCapture}, {"cuGraphInstantiateWithFlags", cuGraphInstantiateWithFlags},
    {"cuGraphLaunch", cuGraphLaunch}, {"cuGraphExecDestroy", cuGraphExecDestroy}, {"cuGraphDestroy", cuGraphDestroy},
    {"cuProfilerStart", cuProfilerStart}, {"cuProfilerStop", cuProfilerStop},
};

/* Like the real driver: the requested ABI version must exist (here: every base name at any version
 * >= 2000), the flags must ask for legacy-stream semantics, and an unknown name is SYMBOL_NOT_FOUND. */
CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int version, unsigned long long flags, int *status) {
    *pfn = 0;
    if (version < 2000 || flags != 1) {
        if (status) *status = 2;
        return INVALID_VALUE;
    }
    for (size_t i = 0; i < sizeof ENTRIES / sizeof ENTRIES[0]; i++) {
        if (!strcmp(ENTRIES[i].name, symbol)) {
            *pfn = ENTRIES[i].fn;
            if (status) *status = 0;
            proc_address_hits++;
            return OK;
        }
    }
    if (status) *status = 1;
    return OK;
}
