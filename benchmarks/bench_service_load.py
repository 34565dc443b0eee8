"""Load on a live `outlayer serve` (issue 5, item 5): concurrent clients sending signed
transactions over loopback JSON-RPC, then checks that the node lost, duplicated and
reordered nothing it should not have.

What it does:

1. Writes a node config with its own genesis accounts and fresh ed25519 keys: a contract
   account (`load.near`) and one signer account per client (`c<i>.near`), and starts a
   real `outlayer serve` (subprocess, free port on 127.0.0.1, state in a temp dir).
2. Deploys a small JS contract by a signed DeployContract transaction: `increment` counts
   calls per predecessor (`n:<account>`) and in total (`total`) and returns the caller's
   new count.
3. Runs `--clients` concurrent clients (asyncio + one httpx2 AsyncClient) for `--seconds`:
   each fetches a recent block hash (`block`, finality final; every `--block-every` txs,
   default 1 as near-api-js does per transaction), signs `increment` with its own key and
   the next nonce, and sends it by `broadcast_tx_commit`. Per-tx latency is the
   broadcast_tx_commit round trip.
4. Checks, each printed as PASS/FAIL (exit status 1 on any FAIL):
   - no errors: every request answered, every outcome SuccessValue, under the hash the
     client computed, with the caller's expected count (the k-th call of a client
     returns k: its calls ran once each, in its order);
   - no duplicates: the hashes the clients got back are all distinct;
   - tx lookup: `tx` finds every one of them, succeeded, with its signer and nonce;
   - contract state agrees: `n:<account>` equals that client's successful calls, `total`
     their sum, and each signer's access key nonce its last nonce;
   - history: the node's recorded history (read from its state file after it stopped)
     holds each client transaction exactly once and no other signed transaction than the
     deploy;
   - serial replay: a fresh in-process `ContractSimulator` with the same genesis (the
     service's own genesis code), submitting the same raw signed transactions one by one
     in the node's committed order, ends at the same height, state root and block hash as
     the node (`status` sync_info). The comparison is exact, nothing is masked: the chain
     is deterministic (block timestamps step by the chain's block time, seeds derive from
     the chain seed, every block comes from a transaction or its receipts: one block for
     a call, one for its gas refund) and requests that write nothing (views, `block`,
     `status`, `tx`) make no block. These calls commute, so the state root alone would
     not see a reordering; the block hash does (each block's hash chains its inputs and
     outcomes), and so do the per-client return values.

Prints throughput (successful tx/s over the load phase), latency p50/p99/max and counts;
`--json` prints one JSON document instead.

Run: .venv/bin/python benchmarks/bench_service_load.py [--clients 50] [--seconds 60] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import base58
import httpx2
from nacl.signing import SigningKey

from outlayer.chain import signed
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import open_store
from outlayer.errors import OutLayerError
from outlayer.service import config as node_config
from outlayer.service.app import apply_genesis  # the node's own genesis step
from outlayer.testing import live
from outlayer.vm.receipts import DeployContract, FunctionCall

CONTRACT_ID = "load.near"
TGAS = 10**12
CALL_GAS = 30 * TGAS
#: per-caller counters: a call's return value tells the caller how many of its calls ran
CONTRACT = b"""// bench_service_load: counts calls per caller and in total.
export function increment() {
  const key = 'n:' + near.predecessorAccountId();
  const n = Number(near.storageRead(key) || '0') + 1;
  near.storageWrite(key, String(n));
  near.storageWrite('total', String(Number(near.storageRead('total') || '0') + 1));
  return n;
}
"""


# --- the node ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    account_id: str
    seed: bytes  # the ed25519 secret seed (32 bytes)

    @property
    def public_key(self) -> str:
        verify = SigningKey(self.seed).verify_key
        return "ed25519:" + base58.b58encode(bytes(verify)).decode()


def client_id(i: int) -> str:
    return f"c{i}.near"


def write_genesis(workdir: Path, clients: int) -> tuple[Path, Signer, list[Signer]]:
    """A node config with the contract account and one signer per client, fresh keys."""
    contract = Signer(CONTRACT_ID, bytes(SigningKey.generate()))
    signers = [Signer(client_id(i), bytes(SigningKey.generate())) for i in range(clients)]
    doc = {"chain_id": "localnet",
           "accounts": [{"account_id": s.account_id, "balance": "1000000NEAR",
                         "public_key": s.public_key} for s in [contract, *signers]]}
    path = workdir / "node.json"
    path.write_text(json.dumps(doc, indent=2) + "\n", "utf-8")
    return path, contract, signers


def rpc_sync(url: str, method: str, params: Any) -> dict[str, Any]:
    return live.rpc(url, method, params)


@contextmanager
def serve(workdir: Path, config: Path, db: Path, timeout: float = 120.0) -> Iterator[str]:
    """`outlayer serve` on a free loopback port; yields its URL; stopped (SIGTERM) on exit."""
    with live.serve(workdir, "--db", str(db), "--config", str(config),
                    timeout=timeout) as (url, _):
        yield url


# --- the clients ------------------------------------------------------------------------


@dataclass
class Sent:
    """One transaction a client sent and what came back."""

    client: int
    nonce: int
    tx_hash: str  # computed by the client from what it signed
    raw: bytes
    latency_s: float
    error: str | None = None
    returned_hash: str | None = None


@dataclass
class LoadResult:
    sent: list[Sent]
    elapsed_s: float
    nonces: dict[str, int] = field(default_factory=dict)  # last nonce per signer


class RpcClient:
    def __init__(self, http: httpx2.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url

    async def call(self, method: str, params: Any) -> Any:
        """The result, or RuntimeError naming the JSON-RPC / HTTP error."""
        reply = await self.http.post(self.url, json={"jsonrpc": "2.0", "id": 0,
                                                     "method": method, "params": params})
        if reply.status_code != 200:
            raise RuntimeError(f"HTTP {reply.status_code}: {reply.text[:200]}")
        doc = reply.json()
        if "error" in doc:
            raise RuntimeError(f"{method}: {json.dumps(doc['error'])[:300]}")
        return doc["result"]

    async def block_hash(self) -> bytes:
        block = await self.call("block", {"finality": "final"})
        return base58.b58decode(block["header"]["hash"])

    async def send(self, raw: bytes) -> Any:
        return await self.call("broadcast_tx_commit", [base64.b64encode(raw).decode()])


def call_increment(signer: Signer, nonce: int, block_hash: bytes) -> bytes:
    return signed.sign(signer.seed, signer.account_id, nonce, CONTRACT_ID, block_hash,
                       [FunctionCall("increment", b"{}", 0, CALL_GAS)])


def outcome_error(result: Any, tx_hash: str, expected_count: int) -> str | None:
    """Why a broadcast_tx_commit result is not the expected successful call, or None."""
    got_hash = result.get("transaction", {}).get("hash")
    if got_hash != tx_hash:
        return f"the outcome is for {got_hash}, not {tx_hash}"
    status = result.get("status", {})
    if "SuccessValue" not in status:
        return f"failed: {json.dumps(status)[:300]}"
    value = base64.b64decode(status["SuccessValue"])
    if value != str(expected_count).encode():
        return f"increment returned {value!r}, expected {expected_count} (a lost or repeated call)"
    return None


async def run_client(rpc: RpcClient, index: int, signer: Signer, deadline: float,
                     block_every: int, out: list[Sent], nonces: dict[str, int]) -> None:
    failures = (RuntimeError, httpx2.HTTPError, ValueError, KeyError)
    try:
        key = await rpc.call("query", {"request_type": "view_access_key",
                                       "finality": "final", "account_id": signer.account_id,
                                       "public_key": signer.public_key})
        nonce = int(key["nonce"])
    except failures as exc:
        out.append(Sent(index, 0, "", b"", 0.0, f"view_access_key: {exc}"))
        return
    done = 0  # successful calls: the next one must return done + 1
    count = 0
    block_hash = b""
    while time.monotonic() < deadline:
        if count % block_every == 0 or not block_hash:
            try:
                block_hash = await rpc.block_hash()
            except failures as exc:
                out.append(Sent(index, 0, "", b"", 0.0, f"block: {exc}"))
                block_hash = b""
                await asyncio.sleep(0.1)
                continue
        count += 1
        nonce += 1
        raw = call_increment(signer, nonce, block_hash)
        tx_hash = signed.decode_signed(raw).hash
        start = time.perf_counter()
        try:
            result = await rpc.send(raw)
            error = outcome_error(result, tx_hash, done + 1)
            returned = result.get("transaction", {}).get("hash")
        except failures as exc:
            error, returned = f"{type(exc).__name__}: {exc}", None
        latency = time.perf_counter() - start
        out.append(Sent(index, nonce, tx_hash, raw, latency, error, returned))
        nonces[signer.account_id] = nonce
        if error is None:
            done += 1


async def run_load(url: str, signers: list[Signer], seconds: float,
                   block_every: int) -> LoadResult:
    sent: list[Sent] = []
    nonces: dict[str, int] = {}
    limits = httpx2.Limits(max_connections=len(signers) + 1,
                           max_keepalive_connections=len(signers) + 1)
    async with httpx2.AsyncClient(timeout=120.0, limits=limits) as http:
        rpc = RpcClient(http, url)
        start = time.perf_counter()
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(run_client(rpc, i, s, deadline, block_every, sent, nonces)
                               for i, s in enumerate(signers)))
        elapsed = time.perf_counter() - start
    return LoadResult(sent, elapsed, nonces)


# --- the checks -------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def check_errors(sent: list[Sent]) -> Check:
    errors = [s for s in sent if s.error is not None]
    if not sent:
        return Check("no errors", False, "no transaction was sent")
    if errors:
        kinds = Counter(e.error for e in errors)
        sample = "; ".join(f"{n}x {text}" for text, n in kinds.most_common(3))
        return Check("no errors", False, f"{len(errors)} of {len(sent)} failed: {sample}")
    return Check("no errors", True, f"{len(sent)} transactions, all succeeded")


def check_unique(sent: list[Sent]) -> Check:
    returned = [s.returned_hash for s in sent if s.returned_hash is not None]
    dups = [h for h, n in Counter(returned).items() if n > 1]
    if dups:
        return Check("no duplicated hashes", False, f"{len(dups)} hashes returned more than "
                     f"once, e.g. {dups[0]}")
    return Check("no duplicated hashes", True, f"{len(returned)} distinct hashes returned")


async def lookup_txs(url: str, sent: list[Sent], concurrency: int) -> list[str]:
    """`tx` for every hash a client got back: problems found (empty: all fine)."""
    problems: list[str] = []
    queue = [s for s in sent if s.returned_hash is not None]
    signers = {i: client_id(i) for i in {s.client for s in sent}}

    async def worker(rpc: RpcClient) -> None:
        while queue:
            item = queue.pop()
            try:
                result = await rpc.call("tx", {"tx_hash": item.returned_hash,
                                               "sender_account_id": signers[item.client]})
            except (RuntimeError, httpx2.HTTPError, ValueError) as exc:
                problems.append(f"{item.returned_hash}: {exc}")
                continue
            tx = result.get("transaction", {})
            if "SuccessValue" not in result.get("status", {}):
                problems.append(f"{item.returned_hash}: status {result.get('status')}")
            elif (tx.get("hash"), tx.get("signer_id"), tx.get("nonce")) != (
                    item.returned_hash, signers[item.client], item.nonce):
                problems.append(f"{item.returned_hash}: the node has {tx.get('hash')} by "
                                f"{tx.get('signer_id')} nonce {tx.get('nonce')}")

    async with httpx2.AsyncClient(timeout=120.0) as http:
        rpc = RpcClient(http, url)
        await asyncio.gather(*(worker(rpc) for _ in range(max(1, concurrency))))
    return problems


def check_lookup(problems: list[str], looked_up: int) -> Check:
    if problems:
        return Check("tx finds every hash, succeeded", False,
                     f"{len(problems)} problems, e.g. {problems[0]}")
    return Check("tx finds every hash, succeeded", True, f"{looked_up} looked up")


async def contract_state(url: str, signers: list[Signer]) -> tuple[dict[str, bytes],
                                                                   dict[str, int]]:
    """The contract's storage and each signer's access key nonce, from the node."""
    async with httpx2.AsyncClient(timeout=120.0) as http:
        rpc = RpcClient(http, url)
        state = await rpc.call("query", {"request_type": "view_state", "finality": "final",
                                         "account_id": CONTRACT_ID, "prefix_base64": ""})
        storage = {base64.b64decode(v["key"]).decode(): base64.b64decode(v["value"])
                   for v in state["values"]}
        nonces = {}
        for s in signers:
            key = await rpc.call("query", {"request_type": "view_access_key",
                                           "finality": "final", "account_id": s.account_id,
                                           "public_key": s.public_key})
            nonces[s.account_id] = int(key["nonce"])
    return storage, nonces


def check_state(sent: list[Sent], signers: list[Signer], storage: dict[str, bytes],
                key_nonces: dict[str, int], last_nonces: dict[str, int]) -> Check:
    ok_calls = Counter(client_id(s.client) for s in sent if s.error is None)
    wrong = []
    for signer in signers:
        stored = int(storage.get(f"n:{signer.account_id}", b"0"))
        if stored != ok_calls[signer.account_id]:
            wrong.append(f"{signer.account_id}: counter {stored}, "
                         f"{ok_calls[signer.account_id]} successful calls")
        expected_nonce = last_nonces.get(signer.account_id)
        if expected_nonce is not None and key_nonces.get(signer.account_id) != expected_nonce:
            wrong.append(f"{signer.account_id}: key nonce {key_nonces.get(signer.account_id)}, "
                         f"last sent {expected_nonce}")
    total = int(storage.get("total", b"0"))
    if total != sum(ok_calls.values()):
        wrong.append(f"total {total}, {sum(ok_calls.values())} successful calls")
    extra = {k for k in storage if k != "total" and not k.startswith("n:")} | {
        k for k in storage if k.startswith("n:") and k[2:] not in {s.account_id for s in signers}}
    if extra:
        wrong.append(f"unexpected keys {sorted(extra)[:3]}")
    if wrong:
        return Check("contract state agrees", False, f"{len(wrong)} mismatches: "
                     + "; ".join(wrong[:3]))
    return Check("contract state agrees", True, f"total {total} = sum of {len(signers)} "
                 "per-signer counters = successful calls; key nonces = last nonces")


def committed_signed_txs(db: Path) -> list[tuple[str, bytes]]:
    """(tx hash, raw bytes) of every signed transaction in the node's history, in the
    order the node committed them (history sequence = block order)."""
    store = open_store(db)
    try:
        return [(e.body["tx_hash"], bytes.fromhex(e.body["raw"]))
                for e in store.history() if e.kind == "signed_tx"]
    finally:
        store.close()


def check_history(sent: list[Sent], committed: list[tuple[str, bytes]],
                  deploy_hash: str) -> Check:
    counts = Counter(h for h, _ in committed)
    ok = {s.tx_hash for s in sent if s.error is None}
    dups = [h for h, n in counts.items() if n > 1]
    missing = [h for h in ok if counts[h] != 1]
    extra = [h for h in counts if h not in {s.tx_hash for s in sent} and h != deploy_hash]
    if dups or missing or extra or counts[deploy_hash] != 1:
        return Check("history: each tx exactly once", False,
                     f"{len(dups)} duplicated, {len(missing)} missing, {len(extra)} unknown; "
                     f"deploy recorded {counts[deploy_hash]}x")
    return Check("history: each tx exactly once", True,
                 f"{len(committed)} signed transactions recorded (deploy + {len(ok)} calls)")


@dataclass
class ChainTip:
    height: int
    state_root: str
    block_hash: str


def replay(config: Path, committed: list[tuple[str, bytes]]) -> ChainTip | str:
    """A fresh in-memory chain with the node's genesis, the same raw transactions one by
    one in the node's order, as the node runs them (`submit_signed`, wait for receipts).
    Returns the chain's tip, or why the replay could not go on (a transaction the node
    took is refused: the chains have diverged)."""
    with ContractSimulator("quickjs", db_path=":memory:") as sim:
        notes = apply_genesis(sim, node_config.load(config).accounts)
        if notes:
            return f"the replay's genesis differs: {notes}"
        for i, (tx_hash, raw) in enumerate(committed):
            try:
                final = sim.submit_signed(raw, wait=True)
            except OutLayerError as exc:
                return f"transaction {i} ({tx_hash}) refused: {exc.kind}: {exc.message}"
            if final.tx_hash != tx_hash:
                return f"transaction {i} ran as {final.tx_hash}, expected {tx_hash}"
        block = sim.block
        return ChainTip(block.height, base58.b58encode(block.state_root or b"").decode(),
                        base58.b58encode(block.hash or b"").decode())


def check_replay(node: ChainTip, serial: ChainTip | str) -> Check:
    name = "state root = serial replay"
    if isinstance(serial, str):
        return Check(name, False, serial)
    if node != serial:
        return Check(name, False, f"node {asdict(node)} vs replay {asdict(serial)}")
    return Check(name, True, f"height {node.height}, state root {node.state_root}, "
                 "same block hash")


# --- the run ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def figures(load: LoadResult) -> dict[str, Any]:
    ok = [s.latency_s for s in load.sent if s.error is None]
    lat = ok or [0.0]
    return {"clients": len({s.client for s in load.sent}), "sent": len(load.sent),
            "succeeded": len(ok), "errors": len(load.sent) - len(ok),
            "elapsed_s": round(load.elapsed_s, 3),
            "throughput_tx_s": round(len(ok) / load.elapsed_s, 2) if load.elapsed_s else 0.0,
            "latency_ms": {"p50": round(percentile(lat, 50) * 1e3, 2),
                           "p99": round(percentile(lat, 99) * 1e3, 2),
                           "max": round(max(lat) * 1e3, 2),
                           "mean": round(statistics.fmean(lat) * 1e3, 2)}}


def run(clients: int, seconds: float, block_every: int, workdir: Path,
        progress: bool = True) -> dict[str, Any]:
    def say(text: str) -> None:
        if progress:
            print(text, file=sys.stderr, flush=True)

    load_before = [round(x, 2) for x in os.getloadavg()]  # other work on the machine
    config, contract, signers = write_genesis(workdir, clients)
    db = workdir / "state.db"
    checks: list[Check] = []
    say(f"starting outlayer serve in {workdir} ...")
    with serve(workdir, config, db) as url:
        say(f"node at {url}; deploying the contract")
        block_hash = base58.b58decode(rpc_sync(url, "block", {"finality": "final"})[
            "result"]["header"]["hash"])
        deploy = signed.sign(contract.seed, CONTRACT_ID, 1, CONTRACT_ID, block_hash,
                             [DeployContract(CONTRACT)])
        reply = rpc_sync(url, "broadcast_tx_commit", [base64.b64encode(deploy).decode()])
        if "SuccessValue" not in reply.get("result", {}).get("status", {}):
            raise RuntimeError(f"deploy failed: {reply}")
        deploy_hash = reply["result"]["transaction"]["hash"]
        say(f"{clients} clients for {seconds:g} s ...")
        load = asyncio.run(run_load(url, signers, seconds, block_every))
        say(f"{len(load.sent)} sent in {load.elapsed_s:.1f} s; checking")
        checks += [check_errors(load.sent), check_unique(load.sent)]
        returned = sum(1 for s in load.sent if s.returned_hash is not None)
        problems = asyncio.run(lookup_txs(url, load.sent, min(clients, 16)))
        checks.append(check_lookup(problems, returned))
        storage, key_nonces = asyncio.run(contract_state(url, signers))
        checks.append(check_state(load.sent, signers, storage, key_nonces, load.nonces))
        sync = rpc_sync(url, "status", [])["result"]["sync_info"]
        node_tip = ChainTip(sync["latest_block_height"], sync["latest_state_root"],
                            sync["latest_block_hash"])
    committed = committed_signed_txs(db)
    checks.append(check_history(load.sent, committed, deploy_hash))
    say(f"replaying {len(committed)} transactions serially ...")
    start = time.perf_counter()
    serial = replay(config, committed)
    replay_s = time.perf_counter() - start
    checks.append(check_replay(node_tip, serial))
    return {**figures(load), "seconds": seconds, "block_every": block_every,
            "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before,
                        "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
            "replay_s": round(replay_s, 2),
            "replay_tx_s": round(len(committed) / replay_s, 2) if replay_s else 0.0,
            "node": asdict(node_tip),
            "checks": [asdict(c) for c in checks],
            "ok": all(c.ok for c in checks)}


def report_text(report: dict[str, Any]) -> str:
    lat = report["latency_ms"]
    lines = [
        f"clients {report['clients']}, {report['seconds']:g} s requested, "
        f"{report['elapsed_s']:.1f} s elapsed (block hash every {report['block_every']} tx)",
        f"transactions: {report['sent']} sent, {report['succeeded']} succeeded, "
        f"{report['errors']} errors",
        f"throughput: {report['throughput_tx_s']:.1f} tx/s",
        f"latency ms: p50 {lat['p50']:.1f}  p99 {lat['p99']:.1f}  max {lat['max']:.1f}  "
        f"mean {lat['mean']:.1f}",
        f"machine: {report['machine']['cpus']} CPUs, load average "
        f"{report['machine']['loadavg_before'][0]} before, "
        f"{report['machine']['loadavg_after'][0]} after",
        f"serial replay: {report['replay_s']:.1f} s ({report['replay_tx_s']:.1f} tx/s, "
        "in process, no RPC)",
    ]
    lines += [f"{'PASS' if c['ok'] else 'FAIL'}  {c['name']}: {c['detail']}"
              for c in report["checks"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--seconds", type=float, default=60.0, help="load duration (60)")
    parser.add_argument("--block-every", type=int, default=1,
                        help="fetch a recent block hash every N transactions (1)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the node's state, config and log here (default: a temp "
                             "dir, removed)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0 or args.block_every < 1:
        parser.error("--clients and --block-every must be at least 1, --seconds above 0")
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        report = run(args.clients, args.seconds, args.block_every, args.workdir.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="outlayer-load-") as tmp:
            report = run(args.clients, args.seconds, args.block_every, Path(tmp))
    print(json.dumps(report, indent=2) if args.json else report_text(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
