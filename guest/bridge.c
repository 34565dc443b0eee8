/*
 * OutLayer guest bridge: the wasm exports the host drives, around one QuickJS-ng runtime.
 *
 *   ol_alloc / ol_free    buffers the host fills (contract source, method name)
 *   ol_boot               runtime + context + `near`/`console` globals
 *   ol_lockdown           SES: evaluate its source, then the realm prelude, which locks
 *                         the realm down and hardens `near` and `console`
 *   ol_load               the contract: a compartment script evaluated in the SES
 *                         Compartment of its realm options (made at lockdown, used by
 *                         this one contract), or (flag OL_LOAD_NATIVE_MODULE) an ES module
 *                         evaluated by QuickJS in the start compartment
 *   ol_seal               after ol_load, right before the host snapshots the contract:
 *                         what loading freed is zeroed (ol_heap_seal), out of the snapshot
 *   ol_call               run one exported method with the call's JSON input
 *
 * Every export runs once per instance, in this order (ol_lockdown optional). The host
 * snapshots the instance after ol_boot/ol_lockdown and after ol_load, so every piece of
 * state a later export needs lives in C globals (and the JS heap they point into). A
 * contract's snapshot is the pages ol_load changed, which every call pays for: see
 * prepare_snapshot. Memory comes from the guest heap (ol_heap.c).
 *
 * Every failure is reported once through syscall 490 (outlayer_guest_error) with a kind from
 * outlayer/syscalls.py, then the export returns non-zero. Host-function traps (gas, limits,
 * panics) unwind the wasm and never come back here. The bridge reads no host time or
 * entropy itself: QuickJS's clock and Math.random seed come from the host's deterministic
 * WASI clock.
 */
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "ol_heap.h"
#include "ol_realm_prelude.h"
#include "promises.h"

#ifndef OL_JS_STACK_SIZE
#error "OL_JS_STACK_SIZE comes from outlayer/host/guest_build.py"
#endif
#ifndef OL_OOM_RESERVE
#error "OL_OOM_RESERVE comes from outlayer/host/guest_build.py"
#endif

#ifndef OL_LOAD_NATIVE_MODULE
#error "OL_LOAD_* flags come from outlayer/host/guest_build.py"
#endif
#define OL_LOAD_KNOWN_FLAGS (OL_LOAD_NATIVE_MODULE | OL_LOAD_ALLOW_MATH_RANDOM | \
                             OL_LOAD_ALLOW_DATE_NOW)

#define OL_EXPORT(name) __attribute__((export_name(name), visibility("default")))
#define OL_MODULE_NAME "contract.js"
/* File names of the infrastructure scripts: the realm prelude hides their stack frames
   (HIDDEN_FILES in realm_prelude.js must say the same). */
#define OL_SES_NAME "ses.js"
#define OL_PRELUDE_NAME "outlayer-realm.js"

JSValue ol_string_ctor = JS_UNDEFINED;
JSValue ol_bigint_ctor = JS_UNDEFINED;

/* guest/patches/quickjs-pin-atoms.patch: -1 when out of memory */
int JS_PinAtoms(JSRuntime *rt);
/* guest/patches/quickjs-oom-error.patch: the error QuickJS threw for a failed allocation */
bool JS_IsOutOfMemoryError(JSValueConst val);

static JSRuntime *rt;
static JSContext *ctx;
/* the export namespace of the loaded contract: a module namespace (native module) or the
   frozen object a compartment script completes with */
static JSValue module_ns = JS_UNDEFINED;
static int loaded;
/* ol_load ran (successfully or not): it never runs twice in one instance, so the realm
   prelude hands out each contract compartment once without keeping track itself */
static int load_tried;
/* the realm prelude's loadContract(source, allowMathRandom, allowDateNow), after lockdown */
static JSValue realm_load = JS_UNDEFINED;
enum { REALM_OPEN, REALM_LOCKED, REALM_BROKEN };
static int realm = REALM_OPEN;

/* ------------------------------------------------------------------- memory limit */

/* The guest heap (ol_heap.c) serves QuickJS and the host's buffers. The host caps linear
   memory (store limits), so an allocation returning NULL is how the cap shows: the heap
   then sets ol_heap_oom and releases its reserve, so QuickJS can still build the
   exception and the bridge its report after the heap is full. QuickJS marks the
   "out of memory" error it throws then (guest/patches/quickjs-oom-error.patch), and the
   bridge names a failure MemoryLimitExceeded when the exception it reports is that
   error, or when building the report itself ran out of memory (is_oom_exception,
   report_buf): a contract that caught an allocation failure and went on fails later for
   its own reasons. */
static void oom_rearm(void)
{
    ol_heap_rearm(OL_OOM_RESERVE);
}

/* QuickJS allocates through ol_heap directly (guest/patches/quickjs-ol-heap.patch); these
   serve the few allocations made through JSMallocFunctions (the runtime itself). */
static void *ol_js_calloc(void *opaque, size_t count, size_t size)
{
    return ol_heap_calloc(count, size);
}

static void *ol_js_malloc(void *opaque, size_t size)
{
    return ol_heap_malloc(size);
}

static void ol_js_free(void *opaque, void *ptr)
{
    ol_heap_free(ptr);
}

static void *ol_js_realloc(void *opaque, void *ptr, size_t size)
{
    if (size == 0) {
        ol_heap_free(ptr);
        return NULL;
    }
    return ol_heap_realloc(ptr, size);
}

static size_t ol_js_usable_size(const void *ptr)
{
    return ol_heap_usable_size(ptr);
}

static const JSMallocFunctions malloc_funcs = {
    ol_js_calloc, ol_js_malloc, ol_js_free, ol_js_realloc, ol_js_usable_size,
};

/* ------------------------------------------------------------------- host buffers */

OL_EXPORT("ol_alloc") uint32_t ol_alloc(uint32_t size)
{
    return (uint32_t)(uintptr_t)ol_heap_malloc(size ? size : 1);
}

OL_EXPORT("ol_free") void ol_free(uint32_t ptr)
{
    ol_heap_free((void *)(uintptr_t)ptr);
}

/* ---------------------------------------------------------------------- reporting */

static void report(int kind, const char *msg, size_t len)
{
    ol_outlayer_guest_error((uint64_t)kind, len, OL_PTR(msg));
}

static void report_str(int kind, const char *msg)
{
    report(kind, msg, strlen(msg));
}

/* 1 if `exc` is the failure of an allocation: the error QuickJS threw for it (also when
   a contract caught it and threw it again), or null if QuickJS threw null for one in this
   export (it could not even build the error). Any other exception is the contract's own,
   even after it caught an allocation failure earlier in the call. */
static int is_oom_exception(JSValueConst exc)
{
    return JS_IsOutOfMemoryError(exc) || (JS_IsNull(exc) && ol_heap_oom_threw_null);
}

/* Report a built message; when building it ran out of memory, MemoryLimitExceeded with
   "guest memory limit exceeded (out of memory while reporting <what>)". */
static void report_buf(int kind, ol_buf *b, const char *what)
{
    static const char head[] = "guest memory limit exceeded (out of memory while reporting ";
    char msg[192];
    size_t n;
    if (b->failed) {
        n = strlen(what);
        if (n > sizeof(msg) - sizeof(head) - 1)
            n = sizeof(msg) - sizeof(head) - 1;
        memcpy(msg, head, sizeof(head) - 1);
        memcpy(msg + sizeof(head) - 1, what, n);
        msg[sizeof(head) - 1 + n] = ')';
        report(OL_ERR_MEMORY_LIMIT_EXCEEDED, msg, sizeof(head) + n);
    } else {
        report(kind, b->data ? b->data : "", b->len);
    }
    ol_buf_free(b);
}

/* Drop the exception that building a report ran into; if it is an allocation failure,
   the report cannot be built (report_buf then reports MemoryLimitExceeded). */
static void drop_exception(ol_buf *b)
{
    JSValue exc = JS_GetException(b->ctx);
    if (is_oom_exception(exc))
        b->failed = 1;
    JS_FreeValue(b->ctx, exc);
}

/* Append a property of an object (nothing if absent; with `strings_only`, nothing if it
   is not a string); 1 if something was added. */
static int put_prop(ol_buf *b, JSValueConst obj, const char *prop, int strings_only)
{
    JSValue v = JS_GetPropertyStr(b->ctx, obj, prop);
    int added = 0;
    if (JS_IsException(v)) {
        drop_exception(b);
        return 0;
    }
    if (!JS_IsUndefined(v) && (!strings_only || JS_IsString(v))) {
        size_t before = b->len;
        if (ol_buf_put_string_of(b, v) < 0)
            drop_exception(b);
        added = b->len > before;
    }
    JS_FreeValue(b->ctx, v);
    return added;
}

/* "<Name>: <message>" of an Error, String(value) of anything else. */
static void put_error_head(ol_buf *b, JSValueConst exc)
{
    if (JS_IsError(exc)) {
        size_t mark;
        if (!put_prop(b, exc, "name", 0))
            ol_buf_puts(b, "Error");
        ol_buf_puts(b, ": ");
        mark = b->len;
        if (!put_prop(b, exc, "message", 0) && b->data) {
            b->len = mark - 2; /* no message: drop ": " */
            b->data[b->len] = '\0';
        }
    } else if (ol_buf_put_string_of(b, exc) < 0) {
        drop_exception(b);
        ol_buf_puts(b, "<exception that has no string form>");
    }
}

/* `prefix` and the `stack` of an Error without its trailing newline; nothing if it has
   no stack (a string: a stack QuickJS could not build is null). */
static void put_error_stack(ol_buf *b, JSValueConst exc, const char *prefix)
{
    size_t mark = b->len;
    if (!JS_IsError(exc))
        return;
    ol_buf_puts(b, prefix);
    if (!put_prop(b, exc, "stack", 1)) {
        if (b->data) {
            b->len = mark;
            b->data[b->len] = '\0';
        }
        return;
    }
    while (b->len > mark && b->data && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' '))
        b->data[--b->len] = '\0';
}

/* Uncaught exception: "Uncaught <Name>: <message>\n<stack>"; MemoryLimitExceeded if
   it is an allocation failure. */
static void report_exception(int kind, const char *context, JSValue exc)
{
    int oom = is_oom_exception(exc);
    ol_buf b;
    ol_buf_init(&b, ctx);
    if (oom) {
        kind = OL_ERR_MEMORY_LIMIT_EXCEEDED;
        ol_buf_puts(&b, "guest memory limit exceeded (an allocation failed): ");
    }
    if (context)
        ol_buf_puts(&b, context);
    ol_buf_puts(&b, "Uncaught ");
    if (oom && !JS_IsObject(exc))
        ol_buf_puts(&b, "InternalError: out of memory"); /* QuickJS could not even build it */
    else
        put_error_head(&b, exc);
    put_error_stack(&b, exc, "\n");
    JS_FreeValue(ctx, exc);
    report_buf(kind, &b, "an uncaught exception");
}

static void report_pending_exception(int kind, const char *context)
{
    report_exception(kind, context, JS_GetException(ctx));
}

/* Syntax (and import) errors: "SyntaxError: <message> at contract.js:<line>:<column>". */
static void report_compile_error(void)
{
    JSValue exc = JS_GetException(ctx);
    ol_buf b;
    ol_buf_init(&b, ctx);
    put_error_head(&b, exc);
    if (JS_IsError(exc)) {
        ol_buf st;
        ol_buf_init(&st, ctx);
        put_prop(&st, exc, "stack", 1);
        if (st.data && !st.failed) {
            /* first frame, "    at contract.js:3:15", is where the parser stopped */
            const char *p = st.data;
            const char *end;
            while (*p == ' ')
                p++;
            end = strchr(p, '\n');
            if (!end)
                end = p + strlen(p);
            if (end > p) {
                ol_buf_puts(&b, " ");
                ol_buf_put(&b, p, (size_t)(end - p));
            }
        }
        ol_buf_free(&st);
    }
    JS_FreeValue(ctx, exc);
    report_buf(OL_ERR_COMPILE_ERROR, &b, "that the contract does not compile");
}

/* ---------------------------------------------------------------------------- jobs */

/* Run promise jobs until none is left. -1 with the exception pending in ctx. */
static int run_jobs(void)
{
    for (;;) {
        JSContext *c;
        int r = JS_ExecutePendingJob(rt, &c);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
    }
}

/* Settle `*val` if it is a promise (after the job loop): 0 with *val = its value,
   -1 after reporting a rejection or a promise that never settled. */
static int settle(JSValue *val, const char *what)
{
    JSPromiseStateEnum st;
    JSValue res;

    if (!JS_IsPromise(*val))
        return 0;
    st = JS_PromiseState(ctx, *val);
    if (st == JS_PROMISE_FULFILLED) {
        res = JS_PromiseResult(ctx, *val);
        JS_FreeValue(ctx, *val);
        *val = res;
        return 0;
    }
    if (st == JS_PROMISE_REJECTED) {
        res = JS_PromiseResult(ctx, *val);
        JS_FreeValue(ctx, *val);
        *val = JS_UNDEFINED;
        report_exception(OL_ERR_JSEXCEPTION, NULL, res);
        return -1;
    }
    JS_FreeValue(ctx, *val);
    *val = JS_UNDEFINED;
    {
        ol_buf b;
        ol_buf_init(&b, ctx);
        ol_buf_puts(&b, what);
        ol_buf_puts(&b, " returned a promise that never settled (it awaits something that "
                        "no job will ever resolve)");
        report_buf(OL_ERR_PROMISE_NOT_SETTLED, &b, "a promise that never settled");
    }
    return -1;
}

/* -------------------------------------------------------------------------- boot */

/* Imports are not supported yet: a contract is one module (bundle its dependencies). */
static JSModuleDef *module_loader(JSContext *c, const char *name, void *opaque)
{
    JS_ThrowSyntaxError(c, "import of '%s' is not supported: a contract is a single ES "
                           "module (bundle its dependencies into " OL_MODULE_NAME ")", name);
    return NULL;
}

/*
 * The host snapshots the instance after ol_boot and after ol_lockdown, and a contract's
 * own snapshot is the pages that loading it changes over that. So right before: atoms
 * become permanent (no reference counts written on the snapshot's pages, see
 * guest/patches/quickjs-pin-atoms.patch) and the heap is sealed (new blocks are packed in
 * fresh memory, see ol_heap.c). Nothing a contract can observe changes.
 */
static int prepare_snapshot(void)
{
    if (JS_PinAtoms(rt) < 0)
        return -1;
    ol_heap_seal(OL_HEAP_SEAL_SLACK);
    return 0;
}

static int capture_intrinsics(void)
{
    JSValue global = JS_GetGlobalObject(ctx);
    ol_string_ctor = JS_GetPropertyStr(ctx, global, "String");
    ol_bigint_ctor = JS_GetPropertyStr(ctx, global, "BigInt");
    JS_FreeValue(ctx, global);
    return JS_IsFunction(ctx, ol_string_ctor) && JS_IsFunction(ctx, ol_bigint_ctor) ? 0 : -1;
}

OL_EXPORT("ol_boot") int32_t ol_boot(void)
{
    if (rt) {
        report_str(OL_ERR_INTERNAL_ERROR, "ol_boot called twice");
        return 1;
    }
    oom_rearm();
    rt = JS_NewRuntime2(&malloc_funcs, NULL);
    if (!rt) {
        report_str(ol_heap_oom ? OL_ERR_MEMORY_LIMIT_EXCEEDED : OL_ERR_INTERNAL_ERROR,
                   "JS_NewRuntime failed");
        return 2;
    }
    /* counted from the stack pointer of each entry (JS_UpdateStackTop): trips before the
       shadow stack (OL_SHADOW_STACK_SIZE) ends, so deep recursion is a RangeError */
    JS_SetMaxStackSize(rt, OL_JS_STACK_SIZE);
    JS_UpdateStackTop(rt);
    JS_SetModuleLoaderFunc(rt, NULL, module_loader, NULL);
    ctx = JS_NewContext(rt);
    if (!ctx) {
        report_str(ol_heap_oom ? OL_ERR_MEMORY_LIMIT_EXCEEDED : OL_ERR_INTERNAL_ERROR,
                   "JS_NewContext failed");
        return 3;
    }
    if (capture_intrinsics() < 0 || ol_install_globals(ctx) < 0) {
        if (JS_HasException(ctx))
            report_pending_exception(OL_ERR_INTERNAL_ERROR, "installing the near global: ");
        else
            report_str(OL_ERR_INTERNAL_ERROR, "installing the near global failed");
        return 4;
    }
    if (prepare_snapshot() < 0) {
        report_str(OL_ERR_MEMORY_LIMIT_EXCEEDED, "ol_boot: out of memory");
        return 5;
    }
    return 0;
}

/* ---------------------------------------------------------------------- lockdown */

/* A NUL-terminated copy of a host buffer (the parser wants a NUL after the source; the
   host's buffer has exactly len bytes). NULL with a pending exception. */
static char *copy_source(uint32_t ptr, uint32_t len)
{
    char *src = js_malloc(ctx, (size_t)len + 1);
    if (!src)
        return NULL;
    memcpy(src, (const void *)(uintptr_t)ptr, len);
    src[len] = '\0';
    return src;
}

/*
 * SES lockdown, once, before any contract code: the SES source (its UMD build, which
 * defines lockdown and Compartment on globalThis) runs as a script, then the
 * realm prelude (guest/realm_prelude.js, compiled in), which calls lockdown() with the
 * options documented there, hardens `near` and `console`, and completes with the
 * function that builds the contract's compartment. Any failure leaves the realm broken:
 * the host must not go on with this instance.
 */
OL_EXPORT("ol_lockdown") int32_t ol_lockdown(uint32_t ses_ptr, uint32_t ses_len)
{
    char *src;
    JSValue ret;

    if (!ctx || realm != REALM_OPEN || loaded || load_tried) {
        report_str(OL_ERR_INTERNAL_ERROR,
                   !ctx                   ? "ol_lockdown before ol_boot"
                   : realm == REALM_LOCKED ? "ol_lockdown called twice"
                   : realm == REALM_BROKEN ? "ol_lockdown after a failed ol_lockdown"
                                           : "ol_lockdown after ol_load: lockdown must come "
                                             "before any contract code");
        return 1;
    }
    JS_UpdateStackTop(rt);
    oom_rearm();
    realm = REALM_BROKEN; /* until everything below succeeded */
    src = copy_source(ses_ptr, ses_len);
    if (!src) {
        report_pending_exception(OL_ERR_MEMORY_LIMIT_EXCEEDED, "ol_lockdown: ");
        return 2;
    }
    ret = JS_Eval(ctx, src, ses_len, OL_SES_NAME, JS_EVAL_TYPE_GLOBAL);
    js_free(ctx, src);
    if (JS_IsException(ret)) {
        report_pending_exception(OL_ERR_INTERNAL_ERROR, "ol_lockdown: evaluating SES: ");
        return 3;
    }
    JS_FreeValue(ctx, ret);
    ret = JS_Eval(ctx, (const char *)ol_realm_prelude, OL_REALM_PRELUDE_LEN, OL_PRELUDE_NAME,
                  JS_EVAL_TYPE_GLOBAL);
    if (JS_IsException(ret)) {
        report_pending_exception(OL_ERR_INTERNAL_ERROR, "ol_lockdown: lockdown failed: ");
        return 4;
    }
    if (!JS_IsFunction(ctx, ret)) {
        JS_FreeValue(ctx, ret);
        report_str(OL_ERR_INTERNAL_ERROR, "ol_lockdown: the realm prelude did not complete "
                                          "with the compartment loader");
        return 5;
    }
    if (run_jobs() < 0) {
        JS_FreeValue(ctx, ret);
        report_pending_exception(OL_ERR_INTERNAL_ERROR, "ol_lockdown: a lockdown job: ");
        return 4;
    }
    if (prepare_snapshot() < 0) {
        JS_FreeValue(ctx, ret);
        report_str(OL_ERR_MEMORY_LIMIT_EXCEEDED, "ol_lockdown: out of memory");
        return 6;
    }
    realm_load = ret;
    realm = REALM_LOCKED;
    return 0;
}

/* -------------------------------------------------------------------------- load */

/* The contract as an ES module, compiled and evaluated by QuickJS itself. */
static int load_native_module(const char *src, uint32_t src_len)
{
    JSValue mod, ret;
    JSModuleDef *m;

    mod = JS_Eval(ctx, src, src_len, OL_MODULE_NAME,
                  JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(mod)) {
        report_compile_error();
        return 3;
    }
    m = JS_VALUE_GET_PTR(mod);
    ret = JS_EvalFunction(ctx, mod); /* consumes mod; m stays owned by the context */
    if (JS_IsException(ret)) {
        report_pending_exception(OL_ERR_JSEXCEPTION, NULL);
        return 4;
    }
    if (run_jobs() < 0) {
        JS_FreeValue(ctx, ret);
        report_pending_exception(OL_ERR_JSEXCEPTION, NULL);
        return 4;
    }
    if (settle(&ret, "the evaluation of " OL_MODULE_NAME) < 0)
        return 5;
    JS_FreeValue(ctx, ret);
    module_ns = JS_GetModuleNamespace(ctx, m);
    if (JS_IsException(module_ns)) {
        module_ns = JS_UNDEFINED;
        report_pending_exception(OL_ERR_INTERNAL_ERROR, "module namespace: ");
        return 6;
    }
    return 0;
}

/* 1 if `exc` is a SyntaxError (by its name, as the contract's compartment sees it). */
static int is_syntax_error(JSValueConst exc)
{
    JSValue name;
    const char *s;
    int yes = 0;

    if (!JS_IsError(exc))
        return 0;
    name = JS_GetPropertyStr(ctx, exc, "name");
    if (JS_IsException(name)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return 0;
    }
    if (JS_IsString(name) && (s = JS_ToCString(ctx, name))) {
        yes = !strcmp(s, "SyntaxError");
        JS_FreeCString(ctx, s);
    }
    JS_FreeValue(ctx, name);
    return yes;
}

/* 1 if `exc` is SES refusing the source before running it ("Possible import expression
   rejected at contract.js:3. (SES_IMPORT_REJECTED)", HTML comments, direct eval). */
static int is_ses_rejection(JSValueConst exc)
{
    JSValue msg = JS_GetPropertyStr(ctx, exc, "message");
    const char *s;
    int yes = 0;

    if (JS_IsException(msg)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return 0;
    }
    if (JS_IsString(msg) && (s = JS_ToCString(ctx, msg))) {
        yes = strstr(s, "(SES_IMPORT_REJECTED)") || strstr(s, "(SES_HTML_COMMENT_REJECTED)") ||
              strstr(s, "(SES_EVAL_REJECTED)");
        JS_FreeCString(ctx, s);
    }
    JS_FreeValue(ctx, msg);
    return yes;
}

/*
 * The contract as a compartment script, evaluated in its own Compartment by the realm
 * prelude's loadContract. A SyntaxError out of the evaluation is a compile error when the
 * script does not parse (parsed again, compile-only, to get QuickJS's position) or when
 * SES refused it; any other exception is the contract's own (JSException).
 */
static int load_compartment_script(const char *src, uint32_t src_len, uint32_t flags)
{
    JSValue args[3], ns;

    /* straight from the host's buffer: a copy would be one more dead page in the
       contract's snapshot */
    args[0] = JS_NewStringLen(ctx, src, src_len);
    if (JS_IsException(args[0])) {
        report_pending_exception(OL_ERR_MEMORY_LIMIT_EXCEEDED, "loading the contract: ");
        return 2;
    }
    args[1] = JS_NewBool(ctx, (flags & OL_LOAD_ALLOW_MATH_RANDOM) != 0);
    args[2] = JS_NewBool(ctx, (flags & OL_LOAD_ALLOW_DATE_NOW) != 0);
    ns = JS_Call(ctx, realm_load, JS_UNDEFINED, 3, (JSValueConst *)args);
    JS_FreeValue(ctx, args[0]);
    if (JS_IsException(ns)) {
        JSValue exc = JS_GetException(ctx);
        if (is_syntax_error(exc)) {
            /* the parser wants a NUL after the source; the host's buffer has exactly
               src_len bytes */
            char *copy = copy_source((uint32_t)(uintptr_t)src, src_len);
            JSValue fn;
            if (!copy) {
                JS_FreeValue(ctx, exc);
                report_pending_exception(OL_ERR_MEMORY_LIMIT_EXCEEDED,
                                         "loading the contract: ");
                return 2;
            }
            fn = JS_Eval(ctx, copy, src_len, OL_MODULE_NAME,
                         JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
            js_free(ctx, copy);
            if (JS_IsException(fn)) {
                JS_FreeValue(ctx, exc);
                report_compile_error();
                return 3;
            }
            JS_FreeValue(ctx, fn);
            if (is_ses_rejection(exc)) {
                ol_buf b;
                ol_buf_init(&b, ctx);
                put_error_head(&b, exc);
                JS_FreeValue(ctx, exc);
                report_buf(OL_ERR_COMPILE_ERROR, &b, "that SES refused the contract");
                return 3;
            }
        }
        report_exception(OL_ERR_JSEXCEPTION, NULL, exc);
        return 4;
    }
    if (run_jobs() < 0) {
        JS_FreeValue(ctx, ns);
        report_pending_exception(OL_ERR_JSEXCEPTION, NULL);
        return 4;
    }
    /* a script that wraps a top-level await completes with a promise of the namespace */
    if (settle(&ns, "the evaluation of " OL_MODULE_NAME) < 0)
        return 5;
    if (!JS_IsObject(ns)) {
        JS_FreeValue(ctx, ns);
        report_str(OL_ERR_INTERNAL_ERROR, "the compartment script did not complete with its "
                                          "export namespace (an object)");
        return 6;
    }
    module_ns = ns;
    return 0;
}

/*
 * flags: OL_LOAD_NATIVE_MODULE, else a compartment script (needs ol_lockdown) with the
 * realm options OL_LOAD_ALLOW_MATH_RANDOM and OL_LOAD_ALLOW_DATE_NOW (ignored for a native
 * module, whose realm is the start compartment's).
 */
OL_EXPORT("ol_load") int32_t ol_load(uint32_t src_ptr, uint32_t src_len, uint32_t flags)
{
    char *src;
    int rc;

    if (!ctx || loaded || load_tried) {
        report_str(OL_ERR_INTERNAL_ERROR, !ctx     ? "ol_load before ol_boot"
                                          : loaded ? "ol_load: a contract is already loaded"
                                                   : "ol_load after a failed ol_load");
        return 1;
    }
    if (flags & ~(uint32_t)OL_LOAD_KNOWN_FLAGS) {
        report_str(OL_ERR_INTERNAL_ERROR, "ol_load: unknown flags");
        return 1;
    }
    if (realm == REALM_BROKEN) {
        report_str(OL_ERR_INTERNAL_ERROR, "ol_load after a failed ol_lockdown");
        return 1;
    }
    if (!(flags & OL_LOAD_NATIVE_MODULE) && realm != REALM_LOCKED) {
        report_str(OL_ERR_INTERNAL_ERROR, "ol_load: a compartment script needs ol_lockdown "
                                          "first (or the NATIVE_MODULE flag)");
        return 1;
    }
    load_tried = 1;
    JS_UpdateStackTop(rt);
    oom_rearm();
    if (flags & OL_LOAD_NATIVE_MODULE) {
        src = copy_source(src_ptr, src_len);
        if (!src) {
            report_pending_exception(OL_ERR_MEMORY_LIMIT_EXCEEDED, "loading the contract: ");
            return 2;
        }
        rc = load_native_module(src, src_len);
        js_free(ctx, src);
    } else {
        rc = load_compartment_script((const char *)(uintptr_t)src_ptr, src_len, flags);
    }
    if (rc)
        return rc;
    loaded = 1;
    return 0;
}

/*
 * The host snapshots the instance next (a contract's snapshot, after ol_load and freeing
 * the source): seal the heap, so that what loading freed is zeros again, out of the
 * contract's snapshot. Never in a call (the zeroing would be metered work).
 */
OL_EXPORT("ol_seal") int32_t ol_seal(void)
{
    ol_heap_seal(0); /* no more memory: calls grow it when they need to, as before */
    return 0;
}

/* -------------------------------------------------------------------------- call */

typedef struct {
    const char *s;
    size_t len;
} name_ref;

static int cmp_names(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* MethodNotFound: the message is a JSON array of the exported functions, sorted. */
static void report_method_not_found(void)
{
    JSPropertyEnum *tab = NULL;
    uint32_t len = 0, i, n = 0;
    name_ref *names = NULL;
    JSValue arr = JS_UNDEFINED, json = JS_UNDEFINED;
    const char *text = NULL;
    size_t text_len = 0;

    if (JS_GetOwnPropertyNames(ctx, &tab, &len, module_ns,
                               JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) < 0)
        goto fail;
    names = js_mallocz(ctx, sizeof(*names) * (len ? len : 1));
    if (!names)
        goto fail;
    for (i = 0; i < len; i++) {
        JSValue v = JS_GetProperty(ctx, module_ns, tab[i].atom);
        if (JS_IsException(v)) { /* an export still in its TDZ: not callable */
            JS_FreeValue(ctx, JS_GetException(ctx));
            continue;
        }
        if (JS_IsFunction(ctx, v)) {
            names[n].s = JS_AtomToCStringLen(ctx, &names[n].len, tab[i].atom);
            if (names[n].s)
                n++;
        }
        JS_FreeValue(ctx, v);
    }
    qsort(names, n, sizeof(*names), cmp_names);
    arr = JS_NewArray(ctx);
    if (JS_IsException(arr))
        goto fail;
    for (i = 0; i < n; i++) {
        JSValue s = JS_NewStringLen(ctx, names[i].s, names[i].len);
        if (JS_IsException(s) || JS_SetPropertyUint32(ctx, arr, i, s) < 0)
            goto fail;
    }
    json = JS_JSONStringify(ctx, arr, JS_UNDEFINED, JS_UNDEFINED);
    if (JS_IsException(json))
        goto fail;
    text = JS_ToCStringLen(ctx, &text_len, json);
    if (!text)
        goto fail;
    report(OL_ERR_METHOD_NOT_FOUND, text, text_len);
    goto done;
fail:
    /* no contract code ran in this call yet: the steps above fail for lack of memory */
    if (JS_HasException(ctx)) {
        JSValue exc = JS_GetException(ctx);
        int oom = is_oom_exception(exc);
        JS_FreeValue(ctx, exc);
        report_str(oom ? OL_ERR_MEMORY_LIMIT_EXCEEDED : OL_ERR_METHOD_NOT_FOUND, "[]");
    } else {
        report_str(ol_heap_oom ? OL_ERR_MEMORY_LIMIT_EXCEEDED : OL_ERR_METHOD_NOT_FOUND, "[]");
    }
done:
    if (text)
        JS_FreeCString(ctx, text);
    JS_FreeValue(ctx, json);
    JS_FreeValue(ctx, arr);
    if (names) {
        for (i = 0; i < n; i++)
            JS_FreeCString(ctx, names[i].s);
        js_free(ctx, names);
    }
    if (tab)
        JS_FreePropertyEnum(ctx, tab, len);
}

/* The call's arguments: JSON.parse(input || "{}"), which must be a plain object. */
static int read_args(JSValue *out)
{
    uint64_t len;
    char *buf;
    JSValue args;

    ol_input(OL_REG);
    len = ol_register_len(OL_REG);
    if (len == UINT64_MAX)
        len = 0;
    if (len > 0x7fffffff) {
        report_str(OL_ERR_INVALID_ARGUMENTS, "arguments are too large");
        return -1;
    }
    if (len == 0) {
        *out = JS_NewObject(ctx);
        if (JS_IsException(*out)) {
            report_pending_exception(OL_ERR_MEMORY_LIMIT_EXCEEDED, NULL);
            return -1;
        }
        return 0;
    }
    buf = js_malloc(ctx, (size_t)len + 1); /* JS_ParseJSON wants a NUL after the text */
    if (!buf) {
        report_pending_exception(OL_ERR_MEMORY_LIMIT_EXCEEDED, NULL);
        return -1;
    }
    ol_read_register(OL_REG, OL_PTR(buf));
    buf[len] = '\0';
    args = JS_ParseJSON(ctx, buf, (size_t)len, "<arguments>");
    js_free(ctx, buf);
    if (JS_IsException(args)) {
        JSValue exc = JS_GetException(ctx);
        ol_buf b;
        if (is_oom_exception(exc)) {
            report_exception(OL_ERR_MEMORY_LIMIT_EXCEEDED, "parsing the arguments: ", exc);
            return -1;
        }
        ol_buf_init(&b, ctx);
        ol_buf_puts(&b, "arguments are not valid JSON: ");
        put_error_head(&b, exc);
        JS_FreeValue(ctx, exc);
        report_buf(OL_ERR_INVALID_ARGUMENTS, &b, "arguments that are not valid JSON");
        return -1;
    }
    if (!JS_IsObject(args) || JS_IsArray(args)) {
        const char *what = JS_IsArray(args)      ? "an array"
                           : JS_IsNull(args)     ? "null"
                           : JS_IsString(args)   ? "a string"
                           : JS_IsBool(args)     ? "a boolean"
                                                 : "a number";
        ol_buf b;
        ol_buf_init(&b, ctx);
        ol_buf_puts(&b, "arguments must be a JSON object, got ");
        ol_buf_puts(&b, what);
        JS_FreeValue(ctx, args);
        report_buf(OL_ERR_INVALID_ARGUMENTS, &b, "arguments that are not a JSON object");
        return -1;
    }
    *out = args;
    return 0;
}

static const char *type_name(JSValueConst v)
{
    if (JS_IsUndefined(v))
        return "undefined";
    if (JS_IsFunction(ctx, v))
        return "function";
    if (JS_IsSymbol(v))
        return "symbol";
    if (JS_IsBigInt(v))
        return "bigint";
    if (JS_IsString(v))
        return "string";
    if (JS_IsNumber(v))
        return "number";
    if (JS_IsBool(v))
        return "boolean";
    if (JS_IsNull(v))
        return "null";
    return "object";
}

/* value_return(JSON.stringify(result)); nothing for undefined. */
static int return_result(JSValue result, const char *method, size_t method_len)
{
    JSValue json;
    const char *text;
    size_t len;

    if (JS_IsUndefined(result))
        return 0;
    json = JS_JSONStringify(ctx, result, JS_UNDEFINED, JS_UNDEFINED);
    if (JS_IsException(json) || JS_IsUndefined(json)) {
        JSValue exc = JS_IsException(json) ? JS_GetException(ctx) : JS_UNDEFINED;
        ol_buf b;
        if (is_oom_exception(exc)) {
            report_exception(OL_ERR_MEMORY_LIMIT_EXCEEDED, "serializing the return value: ",
                             exc);
            return -1;
        }
        ol_buf_init(&b, ctx);
        ol_buf_puts(&b, "the return value of '");
        ol_buf_put(&b, method, method_len);
        ol_buf_puts(&b, "' is not JSON-serializable: ");
        ol_buf_puts(&b, type_name(result));
        if (!JS_IsUndefined(exc)) {
            ol_buf_puts(&b, " (");
            put_error_head(&b, exc);
            ol_buf_puts(&b, ")");
        }
        JS_FreeValue(ctx, exc);
        report_buf(OL_ERR_RESULT_NOT_SERIALIZABLE, &b, "a return value that is not serializable");
        return -1;
    }
    text = JS_ToCStringLen(ctx, &len, json);
    JS_FreeValue(ctx, json);
    if (!text) {
        report_pending_exception(OL_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    ol_value_return(len, OL_PTR(text));
    JS_FreeCString(ctx, text);
    return 0;
}

static int32_t end_part(JSValue result, const char *name, size_t name_len);

OL_EXPORT("ol_call") int32_t ol_call(uint32_t name_ptr, uint32_t name_len)
{
    const char *name = (const char *)(uintptr_t)name_ptr;
    JSAtom atom;
    JSValue fn, args, result;

    if (!loaded) {
        report_str(OL_ERR_INTERNAL_ERROR, "ol_call before a successful ol_load");
        return 1;
    }
    JS_UpdateStackTop(rt);
    oom_rearm();
    if (read_args(&args) < 0)
        return 2;
    atom = JS_NewAtomLen(ctx, name, name_len);
    if (atom == JS_ATOM_NULL) {
        JS_FreeValue(ctx, args);
        report_pending_exception(OL_ERR_INTERNAL_ERROR, "method name: ");
        return 1;
    }
    fn = JS_GetProperty(ctx, module_ns, atom);
    JS_FreeAtom(ctx, atom);
    if (JS_IsException(fn)) { /* an export read before its initialization */
        JS_FreeValue(ctx, args);
        report_pending_exception(OL_ERR_JSEXCEPTION, NULL);
        return 3;
    }
    if (!JS_IsFunction(ctx, fn)) {
        JS_FreeValue(ctx, fn);
        JS_FreeValue(ctx, args);
        report_method_not_found();
        return 4;
    }
    result = JS_Call(ctx, fn, JS_UNDEFINED, 1, (JSValueConst *)&args);
    JS_FreeValue(ctx, fn);
    JS_FreeValue(ctx, args);
    if (JS_IsException(result)) {
        report_pending_exception(OL_ERR_JSEXCEPTION, NULL);
        return 5;
    }
    return end_part(result, name, name_len);
}

/*
 * The end of ol_call and of ol_resume: drain the jobs; then, while NEAR promises are
 * awaited, suspend (guest/suspend.c: returns OL_CALL_SUSPENDED, the host keeps the
 * memory); else settle the method's promise and return its value. Takes `result`.
 */
static int32_t end_part(JSValue result, const char *name, size_t name_len)
{
    int rc;

    /* jobs run even for a synchronous method: promises it started must finish in-call */
    if (run_jobs() < 0) {
        JS_FreeValue(ctx, result);
        report_pending_exception(OL_ERR_JSEXCEPTION, NULL);
        return 5;
    }
    if (ol_await_pending() && JS_PromiseState(ctx, result) != JS_PROMISE_REJECTED) {
        if (ol_suspend(ctx, result, name, name_len) < 0) {
            report_pending_exception(OL_ERR_JSEXCEPTION, NULL);
            return 8;
        }
        return OL_CALL_SUSPENDED;
    }
    {
        /* "method 'name'" for the unsettled-promise message */
        ol_buf what;
        ol_buf_init(&what, ctx);
        ol_buf_puts(&what, "method '");
        ol_buf_put(&what, name, name_len);
        ol_buf_puts(&what, "'");
        rc = settle(&result, what.data && !what.failed ? what.data : "the method");
        ol_buf_free(&what);
    }
    if (rc < 0)
        return 6;
    /* a NearPromise returned: promise_return (or, made before an await, its value) */
    if (ol_np_unwrap_result(ctx, &result) < 0) {
        report_pending_exception(OL_ERR_JSEXCEPTION, NULL);
        return 7;
    }
    rc = return_result(result, name, name_len);
    JS_FreeValue(ctx, result);
    return rc < 0 ? 7 : 0;
}

/*
 * Continue a call suspended at an await, in its `__ol_resume` receipt: the host restored
 * the suspended memory; the receipt's promise results are the awaited promises' results.
 */
OL_EXPORT("ol_resume") int32_t ol_resume(void)
{
    JSValue result;
    const char *name;
    size_t name_len;

    JS_UpdateStackTop(rt);
    oom_rearm();
    if (ol_resume_deliver(ctx, &result, &name, &name_len) < 0) {
        report_pending_exception(OL_ERR_INTERNAL_ERROR, "resuming after an await: ");
        return 1;
    }
    return end_part(result, name, name_len);
}
