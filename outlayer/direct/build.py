"""Build C sources into NEAR wasm contracts with zig cc (the ziglang package), cached.

The `env` imports come from a header generated from the one syscall table
(`outlayer.syscalls.ENV`), so C contracts call NEAR's host functions by NEAR's names:
``#include "near_env.h"``. Output is wasm32 with the MVP feature set (what nearcore's
validator accepts in every protocol version), no libc, no WASI imports.

    python -m outlayer.direct.build examples/direct/counter.c -o counter.wasm
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

from outlayer.host.engine import cache_root
from outlayer.syscalls import ENV

HEADER_NAME = "near_env.h"
ZIG_VERSION = importlib.metadata.version("ziglang")
CFLAGS = ("-target", "wasm32-freestanding", "-mcpu=mvp", "-O2", "-nostdlib", "-fno-builtin",
          "-Wall", "-Werror", "-Wl,--no-entry", "-Wl,--strip-all")
_NORETURN = {"panic", "panic_utf8", "abort"}
_C_TYPES = {"u64": "uint64_t", "u32": "uint32_t", None: "void"}


class BuildError(Exception):
    """The C source did not compile; the message carries the compiler's output."""


def env_header() -> str:
    """C prototypes of every NEAR `env` import, plus small helpers for contracts."""
    lines = [
        "/* Generated from outlayer/syscalls.py by outlayer.direct.build. Do not edit. */",
        "#ifndef NEAR_ENV_H", "#define NEAR_ENV_H", "#include <stdint.h>", "#include <stddef.h>",
        "",
        "/* a pointer as the u64 NEAR's host functions take */",
        "#define NEAR_PTR(p) ((uint64_t)(uintptr_t)(p))",
        "/* len == NEAR_REGISTER: read the input from register `ptr` */",
        "#define NEAR_REGISTER UINT64_MAX",
        "/* a contract method: exported, no parameters, no result */",
        '#define NEAR_METHOD(name) __attribute__((export_name(#name))) void name(void)',
        "",
    ]
    for sc in ENV.values():
        ptype = _C_TYPES[sc.param_type]
        params = ", ".join(f"{ptype} {p}" for p in sc.params) or "void"
        noreturn = "__attribute__((noreturn)) " if sc.name in _NORETURN else ""
        lines.append(f'__attribute__((import_module("env"), import_name("{sc.name}"))) '
                     f"{noreturn}{_C_TYPES[sc.result]} {sc.name}({params});")
    lines += [
        "",
        "/* the compiler may emit calls to these even with -fno-builtin (struct copies) */",
        "void *memcpy(void *dst, const void *src, size_t n) {",
        "    unsigned char *d = dst; const unsigned char *s = src;",
        "    while (n--) *d++ = *s++;",
        "    return dst;",
        "}",
        "void *memset(void *dst, int c, size_t n) {",
        "    unsigned char *d = dst;",
        "    while (n--) *d++ = (unsigned char)c;",
        "    return dst;",
        "}",
        "",
        "#endif", "",
    ]
    return "\n".join(lines)


def build_c(source: Path, out: Path | None = None) -> bytes:
    """The wasm of `source` (compiled once per source, header, zig version and flags)."""
    try:
        text = source.read_bytes()
    except OSError as exc:
        raise BuildError(f"cannot read {source}: {exc.strerror}") from None
    header = env_header()
    key = hashlib.sha256("\0".join((header, ZIG_VERSION, " ".join(CFLAGS))).encode()
                         + b"\0" + text).hexdigest()[:32]
    root = cache_root() / "direct"
    wasm = root / "wasm" / f"{key}.wasm"
    if not wasm.exists():
        include = root / "include" / key
        include.mkdir(parents=True, exist_ok=True)
        (include / HEADER_NAME).write_text(header)
        wasm.parent.mkdir(parents=True, exist_ok=True)
        tmp = wasm.with_suffix(f".tmp{os.getpid()}")
        cmd = [sys.executable, "-m", "ziglang", "cc", *CFLAGS, "-I", str(include),
               "-I", str(source.parent.resolve()), "-o", str(tmp), str(source.resolve())]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BuildError(f"zig cc failed for {source}:\n{proc.stderr.strip()}")
        os.replace(tmp, wasm)
    data = wasm.read_bytes()
    if out is not None:
        out.write_bytes(data)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m outlayer.direct.build",
                                     description="Build a C NEAR contract into wasm.")
    parser.add_argument("source", type=Path, nargs="?", help="the C contract")
    parser.add_argument("-o", "--out", type=Path, help="default: SOURCE with .wasm")
    parser.add_argument("--header", action="store_true",
                        help="print the generated near_env.h instead (no SOURCE needed)")
    args = parser.parse_args(argv)
    if args.header:
        sys.stdout.write(env_header())
        return 0
    if args.source is None:
        parser.error("the following arguments are required: source (or --header)")
    out = args.out or args.source.with_suffix(".wasm")
    try:
        data = build_c(args.source, out)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"built {out} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
