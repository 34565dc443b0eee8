"""Verifiable history (issue 4): N committed counter calls on a state file at NEAR's default
gas price (each call makes a call block and a refund block), then `outlayer --db FILE
verify` in a fresh process replaying and checking the whole history. Prints both times
side by side and the ratio verify / live run, plus the gas of one `increment` receipt and
of its refund receipt. Asserts nothing: figures depend on the machine.

Run: .venv/bin/python benchmarks/bench_history.py [--calls N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from outlayer.chain.simulator import ContractSimulator

ROOT = Path(__file__).resolve().parents[1]
COUNTER = ROOT / "examples" / "counter.js"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    calls = parser.parse_args().calls
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "state.db"
        sim = ContractSimulator(db_path=db)
        sim.deploy("counter.test", COUNTER)
        started = time.perf_counter()
        for _ in range(calls):
            result = sim.call("counter.test", "increment")
            assert result.ok, result.error
        live = time.perf_counter() - started
        final = sim.tx_outcome(result.tx_hash)
        gas = [o.gas_burnt for o in final.receipts_outcome]
        height = sim.height
        sim.close()
        started = time.perf_counter()
        run = subprocess.run([str(Path(sys.executable).with_name("outlayer")), "--db", str(db),
                              "verify"], capture_output=True, text=True, check=False)
        verify = time.perf_counter() - started
        if run.returncode != 0:
            sys.exit(f"verify failed: {run.stdout}{run.stderr}")
    print(f"{calls} committed increment calls: {live:.2f} s, height {height}")
    print(f"outlayer --db FILE verify (fresh process, whole history): {verify:.2f} s "
          f"= {verify / live:.2f}x the live run")
    print("last call's receipts, gas burnt: " + ", ".join(f"{g / 1e12:.3f} Tgas" for g in gas)
          + " (the call, then its refund)")


if __name__ == "__main__":
    main()
