"""A small wasm binary reader/writer, at the section level, for the snapshot rewriter.

Only what a Wizer-style snapshot has to touch is decoded (imports, memories, globals,
exports, data); every other section is kept as the exact bytes it was read from, and an
untouched section is written back with its original size encoding, so parse -> write is
byte-identical even for producers that pad their LEB128s. No third-party wasm library:
the subset is small and its bytes must stay under our control (snapshots are hashed).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"\0asm"
VERSION = b"\x01\0\0\0"

CUSTOM, TYPE, IMPORT, FUNCTION, TABLE, MEMORY, GLOBAL, EXPORT, START, ELEMENT, CODE, DATA, \
    DATACOUNT, TAG = range(14)

#: export / import kinds
FUNC_KIND, TABLE_KIND, MEMORY_KIND, GLOBAL_KIND, TAG_KIND = range(5)

I32, I64, F32, F64, V128 = 0x7F, 0x7E, 0x7D, 0x7C, 0x7B
VALTYPE_NAMES = {I32: "i32", I64: "i64", F32: "f32", F64: "f64", V128: "v128"}

_END = 0x0B


class WasmFormatError(ValueError):
    """The bytes are not a wasm module this reader understands."""


# ------------------------------------------------------------------------------ LEB128


def read_u(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Unsigned LEB128 at `pos` -> (value, next position)."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WasmFormatError("truncated LEB128")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def read_s(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """Signed LEB128 at `pos` -> (value, next position)."""
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WasmFormatError("truncated LEB128")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte & 0x40:
                result -= 1 << shift
            return result, pos


def u(value: int) -> bytes:
    """Unsigned LEB128, minimal encoding."""
    if value < 0:
        raise ValueError("unsigned LEB128 of a negative number")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def s(value: int) -> bytes:
    """Signed LEB128, minimal encoding."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def name(text: str) -> bytes:
    raw = text.encode()
    return u(len(raw)) + raw


def _read_name(data: bytes, pos: int) -> tuple[str, int]:
    n, pos = read_u(data, pos)
    return data[pos:pos + n].decode(), pos + n


def vec(items: list[bytes]) -> bytes:
    return u(len(items)) + b"".join(items)


# ----------------------------------------------------------------------------- sections


@dataclass
class Section:
    """One section: its id and payload; `size_bytes` keeps the original size encoding."""

    id: int
    payload: bytes
    size_bytes: bytes | None = None  # None once the payload has been replaced

    def encode(self) -> bytes:
        size = self.size_bytes if self.size_bytes is not None else u(len(self.payload))
        return bytes([self.id]) + size + self.payload

    @property
    def custom_name(self) -> str | None:
        if self.id != CUSTOM:
            return None
        return _read_name(self.payload, 0)[0]


@dataclass
class Module:
    sections: list[Section]

    def find(self, section_id: int) -> Section | None:
        for sec in self.sections:
            if sec.id == section_id:
                return sec
        return None

    def replace(self, section_id: int, payload: bytes | None) -> None:
        """Set a known section's payload, inserting it in canonical order, or drop it."""
        for i, sec in enumerate(self.sections):
            if sec.id == section_id:
                if payload is None:
                    del self.sections[i]
                elif payload != sec.payload:
                    self.sections[i] = Section(section_id, payload)
                return
        if payload is None:
            return
        rank = _ORDER[section_id]
        at = len(self.sections)
        for i, sec in enumerate(self.sections):
            if sec.id != CUSTOM and _ORDER[sec.id] > rank:
                at = i
                break
        self.sections.insert(at, Section(section_id, payload))

    def encode(self) -> bytes:
        return MAGIC + VERSION + b"".join(sec.encode() for sec in self.sections)


#: the binary format's section order (datacount sits between element and code, tag
#: between memory and global)
_ORDER = {TYPE: 1, IMPORT: 2, FUNCTION: 3, TABLE: 4, MEMORY: 5, TAG: 6, GLOBAL: 7, EXPORT: 8,
          START: 9, ELEMENT: 10, DATACOUNT: 11, CODE: 12, DATA: 13}


def parse(data: bytes) -> Module:
    if data[:4] != MAGIC or data[4:8] != VERSION:
        raise WasmFormatError("not a core wasm module (magic or version)")
    sections = []
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, body = read_u(data, pos + 1)
        end = body + size
        if end > len(data):
            raise WasmFormatError(f"section {sid} runs past the end of the module")
        sections.append(Section(sid, data[body:end], data[pos + 1:body]))
        pos = end
    return Module(sections)


# ---------------------------------------------------------------------- decoded entries


@dataclass(frozen=True)
class Limits:
    flags: int
    minimum: int
    maximum: int | None
    page_size_log2: int | None = None

    def encode(self) -> bytes:
        out = bytes([self.flags]) + u(self.minimum)
        if self.maximum is not None:
            out += u(self.maximum)
        if self.page_size_log2 is not None:
            out += u(self.page_size_log2)
        return out


def _read_limits(data: bytes, pos: int) -> tuple[Limits, int]:
    flags = data[pos]
    minimum, pos = read_u(data, pos + 1)
    maximum = None
    if flags & 0x01:
        maximum, pos = read_u(data, pos)
    page = None
    if flags & 0x08:  # custom-page-sizes proposal
        page, pos = read_u(data, pos)
    return Limits(flags, minimum, maximum, page), pos


def _skip_reftype(data: bytes, pos: int) -> int:
    b = data[pos]
    if b in (0x63, 0x64):  # (ref null? ht) from the GC / function-references proposals
        return read_s(data, pos + 1)[1]
    return pos + 1


def _skip_table_type(data: bytes, pos: int) -> int:
    pos = _skip_reftype(data, pos)
    return _read_limits(data, pos)[1]


@dataclass(frozen=True)
class Import:
    module: str
    field: str
    kind: int
    raw_desc: bytes


def imports(mod: Module) -> list[Import]:
    sec = mod.find(IMPORT)
    if sec is None:
        return []
    data = sec.payload
    count, pos = read_u(data, 0)
    out = []
    for _ in range(count):
        module, pos = _read_name(data, pos)
        field, pos = _read_name(data, pos)
        kind = data[pos]
        start = pos + 1
        if kind in (FUNC_KIND, TAG_KIND):
            if kind == TAG_KIND:
                start += 1  # attribute byte
            end = read_u(data, start)[1]
        elif kind == TABLE_KIND:
            end = _skip_table_type(data, start)
        elif kind == MEMORY_KIND:
            end = _read_limits(data, start)[1]
        elif kind == GLOBAL_KIND:
            end = _skip_reftype(data, start) + 1
        else:
            raise WasmFormatError(f"unknown import kind {kind}")
        out.append(Import(module, field, kind, data[pos + 1:end]))
        pos = end
    return out


def imported_count(mod: Module, kind: int) -> int:
    return sum(1 for imp in imports(mod) if imp.kind == kind)


def memories(mod: Module) -> list[Limits]:
    sec = mod.find(MEMORY)
    if sec is None:
        return []
    count, pos = read_u(sec.payload, 0)
    out = []
    for _ in range(count):
        lim, pos = _read_limits(sec.payload, pos)
        out.append(lim)
    return out


def encode_memories(limits: list[Limits]) -> bytes:
    return vec([lim.encode() for lim in limits])


def _const_expr_end(data: bytes, pos: int) -> int:
    """Position just past the `end` of a constant expression starting at `pos`."""
    while True:
        op = data[pos]
        pos += 1
        if op == _END:
            return pos
        if op in (0x41, 0x42):  # i32.const / i64.const
            pos = read_s(data, pos)[1]
        elif op == 0x43:
            pos += 4
        elif op == 0x44:
            pos += 8
        elif op in (0x23, 0xD2):  # global.get / ref.func
            pos = read_u(data, pos)[1]
        elif op == 0xD0:  # ref.null heaptype
            pos = read_s(data, pos)[1]
        elif op in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):  # extended-const arithmetic
            pass
        elif op == 0xFD:  # v128.const
            sub, pos = read_u(data, pos)
            if sub != 12:
                raise WasmFormatError(f"SIMD opcode {sub} in a constant expression")
            pos += 16
        else:
            raise WasmFormatError(f"opcode 0x{op:02x} in a constant expression")


@dataclass(frozen=True)
class Global:
    valtype: bytes  # encoded value type (one byte for the numeric types)
    mutable: bool
    init: bytes  # the constant expression, `end` included


def globals_(mod: Module) -> list[Global]:
    sec = mod.find(GLOBAL)
    if sec is None:
        return []
    data = sec.payload
    count, pos = read_u(data, 0)
    out = []
    for _ in range(count):
        vt_end = _skip_reftype(data, pos)
        valtype = data[pos:vt_end]
        mut = data[vt_end]
        if mut not in (0, 1):
            raise WasmFormatError(f"bad global mutability {mut}")
        end = _const_expr_end(data, vt_end + 1)
        out.append(Global(valtype, bool(mut), data[vt_end + 1:end]))
        pos = end
    return out


def encode_globals(items: list[Global]) -> bytes:
    return vec([g.valtype + bytes([int(g.mutable)]) + g.init for g in items])


def const_expr(valtype: int, bits: int) -> bytes:
    """`<type>.const` of a value given by its bit pattern (floats keep NaN payloads)."""
    if valtype == I32:
        return b"\x41" + s(bits - (1 << 32) if bits >= 1 << 31 else bits) + bytes([_END])
    if valtype == I64:
        return b"\x42" + s(bits - (1 << 64) if bits >= 1 << 63 else bits) + bytes([_END])
    if valtype == F32:
        return b"\x43" + struct.pack("<I", bits) + bytes([_END])
    if valtype == F64:
        return b"\x44" + struct.pack("<Q", bits) + bytes([_END])
    raise WasmFormatError(f"no constant form for value type 0x{valtype:02x}")


@dataclass(frozen=True)
class Export:
    name: str
    kind: int
    index: int


def exports(mod: Module) -> list[Export]:
    sec = mod.find(EXPORT)
    if sec is None:
        return []
    data = sec.payload
    count, pos = read_u(data, 0)
    out = []
    for _ in range(count):
        field, pos = _read_name(data, pos)
        kind = data[pos]
        index, pos = read_u(data, pos + 1)
        out.append(Export(field, kind, index))
    return out


def encode_exports(items: list[Export]) -> bytes:
    return vec([name(e.name) + bytes([e.kind]) + u(e.index) for e in items])


@dataclass(frozen=True)
class DataSegment:
    """Active (memory index + offset expression) or passive (`memory` None)."""

    memory: int | None
    offset: bytes | None  # constant expression, `end` included
    data: bytes

    def encode(self) -> bytes:
        if self.memory is None:
            return b"\x01" + u(len(self.data)) + self.data
        head = b"\x00" if self.memory == 0 else b"\x02" + u(self.memory)
        assert self.offset is not None
        return head + self.offset + u(len(self.data)) + self.data

    def const_offset(self) -> int | None:
        """The offset when it is a plain `i32.const` (else None)."""
        if self.offset is None or self.offset[0] != 0x41:
            return None
        value, end = read_s(self.offset, 1)
        if self.offset[end:] != bytes([_END]):
            return None
        return value & 0xFFFFFFFF


def data_segments(mod: Module) -> list[DataSegment]:
    sec = mod.find(DATA)
    if sec is None:
        return []
    data = sec.payload
    count, pos = read_u(data, 0)
    out = []
    for _ in range(count):
        flag, pos = read_u(data, pos)
        memory: int | None = 0
        offset: bytes | None = None
        if flag == 1:
            memory = None
        else:
            if flag == 2:
                memory, pos = read_u(data, pos)
            elif flag != 0:
                raise WasmFormatError(f"unknown data segment flag {flag}")
            end = _const_expr_end(data, pos)
            offset, pos = data[pos:end], end
        n, pos = read_u(data, pos)
        out.append(DataSegment(memory, offset, data[pos:pos + n]))
        pos += n
    return out


def encode_data(segments: list[DataSegment]) -> bytes:
    return vec([seg.encode() for seg in segments])


def i32_offset(offset: int) -> bytes:
    return const_expr(I32, offset)


# ----------------------------------------------- types, functions, tables, locals (counts)


@dataclass(frozen=True)
class FuncType:
    params: tuple[str, ...]  # value type names ("i32", "i64", ...)
    results: tuple[str, ...]


def _valtype_name(byte: int) -> str:
    name_ = VALTYPE_NAMES.get(byte)
    if name_ is None:
        raise WasmFormatError(f"unsupported value type 0x{byte:02x} in a function type")
    return name_


def func_types(mod: Module) -> list[FuncType]:
    """The type section's function types (the plain 0x60 form; GC type forms are refused)."""
    sec = mod.find(TYPE)
    if sec is None:
        return []
    data = sec.payload
    count, pos = read_u(data, 0)
    out = []
    for _ in range(count):
        if data[pos] != 0x60:
            raise WasmFormatError(f"unsupported type form 0x{data[pos]:02x}")
        sig: list[tuple[str, ...]] = []
        pos += 1
        for _part in range(2):
            n, pos = read_u(data, pos)
            sig.append(tuple(_valtype_name(b) for b in data[pos:pos + n]))
            pos += n
        out.append(FuncType(sig[0], sig[1]))
    return out


def section_count(mod: Module, section_id: int) -> int:
    """The entry count a vector section starts with (0 when the section is absent)."""
    sec = mod.find(section_id)
    return 0 if sec is None else read_u(sec.payload, 0)[0]


def local_counts(mod: Module) -> list[int]:
    """Locals declared by each function body (parameters not included)."""
    sec = mod.find(CODE)
    if sec is None:
        return []
    data = sec.payload
    count, pos = read_u(data, 0)
    out = []
    for _ in range(count):
        size, body = read_u(data, pos)
        groups, at = read_u(data, body)
        total = 0
        for _group in range(groups):
            n, at = read_u(data, at)
            total += n
            at = _skip_reftype(data, at)
        out.append(total)
        pos = body + size
    return out


def encode_import(imp: Import) -> bytes:
    return name(imp.module) + name(imp.field) + bytes([imp.kind]) + imp.raw_desc
