"""Fixtures of the determinism suite: in-process runs and runs in separate processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from outlayer.js.executor import QuickJSExecutor

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
OUTLAYER = str(Path(PYTHON).parent / "outlayer")

#: Host settings that must not reach a contract: each separate process gets one of these
#: (time zone, locale, Python's hash seed, working directory differ between them).
HOST_ENVIRONMENTS: list[dict[str, str]] = [
    {"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "0"},
    {"TZ": "America/New_York", "LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8",
     "PYTHONHASHSEED": "1"},
    {"TZ": "Asia/Kolkata", "LANG": "ja_JP.UTF-8", "LC_ALL": "ja_JP.UTF-8",
     "PYTHONHASHSEED": "random"},
]


@pytest.fixture(scope="session")
def executor() -> QuickJSExecutor:
    return QuickJSExecutor()


def host_env(index: int) -> dict[str, str]:
    """The environment of the index-th separate process (the cache stays shared)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LC_", "PYTHONHASHSEED", "OUTLAYER_DB"))}
    env.update(HOST_ENVIRONMENTS[index % len(HOST_ENVIRONMENTS)])
    env["PYTHONPATH"] = str(REPO)
    return env


def start(argv: list[str], index: int, cwd: Path) -> subprocess.Popen[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(argv, cwd=cwd, env=host_env(index), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], *, ok_codes: tuple[int, ...] = (0,),
           timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode in ok_codes, f"exit {proc.returncode}\nstdout: {out}\nstderr: {err}"
    return out


def run_parallel(argvs: list[list[str]], tmp_path: Path, *,
                 ok_codes: tuple[int, ...] = (0,)) -> list[str]:
    """Run the commands at the same time, each in its own directory and host environment;
    their stdout texts, in order."""
    procs = [start(argv, i, tmp_path / f"proc{i}") for i, argv in enumerate(argvs)]
    return [finish(p, ok_codes=ok_codes) for p in procs]


def python_json(script: str, *args: str) -> list[str]:
    """argv of `python -c script args...` (the script prints one JSON document)."""
    return [PYTHON, "-c", script, *args]


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A CLI/`to_json` result without its one non-deterministic field (host time)."""
    return {k: v for k, v in doc.items() if k != "execution_time_ms"}
