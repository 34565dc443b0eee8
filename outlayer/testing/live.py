"""A live `outlayer serve` on a free loopback port, for tests and benchmarks that drive it
with real NEAR clients (near-api-js, py-near, plain HTTP)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def outlayer_command() -> str:
    """The `outlayer` script of this Python's environment (a subprocess needs the path)."""
    beside = Path(sys.executable).with_name("outlayer")
    found = str(beside) if beside.exists() else shutil.which("outlayer")
    if found is None:
        raise RuntimeError("the `outlayer` command is not installed (pip install -e .)")
    return found


def rpc(url: str, method: str, params: Any, timeout: float = 30.0) -> dict[str, Any]:
    """One JSON-RPC request; the whole response object (result or error)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 0, "method": method, "params": params})
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply: dict[str, Any] = json.loads(response.read())
        return reply


@contextmanager
def serve(workdir: Path, *args: str, timeout: float = 60.0
          ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`outlayer serve --port P [args]` run in `workdir`; yields (url, process) once it
    answers `status`, and stops it (SIGTERM, then SIGKILL) on exit. Its output goes to
    `workdir/serve.log`, a file rather than a pipe, so a chatty node never blocks."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("OUTLAYER_DB", None)
    log = workdir / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen([outlayer_command(), "serve", "--port", str(port), *args],
                                   cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"outlayer serve exited: {log.read_text()}")
            try:
                rpc(url, "status", [])
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise RuntimeError("outlayer serve did not answer in time") from None
                time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
