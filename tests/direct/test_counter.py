"""The C counter (examples/direct/counter.c) behaves as examples/counter.js does, and its
build tool (outlayer.direct.build) compiles from the one syscall table."""

from __future__ import annotations

from pathlib import Path

import pytest

from outlayer.chain.simulator import ContractSimulator
from outlayer.direct import build
from outlayer.syscalls import ENV

from .conftest import EXAMPLES


def test_c_counter_matches_the_js_counter(sim: ContractSimulator, counter_wasm: bytes) -> None:
    sim.deploy("c.test", counter_wasm)
    sim.deploy("js.test", EXAMPLES / "counter.js")
    for method in ("increment", "increment", "decrement", "decrement", "decrement", "reset",
                   "increment"):
        c, js = sim.call("c.test", method), sim.call("js.test", method)
        assert (c.status, c.result, c.logs) == (js.status, js.result, js.logs), method
        assert sim.state("c.test") == sim.state("js.test")
        assert 0 < c.gas_burnt < 300 * 10**12
    assert sim.view("c.test", "get_count").result == sim.view("js.test", "get_count").result == 1


def test_header_declares_every_env_import() -> None:
    header = build.env_header()
    for sc in ENV.values():
        assert f'import_name("{sc.name}")' in header
    assert "uint32_t msg_ptr, uint32_t filename_ptr" in header  # abort takes u32s
    assert "outlayer_guest_error" not in header


def test_build_is_cached_and_reports_compile_errors(tmp_path: Path) -> None:
    source = tmp_path / "ok.c"
    source.write_text('#include "near_env.h"\nNEAR_METHOD(hi) { value_return(2, NEAR_PTR("hi")); }\n')
    first = build.build_c(source, tmp_path / "ok.wasm")
    assert first[:4] == b"\0asm" and (tmp_path / "ok.wasm").read_bytes() == first
    assert build.build_c(source) == first
    broken = tmp_path / "broken.c"
    broken.write_text('#include "near_env.h"\nNEAR_METHOD(hi) { no_such_function(); }\n')
    with pytest.raises(build.BuildError, match="no_such_function"):
        build.build_c(broken)
    assert build.main([str(source), "-o", str(tmp_path / "cli.wasm")]) == 0
    assert (tmp_path / "cli.wasm").read_bytes() == first
