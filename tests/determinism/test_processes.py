"""The same calls in separate processes give byte-identical digests and results.

The processes run at the same time, each in its own working directory with its own time
zone, locale and Python hash seed (conftest.HOST_ENVIRONMENTS): none of that may reach a
contract. The contracts carry a marker of their own, and the processes run before this one
does, so on a fresh cache (CI) or after a guest change the contract snapshots are made by
the processes, concurrently; otherwise they are read from the disk cache.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from outlayer.js.executor import QuickJSExecutor

from .conftest import OUTLAYER, comparable, python_json, run_parallel
from .probes import KITCHEN_SINK, PROBES, STACKS
from .test_probes import EXPECTED, STACK_EXPECTED
from .test_realm_options import RANDOM
from .test_repeat import BUSY, STATE

PROCESSES = 3
#: code hashes of their own: no other test makes (or reads) these contracts' snapshots
MARK = "\n// tests/determinism/test_processes.py\n"

#: Runs every (file, method, args, realm) job with the Python API; prints {job: result}.
API_SCRIPT = r"""
import json, sys
from pathlib import Path
from outlayer.js.executor import QuickJSExecutor
jobs = json.loads(Path(sys.argv[1]).read_text())
out = {}
for key, (file, method, args, state, realm, gas) in jobs.items():
    ex = QuickJSExecutor(realm=realm, gas=gas)
    result = ex.execute_contract(Path(file).read_text(), method, args, state).to_json()
    result.pop("execution_time_ms")
    out[key] = result
print(json.dumps(out, sort_keys=True))
"""

OPEN = {"allow_math_random": True, "allow_date_now": True}


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("contracts")
    files = {"kitchen": KITCHEN_SINK, "stacks": STACKS, "busy": BUSY, "random": RANDOM}
    paths = {}
    for name, text in files.items():
        # the marker goes last: line numbers in stacks stay as pinned
        paths[name] = root / f"{name}.js"
        paths[name].write_text(text + MARK)
    return paths


def _jobs(sources: dict[str, Path]) -> dict[str, list[Any]]:
    jobs: dict[str, list[Any]] = {}
    for name in PROBES:
        jobs[f"probe:{name}"] = [str(sources["kitchen"]), name, None, None, None, "300T"]
    for method in list(STACK_EXPECTED) + ["uncaught", "line1"]:
        jobs[f"stack:{method}"] = [str(sources["stacks"]), method, None, None, None, "300T"]
    jobs["busy"] = [str(sources["busy"]), "busy", {"step": 1}, STATE, None, "300T"]
    jobs["busy:open"] = [str(sources["busy"]), "busy", {"step": 1, "realm": True}, STATE, OPEN,
                         "300T"]
    jobs["busy:fail"] = [str(sources["busy"]), "fail_after_writing", {"step": 2}, STATE, None,
                         "300T"]
    jobs["busy:gas"] = [str(sources["busy"]), "spin", None, STATE, None, "7T"]
    jobs["random"] = [str(sources["random"]), "draw", {"n": 8}, None, OPEN, "300T"]
    jobs["clock"] = [str(sources["random"]), "clock", None, None, OPEN, "300T"]
    return jobs


def test_api_runs_in_separate_processes_are_identical(sources: dict[str, Path],
                                                      tmp_path: Path) -> None:
    jobs = _jobs(sources)
    job_file = tmp_path / "jobs.json"
    job_file.write_text(json.dumps(jobs))
    outputs = run_parallel([python_json(API_SCRIPT, str(job_file))] * PROCESSES, tmp_path)
    assert outputs[0] == outputs[1] == outputs[2]  # byte-identical, digests included
    results = json.loads(outputs[0])
    assert set(results) == set(jobs)
    assert len({r["digest"] for r in results.values()}) == len(jobs)

    # ... identical to this process as well, and to the pinned values
    for key, (file, method, args, state, realm, gas) in jobs.items():
        mine = QuickJSExecutor(realm=realm, gas=gas).execute_contract(
            Path(file).read_text(), method, args, state).to_json()
        assert comparable(mine) == results[key], key
    for name in PROBES:
        assert results[f"probe:{name}"]["result"] == EXPECTED[name], name
    for method, expected in STACK_EXPECTED.items():
        assert results[f"stack:{method}"]["result"] == expected, method
    assert results["busy:fail"]["error"]["kind"] == "JSException"
    assert results["busy:gas"]["error"]["kind"] == "GasExceeded"
    assert results["busy:gas"]["gas_burnt"] == 7 * 10**12
    assert results["busy"]["status"] == results["busy:open"]["status"] == "success"


def test_cli_runs_in_separate_processes_are_identical(sources: dict[str, Path],
                                                      tmp_path: Path) -> None:
    """`outlayer run --json`: the one JSON object is the same in every process (but for
    the host time), and its digest is the Python API's."""
    busy = str(sources["busy"])
    state = json.dumps(STATE)
    commands = {
        "plain": ([busy, "busy", "--args", '{"step": 1}', "--state", state], None),
        "open": ([busy, "busy", "--args", '{"step": 1, "realm": true}', "--state", state,
                  "--allow-math-random", "--allow-date-now"], OPEN),
        "gas": ([busy, "spin", "--gas", "5T", "--state", state], None),
    }
    # every command in PROCESSES processes, all at once
    names = [name for name in commands for _ in range(PROCESSES)]
    outs = run_parallel([[OUTLAYER, "run", *commands[name][0], "--json"] for name in names],
                        tmp_path, ok_codes=(0, 1))
    by_name: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for name, out in zip(names, outs, strict=True):
        doc = json.loads(out)
        assert isinstance(doc.pop("execution_time_ms"), float)
        by_name[name].append(doc)
    for name, (argv, realm) in commands.items():
        docs = by_name[name]
        assert docs[0] == docs[1] == docs[2], name
        # the args text as the CLI passes it: byte for byte (a dict would be re-serialized)
        args = argv[argv.index("--args") + 1] if "--args" in argv else None
        gas = argv[argv.index("--gas") + 1] if "--gas" in argv else "300T"
        mine = QuickJSExecutor(realm=realm, gas=gas).execute_contract(
            Path(argv[0]).read_text(), argv[1], args, STATE)
        assert docs[0]["digest"] == mine.digest, name
        assert docs[0]["result"] == mine.result, name
    assert by_name["gas"][0]["error"]["kind"] == "GasExceeded"
    assert by_name["gas"][0]["gas_burnt"] == 5 * 10**12
    assert len(by_name["open"][0]["result"]["extra"]) == 3


CHAIN_SCRIPT = r"""
import json, sqlite3, sys
from pathlib import Path
from outlayer.chain.simulator import ContractSimulator

db, src = sys.argv[1], Path(sys.argv[2])
busy = (src / "busy.js").read_text()
kitchen = (src / "kitchen.js").read_text()
steps = []
with ContractSimulator(db_path=db) as sim:
    sim.create_account("alice.test", "50NEAR")
    sim.deploy("app.test", busy, realm={"allow_math_random": True, "allow_date_now": True})
    sim.deploy("plain.test", busy)
    sim.deploy("probes.test", kitchen)
    calls = [
        ("app.test", "busy", {"step": 1, "realm": True}, {}),
        ("plain.test", "busy", {"step": 5}, {"signer_id": "alice.test", "deposit": "1NEAR"}),
        ("app.test", "busy", {"step": 2, "realm": True}, {"signer_id": "alice.test"}),
        ("app.test", "fail_after_writing", {"step": 3}, {}),
        ("plain.test", "spin", {}, {"gas": "5T"}),
        ("probes.test", "iteration_order", {}, {}),
        ("probes.test", "nan_bit_patterns", {}, {}),
        ("plain.test", "busy", {"step": 1}, {"signer_id": "bob.test"}),
    ]
    for account, method, args, kw in calls:
        r = sim.call(account, method, args, **kw)
        steps.append([r.status, r.digest, r.tx_hash, r.block_height, r.gas_burnt, r.result,
                      r.error, r.logs, r.state_changes])
    v = sim.view("app.test", "busy", {"step": 0, "realm": False})
    steps.append(["view", v.status, v.digest, v.error])
    state = {a: sim.state(a) for a in ("app.test", "plain.test", "probes.test")}
    accounts = {a: {k: str(x) for k, x in sim.account(a).items()}
                for a in ("app.test", "plain.test", "alice.test", "bob.test")}

def plain(column, value):
    if isinstance(value, bytes):
        return value.hex()
    if column == "outcome" and isinstance(value, str):
        doc = json.loads(value)
        doc.pop("execution_time_ms", None)
        return doc
    return value

con = sqlite3.connect(db)
tables = {}
for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
    cur = con.execute(f'SELECT * FROM "{name}"')
    cols = [d[0] for d in cur.description]
    rows = [[plain(c, v) for c, v in zip(cols, row)] for row in cur.fetchall()]
    tables[name] = {"columns": cols, "rows": sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))}
con.close()
print(json.dumps({"steps": steps, "state": state, "accounts": accounts, "tables": tables},
                 sort_keys=True))
"""


def test_chain_sequence_in_two_processes_ends_identical(sources: dict[str, Path],
                                                        tmp_path: Path) -> None:
    """Deploy + a sequence of calls on a fresh SQLite database, in two processes: the same
    digests, transaction hashes, state, accounts and database rows."""
    argvs = [python_json(CHAIN_SCRIPT, str(tmp_path / f"chain{i}.db"), str(sources["busy"].parent))
             for i in range(2)]
    first, second = (json.loads(o) for o in run_parallel(argvs, tmp_path))
    assert first == second
    steps = first["steps"]
    statuses = [s[0] for s in steps[:-1]]
    assert statuses == ["success", "success", "success", "failure", "failure", "success",
                        "success", "success"]
    assert steps[5][5] == EXPECTED["iteration_order"]
    assert len({s[1] for s in steps[:-1]}) == len(steps) - 1  # every call its own digest
    assert first["state"]["app.test"]["n"] == "3"  # 0 + 1 + 2; the failed call kept nothing
    assert first["state"]["plain.test"]["n"] == "6"
    assert {"accounts", "blocks", "code", "state", "transactions"} <= set(first["tables"])
    assert len(first["tables"]["transactions"]["rows"]) >= 8
