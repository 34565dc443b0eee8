"""Core runtime benchmarks (issue 2): prints a table of figures and ratios; asserts nothing.

(a) counter.increment end to end through the Python API, state committed to SQLite:
    p50 / p99 latency and calls per second;
(b) CPU-bound JavaScript in OutLayer vs native QuickJS-ng of the same version (PyPI
    `quickjs-ng`, imported as `quickjs`), same source, same process, as a ratio;
(c) the cost of one `near.storageRead` from JavaScript (host call and all), from a loop
    with reads minus the same loop without.

Run: .venv/bin/python benchmarks/bench_core.py [--calls N]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from outlayer.chain.simulator import ContractSimulator
from outlayer.js.runner import runtime
from outlayer.vm.context import VMContext
from outlayer.vm.params import DEFAULT_PARAMS

ROOT = Path(__file__).resolve().parent.parent
BIG_GAS = 10**18  # CPU benchmarks measure time, not NEAR's 300 Tgas cap
BIG_PARAMS = dataclasses.replace(DEFAULT_PARAMS, max_gas_burnt=BIG_GAS, max_gas_burnt_view=BIG_GAS)

CPU_SOURCE = """
export function loop(a) { let s = 0; for (let i = 0; i < a.n; i++) { s += i; } return s; }
export function json(a) {
  let total = 0;
  for (let i = 0; i < a.n; i++) {
    const doc = { id: i, name: "item" + i, tags: ["a", "b", "c"], nested: { x: i * 2, y: [1, 2, 3] } };
    const text = JSON.stringify(doc);
    total += JSON.parse(text).nested.x + text.length;
  }
  return total;
}
export function empty(a) { return 0; }
"""

READ_SOURCE = """
export function reads(a) { let n = 0; for (let i = 0; i < a.n; i++) { if (near.storageRead('k') !== null) n++; } return n; }
export function noreads(a) { let n = 0; for (let i = 0; i < a.n; i++) { if (a.k !== null) n++; } return n; }
"""


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def bench_counter(calls: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        sim = ContractSimulator(execution_mode="quickjs", db_path=Path(tmp) / "state.db")
        sim.deploy("counter.test", ROOT / "examples" / "counter.js")
        for _ in range(20):  # warm up: compiled module, caches
            sim.call("counter.test", "increment", {})
        lat = []
        t0 = time.perf_counter()
        for _ in range(calls):
            t = time.perf_counter()
            r = sim.call("counter.test", "increment", {})
            lat.append(time.perf_counter() - t)
            assert r.status == "success", r.error
        total = time.perf_counter() - t0
        sim.close()
    return {"p50_ms": pct(lat, 0.5) * 1e3, "p99_ms": pct(lat, 0.99) * 1e3,
            "calls_per_s": calls / total}


def _run(code: bytes, method: str, args: str) -> tuple[float, object]:
    ctx = VMContext("bench.test", "bench.test", "bench.test", input=args.encode(),
                    prepaid_gas=BIG_GAS)
    t = time.perf_counter()
    out = runtime().run(code, method, ctx, {}, BIG_PARAMS)
    dt = time.perf_counter() - t
    if out.error is not None:
        raise SystemExit(f"{method} failed: {out.error}")
    return dt, out


def _native(source: str, call: str) -> float:
    import quickjs  # PyPI quickjs-ng: native QuickJS-ng 0.17

    script = source.replace("export function", "function")
    t = time.perf_counter()
    ctx = quickjs.Context()
    ctx.eval(script)
    ctx.eval(call)
    return time.perf_counter() - t


def _best(fn, reps: int = 5) -> float:  # noqa: ANN001
    return min(fn() for _ in range(reps))


def bench_cpu() -> list[tuple[str, float, float, int]]:
    code = CPU_SOURCE.encode()
    rows = []
    for name, n in (("loop", 1_000_000), ("json", 20_000)):
        args = f'{{"n": {n}}}'
        ours = _best(lambda: _run(code, name, args)[0])  # noqa: B023
        fuel_gas = _run(code, name, args)[1].burnt_gas  # type: ignore[attr-defined]
        native = _best(lambda: _native(CPU_SOURCE, f"{name}({args})"))  # noqa: B023
        rows.append((f"{name} (n={n})", ours, native, fuel_gas))
    return rows


def bench_storage_read(n: int = 20_000) -> float:
    code = READ_SOURCE.encode()
    args = f'{{"n": {n}, "k": 1}}'
    ctx = VMContext("bench.test", "bench.test", "bench.test", input=args.encode(),
                    prepaid_gas=BIG_GAS)
    store = {b"k": b"hello"}

    def timed(method: str) -> float:
        t = time.perf_counter()
        out = runtime().run(code, method, ctx, store, BIG_PARAMS)
        assert out.error is None, out.error
        return time.perf_counter() - t

    with_reads = min(timed("reads") for _ in range(5))
    without = min(timed("noreads") for _ in range(5))
    return (with_reads - without) / n


HOSTCALL_WAT = """(module
  (import "outlayer_near" "400" (func $read (param i64 i64 i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 64) "k")
  (func (export "loop") (param $n i32) (result i64) (local $hits i64)
    (block $done (loop $next
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $hits (i64.add (local.get $hits)
        (call $read (i64.const 1) (i64.const 64) (i64.const 0))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $hits)))"""


def bench_host_call(n: int = 50_000) -> float:
    """The storage_read syscall alone: wasm -> trampoline -> fuel sync -> VMLogic -> back."""
    import wasmtime

    from outlayer.guest_os import session as _session
    from outlayer.guest_os.dispatch import define_syscalls
    from outlayer.host.engine import engine
    from outlayer.host.fastcall import Fuel, context_ptr
    from outlayer.host.memory import GuestMemory
    from outlayer.vm.logic import VMLogic

    linker = wasmtime.Linker(engine())
    define_syscalls(linker)
    module = wasmtime.Module(engine(), wasmtime.wat2wasm(HOSTCALL_WAT))
    best = float("inf")
    for _ in range(5):
        store = wasmtime.Store(engine())
        store.set_epoch_deadline(10**6)
        inst = linker.instantiate(store, module)
        mem = GuestMemory()
        mem.bind(store, inst.exports(store)["memory"])  # type: ignore[arg-type]
        ctx = VMContext("bench.test", "bench.test", "bench.test", prepaid_gas=BIG_GAS)
        logic = VMLogic(ctx, {b"k": b"hello"}, mem, BIG_PARAMS)
        sess = _session.Session(logic=logic, memory=mem, clock_ns=0, random_seed=bytes(32))
        sess.fuel = Fuel(context_ptr(store))
        sess.fuel.set_fuel(logic.gas.remaining_fuel())
        sess.metered = True
        _session.enter(sess)
        try:
            t = time.perf_counter()
            hits = inst.exports(store)["loop"](store, n)  # type: ignore[operator]
            best = min(best, time.perf_counter() - t)
        finally:
            _session.leave()
        assert hits == n
    return best / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1000)
    opts = ap.parse_args()
    console = Console()
    runtime()  # build/load the guest before timing anything

    c = bench_counter(opts.calls)
    t = Table(title="(a) counter.increment through ContractSimulator (SQLite, committed)")
    for col in ("calls", "p50 ms", "p99 ms", "calls/s", "target p50"):
        t.add_column(col)
    t.add_row(str(opts.calls), f"{c['p50_ms']:.2f}", f"{c['p99_ms']:.2f}",
              f"{c['calls_per_s']:.0f}", "<= 5 ms")
    console.print(t)

    t = Table(title="(b) CPU-bound JS: OutLayer (wasm, fuel on) vs native QuickJS-ng 0.17")
    for col in ("workload", "OutLayer ms", "native ms", "ratio", "gas (Tgas)", "target"):
        t.add_column(col)
    for name, ours, native, gas in bench_cpu():
        t.add_row(name, f"{ours * 1e3:.1f}", f"{native * 1e3:.1f}", f"{ours / native:.2f}x",
                  f"{gas / 1e12:.1f}", "<= 2.0x")
    console.print(t)

    per_call = bench_host_call()
    per_read = bench_storage_read()
    t = Table(title="(c) storage_read cost")
    for col in ("measure", "µs", "target"):
        t.add_column(col)
    t.add_row("host call: storage_read syscall from wasm (gas, overlay, register)",
              f"{per_call * 1e6:.2f}", "<= 5 µs")
    t.add_row("near.storageRead from JS (+ JS call, key/value strings)",
              f"{per_read * 1e6:.2f}", "")
    console.print(t)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
