"""Build the QuickJS-ng guest (`outlayer-guest.wasm`) from pinned sources, once per input set.

The guest is L3 of the architecture: QuickJS-ng compiled to a wasm32-wasi reactor plus the
C bridge in `guest/`, which reaches NEAR only through the numbered syscalls of
`outlayer.syscalls`. Everything that shapes the wasm goes into one cache key, so a change
to a bridge source, the syscall table, the compiler or a flag gives a new wasm, and nothing
else ever rebuilds it. Compiled objects are cached on their own (by their own inputs), so
editing the bridge recompiles the bridge and relinks, not QuickJS.

Command: `python -m outlayer.host.guest_build [--force]`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from outlayer.host import wasm_binary as wb
from outlayer.host.engine import MAX_WASM_STACK
from outlayer.syscalls import c_header, check_table

#: pinned QuickJS-ng: the PyPI sdist of the `quickjs-ng` binding carries the upstream C tree.
QUICKJS_PACKAGE = "quickjs-ng"
QUICKJS_VERSION = "0.17.0.2"
QUICKJS_SDIST_SHA256 = "43d2e48272208721a7aaea8e3f02d4b9318f12ef20cc4f5421b59d9a470706ef"
QUICKJS_SDIST_NAME = f"quickjs_ng-{QUICKJS_VERSION}.tar.gz"
#: the QuickJS-ng core: the engine without quickjs-libc (no std/os modules, no host access).
QUICKJS_SOURCES = ("quickjs.c", "libregexp.c", "libunicode.c", "dtoa.c")

#: bump when the recipe changes in a way the flags below do not show.
RECIPE_VERSION = 2

#: Linear-memory ("shadow") stack of the C code. QuickJS keeps its own JS frames on the C
#: stack: every JS->JS call recurses through JS_CallInternal, which puts the callee's locals
#: and operand stack on the shadow stack (alloca) besides C locals whose address is taken.
#: It sits first in linear memory (zig's wasm-ld layout: stack below the data), so running
#: past its end goes below address 0 and traps out of bounds instead of silently corrupting
#: the heap. 1 MiB leaves more than half as headroom above JS_STACK_SIZE; zig's default
#: of 16 MiB would spend a quarter of a 64 MiB guest on stack.
SHADOW_STACK_SIZE = 1024 * 1024
#: QuickJS's own recursion limit (JS_SetMaxStackSize), counted on the shadow stack from the
#: stack pointer at each bridge entry. It must trip before either real stack ends, so deep
#: recursion is a catchable RangeError, never a trap:
#: - the shadow stack: the headroom (SHADOW_STACK_SIZE - JS_STACK_SIZE) covers C code that
#:   runs between two checks (parser, regexp, libc formatting, error backtraces);
#: - the native wasm stack (wasmtime's max_wasm_stack), which the guest cannot see. Measured
#:   on wasmtime 50: the native stack grows at most ~3x as fast as the shadow stack over
#:   every recursion QuickJS guards (plain, method, getter, Proxy, async, generator,
#:   toString, sort/map callbacks, JSON.parse/stringify nesting; the latter only thanks to
#:   guest/quickjs_stack.h), so 448 KiB needs ~1.3 MiB of native stack:
#:   HOST_MAX_WASM_STACK leaves ~35% margin. ~1,400 levels of plain JS recursion fit.
#: Not covered: nesting in JS *source* (the contract, eval, new Function) deeper than ~1,000
#: levels. The parser's recursion never touches the shadow stack, so it ends in wasmtime's
#: (deterministic) stack-overflow trap instead of a SyntaxError.
JS_STACK_SIZE = 448 * 1024
#: max_wasm_stack the host configures (wasmtime Config.max_wasm_stack; one source of truth
#: in outlayer.host.engine). With wasmtime's default of 512 KiB, deep JS recursion traps.
HOST_MAX_WASM_STACK = MAX_WASM_STACK
#: freed when the first allocation fails, so that QuickJS can still build the out-of-memory
#: exception and the bridge its report once the instance memory limit is reached.
OOM_RESERVE = 256 * 1024

#: functions the bridge exports (besides `memory` and the reactor's `_initialize`).
GUEST_EXPORTS = ("ol_alloc", "ol_free", "ol_boot", "ol_lockdown", "ol_load", "ol_seal",
                 "ol_call", "ol_resume")

#: `ol_load(src_ptr, src_len, flags)` flag bits (C constants OL_LOAD_*, one source of truth).
#: NATIVE_MODULE: `src` is an ES module, compiled and evaluated by QuickJS in the start
#: compartment (trusted tools; runs without lockdown). Without it, `src` is a compartment
#: script (completion value = the frozen export namespace) evaluated in a new SES
#: Compartment, which needs `ol_lockdown` first; the realm options below apply to it only.
LOAD_NATIVE_MODULE = 1
#: realm option: Math.random() works, a PRNG seeded per call from near.randomSeed()
LOAD_ALLOW_MATH_RANDOM = 2
#: realm option: Date.now() and `new Date()` give the block timestamp (milliseconds)
LOAD_ALLOW_DATE_NOW = 4
#: the WASI module the guest may import from, besides `outlayer.syscalls.SYSCALL_MODULE`.
WASI_MODULE = "wasi_snapshot_preview1"

GUEST_WASM_NAME = "outlayer-guest.wasm"
HEADER_NAME = "outlayer_syscalls.h"
#: force-included into quickjs.c: makes its recursion checks see native-only recursion.
QUICKJS_PRELUDE = "quickjs_stack.h"
#: force-included into quickjs.c too: the guest heap, which QuickJS allocates from
#: directly (guest/patches/quickjs-ol-heap.patch); its state lives in guest/ol_heap.c.
QUICKJS_HEAP = "ol_heap.h"
#: unified diffs against the upstream QuickJS-ng sources (guest/patches/*.patch), applied
#: in name order before compiling: OutLayer's few engine changes, each explained inside.
PATCH_DIR = "patches"
#: the realm prelude (JS run by `ol_lockdown`), compiled into the bridge as a C array
REALM_PRELUDE = "realm_prelude.js"
REALM_PRELUDE_HEADER = "ol_realm_prelude.h"

TARGET_FLAGS = ("-target", "wasm32-wasi")
#: flags of every object. -g0: zig cc emits DWARF by default, which would make the wasm
#: 5 MB instead of 1; the DWARF of zig's prebuilt libc is dropped after linking
#: (`strip_debug_sections`), while the name section (function names in trap backtraces)
#: stays. -Wno-everything: upstream's warnings are not ours to fix, errors still fail.
CFLAGS = ("-O2", "-g0", "-D_GNU_SOURCE", "-fno-strict-aliasing", "-Wno-everything")
#: extra flags of the bridge objects: the sizes above become C constants, one source of truth.
GUEST_CFLAGS = (
    f"-DOL_SHADOW_STACK_SIZE={SHADOW_STACK_SIZE}",
    f"-DOL_JS_STACK_SIZE={JS_STACK_SIZE}",
    f"-DOL_OOM_RESERVE={OOM_RESERVE}",
    f"-DOL_LOAD_NATIVE_MODULE={LOAD_NATIVE_MODULE}",
    f"-DOL_LOAD_ALLOW_MATH_RANDOM={LOAD_ALLOW_MATH_RANDOM}",
    f"-DOL_LOAD_ALLOW_DATE_NOW={LOAD_ALLOW_DATE_NOW}",
)
LDFLAGS = (
    "-O2",
    "-mexec-model=reactor",
    f"-Wl,-z,stack-size={SHADOW_STACK_SIZE}",
    *(f"-Wl,--export={name}" for name in GUEST_EXPORTS),
)
#: two compilers at a time: the build machines have two cores.
PARALLEL_JOBS = 2

_REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
GUEST_SOURCE_DIR = _REPO_ROOT / "guest"


class GuestBuildError(RuntimeError):
    """The guest could not be fetched, verified or compiled; the message says which step."""


# --------------------------------------------------------------------------- paths and key


def cache_root() -> pathlib.Path:
    """Where downloads, sources, objects and built guests live (`OUTLAYER_CACHE` wins)."""
    env = os.environ.get("OUTLAYER_CACHE")
    root = pathlib.Path(env) if env else pathlib.Path.home() / ".cache" / "outlayer"
    return root.expanduser().resolve()


def zig_version() -> str:
    """The zig release, read from the `ziglang` wheel's metadata (cheap: no subprocess)."""
    try:
        return importlib.metadata.version("ziglang")
    except importlib.metadata.PackageNotFoundError as exc:
        raise GuestBuildError("the `ziglang` package is not installed") from exc


def _guest_files(guest_dir: pathlib.Path) -> list[pathlib.Path]:
    """Every regular file under guest/, in a stable order (all of them shape the wasm)."""
    if not guest_dir.is_dir():
        raise GuestBuildError(f"guest sources not found: {guest_dir}")
    return sorted(p for p in guest_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _hash_files(h: hashlib._Hash, files: Sequence[pathlib.Path], base: pathlib.Path) -> None:
    for path in files:
        rel = path.relative_to(base).as_posix().encode()
        data = path.read_bytes()
        h.update(len(rel).to_bytes(8, "little") + rel)
        h.update(len(data).to_bytes(8, "little") + data)


def _flags_text() -> str:
    return "\n".join(
        [" ".join(TARGET_FLAGS), " ".join(CFLAGS), " ".join(GUEST_CFLAGS), " ".join(LDFLAGS)]
    )


def cache_key(*, guest_dir: pathlib.Path | None = None, header: str | None = None) -> str:
    """sha256 over every input of the guest wasm; a new key means a new build.

    `guest_dir` and `header` exist for tests (a temp copy of guest/, an edited header).
    """
    guest_dir = guest_dir or GUEST_SOURCE_DIR
    h = hashlib.sha256()
    h.update(f"outlayer-guest recipe {RECIPE_VERSION}\n".encode())
    h.update(f"{QUICKJS_PACKAGE}=={QUICKJS_VERSION} {QUICKJS_SDIST_SHA256}\n".encode())
    h.update(f"zig {zig_version()}\n".encode())
    h.update(_flags_text().encode() + b"\n")
    text = c_header() if header is None else header
    h.update(len(text).to_bytes(8, "little") + text.encode())
    _hash_files(h, _guest_files(guest_dir), guest_dir)
    return h.hexdigest()


def _guest_dir_for(key: str) -> pathlib.Path:
    return cache_root() / "guest" / key


def guest_wasm_path(*, build_if_missing: bool = True) -> pathlib.Path:
    """The cached guest wasm for the current inputs, built first if it is not there yet."""
    path = _guest_dir_for(cache_key()) / GUEST_WASM_NAME
    if path.is_file():
        return path
    if not build_if_missing:
        raise FileNotFoundError(f"guest wasm not built yet: {path} (run python -m {__name__})")
    return build_guest()


# ------------------------------------------------------------------------- fetch sources


def _sha256_file(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_sdist(path: pathlib.Path) -> None:
    """Refuse any QuickJS-ng sdist but the pinned one (a changed upload, a corrupt file)."""
    digest = _sha256_file(path)
    if digest != QUICKJS_SDIST_SHA256:
        raise GuestBuildError(
            f"sha256 mismatch for {path.name}: expected {QUICKJS_SDIST_SHA256}, got {digest}; "
            "refusing to build from unverified sources"
        )


def _download_sdist(root: pathlib.Path) -> pathlib.Path:
    """The verified sdist: fetched with pip (the ordinary client) only when not cached."""
    downloads = root / "downloads"
    sdist = downloads / QUICKJS_SDIST_NAME
    if sdist.is_file():
        try:
            verify_sdist(sdist)
            return sdist
        except GuestBuildError:
            sdist.unlink()  # a stale or partial file: fetch it again, verify again
    downloads.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
        "--disable-pip-version-check", f"{QUICKJS_PACKAGE}=={QUICKJS_VERSION}",
        "-d", str(downloads),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not sdist.is_file():
        raise GuestBuildError(
            f"could not download {QUICKJS_PACKAGE}=={QUICKJS_VERSION} sources with pip "
            f"(exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    try:
        verify_sdist(sdist)
    except GuestBuildError:
        os.replace(sdist, sdist.with_name(sdist.name + ".rejected"))
        raise
    return sdist


def _extract_upstream(sdist: pathlib.Path, root: pathlib.Path) -> pathlib.Path:
    """`upstream-quickjs/` of the sdist, unpacked once (via a temp dir, then renamed)."""
    dest = root / "src" / f"quickjs-ng-{QUICKJS_VERSION}-{QUICKJS_SDIST_SHA256[:12]}"
    if (dest / ".complete").is_file():
        return dest
    with staged_dir(dest, ".complete", QUICKJS_SDIST_SHA256) as tmp:
        count = 0
        with tarfile.open(sdist, "r:gz") as tar:
            for member in tar.getmembers():
                parts = pathlib.PurePosixPath(member.name).parts
                if len(parts) < 3 or parts[1] != "upstream-quickjs" or not member.isfile():
                    continue
                rel = pathlib.PurePosixPath(*parts[2:])
                if rel.is_absolute() or ".." in rel.parts:
                    raise GuestBuildError(f"unsafe path in {sdist.name}: {member.name}")
                src = tar.extractfile(member)
                assert src is not None
                out = tmp / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(src.read())
                count += 1
        missing = [name for name in QUICKJS_SOURCES if not (tmp / name).is_file()]
        if not count or missing:
            raise GuestBuildError(f"{sdist.name} lacks upstream-quickjs/{missing or ''}")
    return dest


# ------------------------------------------------------------- patches and generated code


def _patch_files(guest_dir: pathlib.Path | None = None) -> list[pathlib.Path]:
    """guest/patches/*.patch in name order (the order they apply in)."""
    patch_dir = (guest_dir or GUEST_SOURCE_DIR) / PATCH_DIR
    return sorted(patch_dir.glob("*.patch")) if patch_dir.is_dir() else []


def _patch_target(patch: str, name: str) -> str:
    """The file a unified diff changes (from its `+++ b/<file>` line)."""
    for line in patch.splitlines():
        if line.startswith("+++ "):
            target = line[4:].split("\t")[0].strip()
            return target[2:] if target.startswith("b/") else target
    raise GuestBuildError(f"patch {name} names no file (no '+++' line)")


def apply_patch(text: str, patch: str, name: str = "patch") -> str:
    """`text` with the unified diff `patch` applied.

    Strict: every hunk's old lines (context and removals) must occur exactly once, so a
    patch that no longer fits the pinned sources fails the build instead of landing in
    the wrong place. Line numbers in the hunk headers are not trusted.
    """
    lines = text.split("\n")
    hunks: list[tuple[list[str], list[str]]] = []
    current: tuple[list[str], list[str]] | None = None
    for raw in patch.split("\n"):
        if raw.startswith("@@"):
            current = ([], [])
            hunks.append(current)
        elif current is None or raw.startswith(("---", "+++")) or raw.startswith("\\"):
            continue
        elif raw.startswith("-"):
            current[0].append(raw[1:])
        elif raw.startswith("+"):
            current[1].append(raw[1:])
        elif raw.startswith(" ") or raw == "":
            current[0].append(raw[1:])
            current[1].append(raw[1:])
    if not hunks:
        raise GuestBuildError(f"patch {name} has no hunks")
    for i, (old, new) in enumerate(hunks, 1):
        while old and new and old[-1] == "" and new[-1] == "":  # a trailing blank split
            old.pop()
            new.pop()
        n = len(old)
        found = [j for j in range(len(lines) - n + 1)
                 if (not old or lines[j] == old[0]) and lines[j:j + n] == old]
        if len(found) != 1:
            where = "nowhere" if not found else f"{len(found)} times"
            raise GuestBuildError(f"patch {name}: hunk {i} matches {where} in the sources")
        j = found[0]
        lines[j:j + n] = new
    return "\n".join(lines)


def _patched_sources(upstream: pathlib.Path, root: pathlib.Path
                     ) -> dict[str, tuple[pathlib.Path, bytes]]:
    """Upstream file name -> (patched copy, patch bytes) for every file a patch changes.

    The copies live in the cache under a name keyed by the patches and the pinned sdist,
    written once (atomically); unpatched files compile from `upstream` directly.
    """
    by_file: dict[str, list[tuple[str, str]]] = {}
    for path in _patch_files():
        patch = path.read_text()
        by_file.setdefault(_patch_target(patch, path.name), []).append((path.name, patch))
    out: dict[str, tuple[pathlib.Path, bytes]] = {}
    for target, patches in by_file.items():
        source = upstream / target
        if not source.is_file():
            raise GuestBuildError(f"patch {patches[0][0]} changes {target}, not in the sources")
        blob = "".join(f"{n}\n{p}" for n, p in patches).encode()
        h = hashlib.sha256(QUICKJS_SDIST_SHA256.encode() + blob).hexdigest()[:20]
        dest = root / "src" / "patched" / h / target
        if not dest.is_file():
            text = source.read_text()
            for name, patch in patches:
                text = apply_patch(text, patch, name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(text)
            os.replace(tmp, dest)
        out[target] = (dest, blob)
    return out


def realm_prelude_header(js: bytes) -> str:
    """guest/realm_prelude.js as a C header: `ol_realm_prelude` (NUL-terminated bytes) and
    `OL_REALM_PRELUDE_LEN`. A pure function of the file, so builds stay reproducible."""
    body = ",\n".join(
        "    " + ", ".join(f"0x{b:02x}" for b in js[i:i + 16]) for i in range(0, len(js), 16)
    )
    return (
        f"/* Generated by outlayer/host/guest_build.py from guest/{REALM_PRELUDE}: "
        "do not edit. */\n"
        "#ifndef OL_REALM_PRELUDE_H\n#define OL_REALM_PRELUDE_H\n"
        f"#define OL_REALM_PRELUDE_LEN {len(js)}\n"
        "static const unsigned char ol_realm_prelude[OL_REALM_PRELUDE_LEN + 1] = {\n"
        f"{body}{',' if js else ''}\n    0x00\n}};\n#endif\n"
    )


def _write_if_changed(path: pathlib.Path, text: str) -> None:
    if path.is_file() and path.read_text() == text:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# ------------------------------------------------------------------------------ compile


@dataclass(frozen=True)
class _Unit:
    """One translation unit: its source, flags and the cached object it compiles to."""

    name: str
    source: pathlib.Path
    flags: tuple[str, ...]
    obj: pathlib.Path


def _zig_env(root: pathlib.Path) -> dict[str, str]:
    """Environment of zig: its caches inside ours, so one `rm -r` clears everything."""
    env = dict(os.environ)
    env["ZIG_GLOBAL_CACHE_DIR"] = str(root / "zig" / "global")
    env["ZIG_LOCAL_CACHE_DIR"] = str(root / "zig" / "local")
    return env


def _zig_cc() -> list[str]:
    return [sys.executable, "-m", "ziglang", "cc"]


def _run(cmd: Sequence[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise GuestBuildError(
            f"{what} failed (exit {proc.returncode}):\n$ {' '.join(cmd)}\n"
            f"{proc.stdout}{proc.stderr}"
        )


def _units(
    root: pathlib.Path, upstream: pathlib.Path, gen_dir: pathlib.Path, header: str
) -> list[_Unit]:
    """The translation units and the object each one maps to (keyed by its own inputs)."""
    objdir = root / "objects"
    base = hashlib.sha256()
    base.update(f"{RECIPE_VERSION} zig {zig_version()} {' '.join(TARGET_FLAGS)}\n".encode())
    units: list[_Unit] = []
    preludes = [GUEST_SOURCE_DIR / QUICKJS_PRELUDE, GUEST_SOURCE_DIR / QUICKJS_HEAP]
    for prelude in preludes:
        if not prelude.is_file():
            raise GuestBuildError(f"missing {prelude}")
    patched = _patched_sources(upstream, root)
    for name in QUICKJS_SOURCES:
        flags = (*TARGET_FLAGS, *CFLAGS, "-I", str(upstream))
        h = base.copy()
        h.update(f"{QUICKJS_SDIST_SHA256} {name} {' '.join(CFLAGS)}".encode())
        source = upstream / name
        if name in patched:
            source, blob = patched[name]
            h.update(len(blob).to_bytes(8, "little") + blob)
        if name == "quickjs.c":
            for prelude in preludes:
                flags = (*flags, "-include", str(prelude))
                h.update(prelude.read_bytes())
        units.append(_Unit(name, source, flags, objdir / f"{name}-{h.hexdigest()[:20]}.o"))
    guest_files = _guest_files(GUEST_SOURCE_DIR)
    guest_h = base.copy()
    guest_h.update(f"{QUICKJS_SDIST_SHA256} {' '.join(CFLAGS)} {' '.join(GUEST_CFLAGS)}".encode())
    guest_h.update(header.encode())
    _hash_files(guest_h, guest_files, GUEST_SOURCE_DIR)
    for src in guest_files:
        if src.suffix != ".c":
            continue
        rel = src.relative_to(GUEST_SOURCE_DIR).as_posix()
        flags = (*TARGET_FLAGS, *CFLAGS, *GUEST_CFLAGS, "-I", str(gen_dir), "-I",
                 str(GUEST_SOURCE_DIR), "-I", str(upstream))
        h = guest_h.copy()
        h.update(rel.encode())
        safe = rel.replace("/", "_")
        units.append(_Unit(f"guest/{rel}", src, flags, objdir / f"{safe}-{h.hexdigest()[:20]}.o"))
    return units


def _compile(unit: _Unit, env: dict[str, str]) -> None:
    """Compile one unit to its cached object, atomically (temp file, then rename)."""
    if unit.obj.is_file():
        return
    unit.obj.parent.mkdir(parents=True, exist_ok=True)
    tmp = unit.obj.with_name(f".{unit.obj.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        _run([*_zig_cc(), *unit.flags, "-c", str(unit.source), "-o", str(tmp)], env,
             f"compiling {unit.name}")
        os.replace(tmp, unit.obj)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_dir(dest: pathlib.Path, marker: str, stamp: str) -> Iterator[pathlib.Path]:
    """A temp folder beside `dest` to fill; when the block succeeds it gets `marker` (text
    `stamp`) and replaces `dest` by a rename, so a reader never sees a half-made tree (one
    without the marker is from an interrupted run and is replaced)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=".extract-", dir=dest.parent))
    try:
        yield tmp
        (tmp / marker).write_text(stamp + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def file_lock(path: pathlib.Path) -> Iterator[None]:
    """One builder/fetcher per cache entry across processes (pytest workers, a runner and
    the CLI at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: the atomic renames still keep the cache consistent
        yield
        return
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class _Display:
    """Rich progress display of a build, or nothing when quiet."""

    def __init__(self, quiet: bool, total: int) -> None:
        self._progress = None
        self._lock = threading.Lock()
        self._tasks: dict[str, object] = {}
        if quiet:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self._overall = self._progress.add_task("building outlayer guest", total=total)

    def __enter__(self) -> _Display:
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress:
            self._progress.stop()

    def log(self, text: str) -> None:
        if self._progress:
            self._progress.console.print(text)

    def step(self, label: str, fn: Callable[[], None]) -> None:
        """Run one step (compile a file, link) with its own spinner line and elapsed time."""
        if not self._progress:
            fn()
            return
        with self._lock:
            task = self._progress.add_task(f"  {label}", total=1)
        try:
            fn()
        finally:
            with self._lock:
                self._progress.update(task, completed=1, description=f"  [dim]{label}[/dim]")
                self._progress.advance(self._overall)


def build_guest(*, force: bool = False, quiet: bool = False) -> pathlib.Path:
    """Build the guest wasm for the current inputs (or return the cached one unless `force`)."""
    check_table()
    header = c_header()
    key = cache_key(header=header)
    root = cache_root()
    out_dir = _guest_dir_for(key)
    wasm = out_dir / GUEST_WASM_NAME
    with file_lock(root / "guest" / f"{key}.lock"):
        if wasm.is_file() and not force:
            return wasm
        started = time.monotonic()
        with file_lock(root / "src" / "fetch.lock"):  # one fetch for every key
            upstream = _extract_upstream(_download_sdist(root), root)
        gen_dir = out_dir / "include"
        gen_dir.mkdir(parents=True, exist_ok=True)
        _write_if_changed(gen_dir / HEADER_NAME, header)
        realm_prelude = GUEST_SOURCE_DIR / REALM_PRELUDE
        if not realm_prelude.is_file():
            raise GuestBuildError(f"missing {realm_prelude}")
        _write_if_changed(gen_dir / REALM_PRELUDE_HEADER,
                          realm_prelude_header(realm_prelude.read_bytes()))
        units = _units(root, upstream, gen_dir, header)
        if force:
            for unit in units:
                unit.obj.unlink(missing_ok=True)
        env = _zig_env(root)
        todo = [u for u in units if not u.obj.is_file()]
        with _Display(quiet, len(todo) + 1) as display:
            display.log(f"outlayer guest {key[:16]}: {len(todo)} of {len(units)} files to compile")
            # largest first: quickjs.c alone takes most of the time, start it at once
            todo.sort(key=lambda u: u.source.stat().st_size, reverse=True)
            with ThreadPoolExecutor(max_workers=PARALLEL_JOBS) as pool:
                futures = [
                    pool.submit(display.step, f"compiling {u.name}",
                                lambda u=u: _compile(u, env))
                    for u in todo
                ]
                for fut in futures:
                    fut.result()
            # linked under its final file name (the linker records it as the module name
            # that wasmtime shows in backtraces), in a private dir, then renamed into place
            tmp_dir = pathlib.Path(tempfile.mkdtemp(prefix=".link-", dir=out_dir))
            tmp_wasm = tmp_dir / GUEST_WASM_NAME
            link = [*_zig_cc(), *TARGET_FLAGS, *LDFLAGS, *(str(u.obj) for u in units),
                    "-o", str(tmp_wasm)]
            try:
                display.step("linking outlayer-guest.wasm", lambda: _run(link, env, "linking"))
                tmp_wasm.write_bytes(strip_debug_sections(tmp_wasm.read_bytes()))
                _check_wasm(tmp_wasm)
                os.replace(tmp_wasm, wasm)
            finally:
                shutil.rmtree(tmp_dir, ignore_errors=True)
            size = wasm.stat().st_size
            display.log(
                f"built {wasm} ({size / 1e6:.1f} MB) in {time.monotonic() - started:.1f} s"
            )
    return wasm


def _check_wasm(path: pathlib.Path) -> None:
    """Refuse a wasm that is not what the host expects (magic, exports, import modules)."""
    from outlayer.syscalls import BY_NR, SYSCALL_MODULE

    imports, exports = wasm_imports_exports(path.read_bytes())
    missing = [name for name in (*GUEST_EXPORTS, "_initialize", "memory") if name not in exports]
    if missing:
        raise GuestBuildError(f"guest wasm lacks exports {missing}")
    for module, name in imports:
        if module == SYSCALL_MODULE and name.isdigit() and int(name) in BY_NR:
            continue
        if module == WASI_MODULE:
            continue
        raise GuestBuildError(f"guest wasm imports {module}.{name}, which no host provides")


# ------------------------------------------------------------------------- wasm reading


def wasm_imports_exports(data: bytes) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(imports as (module, name), exports as name -> kind) read from the binary itself:
    no compilation, so the build check stays fast and independent of the engine."""
    try:
        mod = wb.parse(data)
        return ([(i.module, i.field) for i in wb.imports(mod)],
                {e.name: e.kind for e in wb.exports(mod)})
    except wb.WasmFormatError as exc:
        raise GuestBuildError(f"not a readable wasm module: {exc}") from exc


def strip_debug_sections(data: bytes) -> bytes:
    """The module without its `.debug_*` custom sections (DWARF); everything else as is."""
    try:
        mod = wb.parse(data)
    except wb.WasmFormatError as exc:
        raise GuestBuildError(f"not a readable wasm module: {exc}") from exc
    mod.sections = [sec for sec in mod.sections
                    if not (sec.custom_name or "").startswith(".debug")]
    return mod.encode()


def wasi_imports(path: pathlib.Path | None = None) -> list[str]:
    """The WASI functions the guest imports: exactly what the host must implement."""
    data = (path or guest_wasm_path()).read_bytes()
    imports, _ = wasm_imports_exports(data)
    return sorted(name for module, name in imports if module == WASI_MODULE)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m outlayer.host.guest_build [--force] [--quiet]`: build, print the path."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m {__name__}", description=__doc__)
    parser.add_argument("--force", action="store_true", help="recompile every object")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    args = parser.parse_args(argv)
    try:
        path = build_guest(force=args.force, quiet=args.quiet)
    except GuestBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
