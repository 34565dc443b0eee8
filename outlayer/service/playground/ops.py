"""What the playground does on the chain: every function here runs on the node's chain thread
as ``fn(sim, ...)`` (see `outlayer.service.node.Node`), so it may touch the simulator freely.

The answers are plain JSON: a call's result with its receipts as a tree (the page draws it),
the contract's state as a table, and the determinism check's per-field digests.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from outlayer.chain import global_contracts
from outlayer.chain.accounts import DEFAULT_SIGNER
from outlayer.chain.codec import text_to_bytes
from outlayer.chain.modes import engine_for
from outlayer.chain.outcomes import ExecutionOutcome
from outlayer.chain.result import CallResult, exported_names
from outlayer.chain.runtime import probe_code
from outlayer.chain.simulator import DEFAULT_GAS, ContractSimulator
from outlayer.chain.store import Account
from outlayer.errors import OutLayerError, UserError
from outlayer.realm.options import RealmOptions

MAX_RUNS = 1000
#: the file name a pasted near-sdk-js source is bundled as (TypeScript is a superset of JS)
PLAYGROUND_ENTRY = "contract.ts"


@dataclass(frozen=True)
class CallSpec:
    """One call or view as the page asks for it (args: JSON object text, None = {})."""

    account_id: str
    method: str
    args: str | None = None
    view: bool = False
    signer_id: str = DEFAULT_SIGNER
    deposit: str = "0"
    gas: str = str(DEFAULT_GAS)


def sdkjs_bundle(source: str) -> str | None:
    """The near-sdk-js bundle of `source` when it imports near-sdk-js (None otherwise), built
    as `outlayer build` builds a file: the source is written to a folder named by its hash
    under the cache (so a rebuild of the same text is a cache hit) and bundled there.
    Seconds on a miss: call it off the chain thread. Errors name `contract.ts:line:col`."""
    from outlayer.host.engine import cache_root
    from outlayer.sdkjs.bundler import BuildError, build, needs_build

    code = source.encode("utf-8")
    if not needs_build(Path("contract.js"), code):  # JS that imports near-sdk-js
        return None
    folder = cache_root() / "playground" / hashlib.sha256(code).hexdigest()[:32]
    folder.mkdir(parents=True, exist_ok=True)
    entry = folder / PLAYGROUND_ENTRY
    if not entry.is_file() or entry.read_bytes() != code:
        entry.write_bytes(code)
    try:
        return build(entry).code.decode("utf-8")
    except BuildError as exc:
        message = exc.message
        for shown in (str(entry), os.path.relpath(entry)):
            message = message.replace(shown, PLAYGROUND_ENTRY)
        raise BuildError(message) from None


def deploy(sim: ContractSimulator, account_id: str, source: str,
           realm: dict[str, Any] | None, *, built: bool = False) -> dict[str, Any]:
    """Deploy (creating the account if needed); a refused deploy writes nothing. `built`:
    `source` is a near-sdk-js bundle `sdkjs_bundle` made (the answer says so)."""
    info = sim.deploy(account_id, source, realm=realm)
    return {**info, "built_with": "near-sdk-js" if built else None,
            "contract": contract(sim, account_id)}


def contract(sim: ContractSimulator, account_id: str) -> dict[str, Any]:
    """The account, its exported methods and its state table."""
    account = sim.account(account_id)
    return {"account_id": account_id,
            "balance": str(account["balance"]), "locked": str(account["locked"]),
            "storage_usage": account["storage_usage"], "code_hash": account["code_hash"],
            "global_contract": sim.global_contract(account_id),
            "methods": methods(sim, account), "state": state_table(sim, account_id),
            "block_height": sim.height}


def methods(sim: ContractSimulator, account: dict[str, Any]) -> list[str]:
    """The contract's exported functions: its code is loaded (not called) in a view
    context, the way `ContractSimulator.deploy` lists them."""
    with sim.store.snapshot():
        found = global_contracts.contract_code(sim.store, Account(**account))
    if found is None:  # no contract, local or global (NEP-591)
        return []
    code = found[1]
    try:
        realm = RealmOptions.parse(json.loads(account["realm"] or "{}"))
        outcome = probe_code(engine_for(sim.execution_mode), code, sim.block, sim.params,
                             sim.limits, realm)
    except OutLayerError:  # code this engine cannot list (the page then offers no methods)
        return []
    return exported_names(outcome.error) or []


def state_table(sim: ContractSimulator, account_id: str) -> list[dict[str, Any]]:
    """Committed storage, one row per key (codec text encoding), with the raw sizes."""
    return [{"key": key, "value": value, "size": len(text_to_bytes(key))
             + len(text_to_bytes(value))} for key, value in sorted(sim.state(account_id).items())]


def call(sim: ContractSimulator, spec: CallSpec) -> dict[str, Any]:
    """Run the call (a transaction: a block, receipts) or the view; then show the state."""
    start = time.perf_counter()
    result = _execute(sim, spec)
    wall_ms = (time.perf_counter() - start) * 1000.0
    doc = describe(result, view=spec.view)
    doc["wall_time_ms"] = round(wall_ms, 3)
    doc["contract"] = contract(sim, spec.account_id)
    return doc


def _execute(sim: ContractSimulator, spec: CallSpec) -> CallResult:
    if spec.view:
        return sim.view(spec.account_id, spec.method, spec.args)
    return sim.call(spec.account_id, spec.method, spec.args, signer_id=spec.signer_id,
                    deposit=spec.deposit, gas=spec.gas)


def describe(result: CallResult, *, view: bool) -> dict[str, Any]:
    """`CallResult.to_json` plus the receipts as a tree (None for a view)."""
    doc = result.to_json()
    doc.pop("transaction_outcome")
    doc.pop("receipts_outcome")
    doc["kind"] = "view" if view else "call"
    doc["receipts"] = None if view else receipt_tree(result)
    return doc


def receipt_tree(result: CallResult) -> dict[str, Any] | None:
    """The transaction outcome with each receipt nested under the one that made it."""
    if result.transaction_outcome is None:
        return None
    by_id = {o.id: o for o in result.receipts_outcome}
    seen: set[str] = set()

    def node(outcome: ExecutionOutcome) -> dict[str, Any]:
        seen.add(outcome.id)
        doc = outcome.to_json()
        body = doc.pop("outcome")
        doc.update(body)
        doc["children"] = [node(by_id[rid]) for rid in outcome.receipt_ids
                           if rid in by_id and rid not in seen]
        return doc

    root = node(result.transaction_outcome)
    # receipts reached otherwise (e.g. a yield callback) hang under the root
    root["children"].extend(node(o) for o in result.receipts_outcome if o.id not in seen)
    return root


# --- determinism check ---------------------------------------------------------------------

class _Discard(Exception):
    """Raised inside a trial's store transaction so that everything it wrote rolls back."""


#: what the check compares, each as a digest per run
FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "result": lambda d: [d["status"], d["return_data"], d["error"], d["final_status"]],
    "logs": lambda d: d["logs"],
    "gas": lambda d: [d["gas_burnt"], d["gas_used"], d["total_gas_burnt"], d["tokens_burnt"]],
    "state_changes": lambda d: [d["state_changes"], d["attempted_changes"], d["state_root"]],
    "receipts": lambda d: [d["transaction_outcome"], d["receipts_outcome"]],
    "call_digest": lambda d: d["digest"],
}


def _sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _fingerprint(sim: ContractSimulator, result: CallResult) -> dict[str, Any]:
    """Everything deterministic about a run (not its host time), plus the chain's state
    root after it (a call seals blocks; a view leaves the root as it was)."""
    doc = result.to_json()
    doc.pop("execution_time_ms")
    root = sim.block.state_root
    doc["state_root"] = None if root is None else root.hex()
    return doc


def _chain_mark(sim: ContractSimulator) -> dict[str, Any]:
    block = sim.block
    return {"height": block.height, "block_hash": None if block.hash is None else block.hash.hex(),
            "state_root": None if block.state_root is None else block.state_root.hex()}


def trial(sim: ContractSimulator, run: Callable[[], Any]) -> Any:
    """`run()` inside one store transaction that is then rolled back: the call sees the
    real current state and produces its blocks and receipts, and the chain keeps none."""
    box: list[Any] = []
    try:
        with sim.store.transaction():
            box.append(run())
            raise _Discard
    except _Discard:
        pass
    return box[0]


def determinism(sim: ContractSimulator, spec: CallSpec, runs: int) -> dict[str, Any]:
    """Run the same call `runs` times, each on the current state, none of them kept; say
    whether every field of every run was bit-identical (one digest per field)."""
    if isinstance(runs, bool) or not isinstance(runs, int) or not 1 <= runs <= MAX_RUNS:
        raise UserError(f"runs must be an integer from 1 to {MAX_RUNS}, got {runs!r}")
    before = _chain_mark(sim)
    digests: dict[str, list[str]] = {name: [] for name in FIELDS}
    first: dict[str, Any] | None = None
    start = time.perf_counter()
    for _ in range(runs):
        doc = trial(sim, lambda: _fingerprint(sim, _execute(sim, spec)))
        first = first or doc
        for name, pick in FIELDS.items():
            digests[name].append(_sha(pick(doc)))
    elapsed = (time.perf_counter() - start) * 1000.0
    after = _chain_mark(sim)
    assert first is not None
    fields = {name: {"distinct": len(set(values)), "digest": values[0],
                     "identical": len(set(values)) == 1,
                     "first_difference": next((i for i, v in enumerate(values) if v != values[0]),
                                              None)}
              for name, values in digests.items()}
    whole = [_sha([digests[name][i] for name in FIELDS]) for i in range(runs)]
    return {"runs": runs, "kind": "view" if spec.view else "call",
            "identical": all(f["identical"] for f in fields.values()),
            "distinct_runs": len(set(whole)), "digest": whole[0], "fields": fields,
            "status": first["status"], "result": first["result"], "error": first["error"],
            "logs": first["logs"], "gas_burnt": first["gas_burnt"],
            "state_root_after_call": first["state_root"],
            "chain_before": before, "chain_after": after, "chain_unchanged": before == after,
            "total_ms": round(elapsed, 3), "per_run_ms": round(elapsed / runs, 3)}
