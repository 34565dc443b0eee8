"""Per-contract snapshots as page deltas over the boot snapshot.

A contract's module is evaluated once, at deploy, in an instance of the boot snapshot;
what that changed — the 4 KiB pages of memory that differ, the memory size, the mutable
globals (the shadow stack pointer, the heap end) — is the contract's snapshot. A call
instantiates the boot snapshot (a copy-on-write image, ~20 µs) and writes those pages back
instead of compiling a module per contract: a full pre-initialized module per contract
would cost ~1.4 s of compilation and ~9 MB of disk for every distinct contract, for
~50 µs less per call.

Writing a page costs a page fault (~2.5 µs here; the copy itself is noise), so the guest
is laid out to keep deltas small: the contract compartments are made in the boot
snapshot, the heap packs new blocks together in fresh memory (guest/ol_heap.c) and the
boot atoms are not reference counted (guest/patches/quickjs-pin-atoms.patch). The
counter's delta is 19 pages (76 KB), nft.js's 46.
"""

from __future__ import annotations

import ctypes
import hashlib
import struct
from dataclasses import dataclass

import wasmtime

from outlayer.host import fastcall
from outlayer.host.snapshot import GLOBAL_EXPORT_PREFIX, _global_bits

PAGE = 4096
_WASM_PAGE = 65536
DELTA_FORMAT = 1


@dataclass(frozen=True)
class Delta:
    memory_size: int  # bytes, a multiple of 64 KiB
    chunks: tuple[tuple[int, bytes], ...]  # (offset, bytes): page-aligned, ascending
    globals: tuple[tuple[str, int, int], ...]  # (export name, value type byte, raw bits)

    @property
    def data_bytes(self) -> int:
        return sum(len(c) for _, c in self.chunks)

    def encode(self) -> bytes:
        out = [struct.pack("<IQII", DELTA_FORMAT, self.memory_size, len(self.chunks),
                           len(self.globals))]
        for name, kind, bits in self.globals:
            raw = name.encode()
            out.append(struct.pack("<HBQ", len(raw), kind, bits) + raw)
        for off, data in self.chunks:
            out.append(struct.pack("<QQ", off, len(data)) + data)
        return b"".join(out)

    @classmethod
    def decode(cls, blob: bytes) -> Delta:
        fmt, size, n_chunks, n_globals = struct.unpack_from("<IQII", blob, 0)
        if fmt != DELTA_FORMAT:
            raise ValueError(f"delta format {fmt}, expected {DELTA_FORMAT}")
        pos = struct.calcsize("<IQII")
        globals_ = []
        for _ in range(n_globals):
            n, kind, bits = struct.unpack_from("<HBQ", blob, pos)
            pos += struct.calcsize("<HBQ")
            globals_.append((blob[pos:pos + n].decode(), kind, bits))
            pos += n
        chunks = []
        for _ in range(n_chunks):
            off, n = struct.unpack_from("<QQ", blob, pos)
            pos += 16
            chunks.append((off, blob[pos:pos + n]))
            pos += n
        return cls(size, tuple(chunks), tuple(globals_))

    def digest(self) -> str:
        return hashlib.sha256(self.encode()).hexdigest()


def diff_pages(base: bytes, after: bytes) -> tuple[tuple[int, bytes], ...]:
    """The 4 KiB pages of `after` that differ from `base` (zeros past its end), merged."""
    chunks: list[tuple[int, bytes]] = []
    start = -1
    zero = bytes(PAGE)
    for off in range(0, len(after), PAGE):
        old = base[off:off + PAGE] if off < len(base) else zero
        if len(old) < PAGE:
            old = old + bytes(PAGE - len(old))
        changed = after[off:off + PAGE] != old
        if changed and start < 0:
            start = off
        elif not changed and start >= 0:
            chunks.append((start, after[start:off]))
            start = -1
    if start >= 0:
        chunks.append((start, after[start:]))
    return tuple(chunks)


def mutable_globals(store: wasmtime.Store, exports: wasmtime.InstanceExports
                    ) -> tuple[tuple[str, int, int], ...]:
    out = []
    for name, item in exports.items():
        if name.startswith(GLOBAL_EXPORT_PREFIX) and isinstance(item, wasmtime.Global):
            if item.type(store).mutable:
                bits = _global_bits(store, item)
                if bits is not None:
                    out.append((name, *bits))
    return tuple(sorted(out))


def capture_delta(store: wasmtime.Store, exports: wasmtime.InstanceExports, memory: wasmtime.Memory,
                  base_memory: bytes, base_globals: tuple[tuple[str, int, int], ...]) -> Delta:
    from outlayer.host.snapshot import memory_bytes

    after = memory_bytes(store, memory)
    globals_ = tuple(g for g in mutable_globals(store, exports) if g not in set(base_globals))
    return Delta(len(after), diff_pages(base_memory, after), globals_)


_I32, _I64 = 0x7F, 0x7E


def apply_delta(store: wasmtime.Store, exports: wasmtime.InstanceExports,
                memory: wasmtime.Memory, delta: Delta) -> None:
    """Bring a fresh boot-snapshot instance to the state the delta was captured in."""
    ctx = fastcall.context_ptr(store)
    addr = ctypes.addressof(memory._memory)
    size = int(fastcall.memory_data_size(ctx, addr))
    if delta.memory_size > size:
        memory.grow(store, (delta.memory_size - size) // _WASM_PAGE)
    base = fastcall.memory_data(ctx, addr)
    for off, data in delta.chunks:
        fastcall.memmove(base + off, data, len(data))
    for name, kind, bits in delta.globals:
        glob = exports[name]
        assert isinstance(glob, wasmtime.Global)
        if kind == _I32:
            value = bits - (1 << 32) if bits >= 1 << 31 else bits
            glob.set_value(store, wasmtime.Val.i32(value))
        elif kind == _I64:
            value = bits - (1 << 64) if bits >= 1 << 63 else bits
            glob.set_value(store, wasmtime.Val.i64(value))
        else:
            raise ValueError(f"global {name}: value type {kind:#x} not supported in deltas")
