"""Thin ctypes access to wasmtime's unchecked host-call path and raw store access.

wasmtime-py's `Linker.define_func` converts every argument through `Val` objects
(~15 µs per call); the unchecked path hands us the raw argument slots (~1 µs). Guest
memory and fuel are read through the C API directly for the same reason.
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Callable, Sequence

import wasmtime
from wasmtime import _ffi as ffi
from wasmtime._extern import wrap_extern

_dll = ffi.dll
_c = ctypes
# `_dll["name"]` returns a fresh function object: setting restype/argtypes on it leaves the
# one wasmtime-py itself uses (`_dll.name`) untouched.

UNCHECKED_CB = _c.CFUNCTYPE(_c.c_size_t, _c.c_void_p, _c.c_void_p, _c.c_void_p, _c.c_size_t)
_FINALIZER = _c.CFUNCTYPE(None, _c.c_void_p)

_define_unchecked = _dll["wasmtime_linker_define_func_unchecked"]
_define_unchecked.restype = _c.c_void_p
_define_unchecked.argtypes = [
    _c.c_void_p, _c.c_char_p, _c.c_size_t, _c.c_char_p, _c.c_size_t, _c.c_void_p,
    UNCHECKED_CB, _c.c_void_p, _c.c_void_p,
]

memory_data = _dll["wasmtime_memory_data"]
memory_data.restype = _c.c_void_p
memory_data.argtypes = [_c.c_void_p, _c.c_void_p]
memory_data_size = _dll["wasmtime_memory_data_size"]
memory_data_size.restype = _c.c_size_t
memory_data_size.argtypes = [_c.c_void_p, _c.c_void_p]

_get_fuel = _dll["wasmtime_context_get_fuel"]
_get_fuel.restype = _c.c_void_p
_get_fuel.argtypes = [_c.c_void_p, _c.POINTER(_c.c_uint64)]
_set_fuel = _dll["wasmtime_context_set_fuel"]
_set_fuel.restype = _c.c_void_p
_set_fuel.argtypes = [_c.c_void_p, _c.c_uint64]

_trap_new = _dll["wasmtime_trap_new"]
_trap_new.restype = _c.c_void_p
_trap_new.argtypes = [_c.c_char_p, _c.c_size_t]

_VALTYPES = {"i32": wasmtime.ValType.i32, "i64": wasmtime.ValType.i64}

#: callbacks must outlive every linker that refers to them
_KEEP: list[object] = []

string_at = _c.string_at
memmove = _c.memmove


def new_trap(message: str) -> int:
    raw = message.encode()
    return int(_trap_new(raw, len(raw)))


def define(linker: wasmtime.Linker, module: str, name: str, params: Sequence[str],
           results: Sequence[str], callback: Callable[[int | None, int | None, int, int], int]
           ) -> None:
    """Define `module.name` on `linker` with an unchecked callback.

    `callback(env, caller, args_ptr, nargs)` reads its arguments from 16-byte raw slots at
    `args_ptr`, writes results into the same slots, and returns 0 or a trap pointer.
    """
    ty = wasmtime.FuncType([_VALTYPES[p]() for p in params], [_VALTYPES[r]() for r in results])
    cb = UNCHECKED_CB(callback)
    _KEEP.append(cb)
    _KEEP.append(ty)
    m, n = module.encode(), name.encode()
    ty_ptr = _c.cast(ty.ptr(), _c.c_void_p)
    err = _define_unchecked(
        _c.cast(linker.ptr(), _c.c_void_p), m, len(m), n, len(n), ty_ptr, cb, None, None
    )
    if err:
        raise wasmtime.WasmtimeError._from_ptr(_c.cast(err, _c.POINTER(ffi.wasmtime_error_t)))


def arg_reader(types: Sequence[str]) -> Callable[[int], tuple[int, ...]]:
    """A function that unpacks the raw argument slots as unsigned integers."""
    if not types:
        return lambda _ptr: ()
    fmt = "<" + "".join("Q8x" if t == "i64" else "I12x" for t in types)
    size = 16 * len(types)
    unpack = struct.Struct(fmt).unpack

    def read(ptr: int) -> tuple[int, ...]:
        return unpack(string_at(ptr, size))

    return read


def context_ptr(store: wasmtime.Store) -> int:
    return int(_c.cast(store._context(), _c.c_void_p).value or 0)


class Fuel:
    """Fuel of one store, read and written without wasmtime-py's wrappers."""

    __slots__ = ("_ctx", "_buf")

    def __init__(self, ctx: int) -> None:
        self._ctx = ctx
        self._buf = _c.c_uint64(0)

    def get_fuel(self) -> int:
        _get_fuel(self._ctx, self._buf)
        return self._buf.value

    def set_fuel(self, fuel: int) -> None:
        _set_fuel(self._ctx, fuel)


_call_unchecked = _dll["wasmtime_func_call_unchecked"]
_call_unchecked.restype = _c.c_void_p
_call_unchecked.argtypes = [_c.c_void_p, _c.c_void_p, _c.c_void_p, _c.c_size_t,
                            _c.POINTER(_c.c_void_p)]
_SLOTS = ffi.wasmtime_val_raw_t * 4


def call_i32(ctx: int, func: wasmtime.Func, *args: int) -> int:
    """Call a guest export of up to 4 i32 params and one i32 result, skipping wasmtime-py's
    per-call type lookup and value conversion (~60 µs per call from Python).

    Traps and errors surface as wasmtime.Trap / WasmtimeError, as through `Func.__call__`.
    """
    slots = _SLOTS()
    for i, arg in enumerate(args):
        slots[i].i32 = arg
    trap = _c.c_void_p()
    err = _call_unchecked(ctx, _c.addressof(func._func), slots, 4, _c.byref(trap))
    if err:
        raise wasmtime.WasmtimeError._from_ptr(_c.cast(err, _c.POINTER(ffi.wasmtime_error_t)))
    if trap.value:
        raise wasmtime.Trap._from_ptr(_c.cast(trap, _c.POINTER(ffi.wasm_trap_t)))
    return int(slots[0].i32)


_export_get = _dll["wasmtime_instance_export_get"]
_export_get.restype = _c.c_bool
_export_get.argtypes = [_c.c_void_p, _c.c_void_p, _c.c_char_p, _c.c_size_t, _c.c_void_p]


class LazyExports:
    """An instance's exports, looked up by name when first asked for.

    wasmtime-py's `Instance.exports()` wraps every export up front; a snapshot module
    exports every global (for the snapshot machinery), and a call needs four of them.
    """

    __slots__ = ("_ctx", "_instance", "_cache")

    def __init__(self, store: wasmtime.Store, instance: wasmtime.Instance) -> None:
        self._ctx = context_ptr(store)
        self._instance = instance
        self._cache: dict[str, object] = {}

    def __getitem__(self, name: str) -> object:
        hit = self._cache.get(name)
        if hit is None:
            item = ffi.wasmtime_extern_t()
            raw = name.encode()
            if not _export_get(self._ctx, _c.addressof(self._instance._instance), raw,
                               len(raw), _c.addressof(item)):
                raise KeyError(name)
            hit = self._cache[name] = wrap_extern(item)
        return hit
