"""The CLI with wasm contracts: deploy detects wasm by its magic bytes; call and view."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from outlayer.cli import app


def run(db: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, ["--db", str(db), *args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout


def run_json(db: Path, *args: str, code: int = 0) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(run(db, *args, "--json", code=code).splitlines()[-1])
    return payload


@pytest.fixture
def wasm_file(tmp_path: Path, counter_wasm: bytes) -> Path:
    path = tmp_path / "counter.wasm"
    path.write_bytes(counter_wasm)
    return path


def test_deploy_call_view_a_wasm_counter(tmp_path: Path, wasm_file: Path) -> None:
    db = tmp_path / "state.db"
    info = run_json(db, "deploy", "counter.test", str(wasm_file))["result"]
    assert info["methods"] == ["decrement", "get_count", "increment", "reset"]
    assert info["warnings"] == []  # undeclared names are a JS matter
    assert info["code_size"] == wasm_file.stat().st_size
    assert "get_count" in run(db, "deploy", "counter2.test", str(wasm_file))
    called = run_json(db, "call", "counter.test", "increment")
    assert called["status"] == "success" and called["result"] == 1
    assert called["logs"] == ["Counter incremented to 1"]
    assert run_json(db, "view", "counter.test", "get_count")["result"] == 1
    assert "1" in run(db, "view", "counter.test", "get_count")
    failed = run_json(db, "view", "counter.test", "increment", code=1)
    assert failed["error"]["kind"] == "ProhibitedInView"


def test_deploy_refuses_invalid_wasm(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x0a\xff")
    out = run_json(db, "deploy", "bad.test", str(bad), code=2)  # a user error
    assert out["error"]["kind"] == "CompileError"
    assert "invalid wasm module" in out["error"]["message"]
    missing = run_json(db, "view", "bad.test", "get_count", code=2)  # nothing was written
    assert missing["error"]["kind"] == "AccountNotFound"


def test_deploy_of_wasm_shows_how_it_runs_not_the_js_realm(tmp_path: Path,
                                                           wasm_file: Path) -> None:
    db = tmp_path / "state.db"
    text = " ".join(run(db, "deploy", "counter.test", str(wasm_file)).split())
    assert "realm" not in text and "locked down" not in text
    assert "direct wasm" in text and "1,024..2,048 pages" in text
    assert re.search(r"\d+ env imports", text), text
    js = tmp_path / "c.js"
    js.write_text("export function f() { return 1; }\n")
    assert "locked down" in run(db, "deploy", "js.test", str(js))
