"""Pinned npm packages (SES, acorn): fetched once at setup, verified, never committed.

Each package is pinned by version *and* by the SRI integrity string its registry publishes
(the `integrity` of a package-lock file), so a changed upload, a corrupt download or a
swapped cache entry is refused before a single byte of it runs. npm itself only fetches
(`npm pack`, no install, no scripts); verification and extraction are done here, so what
runs is exactly the pinned tarball. Layout under `outlayer.host.engine.cache_root()`:

    npm/<name>-<version>.tgz    the verified tarball (drop one here to work offline)
    npm/<name>-<version>/       its contents (the tarball's top folder stripped)

Command: `python -m outlayer.realm.npm [--quiet]` fetches every pin.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from outlayer.host.engine import cache_root
from outlayer.host.guest_build import GuestBuildError, file_lock, staged_dir


@dataclass(frozen=True)
class NpmPin:
    """One npm package at one exact version, with the files OutLayer reads from it."""

    name: str
    version: str
    #: SRI string as the registry publishes it: "<algorithm>-<base64 digest>".
    integrity: str
    #: paths inside the package that must exist after extraction.
    files: tuple[str, ...]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def stem(self) -> str:
        """`<name>-<version>`, with a scope's `@` and `/` made file-name safe."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}"


#: the pins. Integrity values were read once with `npm view <spec> dist.integrity`.
PINS: dict[str, NpmPin] = {
    pin.name: pin
    for pin in (
        # SES: lockdown() + Compartment, loaded into the QuickJS guest (the frozen realm).
        NpmPin(
            "ses", "2.3.0",
            "sha512-qd3iWzDqGKllI2FmExKsWLrJwt+6COWb8jUdzaCn8Cq5OTeoXdQ62Gn/xLy0GWLORC3du6yBAVe/V0B0dLVKew==",
            ("dist/ses.umd.js", "dist/ses.umd.min.js"),
        ),
        # acorn: the parser of the deploy-time module -> compartment-script transform.
        NpmPin(
            "acorn", "8.19.0",
            "sha512-oJlA3XiRm7Cyk6qFD2Jn8ak9B7jSy0qy00ADO3+8dpT0LSjFihQYv4C02LFCSYJV3Q37xYwwRy5m+IpIiUzqWw==",
            ("dist/acorn.mjs",),
        ),
    )
}

_SRI_ALGORITHMS = ("sha512", "sha384", "sha256")
_COMPLETE = ".complete"


class NpmError(GuestBuildError):
    """A pinned package could not be fetched, verified or unpacked; the message says which.

    A guest build error: SES is an input of the guest's boot snapshot, and the CLI already
    reports those as one clear line.
    """


# ------------------------------------------------------------------------------ paths


def npm_root() -> pathlib.Path:
    return cache_root() / "npm"


def _pin(name: str) -> NpmPin:
    try:
        return PINS[name]
    except KeyError:
        raise NpmError(f"{name!r} is not a pinned npm package (pinned: {sorted(PINS)})") from None


def tarball_path(pin: NpmPin) -> pathlib.Path:
    return npm_root() / f"{pin.stem}.tgz"


def _extracted_dir(pin: NpmPin) -> pathlib.Path:
    return npm_root() / pin.stem


def _is_complete(pin: NpmPin, dest: pathlib.Path) -> bool:
    marker = dest / _COMPLETE
    return marker.is_file() and marker.read_text().strip() == pin.integrity


def package_dir(name: str) -> pathlib.Path:
    """The unpacked, verified package `name` (fetched first if it is not cached yet)."""
    pin = _pin(name)
    dest = _extracted_dir(pin)
    if _is_complete(pin, dest):
        return dest
    return ensure(pin)


def package_file(name: str, relpath: str) -> pathlib.Path:
    """One file of a pinned package, e.g. `package_file("ses", "dist/ses.umd.min.js")`."""
    rel = pathlib.PurePosixPath(relpath)
    if rel.is_absolute() or ".." in rel.parts:
        raise NpmError(f"not a path inside a package: {relpath!r}")
    path = package_dir(name) / rel
    if not path.is_file():
        raise NpmError(f"{_pin(name).spec} has no file {relpath}")
    return path


# ------------------------------------------------------------------------------ verify


def sri_digest(path: pathlib.Path, algorithm: str = "sha512") -> str:
    """The SRI string ("sha512-<base64>") of a file."""
    h = hashlib.new(algorithm)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return f"{algorithm}-{base64.b64encode(h.digest()).decode()}"


def verify_tarball(path: pathlib.Path, pin: NpmPin) -> None:
    """Refuse any tarball whose digest is not the pinned one."""
    algorithm = pin.integrity.split("-", 1)[0]
    if algorithm not in _SRI_ALGORITHMS:
        raise NpmError(f"{pin.spec}: unsupported integrity algorithm {algorithm!r}")
    got = sri_digest(path, algorithm)
    if got != pin.integrity:
        raise NpmError(
            f"integrity mismatch for {path.name} ({pin.spec}): expected {pin.integrity}, "
            f"got {got}; refusing to use it"
        )


# ------------------------------------------------------------------------------ fetch


def _npm_pack(pin: NpmPin, out: pathlib.Path) -> None:
    """`npm pack <spec>` into a private folder, then move the tarball to `out`."""
    npm = shutil.which("npm")
    if npm is None:
        raise NpmError(
            f"npm is not installed: it is needed once, at setup, to fetch {pin.spec}. "
            f"Install Node.js (with npm), or put the verified tarball at {out}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=".pack-", dir=out.parent))
    try:
        cmd = [npm, "pack", pin.spec, "--pack-destination", str(tmp), "--json",
               "--ignore-scripts", "--loglevel=error"]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        if proc.returncode != 0:
            raise NpmError(f"`npm pack {pin.spec}` failed (exit {proc.returncode}):\n"
                           f"{proc.stdout}{proc.stderr}")
        packed = [p for p in tmp.iterdir() if p.suffix == ".tgz"]
        with contextlib.suppress(ValueError, KeyError, IndexError, TypeError):
            packed = [tmp / json.loads(proc.stdout)[0]["filename"]]
        if len(packed) != 1 or not packed[0].is_file():
            raise NpmError(f"`npm pack {pin.spec}` produced no single tarball:\n{proc.stdout}")
        os.replace(packed[0], out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _verified_tarball(pin: NpmPin, report: Callable[[str], None]) -> pathlib.Path:
    """The pinned tarball, verified: the cached one if it checks out, else fetched anew."""
    tgz = tarball_path(pin)
    if tgz.is_file():
        try:
            verify_tarball(tgz, pin)
            return tgz
        except NpmError:
            tgz.unlink()  # stale or partial: fetch again, verify again
    report(f"fetching {pin.spec}")
    _npm_pack(pin, tgz)
    report(f"verifying {pin.spec}")
    try:
        verify_tarball(tgz, pin)
    except NpmError:
        os.replace(tgz, tgz.with_name(tgz.name + ".rejected"))  # kept for inspection
        raise
    return tgz


def safe_extract(tgz: pathlib.Path, dest: pathlib.Path) -> int:
    """Unpack regular files of an npm tarball into `dest`, its top folder stripped.

    Refuses absolute paths, `..`, links and device files rather than skipping them: the
    tarball is verified first, so any of these means the pin itself is wrong.
    Returns the number of files written.
    """
    count = 0
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar.getmembers():
            path = pathlib.PurePosixPath(member.name)
            if path.is_absolute() or ".." in path.parts or "\\" in member.name:
                raise NpmError(f"unsafe path in {tgz.name}: {member.name!r}")
            if member.isdir():
                continue
            if not member.isfile():
                raise NpmError(f"{tgz.name}: {member.name!r} is not a regular file")
            parts = [p for p in path.parts if p != "."]
            if len(parts) < 2:  # npm puts everything under one top folder ("package/")
                raise NpmError(f"{tgz.name}: {member.name!r} is outside the package folder")
            out = dest.joinpath(*parts[1:])
            src = tar.extractfile(member)
            assert src is not None
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(src.read())
            out.chmod(0o644)
            count += 1
    return count


def _extract(pin: NpmPin, tgz: pathlib.Path, report: Callable[[str], None]) -> pathlib.Path:
    """Unpack into a temp folder, check the files OutLayer needs, then rename into place."""
    dest = _extracted_dir(pin)
    report(f"extracting {pin.spec}")
    with staged_dir(dest, _COMPLETE, pin.integrity) as tmp:
        if not safe_extract(tgz, tmp):
            raise NpmError(f"{tgz.name} is empty")
        missing = [f for f in pin.files if not (tmp / f).is_file()]
        if missing:
            raise NpmError(f"{pin.spec} lacks {missing}")
    return dest


def ensure(pin: NpmPin, *, report: Callable[[str], None] | None = None) -> pathlib.Path:
    """The unpacked package of `pin`: fetched, verified and extracted unless cached."""
    say = report or (lambda _text: None)
    dest = _extracted_dir(pin)
    with file_lock(npm_root() / f"{pin.stem}.lock"):
        if _is_complete(pin, dest):
            return dest
        return _extract(pin, _verified_tarball(pin, say), say)


def fetch_all(quiet: bool = False) -> dict[str, pathlib.Path]:
    """Fetch, verify and unpack every pin (cached ones cost a stat); name -> folder."""
    if quiet:
        return {name: ensure(pin) for name, pin in PINS.items()}
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    out: dict[str, pathlib.Path] = {}
    for name, pin in PINS.items():
        cached = _is_complete(pin, _extracted_dir(pin))
        with console.status(f"npm {pin.spec}") as status:
            out[name] = ensure(pin, report=lambda text: status.update(f"npm: {text}"))
        state = "cached" if cached else "fetched + verified"
        console.print(f"[green]✓[/] npm {pin.spec} [dim]({state}, {pin.integrity[:19]}…)[/]")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m outlayer.realm.npm [--quiet]`: fetch every pin, print their folders."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m {__name__}", description=__doc__)
    parser.add_argument("--quiet", action="store_true", help="no status display")
    args = parser.parse_args(argv)
    try:
        dirs = fetch_all(quiet=args.quiet)
    except NpmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in dirs.values():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
