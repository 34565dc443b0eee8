"""The guest build: its cache key, and the shape of the wasm the host links against."""

from __future__ import annotations

import pathlib
import shutil

import pytest
import wasmtime

from outlayer.host import guest_build
from outlayer.syscalls import BY_NR, SYSCALL_MODULE, c_header

#: the bridge's exports and their exact wasm signatures (pointers and lengths are u32).
EXPORT_SIGNATURES = {
    "ol_alloc": (["i32"], ["i32"]),
    "ol_free": (["i32"], []),
    "ol_boot": ([], ["i32"]),
    "ol_load": (["i32", "i32"], ["i32"]),
    "ol_call": (["i32", "i32"], ["i32"]),
    "_initialize": ([], []),
}


@pytest.fixture()
def guest_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    dest = tmp_path / "guest"
    shutil.copytree(guest_build.GUEST_SOURCE_DIR, dest)
    return dest


@pytest.fixture(scope="module")
def wasm_path() -> pathlib.Path:
    return guest_build.guest_wasm_path()


@pytest.fixture(scope="module")
def module(wasm_path: pathlib.Path) -> wasmtime.Module:
    return wasmtime.Module.from_file(wasmtime.Engine(), str(wasm_path))


def _kinds(types: list[wasmtime.ValType]) -> list[str]:
    return [str(t) for t in types]


# ------------------------------------------------------------------------------ cache key


def test_key_is_stable_for_identical_inputs(guest_copy: pathlib.Path) -> None:
    assert guest_build.cache_key(guest_dir=guest_copy) == guest_build.cache_key()
    assert guest_build.cache_key(guest_dir=guest_copy) == guest_build.cache_key(
        guest_dir=guest_copy, header=c_header()
    )


def test_key_changes_with_a_guest_source(guest_copy: pathlib.Path) -> None:
    before = guest_build.cache_key(guest_dir=guest_copy)
    bridge = guest_copy / "bridge.c"
    bridge.write_text(bridge.read_text() + "\n/* edited */\n")
    assert guest_build.cache_key(guest_dir=guest_copy) != before


def test_key_changes_with_a_new_guest_file(guest_copy: pathlib.Path) -> None:
    before = guest_build.cache_key(guest_dir=guest_copy)
    (guest_copy / "extra.c").write_text("int extra;\n")
    assert guest_build.cache_key(guest_dir=guest_copy) != before


def test_key_changes_with_the_header(guest_copy: pathlib.Path) -> None:
    header = c_header()
    before = guest_build.cache_key(guest_dir=guest_copy, header=header)
    edited = header.replace("#endif", "#define OL_SYS_SOMETHING_NEW 499\n#endif")
    assert guest_build.cache_key(guest_dir=guest_copy, header=edited) != before


def test_key_is_cheap_and_does_not_build(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: pathlib.Path) -> None:
    monkeypatch.setenv("OUTLAYER_CACHE", str(tmp_path / "empty-cache"))
    key = guest_build.cache_key()
    assert len(key) == 64
    with pytest.raises(FileNotFoundError):
        guest_build.guest_wasm_path(build_if_missing=False)
    assert not (tmp_path / "empty-cache").exists()


def test_a_tampered_sdist_is_refused(tmp_path: pathlib.Path) -> None:
    fake = tmp_path / guest_build.QUICKJS_SDIST_NAME
    fake.write_bytes(b"not the pinned sources")
    with pytest.raises(guest_build.GuestBuildError, match="sha256 mismatch"):
        guest_build.verify_sdist(fake)


# --------------------------------------------------------------------------- built wasm


def test_wasm_is_cached_under_its_key(wasm_path: pathlib.Path) -> None:
    assert wasm_path.is_file() and wasm_path.stat().st_size > 100_000
    assert wasm_path.parent.name == guest_build.cache_key()
    assert wasm_path.name == guest_build.GUEST_WASM_NAME
    assert guest_build.guest_wasm_path(build_if_missing=False) == wasm_path


def test_wasm_is_a_reactor_with_the_bridge_exports(module: wasmtime.Module) -> None:
    exports = {e.name: e.type for e in module.exports}
    assert "_start" not in exports  # a reactor, not a command
    assert isinstance(exports["memory"], wasmtime.MemoryType)
    for name, (params, results) in EXPORT_SIGNATURES.items():
        ty = exports[name]
        assert isinstance(ty, wasmtime.FuncType), name
        assert (_kinds(ty.params), _kinds(ty.results)) == (params, results), name


def test_wasm_imports_only_wasi_and_numbered_syscalls(module: wasmtime.Module) -> None:
    for imp in module.imports:
        assert imp.module in (guest_build.WASI_MODULE, SYSCALL_MODULE), imp.module
        if imp.module != SYSCALL_MODULE:
            continue
        assert imp.name is not None and imp.name.isdigit(), imp.name
        sc = BY_NR.get(int(imp.name))
        assert sc is not None, f"import {imp.name} is not in the syscall table"
        ty = imp.type
        assert isinstance(ty, wasmtime.FuncType)
        want = {"u64": ["i64"], "u32": ["i32"], None: []}[sc.result]
        assert _kinds(ty.params) == ["i64"] * len(sc.params), sc.name
        assert _kinds(ty.results) == want, sc.name


def test_wasi_imports_are_few_and_known(wasm_path: pathlib.Path) -> None:
    """No filesystem, sockets, args/env or entropy: only clock and stdio."""
    imports = guest_build.wasi_imports(wasm_path)
    assert set(imports) <= {"clock_time_get", "fd_close", "fd_fdstat_get", "fd_seek",
                            "fd_write"}, imports
    assert "random_get" not in imports


def test_reader_agrees_with_wasmtime(wasm_path: pathlib.Path, module: wasmtime.Module) -> None:
    imports, exports = guest_build.wasm_imports_exports(wasm_path.read_bytes())
    assert imports == [(i.module, i.name) for i in module.imports]
    assert sorted(exports) == sorted(e.name for e in module.exports)


def test_no_dwarf_but_function_names(wasm_path: pathlib.Path) -> None:
    data = wasm_path.read_bytes()
    assert b".debug_info" not in data
    assert b"JS_CallInternal" in data  # the name section survives for trap backtraces
    assert guest_build.strip_debug_sections(data) == data
