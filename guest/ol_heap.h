/*
 * OutLayer guest heap: the allocator of QuickJS and of the host's buffers (ol_alloc).
 * QuickJS calls it directly (guest/patches/quickjs-ol-heap.patch; this header is
 * force-included into quickjs.c), so the hot paths here are inline; ol_heap.c has the
 * state and the slow paths.
 *
 * Why not libc's malloc: a contract's snapshot is the set of 4 KiB pages that evaluating
 * it changed over the boot snapshot, and every call pays a page fault for each of them.
 * libc's allocator (zig's: one 64 KiB run per power-of-two size class, LIFO free lists)
 * and QuickJS's own arenas (one 4 KiB arena per size class) put the blocks of one
 * evaluation on dozens of pages all over the heap, mostly in the holes that the boot work
 * left. This heap keeps them together:
 *
 * - every block comes from one bump region, whatever its size, or from a free list of
 *   blocks of its size class freed after the last seal;
 * - `ol_heap_seal()` runs right before the host snapshots the instance (end of ol_boot,
 *   end of ol_lockdown, `ol_seal` after ol_load): it zeroes what is free and forgets the
 *   free lists, and blocks allocated before it are never reused (freeing one writes
 *   nothing). The boot snapshot's holes stay as they
 *   are; what comes after is dense, fresh memory. (What this leaves unused is bounded by
 *   the boot heap, a few MB; it also leaves 256 KiB of bump space, so small contracts
 *   and most calls never grow the memory.)
 * - the last block of the bump region goes back to it when freed, and grows or shrinks
 *   in place on realloc (strings and arrays being built).
 *
 * Blocks: a 4-byte header (the block size) then the payload, 8-byte aligned (blocks start
 * at 4 mod 8 and are multiples of 8 long). Size classes: 8..128 bytes in steps of 8, then
 * 8 classes per power of two (at most 12.5% slack). A free block holds the next free
 * block of its class in its first payload word. Memory comes from memory.grow, exactly
 * the 64 KiB pages needed. When it cannot grow, the allocation fails (NULL), `ol_heap_oom`
 * is set (QuickJS then marks the error it throws as an allocation failure, which the
 * bridge reports as MemoryLimitExceeded if it ends the call) and the reserve
 * (ol_heap_rearm) becomes the free space, so that QuickJS can still build the error.
 * Deterministic: no address depends on anything but the sequence of calls.
 */
#ifndef OL_HEAP_H
#define OL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define OL_HEAP_HDR 4u
#define OL_HEAP_SMALL_MAX 128u
/* 8..128 by 8, then 8 classes for each (2^k, 2^(k+1)], k = 7..30 */
#define OL_HEAP_CLASSES (16 + 24 * 8)
#define OL_HEAP_MAX_REQUEST (1u << 30)

/* the bump region [ol_heap_top, ol_heap_end); ol_heap_top is a block start (4 mod 8) */
extern uint32_t ol_heap_top, ol_heap_end;
/* blocks that start below this were allocated before the last seal */
extern uint32_t ol_heap_sealed;
extern uint32_t ol_heap_free_head[OL_HEAP_CLASSES];
/* an allocation failed since the last ol_heap_rearm */
extern int ol_heap_oom;
/* since the last ol_heap_rearm, QuickJS threw null for a failed allocation: it could not
   even build the error (guest/patches/quickjs-oom-error.patch) */
extern int ol_heap_oom_threw_null;

/* the slow paths (ol_heap.c) */
void *ol_heap_malloc_slow(uint32_t size);
void *ol_heap_calloc(size_t count, size_t size);
void *ol_heap_realloc(void *p, size_t n);
/* free bump space the boot seals leave: a small contract's evaluation and most calls
   then allocate without growing the memory (zero pages cost the snapshots nothing) */
#define OL_HEAP_SEAL_SLACK (256u * 1024u)
/* Right before the host snapshots the instance: what is free now is zeroed and never
   reused, and freeing an older block writes nothing; then the bump region is grown to
   `slack` free bytes at least (0: as it is). */
void ol_heap_seal(uint32_t slack);
/* At each export's entry: clear ol_heap_oom and ol_heap_oom_threw_null, set a reserve of
   `size` bytes aside if there is none (it was used up by a failure). */
void ol_heap_rearm(uint32_t size);

/* block size and class of a block that holds `total` bytes (header included, multiple
   of 8, >= 8); the size of a class maps to the same class */
static inline uint32_t ol_heap_class(uint32_t total, uint32_t *cls)
{
    uint32_t k, shift, sub;
    if (total <= OL_HEAP_SMALL_MAX) {
        *cls = (total >> 3) - 1;
        return total;
    }
    k = 31 - (uint32_t)__builtin_clz(total - 1); /* total in (2^k, 2^(k+1)] */
    shift = k - 3;
    sub = (total - (1u << k) + (1u << shift) - 1) >> shift; /* 1..8 */
    *cls = 16 + (k - 7) * 8 + sub - 1;
    return (1u << k) + (sub << shift);
}

static inline uint32_t ol_heap_total(size_t n)
{
    uint32_t total = ((uint32_t)n + OL_HEAP_HDR + 7u) & ~7u;
    return total < 8 ? 8 : total;
}

static inline void *ol_heap_malloc(size_t n)
{
    uint32_t cls, size, block;
    if (n > OL_HEAP_MAX_REQUEST)
        return ol_heap_malloc_slow(0); /* fails */
    size = ol_heap_class(ol_heap_total(n), &cls);
    block = ol_heap_free_head[cls];
    if (block) {
        ol_heap_free_head[cls] = *(uint32_t *)(uintptr_t)(block + OL_HEAP_HDR);
        return (void *)(uintptr_t)(block + OL_HEAP_HDR);
    }
    if ((uint64_t)ol_heap_top + size > ol_heap_end)
        return ol_heap_malloc_slow(size);
    block = ol_heap_top;
    ol_heap_top += size;
    *(uint32_t *)(uintptr_t)block = size;
    return (void *)(uintptr_t)(block + OL_HEAP_HDR);
}

static inline void ol_heap_free(void *p)
{
    uint32_t block, size, cls;
    if (!p)
        return;
    block = (uint32_t)(uintptr_t)p - OL_HEAP_HDR;
    if (block < ol_heap_sealed)
        return; /* a block of the snapshot: leave its page as it is */
    size = *(uint32_t *)(uintptr_t)block;
    if (block + size == ol_heap_top) { /* the last block of the bump region: give it back */
        ol_heap_top = block;
        return;
    }
    ol_heap_class(size, &cls);
    *(uint32_t *)p = ol_heap_free_head[cls];
    ol_heap_free_head[cls] = block;
}

static inline size_t ol_heap_usable_size(const void *p)
{
    return p ? *(const uint32_t *)((uintptr_t)p - OL_HEAP_HDR) - OL_HEAP_HDR : 0;
}

#endif
