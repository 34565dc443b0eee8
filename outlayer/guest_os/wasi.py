"""OutLayer's own WASI preview1: every answer comes from the call, nothing from the host.

wasmtime-py's WasiConfig cannot fix the clock or the entropy, so these functions replace
it: the clock is the block timestamp, random bytes derive from the block's random seed,
args and environment are fixed, stdout/stderr are captured, and there is no filesystem.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import wasmtime

from outlayer.guest_os import session as _session
from outlayer.host import fastcall

MODULE = "wasi_snapshot_preview1"

ESUCCESS, EBADF, EINVAL, ENOSYS, ENOTSUP, ESPIPE, ENOTCAPABLE = 0, 8, 28, 52, 58, 70, 76
#: what the guest sees as argv and environ: fixed, never the host's
ARGS: tuple[bytes, ...] = (b"outlayer",)
ENV: tuple[bytes, ...] = ()
_CHAR_DEVICE = 2
_ALL_RIGHTS = (1 << 29) - 1


class GuestExit(Exception):
    """The guest called proc_exit: a bridge fault, never a normal end of a call."""


def _strings(ptrs: int, buf: int, items: tuple[bytes, ...]) -> int:
    m = _session.current().memory
    for i, item in enumerate(items):
        m.write(ptrs + 4 * i, struct.pack("<I", buf))
        m.write(buf, item + b"\0")
        buf += len(item) + 1
    return ESUCCESS


def _sizes(count_ptr: int, size_ptr: int, items: tuple[bytes, ...]) -> int:
    m = _session.current().memory
    m.write(count_ptr, struct.pack("<I", len(items)))
    m.write(size_ptr, struct.pack("<I", sum(len(i) + 1 for i in items)))
    return ESUCCESS


def args_get(argv: int, buf: int) -> int:
    return _strings(argv, buf, ARGS)


def args_sizes_get(count_ptr: int, size_ptr: int) -> int:
    return _sizes(count_ptr, size_ptr, ARGS)


def environ_get(env: int, buf: int) -> int:
    return _strings(env, buf, ENV)


def environ_sizes_get(count_ptr: int, size_ptr: int) -> int:
    return _sizes(count_ptr, size_ptr, ENV)


def clock_res_get(clock_id: int, res_ptr: int) -> int:
    if clock_id > 3:
        return EINVAL
    _session.current().memory.write(res_ptr, struct.pack("<Q", 1))
    return ESUCCESS


def clock_time_get(clock_id: int, precision: int, time_ptr: int) -> int:
    """Every clock reads the block timestamp; it does not move during a call."""
    if clock_id > 3:
        return EINVAL
    s = _session.current()
    s.memory.write(time_ptr, struct.pack("<Q", s.clock_ns))
    return ESUCCESS


def random_get(buf: int, length: int) -> int:
    s = _session.current()
    s.memory.write(buf, s.random_bytes(length))
    return ESUCCESS


def fd_write(fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
    if fd not in (1, 2):
        return EBADF
    s = _session.current()
    m = s.memory
    total = 0
    for i in range(iovs_len):
        ptr, length = struct.unpack("<II", m.read(iovs + 8 * i, 8))
        s.stdout += m.read(ptr, length)
        total += length
    m.write(nwritten_ptr, struct.pack("<I", total))
    _flush_lines(s)
    return ESUCCESS


def _flush_lines(s: _session.Session) -> None:
    """Each complete stdout/stderr line becomes a NEAR log, priced and limited as one."""
    if b"\n" not in s.stdout:
        return
    *lines, rest = bytes(s.stdout).split(b"\n")
    s.stdout = bytearray(rest)
    if s.metered:
        s.logic.gas.sync_fuel(s.fuel.get_fuel())
    for line in lines:
        s.logic.log_text(line.decode("utf-8", errors="replace"))
    if s.metered:
        s.fuel.set_fuel(s.logic.gas.remaining_fuel())


def fd_read(fd: int, iovs: int, iovs_len: int, nread_ptr: int) -> int:
    if fd != 0:
        return EBADF
    _session.current().memory.write(nread_ptr, struct.pack("<I", 0))  # stdin is empty
    return ESUCCESS


def fd_fdstat_get(fd: int, ptr: int) -> int:
    if fd not in (0, 1, 2):
        return EBADF
    stat = struct.pack("<BxHxxxxQQ", _CHAR_DEVICE, 0, _ALL_RIGHTS, _ALL_RIGHTS)
    _session.current().memory.write(ptr, stat)
    return ESUCCESS


def fd_fdstat_set_flags(fd: int, flags: int) -> int:
    return ESUCCESS if fd in (0, 1, 2) else EBADF


def fd_close(fd: int) -> int:
    return ESUCCESS if fd in (0, 1, 2) else EBADF


def fd_seek(fd: int, offset: int, whence: int, newoffset_ptr: int) -> int:
    return ESPIPE if fd in (0, 1, 2) else EBADF


def fd_prestat_get(fd: int, ptr: int) -> int:
    return EBADF  # no preopened directories: the guest has no filesystem


def fd_prestat_dir_name(fd: int, ptr: int, length: int) -> int:
    return EBADF


def path_open(*_args: int) -> int:
    return ENOTCAPABLE


def poll_oneoff(*_args: int) -> int:
    return ENOTSUP


def sched_yield() -> int:
    return ESUCCESS


def proc_exit(code: int) -> int:
    raise GuestExit(f"guest called proc_exit({code})")


#: name -> (param types, implementation); every function returns an i32 errno
FUNCTIONS: dict[str, tuple[tuple[str, ...], Callable[..., int]]] = {
    "args_get": (("i32", "i32"), args_get),
    "args_sizes_get": (("i32", "i32"), args_sizes_get),
    "environ_get": (("i32", "i32"), environ_get),
    "environ_sizes_get": (("i32", "i32"), environ_sizes_get),
    "clock_res_get": (("i32", "i32"), clock_res_get),
    "clock_time_get": (("i32", "i64", "i32"), clock_time_get),
    "random_get": (("i32", "i32"), random_get),
    "fd_write": (("i32", "i32", "i32", "i32"), fd_write),
    "fd_read": (("i32", "i32", "i32", "i32"), fd_read),
    "fd_fdstat_get": (("i32", "i32"), fd_fdstat_get),
    "fd_fdstat_set_flags": (("i32", "i32"), fd_fdstat_set_flags),
    "fd_close": (("i32",), fd_close),
    "fd_seek": (("i32", "i64", "i32", "i32"), fd_seek),
    "fd_prestat_get": (("i32", "i32"), fd_prestat_get),
    "fd_prestat_dir_name": (("i32", "i32", "i32"), fd_prestat_dir_name),
    "path_open": (("i32", "i32", "i32", "i32", "i32", "i64", "i64", "i32", "i32"), path_open),
    "poll_oneoff": (("i32", "i32", "i32", "i32"), poll_oneoff),
    "sched_yield": ((), sched_yield),
    "proc_exit": (("i32",), proc_exit),
}


def _make_callback(params: tuple[str, ...], impl: Callable[..., int]
                   ) -> Callable[[int | None, int | None, int, int], int]:
    read_args = fastcall.arg_reader(params)

    def callback(env: int | None, caller: int | None, args: int, nargs: int) -> int:
        try:
            errno = impl(*read_args(args))
            fastcall._c.c_int32.from_address(args).value = errno
            return 0
        except BaseException as exc:  # noqa: BLE001 - every failure must become a trap
            _session.current().error = exc
            return fastcall.new_trap(f"outlayer wasi: {type(exc).__name__}")

    return callback


def define_wasi(linker: wasmtime.Linker) -> None:
    for name, (params, impl) in FUNCTIONS.items():
        fastcall.define(linker, MODULE, name, params, ["i32"], _make_callback(params, impl))
