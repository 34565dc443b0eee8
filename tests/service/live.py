"""A live `outlayer serve` subprocess on a free loopback port, for real clients."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveNode:
    url: str
    key_file: Path
    workdir: Path
    process: subprocess.Popen[str]
    log: Path

    def rpc(self, method: str, params: object) -> dict[str, object]:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method,
                           "params": params}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


@contextmanager
def live_node(workdir: Path, *args: str, timeout: float = 60.0) -> Iterator[LiveNode]:
    """`outlayer serve [args]` in `workdir` (fresh state and keys there); stopped on exit."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("OUTLAYER_DB", None)
    log = workdir / "serve.log"  # a file, not a pipe: a chatty node never blocks on it
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("outlayer")), "serve", "--port", str(port),
             *args], cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    node = LiveNode(f"http://127.0.0.1:{port}/",
                    workdir / ".outlayer" / "keys" / "localnet" / "test.near.json", workdir,
                    process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"outlayer serve exited: {log.read_text()}")
            try:
                node.rpc("status", [])
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise RuntimeError("outlayer serve did not answer in time") from None
                time.sleep(0.2)
        yield node
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
