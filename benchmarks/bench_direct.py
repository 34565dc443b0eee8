"""The same counter three ways (issue 6): a C contract on the direct wasm engine
(examples/direct/counter.c), a plain OutLayer JS contract (examples/counter.js) and a
near-sdk-js contract (examples/sdkjs/counter.ts, when its toolchain is installed).

Prints, per contract, for `increment`: gas burnt by the call, engine time (the engine's
`run` alone, storage in a dict) and end-to-end time (a transaction through
ContractSimulator, state committed to SQLite), p50 over N calls; then the ratios against
the C contract. Then where a JS call's gas goes (NEAR's contract loading fee, wasm
instructions, host functions) and its snapshot's size: every call writes those pages into
a fresh instance (~2 us each, copy-on-write faults and their release), the main cost of
a big contract such as a near-sdk-js bundle. Asserts nothing: figures depend on the
machine.

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

import wasmtime
from rich.console import Console
from rich.table import Table

from outlayer.chain.modes import engine_for
from outlayer.chain.simulator import ContractSimulator
from outlayer.direct.build import build_c
from outlayer.direct.prepare import is_wasm
from outlayer.host.delta import PAGE, Delta, apply_delta
from outlayer.host.fastcall import LazyExports
from outlayer.vm.context import VMContext
from outlayer.vm.gas import WASM_OP
from outlayer.vm.outcome import VMOutcome

ROOT = Path(__file__).resolve().parent.parent
TGAS = 10**12
#: what near-sdk-js reports for a minimal call: JS vs Rust (NEAR_HOST_ABI.md section 4)
SDK_JS_PUBLISHED = (8.39, 2.63)
#: a counter at 41: under "count" for the C and plain JS counters, as near-sdk-js's
#: serialized contract state for its counter (examples/sdkjs/counter.ts)
STATE = {b"count": b"41", b"STATE": b'{"count":41,"owner":"bench.test"}'}


def contracts() -> list[tuple[str, Callable[[], bytes | Path]]]:
    return [
        ("C, direct wasm", lambda: build_c(ROOT / "examples" / "direct" / "counter.c")),
        ("JS, OutLayer", lambda: ROOT / "examples" / "counter.js"),
        ("JS, near-sdk-js", lambda: ROOT / "examples" / "sdkjs" / "counter.ts"),
    ]


def engine_time(code: bytes, calls: int) -> tuple[float, VMOutcome]:
    """p50 ms of engine.run(increment) on fresh dict storage each time (the count at 41),
    and an outcome."""
    engine = engine_for("quickjs")
    times: list[float] = []
    last: VMOutcome | None = None
    for i in range(calls + 10):
        ctx = VMContext("counter.test", "bench.test", "bench.test", input=b"{}",
                        prepaid_gas=300 * TGAS, block_height=1 + i)
        start = time.perf_counter()
        outcome = engine.run(code, "increment", ctx, dict(STATE))
        elapsed = time.perf_counter() - start
        if outcome.error is not None and outcome.error.kind != "MethodNotFound":
            raise RuntimeError(f"increment failed: {outcome.error}")
        if i >= 10:  # warm-up: compiled module, snapshots, caches
            times.append(elapsed)
            last = outcome
    assert last is not None
    return statistics.median(times) * 1e3, last


def apply_time(delta: Delta, runs: int = 300) -> float:
    """p50 µs of bringing a fresh pooled instance to the snapshot (`apply_delta`): the
    copy-on-write faults of its pages, a cost every call of the contract pays."""
    from outlayer.js.runner import runtime

    rt = runtime()
    times: list[float] = []
    for _ in range(runs):
        store = wasmtime.Store(rt.engine)
        exports = LazyExports(store, rt._pre.instantiate(store))  # noqa: SLF001 - its pre
        memory = exports["memory"]
        start = time.perf_counter()
        apply_delta(store, exports, memory, delta)
        times.append(time.perf_counter() - start)
        store.close()
    return statistics.median(times) * 1e6


def breakdown(name: str, code: bytes, outcome: VMOutcome) -> str:
    """Where a JS call's gas goes, how many pages its contract's snapshot has and what
    applying them costs."""
    from outlayer.js.runner import runtime

    rt = runtime()
    script, flags, _ = rt.compile(code)
    delta = rt.prepare(script, flags)
    pages = "none (evaluated per call)" if delta is None else \
        f"{delta.data_bytes // PAGE} pages ({delta.data_bytes // 1024} KB), applied in " \
        f"{apply_time(delta):.0f} µs"
    loading = sum(gas for cost, (_, gas) in outcome.profile.items()
                  if cost.startswith("contract_loading"))
    wasm_ops, wasm = outcome.profile.get(WASM_OP, (0, 0))
    host = outcome.burnt_gas - loading - wasm
    return (f"{name}: {len(code) / 1024:.1f} KB of code, snapshot {pages}; engine-run gas: "
            f"loading {loading / TGAS:.3f}, wasm {wasm / TGAS:.3f} ({wasm_ops} ops), host "
            f"{host / TGAS:.3f} Tgas")


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
    notes: list[str] = []
    skipped: list[str] = []
    for name, make in contracts():
        try:
            source = make()
            chain_ms, gas, code = chain_time(source, args.calls)
            run_ms, outcome = engine_time(code, args.calls)
            if not is_wasm(code):
                notes.append(breakdown(name, code, outcome))
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
    for line in notes:
        console.print(line)
    for line in skipped:
        console.print(f"[yellow]skipped[/] {line}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
