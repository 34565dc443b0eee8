/*
 * Await across receipts: a call suspends when its part ends with NEAR promises awaited,
 * and resumes in the `__ol_resume` callback receipt with their results.
 *
 * At the end of a part (the job queue empty, the method's promise still waiting on a
 * NearPromise), ol_suspend makes one callback receipt on the current account:
 *
 *   promise_batch_then(P, current account)      P = the part's promises, joined
 *   FunctionCallWeight("__ol_resume", no args, no deposit, gas 0, gas weight 1)
 *   promise_return(callback)
 *
 * P is every promise the part made except joint ones (their members are in) and yields
 * nobody awaited (a yield may wait 200 blocks): so every NearPromise of the part, awaited
 * now or later, gets its result, in promise-index order. The callback's weight gives it
 * the gas the part leaves unused; promise_return makes the transaction's result whatever
 * the method finally returns. The host then keeps the instance's memory as a page delta
 * over the boot snapshot (the suspension), the chain stores it under the callback's
 * receipt id, and runs the callback as `ol_resume` on that memory.
 *
 * Everything the resumed part needs is here, in globals: the method's promise, its name
 * and the suspended promises, whose results arrive in that order.
 */
#include <string.h>

#include "bridge.h"
#include "promises.h"

static JSValue susp_result = JS_UNDEFINED; /* the method's promise */
static char *susp_method;                   /* its name, for messages */
static size_t susp_method_len;
static ol_np **susp_np;                     /* the suspended promises, in result order */
static uint32_t susp_len, susp_cap;


int ol_suspend(JSContext *ctx, JSValue result, const char *method, size_t method_len)
{
    static const char resume[] = OL_RESUME_METHOD;
    static const uint8_t zero[16];
    uint64_t *indices = NULL, dep, cb, acct_len;
    char *acct = NULL, *name;
    uint32_t i, n = 0;
    int ret = -1;

    if (ol_part_returned) {
        JS_FreeValue(ctx, result);
        JS_ThrowTypeError(ctx, "near.promiseReturn was called before an await: the call's "
                               "result is what the method finally returns (call "
                               "promiseReturn after the last await, or return the "
                               "NearPromise)");
        return -1;
    }
    /* the promises whose results the resumed part gets */
    if (ol_part_len > susp_cap) {
        ol_np **grown = js_realloc(ctx, susp_np, sizeof(*grown) * ol_part_len);
        if (!grown)
            goto done;
        susp_np = grown;
        susp_cap = ol_part_len;
    }
    for (i = 0; i < ol_part_len; i++) {
        ol_np *np = ol_part_np[i];
        if (np->kind == NP_JOINT || (np->kind == NP_YIELD && !np->awaited))
            continue;
        susp_np[n++] = np;
    }
    indices = js_malloc(ctx, sizeof(*indices) * (n ? n : 1));
    if (!indices)
        goto done;
    for (i = 0; i < n; i++)
        indices[i] = susp_np[i]->index;
    if (n == 0) {
        JS_ThrowInternalError(ctx, "outlayer bridge: suspending without a promise to wait for");
        goto done;
    }
    dep = n == 1 ? indices[0] : ol_promise_and(OL_PTR(indices), n);

    ol_current_account_id(OL_REG);
    acct_len = ol_register_len(OL_REG);
    acct = js_malloc(ctx, (size_t)acct_len + 1);
    if (!acct)
        goto done;
    ol_read_register(OL_REG, OL_PTR(acct));
    cb = ol_promise_batch_then(dep, acct_len, OL_PTR(acct));
    ol_promise_batch_action_function_call_weight(cb, sizeof(resume) - 1, OL_PTR(resume), 0,
                                                 OL_PTR(zero), OL_PTR(zero), 0, 1);
    ol_promise_return(cb);

    /* keep what the resumed part needs (the name may be our own copy already) */
    if (method != susp_method) {
        name = js_malloc(ctx, method_len + 1);
        if (!name)
            goto done;
        memcpy(name, method, method_len);
        name[method_len] = 0;
        js_free(ctx, susp_method);
        susp_method = name;
        susp_method_len = method_len;
    }
    JS_FreeValue(ctx, susp_result);
    susp_result = result;
    result = JS_UNDEFINED;
    susp_len = n;
    ret = 0;
done:
    JS_FreeValue(ctx, result);
    js_free(ctx, indices);
    js_free(ctx, acct);
    return ret;
}

/* The value of a successful result: undefined for none, the parsed JSON when it is JSON,
   else the string. */
static int delivered_value(JSContext *ctx, ol_np *np, const uint8_t *data, size_t len)
{
    JSValue v;

    if (len == 0) {
        np->value = JS_UNDEFINED;
    } else {
        v = JS_ParseJSON(ctx, (const char *)data, len, "<promise result>");
        if (JS_IsException(v)) {
            JS_FreeValue(ctx, JS_GetException(ctx));
            v = JS_NewStringLen(ctx, (const char *)data, len);
            if (JS_IsException(v))
                return -1;
        }
        np->value = v;
    }
    np->state = NP_OK;
    return 0;
}

static void failed(JSContext *ctx, ol_np *np, const char *why)
{
    np->value = JS_NewPlainError(ctx, "%s%s", np->desc ? np->desc : "a NEAR promise", why);
    np->state = NP_FAILED;
}

/* A joint promise settles with its members: an array of their values, or the first
   failure. */
static int settle_joint(JSContext *ctx, ol_np *np)
{
    JSValue arr;
    uint32_t i;

    for (i = 0; i < np->nmembers; i++)
        if (np->members[i]->state == NP_PENDING)
            return 0;
    for (i = 0; i < np->nmembers; i++) {
        if (np->members[i]->state == NP_FAILED) {
            np->value = JS_DupValue(ctx, np->members[i]->value);
            np->state = NP_FAILED;
            return 0;
        }
    }
    arr = JS_NewArray(ctx);
    if (JS_IsException(arr))
        return -1;
    for (i = 0; i < np->nmembers; i++) {
        if (JS_SetPropertyUint32(ctx, arr, i, JS_DupValue(ctx, np->members[i]->value)) < 0) {
            JS_FreeValue(ctx, arr);
            return -1;
        }
    }
    np->value = arr;
    np->state = NP_OK;
    return 0;
}

int ol_resume_deliver(JSContext *ctx, JSValue *result, const char **method,
                      size_t *method_len)
{
    uint64_t count, st, len;
    uint32_t i, n_part = ol_part_len;
    ol_np **part = ol_part_np;
    uint8_t *buf;

    if (!susp_method) {
        JS_ThrowInternalError(ctx, "ol_resume without a suspended call");
        return -1;
    }
    count = ol_promise_results_count();
    if (count != susp_len) {
        JS_ThrowInternalError(ctx, "ol_resume: %llu promise results for %u suspended promises",
                              (unsigned long long)count, susp_len);
        return -1;
    }
    for (i = 0; i < susp_len; i++) {
        ol_np *np = susp_np[i];
        st = ol_promise_result(i, OL_REG);
        if (st == 1) {
            len = ol_register_len(OL_REG);
            if (len == UINT64_MAX)
                len = 0;
            buf = js_malloc(ctx, (size_t)len + 1);
            if (!buf)
                return -1;
            if (len)
                ol_read_register(OL_REG, OL_PTR(buf));
            buf[len] = 0; /* JS_ParseJSON wants a NUL after the text */
            if (delivered_value(ctx, np, buf, (size_t)len) < 0) {
                js_free(ctx, buf);
                return -1;
            }
            js_free(ctx, buf);
        } else if (st == 2) {
            failed(ctx, np, np->kind == NP_YIELD
                                ? " failed (it timed out, or its callback failed)"
                                : " failed (NEAR tells a caller only that a receipt failed: "
                                  "the transaction's receipt outcomes say why)");
        } else {
            JS_ThrowInternalError(ctx, "ol_resume: promise result %u is not ready", i);
            return -1;
        }
    }
    /* joint promises of the suspended part, members first (they were made first) */
    for (i = 0; i < n_part; i++)
        if (part[i]->kind == NP_JOINT && settle_joint(ctx, part[i]) < 0)
            return -1;
    /* a new part: promise indices start from 0 again; then the continuations are queued */
    ol_promises_new_part();
    for (i = 0; i < n_part; i++)
        if (part[i]->state != NP_PENDING && ol_np_settle_waiters(ctx, part[i]) < 0)
            return -1;
    *result = susp_result;
    susp_result = JS_UNDEFINED;
    susp_len = 0;
    *method = susp_method;
    *method_len = susp_method_len;
    return 0;
}
