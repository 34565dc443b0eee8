"""Instances from wasmtime's pooling allocator: a reused slot holds nothing of its last
call, slots come back after every call, and a process under an address-space limit gets
on-demand instances instead of an abort."""

from __future__ import annotations

import subprocess
import sys

import pytest

from outlayer.errors import MemoryAccessViolation
from outlayer.host import engine as _engine
from outlayer.host.memory import GuestMemory

from .conftest import RunFn

BUMP = """
let n = 0;
const junk = [];
export function bump() {
  n += 1;
  for (let i = 0; i < 2000; i++) junk.push('x'.repeat(i % 64));
  return n;
}
"""


def test_a_reused_slot_starts_from_the_contract_snapshot(run: RunFn) -> None:
    # more calls than the decommit batch: slots are reset and handed out again
    outs = [run(BUMP, "bump") for _ in range(3 * _engine.POOL_DECOMMIT_BATCH)]
    assert {o.return_data for o in outs} == {b"1"}
    assert len({(o.burnt_gas, o.used_gas) for o in outs}) == 1


def test_calls_give_their_slot_back(run: RunFn) -> None:
    # more calls than the pool has instances (wasmtime's default, 1,000)
    for _ in range(1100):
        out = run("export function f() { return 1; }", "f")
        assert out.error is None, out.error


def test_an_unbound_memory_refuses_access() -> None:
    memory = GuestMemory()
    memory.unbind()
    assert memory.size() == 0
    with pytest.raises(MemoryAccessViolation):
        memory.read(0, 1)
    with pytest.raises(MemoryAccessViolation):
        memory.write(0, b"x")


_LIMITED = """
import resource
resource.setrlimit(resource.RLIMIT_AS, (64 << 30, resource.RLIM_INFINITY))
import wasmtime
from outlayer.host import engine
assert not engine._pool_fits()
store = wasmtime.Store(engine.engine())
module = wasmtime.Module(engine.engine(), wasmtime.wat2wasm(
    '(module (memory 1) (func (export "f") (result i32) i32.const 7))'))
store.set_fuel(10**6)
store.set_epoch_deadline(10**6)
print(wasmtime.Instance(store, module, []).exports(store)["f"](store))
"""


def test_an_address_space_limit_gets_instances_on_demand() -> None:
    assert _engine._pool_fits()  # this test process: no limit, pooled
    done = subprocess.run([sys.executable, "-c", _LIMITED], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "7"
