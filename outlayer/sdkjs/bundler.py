"""`outlayer build`: a near-sdk-js contract (.ts or .js) -> one ES module OutLayer deploys.

near-sdk-js's own CLI bundles a contract with rollup + babel (TypeScript, legacy
decorators, its near-bindgen exporter), then compiles the bundle to wasm with qjsc and a C
builder. OutLayer keeps the first step, run by Node in the npm project next to this file
(`toolchain/`, pinned by its lock, installed by `make setup` with install scripts off),
and deploys the bundle itself: the QuickJS guest evaluates it in a compartment that has
near-sdk-js's `env` (docs/NEAR_SDK_JS.md). The bundle's first line is the transform's
SDKJS_TAG, which is how the runtime knows to call it the near-sdk-js way.

Builds are cached under `cache_root()/sdkjs/` by the hash of the toolchain (its lock and
build script), the entry's path and bytes; the entry of the cache lists every other file
the bundle read (with its hash), so editing an imported file rebuilds too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outlayer import contract_file
from outlayer.errors import UserError
from outlayer.host.engine import cache_root
from outlayer.realm.transform import SDKJS_TAG

TOOLCHAIN = Path(__file__).resolve().with_name("toolchain")
BUILD_SCRIPT = TOOLCHAIN / "build.mjs"
LOCK_FILE = TOOLCHAIN / "package-lock.json"
#: what `make setup` installs there; any one missing means the install did not happen
_REQUIRED = ("near-sdk-js/package.json", "rollup/package.json",
             "@rollup/plugin-babel/package.json", "@babel/core/package.json")
#: bump when what a cache entry means changes
RECIPE_VERSION = 1
#: a build is seconds; this only stops a hung Node
BUILD_TIMEOUT_SECONDS = 600
SOURCE_SUFFIXES = (".ts", ".mts", ".js", ".mjs")
_TS_SUFFIXES = (".ts", ".mts")
#: an import (static, re-export or dynamic) of near-sdk-js or one of its subpaths
_SDK_IMPORT = re.compile(
    r"""(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']near-sdk-js(?:/[^"']*)?["']""")


class BuildError(UserError):
    """The contract could not be bundled; the message names the file and line when known."""

    kind = "BuildError"


@dataclass(frozen=True)
class Bundle:
    """A built contract: the ES module to deploy and what went into it."""

    code: bytes
    #: the module's exports (the exporter's methods, plus any class the file exports)
    exports: tuple[str, ...]
    #: every file the bundle read, outside the toolchain (absolute paths)
    inputs: tuple[str, ...]
    #: True when it came from the cache
    cached: bool = False


def is_bundle(code: bytes) -> bool:
    """A module `outlayer build` made (it starts with the near-sdk-js tag)."""
    return code.startswith(SDKJS_TAG.encode())


def needs_build(path: Path, code: bytes) -> bool:
    """True for a near-sdk-js source: TypeScript, or JavaScript that imports near-sdk-js
    (a built bundle does not: it imports nothing)."""
    if is_bundle(code) or code[:4] == b"\0asm":
        return False
    if path.suffix in _TS_SUFFIXES:
        return True
    return bool(_SDK_IMPORT.search(code.decode("utf-8", "replace")))


def build_if_needed(path: Path, code: bytes) -> bytes:
    """`code` itself, or its bundle when `path` is a near-sdk-js source."""
    return build(path, code=code).code if needs_build(path, code) else code


def check_toolchain() -> None:
    """Raise BuildError, saying what to do, when the toolchain cannot run."""
    missing = [name for name in _REQUIRED if not (TOOLCHAIN / "node_modules" / name).is_file()]
    if missing:
        raise BuildError(
            f"the near-sdk-js toolchain is not installed ({TOOLCHAIN / 'node_modules'} lacks "
            f"{missing[0].rsplit('/', 1)[0]}): run `make setup` (it runs `npm ci "
            f"--ignore-scripts` there)")
    if _node() is None:
        raise BuildError("`node` (Node.js) is not on PATH: `outlayer build` runs near-sdk-js's "
                         "bundler (rollup + babel) with it")


def _node() -> str | None:
    return shutil.which("node")


def _frame(h: Any, data: bytes) -> None:
    h.update(len(data).to_bytes(8, "little") + data)


def _file_hash(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def cache_key(entry: Path, code: bytes) -> str:
    """sha256 over the recipe, the toolchain's lock and build script, the entry path and
    bytes."""
    h = hashlib.sha256()
    for part in (f"outlayer-sdkjs-build {RECIPE_VERSION}".encode(), LOCK_FILE.read_bytes(),
                 BUILD_SCRIPT.read_bytes(), str(entry).encode(), code):
        _frame(h, part)
    return h.hexdigest()


def _cache_path(key: str) -> Path:
    return cache_root() / "sdkjs" / key[:2] / f"{key}.json"


def _cached(key: str) -> Bundle | None:
    try:
        entry = json.loads(_cache_path(key).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict):
        return None
    hashes = entry.get("inputs")
    if not isinstance(hashes, dict):
        return None
    if any(_file_hash(path) != digest for path, digest in hashes.items()):
        return None  # an imported file changed (or is gone): rebuild
    return Bundle(code=entry["code"].encode("utf-8"), exports=tuple(entry["exports"]),
                  inputs=tuple(hashes), cached=True)


def _store(key: str, bundle: Bundle, hashes: dict[str, str | None]) -> None:
    path = _cache_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"code": bundle.code.decode("utf-8"), "exports": list(bundle.exports),
                       "inputs": hashes}, sort_keys=True).encode()
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _where(error: dict[str, Any], entry: Path) -> str:
    """`file:line:column: ` of a build error, the file relative to the working directory."""
    file = error.get("file") or str(entry)
    try:
        shown = os.path.relpath(file)
    except ValueError:
        shown = file
    if shown.startswith(".." + os.sep + ".."):
        shown = file
    line, column = error.get("line"), error.get("column")
    if isinstance(line, int):
        return f"{shown}:{line}:{column}: " if isinstance(column, int) else f"{shown}:{line}: "
    return f"{shown}: "


def _run_bundler(entry: Path) -> dict[str, Any]:
    check_toolchain()
    node = _node()
    assert node is not None
    try:
        proc = subprocess.run([node, str(BUILD_SCRIPT), str(entry)], cwd=entry.parent,
                              capture_output=True, timeout=BUILD_TIMEOUT_SECONDS, check=False,
                              env={**os.environ, "NODE_OPTIONS": "", "FORCE_COLOR": "0",
                                   "NO_COLOR": "1"})
    except subprocess.TimeoutExpired:
        raise BuildError(f"{entry}: the bundler ran past {BUILD_TIMEOUT_SECONDS} s") from None
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()
        raise BuildError(f"{entry}: the bundler failed (exit {proc.returncode}): "
                         f"{detail[-2000:] or 'no output'}") from None
    if not isinstance(result, dict):
        raise BuildError(f"{entry}: the bundler answered {type(result).__name__}")
    return result


def build(entry: Path, *, use_cache: bool = True, code: bytes | None = None) -> Bundle:
    """Bundle the near-sdk-js contract `entry` (cached by its inputs); `code`: the entry's
    bytes when the caller has read them already."""
    entry = Path(entry).resolve()
    if code is None:
        code = contract_file.read(entry, BuildError)
    if entry.suffix not in SOURCE_SUFFIXES:
        raise BuildError(f"{entry.name}: expected a .ts or .js contract "
                         f"({', '.join(SOURCE_SUFFIXES)})")
    check_toolchain()
    key = cache_key(entry, code)
    if use_cache:
        hit = _cached(key)
        if hit is not None:
            return hit
    result = _run_bundler(entry)
    if not result.get("ok"):
        error = result.get("error") or {}
        raise BuildError(_where(error, entry) + str(error.get("message", "build failed")))
    bundle = Bundle(code=str(result["code"]).encode("utf-8"),
                    exports=tuple(result.get("exports") or ()),
                    inputs=tuple(result.get("inputs") or ()))
    if use_cache:
        _store(key, bundle, {path: _file_hash(path) for path in bundle.inputs})
    return bundle


def default_output(entry: Path) -> Path:
    """Where `outlayer build` writes without -o: build/<name>.js, as near-sdk-js's CLI."""
    return Path("build") / f"{Path(entry).stem}.js"


def write_bundle(bundle: Bundle, out: Path) -> None:
    """Write the bundle atomically (a reader never sees half a file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    tmp.write_bytes(bundle.code)
    tmp.replace(out)
