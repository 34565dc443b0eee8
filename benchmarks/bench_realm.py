"""Snapshot benchmarks (issue 3): instantiate cost and the counter end to end.

Prints figures side by side with their baselines (the same work without snapshots);
asserts nothing. Run: .venv/bin/python benchmarks/bench_realm.py [--calls N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import wasmtime
from rich.console import Console
from rich.table import Table

from outlayer.host.delta import apply_delta
from outlayer.host.guest_build import guest_wasm_path
from outlayer.js.runner import runtime
from outlayer.vm.context import VMContext

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import bench_counter, pct  # noqa: E402  (a sibling script)

ROOT = Path(__file__).resolve().parent.parent
COUNTER = (ROOT / "examples" / "counter.js").read_bytes()


def bench_instantiate(n: int = 2000) -> dict[str, float]:
    rt = runtime()
    eng = rt.engine
    delta = rt.prepare(*rt.compile(COUNTER)[:2])
    assert delta is not None
    plain = wasmtime.Module(eng, guest_wasm_path().read_bytes())
    linker = wasmtime.Linker(eng)
    from outlayer.guest_os.dispatch import define_syscalls
    from outlayer.guest_os.wasi import define_wasi

    define_wasi(linker)
    define_syscalls(linker)
    plain_pre = linker.instantiate_pre(plain)

    def timed(fn) -> float:  # noqa: ANN001
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
        return pct(samples, 0.5) * 1e3

    def plain_inst() -> None:
        plain_pre.instantiate(wasmtime.Store(eng))

    def boot_inst() -> None:
        rt._pre.instantiate(wasmtime.Store(eng))

    def contract_inst() -> None:
        store = wasmtime.Store(eng)
        inst = rt._pre.instantiate(store)
        ex = inst.exports(store)
        mem = ex["memory"]
        assert isinstance(mem, wasmtime.Memory)
        apply_delta(store, ex, mem, delta)

    return {"plain guest (needs _initialize + ol_boot after)": timed(plain_inst),
            "boot snapshot": timed(boot_inst),
            "boot snapshot + counter delta (ready for ol_call)": timed(contract_inst),
            "delta_kb": delta.data_bytes / 1024}


def bench_paths(n: int = 500) -> dict[str, float]:
    rt = runtime()
    ctx = VMContext("c.test", "a.test", "a.test", input=b"{}")
    out = {}
    for label, snap in (("module evaluated per call", False), ("contract snapshot", True)):
        samples = []
        for _ in range(n):
            t = time.perf_counter()
            o = rt.run(COUNTER, "increment", ctx, {}, snapshot=snap)
            samples.append(time.perf_counter() - t)
            assert o.error is None, o.error
        out[label] = pct(samples, 0.5) * 1e3
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    opts = ap.parse_args()
    console = Console()
    runtime()

    inst = bench_instantiate()
    t = Table(title="instantiate (new Store + instance), p50")
    t.add_column("what")
    t.add_column("ms")
    t.add_column("target")
    for k, v in inst.items():
        if k != "delta_kb":
            t.add_row(k, f"{v:.3f}", "<= 0.2" if "boot" in k else "")
    t.add_row("counter delta size", f"{inst['delta_kb']:.0f} KB", "")
    console.print(t)

    paths = bench_paths()
    t = Table(title="counter.increment through the runner, p50 (no database)")
    t.add_column("path")
    t.add_column("ms")
    for k, v in paths.items():
        t.add_row(k, f"{v:.3f}")
    console.print(t)

    c = bench_counter(opts.calls)
    t = Table(title="counter.increment through ContractSimulator, state committed (SQLite)")
    for col in ("p50 ms", "p99 ms", "calls/s (one core)", "targets"):
        t.add_column(col)
    t.add_row(f"{c['p50_ms']:.3f}", f"{c['p99_ms']:.3f}", f"{c['calls_per_s']:.0f}",
              "p50 <= 1 ms, >= 1,000 calls/s")
    console.print(t)


if __name__ == "__main__":
    main()
