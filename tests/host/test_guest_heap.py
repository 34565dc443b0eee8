"""The guest's memory layout for cheap contract snapshots: the guest heap (guest/ol_heap.c),
permanent boot atoms (guest/patches/quickjs-pin-atoms.patch) and the contract compartments
made at boot (guest/realm_prelude.js). A contract's snapshot is the pages its evaluation
changed over the boot snapshot, and every call pays a page fault for each of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import wasmtime

from outlayer.guest_os import session as _session
from outlayer.host import snapshot as sn
from outlayer.host.delta import PAGE
from outlayer.js.runner import runtime
from outlayer.realm.options import RealmOptions
from outlayer.vm.context import VMContext

from .conftest import DictStorage, RunFn

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


# ------------------------------------------------------------------- snapshot size


@pytest.mark.parametrize("name, max_pages", [
    ("counter.js", 32),  # 19 when written (480 KB before the heap, the pinned atoms and
    ("nft.js", 80),  # the boot-time compartments); 46 for nft.js (was 152)
])
def test_a_contract_snapshot_is_a_few_pages(name: str, max_pages: int) -> None:
    rt = runtime()
    for flags in (0, RealmOptions(True, True).flags):
        script, _, _ = rt.compile((EXAMPLES / name).read_bytes())
        delta = rt.prepare(script, flags)
        assert delta is not None
        assert delta.data_bytes % PAGE == 0
        assert delta.data_bytes // PAGE <= max_pages, (name, flags, delta.data_bytes // PAGE)


# -------------------------------------------------------------------------- heap

# Random allocation, growth, shrinking and release of strings (up to 20 KB), arrays,
# objects with many properties, typed arrays (up to 30 KB), Maps, JSON and cycles,
# folded into one number. The expected values came from QuickJS's own allocator.
STRESS = """
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}
function hash(str) {
  let h = 2166136261;
  for (let i = 0; i < str.length; i++) { h ^= str.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
  return h;
}
export function run({ seed, rounds }) {
  const r = rng(seed);
  const live = [];
  let acc = 0;
  for (let i = 0; i < rounds; i++) {
    const op = r() % 10;
    if (op === 0) {
      live.push('x'.repeat(r() % 20000) + i);
    } else if (op === 1) {
      const a = [];
      const n = r() % 800;
      for (let j = 0; j < n; j++) a.push(j ^ i);
      live.push(a);
    } else if (op === 2) {
      const o = {};
      const n = r() % 300;
      for (let j = 0; j < n; j++) o['p' + (r() % 1000)] = j;
      live.push(o);
    } else if (op === 3) {
      const t = new Uint8Array(r() % 30000);
      for (let j = 0; j < t.length; j += 97) t[j] = j & 255;
      live.push(t);
    } else if (op === 4 && live.length) {
      live.splice(r() % live.length, 1 + (r() % 3));
    } else if (op === 5) {
      let s = '';
      const n = r() % 300;
      for (let j = 0; j < n; j++) s += String.fromCharCode(32 + (r() % 90));
      live.push(s);
      acc ^= hash(s);
    } else if (op === 6) {
      const m = new Map();
      for (let j = 0; j < 100; j++) m.set('k' + (r() % 300), j);
      for (let j = 0; j < 40; j++) m.delete('k' + (r() % 300));
      live.push(m);
      acc ^= m.size;
    } else if (op === 7) {
      const v = { a: live.length, b: [i, String(i), { c: 'z'.repeat(r() % 5000) }] };
      acc ^= hash(JSON.stringify(JSON.parse(JSON.stringify(v))));
    } else if (op === 8) {
      const a = { i }; const b = { a }; a.b = b;
      const f = () => a.i + b.a.i;
      live.push(f);
      acc ^= f();
    } else {
      const a = Array.from({ length: r() % 500 }, (_, j) => j);
      a.length = a.length >> 1;
      live.push(a);
    }
    if (live.length > 60) live.splice(0, 30);
  }
  let total = acc;
  for (const v of live) {
    if (typeof v === 'string') total ^= hash(v.slice(0, 100)) ^ v.length;
    else if (Array.isArray(v)) total ^= v.length ^ (v[v.length - 1] | 0);
    else if (v instanceof Uint8Array) total ^= v.length ^ v[0];
    else if (v instanceof Map) total ^= v.size;
    else if (typeof v === 'function') total ^= v();
    else total ^= Object.keys(v).length;
  }
  return total >>> 0;
}
"""


@pytest.mark.parametrize("seed, expected", [(1, 748660873), (2, 4100760076), (3, 2101862434)])
def test_heap_survives_an_allocation_stress(run: RunFn, seed: int, expected: int) -> None:
    out = run(STRESS, "run", {"seed": seed, "rounds": 250})
    assert out.error is None, out.error
    assert out.return_data == str(expected).encode()


def test_memory_error_is_catchable_and_the_call_goes_on(run: RunFn) -> None:
    """The heap's reserve lets QuickJS build the error; freeing lets the call go on."""
    src = """
    export function f() {
      let a = [];
      try { for (;;) a.push(new Float64Array(100000)); }
      catch (e) { a = null; return String(e) + ' / ' + JSON.stringify(new Array(1000).fill(7)).length; }
    }"""
    out = run(src, "f")
    assert out.error is None, out.error
    assert out.return_data == b'"InternalError: out of memory / 2001"'


def test_memory_error_uncaught_is_memory_limit_exceeded(run: RunFn) -> None:
    out = run("export function f() { return new Uint8Array(80 * 1024 * 1024).length; }", "f")
    assert out.error is not None and out.error.kind == "MemoryLimitExceeded", out.error


# ------------------------------------------------------------------------- atoms


def test_symbols_and_atoms_after_the_boot_snapshot(run: RunFn) -> None:
    """Atoms made before the boot snapshot are permanent, later ones are counted: symbols
    (global or not) and property names made and dropped over and over stay valid."""
    src = """
    const keep = Symbol.for('kept');
    export function f() {
      const o = {};
      for (let i = 0; i < 3000; i++) {
        const g = Symbol.for('g' + (i % 7));
        o[g] = i;
        o[Symbol('s' + i)] = i;
        o['name' + (i % 50)] = i;
        delete o['name' + ((i + 25) % 50)];
        o[keep] = Symbol.for('kept') === keep;
      }
      return [Reflect.ownKeys(o).length, o[Symbol.for('g3')], o[keep], Symbol.keyFor(keep),
              String(Symbol.iterator), typeof near.log,
              Object.getOwnPropertyNames(JSON).sort().join()];
    }"""
    for _ in range(2):  # the second call starts from the same contract snapshot
        out = run(src, "f")
        assert out.error is None, out.error
        assert out.return_data == (
            b'[3033,2999,true,"kept","Symbol(Symbol.iterator)","function",'
            b'"isRawJSON,parse,rawJSON,stringify"]')


# ------------------------------------------------------------------- compartments


@pytest.mark.parametrize("random, date_now", [(False, False), (True, False), (False, True),
                                              (True, True)])
def test_each_realm_option_set_has_its_compartment(random: bool, date_now: bool) -> None:
    rt = runtime()
    src = b"""export function f() {
      let r, d;
      try { r = typeof Math.random(); } catch (e) { r = 'refused'; }
      try { d = Date.now(); } catch (e) { d = 'refused'; }
      return [r, d, typeof Compartment, typeof lockdown, Object.isFrozen(Math)];
    }"""
    ctx = VMContext("c.test", "a.test", "a.test", input=b"{}", block_timestamp=5_000_000_000)
    out = rt.run(src, "f", ctx, DictStorage(), realm=RealmOptions(random, date_now))
    assert out.error is None, out.error
    want = [("number" if random else "refused"), (5000 if date_now else "refused"),
            "undefined", "undefined", True]
    assert json.loads(out.return_data) == want


def test_ol_load_runs_once_even_after_a_failure() -> None:
    """Each compartment serves one contract: the bridge refuses a second ol_load in an
    instance, also when the first one failed (its compartment may be half used)."""
    rt = runtime()
    reports: list[str] = []

    def steps(store: wasmtime.Store, ex: Any, put: Any) -> None:
        for code in (b"throw new Error('top level')", b"({})"):
            src = put(code)
            with pytest.raises((wasmtime.Trap, wasmtime.WasmtimeError)):
                ex["ol_load"](store, src, len(code), 0)
            reports.append(str(_session.current().error))

    sn.run_init(rt.module, steps, capture_with=lambda *_: None)
    assert "Uncaught Error: top level" in reports[0]
    assert "ol_load after a failed ol_load" in reports[1]
