"""The host process must not die by a signal on deep input or a deep contract.

Two native-stack crashes were found (see outlayer.vm.alt_bn128 and outlayer.host.stack):
py_ecc raised the recursion limit to 100,000 on import, so json.loads of ~65,000 nested
arrays (C recursion, one frame per level) ran the 8 MiB stack out and the process died by
SIGSEGV; and a contract filling its 2 MiB wasm stack on a thread with a smaller native stack
ran off its end. Each dangerous case runs in a subprocess: a crash is a negative returncode.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import threading

import pytest

from outlayer.host import stack
from outlayer.host.engine import MAX_WASM_STACK

DEEP = 100_000

DEEP_JSON = textwrap.dedent(f"""
    import json, sys, threading
    from fastapi.testclient import TestClient
    from outlayer.chain.simulator import ContractSimulator
    from outlayer.service import rpc
    from outlayer.service.app import ServiceConfig, create_app

    assert sys.getrecursionlimit() <= 1000, sys.getrecursionlimit()
    sim = ContractSimulator("quickjs", db_path=":memory:")
    sim.deploy("deep.test", b"export function n() {{ return near.input().length; }}"
                            b" export function give() {{ const n = {DEEP};"
                            b" near.valueReturn('['.repeat(n) + ']'.repeat(n)); }}")
    assert sim.call("deep.test", "n").ok  # a contract has run in this process
    text = "[" * {DEEP} + "]" * {DEEP}
    deep_args = '{{"a":' + text + "}}"
    result = sim.call("deep.test", "n", deep_args)  # deep args reach the contract as text
    assert result.error["kind"] == "InvalidArguments", result.error
    assert "RangeError" in result.error["message"], result.error
    given = sim.call("deep.test", "give")  # deep JSON returned: kept as text
    assert given.ok and given.result == text, given.error
    nested = []
    for _ in range({DEEP}):
        nested = [nested]
    try:
        sim.call("deep.test", "n", {{"a": nested}})
        raise SystemExit("100,000 nested Python lists were serialized")
    except Exception as exc:
        assert "nested too deeply" in str(exc), exc
    caught = []
    def parse_on_thread():
        try:
            json.loads(text)
        except RecursionError as exc:
            caught.append(exc)
    worker = threading.Thread(target=parse_on_thread)
    worker.start()
    worker.join()
    assert caught
    rpc._check_depth = lambda body: None  # the node's guard off: json.loads gets it all
    with TestClient(create_app(ServiceConfig(db=":memory:"))) as http:
        body = b'{{"jsonrpc":"2.0","id":1,"method":"status","params":' + text.encode() + b"}}"
        reply = http.post("/", content=body, headers={{"content-type": "application/json"}})
        assert reply.status_code == 200 and "error" in reply.json(), reply.text
        assert "result" in http.post("/", json={{"jsonrpc": "2.0", "id": 2,
                                                "method": "status", "params": []}}).json()
    print("survived")
""")

SMALL_STACK = textwrap.dedent("""
    import threading
    from outlayer.chain.simulator import ContractSimulator
    from outlayer.host.stack import ThreadStackTooSmall
    from outlayer.service.node import Node

    SRC = b"function r(n) { return r(n + 1) + 1; } export function deep() { return r(0); }" \\
          b" export function nest() { return (0, eval)('('.repeat(100000) + '1' + ')'.repeat(100000)); }"
    sim = ContractSimulator("quickjs", db_path=":memory:")
    height = sim.height
    try:
        sim.deploy("small.test", SRC)
        raise SystemExit("the main thread's small stack ran a contract")
    except ThreadStackTooSmall as exc:
        assert "ulimit -s" in exc.message, exc.message
    assert sim.height == height and sim.store.get_account("small.test") is None
    node = Node(lambda: ContractSimulator("quickjs", db_path=":memory:"))
    def calls(chain):
        chain.deploy("small.test", SRC)
        return [chain.call("small.test", m).error["kind"] for m in ("deep", "nest")]
    assert node.call(calls) == ["JSException", "WasmTrap"], node.call(calls)
    node.close()
    print("survived")
""")


def run_script(source: str, *, stack_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit_stack() -> None:
        if stack_limit is not None:
            hard = resource.getrlimit(resource.RLIMIT_STACK)[1]
            resource.setrlimit(resource.RLIMIT_STACK, (stack_limit, hard))

    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=600, env=env, preexec_fn=limit_stack)


def assert_survived(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}:\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0 and proc.stdout.strip() == "survived", proc.stderr[-3000:]


def test_deep_json_everywhere_is_an_error_not_a_crash() -> None:
    """100,000 nested arrays: as contract args (text and Python objects), parsed on a thread,
    and as a JSON-RPC body with the node's depth guard off, after a contract has run."""
    assert_survived(run_script(DEEP_JSON))


def test_importing_the_vm_keeps_the_recursion_limit() -> None:
    proc = subprocess.run([sys.executable, "-c", "import sys; before = sys.getrecursionlimit();"
                           " import outlayer.vm.logic; print(sys.getrecursionlimit() - before)"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "0", proc.stderr


def test_small_main_stack_refuses_and_the_node_thread_runs() -> None:
    """Main stack 1.5 MiB (under the 2 MiB wasm stack): the simulator refuses to run a
    contract there, writing nothing; the node's chain thread has its own known stack, so a
    contract that fills its wasm stack there ends in a trap."""
    if resource.getrlimit(resource.RLIMIT_STACK)[1] not in (resource.RLIM_INFINITY,) and \
            resource.getrlimit(resource.RLIMIT_STACK)[1] < (3 << 19):
        pytest.skip("the hard stack limit is below the test's")
    assert_survived(run_script(SMALL_STACK, stack_limit=3 << 19))


def test_thread_stack_sizes() -> None:
    size = stack.thread_stack_size()
    assert size is not None and size >= stack.MIN_THREAD_STACK, size  # Linux: readable
    assert stack.MIN_THREAD_STACK > MAX_WASM_STACK
    seen: list[object] = []

    def small() -> None:
        seen.append(stack.thread_stack_size())
        try:
            stack.check_thread_stack()
        except stack.ThreadStackTooSmall as exc:
            seen.append(exc)

    previous = threading.stack_size(1 << 20)
    try:
        worker = threading.Thread(target=small)
        worker.start()
    finally:
        threading.stack_size(previous)
    worker.join()
    assert seen[0] == 1 << 20 and isinstance(seen[1], stack.ThreadStackTooSmall)
    with stack.guest_thread_stack():
        worker = threading.Thread(target=lambda: seen.append(stack.thread_stack_size()))
        worker.start()
    worker.join()
    assert isinstance(seen[2], int) and seen[2] >= stack.GUEST_THREAD_STACK
    assert threading.stack_size() == previous
