"""The same counter three ways (issue 6): a C contract on the direct wasm engine
(examples/direct/counter.c), a plain OutLayer JS contract (examples/counter.js) and a
near-sdk-js contract (examples/sdkjs/counter.ts, when its toolchain is installed).

Prints, per contract, for `increment`: gas burnt by the call, engine time (the engine's
`run` alone, storage in a dict) and end-to-end time (a transaction through
ContractSimulator, state committed to SQLite), p50 over N calls; then the ratios against
the C contract. Asserts nothing: figures depend on the machine.

Run: .venv/bin/python benchmarks/bench_direct.py [--calls N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from outlayer.chain.modes import engine_for
from outlayer.chain.simulator import ContractSimulator
from outlayer.direct.build import build_c
from outlayer.vm.context import VMContext

ROOT = Path(__file__).resolve().parent.parent
TGAS = 10**12
#: what near-sdk-js reports for a minimal call: JS vs Rust (NEAR_HOST_ABI.md section 4)
SDK_JS_PUBLISHED = (8.39, 2.63)


def contracts() -> list[tuple[str, Callable[[], bytes | Path]]]:
    return [
        ("C, direct wasm", lambda: build_c(ROOT / "examples" / "direct" / "counter.c")),
        ("JS, OutLayer", lambda: ROOT / "examples" / "counter.js"),
        ("JS, near-sdk-js", lambda: ROOT / "examples" / "sdkjs" / "counter.ts"),
    ]


def engine_time(code: bytes, calls: int) -> tuple[float, int]:
    """p50 ms of engine.run(increment) on fresh dict storage each time, and its gas."""
    engine = engine_for("quickjs")
    times, gas = [], 0
    for i in range(calls + 10):
        ctx = VMContext("counter.test", "bench.test", "bench.test", input=b"{}",
                        prepaid_gas=300 * TGAS, block_height=1 + i)
        start = time.perf_counter()
        outcome = engine.run(code, "increment", ctx, {b"count": b"41"})
        elapsed = time.perf_counter() - start
        if outcome.error is not None and outcome.error.kind != "MethodNotFound":
            raise RuntimeError(f"increment failed: {outcome.error}")
        if i >= 10:  # warm-up: compiled module, snapshots, caches
            times.append(elapsed)
            gas = outcome.burnt_gas
    return statistics.median(times) * 1e3, gas


def chain_time(source: bytes | Path, calls: int) -> tuple[float, int, bytes]:
    """p50 ms of sim.call(increment) end to end, its gas, and the deployed code."""
    with tempfile.TemporaryDirectory() as tmp, \
            ContractSimulator(db_path=Path(tmp) / "state.db") as sim:
        sim.deploy("counter.test", source)
        code_hash = sim.account("counter.test")["code_hash"]
        code = sim.store.get_code(code_hash) or b""
        times, gas = [], 0
        for i in range(calls + 10):
            start = time.perf_counter()
            result = sim.call("counter.test", "increment", {})
            elapsed = time.perf_counter() - start
            if not result.ok:
                raise RuntimeError(f"increment failed: {result.error}")
            if i >= 10:
                times.append(elapsed)
                gas = result.gas_burnt
    return statistics.median(times) * 1e3, gas, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    rows: list[tuple[str, float, float, int]] = []
    skipped: list[str] = []
    for name, make in contracts():
        try:
            source = make()
            chain_ms, gas, code = chain_time(source, args.calls)
            run_ms, _ = engine_time(code, args.calls)
        except Exception as exc:  # noqa: BLE001 - a missing toolchain skips one row
            skipped.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            continue
        rows.append((name, gas / TGAS, run_ms, chain_ms))
    table = Table(title=f"counter.increment, p50 of {args.calls} calls")
    for column in ("contract", "gas (Tgas)", "engine run (ms)", "transaction (ms)",
                   "gas ratio", "engine-time ratio", "transaction-time ratio"):
        table.add_column(column, justify="left" if column == "contract" else "right")
    base = rows[0] if rows and rows[0][0].startswith("C") else None
    for name, gas, run_ms, chain_ms in rows:
        ratios = (("—",) * 3 if base is None else
                  (f"{gas / base[1]:.2f}x", f"{run_ms / base[2]:.2f}x",
                   f"{chain_ms / base[3]:.2f}x"))
        table.add_row(name, f"{gas:.3f}", f"{run_ms:.3f}", f"{chain_ms:.3f}", *ratios)
    console = Console(width=130)
    console.print(table)
    js, rust = SDK_JS_PUBLISHED
    console.print(f"near-sdk-js's published figures for a minimal call: {js} Tgas in JS vs "
                  f"{rust} Tgas in Rust ({js / rust:.2f}x)")
    for line in skipped:
        console.print(f"[yellow]skipped[/] {line}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
