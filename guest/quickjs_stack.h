/*
 * Force-included (-include) into quickjs.c only, by outlayer/host/guest_build.py.
 *
 * Why: QuickJS-ng guards recursion by comparing __builtin_frame_address(0) with a limit.
 * In wasm that address is the linear-memory ("shadow") stack pointer, which only moves
 * for functions that keep something in linear memory; the native wasm stack, which
 * wasmtime caps with max_wasm_stack, is invisible to the guest. C recursion whose frames
 * live only on the native stack (JSON.parse/JSON.stringify of deeply nested data,
 * bytecode reader/writer, module linking) would therefore never trip the limit and end
 * in a wasm trap instead of a RangeError.
 *
 * The probe below replaces the frame-address read with the address of a small array in
 * the caller's frame. js_get_stack_pointer() is inlined into every function that checks
 * the stack, so each such function now reserves OL_STACK_PROBE_BYTES of shadow stack per
 * activation: the shadow stack grows with the recursion depth of every guarded path, and
 * QuickJS's own check (JS_SetMaxStackSize) bounds the native stack too. The array is
 * fixed-size, so the compiler places it in the frame once (no growth inside loops).
 */
#ifndef OL_QUICKJS_STACK_H
#define OL_QUICKJS_STACK_H

#if defined(__wasm__)
#define OL_STACK_PROBE_BYTES 64
#define __builtin_frame_address(level)                                      \
    ({                                                                     \
        volatile unsigned char ol_stack_probe_[OL_STACK_PROBE_BYTES];      \
        ol_stack_probe_[0] = 0;                                            \
        (void *)ol_stack_probe_;                                           \
    })
#endif

#endif
