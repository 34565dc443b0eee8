"""near-sandbox's command line, as near-workspaces passes it, parsed for `outlayer near-sandbox`
(the end-to-end run is tests/service/test_workspaces.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from outlayer import near_sandbox
from outlayer.errors import UserError


def test_init_and_run_as_near_workspaces_calls_them(tmp_path: Path) -> None:
    home = tmp_path / "w1"
    assert near_sandbox.parse(["--home", str(home), "init"]) == near_sandbox.Invocation(
        "init", home)
    run = near_sandbox.parse(["--home", str(home), "run", "--rpc-addr", "0.0.0.0:4123",
                              "--network-addr", "0.0.0.0:4124"])
    assert (run.command, run.home, run.port) == ("run", home, 4123)


@pytest.mark.parametrize(("argv", "names"), [
    (["init"], "--home DIR is required"),
    (["--home", "d"], "expected `init` or `run`"),
    (["--home", "d", "run"], "needs --rpc-addr"),
    (["--home", "d", "run", "--rpc-addr", "0.0.0.0:http"], "no valid port"),
    (["--home", "d", "run", "--rpc-addr", "0.0.0.0:70000"], "no valid port"),
    (["--home", "d", "init", "--boot-nodes", "x"], "unsupported argument '--boot-nodes'"),
    (["--home"], "--home needs a value"),
])
def test_anything_else_is_refused_by_name(argv: list[str], names: str) -> None:
    with pytest.raises(UserError, match=names.replace("(", r"\(")):
        near_sandbox.parse(argv)


def test_run_links_the_root_key_where_near_workspaces_reads_it(tmp_path: Path) -> None:
    home = tmp_path / "node"
    near_sandbox.prepare(near_sandbox.Invocation("run", home, 3030))
    near_sandbox.prepare(near_sandbox.Invocation("run", home, 3030))  # a rerun relinks
    link = home / near_sandbox.VALIDATOR_KEY
    assert link.is_symlink() and Path(os.readlink(link)) == near_sandbox.ROOT_KEY


def test_the_shim_is_an_executable_named_near_sandbox(tmp_path: Path) -> None:
    shim = near_sandbox.write_shim(tmp_path / "bin")
    assert shim.name == "near-sandbox" and os.access(shim, os.X_OK)
    assert "outlayer.cli near-sandbox" in shim.read_text()
    env = near_sandbox.environment(tmp_path / "bin")
    assert env["NEAR_SANDBOX_BINARY_PATH"] == str((tmp_path / "bin").resolve())
    assert env["NEAR_SANDBOX_BIN_PATH"]
