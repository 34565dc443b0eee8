/*
 * Shared declarations of the OutLayer guest bridge (QuickJS-ng <-> NEAR syscalls).
 *
 * bridge.c owns the runtime, the wasm exports and error reporting; near_api.c builds the
 * `near` and `console` globals. The syscall prototypes come from the generated
 * outlayer_syscalls.h (outlayer/syscalls.py is the one table), never written by hand.
 */
#ifndef OL_BRIDGE_H
#define OL_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "quickjs.h"
#include "outlayer_syscalls.h"

/* The one NEAR register the bridge uses: JS never sees registers, so nothing else can
   clobber it between a syscall and the read that follows it. */
#define OL_REG 0

/* Pointers cross the syscall boundary as u64 (NEAR's ABI), lengths too. */
#define OL_PTR(p) ((uint64_t)(uintptr_t)(p))

/* Intrinsics captured at boot, before any contract code can replace the globals. */
extern JSValue ol_string_ctor;
extern JSValue ol_bigint_ctor;

/* A growable byte string on the QuickJS allocator (so running out of memory is seen). */
typedef struct ol_buf {
    JSContext *ctx;
    char *data;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: the content is incomplete */
} ol_buf;

void ol_buf_init(ol_buf *b, JSContext *ctx);
void ol_buf_put(ol_buf *b, const void *data, size_t len);
void ol_buf_puts(ol_buf *b, const char *s);
void ol_buf_free(ol_buf *b);
/* Append String(v) (UTF-8); -1 with a pending exception if String() throws. */
int ol_buf_put_string_of(ol_buf *b, JSValueConst v);

/* Install the frozen `near` global and the `console` global. 0 on success. */
int ol_install_globals(JSContext *ctx);

#endif
