/*
 * The guest heap's state and slow paths; the design and the fast paths are in ol_heap.h.
 */
#include <string.h>

#include "ol_heap.h"

#define WASM_PAGE 65536u

uint32_t ol_heap_top, ol_heap_end;
uint32_t ol_heap_sealed;
uint32_t ol_heap_free_head[OL_HEAP_CLASSES];
int ol_heap_oom;
int ol_heap_oom_threw_null;
/* released (becomes the bump region) when an allocation fails */
static uint32_t reserve;

static void *fail(void)
{
    ol_heap_oom = 1;
    if (reserve) {
        /* what is left of the bump region is less than what was just asked for */
        ol_heap_top = reserve;
        ol_heap_end = reserve + *(uint32_t *)(uintptr_t)reserve;
        reserve = 0;
    }
    return NULL;
}

/* Grow the memory so that the bump region ends at `new_end` or later; only when the
   memory ends where the region ends (else something else grew it in between). */
static int extend_to(uint64_t new_end)
{
    uint32_t mem_end = (uint32_t)(__builtin_wasm_memory_size(0) * WASM_PAGE);
    uint32_t pages;
    if (new_end <= ol_heap_end)
        return 0;
    if (mem_end != ol_heap_end)
        return -1;
    pages = (uint32_t)((new_end - ol_heap_end + WASM_PAGE - 1) / WASM_PAGE);
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1)
        return -1;
    ol_heap_end += pages * WASM_PAGE;
    return 0;
}

/* A block of `size` bytes (a class size) from the end of the bump region, after growing
   the memory; 0 (a request past OL_HEAP_MAX_REQUEST) always fails. */
void *ol_heap_malloc_slow(uint32_t size)
{
    uint32_t mem_end, block;
    if (!size)
        return fail();
    mem_end = (uint32_t)(__builtin_wasm_memory_size(0) * WASM_PAGE);
    if (mem_end != ol_heap_end) {
        /* no region yet, or something else grew the memory: a new region at its end
           (the old one's tail stays unused) */
        ol_heap_top = mem_end + OL_HEAP_HDR;
        ol_heap_end = mem_end;
    }
    if (extend_to((uint64_t)ol_heap_top + size) < 0)
        return fail();
    block = ol_heap_top;
    ol_heap_top += size;
    *(uint32_t *)(uintptr_t)block = size;
    return (void *)(uintptr_t)(block + OL_HEAP_HDR);
}

void *ol_heap_calloc(size_t count, size_t size)
{
    void *p;
    if (size && count > OL_HEAP_MAX_REQUEST / size)
        return fail();
    p = ol_heap_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *ol_heap_realloc(void *p, size_t n)
{
    uint32_t block, size, cls, new_size;
    void *q;
    if (!p)
        return ol_heap_malloc(n);
    if (n > OL_HEAP_MAX_REQUEST)
        return fail();
    block = (uint32_t)(uintptr_t)p - OL_HEAP_HDR;
    size = *(uint32_t *)(uintptr_t)block;
    new_size = ol_heap_class(ol_heap_total(n), &cls);
    if (block >= ol_heap_sealed && block + size == ol_heap_top &&
        (new_size <= size || extend_to((uint64_t)block + new_size) == 0)) {
        /* the last block of the bump region: grow or shrink it in place */
        ol_heap_top = block + new_size;
        *(uint32_t *)(uintptr_t)block = new_size;
        return p;
    }
    if (new_size <= size)
        return p; /* it fits: keep the block (no splitting) */
    q = ol_heap_malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, size - OL_HEAP_HDR);
    ol_heap_free(p);
    return q;
}

void ol_heap_seal(uint32_t slack)
{
    uint32_t cls, block, next;
    /* what is free is garbage of the work before the seal: zeros again, so its pages are
       the fresh memory they were (or the previous snapshot's) and stay out of the next
       snapshot (about 60 of the 190 pages a 77 KB near-sdk-js bundle's evaluation
       changes) */
    for (cls = 0; cls < OL_HEAP_CLASSES; cls++) {
        for (block = ol_heap_free_head[cls]; block; block = next) {
            next = *(uint32_t *)(uintptr_t)(block + OL_HEAP_HDR);
            memset((void *)(uintptr_t)block, 0, *(uint32_t *)(uintptr_t)block);
        }
    }
    if (ol_heap_end > ol_heap_top)
        memset((void *)(uintptr_t)ol_heap_top, 0, ol_heap_end - ol_heap_top);
    memset(ol_heap_free_head, 0, sizeof(ol_heap_free_head));
    ol_heap_sealed = ol_heap_top;
    if (slack)
        extend_to((uint64_t)ol_heap_top + slack); /* best effort */
}

void ol_heap_rearm(uint32_t size)
{
    ol_heap_oom = 0;
    ol_heap_oom_threw_null = 0;
    if (!reserve) {
        void *p = ol_heap_malloc(size);
        ol_heap_oom = 0; /* not having a reserve is no failure of the caller */
        if (p)
            reserve = (uint32_t)(uintptr_t)p - OL_HEAP_HDR;
    }
}
