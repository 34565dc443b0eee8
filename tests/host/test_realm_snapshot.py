"""The SES boot snapshot and a compartment contract's snapshot are byte-for-byte
reproducible: two fresh processes, empty caches, different hash seeds, same bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from outlayer.host.guest_build import guest_wasm_path
from outlayer.js.runner import SES_FILE, runtime
from outlayer.realm.npm import package_file

COUNTER = (Path(__file__).resolve().parents[2] / "examples" / "counter.js").read_bytes()

_SCRIPT = """
import hashlib, sys
from pathlib import Path
import outlayer.realm.npm as npm
files = {"ses": Path(sys.argv[2]), "acorn": Path(sys.argv[3])}
npm.package_file = lambda name, rel: files[name]
from outlayer.js import runner
rt = runner.QuickJSRuntime(Path(sys.argv[1]))
runner._runtime = rt
script, flags, _ = rt.compile(open(sys.argv[4], "rb").read())
delta = rt._make_delta(script, flags)
print(hashlib.sha256(rt.boot_wasm).hexdigest(), delta.digest())
"""


def test_boot_and_contract_snapshots_are_reproducible(tmp_path: Path) -> None:
    counter = tmp_path / "counter.js"
    counter.write_bytes(COUNTER)
    args = [str(guest_wasm_path()), str(package_file("ses", SES_FILE)),
            str(package_file("acorn", "dist/acorn.mjs")), str(counter)]
    procs = []
    for seed in ("1", "2"):
        cache = tmp_path / f"cache{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "OUTLAYER_CACHE": str(cache)}
        procs.append(subprocess.Popen([sys.executable, "-c", _SCRIPT, *args],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env=env))
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    first, second = (out.split() for out, _ in outs)
    assert first == second
    rt = runtime()
    import hashlib

    assert first[0] == hashlib.sha256(rt.boot_wasm).hexdigest()
    delta = rt.prepare(*rt.compile(COUNTER)[:2])
    assert delta is not None and first[1] == delta.digest()
