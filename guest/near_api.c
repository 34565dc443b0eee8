/*
 * The `near` global: NEAR host functions as JS functions, through the numbered syscalls.
 *
 * Why C and not a JS prelude: every call is one syscall plus a register read, with no JS
 * glue to meter or to tamper with; the object is frozen and non-configurable on the
 * global, so a contract cannot replace what other code (or a later SES lockdown) relies
 * on. Keys and values are UTF-8 strings or Uint8Array; u64 results are BigInt (as
 * near-sdk-js returns them), u128 balances too.
 */
#include <math.h>
#include <string.h>

#include "bridge.h"
#include "promises.h"

/* Small register reads (account ids, hashes, most storage values) avoid the allocator.
   Safe as a static: host calls never re-enter JS, and each read is converted to a JS
   value before the next syscall. */
#define OL_SCRATCH_SIZE 4096
static uint8_t scratch[OL_SCRATCH_SIZE];
static const uint8_t empty_bytes[1];

/* ------------------------------------------------------------------ growable buffer */

void ol_buf_init(ol_buf *b, JSContext *ctx)
{
    b->ctx = ctx;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = 0;
}

void ol_buf_put(ol_buf *b, const void *data, size_t len)
{
    if (b->failed || len == 0)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *p = js_realloc_rt(JS_GetRuntime(b->ctx), b->data, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void ol_buf_puts(ol_buf *b, const char *s)
{
    ol_buf_put(b, s, strlen(s));
}

void ol_buf_free(ol_buf *b)
{
    js_free_rt(JS_GetRuntime(b->ctx), b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int ol_buf_put_string_of(ol_buf *b, JSValueConst v)
{
    JSContext *ctx = b->ctx;
    JSValue s;
    size_t n;
    const char *c;

    if (JS_IsString(v)) {
        s = JS_DupValue(ctx, v);
    } else {
        /* String(v), not ToString(v): symbols print as Symbol(desc) instead of throwing */
        s = JS_Call(ctx, ol_string_ctor, JS_UNDEFINED, 1, &v);
        if (JS_IsException(s))
            return -1;
    }
    c = JS_ToCStringLen(ctx, &n, s);
    JS_FreeValue(ctx, s);
    if (!c)
        return -1;
    ol_buf_put(b, c, n);
    JS_FreeCString(ctx, c);
    return 0;
}

/* ----------------------------------------------------------------- argument helpers */

/* Bytes of a string (UTF-8) or Uint8Array argument; release with bytes_free. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
    const char *cstr;
} ol_bytes;

static int get_bytes(JSContext *ctx, JSValueConst v, ol_bytes *out, const char *fn,
                     const char *arg)
{
    out->cstr = NULL;
    out->ptr = empty_bytes;
    out->len = 0;
    if (JS_IsString(v)) {
        size_t n;
        const char *s = JS_ToCStringLen(ctx, &n, v);
        if (!s)
            return -1;
        out->cstr = s;
        out->ptr = (const uint8_t *)s;
        out->len = n;
        return 0;
    }
    if (JS_IsObject(v)) {
        int t = JS_GetTypedArrayType(v);
        if (t == JS_TYPED_ARRAY_UINT8 || t == JS_TYPED_ARRAY_UINT8C) {
            size_t n = 0;
            uint8_t *p = JS_GetUint8Array(ctx, &n, v);
            if (!p) {
                if (JS_HasException(ctx))
                    return -1;
                return 0; /* empty buffer */
            }
            out->ptr = p;
            out->len = n;
            return 0;
        }
    }
    JS_ThrowTypeError(ctx, "near.%s: argument '%s' must be a string or a Uint8Array", fn, arg);
    return -1;
}

static void bytes_free(JSContext *ctx, ol_bytes *b)
{
    if (b->cstr)
        JS_FreeCString(ctx, b->cstr);
    b->cstr = NULL;
}

/* A non-negative integer argument: a Number (safe integer) or a BigInt. */
static int get_u64(JSContext *ctx, JSValueConst v, uint64_t *out, const char *fn,
                   const char *arg)
{
    if (JS_IsBigInt(v)) {
        int64_t i;
        if (JS_ToBigInt64(ctx, &i, v))
            return -1;
        if (i < 0) {
            JS_ThrowRangeError(ctx, "near.%s: argument '%s' must not be negative", fn, arg);
            return -1;
        }
        *out = (uint64_t)i;
        return 0;
    }
    if (JS_IsNumber(v)) {
        double d;
        if (JS_ToFloat64(ctx, &d, v))
            return -1;
        if (!(d >= 0 && d <= 9007199254740991.0) || d != trunc(d)) {
            JS_ThrowRangeError(ctx, "near.%s: argument '%s' must be a non-negative integer",
                               fn, arg);
            return -1;
        }
        *out = (uint64_t)d;
        return 0;
    }
    JS_ThrowTypeError(ctx, "near.%s: argument '%s' must be a number or a bigint", fn, arg);
    return -1;
}

/* ----------------------------------------------------------------- register helpers */

/* Read OL_REG into scratch or a fresh allocation; *owned says which. NULL = exception. */
static uint8_t *reg_read(JSContext *ctx, size_t *plen, int *owned)
{
    uint64_t len = ol_register_len(OL_REG);
    uint8_t *buf;

    *owned = 0;
    *plen = 0;
    if (len == UINT64_MAX) {
        JS_ThrowInternalError(ctx, "outlayer bridge: register %d is not set", OL_REG);
        return NULL;
    }
    if (len > 0x7fffffff) {
        JS_ThrowRangeError(ctx, "outlayer bridge: register value too large");
        return NULL;
    }
    if (len <= OL_SCRATCH_SIZE) {
        buf = scratch;
    } else {
        buf = js_malloc(ctx, (size_t)len);
        if (!buf)
            return NULL;
        *owned = 1;
    }
    if (len)
        ol_read_register(OL_REG, OL_PTR(buf));
    *plen = (size_t)len;
    return buf;
}

static void reg_release(JSContext *ctx, uint8_t *buf, int owned)
{
    if (owned)
        js_free(ctx, buf);
}

static JSValue reg_to_string(JSContext *ctx)
{
    size_t n;
    int owned;
    uint8_t *buf = reg_read(ctx, &n, &owned);
    JSValue v;
    if (!buf)
        return JS_EXCEPTION;
    v = JS_NewStringLen(ctx, (const char *)buf, n);
    reg_release(ctx, buf, owned);
    return v;
}

static JSValue reg_to_bytes(JSContext *ctx)
{
    size_t n;
    int owned;
    uint8_t *buf = reg_read(ctx, &n, &owned);
    JSValue v;
    if (!buf)
        return JS_EXCEPTION;
    v = JS_NewUint8ArrayCopy(ctx, buf, n);
    reg_release(ctx, buf, owned);
    return v;
}

/* u128 little-endian -> BigInt (through the boot-time BigInt constructor when > 2^64). */
static JSValue new_u128(JSContext *ctx, const uint8_t b[16])
{
    uint64_t lo, hi;
    unsigned __int128 v;
    char digits[48];
    char *p = digits + sizeof(digits) - 1;
    JSValue str, res;

    memcpy(&lo, b, 8); /* wasm is little-endian */
    memcpy(&hi, b + 8, 8);
    if (hi == 0)
        return JS_NewBigUint64(ctx, lo);
    v = ((unsigned __int128)hi << 64) | lo;
    *p = '\0';
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    str = JS_NewString(ctx, p);
    if (JS_IsException(str))
        return str;
    res = JS_Call(ctx, ol_bigint_ctor, JS_UNDEFINED, 1, (JSValueConst *)&str);
    JS_FreeValue(ctx, str);
    return res;
}

/* ------------------------------------------------------------------------ storage */

static JSValue js_storage_read(JSContext *ctx, JSValueConst this_val, int argc,
                               JSValueConst *argv, int as_bytes)
{
    ol_bytes key;
    uint64_t len;
    const char *fn = as_bytes ? "storageReadBytes" : "storageRead";
    JSValue v;

    if (get_bytes(ctx, argv[0], &key, fn, "key"))
        return JS_EXCEPTION;
    /* one host call instead of storage_read + register_len + read_register (same gas):
       the value lands in scratch when it fits, else it stays in the register */
    len = ol_outlayer_storage_read_into(key.len, OL_PTR(key.ptr), OL_REG, OL_SCRATCH_SIZE,
                                        OL_PTR(scratch));
    bytes_free(ctx, &key);
    if (len == UINT64_MAX)
        return JS_NULL;
    if (len > OL_SCRATCH_SIZE)
        return as_bytes ? reg_to_bytes(ctx) : reg_to_string(ctx);
    if (as_bytes)
        v = JS_NewUint8ArrayCopy(ctx, scratch, (size_t)len);
    else
        v = JS_NewStringLen(ctx, (const char *)scratch, (size_t)len);
    return v;
}

static JSValue js_storage_write(JSContext *ctx, JSValueConst this_val, int argc,
                                JSValueConst *argv)
{
    ol_bytes key, value;
    uint64_t replaced;

    if (get_bytes(ctx, argv[0], &key, "storageWrite", "key"))
        return JS_EXCEPTION;
    if (get_bytes(ctx, argv[1], &value, "storageWrite", "value")) {
        bytes_free(ctx, &key);
        return JS_EXCEPTION;
    }
    replaced = ol_storage_write(key.len, OL_PTR(key.ptr), value.len, OL_PTR(value.ptr), OL_REG);
    bytes_free(ctx, &key);
    bytes_free(ctx, &value);
    return JS_NewBool(ctx, replaced == 1);
}

static JSValue js_storage_remove(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    ol_bytes key;
    uint64_t removed;

    if (get_bytes(ctx, argv[0], &key, "storageRemove", "key"))
        return JS_EXCEPTION;
    removed = ol_storage_remove(key.len, OL_PTR(key.ptr), OL_REG);
    bytes_free(ctx, &key);
    return JS_NewBool(ctx, removed == 1);
}

static JSValue js_storage_has_key(JSContext *ctx, JSValueConst this_val, int argc,
                                  JSValueConst *argv)
{
    ol_bytes key;
    uint64_t has;

    if (get_bytes(ctx, argv[0], &key, "storageHasKey", "key"))
        return JS_EXCEPTION;
    has = ol_storage_has_key(key.len, OL_PTR(key.ptr));
    bytes_free(ctx, &key);
    return JS_NewBool(ctx, has == 1);
}

/* ---------------------------------------------------------------------------- log */

/* near.log and console.*: String() of every argument, joined with one space. */
static JSValue js_log(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ol_buf b;
    int i;

    ol_buf_init(&b, ctx);
    for (i = 0; i < argc; i++) {
        if (i)
            ol_buf_put(&b, " ", 1);
        if (ol_buf_put_string_of(&b, argv[i])) {
            ol_buf_free(&b);
            return JS_EXCEPTION;
        }
    }
    if (b.failed) {
        ol_buf_free(&b);
        return JS_ThrowOutOfMemory(ctx);
    }
    ol_log_utf8(b.len, OL_PTR(b.data ? b.data : (const char *)empty_bytes));
    ol_buf_free(&b);
    return JS_UNDEFINED;
}

/* ------------------------------------------------------------------------ context */

enum { ID_CURRENT, ID_SIGNER, ID_PREDECESSOR, ID_INPUT };

static JSValue js_context_string(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv, int which)
{
    switch (which) {
    case ID_CURRENT:
        ol_current_account_id(OL_REG);
        break;
    case ID_SIGNER:
        ol_signer_account_id(OL_REG);
        break;
    case ID_PREDECESSOR:
        ol_predecessor_account_id(OL_REG);
        break;
    default:
        ol_input(OL_REG);
        break;
    }
    return reg_to_string(ctx);
}

enum { BYTES_SIGNER_PK, BYTES_RANDOM_SEED };

static JSValue js_context_bytes(JSContext *ctx, JSValueConst this_val, int argc,
                                JSValueConst *argv, int which)
{
    if (which == BYTES_SIGNER_PK)
        ol_signer_account_pk(OL_REG);
    else
        ol_random_seed(OL_REG);
    return reg_to_bytes(ctx);
}

enum { U64_BLOCK_TIMESTAMP, U64_BLOCK_HEIGHT, U64_EPOCH_HEIGHT, U64_PREPAID_GAS, U64_USED_GAS,
       U64_STORAGE_USAGE };

static JSValue js_context_u64(JSContext *ctx, JSValueConst this_val, int argc,
                              JSValueConst *argv, int which)
{
    uint64_t v;
    switch (which) {
    case U64_BLOCK_TIMESTAMP:
        v = ol_block_timestamp();
        break;
    case U64_BLOCK_HEIGHT:
        v = ol_block_index();
        break;
    case U64_EPOCH_HEIGHT:
        v = ol_epoch_height();
        break;
    case U64_PREPAID_GAS:
        v = ol_prepaid_gas();
        break;
    case U64_USED_GAS:
        v = ol_used_gas();
        break;
    default:
        v = ol_storage_usage();
        break;
    }
    return JS_NewBigUint64(ctx, v);
}

enum { U128_ATTACHED_DEPOSIT, U128_ACCOUNT_BALANCE, U128_ACCOUNT_LOCKED_BALANCE };

static JSValue js_context_u128(JSContext *ctx, JSValueConst this_val, int argc,
                               JSValueConst *argv, int which)
{
    uint8_t b[16] __attribute__((aligned(16)));
    memset(b, 0, sizeof(b));
    switch (which) {
    case U128_ATTACHED_DEPOSIT:
        ol_attached_deposit(OL_PTR(b));
        break;
    case U128_ACCOUNT_BALANCE:
        ol_account_balance(OL_PTR(b));
        break;
    default:
        ol_account_locked_balance(OL_PTR(b));
        break;
    }
    return new_u128(ctx, b);
}

/* ------------------------------------------------------------------------- crypto */

/* The (len, ptr, register) host functions that hash or combine bytes, in one order for
   the near API (the first four) and for near-sdk-js's env (all six). */
enum { HASH_SHA256, HASH_KECCAK256, HASH_KECCAK512, HASH_RIPEMD160, HASH_G1_MULTIEXP,
       HASH_G1_SUM };
static void (*const hash_fns[])(uint64_t, uint64_t, uint64_t) = {
    ol_sha256, ol_keccak256, ol_keccak512, ol_ripemd160, ol_alt_bn128_g1_multiexp,
    ol_alt_bn128_g1_sum};
static const char *const hash_names[] = {"sha256", "keccak256", "keccak512", "ripemd160",
    "alt_bn128_g1_multiexp", "alt_bn128_g1_sum"};

static JSValue js_hash(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                       int which)
{
    ol_bytes data;

    if (get_bytes(ctx, argv[0], &data, hash_names[which], "data"))
        return JS_EXCEPTION;
    hash_fns[which](data.len, OL_PTR(data.ptr), OL_REG);
    bytes_free(ctx, &data);
    return reg_to_bytes(ctx);
}

static JSValue js_ecrecover(JSContext *ctx, JSValueConst this_val, int argc,
                            JSValueConst *argv)
{
    ol_bytes hash, sig;
    uint64_t v, flag, ok;

    if (get_u64(ctx, argv[2], &v, "ecrecover", "v") ||
        get_u64(ctx, argv[3], &flag, "ecrecover", "malleabilityFlag"))
        return JS_EXCEPTION;
    if (get_bytes(ctx, argv[0], &hash, "ecrecover", "hash"))
        return JS_EXCEPTION;
    if (get_bytes(ctx, argv[1], &sig, "ecrecover", "sig")) {
        bytes_free(ctx, &hash);
        return JS_EXCEPTION;
    }
    ok = ol_ecrecover(hash.len, OL_PTR(hash.ptr), sig.len, OL_PTR(sig.ptr), v, flag, OL_REG);
    bytes_free(ctx, &hash);
    bytes_free(ctx, &sig);
    if (!ok)
        return JS_NULL;
    return reg_to_bytes(ctx);
}

static JSValue js_ed25519_verify(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    ol_bytes sig, msg, pk;
    uint64_t ok;

    if (get_bytes(ctx, argv[0], &sig, "ed25519Verify", "sig"))
        return JS_EXCEPTION;
    if (get_bytes(ctx, argv[1], &msg, "ed25519Verify", "msg")) {
        bytes_free(ctx, &sig);
        return JS_EXCEPTION;
    }
    if (get_bytes(ctx, argv[2], &pk, "ed25519Verify", "pk")) {
        bytes_free(ctx, &sig);
        bytes_free(ctx, &msg);
        return JS_EXCEPTION;
    }
    ok = ol_ed25519_verify(sig.len, OL_PTR(sig.ptr), msg.len, OL_PTR(msg.ptr), pk.len,
                           OL_PTR(pk.ptr));
    bytes_free(ctx, &sig);
    bytes_free(ctx, &msg);
    bytes_free(ctx, &pk);
    return JS_NewBool(ctx, ok == 1);
}

/* ------------------------------------------------------------- results and failure */

static JSValue js_value_return(JSContext *ctx, JSValueConst this_val, int argc,
                               JSValueConst *argv)
{
    ol_bytes value;

    if (get_bytes(ctx, argv[0], &value, "valueReturn", "value"))
        return JS_EXCEPTION;
    ol_value_return(value.len, OL_PTR(value.ptr));
    bytes_free(ctx, &value);
    return JS_UNDEFINED;
}

static JSValue js_panic(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc == 0 || JS_IsUndefined(argv[0])) {
        ol_panic();
    } else {
        ol_buf b;
        ol_buf_init(&b, ctx);
        if (ol_buf_put_string_of(&b, argv[0])) {
            ol_buf_free(&b);
            return JS_EXCEPTION;
        }
        if (b.failed) {
            ol_buf_free(&b);
            return JS_ThrowOutOfMemory(ctx);
        }
        ol_panic_utf8(b.len, OL_PTR(b.data ? b.data : (const char *)empty_bytes));
    }
    /* the host ends the call inside the syscall; returning would let the contract go on */
    __builtin_trap();
}

/* -------------------------------------------------------------------- conversions */

static JSValue js_bytes_to_string(JSContext *ctx, JSValueConst this_val, int argc,
                                  JSValueConst *argv)
{
    size_t n = 0;
    uint8_t *p;
    int t = JS_IsObject(argv[0]) ? JS_GetTypedArrayType(argv[0]) : -1;

    if (t != JS_TYPED_ARRAY_UINT8 && t != JS_TYPED_ARRAY_UINT8C)
        return JS_ThrowTypeError(ctx, "near.bytesToString: argument 'bytes' must be a "
                                      "Uint8Array");
    p = JS_GetUint8Array(ctx, &n, argv[0]);
    if (!p && JS_HasException(ctx))
        return JS_EXCEPTION;
    return JS_NewStringLen(ctx, p ? (const char *)p : "", n);
}

static JSValue js_string_to_bytes(JSContext *ctx, JSValueConst this_val, int argc,
                                  JSValueConst *argv)
{
    size_t n;
    const char *s;
    JSValue v;

    if (!JS_IsString(argv[0]))
        return JS_ThrowTypeError(ctx, "near.stringToBytes: argument 'str' must be a string");
    s = JS_ToCStringLen(ctx, &n, argv[0]);
    if (!s)
        return JS_EXCEPTION;
    v = JS_NewUint8ArrayCopy(ctx, (const uint8_t *)s, n);
    JS_FreeCString(ctx, s);
    return v;
}

/* -------------------------------------------------------------- near-sdk-js `env` */

/*
 * The `env` global of near-sdk-js 2.0.0 contracts: NEAR's host functions under their own
 * names, one JS value per (len, ptr) pair, as near-sdk-js's wasm builder exposes them
 * (docs/NEAR_SDK_JS.md). Registers are the host's own (any u64 id, NEAR's limits and gas),
 * so what an sdk-js contract pays for a host call is what a NEAR wasm contract pays.
 * Bytes are Uint8Array (strings accepted too, as UTF-8); u64 and u128 results are BigInt;
 * u64/u128 arguments are a BigInt or a non-negative integer Number. Only the realm prelude
 * hands `env` to a contract (near-sdk-js bundles only); it is frozen like `near`.
 */

/* Bytes of a Uint8Array or a string (UTF-8) argument; release with bytes_free. */
static int env_bytes(JSContext *ctx, JSValueConst v, ol_bytes *out, const char *fn,
                     const char *arg)
{
    out->cstr = NULL;
    out->ptr = empty_bytes;
    out->len = 0;
    if (JS_IsObject(v)) {
        int t = JS_GetTypedArrayType(v);
        if (t == JS_TYPED_ARRAY_UINT8 || t == JS_TYPED_ARRAY_UINT8C) {
            size_t n = 0;
            uint8_t *p = JS_GetUint8Array(ctx, &n, v);
            if (!p)
                return JS_HasException(ctx) ? -1 : 0;
            out->ptr = p;
            out->len = n;
            return 0;
        }
    } else if (JS_IsString(v)) {
        size_t n;
        const char *s = JS_ToCStringLen(ctx, &n, v);
        if (!s)
            return -1;
        out->cstr = s;
        out->ptr = (const uint8_t *)s;
        out->len = n;
        return 0;
    }
    JS_ThrowTypeError(ctx, "env.%s: expected a Uint8Array for '%s'", fn, arg);
    return -1;
}

/* String(v) as UTF-8 (account ids, method names, log text); release with bytes_free. */
static int env_text(JSContext *ctx, JSValueConst v, ol_bytes *out)
{
    JSValue str;
    size_t n;
    const char *s;

    out->cstr = NULL;
    if (JS_IsString(v)) {
        str = JS_DupValue(ctx, v);
    } else {
        /* String(v), as near-sdk-js's builder converts (symbols do not throw) */
        str = JS_Call(ctx, ol_string_ctor, JS_UNDEFINED, 1, &v);
        if (JS_IsException(str))
            return -1;
    }
    s = JS_ToCStringLen(ctx, &n, str);
    JS_FreeValue(ctx, str);
    if (!s)
        return -1;
    out->cstr = s;
    out->ptr = (const uint8_t *)s;
    out->len = n;
    return 0;
}

/* A u64: a BigInt (taken modulo 2^64, as near-sdk-js passes u64::MAX - 1n) or a
   non-negative integer Number. */
static int env_u64(JSContext *ctx, JSValueConst v, uint64_t *out, const char *fn,
                   const char *arg)
{
    if (JS_IsBigInt(v))
        return JS_ToBigUint64(ctx, out, v) ? -1 : 0;
    if (JS_IsNumber(v)) {
        double d;
        if (JS_ToFloat64(ctx, &d, v))
            return -1;
        if (d >= 0 && d < 18446744073709551616.0 && d == trunc(d)) {
            *out = (uint64_t)d;
            return 0;
        }
    }
    JS_ThrowTypeError(ctx, "env.%s: expected a u64 (a BigInt or a non-negative integer) for "
                           "'%s'", fn, arg);
    return -1;
}

/* A u128 (yoctoNEAR), little-endian into out[16]: a BigInt from 0 to 2^128 - 1 or a
   non-negative integer Number. */
static int env_u128(JSContext *ctx, JSValueConst v, uint8_t out[16], const char *fn,
                    const char *arg)
{
    unsigned __int128 acc = 0;
    uint64_t lo, hi;

    if (JS_IsBigInt(v)) { /* a BigInt prints in decimal */
        int r = ol_parse_decimal(ctx, v, &acc);
        if (r == -2)
            return -1;
        if (r) {
            JS_ThrowRangeError(ctx, "env.%s: '%s' must be a u128 (0 to 2^128 - 1)", fn, arg);
            return -1;
        }
    } else {
        uint64_t u;
        if (env_u64(ctx, v, &u, fn, arg))
            return -1;
        acc = u;
    }
    lo = (uint64_t)acc;
    hi = (uint64_t)(acc >> 64);
    memcpy(out, &lo, 8); /* wasm is little-endian */
    memcpy(out + 8, &hi, 8);
    return 0;
}

/* read_register(id): a Uint8Array, or undefined when the register is unset. */
static JSValue env_read_register(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    uint64_t id, len;
    uint8_t *buf;
    JSValue v;

    if (env_u64(ctx, argv[0], &id, "read_register", "register_id"))
        return JS_EXCEPTION;
    len = ol_register_len(id);
    if (len == UINT64_MAX)
        return JS_UNDEFINED;
    if (len > 0x7fffffff)
        return JS_ThrowRangeError(ctx, "env.read_register: register value too large");
    if (len <= OL_SCRATCH_SIZE) {
        if (len)
            ol_read_register(id, OL_PTR(scratch));
        return JS_NewUint8ArrayCopy(ctx, scratch, (size_t)len);
    }
    buf = js_malloc(ctx, (size_t)len);
    if (!buf)
        return JS_EXCEPTION;
    ol_read_register(id, OL_PTR(buf));
    v = JS_NewUint8ArrayCopy(ctx, buf, (size_t)len);
    js_free(ctx, buf);
    return v;
}

static JSValue env_write_register(JSContext *ctx, JSValueConst this_val, int argc,
                                  JSValueConst *argv)
{
    uint64_t id;
    ol_bytes data;

    if (env_u64(ctx, argv[0], &id, "write_register", "register_id") ||
        env_bytes(ctx, argv[1], &data, "write_register", "data"))
        return JS_EXCEPTION;
    ol_write_register(id, data.len, OL_PTR(data.ptr));
    bytes_free(ctx, &data);
    return JS_UNDEFINED;
}

/* Host functions of one register argument (the result goes there). */
enum { EREG_CURRENT, EREG_SIGNER, EREG_SIGNER_PK, EREG_PREDECESSOR, EREG_INPUT,
       EREG_RANDOM_SEED };
static const char *const ereg_names[] = {"current_account_id", "signer_account_id",
    "signer_account_pk", "predecessor_account_id", "input", "random_seed"};

static JSValue env_into_register(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv, int which)
{
    uint64_t id;

    if (env_u64(ctx, argv[0], &id, ereg_names[which], "register_id"))
        return JS_EXCEPTION;
    switch (which) {
    case EREG_CURRENT:
        ol_current_account_id(id);
        break;
    case EREG_SIGNER:
        ol_signer_account_id(id);
        break;
    case EREG_SIGNER_PK:
        ol_signer_account_pk(id);
        break;
    case EREG_PREDECESSOR:
        ol_predecessor_account_id(id);
        break;
    case EREG_INPUT:
        ol_input(id);
        break;
    default:
        ol_random_seed(id);
        break;
    }
    return JS_UNDEFINED;
}

/* Host functions without arguments that return a u64. */
enum { EU64_REGISTER_LEN = -1, EU64_BLOCK_INDEX, EU64_BLOCK_TIMESTAMP, EU64_EPOCH_HEIGHT,
       EU64_STORAGE_USAGE, EU64_PREPAID_GAS, EU64_USED_GAS, EU64_PROMISE_RESULTS_COUNT };

static JSValue env_u64_result(JSContext *ctx, JSValueConst this_val, int argc,
                              JSValueConst *argv, int which)
{
    uint64_t v;
    switch (which) {
    case EU64_REGISTER_LEN:
        if (env_u64(ctx, argv[0], &v, "register_len", "register_id"))
            return JS_EXCEPTION;
        v = ol_register_len(v);
        break;
    case EU64_BLOCK_INDEX:
        v = ol_block_index();
        break;
    case EU64_BLOCK_TIMESTAMP:
        v = ol_block_timestamp();
        break;
    case EU64_EPOCH_HEIGHT:
        v = ol_epoch_height();
        break;
    case EU64_STORAGE_USAGE:
        v = ol_storage_usage();
        break;
    case EU64_PREPAID_GAS:
        v = ol_prepaid_gas();
        break;
    case EU64_USED_GAS:
        v = ol_used_gas();
        break;
    default:
        v = ol_promise_results_count();
        break;
    }
    return JS_NewBigUint64(ctx, v);
}

/* Host functions that write a u128 to memory: returned as a BigInt. */
enum { EU128_ACCOUNT_BALANCE, EU128_LOCKED_BALANCE, EU128_ATTACHED_DEPOSIT,
       EU128_VALIDATOR_TOTAL_STAKE, EU128_VALIDATOR_STAKE };

static JSValue env_u128_result(JSContext *ctx, JSValueConst this_val, int argc,
                               JSValueConst *argv, int which)
{
    uint8_t b[16] __attribute__((aligned(16)));
    ol_bytes account;

    memset(b, 0, sizeof(b));
    switch (which) {
    case EU128_ACCOUNT_BALANCE:
        ol_account_balance(OL_PTR(b));
        break;
    case EU128_LOCKED_BALANCE:
        ol_account_locked_balance(OL_PTR(b));
        break;
    case EU128_ATTACHED_DEPOSIT:
        ol_attached_deposit(OL_PTR(b));
        break;
    case EU128_VALIDATOR_TOTAL_STAKE:
        ol_validator_total_stake(OL_PTR(b));
        break;
    default:
        if (env_text(ctx, argv[0], &account))
            return JS_EXCEPTION;
        ol_validator_stake(account.len, OL_PTR(account.ptr), OL_PTR(b));
        bytes_free(ctx, &account);
        break;
    }
    return new_u128(ctx, b);
}

/* (data, register_id): the hashes and the alt_bn128 group operations (HASH_* order). */
static JSValue env_hash(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                        int which)
{
    ol_bytes data;
    uint64_t id;

    if (env_u64(ctx, argv[1], &id, hash_names[which], "register_id") ||
        env_bytes(ctx, argv[0], &data, hash_names[which], "value"))
        return JS_EXCEPTION;
    hash_fns[which](data.len, OL_PTR(data.ptr), id);
    bytes_free(ctx, &data);
    return JS_UNDEFINED;
}

static JSValue env_pairing_check(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    ol_bytes data;
    uint64_t r;

    if (env_bytes(ctx, argv[0], &data, "alt_bn128_pairing_check", "value"))
        return JS_EXCEPTION;
    r = ol_alt_bn128_pairing_check(data.len, OL_PTR(data.ptr));
    bytes_free(ctx, &data);
    return JS_NewBigUint64(ctx, r);
}

/* ecrecover(hash, sig, v, malleability_flag, register_id) -> 1n | 0n */
static JSValue env_ecrecover(JSContext *ctx, JSValueConst this_val, int argc,
                             JSValueConst *argv)
{
    ol_bytes hash, sig;
    uint64_t v, flag, id, r;

    if (env_u64(ctx, argv[2], &v, "ecrecover", "v") ||
        env_u64(ctx, argv[3], &flag, "ecrecover", "malleability_flag") ||
        env_u64(ctx, argv[4], &id, "ecrecover", "register_id") ||
        env_bytes(ctx, argv[0], &hash, "ecrecover", "hash"))
        return JS_EXCEPTION;
    if (env_bytes(ctx, argv[1], &sig, "ecrecover", "sig")) {
        bytes_free(ctx, &hash);
        return JS_EXCEPTION;
    }
    r = ol_ecrecover(hash.len, OL_PTR(hash.ptr), sig.len, OL_PTR(sig.ptr), v, flag, id);
    bytes_free(ctx, &hash);
    bytes_free(ctx, &sig);
    return JS_NewBigUint64(ctx, r);
}

/* (bytes): value_return, panic_utf8, log_utf8, log_utf16; log(text) and panic(text?). */
enum { EOUT_VALUE_RETURN, EOUT_PANIC_UTF8, EOUT_LOG_UTF8, EOUT_LOG_UTF16, EOUT_LOG,
       EOUT_PANIC };
static const char *const eout_names[] = {"value_return", "panic_utf8", "log_utf8",
    "log_utf16", "log", "panic"};

static JSValue env_output(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                          int which)
{
    ol_bytes data;
    int r;

    if (which == EOUT_PANIC && argc == 0) {
        ol_panic();
        __builtin_trap(); /* the host ends the call inside the syscall */
    }
    r = which >= EOUT_LOG ? env_text(ctx, argv[0], &data)
                          : env_bytes(ctx, argv[0], &data, eout_names[which], "value");
    if (r)
        return JS_EXCEPTION;
    switch (which) {
    case EOUT_VALUE_RETURN:
        ol_value_return(data.len, OL_PTR(data.ptr));
        break;
    case EOUT_LOG_UTF8:
    case EOUT_LOG:
        ol_log_utf8(data.len, OL_PTR(data.ptr));
        break;
    case EOUT_LOG_UTF16:
        ol_log_utf16(data.len, OL_PTR(data.ptr));
        break;
    default: /* panic_utf8, panic(text) */
        ol_panic_utf8(data.len, OL_PTR(data.ptr));
        __builtin_trap();
    }
    bytes_free(ctx, &data);
    return JS_UNDEFINED;
}

/* ------------------------------------------------------------ env: promises */

static JSValue env_promise_create(JSContext *ctx, JSValueConst this_val, int argc,
                                  JSValueConst *argv, int then)
{
    const char *fn = then ? "promise_then" : "promise_create";
    JSValueConst *a = argv + then;
    uint8_t amount[16] __attribute__((aligned(16)));
    uint64_t dep = 0, gas, index;
    ol_bytes account, method, args;

    if ((then && env_u64(ctx, argv[0], &dep, fn, "promise_index")) ||
        env_u128(ctx, a[3], amount, fn, "amount") || env_u64(ctx, a[4], &gas, fn, "gas"))
        return JS_EXCEPTION;
    if (env_text(ctx, a[0], &account))
        return JS_EXCEPTION;
    if (env_text(ctx, a[1], &method)) {
        bytes_free(ctx, &account);
        return JS_EXCEPTION;
    }
    if (env_bytes(ctx, a[2], &args, fn, "arguments")) {
        bytes_free(ctx, &account);
        bytes_free(ctx, &method);
        return JS_EXCEPTION;
    }
    index = ol_promise_call(then, dep, account.ptr, account.len, method.ptr, method.len,
                            args.ptr, args.len, amount, gas);
    bytes_free(ctx, &account);
    bytes_free(ctx, &method);
    bytes_free(ctx, &args);
    return JS_NewBigUint64(ctx, index);
}

/* promise_and(...indices) */
static JSValue env_promise_and(JSContext *ctx, JSValueConst this_val, int argc,
                               JSValueConst *argv)
{
    uint64_t *indices, index;
    int i;

    indices = js_malloc(ctx, sizeof(*indices) * (size_t)(argc ? argc : 1));
    if (!indices)
        return JS_EXCEPTION;
    for (i = 0; i < argc; i++) {
        if (env_u64(ctx, argv[i], &indices[i], "promise_and", "promise_index")) {
            js_free(ctx, indices);
            return JS_EXCEPTION;
        }
    }
    index = ol_promise_and(OL_PTR(indices), (uint64_t)argc);
    js_free(ctx, indices);
    return JS_NewBigUint64(ctx, index);
}

/* promise_batch_create(account_id), promise_batch_then(index, account_id) */
static JSValue env_promise_batch(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv, int then)
{
    uint64_t dep = 0, index;
    ol_bytes account;

    if (then && env_u64(ctx, argv[0], &dep, "promise_batch_then", "promise_index"))
        return JS_EXCEPTION;
    if (env_text(ctx, argv[then], &account))
        return JS_EXCEPTION;
    index = then ? ol_promise_batch_then(dep, account.len, OL_PTR(account.ptr))
                 : ol_promise_batch_create(account.len, OL_PTR(account.ptr));
    bytes_free(ctx, &account);
    return JS_NewBigUint64(ctx, index);
}

enum { EACT_CREATE_ACCOUNT, EACT_DEPLOY_CONTRACT, EACT_FUNCTION_CALL,
       EACT_FUNCTION_CALL_WEIGHT, EACT_TRANSFER, EACT_STAKE, EACT_ADD_FULL_ACCESS_KEY,
       EACT_ADD_FUNCTION_CALL_KEY, EACT_DELETE_KEY, EACT_DELETE_ACCOUNT, EACT_PROMISE_RETURN };
static const char *const eact_names[] = {"promise_batch_action_create_account",
    "promise_batch_action_deploy_contract", "promise_batch_action_function_call",
    "promise_batch_action_function_call_weight", "promise_batch_action_transfer",
    "promise_batch_action_stake", "promise_batch_action_add_key_with_full_access",
    "promise_batch_action_add_key_with_function_call", "promise_batch_action_delete_key",
    "promise_batch_action_delete_account", "promise_return"};

/* The batch actions and promise_return: (promise_index, ...) -> undefined. Byte and text
   arguments in s[], u64s in u[], amounts in amount. */
static JSValue env_action(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                          int which)
{
    const char *fn = eact_names[which];
    uint8_t amount[16] __attribute__((aligned(16)));
    uint64_t p, u[2] = {0, 0};
    ol_bytes s[3];
    int ns = 0, i, bad = 0;

    memset(amount, 0, sizeof(amount));
    if (env_u64(ctx, argv[0], &p, fn, "promise_index"))
        return JS_EXCEPTION;
    /* numbers first: they cannot leave anything to free */
    switch (which) {
    case EACT_FUNCTION_CALL:
    case EACT_FUNCTION_CALL_WEIGHT:
        bad = env_u128(ctx, argv[3], amount, fn, "amount") ||
              env_u64(ctx, argv[4], &u[0], fn, "gas") ||
              (which == EACT_FUNCTION_CALL_WEIGHT && env_u64(ctx, argv[5], &u[1], fn, "weight"));
        break;
    case EACT_TRANSFER:
    case EACT_STAKE:
        bad = env_u128(ctx, argv[1], amount, fn, "amount");
        break;
    case EACT_ADD_FULL_ACCESS_KEY:
        bad = env_u64(ctx, argv[2], &u[0], fn, "nonce");
        break;
    case EACT_ADD_FUNCTION_CALL_KEY:
        bad = env_u64(ctx, argv[2], &u[0], fn, "nonce") ||
              env_u128(ctx, argv[3], amount, fn, "allowance");
        break;
    default:
        break;
    }
    if (bad)
        return JS_EXCEPTION;
    switch (which) {
    case EACT_DEPLOY_CONTRACT:
        bad = env_bytes(ctx, argv[1], &s[ns++], fn, "code");
        break;
    case EACT_FUNCTION_CALL:
    case EACT_FUNCTION_CALL_WEIGHT:
        bad = env_text(ctx, argv[1], &s[ns++]);
        if (!bad)
            bad = env_bytes(ctx, argv[2], &s[ns++], fn, "arguments");
        break;
    case EACT_STAKE:
        bad = env_bytes(ctx, argv[2], &s[ns++], fn, "public_key");
        break;
    case EACT_ADD_FULL_ACCESS_KEY:
    case EACT_DELETE_KEY:
        bad = env_bytes(ctx, argv[1], &s[ns++], fn, "public_key");
        break;
    case EACT_ADD_FUNCTION_CALL_KEY:
        bad = env_bytes(ctx, argv[1], &s[ns++], fn, "public_key");
        if (!bad)
            bad = env_text(ctx, argv[4], &s[ns++]);
        if (!bad)
            bad = env_text(ctx, argv[5], &s[ns++]);
        break;
    case EACT_DELETE_ACCOUNT:
        bad = env_text(ctx, argv[1], &s[ns++]);
        break;
    default:
        break;
    }
    if (bad) {
        for (i = 0; i < ns; i++) /* the one that failed holds nothing */
            bytes_free(ctx, &s[i]);
        return JS_EXCEPTION;
    }
    switch (which) {
    case EACT_CREATE_ACCOUNT:
        ol_promise_batch_action_create_account(p);
        break;
    case EACT_DEPLOY_CONTRACT:
        ol_promise_batch_action_deploy_contract(p, s[0].len, OL_PTR(s[0].ptr));
        break;
    case EACT_FUNCTION_CALL:
        ol_promise_batch_action_function_call(p, s[0].len, OL_PTR(s[0].ptr), s[1].len,
                                              OL_PTR(s[1].ptr), OL_PTR(amount), u[0]);
        break;
    case EACT_FUNCTION_CALL_WEIGHT:
        ol_promise_batch_action_function_call_weight(p, s[0].len, OL_PTR(s[0].ptr), s[1].len,
                                                     OL_PTR(s[1].ptr), OL_PTR(amount), u[0],
                                                     u[1]);
        break;
    case EACT_TRANSFER:
        ol_promise_batch_action_transfer(p, OL_PTR(amount));
        break;
    case EACT_STAKE:
        ol_promise_batch_action_stake(p, OL_PTR(amount), s[0].len, OL_PTR(s[0].ptr));
        break;
    case EACT_ADD_FULL_ACCESS_KEY:
        ol_promise_batch_action_add_key_with_full_access(p, s[0].len, OL_PTR(s[0].ptr), u[0]);
        break;
    case EACT_ADD_FUNCTION_CALL_KEY:
        ol_promise_batch_action_add_key_with_function_call(
            p, s[0].len, OL_PTR(s[0].ptr), u[0], OL_PTR(amount), s[1].len, OL_PTR(s[1].ptr),
            s[2].len, OL_PTR(s[2].ptr));
        break;
    case EACT_DELETE_KEY:
        ol_promise_batch_action_delete_key(p, s[0].len, OL_PTR(s[0].ptr));
        break;
    case EACT_DELETE_ACCOUNT:
        ol_promise_batch_action_delete_account(p, s[0].len, OL_PTR(s[0].ptr));
        break;
    default:
        ol_promise_return(p);
        break;
    }
    for (i = 0; i < ns; i++)
        bytes_free(ctx, &s[i]);
    return JS_UNDEFINED;
}

static JSValue env_promise_result(JSContext *ctx, JSValueConst this_val, int argc,
                                  JSValueConst *argv)
{
    uint64_t idx, id;

    if (env_u64(ctx, argv[0], &idx, "promise_result", "result_idx") ||
        env_u64(ctx, argv[1], &id, "promise_result", "register_id"))
        return JS_EXCEPTION;
    return JS_NewBigUint64(ctx, ol_promise_result(idx, id));
}

/* ------------------------------------------------------------- env: storage */

enum { ESTORE_READ, ESTORE_WRITE, ESTORE_REMOVE, ESTORE_HAS_KEY };
static const char *const estore_names[] = {"storage_read", "storage_write", "storage_remove",
    "storage_has_key"};

/* storage_read(key, reg), storage_write(key, value, reg), storage_remove(key, reg),
   storage_has_key(key): the host's 1n / 0n */
static JSValue env_storage(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                           int which)
{
    const char *fn = estore_names[which];
    ol_bytes key, value;
    uint64_t id = 0, r;

    if ((which == ESTORE_WRITE && env_u64(ctx, argv[2], &id, fn, "register_id")) ||
        ((which == ESTORE_READ || which == ESTORE_REMOVE) &&
         env_u64(ctx, argv[1], &id, fn, "register_id")))
        return JS_EXCEPTION;
    if (env_bytes(ctx, argv[0], &key, fn, "key"))
        return JS_EXCEPTION;
    switch (which) {
    case ESTORE_READ:
        r = ol_storage_read(key.len, OL_PTR(key.ptr), id);
        break;
    case ESTORE_WRITE:
        if (env_bytes(ctx, argv[1], &value, fn, "value")) {
            bytes_free(ctx, &key);
            return JS_EXCEPTION;
        }
        r = ol_storage_write(key.len, OL_PTR(key.ptr), value.len, OL_PTR(value.ptr), id);
        bytes_free(ctx, &value);
        break;
    case ESTORE_REMOVE:
        r = ol_storage_remove(key.len, OL_PTR(key.ptr), id);
        break;
    default:
        r = ol_storage_has_key(key.len, OL_PTR(key.ptr));
        break;
    }
    bytes_free(ctx, &key);
    return JS_NewBigUint64(ctx, r);
}

/* --------------------------------------------------------- env: conversions */

/* utf8_string_to_uint8array(s): UTF-8 bytes; latin1_string_to_uint8array(s): one byte per
   character (its code unit's low byte: what near-sdk-js's includeBytes emits is all
   below 256). */
static JSValue env_string_to_bytes(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv, int latin1)
{
    ol_bytes text;
    uint8_t *out;
    size_t i, n = 0;
    JSValue v;

    if (env_text(ctx, argv[0], &text))
        return JS_EXCEPTION;
    if (!latin1) {
        v = JS_NewUint8ArrayCopy(ctx, text.ptr, text.len);
        bytes_free(ctx, &text);
        return v;
    }
    out = js_malloc(ctx, text.len ? text.len : 1);
    if (!out) {
        bytes_free(ctx, &text);
        return JS_EXCEPTION;
    }
    /* QuickJS's UTF-8 (lone surrogates as 3-byte sequences): decode each code point */
    for (i = 0; i < text.len; n++) {
        uint8_t c = text.ptr[i];
        uint32_t cp;
        if (c < 0x80) {
            cp = c;
            i += 1;
        } else if (c < 0xe0 && i + 1 < text.len) {
            cp = ((uint32_t)(c & 0x1f) << 6) | (text.ptr[i + 1] & 0x3f);
            i += 2;
        } else if (c < 0xf0 && i + 2 < text.len) {
            cp = ((uint32_t)(c & 0x0f) << 12) | ((uint32_t)(text.ptr[i + 1] & 0x3f) << 6) |
                 (text.ptr[i + 2] & 0x3f);
            i += 3;
        } else { /* 4 bytes: a surrogate pair in JS, two code units */
            cp = i + 3 < text.len
                     ? (((uint32_t)(c & 0x07) << 18) | ((uint32_t)(text.ptr[i + 1] & 0x3f) << 12) |
                        ((uint32_t)(text.ptr[i + 2] & 0x3f) << 6) | (text.ptr[i + 3] & 0x3f)) -
                           0x10000
                     : 0;
            i += 4;
            out[n++] = (uint8_t)(0xd800 + (cp >> 10));
            cp = 0xdc00 + (cp & 0x3ff);
        }
        out[n] = (uint8_t)cp;
    }
    bytes_free(ctx, &text);
    v = JS_NewUint8ArrayCopy(ctx, out, n);
    js_free(ctx, out);
    return v;
}

/* uint8array_to_utf8_string(a) (invalid UTF-8 as QuickJS decodes it);
   uint8array_to_latin1_string(a): one character per byte. */
static JSValue env_bytes_to_string(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv, int latin1)
{
    const char *fn = latin1 ? "uint8array_to_latin1_string" : "uint8array_to_utf8_string";
    ol_bytes data;
    uint8_t *out;
    size_t i, n = 0;
    JSValue v;

    if (env_bytes(ctx, argv[0], &data, fn, "array"))
        return JS_EXCEPTION;
    if (!latin1) {
        v = JS_NewStringLen(ctx, (const char *)data.ptr, data.len);
        bytes_free(ctx, &data);
        return v;
    }
    out = js_malloc(ctx, 2 * data.len + 1);
    if (!out) {
        bytes_free(ctx, &data);
        return JS_EXCEPTION;
    }
    for (i = 0; i < data.len; i++) {
        uint8_t c = data.ptr[i];
        if (c < 0x80) {
            out[n++] = c;
        } else {
            out[n++] = (uint8_t)(0xc0 | (c >> 6));
            out[n++] = (uint8_t)(0x80 | (c & 0x3f));
        }
    }
    bytes_free(ctx, &data);
    v = JS_NewStringLen(ctx, (const char *)out, n);
    js_free(ctx, out);
    return v;
}

#define EDEF(name, len, fn, m) JS_CFUNC_MAGIC_DEF(name, len, fn, m)

static const JSCFunctionListEntry env_funcs[] = {
    JS_CFUNC_DEF("read_register", 1, env_read_register),
    EDEF("register_len", 1, env_u64_result, EU64_REGISTER_LEN),
    JS_CFUNC_DEF("write_register", 2, env_write_register),
    EDEF("current_account_id", 1, env_into_register, EREG_CURRENT),
    EDEF("signer_account_id", 1, env_into_register, EREG_SIGNER),
    EDEF("signer_account_pk", 1, env_into_register, EREG_SIGNER_PK),
    EDEF("predecessor_account_id", 1, env_into_register, EREG_PREDECESSOR),
    EDEF("input", 1, env_into_register, EREG_INPUT),
    EDEF("block_index", 0, env_u64_result, EU64_BLOCK_INDEX),
    EDEF("block_timestamp", 0, env_u64_result, EU64_BLOCK_TIMESTAMP),
    EDEF("epoch_height", 0, env_u64_result, EU64_EPOCH_HEIGHT),
    EDEF("storage_usage", 0, env_u64_result, EU64_STORAGE_USAGE),
    EDEF("account_balance", 0, env_u128_result, EU128_ACCOUNT_BALANCE),
    EDEF("account_locked_balance", 0, env_u128_result, EU128_LOCKED_BALANCE),
    EDEF("attached_deposit", 0, env_u128_result, EU128_ATTACHED_DEPOSIT),
    EDEF("prepaid_gas", 0, env_u64_result, EU64_PREPAID_GAS),
    EDEF("used_gas", 0, env_u64_result, EU64_USED_GAS),
    EDEF("random_seed", 1, env_into_register, EREG_RANDOM_SEED),
    EDEF("sha256", 2, env_hash, HASH_SHA256),
    EDEF("keccak256", 2, env_hash, HASH_KECCAK256),
    EDEF("keccak512", 2, env_hash, HASH_KECCAK512),
    EDEF("ripemd160", 2, env_hash, HASH_RIPEMD160),
    JS_CFUNC_DEF("ecrecover", 5, env_ecrecover),
    EDEF("alt_bn128_g1_multiexp", 2, env_hash, HASH_G1_MULTIEXP),
    EDEF("alt_bn128_g1_sum", 2, env_hash, HASH_G1_SUM),
    JS_CFUNC_DEF("alt_bn128_pairing_check", 1, env_pairing_check),
    EDEF("value_return", 1, env_output, EOUT_VALUE_RETURN),
    EDEF("panic", 1, env_output, EOUT_PANIC),
    EDEF("panic_utf8", 1, env_output, EOUT_PANIC_UTF8),
    EDEF("log", 1, env_output, EOUT_LOG),
    EDEF("log_utf8", 1, env_output, EOUT_LOG_UTF8),
    EDEF("log_utf16", 1, env_output, EOUT_LOG_UTF16),
    EDEF("promise_create", 5, env_promise_create, 0),
    EDEF("promise_then", 6, env_promise_create, 1),
    JS_CFUNC_DEF("promise_and", 1, env_promise_and),
    EDEF("promise_batch_create", 1, env_promise_batch, 0),
    EDEF("promise_batch_then", 2, env_promise_batch, 1),
    EDEF("promise_batch_action_create_account", 1, env_action, EACT_CREATE_ACCOUNT),
    EDEF("promise_batch_action_deploy_contract", 2, env_action, EACT_DEPLOY_CONTRACT),
    EDEF("promise_batch_action_function_call", 5, env_action, EACT_FUNCTION_CALL),
    EDEF("promise_batch_action_function_call_weight", 6, env_action, EACT_FUNCTION_CALL_WEIGHT),
    EDEF("promise_batch_action_transfer", 2, env_action, EACT_TRANSFER),
    EDEF("promise_batch_action_stake", 3, env_action, EACT_STAKE),
    EDEF("promise_batch_action_add_key_with_full_access", 3, env_action,
         EACT_ADD_FULL_ACCESS_KEY),
    EDEF("promise_batch_action_add_key_with_function_call", 6, env_action,
         EACT_ADD_FUNCTION_CALL_KEY),
    EDEF("promise_batch_action_delete_key", 2, env_action, EACT_DELETE_KEY),
    EDEF("promise_batch_action_delete_account", 2, env_action, EACT_DELETE_ACCOUNT),
    EDEF("promise_results_count", 0, env_u64_result, EU64_PROMISE_RESULTS_COUNT),
    JS_CFUNC_DEF("promise_result", 2, env_promise_result),
    EDEF("promise_return", 1, env_action, EACT_PROMISE_RETURN),
    EDEF("storage_write", 3, env_storage, ESTORE_WRITE),
    EDEF("storage_read", 2, env_storage, ESTORE_READ),
    EDEF("storage_remove", 2, env_storage, ESTORE_REMOVE),
    EDEF("storage_has_key", 1, env_storage, ESTORE_HAS_KEY),
    EDEF("validator_stake", 1, env_u128_result, EU128_VALIDATOR_STAKE),
    EDEF("validator_total_stake", 0, env_u128_result, EU128_VALIDATOR_TOTAL_STAKE),
    EDEF("latin1_string_to_uint8array", 1, env_string_to_bytes, 1),
    EDEF("utf8_string_to_uint8array", 1, env_string_to_bytes, 0),
    EDEF("uint8array_to_latin1_string", 1, env_bytes_to_string, 1),
    EDEF("uint8array_to_utf8_string", 1, env_bytes_to_string, 0),
};

/* ----------------------------------------------------------------------- globals */

#define MAGIC(name, len, fn, m) JS_CFUNC_MAGIC_DEF(name, len, fn, m)

static const JSCFunctionListEntry near_funcs[] = {
    MAGIC("storageRead", 1, js_storage_read, 0),
    MAGIC("storageReadBytes", 1, js_storage_read, 1),
    JS_CFUNC_DEF("storageWrite", 2, js_storage_write),
    JS_CFUNC_DEF("storageRemove", 1, js_storage_remove),
    JS_CFUNC_DEF("storageHasKey", 1, js_storage_has_key),
    MAGIC("storageUsage", 0, js_context_u64, U64_STORAGE_USAGE),
    JS_CFUNC_DEF("log", 0, js_log),
    MAGIC("currentAccountId", 0, js_context_string, ID_CURRENT),
    MAGIC("signerAccountId", 0, js_context_string, ID_SIGNER),
    MAGIC("predecessorAccountId", 0, js_context_string, ID_PREDECESSOR),
    MAGIC("input", 0, js_context_string, ID_INPUT),
    MAGIC("signerAccountPk", 0, js_context_bytes, BYTES_SIGNER_PK),
    MAGIC("randomSeed", 0, js_context_bytes, BYTES_RANDOM_SEED),
    MAGIC("blockTimestamp", 0, js_context_u64, U64_BLOCK_TIMESTAMP),
    MAGIC("blockHeight", 0, js_context_u64, U64_BLOCK_HEIGHT),
    MAGIC("epochHeight", 0, js_context_u64, U64_EPOCH_HEIGHT),
    MAGIC("prepaidGas", 0, js_context_u64, U64_PREPAID_GAS),
    MAGIC("usedGas", 0, js_context_u64, U64_USED_GAS),
    MAGIC("attachedDeposit", 0, js_context_u128, U128_ATTACHED_DEPOSIT),
    MAGIC("accountBalance", 0, js_context_u128, U128_ACCOUNT_BALANCE),
    MAGIC("accountLockedBalance", 0, js_context_u128, U128_ACCOUNT_LOCKED_BALANCE),
    MAGIC("sha256", 1, js_hash, HASH_SHA256),
    MAGIC("keccak256", 1, js_hash, HASH_KECCAK256),
    MAGIC("keccak512", 1, js_hash, HASH_KECCAK512),
    MAGIC("ripemd160", 1, js_hash, HASH_RIPEMD160),
    JS_CFUNC_DEF("ecrecover", 4, js_ecrecover),
    JS_CFUNC_DEF("ed25519Verify", 3, js_ed25519_verify),
    JS_CFUNC_DEF("valueReturn", 1, js_value_return),
    JS_CFUNC_DEF("panic", 1, js_panic),
    JS_CFUNC_DEF("bytesToString", 1, js_bytes_to_string),
    JS_CFUNC_DEF("stringToBytes", 1, js_string_to_bytes),
};

static const JSCFunctionListEntry console_funcs[] = {
    JS_CFUNC_DEF("log", 0, js_log),
    JS_CFUNC_DEF("info", 0, js_log),
    JS_CFUNC_DEF("warn", 0, js_log),
    JS_CFUNC_DEF("error", 0, js_log),
    JS_CFUNC_DEF("debug", 0, js_log),
};

int ol_install_globals(JSContext *ctx)
{
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue near = JS_UNDEFINED, console = JS_UNDEFINED, env = JS_UNDEFINED;
    int ret = -1;

    near = JS_NewObject(ctx);
    if (JS_IsException(near))
        goto done;
    if (JS_SetPropertyFunctionList(ctx, near, near_funcs,
                                   sizeof(near_funcs) / sizeof(near_funcs[0])) < 0)
        goto done;
    if (ol_install_promises(ctx, near) < 0) /* guest/promises.c */
        goto done;
    /* frozen: its functions are non-writable and non-configurable, no new members */
    if (JS_FreezeObject(ctx, near) < 0)
        goto done;
    /* non-writable, non-configurable global binding: `near = ...` cannot replace it */
    if (JS_DefinePropertyValueStr(ctx, global, "near", near, JS_PROP_ENUMERABLE) < 0) {
        near = JS_UNDEFINED; /* consumed */
        goto done;
    }
    near = JS_UNDEFINED;

    /* near-sdk-js's `env` (above), frozen and bound like `near`; the realm prelude gives
       it to near-sdk-js contracts only */
    env = JS_NewObject(ctx);
    if (JS_IsException(env))
        goto done;
    if (JS_SetPropertyFunctionList(ctx, env, env_funcs,
                                   sizeof(env_funcs) / sizeof(env_funcs[0])) < 0 ||
        JS_FreezeObject(ctx, env) < 0)
        goto done;
    if (JS_DefinePropertyValueStr(ctx, global, "env", env, JS_PROP_ENUMERABLE) < 0) {
        env = JS_UNDEFINED; /* consumed */
        goto done;
    }
    env = JS_UNDEFINED;

    /* console stays an ordinary object: SES lockdown replaces it with a tamed one */
    console = JS_NewObject(ctx);
    if (JS_IsException(console))
        goto done;
    if (JS_SetPropertyFunctionList(ctx, console, console_funcs,
                                   sizeof(console_funcs) / sizeof(console_funcs[0])) < 0)
        goto done;
    if (JS_DefinePropertyValueStr(ctx, global, "console", console,
                                  JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE) < 0) {
        console = JS_UNDEFINED;
        goto done;
    }
    console = JS_UNDEFINED;
    ret = 0;
done:
    JS_FreeValue(ctx, near);
    JS_FreeValue(ctx, env);
    JS_FreeValue(ctx, console);
    JS_FreeValue(ctx, global);
    return ret;
}
