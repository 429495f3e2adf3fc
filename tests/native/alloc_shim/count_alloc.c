/*
 * count_alloc.c - LD_PRELOAD shim for test_engine_hot_path_allocates_nothing.py: counts every call
 * into the malloc family of the process, so the test can measure how many allocations the engine
 * makes while it processes commands (the answer must not depend on how many it processes).
 * glibc exports __libc_* entry points, which avoids calling dlsym from inside malloc.
 */
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static unsigned long alloc_calls;

unsigned long venue_test_alloc_calls(void) { return __atomic_load_n(&alloc_calls, __ATOMIC_RELAXED); }

void *malloc(size_t size) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __libc_calloc(n, size); }
void *realloc(void *ptr, size_t size) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __libc_realloc(ptr, size); }
void *memalign(size_t alignment, size_t size) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size)
{
    __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED);
    void *p = __libc_memalign(alignment, size);
    if (p == NULL)
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}
void *aligned_alloc(size_t alignment, size_t size) { __atomic_add_fetch(&alloc_calls, 1, __ATOMIC_RELAXED); return __libc_memalign(alignment, size); }
