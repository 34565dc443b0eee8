"""OutLayer in near-sandbox's place, for near-workspaces' default ("sandbox") network.

near-workspaces' sandbox Worker cannot attach to a running node: for every Worker it runs
``near-sandbox --home DIR init`` and then ``near-sandbox --home DIR run --rpc-addr
HOST:PORT``, with the binary taken from ``$NEAR_SANDBOX_BINARY_PATH/near-sandbox`` (when
``NEAR_SANDBOX_BIN_PATH`` is set too: near-sandbox 0.1.5 overwrites the first without it).
`write_shim` puts a ``near-sandbox`` there that answers that command line with `main`: ``run``
is ``outlayer serve --port PORT`` in DIR, whose root account test.near has its key linked as
``DIR/validator_key.json``, where near-workspaces reads it. Nothing is downloaded.
"""

from __future__ import annotations

import shlex
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from outlayer.errors import UserError

#: where `outlayer serve` writes the root account's key (near-cli's format), relative to DIR
ROOT_KEY = Path(".outlayer") / "keys" / "localnet" / "test.near.json"
#: the file near-workspaces reads the root key from
VALIDATOR_KEY = "validator_key.json"
SHIM_NAME = "near-sandbox"


@dataclass(frozen=True)
class Invocation:
    """One near-sandbox command line: `command` is "init" or "run"."""

    command: str
    home: Path
    port: int | None = None


def parse(argv: Sequence[str]) -> Invocation:
    """near-sandbox's arguments as near-workspaces passes them; anything else is refused by
    name (a one-node chain has no peers: `--network-addr` is accepted and unused)."""
    home: str | None = None
    port: int | None = None
    command: str | None = None
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("--home", "--rpc-addr", "--network-addr"):
            if not args:
                raise UserError(f"near-sandbox: {arg} needs a value")
            value = args.pop(0)
            if arg == "--home":
                home = value
            elif arg == "--rpc-addr":
                text = value.rsplit(":", 1)[-1]
                if not text.isdigit() or not 0 < int(text) < 65536:
                    raise UserError(f"near-sandbox: --rpc-addr {value!r} has no valid port")
                port = int(text)
        elif arg in ("init", "run") and command is None:
            command = arg
        else:
            raise UserError(f"near-sandbox (outlayer): unsupported argument {arg!r}; "
                            "expected --home DIR init | --home DIR run --rpc-addr HOST:PORT")
    if home is None:
        raise UserError("near-sandbox: --home DIR is required")
    if command is None:
        raise UserError("near-sandbox: expected `init` or `run`")
    if command == "run" and port is None:
        raise UserError("near-sandbox: `run` needs --rpc-addr HOST:PORT")
    return Invocation(command, Path(home), port)


def prepare(invocation: Invocation) -> None:
    """Make the home folder; for `run`, link where the root key will be written."""
    invocation.home.mkdir(parents=True, exist_ok=True)
    if invocation.command == "run":
        link = invocation.home / VALIDATOR_KEY
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(ROOT_KEY)


def write_shim(folder: Path) -> Path:
    """Write `folder/near-sandbox`, running this Python's OutLayer (the venv it was installed
    in), and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / SHIM_NAME
    command = shlex.join([sys.executable, "-m", "outlayer.cli", "near-sandbox"])
    shim.write_text("#!/bin/sh\n# near-sandbox's command line, served by OutLayer "
                    "(outlayer workspaces-shim)\n"
                    f'exec {command} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return shim


def environment(folder: Path) -> dict[str, str]:
    """The variables that make near-workspaces run the shim in `folder`."""
    return {"NEAR_SANDBOX_BIN_PATH": "1", "NEAR_SANDBOX_BINARY_PATH": str(folder.resolve())}
