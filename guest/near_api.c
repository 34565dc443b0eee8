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

enum { HASH_SHA256, HASH_KECCAK256, HASH_KECCAK512, HASH_RIPEMD160 };
static const char *const hash_names[] = {"sha256", "keccak256", "keccak512", "ripemd160"};

static JSValue js_hash(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                       int which)
{
    ol_bytes data;

    if (get_bytes(ctx, argv[0], &data, hash_names[which], "data"))
        return JS_EXCEPTION;
    switch (which) {
    case HASH_SHA256:
        ol_sha256(data.len, OL_PTR(data.ptr), OL_REG);
        break;
    case HASH_KECCAK256:
        ol_keccak256(data.len, OL_PTR(data.ptr), OL_REG);
        break;
    case HASH_KECCAK512:
        ol_keccak512(data.len, OL_PTR(data.ptr), OL_REG);
        break;
    default:
        ol_ripemd160(data.len, OL_PTR(data.ptr), OL_REG);
        break;
    }
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
    JSValue near = JS_UNDEFINED, console = JS_UNDEFINED;
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
    JS_FreeValue(ctx, console);
    JS_FreeValue(ctx, global);
    return ret;
}
