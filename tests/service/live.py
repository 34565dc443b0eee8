"""A live `outlayer serve` subprocess on a free loopback port, for real clients."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outlayer.testing import live
from outlayer.testing.environment import missing

#: the near-api-js client scripts (an npm folder of their own)
JS_CLIENTS = Path(__file__).parents[1] / "clients" / "js"


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


def require_near_api_js() -> None:
    """Skip without Node.js (fail under OUTLAYER_REQUIRE_ALL=1); call it before a node
    starts. Node.js present but near-api-js not installed is a failure."""
    if shutil.which("node") is None:
        missing("Node.js (`node`) is not on PATH: install it to run the near-api-js client")
    assert (JS_CLIENTS / "node_modules" / "near-api-js").is_dir(), \
        "near-api-js is not installed: run scripts/setup_npm.sh"


def near_api_js(script: str, *args: str | Path, timeout: float = 120) -> dict[str, Any]:
    """Run tests/clients/js/SCRIPT with `args`; its report, the JSON object it prints last."""
    run = subprocess.run(["node", script, *map(str, args)], cwd=JS_CLIENTS,
                         capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stderr + run.stdout
    report: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return report
