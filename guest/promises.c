/*
 * NEAR promises in JS: `near.promiseCreate` & co. over syscalls 460-479, and NearPromise.
 *
 * Values as near-sdk-js passes them: account ids and method names are strings; call
 * arguments an object (JSON-encoded), a string or a Uint8Array; amounts (yoctoNEAR, u128)
 * a bigint, a decimal string or a safe-integer number; gas a bigint or a number; public
 * keys "ed25519:<base58>" (or "secp256k1:...") or a borsh Uint8Array.
 *
 * Every function that makes a promise returns a frozen NearPromise: `.index` is the NEAR
 * promise index, and it has a `then` method, so `await near.promiseCreate(...)` works
 * (guest/suspend.c does the suspending). Every function that takes a promise takes a
 * NearPromise or a plain index.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "promises.h"

uint32_t ol_part;
ol_np **ol_part_np;
uint32_t ol_part_len;
int ol_part_returned;
int ol_part_awaiting;
static uint32_t part_cap;

static JSClassID np_class_id;
static const uint8_t zero_bytes[16];

/* ------------------------------------------------------------------ argument helpers */

/* Bytes of an argument; release with arg_free. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
    const char *cstr; /* owned C string, if any */
} ol_arg;

static void arg_free(JSContext *ctx, ol_arg *a)
{
    if (a->cstr)
        JS_FreeCString(ctx, a->cstr);
    a->cstr = NULL;
}

/* A string argument (account id, method name), as UTF-8. */
static int get_string(JSContext *ctx, JSValueConst v, ol_arg *out, const char *fn,
                      const char *name)
{
    size_t n;
    out->cstr = NULL;
    if (!JS_IsString(v)) {
        JS_ThrowTypeError(ctx, "near.%s: '%s' must be a string", fn, name);
        return -1;
    }
    out->cstr = JS_ToCStringLen(ctx, &n, v);
    if (!out->cstr)
        return -1;
    out->ptr = (const uint8_t *)out->cstr;
    out->len = n;
    return 0;
}

static int get_uint8array(JSContext *ctx, JSValueConst v, ol_arg *out)
{
    int t = JS_IsObject(v) ? JS_GetTypedArrayType(v) : -1;
    size_t n = 0;
    uint8_t *p;

    if (t != JS_TYPED_ARRAY_UINT8 && t != JS_TYPED_ARRAY_UINT8C)
        return 0;
    p = JS_GetUint8Array(ctx, &n, v);
    if (!p && JS_HasException(ctx))
        return -1;
    out->ptr = p ? p : zero_bytes;
    out->len = p ? n : 0;
    return 1;
}

/* A method name: a string, never one of OutLayer's reserved names. */
static int get_method(JSContext *ctx, JSValueConst v, ol_arg *out, const char *fn)
{
    if (get_string(ctx, v, out, fn, "method") < 0)
        return -1;
    if (out->len >= sizeof(OL_RESERVED_PREFIX) - 1 &&
        !memcmp(out->ptr, OL_RESERVED_PREFIX, sizeof(OL_RESERVED_PREFIX) - 1)) {
        arg_free(ctx, out);
        JS_ThrowTypeError(ctx, "near.%s: method names starting with " OL_RESERVED_PREFIX
                               " are reserved for OutLayer", fn);
        return -1;
    }
    return 0;
}

/* Call arguments or a payload: undefined/null = none, a string (UTF-8), a Uint8Array, or
   anything else JSON-encoded. */
static int get_payload(JSContext *ctx, JSValueConst v, ol_arg *out, const char *fn,
                       const char *name)
{
    JSValue json;
    size_t n;
    int r;

    out->cstr = NULL;
    out->ptr = zero_bytes;
    out->len = 0;
    if (JS_IsUndefined(v) || JS_IsNull(v))
        return 0;
    if (JS_IsString(v)) {
        out->cstr = JS_ToCStringLen(ctx, &n, v);
        if (!out->cstr)
            return -1;
        out->ptr = (const uint8_t *)out->cstr;
        out->len = n;
        return 0;
    }
    r = get_uint8array(ctx, v, out);
    if (r)
        return r < 0 ? -1 : 0;
    json = JS_JSONStringify(ctx, v, JS_UNDEFINED, JS_UNDEFINED);
    if (JS_IsException(json))
        return -1;
    if (JS_IsUndefined(json)) {
        JS_ThrowTypeError(ctx, "near.%s: '%s' has no JSON form (pass an object, a string or "
                               "a Uint8Array)", fn, name);
        return -1;
    }
    out->cstr = JS_ToCStringLen(ctx, &n, json);
    JS_FreeValue(ctx, json);
    if (!out->cstr)
        return -1;
    out->ptr = (const uint8_t *)out->cstr;
    out->len = n;
    return 0;
}

/* A decimal integer from 0 to 2^128 - 1 (a bigint prints in decimal); 1 if `v` is not a
   bigint or a string, -1 if it is out of range or not decimal digits. */
int ol_parse_decimal(JSContext *ctx, JSValueConst v, unsigned __int128 *out)
{
    const unsigned __int128 max = ~(unsigned __int128)0;
    unsigned __int128 acc = 0;
    const char *s;
    size_t n, i;
    int ok;

    if (!JS_IsBigInt(v) && !JS_IsString(v))
        return 1;
    s = JS_ToCStringLen(ctx, &n, v);
    if (!s)
        return -2;
    ok = n > 0 && n <= 39;
    for (i = 0; ok && i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (s[i] < '0' || s[i] > '9' || acc > (max - d) / 10)
            ok = 0;
        else
            acc = acc * 10 + d;
    }
    JS_FreeCString(ctx, s);
    *out = acc;
    return ok ? 0 : -1;
}

/* A non-negative integer below 2^64: a number (safe integer) or a bigint. */
static int get_u64(JSContext *ctx, JSValueConst v, uint64_t *out, const char *fn,
                   const char *name)
{
    if (JS_IsBigInt(v)) {
        unsigned __int128 acc;
        int r = ol_parse_decimal(ctx, v, &acc);
        if (r == -2)
            return -1;
        if (r || acc > UINT64_MAX) {
            JS_ThrowRangeError(ctx, "near.%s: '%s' must be an integer from 0 to 2^64 - 1", fn,
                               name);
            return -1;
        }
        *out = (uint64_t)acc;
        return 0;
    }
    if (JS_IsNumber(v)) {
        double d;
        if (JS_ToFloat64(ctx, &d, v))
            return -1;
        if (!(d >= 0 && d <= 9007199254740991.0) || d != trunc(d)) {
            JS_ThrowRangeError(ctx, "near.%s: '%s' must be a non-negative safe integer "
                                    "(use a bigint for more)", fn, name);
            return -1;
        }
        *out = (uint64_t)d;
        return 0;
    }
    JS_ThrowTypeError(ctx, "near.%s: '%s' must be a number or a bigint", fn, name);
    return -1;
}

/* A u128 amount (yoctoNEAR), little-endian into out[16]: a bigint, a decimal string or a
   safe-integer number. */
static int get_u128(JSContext *ctx, JSValueConst v, uint8_t out[16], const char *fn,
                    const char *name)
{
    unsigned __int128 acc = 0;
    uint64_t lo, hi;
    int r;

    if (JS_IsNumber(v)) {
        uint64_t u;
        if (get_u64(ctx, v, &u, fn, name))
            return -1;
        acc = u;
    } else {
        r = ol_parse_decimal(ctx, v, &acc);
        if (r == -2)
            return -1;
        if (r == 1) {
            JS_ThrowTypeError(ctx, "near.%s: '%s' must be a bigint, a decimal string or a "
                                   "number (yoctoNEAR)", fn, name);
            return -1;
        }
        if (r < 0) {
            JS_ThrowRangeError(ctx, "near.%s: '%s' must be an integer from 0 to 2^128 - 1 "
                                    "(yoctoNEAR)", fn, name);
            return -1;
        }
    }
    lo = (uint64_t)acc;
    hi = (uint64_t)(acc >> 64);
    memcpy(out, &lo, 8); /* wasm is little-endian */
    memcpy(out + 8, &hi, 8);
    return 0;
}

/* ------------------------------------------------------------------- public keys */

static const char b58_alphabet[] =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/* base58 (Bitcoin alphabet) -> bytes; -1 if invalid or longer than cap. */
static int b58_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t b256[128];
    size_t size = n * 733 / 1000 + 1, zeros = 0, i, j, k;

    if (n == 0 || size > sizeof(b256))
        return -1;
    while (zeros < n && s[zeros] == '1')
        zeros++;
    memset(b256, 0, size);
    for (i = zeros; i < n; i++) {
        const char *p = s[i] ? strchr(b58_alphabet, s[i]) : NULL;
        unsigned carry;
        if (!p)
            return -1;
        carry = (unsigned)(p - b58_alphabet);
        for (j = size; j-- > 0;) {
            carry += 58u * b256[j];
            b256[j] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        if (carry)
            return -1;
    }
    for (k = 0; k < size && b256[k] == 0; k++)
        ;
    if (zeros + (size - k) > cap)
        return -1;
    memset(out, 0, zeros);
    memcpy(out + zeros, b256 + k, size - k);
    *out_len = zeros + (size - k);
    return 0;
}

/* A public key as borsh (key type byte + key): from "ed25519:<base58>" /
   "secp256k1:<base58>" (no prefix = ed25519), or a Uint8Array taken as borsh already. */
static int get_public_key(JSContext *ctx, JSValueConst v, uint8_t *buf, ol_arg *out,
                          const char *fn)
{
    size_t n, len = 0, want;
    const char *s, *body;
    int r;

    out->cstr = NULL;
    r = get_uint8array(ctx, v, out);
    if (r)
        return r < 0 ? -1 : 0;
    if (!JS_IsString(v)) {
        JS_ThrowTypeError(ctx, "near.%s: 'publicKey' must be a string (\"ed25519:<base58>\") "
                               "or a Uint8Array (borsh)", fn);
        return -1;
    }
    s = JS_ToCStringLen(ctx, &n, v);
    if (!s)
        return -1;
    body = s;
    buf[0] = 0;
    want = 32;
    if (n > 8 && !memcmp(s, "ed25519:", 8)) {
        body = s + 8;
    } else if (n > 10 && !memcmp(s, "secp256k1:", 10)) {
        body = s + 10;
        buf[0] = 1;
        want = 64;
    }
    if (b58_decode(body, n - (size_t)(body - s), buf + 1, 64, &len) < 0 || len != want) {
        JS_FreeCString(ctx, s);
        JS_ThrowRangeError(ctx, "near.%s: invalid public key (expected \"ed25519:\" and the "
                                "base58 of 32 bytes, or \"secp256k1:\" and 64 bytes)", fn);
        return -1;
    }
    JS_FreeCString(ctx, s);
    out->ptr = buf;
    out->len = len + 1;
    return 0;
}

/* ------------------------------------------------------------------- the registry */

static char *dup_desc(JSContext *ctx, const char *fmt, const char *a, size_t alen,
                      const char *b, size_t blen)
{
    size_t cap = strlen(fmt) + alen + blen + 1;
    char *s = js_malloc(ctx, cap);
    if (s)
        snprintf(s, cap, fmt, (int)alen, a, (int)blen, b);
    return s;
}

static void set_desc(JSContext *ctx, ol_np *np, char *desc)
{
    if (!desc)
        return;
    if (np->desc)
        js_free(ctx, np->desc);
    np->desc = desc;
}

void ol_promises_new_part(void)
{
    ol_part++;
    /* a fresh list: the resuming bridge still walks the old one */
    ol_part_np = NULL;
    part_cap = 0;
    ol_part_len = 0;
    ol_part_returned = 0;
    ol_part_awaiting = 0;
}

/* A NearPromise for promise `index` of this part (a new record). */
static JSValue new_near_promise(JSContext *ctx, uint64_t index, int kind, char *desc)
{
    ol_np *np;
    JSValue obj;

    if (index != ol_part_len) {
        if (desc)
            js_free(ctx, desc);
        return JS_ThrowInternalError(ctx, "outlayer bridge: promise index %llu, expected %u",
                                     (unsigned long long)index, ol_part_len);
    }
    if (ol_part_len == part_cap) {
        uint32_t cap = part_cap ? part_cap * 2 : 16;
        ol_np **grown = js_realloc(ctx, ol_part_np, sizeof(*grown) * cap);
        if (!grown) {
            if (desc)
                js_free(ctx, desc);
            return JS_EXCEPTION;
        }
        ol_part_np = grown;
        part_cap = cap;
    }
    np = js_mallocz(ctx, sizeof(*np));
    if (!np) {
        if (desc)
            js_free(ctx, desc);
        return JS_EXCEPTION;
    }
    np->part = ol_part;
    np->index = (uint32_t)index;
    np->kind = (uint8_t)kind;
    np->state = NP_PENDING;
    np->desc = desc;
    np->value = JS_UNDEFINED;
    ol_part_np[ol_part_len++] = np;

    obj = JS_NewObjectClass(ctx, np_class_id);
    if (JS_IsException(obj))
        return obj;
    JS_SetOpaque(obj, np);
    if (JS_DefinePropertyValueStr(ctx, obj, "index", JS_NewInt64(ctx, (int64_t)index),
                                  JS_PROP_ENUMERABLE) < 0 ||
        JS_FreezeObject(ctx, obj) < 0) {
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    return obj;
}

ol_np *ol_np_of(JSValueConst v)
{
    return JS_IsObject(v) ? JS_GetOpaque(v, np_class_id) : NULL;
}

/* The promise index of a NearPromise of this part, or of a plain index. *np = its record
   when known. */
static int get_promise(JSContext *ctx, JSValueConst v, uint64_t *index, ol_np **np,
                       const char *fn)
{
    ol_np *rec = ol_np_of(v);
    if (rec) {
        if (rec->part != ol_part) {
            JS_ThrowTypeError(ctx, "near.%s: this NearPromise (#%u, %s) was made before an "
                                   "await, in an earlier receipt of this call: it can only be "
                                   "awaited now, not built on",
                              fn, rec->index, rec->desc ? rec->desc : "a promise");
            return -1;
        }
        *index = rec->index;
        if (np)
            *np = rec;
        return 0;
    }
    if (JS_IsNumber(v) || JS_IsBigInt(v)) {
        if (get_u64(ctx, v, index, fn, "promise"))
            return -1;
        if (np)
            *np = *index < ol_part_len ? ol_part_np[*index] : NULL;
        return 0;
    }
    JS_ThrowTypeError(ctx, "near.%s: 'promise' must be a NearPromise or a promise index", fn);
    return -1;
}

static void mark_awaited(ol_np *np)
{
    uint32_t i;
    np->awaited = 1;
    for (i = 0; i < np->nmembers; i++)
        mark_awaited(np->members[i]);
}

int ol_await_pending(void)
{
    return ol_part_awaiting;
}

int ol_np_settle_waiters(JSContext *ctx, ol_np *np)
{
    uint32_t i;
    int ret = 0;

    for (i = 0; i < np->nwaiters; i++) {
        JSValue fn = np->waiters[2 * i + (np->state == NP_OK ? 0 : 1)];
        JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 1, (JSValueConst *)&np->value);
        if (JS_IsException(r))
            ret = -1;
        JS_FreeValue(ctx, r);
        JS_FreeValue(ctx, np->waiters[2 * i]);
        JS_FreeValue(ctx, np->waiters[2 * i + 1]);
    }
    np->nwaiters = 0;
    return ret;
}

int ol_np_unwrap_result(JSContext *ctx, JSValue *value)
{
    ol_np *np = ol_np_of(*value);

    if (!np)
        return 0;
    if (np->part == ol_part) {
        ol_promise_return(np->index);
        ol_part_returned = 1;
        JS_FreeValue(ctx, *value);
        *value = JS_UNDEFINED;
        return 1;
    }
    if (np->state == NP_OK) {
        JS_FreeValue(ctx, *value);
        *value = JS_DupValue(ctx, np->value);
        return 1;
    }
    if (np->state == NP_FAILED) {
        JS_Throw(ctx, JS_DupValue(ctx, np->value));
        return -1;
    }
    JS_ThrowTypeError(ctx, "the method returned a NearPromise (#%u, %s) made before an await "
                           "whose result never arrived", np->index,
                      np->desc ? np->desc : "a promise");
    return -1;
}

/* --------------------------------------------------------------------- NearPromise */

/* then(onFulfilled, onRejected): a promise of the NEAR promise's result. While it is
   pending in this part, the call suspends when the part ends (guest/suspend.c) and
   resumes with it; once delivered, it resolves at once. */
static JSValue np_then(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ol_np *np = ol_np_of(this_val);
    JSValue funcs[2], promise, chained;

    if (!np)
        return JS_ThrowTypeError(ctx, "NearPromise.prototype.then called on something else");
    promise = JS_NewPromiseCapability(ctx, funcs);
    if (JS_IsException(promise))
        return promise;
    if (np->state != NP_PENDING) {
        JSValue r = JS_Call(ctx, funcs[np->state == NP_OK ? 0 : 1], JS_UNDEFINED, 1,
                            (JSValueConst *)&np->value);
        JS_FreeValue(ctx, r);
        JS_FreeValue(ctx, funcs[0]);
        JS_FreeValue(ctx, funcs[1]);
    } else if (np->part != ol_part) {
        JSValue err = JS_NewPlainError(
            ctx, "the NEAR promise #%u (%s) was made before an earlier await and its result "
                 "was never delivered (a yield that was not awaited in the receipt that made "
                 "it)", np->index, np->desc ? np->desc : "a promise");
        JSValue r = JS_Call(ctx, funcs[1], JS_UNDEFINED, 1, (JSValueConst *)&err);
        JS_FreeValue(ctx, r);
        JS_FreeValue(ctx, err);
        JS_FreeValue(ctx, funcs[0]);
        JS_FreeValue(ctx, funcs[1]);
    } else {
        if (np->nwaiters == np->capwaiters) {
            uint32_t cap = np->capwaiters ? np->capwaiters * 2 : 2;
            JSValue *grown = js_realloc(ctx, np->waiters, sizeof(JSValue) * 2 * cap);
            if (!grown) {
                JS_FreeValue(ctx, funcs[0]);
                JS_FreeValue(ctx, funcs[1]);
                JS_FreeValue(ctx, promise);
                return JS_EXCEPTION;
            }
            np->waiters = grown;
            np->capwaiters = cap;
        }
        np->waiters[2 * np->nwaiters] = funcs[0];
        np->waiters[2 * np->nwaiters + 1] = funcs[1];
        np->nwaiters++;
        mark_awaited(np);
        ol_part_awaiting = 1;
    }
    if (JS_IsUndefined(argv[0]) && JS_IsUndefined(argv[1]))
        return promise;
    chained = JS_PromiseThen(ctx, promise, argv[0], argv[1]);
    JS_FreeValue(ctx, promise);
    return chained;
}

static const JSCFunctionListEntry np_proto_funcs[] = {
    JS_CFUNC_DEF("then", 2, np_then),
    JS_PROP_STRING_DEF("[Symbol.toStringTag]", "NearPromise", JS_PROP_CONFIGURABLE),
};

static JSClassDef np_class = {"NearPromise", NULL, NULL, NULL, NULL};

/* ------------------------------------------------------------------- promise API */

uint64_t ol_promise_call(int then, uint64_t dep, const uint8_t *account, size_t account_len,
                         const uint8_t *method, size_t method_len, const uint8_t *args,
                         size_t args_len, const uint8_t *amount, uint64_t gas)
{
    if (then)
        return ol_promise_then(dep, account_len, OL_PTR(account), method_len, OL_PTR(method),
                               args_len, OL_PTR(args), OL_PTR(amount), gas);
    return ol_promise_create(account_len, OL_PTR(account), method_len, OL_PTR(method),
                             args_len, OL_PTR(args), OL_PTR(amount), gas);
}

/* promiseCreate(accountId, method, args, amount, gas) and, with `then` set,
   promiseThen(promise, accountId, method, args, amount, gas): the same call after the
   promise it depends on. */
static JSValue js_promise_call(JSContext *ctx, JSValueConst this_val, int argc,
                               JSValueConst *argv, int then)
{
    const char *fn = then ? "promiseThen" : "promiseCreate";
    JSValueConst *call = argv + then;
    ol_arg account = {0}, method = {0}, args = {0};
    uint8_t amount[16] __attribute__((aligned(16)));
    uint64_t gas, dep = 0, index;
    char *desc;

    if ((then && get_promise(ctx, argv[0], &dep, NULL, fn)) ||
        get_u128(ctx, call[3], amount, fn, "amount") || get_u64(ctx, call[4], &gas, fn, "gas"))
        return JS_EXCEPTION;
    if (get_string(ctx, call[0], &account, fn, "accountId"))
        return JS_EXCEPTION;
    if (get_method(ctx, call[1], &method, fn) || get_payload(ctx, call[2], &args, fn, "args")) {
        arg_free(ctx, &account);
        arg_free(ctx, &method);
        return JS_EXCEPTION;
    }
    index = ol_promise_call(then, dep, account.ptr, account.len, method.ptr, method.len,
                            args.ptr, args.len, amount, gas);
    desc = dup_desc(ctx, "'%.*s' on %.*s", (const char *)method.ptr, method.len,
                    (const char *)account.ptr, account.len);
    arg_free(ctx, &account);
    arg_free(ctx, &method);
    arg_free(ctx, &args);
    return new_near_promise(ctx, index, NP_CALL, desc);
}

/* promiseAnd(p1, p2, ...) or promiseAnd([p1, p2, ...]). */
static JSValue js_promise_and(JSContext *ctx, JSValueConst this_val, int argc,
                              JSValueConst *argv)
{
    const char *fn = "promiseAnd";
    JSValue *items = NULL, list = JS_UNDEFINED;
    uint64_t *indices = NULL, index;
    ol_np **members = NULL;
    int64_t n64 = argc;
    uint32_t n, i;
    JSValue ret = JS_EXCEPTION;
    char *desc;

    if (argc == 1 && JS_IsArray(argv[0])) {
        list = argv[0];
        if (JS_GetLength(ctx, list, &n64) < 0)
            return JS_EXCEPTION;
    }
    if (n64 < 1)
        return JS_ThrowTypeError(ctx, "near.%s needs at least one promise", fn);
    if (n64 > 4096)
        return JS_ThrowRangeError(ctx, "near.%s: too many promises", fn);
    n = (uint32_t)n64;
    indices = js_malloc(ctx, sizeof(*indices) * n);
    members = js_mallocz(ctx, sizeof(*members) * n);
    items = js_mallocz(ctx, sizeof(*items) * n);
    if (!indices || !members || !items)
        goto done;
    for (i = 0; i < n; i++) {
        items[i] = JS_IsUndefined(list) ? JS_DupValue(ctx, argv[i])
                                        : JS_GetPropertyUint32(ctx, list, i);
        if (JS_IsException(items[i])) {
            items[i] = JS_UNDEFINED;
            goto done;
        }
        if (get_promise(ctx, items[i], &indices[i], &members[i], fn))
            goto done;
    }
    index = ol_promise_and(OL_PTR(indices), n);
    for (i = 0; i < n; i++) {
        if (!members[i]) { /* a plain index the host accepted: it is a promise of ours */
            members[i] = indices[i] < ol_part_len ? ol_part_np[indices[i]] : NULL;
            if (!members[i]) {
                ret = JS_ThrowInternalError(ctx, "outlayer bridge: unknown promise %llu",
                                            (unsigned long long)indices[i]);
                goto done;
            }
        }
    }
    desc = js_malloc(ctx, 48);
    if (desc)
        snprintf(desc, 48, "promiseAnd of %u promises", n);
    ret = new_near_promise(ctx, index, NP_JOINT, desc);
    if (!JS_IsException(ret)) {
        ol_np *joint = ol_part_np[ol_part_len - 1];
        joint->members = members;
        joint->nmembers = n;
        members = NULL;
    }
done:
    if (items) {
        for (i = 0; i < n; i++)
            JS_FreeValue(ctx, items[i]);
        js_free(ctx, items);
    }
    js_free(ctx, indices);
    js_free(ctx, members);
    return ret;
}

static JSValue js_promise_batch_create(JSContext *ctx, JSValueConst this_val, int argc,
                                       JSValueConst *argv)
{
    ol_arg account = {0};
    uint64_t index;
    char *desc;

    if (get_string(ctx, argv[0], &account, "promiseBatchCreate", "accountId"))
        return JS_EXCEPTION;
    index = ol_promise_batch_create(account.len, OL_PTR(account.ptr));
    desc = dup_desc(ctx, "the batch %.*sto %.*s", "", 0, (const char *)account.ptr,
                    account.len);
    arg_free(ctx, &account);
    return new_near_promise(ctx, index, NP_BATCH, desc);
}

static JSValue js_promise_batch_then(JSContext *ctx, JSValueConst this_val, int argc,
                                     JSValueConst *argv)
{
    const char *fn = "promiseBatchThen";
    ol_arg account = {0};
    uint64_t dep, index;
    char *desc;

    if (get_promise(ctx, argv[0], &dep, NULL, fn))
        return JS_EXCEPTION;
    if (get_string(ctx, argv[1], &account, fn, "accountId"))
        return JS_EXCEPTION;
    index = ol_promise_batch_then(dep, account.len, OL_PTR(account.ptr));
    desc = dup_desc(ctx, "the batch %.*sto %.*s", "", 0, (const char *)account.ptr,
                    account.len);
    arg_free(ctx, &account);
    return new_near_promise(ctx, index, NP_BATCH, desc);
}

static JSValue js_batch_create_account(JSContext *ctx, JSValueConst this_val, int argc,
                                       JSValueConst *argv)
{
    uint64_t p;
    if (get_promise(ctx, argv[0], &p, NULL, "promiseBatchActionCreateAccount"))
        return JS_EXCEPTION;
    ol_promise_batch_action_create_account(p);
    return JS_UNDEFINED;
}

static JSValue js_batch_deploy_contract(JSContext *ctx, JSValueConst this_val, int argc,
                                        JSValueConst *argv)
{
    const char *fn = "promiseBatchActionDeployContract";
    ol_arg code = {0};
    uint64_t p;
    int r;

    if (get_promise(ctx, argv[0], &p, NULL, fn))
        return JS_EXCEPTION;
    code.cstr = NULL;
    if (JS_IsString(argv[1])) {
        if (get_string(ctx, argv[1], &code, fn, "code"))
            return JS_EXCEPTION;
    } else {
        r = get_uint8array(ctx, argv[1], &code);
        if (r < 0)
            return JS_EXCEPTION;
        if (r == 0)
            return JS_ThrowTypeError(ctx, "near.%s: 'code' must be a string or a Uint8Array",
                                     fn);
    }
    ol_promise_batch_action_deploy_contract(p, code.len, OL_PTR(code.ptr));
    arg_free(ctx, &code);
    return JS_UNDEFINED;
}

static JSValue batch_function_call(JSContext *ctx, JSValueConst *argv, int weighted)
{
    const char *fn = weighted ? "promiseBatchActionFunctionCallWeight"
                              : "promiseBatchActionFunctionCall";
    ol_arg method = {0}, args = {0};
    uint8_t amount[16] __attribute__((aligned(16)));
    uint64_t p, gas, weight = 0;
    ol_np *np = NULL;

    if (get_promise(ctx, argv[0], &p, &np, fn) ||
        get_u128(ctx, argv[3], amount, fn, "amount") || get_u64(ctx, argv[4], &gas, fn, "gas"))
        return JS_EXCEPTION;
    if (weighted && get_u64(ctx, argv[5], &weight, fn, "weight"))
        return JS_EXCEPTION;
    if (get_method(ctx, argv[1], &method, fn))
        return JS_EXCEPTION;
    if (get_payload(ctx, argv[2], &args, fn, "args")) {
        arg_free(ctx, &method);
        return JS_EXCEPTION;
    }
    if (weighted)
        ol_promise_batch_action_function_call_weight(p, method.len, OL_PTR(method.ptr), args.len,
                                                     OL_PTR(args.ptr), OL_PTR(amount), gas,
                                                     weight);
    else
        ol_promise_batch_action_function_call(p, method.len, OL_PTR(method.ptr), args.len,
                                              OL_PTR(args.ptr), OL_PTR(amount), gas);
    if (np && np->desc) { /* "the batch to x" -> "'m' on x" (the receipt's last call) */
        const char *to = strstr(np->desc, " to ");
        if (to)
            set_desc(ctx, np, dup_desc(ctx, "'%.*s' on %.*s", (const char *)method.ptr,
                                       method.len, to + 4, strlen(to + 4)));
    }
    arg_free(ctx, &method);
    arg_free(ctx, &args);
    return JS_UNDEFINED;
}

static JSValue js_batch_function_call(JSContext *ctx, JSValueConst this_val, int argc,
                                      JSValueConst *argv)
{
    return batch_function_call(ctx, argv, 0);
}

static JSValue js_batch_function_call_weight(JSContext *ctx, JSValueConst this_val, int argc,
                                             JSValueConst *argv)
{
    return batch_function_call(ctx, argv, 1);
}

static JSValue js_batch_transfer(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    const char *fn = "promiseBatchActionTransfer";
    uint8_t amount[16] __attribute__((aligned(16)));
    uint64_t p;

    if (get_promise(ctx, argv[0], &p, NULL, fn) || get_u128(ctx, argv[1], amount, fn, "amount"))
        return JS_EXCEPTION;
    ol_promise_batch_action_transfer(p, OL_PTR(amount));
    return JS_UNDEFINED;
}

static JSValue js_batch_stake(JSContext *ctx, JSValueConst this_val, int argc,
                              JSValueConst *argv)
{
    const char *fn = "promiseBatchActionStake";
    uint8_t amount[16] __attribute__((aligned(16)));
    uint8_t key[65];
    ol_arg pk = {0};
    uint64_t p;

    if (get_promise(ctx, argv[0], &p, NULL, fn) || get_u128(ctx, argv[1], amount, fn, "amount") ||
        get_public_key(ctx, argv[2], key, &pk, fn))
        return JS_EXCEPTION;
    ol_promise_batch_action_stake(p, OL_PTR(amount), pk.len, OL_PTR(pk.ptr));
    arg_free(ctx, &pk);
    return JS_UNDEFINED;
}

static JSValue js_batch_add_full_access_key(JSContext *ctx, JSValueConst this_val, int argc,
                                            JSValueConst *argv)
{
    const char *fn = "promiseBatchActionAddKeyWithFullAccess";
    uint8_t key[65];
    ol_arg pk = {0};
    uint64_t p, nonce;

    if (get_promise(ctx, argv[0], &p, NULL, fn) || get_u64(ctx, argv[2], &nonce, fn, "nonce") ||
        get_public_key(ctx, argv[1], key, &pk, fn))
        return JS_EXCEPTION;
    ol_promise_batch_action_add_key_with_full_access(p, pk.len, OL_PTR(pk.ptr), nonce);
    arg_free(ctx, &pk);
    return JS_UNDEFINED;
}

/* methodNames: an array of strings or one comma-separated string (empty = any method). */
static int get_method_names(JSContext *ctx, JSValueConst v, ol_buf *out, const char *fn)
{
    int64_t n, i;

    if (JS_IsUndefined(v) || JS_IsNull(v))
        return 0;
    if (JS_IsString(v))
        return ol_buf_put_string_of(out, v);
    if (!JS_IsArray(v)) {
        JS_ThrowTypeError(ctx, "near.%s: 'methodNames' must be an array of strings or a "
                               "comma-separated string", fn);
        return -1;
    }
    if (JS_GetLength(ctx, v, &n) < 0)
        return -1;
    for (i = 0; i < n; i++) {
        JSValue name = JS_GetPropertyInt64(ctx, v, i);
        int r;
        if (JS_IsException(name))
            return -1;
        if (!JS_IsString(name)) {
            JS_FreeValue(ctx, name);
            JS_ThrowTypeError(ctx, "near.%s: every method name must be a string", fn);
            return -1;
        }
        if (i)
            ol_buf_put(out, ",", 1);
        r = ol_buf_put_string_of(out, name);
        JS_FreeValue(ctx, name);
        if (r < 0)
            return -1;
    }
    return 0;
}

static JSValue js_batch_add_function_call_key(JSContext *ctx, JSValueConst this_val, int argc,
                                              JSValueConst *argv)
{
    const char *fn = "promiseBatchActionAddKeyWithFunctionCall";
    uint8_t key[65];
    uint8_t allowance[16] __attribute__((aligned(16)));
    ol_arg pk = {0}, receiver = {0};
    uint64_t p, nonce;
    ol_buf names;

    memset(allowance, 0, sizeof(allowance));
    if (get_promise(ctx, argv[0], &p, NULL, fn) || get_u64(ctx, argv[2], &nonce, fn, "nonce"))
        return JS_EXCEPTION;
    if (!JS_IsUndefined(argv[3]) && !JS_IsNull(argv[3]) &&
        get_u128(ctx, argv[3], allowance, fn, "allowance"))
        return JS_EXCEPTION;
    if (get_public_key(ctx, argv[1], key, &pk, fn))
        return JS_EXCEPTION;
    if (get_string(ctx, argv[4], &receiver, fn, "receiverId")) {
        arg_free(ctx, &pk);
        return JS_EXCEPTION;
    }
    ol_buf_init(&names, ctx);
    if (get_method_names(ctx, argv[5], &names, fn) < 0 || names.failed) {
        ol_buf_free(&names);
        arg_free(ctx, &pk);
        arg_free(ctx, &receiver);
        return names.failed ? JS_ThrowOutOfMemory(ctx) : JS_EXCEPTION;
    }
    ol_promise_batch_action_add_key_with_function_call(
        p, pk.len, OL_PTR(pk.ptr), nonce, OL_PTR(allowance), receiver.len, OL_PTR(receiver.ptr),
        names.len, OL_PTR(names.data ? names.data : (const char *)zero_bytes));
    ol_buf_free(&names);
    arg_free(ctx, &pk);
    arg_free(ctx, &receiver);
    return JS_UNDEFINED;
}

static JSValue js_batch_delete_key(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    const char *fn = "promiseBatchActionDeleteKey";
    uint8_t key[65];
    ol_arg pk = {0};
    uint64_t p;

    if (get_promise(ctx, argv[0], &p, NULL, fn) || get_public_key(ctx, argv[1], key, &pk, fn))
        return JS_EXCEPTION;
    ol_promise_batch_action_delete_key(p, pk.len, OL_PTR(pk.ptr));
    arg_free(ctx, &pk);
    return JS_UNDEFINED;
}

static JSValue js_batch_delete_account(JSContext *ctx, JSValueConst this_val, int argc,
                                       JSValueConst *argv)
{
    const char *fn = "promiseBatchActionDeleteAccount";
    ol_arg beneficiary = {0};
    uint64_t p;

    if (get_promise(ctx, argv[0], &p, NULL, fn) ||
        get_string(ctx, argv[1], &beneficiary, fn, "beneficiaryId"))
        return JS_EXCEPTION;
    ol_promise_batch_action_delete_account(p, beneficiary.len, OL_PTR(beneficiary.ptr));
    arg_free(ctx, &beneficiary);
    return JS_UNDEFINED;
}

/* ---------------------------------------------------------------------- results */

/* Register OL_REG as a fresh buffer (NUL-terminated); NULL with an exception. */
static uint8_t *reg_copy(JSContext *ctx, size_t *plen)
{
    uint64_t len = ol_register_len(OL_REG);
    uint8_t *buf;

    if (len == UINT64_MAX)
        len = 0;
    if (len > 0x7fffffff) {
        JS_ThrowRangeError(ctx, "outlayer bridge: register value too large");
        return NULL;
    }
    buf = js_malloc(ctx, (size_t)len + 1);
    if (!buf)
        return NULL;
    if (len)
        ol_read_register(OL_REG, OL_PTR(buf));
    buf[len] = 0;
    *plen = (size_t)len;
    return buf;
}

static JSValue js_promise_results_count(JSContext *ctx, JSValueConst this_val, int argc,
                                        JSValueConst *argv)
{
    /* after an await the receipt's results are the await's own, not the method's */
    if (ol_part > 0)
        return JS_NewInt32(ctx, 0);
    return JS_NewInt64(ctx, (int64_t)ol_promise_results_count());
}

/* {status: 'successful' | 'failed', value: string, bytes: Uint8Array}; throws when the
   result is not ready (it never is for a callback). */
static JSValue js_promise_result(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    uint64_t i, st;
    uint8_t *buf = NULL;
    size_t len = 0;
    JSValue obj;

    if (get_u64(ctx, argv[0], &i, "promiseResult", "index"))
        return JS_EXCEPTION;
    if (ol_part > 0)
        return JS_ThrowRangeError(ctx, "near.promiseResult: no promise results after an "
                                       "await (read them before the first await)");
    st = ol_promise_result(i, OL_REG);
    if (st == 0)
        return JS_ThrowPlainError(ctx, "near.promiseResult(%llu): the result is not ready",
                                  (unsigned long long)i);
    if (st == 1) {
        buf = reg_copy(ctx, &len);
        if (!buf)
            return JS_EXCEPTION;
    }
    obj = JS_NewObject(ctx);
    if (JS_IsException(obj) ||
        JS_SetPropertyStr(ctx, obj, "status",
                          JS_NewString(ctx, st == 1 ? "successful" : "failed")) < 0 ||
        JS_SetPropertyStr(ctx, obj, "value",
                          JS_NewStringLen(ctx, buf ? (const char *)buf : "", len)) < 0 ||
        JS_SetPropertyStr(ctx, obj, "bytes",
                          JS_NewUint8ArrayCopy(ctx, buf ? buf : zero_bytes, len)) < 0) {
        js_free(ctx, buf);
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    js_free(ctx, buf);
    return obj;
}

static JSValue js_promise_return(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    uint64_t p;
    if (get_promise(ctx, argv[0], &p, NULL, "promiseReturn"))
        return JS_EXCEPTION;
    ol_promise_return(p);
    ol_part_returned = 1;
    return JS_UNDEFINED;
}

/* {promise: NearPromise, dataId: Uint8Array(32)} */
static JSValue js_promise_yield_create(JSContext *ctx, JSValueConst this_val, int argc,
                                       JSValueConst *argv)
{
    const char *fn = "promiseYieldCreate";
    ol_arg method = {0}, args = {0};
    uint64_t gas, weight, index;
    uint8_t *id;
    size_t id_len = 0;
    JSValue promise, obj;
    char *desc;

    if (get_u64(ctx, argv[2], &gas, fn, "gas") || get_u64(ctx, argv[3], &weight, fn, "gasWeight"))
        return JS_EXCEPTION;
    if (get_method(ctx, argv[0], &method, fn))
        return JS_EXCEPTION;
    if (get_payload(ctx, argv[1], &args, fn, "args")) {
        arg_free(ctx, &method);
        return JS_EXCEPTION;
    }
    index = ol_promise_yield_create(method.len, OL_PTR(method.ptr), args.len, OL_PTR(args.ptr),
                                    gas, weight, OL_REG);
    desc = dup_desc(ctx, "the yield '%.*s'%.*s", (const char *)method.ptr, method.len, "", 0);
    arg_free(ctx, &method);
    arg_free(ctx, &args);
    id = reg_copy(ctx, &id_len);
    if (!id) {
        if (desc)
            js_free(ctx, desc);
        return JS_EXCEPTION;
    }
    promise = new_near_promise(ctx, index, NP_YIELD, desc);
    if (JS_IsException(promise)) {
        js_free(ctx, id);
        return promise;
    }
    obj = JS_NewObject(ctx);
    if (JS_IsException(obj) || JS_SetPropertyStr(ctx, obj, "promise", promise) < 0 ||
        JS_SetPropertyStr(ctx, obj, "dataId", JS_NewUint8ArrayCopy(ctx, id, id_len)) < 0 ||
        JS_FreezeObject(ctx, obj) < 0) {
        if (JS_IsException(obj))
            JS_FreeValue(ctx, promise);
        js_free(ctx, id);
        JS_FreeValue(ctx, obj);
        return JS_EXCEPTION;
    }
    js_free(ctx, id);
    return obj;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* dataId: a Uint8Array or a hex string (64 digits for NEAR's 32-byte ids). */
static JSValue js_promise_yield_resume(JSContext *ctx, JSValueConst this_val, int argc,
                                       JSValueConst *argv)
{
    const char *fn = "promiseYieldResume";
    ol_arg id = {0}, payload = {0};
    uint8_t raw[64];
    uint32_t ok;
    int r = get_uint8array(ctx, argv[0], &id);

    if (r < 0)
        return JS_EXCEPTION;
    if (r == 0) {
        size_t n, i;
        const char *s;
        if (!JS_IsString(argv[0]))
            return JS_ThrowTypeError(ctx, "near.%s: 'dataId' must be a Uint8Array or a hex "
                                          "string", fn);
        s = JS_ToCStringLen(ctx, &n, argv[0]);
        if (!s)
            return JS_EXCEPTION;
        if (n % 2 || n > 2 * sizeof(raw)) {
            JS_FreeCString(ctx, s);
            return JS_ThrowRangeError(ctx, "near.%s: 'dataId' is not a hex string of at most "
                                           "64 bytes", fn);
        }
        for (i = 0; i < n; i += 2) {
            int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
            if (hi < 0 || lo < 0) {
                JS_FreeCString(ctx, s);
                return JS_ThrowRangeError(ctx, "near.%s: 'dataId' is not a hex string", fn);
            }
            raw[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        JS_FreeCString(ctx, s);
        id.ptr = raw;
        id.len = n / 2;
    }
    if (get_payload(ctx, argv[1], &payload, fn, "payload"))
        return JS_EXCEPTION;
    ok = ol_promise_yield_resume(id.len, OL_PTR(id.ptr), payload.len, OL_PTR(payload.ptr));
    arg_free(ctx, &payload);
    return JS_NewBool(ctx, ok == 1);
}

/* --------------------------------------------------------------------- install */

static const JSCFunctionListEntry promise_funcs[] = {
    JS_CFUNC_MAGIC_DEF("promiseCreate", 5, js_promise_call, 0),
    JS_CFUNC_MAGIC_DEF("promiseThen", 6, js_promise_call, 1),
    JS_CFUNC_DEF("promiseAnd", 0, js_promise_and),
    JS_CFUNC_DEF("promiseBatchCreate", 1, js_promise_batch_create),
    JS_CFUNC_DEF("promiseBatchThen", 2, js_promise_batch_then),
    JS_CFUNC_DEF("promiseBatchActionCreateAccount", 1, js_batch_create_account),
    JS_CFUNC_DEF("promiseBatchActionDeployContract", 2, js_batch_deploy_contract),
    JS_CFUNC_DEF("promiseBatchActionFunctionCall", 5, js_batch_function_call),
    JS_CFUNC_DEF("promiseBatchActionFunctionCallWeight", 6, js_batch_function_call_weight),
    JS_CFUNC_DEF("promiseBatchActionTransfer", 2, js_batch_transfer),
    JS_CFUNC_DEF("promiseBatchActionStake", 3, js_batch_stake),
    JS_CFUNC_DEF("promiseBatchActionAddKeyWithFullAccess", 3, js_batch_add_full_access_key),
    JS_CFUNC_DEF("promiseBatchActionAddKeyWithFunctionCall", 6, js_batch_add_function_call_key),
    JS_CFUNC_DEF("promiseBatchActionDeleteKey", 2, js_batch_delete_key),
    JS_CFUNC_DEF("promiseBatchActionDeleteAccount", 2, js_batch_delete_account),
    JS_CFUNC_DEF("promiseResultsCount", 0, js_promise_results_count),
    JS_CFUNC_DEF("promiseResult", 1, js_promise_result),
    JS_CFUNC_DEF("promiseReturn", 1, js_promise_return),
    JS_CFUNC_DEF("promiseYieldCreate", 4, js_promise_yield_create),
    JS_CFUNC_DEF("promiseYieldResume", 2, js_promise_yield_resume),
};

int ol_install_promises(JSContext *ctx, JSValueConst near)
{
    JSRuntime *rt = JS_GetRuntime(ctx);
    JSValue proto, then;
    int frozen;

    JS_NewClassID(rt, &np_class_id);
    if (JS_NewClass(rt, np_class_id, &np_class) < 0)
        return -1;
    proto = JS_NewObject(ctx);
    if (JS_IsException(proto))
        return -1;
    if (JS_SetPropertyFunctionList(ctx, proto, np_proto_funcs,
                                   sizeof(np_proto_funcs) / sizeof(np_proto_funcs[0])) < 0)
        goto fail;
    then = JS_GetPropertyStr(ctx, proto, "then");
    frozen = JS_IsException(then) ? -1 : JS_FreezeObject(ctx, then);
    JS_FreeValue(ctx, then);
    if (frozen < 0 || JS_FreezeObject(ctx, proto) < 0)
        goto fail;
    JS_SetClassProto(ctx, np_class_id, proto); /* takes proto */
    return JS_SetPropertyFunctionList(ctx, near, promise_funcs,
                                      sizeof(promise_funcs) / sizeof(promise_funcs[0]));
fail:
    JS_FreeValue(ctx, proto);
    return -1;
}
