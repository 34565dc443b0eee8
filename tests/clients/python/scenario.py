"""py-near (PyPI), unmodified, against a live `outlayer serve`:
    python scenario.py <rpc url> <key file of test.near> <contract file>
Creates a sub-account, deploys the JS contract to it, calls, views, reads its state and
the transaction outcome; prints one JSON report (tests/service/test_clients.py checks it)."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from pathlib import Path

from nacl.signing import SigningKey
from py_near.account import Account


async def main(url: str, key_file: str, contract_file: str) -> dict[str, object]:
    credentials = json.loads(Path(key_file).read_text())
    root = Account(credentials["account_id"], credentials["private_key"], rpc_addr=url)
    await root.startup()
    report: dict[str, object] = {"chain_id": root.chain_id}

    app_id = f"py.{credentials['account_id']}"
    app_key = SigningKey(bytes(range(32)))
    created = await root.create_account(app_id, bytes(app_key.verify_key), 30 * 10**24)
    report["create_status"] = created.status

    app = Account(app_id, bytes(app_key) + bytes(app_key.verify_key), rpc_addr=url)
    await app.startup()
    deployed = await app.deploy_contract(Path(contract_file).read_bytes())
    report["deploy_status"] = deployed.status

    calls = [await root.function_call(app_id, "increment", {}) for _ in range(3)]
    report["call_logs"] = calls[-1].logs
    report["call_status"] = calls[-1].status
    report["tx_hash"] = calls[-1].transaction.hash
    view = await root.view_function(app_id, "get_count", {})
    report["view"] = view.result
    state = await root.provider.query({"request_type": "view_state", "finality": "final",
                                       "account_id": app_id, "prefix_base64": ""})
    report["state"] = {base64.b64decode(v["key"]).decode(): base64.b64decode(v["value"]).decode()
                       for v in state["values"]}
    report["balance"] = await app.get_balance()
    status = await root.provider.get_tx(calls[-1].transaction.hash, credentials["account_id"])
    report["tx_status"] = status.status
    await app.shutdown()
    await root.shutdown()
    return report


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:4])), default=str))
