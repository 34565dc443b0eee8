"""Pinned npm packages: integrity pins are enforced, extraction is safe, the cache holds."""

from __future__ import annotations

import io
import os
import pathlib
import re
import stat
import tarfile

import pytest

from outlayer.realm import npm

ACORN = npm.PINS["acorn"]


@pytest.fixture(scope="module")
def real_tarballs() -> dict[str, pathlib.Path]:
    """The verified tarballs of the real cache (fetched at setup)."""
    npm.fetch_all(quiet=True)
    return {name: npm.tarball_path(pin) for name, pin in npm.PINS.items()}


@pytest.fixture()
def cache(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A private, empty cache root for the npm module only (the guest cache stays put)."""
    root = tmp_path / "cache"
    monkeypatch.setattr(npm, "cache_root", lambda: root)
    return root


def _tar(path: pathlib.Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _repacked_acorn(src: pathlib.Path, dest: pathlib.Path) -> None:
    """A well-formed tarball like the real one, with one byte of acorn.mjs changed."""
    members = []
    with tarfile.open(src, "r:gz") as tar:
        for member in tar.getmembers():
            f = tar.extractfile(member)
            data = f.read() if f else None
            if member.name == "package/dist/acorn.mjs":
                assert data is not None
                data = data.replace(b"function parse(", b"function parsE(", 1)
            members.append((member, data))
    _tar(dest, members)


def _fake_npm(bin_dir: pathlib.Path, tarball: pathlib.Path, name: str) -> None:
    """An `npm` that 'packs' by copying `tarball`: the fetch path without a network."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "npm"
    script.write_text(
        "#!/bin/sh\n"
        'while [ $# -gt 0 ]; do [ "$1" = --pack-destination ] && dest="$2"; shift; done\n'
        f'cp "{tarball}" "$dest/{name}"\n'
        f"echo '[{{\"filename\": \"{name}\"}}]'\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


# ------------------------------------------------------------------------------ pins


def test_pins_are_exact_versions_with_sha512_integrity() -> None:
    assert npm.PINS["ses"].version == "2.3.0"
    assert npm.PINS["ses"].files == ("dist/ses.umd.js", "dist/ses.umd.min.js")
    assert re.fullmatch(r"8\.\d+\.\d+", ACORN.version)
    assert ACORN.files == ("dist/acorn.mjs",)
    for pin in npm.PINS.values():
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", pin.integrity), pin.spec


def test_real_tarballs_match_their_pins(real_tarballs: dict[str, pathlib.Path]) -> None:
    for name, path in real_tarballs.items():
        assert npm.sri_digest(path) == npm.PINS[name].integrity


def test_package_file_gives_the_pinned_files() -> None:
    ses = npm.package_file("ses", "dist/ses.umd.min.js")
    assert ses.is_file() and ses.stat().st_size > 100_000
    acorn = npm.package_file("acorn", "dist/acorn.mjs")
    assert f'var version = "{ACORN.version}"' in acorn.read_text()
    assert acorn.parents[1] == npm.package_dir("acorn")


def test_package_file_refuses_paths_outside_and_unknown_names() -> None:
    with pytest.raises(npm.NpmError, match="not a path inside"):
        npm.package_file("ses", "../acorn-8.19.0/dist/acorn.mjs")
    with pytest.raises(npm.NpmError, match="not a pinned npm package"):
        npm.package_dir("left-pad")


# ------------------------------------------------------------------------------ tamper


def test_a_tampered_tarball_is_refused(real_tarballs: dict[str, pathlib.Path],
                                       tmp_path: pathlib.Path) -> None:
    copy = tmp_path / "acorn.tgz"
    _repacked_acorn(real_tarballs["acorn"], copy)
    with pytest.raises(npm.NpmError, match="integrity mismatch.*refusing"):
        npm.verify_tarball(copy, ACORN)
    flipped = tmp_path / "flipped.tgz"
    data = bytearray(real_tarballs["acorn"].read_bytes())
    data[len(data) // 2] ^= 1
    flipped.write_bytes(bytes(data))
    with pytest.raises(npm.NpmError, match="integrity mismatch"):
        npm.verify_tarball(flipped, ACORN)


def test_fetch_refuses_what_npm_hands_over_if_it_is_not_the_pin(
        real_tarballs: dict[str, pathlib.Path], cache: pathlib.Path, tmp_path: pathlib.Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    evil = tmp_path / "evil.tgz"
    _repacked_acorn(real_tarballs["acorn"], evil)
    _fake_npm(tmp_path / "bin", evil, "acorn-8.19.0.tgz")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(npm.NpmError, match="integrity mismatch"):
        npm.ensure(ACORN)
    assert not (cache / "npm" / ACORN.stem).exists()
    assert not npm.tarball_path(ACORN).exists()
    assert (cache / "npm" / f"{ACORN.stem}.tgz.rejected").is_file()


def test_fetch_verifies_extracts_and_then_uses_the_cache(
        real_tarballs: dict[str, pathlib.Path], cache: pathlib.Path, tmp_path: pathlib.Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_npm(tmp_path / "bin", real_tarballs["acorn"], "acorn-8.19.0.tgz")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    steps: list[str] = []
    folder = npm.ensure(ACORN, report=steps.append)
    assert folder == cache / "npm" / ACORN.stem
    assert (folder / "dist" / "acorn.mjs").is_file() and (folder / "package.json").is_file()
    assert [s.split()[0] for s in steps] == ["fetching", "verifying", "extracting"]
    monkeypatch.setenv("PATH", "")  # cached now: npm is not needed any more
    steps.clear()
    assert npm.ensure(ACORN, report=steps.append) == folder and steps == []


def test_a_cached_tarball_is_reverified_and_a_bad_one_refetched(
        real_tarballs: dict[str, pathlib.Path], cache: pathlib.Path, tmp_path: pathlib.Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    tgz = npm.tarball_path(ACORN)
    tgz.parent.mkdir(parents=True)
    _repacked_acorn(real_tarballs["acorn"], tgz)  # e.g. swapped in the cache
    monkeypatch.setenv("PATH", "")
    with pytest.raises(npm.NpmError, match="npm is not installed.*acorn@"):
        npm.ensure(ACORN)
    assert not tgz.exists()  # the bad one is gone, not used
    tgz.write_bytes(real_tarballs["acorn"].read_bytes())  # dropped in by hand: offline works
    assert (npm.ensure(ACORN) / "dist" / "acorn.mjs").is_file()


def test_an_interrupted_extraction_is_redone(real_tarballs: dict[str, pathlib.Path],
                                            cache: pathlib.Path) -> None:
    tgz = npm.tarball_path(ACORN)
    tgz.parent.mkdir(parents=True)
    tgz.write_bytes(real_tarballs["acorn"].read_bytes())
    half = cache / "npm" / ACORN.stem
    (half / "dist").mkdir(parents=True)
    (half / "dist" / "acorn.mjs").write_text("half")  # no .complete marker
    assert (npm.ensure(ACORN) / "dist" / "acorn.mjs").read_text() != "half"


# ------------------------------------------------------------------------------ extraction


def test_safe_extract_strips_the_top_folder(tmp_path: pathlib.Path) -> None:
    tgz = tmp_path / "ok.tgz"
    _tar(tgz, [_file("package/package.json", b"{}"), _file("package/dist/a.js", b"1")])
    dest = tmp_path / "out"
    assert npm.safe_extract(tgz, dest) == 2
    assert (dest / "dist" / "a.js").read_bytes() == b"1"
    assert (dest / "package.json").is_file()


@pytest.mark.parametrize("name", ["../evil.js", "package/../../evil.js", "/etc/evil.js",
                                  "package/dist/../../../evil.js", "package\\..\\evil.js"])
def test_safe_extract_refuses_escaping_paths(tmp_path: pathlib.Path, name: str) -> None:
    tgz = tmp_path / "bad.tgz"
    _tar(tgz, [_file("package/package.json", b"{}"), _file(name, b"x")])
    with pytest.raises(npm.NpmError, match="unsafe path"):
        npm.safe_extract(tgz, tmp_path / "out")
    assert not (tmp_path / "evil.js").exists()


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE,
                                  tarfile.FIFOTYPE])
def test_safe_extract_refuses_links_and_devices(tmp_path: pathlib.Path, kind: bytes) -> None:
    info = tarfile.TarInfo("package/link")
    info.type = kind
    info.linkname = "/etc/passwd"
    tgz = tmp_path / "bad.tgz"
    _tar(tgz, [(info, None)])
    with pytest.raises(npm.NpmError, match="not a regular file"):
        npm.safe_extract(tgz, tmp_path / "out")
    assert not (tmp_path / "out" / "link").exists()


def test_safe_extract_refuses_files_outside_the_package_folder(tmp_path: pathlib.Path) -> None:
    tgz = tmp_path / "flat.tgz"
    _tar(tgz, [_file("index.js", b"x")])
    with pytest.raises(npm.NpmError, match="outside the package folder"):
        npm.safe_extract(tgz, tmp_path / "out")
