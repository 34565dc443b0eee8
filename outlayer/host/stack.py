"""Native stack room for guests: wasm runs on the calling thread's own stack.

wasmtime lets a guest use up to `MAX_WASM_STACK` of the native stack of the thread that
calls into it, and the host functions the guest calls run further down that same stack. A
thread whose stack is smaller than that (e.g. under ``ulimit -s 2048``, or a thread started
after ``threading.stack_size(2 << 20)``) runs off its end before wasmtime's own limit trips:
the process dies by SIGSEGV instead of the call ending in a WasmTrap. So a guest only runs on
a thread with at least `MIN_THREAD_STACK`, and the threads OutLayer starts to run guests on
get `GUEST_THREAD_STACK`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Iterator

from outlayer.errors import UserError
from outlayer.host.engine import MAX_WASM_STACK

#: the least native stack a thread must have to run a guest: the wasm stack and as much
#: again for the host (Python below the guest, the host functions above it); a fresh thread
#: with 2.25 MiB survived a guest that fills its 2 MiB wasm stack, one with 2 MiB did not
MIN_THREAD_STACK = 2 * MAX_WASM_STACK
#: the stack of the threads OutLayer starts to run guests on (the node's chain thread)
GUEST_THREAD_STACK = 4 * MAX_WASM_STACK


class ThreadStackTooSmall(UserError):
    """The calling thread's native stack cannot hold a guest's wasm stack plus the host."""

    kind = "ThreadStackTooSmall"


def _libc() -> ctypes.CDLL | None:
    """The C library with the pthread calls `thread_stack_size` uses, typed."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
    except OSError:
        return None
    ptr = ctypes.c_void_p
    libc.pthread_self.restype = ptr
    if sys.platform == "darwin":
        libc.pthread_get_stacksize_np.restype = ctypes.c_size_t
        libc.pthread_get_stacksize_np.argtypes = [ptr]
    elif hasattr(libc, "pthread_getattr_np"):
        libc.pthread_getattr_np.argtypes = [ptr, ptr]
        libc.pthread_attr_getstack.argtypes = [ptr, ptr, ptr]
        libc.pthread_attr_destroy.argtypes = [ptr]
    else:
        return None
    return libc


_LIBC = _libc()
_checked = threading.local()


def thread_stack_size() -> int | None:
    """The calling thread's native stack size in bytes (None where it cannot be read)."""
    if _LIBC is None:
        return None
    if sys.platform == "darwin":
        return int(_LIBC.pthread_get_stacksize_np(_LIBC.pthread_self()))
    attr = ctypes.create_string_buffer(256)  # pthread_attr_t: 56 bytes on glibc x86-64
    if _LIBC.pthread_getattr_np(_LIBC.pthread_self(), attr) != 0:
        return None
    try:
        addr, size = ctypes.c_void_p(), ctypes.c_size_t()
        if _LIBC.pthread_attr_getstack(attr, ctypes.byref(addr), ctypes.byref(size)) != 0:
            return None
        return size.value
    finally:
        _LIBC.pthread_attr_destroy(attr)


def check_thread_stack() -> None:
    """Refuse to run a guest on a thread whose stack is under MIN_THREAD_STACK: a clear
    error before anything runs, instead of the process dying. Measured once per thread."""
    size = getattr(_checked, "size", False)
    if size is False:
        size = _checked.size = thread_stack_size()
    if size is not None and size < MIN_THREAD_STACK:
        raise ThreadStackTooSmall(
            f"this thread's native stack is {size // 1024} KiB; running a contract needs at "
            f"least {MIN_THREAD_STACK // 1024} KiB (its {MAX_WASM_STACK // 1024} KiB wasm "
            "stack runs on it, with the host below and above): raise `ulimit -s`, or call "
            f"from a thread started after threading.stack_size({GUEST_THREAD_STACK})")


@contextlib.contextmanager
def guest_thread_stack() -> Iterator[None]:
    """Threads started inside get GUEST_THREAD_STACK (the setting is process-wide: it is put
    back on leaving)."""
    previous = threading.stack_size(GUEST_THREAD_STACK)
    try:
        yield
    finally:
        threading.stack_size(previous)
