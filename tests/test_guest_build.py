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
    "ol_lockdown": (["i32", "i32"], ["i32"]),  # ses_ptr, ses_len
    "ol_load": (["i32", "i32", "i32"], ["i32"]),  # src_ptr, src_len, flags
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


def test_key_changes_with_the_realm_prelude(guest_copy: pathlib.Path) -> None:
    before = guest_build.cache_key(guest_dir=guest_copy)
    prelude = guest_copy / guest_build.REALM_PRELUDE
    prelude.write_text(prelude.read_text() + "\n// edited\n")
    assert guest_build.cache_key(guest_dir=guest_copy) != before


def test_key_changes_with_a_quickjs_patch(guest_copy: pathlib.Path) -> None:
    before = guest_build.cache_key(guest_dir=guest_copy)
    patches = guest_build._patch_files(guest_copy)
    assert patches, "guest/patches/ holds the QuickJS patches"
    patches[0].write_text(patches[0].read_text().replace("OutLayer:", "OutLayer (edited):"))
    assert guest_build.cache_key(guest_dir=guest_copy) != before


# ------------------------------------------------------------------- patches and prelude

_TEXT = "int a;\nint b;\nint c;\nint d;\n"


def _diff(old: str, new: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        "a/x.c", "b/x.c"))


def test_a_patch_applies_by_content() -> None:
    new = _TEXT.replace("int b;\n", "int b;\nint b2;\n").replace("int d;", "long d;")
    assert guest_build.apply_patch(_TEXT, _diff(_TEXT, new)) == new
    # line numbers in the hunk header are not trusted: the same hunk fits shifted text
    shifted = "/* one more line */\n" + _TEXT
    assert guest_build.apply_patch(shifted, _diff(_TEXT, new)) == "/* one more line */\n" + new
    assert guest_build._patch_target(_diff(_TEXT, new), "p") == "x.c"


def test_a_patch_that_does_not_fit_fails_the_build() -> None:
    patch = _diff(_TEXT, _TEXT.replace("int c;", "int cc;"))
    with pytest.raises(guest_build.GuestBuildError, match="matches nowhere"):
        guest_build.apply_patch(_TEXT.replace("int b;", "int bb;"), patch)
    twice = "int b;\nint c;\nint d;\n" * 2
    small = _diff("int c;\n", "int cc;\n")
    with pytest.raises(guest_build.GuestBuildError, match="2 times"):
        guest_build.apply_patch(twice, small)
    with pytest.raises(guest_build.GuestBuildError, match="no hunks"):
        guest_build.apply_patch(_TEXT, "--- a/x.c\n+++ b/x.c\n")


def test_the_patches_fit_the_pinned_sources(wasm_path: pathlib.Path) -> None:
    """Every patch applies to the pinned upstream file (the fixture fetched it)."""
    upstream = next((guest_build.cache_root() / "src").glob(
        f"quickjs-ng-{guest_build.QUICKJS_VERSION}-*"))
    for path in guest_build._patch_files():
        patch = path.read_text()
        target = upstream / guest_build._patch_target(patch, path.name)
        patched = guest_build.apply_patch(target.read_text(), patch, path.name)
        assert patched != target.read_text()


def test_realm_prelude_header_is_the_file_as_c_bytes() -> None:
    js = "(() => 'é\\0')();\n".encode()
    header = guest_build.realm_prelude_header(js)
    assert header == guest_build.realm_prelude_header(js)  # a pure function of the file
    assert f"#define OL_REALM_PRELUDE_LEN {len(js)}" in header
    body = header.split("{", 1)[1].split("}", 1)[0]
    values = bytes(int(x, 16) for x in body.replace("\n", " ").replace(",", " ").split())
    assert values == js + b"\0"  # NUL-terminated: JS_Eval wants one after the source
    empty = guest_build.realm_prelude_header(b"")
    assert "OL_REALM_PRELUDE_LEN 0" in empty and "0x00" in empty


def test_load_flags_are_distinct_bits_known_to_the_bridge() -> None:
    flags = (guest_build.LOAD_NATIVE_MODULE, guest_build.LOAD_ALLOW_MATH_RANDOM,
             guest_build.LOAD_ALLOW_DATE_NOW)
    assert flags == (1, 2, 4)  # the protocol: bit 0 native module, then realm options
    for name, value in (("NATIVE_MODULE", 1), ("ALLOW_MATH_RANDOM", 2), ("ALLOW_DATE_NOW", 4)):
        assert f"-DOL_LOAD_{name}={value}" in guest_build.GUEST_CFLAGS
    from outlayer.realm import options  # the deploy-time options pass the same bits

    assert (options.NATIVE_MODULE, options.ALLOW_MATH_RANDOM, options.ALLOW_DATE_NOW) == flags


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


def test_wasm_carries_the_realm_prelude_and_the_patches(wasm_path: pathlib.Path) -> None:
    data = wasm_path.read_bytes()
    prelude = (guest_build.GUEST_SOURCE_DIR / guest_build.REALM_PRELUDE).read_bytes()
    assert prelude in data  # in the data section, byte for byte
    assert b"//# sourceURL=" in data  # quickjs-eval-source-url.patch is compiled in


def test_no_dwarf_but_function_names(wasm_path: pathlib.Path) -> None:
    data = wasm_path.read_bytes()
    assert b".debug_info" not in data
    assert b"JS_CallInternal" in data  # the name section survives for trap backtraces
    assert guest_build.strip_debug_sections(data) == data
