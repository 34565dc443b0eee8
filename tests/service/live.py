"""A live `outlayer serve` subprocess on a free loopback port, for real clients."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outlayer.testing import live


@dataclass
class LiveNode:
    url: str
    key_file: Path
    workdir: Path
    process: subprocess.Popen[bytes]
    log: Path

    def rpc(self, method: str, params: object) -> dict[str, Any]:
        return live.rpc(self.url, method, params)


@contextmanager
def live_node(workdir: Path, *args: str, timeout: float = 60.0) -> Iterator[LiveNode]:
    """`outlayer serve [args]` in `workdir` (fresh state and keys there); stopped on exit."""
    with live.serve(workdir, *args, timeout=timeout) as (url, process):
        yield LiveNode(url, workdir / ".outlayer" / "keys" / "localnet" / "test.near.json",
                       workdir, process, workdir / "serve.log")
