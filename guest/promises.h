/*
 * NEAR promises in JS (guest/promises.c) and await across receipts (guest/suspend.c).
 *
 * A call runs in *parts*: part 0 is the method's own receipt; when it ends with NEAR
 * promises awaited, the bridge suspends it (ol_suspend) and every later part is an
 * `__ol_resume` callback receipt that continues the same JS heap (ol_resume_deliver).
 * Promise indices are per part (VMLogic numbers the promises of each receipt from 0), so
 * every NearPromise remembers the part that made it.
 */
#ifndef OL_PROMISES_H
#define OL_PROMISES_H

#include <stddef.h>
#include <stdint.h>

#include "quickjs.h"

/* ol_call / ol_resume return this when the call suspended at an await: the host keeps the
   instance's memory (a page delta) for the `__ol_resume` receipt. */
#define OL_CALL_SUSPENDED 100
/* The callback method of a suspended call; names starting with __ol_ are OutLayer's. */
#define OL_RESUME_METHOD "__ol_resume"
#define OL_RESERVED_PREFIX "__ol_"

/* A BigInt or a string of decimal digits as a u128: 0 on success, -1 when it is not one
   (nothing thrown), -2 on a pending exception, 1 when v is neither a BigInt nor a string. */
int ol_parse_decimal(JSContext *ctx, JSValueConst v, unsigned __int128 *out);

enum { NP_CALL, NP_BATCH, NP_JOINT, NP_YIELD };
enum { NP_PENDING, NP_OK, NP_FAILED };

/* One NEAR promise, as the JS NearPromise objects of it see it. Records are never freed
   (an instance serves one call). */
typedef struct ol_np {
    uint32_t part;       /* the part that made it */
    uint32_t index;      /* its promise index in that part */
    uint8_t kind;        /* NP_* */
    uint8_t awaited;     /* then() was called on it while pending, in its part */
    uint8_t state;       /* NP_PENDING until delivered after an await */
    uint32_t nmembers;   /* NP_JOINT: the promises it joins */
    struct ol_np **members;
    char *desc;          /* for messages: "'get_pool_info' on pool.test" */
    JSValue value;       /* NP_OK: the result; NP_FAILED: the Error */
    uint32_t nwaiters, capwaiters;
    JSValue *waiters;    /* (resolve, reject) pairs of then() calls waiting for it */
} ol_np;

/* --- promises.c: the registry ----------------------------------------------------- */

/*
 * The host call behind near.promiseCreate / env.promise_create (`then` 0) and
 * near.promiseThen / env.promise_then (`then` 1: after promise `dep`); `amount` is a
 * 16-byte little-endian u128. The new promise's index.
 */
uint64_t ol_promise_call(int then, uint64_t dep, const uint8_t *account, size_t account_len,
                         const uint8_t *method, size_t method_len, const uint8_t *args,
                         size_t args_len, const uint8_t *amount, uint64_t gas);

extern uint32_t ol_part;          /* the current part: 0, then +1 per resume */
extern ol_np **ol_part_np;        /* the current part's promises, by promise index */
extern uint32_t ol_part_len;
extern int ol_part_returned;      /* near.promiseReturn was called in this part */
extern int ol_part_awaiting;      /* a promise of this part has waiters */

/* Add the promise API to the `near` object (before it is frozen). 0 on success. */
int ol_install_promises(JSContext *ctx, JSValueConst near);
/* Start a new part (after a resume): promise indices start again from 0. */
void ol_promises_new_part(void);
/* Settle a delivered promise: resolve or reject its waiters (JS jobs run later). */
int ol_np_settle_waiters(JSContext *ctx, ol_np *np);
/* The promise a NearPromise object stands for, or NULL if `v` is not one. */
ol_np *ol_np_of(JSValueConst v);
/* 1 if the part ends with NEAR promises awaited (the call must suspend). */
int ol_await_pending(void);
/*
 * A method's final value that is a NearPromise: one of this part becomes the call's result
 * (promise_return, *value = undefined); a delivered one of an earlier part gives its value
 * (or throws its error). -1 with an exception pending; 0 when `*value` is not a NearPromise.
 */
int ol_np_unwrap_result(JSContext *ctx, JSValue *value);

/* --- suspend.c -------------------------------------------------------------------- */

/*
 * End the part suspended: make the `__ol_resume` callback on every promise this part
 * made (awaited ones included), return it (promise_return), and keep `result` (the
 * method's promise, taken over) and the method name for ol_resume. -1 with an exception
 * pending.
 */
int ol_suspend(JSContext *ctx, JSValue result, const char *method, size_t method_len);
/*
 * At the start of a resumed part: read the callback's promise results into the suspended
 * promises, start the new part, resolve / reject the waiting continuations (as jobs), and
 * hand back the method's promise and name (the name stays owned by suspend.c). -1 with an
 * exception pending.
 */
int ol_resume_deliver(JSContext *ctx, JSValue *result, const char **method,
                      size_t *method_len);

#endif
