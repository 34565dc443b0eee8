"""`outlayer serve` start-up: a busy port is a clear error before anything is announced or
written; a genesis account configured without a key is warned about."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from outlayer.service.app import PLAYGROUND_OPEN, is_loopback, keyless_warnings
from outlayer.service.config import NodeConfig
from outlayer.testing.live import outlayer_command
from tests.service.live import live_node


def test_busy_port_is_a_clear_error_and_writes_nothing(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k != "OUTLAYER_DB"}
        run = subprocess.run([outlayer_command(), "serve", "--port", str(port)], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert f"port {port} on 127.0.0.1 is in use: pass --port" in output, output
    assert "JSON-RPC on" not in output and "created genesis account key" not in output
    assert "Errno" not in output and "Traceback" not in output
    assert not (tmp_path / ".outlayer").exists()  # no state, no config, no keys


def test_keyless_genesis_account_is_warned_about(tmp_path):
    (tmp_path / "node.toml").write_text('[[accounts]]\naccount_id = "test.near"\n')
    with live_node(tmp_path, "--config", "node.toml") as live:
        account = live.rpc("query", {"request_type": "view_account", "finality": "final",
                                     "account_id": "test.near"})
        assert "result" in account  # the account exists, with no key
        log = live.log.read_text()
    assert "warning: genesis account test.near has no public_key in node.toml" in log, log
    assert "no transaction can be signed for it" in log
    assert "listens beyond this machine" not in log  # 127.0.0.1, the default


def test_listening_beyond_this_machine_is_warned_about(tmp_path):
    """The playground API signs nothing: a node reachable from elsewhere says so."""
    with live_node(tmp_path, "--host", "0.0.0.0") as live:
        assert "result" in live.rpc("status", [])
        log = live.log.read_text()
    assert f"warning: {PLAYGROUND_OPEN}" in log, log


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("127.1.2.3", True), ("0.0.0.0", False), ("::", False), ("192.168.1.5", False),
    ("example.test", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_keyless_warnings_name_each_keyless_account():
    config = NodeConfig.from_json({"accounts": [
        {"account_id": "a.near"},
        {"account_id": "b.near", "public_key": "ed25519:" + "1" * 32}]})
    warnings = keyless_warnings(config)
    assert len(warnings) == 1 and warnings[0].startswith("genesis account a.near has no")
